#!/usr/bin/env bash
# kdbench's CPU stage against the NumPy peer, ROUNDS times (default 5): each round runs
# bench_cpu_stage, then numpy_peer.py (never both at once), so that load from other
# work on a shared machine falls on both sides alike; then the table of medians across
# rounds with each ratio's range over the rounds (bench/compare_rounds.py).
#   bench/compare_rounds.sh [ROUNDS] [--quick]
# Results: $BENCH_OUT (default build-bench/bench-rounds)/round-N/{kdbench,numpy}.{json,log},
# load, compare.md (that round's table) and rounds.md (the medians).
# Takes about 3 minutes a round on 2 cores (--quick: under a minute).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BENCH_BUILD:-$root/build-bench}
out=${BENCH_OUT:-$build/bench-rounds}
rounds=5
quick=()
for arg in "$@"; do
  case "$arg" in
    --quick) quick=(--quick) ;;
    ''|*[!0-9]*) echo "usage: bench/compare_rounds.sh [ROUNDS] [--quick]" >&2; exit 2 ;;
    *) rounds=$arg ;;
  esac
done
python=/usr/bin/python3 # Debian's python3-numpy; a pyenv python on PATH may lack it

"$root/scripts/setup.sh" --bench
cmake -S "$root" -B "$build" -DKDBENCH_CUDA=OFF -DKDBENCH_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target bench_cpu_stage >/dev/null
mkdir -p "$out"
rm -rf "$out"/round-*

load() { cut -d' ' -f1-3 /proc/loadavg; }
for r in $(seq 1 "$rounds"); do
  d=$out/round-$r
  mkdir -p "$d"
  echo "before kdbench: $(load)" > "$d/load"
  "$build/bench_cpu_stage" "${quick[@]}" --json "$d/kdbench.json" > "$d/kdbench.log"
  echo "before numpy: $(load)" >> "$d/load"
  "$python" "$root/bench/numpy_peer.py" "${quick[@]}" --json "$d/numpy.json" > "$d/numpy.log"
  echo "after: $(load)" >> "$d/load"
  "$python" "$root/bench/compare_table.py" "$d/kdbench.json" "$d/numpy.json" > "$d/compare.md"
  echo "== round $r of $rounds done; load (1, 5, 15 min): $(tr '\n' ';' < "$d/load")"
done
"$python" "$root/bench/compare_rounds.py" "$out"/round-* | tee "$out/rounds.md"
