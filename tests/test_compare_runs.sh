#!/usr/bin/env bash
# Every number, table and record of the quick presets is what the committed reference
# (tests/data/quick-ref/, made with scripts/compare_runs.sh --write) holds, byte for
# byte: refactors move code, not results. And the comparison can fail: a reference with
# one digit changed is reported, naming the file. The bytes hold on the machine kind
# that made the reference: another BLAS kernel or thread count may move the last digits
# of a sum. Where OpenBLAS can run the reference's kernel on this CPU, it is asked to
# (scripts/blas_core.sh); otherwise the test is skipped (exit 77), saying so. Usage:
# test_compare_runs.sh KDBENCH
set -uo pipefail
kdbench=$1
src=$(cd "$(dirname "$0")/.." && pwd)
ref=$src/tests/data/quick-ref
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "test_compare_runs: $*"; exit 1; }
cd "$src"

# The reference's BLAS and threads beside this machine's (the live table's first lines).
backend_of() { /usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["backend"]["description"])' "$1"; }
want=$(backend_of "$ref/fig1/sweep-n.meta.json")
source scripts/blas_core.sh
use_reference_core "$ref/fig1/sweep-n.meta.json"
[[ -z ${OPENBLAS_CORETYPE:-} ]] || echo "test_compare_runs: OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE, the reference's kernel"
(cd "$work" && "$kdbench" --preset fig1 --quick --csv ./probe/ --quiet) || fail "the fig1 preset did not run"
have=$(backend_of "$work/probe/sweep-n.meta.json")
if [[ $want != "$have" ]]; then
  echo "test_compare_runs: skipped: the reference was made with '$want'; this machine runs '$have'"
  exit 77
fi

bash scripts/compare_runs.sh --quick --kdbench "$kdbench" "$ref" >"$work/out.txt" 2>&1 ||
  { cat "$work/out.txt"; fail "the quick presets no longer reproduce $ref"; }
grep -q "^all equal$" "$work/out.txt" || { cat "$work/out.txt"; fail "no 'all equal'"; }

# One digit of one cell changed in a copy of the reference: named, exit status 1.
cp -r "$ref" "$work/ref"
csv=$work/ref/fig1/sweep-n.csv
awk -F, -v OFS=, 'NR == 2 { $11 = $11 "1" } { print }' "$ref/fig1/sweep-n.csv" >"$csv"
cmp -s "$csv" "$ref/fig1/sweep-n.csv" && fail "the test did not change the copy"
bash scripts/compare_runs.sh --quick --kdbench "$kdbench" "$work/ref" fig1 >"$work/bad.txt" 2>&1
code=$?
((code == 1)) || { cat "$work/bad.txt"; fail "exit status $code for a changed reference, want 1"; }
grep -q "^DIFFERS fig1/sweep-n.csv" "$work/bad.txt" || { cat "$work/bad.txt"; fail "the changed file is not named"; }
echo "test_compare_runs: the quick presets reproduce the reference; a changed cell is caught"
