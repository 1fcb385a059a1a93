#!/usr/bin/env bash
# kdbench's CPU stage against the NumPy peer, in one run, one after the other on the
# same machine, then a Markdown table of the medians and ratios (numpy / kdbench).
#   bench/compare.sh [--quick]
# Results: $BENCH_OUT (default build-bench/bench-results): kdbench.json, numpy.json,
# compare.md (bench/compare_table.py redraws it from the two files). Takes about 2.5 minutes
# on 2 cores (--quick: under a minute). bench/compare_rounds.sh repeats it R times.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BENCH_BUILD:-$root/build-bench}
out=${BENCH_OUT:-$build/bench-results}
quick=()
case "${1:-}" in
  "") ;;
  --quick) quick=(--quick) ;;
  *) echo "usage: bench/compare.sh [--quick]" >&2; exit 2 ;;
esac
python=/usr/bin/python3 # Debian's python3-numpy; a pyenv python on PATH may lack it

"$root/scripts/setup.sh" --bench
cmake -S "$root" -B "$build" -DKDBENCH_CUDA=OFF -DKDBENCH_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target bench_cpu_stage >/dev/null
mkdir -p "$out"

echo "== load before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$build/bench_cpu_stage" "${quick[@]}" --json "$out/kdbench.json"
echo "== load between: $(cut -d' ' -f1-3 /proc/loadavg)"
"$python" "$root/bench/numpy_peer.py" "${quick[@]}" --json "$out/numpy.json"
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"

"$python" "$root/bench/compare_table.py" "$out/kdbench.json" "$out/numpy.json" | tee "$out/compare.md"
