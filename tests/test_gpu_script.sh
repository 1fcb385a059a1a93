#!/usr/bin/env bash
# The device script's dry run (bench/gpu/run.sh --dry-run), so that the script is known
# to work before a device ever runs it: every step runs or says why not, each writes its
# file, no more files than the device tool returns (8), bench_stage's checks match, and
# the sweep's two runs agree. Usage: test_gpu_script.sh BUILD_DIR
set -uo pipefail
build=$1
src=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "test_gpu_script: $*"; echo "--- summary.txt"; cat "$out/summary.txt" 2>/dev/null; exit 1; }

bash "$src/bench/gpu/run.sh" --dry-run --no-build --build-dir "$build" --out "$out" --budget 300 \
  >"$out.stdout" 2>&1 || { cat "$out.stdout"; rm -f "$out.stdout"; fail "the dry run failed"; }
rm -f "$out.stdout"
for stepname in packages build tests sanitizer bench_stage "torch peer" sweeps total; do
  grep -q "^$stepname" "$out/summary.txt" || fail "no line for step '$stepname'"
done
grep -q "FAILED" "$out/summary.txt" && fail "a step failed"
for f in summary.txt log.txt env.txt tests.txt bench.json sweeps.txt; do
  [[ -s $out/$f ]] || fail "no $f"
done
n=$(find "$out" -type f | wc -l)
(( n <= 8 )) || fail "$n files in OUT: the device tool returns 8"
python3 - "$out/bench.json" <<'PY' || fail "bench.json: not every shape matched"
import json, sys
doc = json.load(open(sys.argv[1]))
shapes = doc["shapes"]
assert doc["backend"] == "cpu" and len(shapes) == 4, doc
assert all(s["check"] == "match" and s["median_s"] > 0 for s in shapes), shapes
assert [s["batch"] for s in shapes] == [1, 64, 1, 1], shapes
PY
grep -q "^compare: .* differs by at most 0 " "$out/sweeps.txt" || fail "the two sweeps differ"
echo "test_gpu_script: ok"
