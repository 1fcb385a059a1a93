#!/usr/bin/env bash
# Byte-for-byte check that a kdbench binary still writes what a reference wrote: every
# preset is run again (its live table on standard output, its runs, `kdbench report`
# and `kdbench fit` of each run) into a scratch folder and compared with the
# reference, file by file. The refactors promise that no number, table or record
# moves; this is how that promise is checked (docs/architecture.md).
#
#   scripts/compare_runs.sh [--quick] [--kdbench BIN] REF_DIR [PRESET...]
#   scripts/compare_runs.sh [--quick] [--kdbench BIN] --write DIR [PRESET...]
#
# REF_DIR holds one folder per preset, as results/ does (results/ is the reference of
# the full presets; tests/data/quick-ref/ that of --quick). --write makes such a
# folder. The presets default to all of them (kdbench --list-presets).
#
# Compared byte for byte: CSVs, Markdown and LaTeX tables, fit JSON, the weights CSV,
# the live table (PRESET.stdout, its "# backend:" line aside: it names this machine's
# BLAS) and the fit tables (RUN.fit.txt). JSON Lines: byte for byte once the keys
# that are not results are taken out (wall_s, the point's wall time, and check, the
# row's checksum, which covers it). meta.json: the same once times, the command and
# the commit are taken out; so is the commit the tables name (Markdown caption, LaTeX
# comment). Figures (.png, .pdf) are not compared: matplotlib writes dates into them.
# Exit status: 0 all equal, 1 a difference (each named), 2 bad usage.
set -euo pipefail

usage() { sed -n 's/^#   //p' "$0" >&2; exit 2; }
kdbench=./build/kdbench quick=() write="" ref=""
while (($#)); do
  case "$1" in
    --quick) quick=(--quick); shift ;;
    --kdbench) kdbench=${2:?--kdbench needs a path}; shift 2 ;;
    --write) write=${2:?--write needs a folder}; shift 2 ;;
    -h|--help) usage ;;
    -*) echo "compare_runs.sh: unknown option $1" >&2; usage ;;
    *) break ;;
  esac
done
if [[ -z $write ]]; then ref=${1:-}; [[ -n $ref ]] || usage; shift; fi
[[ -x $kdbench ]] || { echo "compare_runs.sh: $kdbench: not an executable (build first, or --kdbench BIN)" >&2; exit 2; }
[[ -z $ref || -d $ref ]] || { echo "compare_runs.sh: $ref: no such reference folder" >&2; exit 2; }
kdbench=$(realpath "$kdbench")
presets=("$@")
((${#presets[@]})) || mapfile -t presets < <("$kdbench" --list-presets | awk '{print $1}')
py=/usr/bin/python3
# The reference's OpenBLAS kernel where this CPU can run it (scripts/blas_core.sh): with
# --write into an existing reference too, so that a partly rewritten one stays of one kernel.
source "$(dirname "$0")/blas_core.sh"
use_reference_core "${ref:-$write}/fig1/sweep-n.meta.json"

out=${write:-$(mktemp -d)}
[[ -n $write ]] || trap 'rm -rf "$out"' EXIT

# The run's files and tables, as a user makes them; from inside the folder, so that
# the paths kdbench prints ("wrote ./sweep-n.fit.json") do not name the folder.
make_preset() {
  local preset=$1 dir=$2 csv
  mkdir -p "$dir"
  (
    cd "$dir"
    "$kdbench" --preset "$preset" "${quick[@]}" --csv ./ | grep -v '^# backend:' >"$preset.stdout"
    while read -r csv; do
      case "$csv" in
        */weights.csv) ;;
        *) "$kdbench" report "$csv" >/dev/null
           # a run with nothing to fit (a real-fraction axis) is refused: its message
           # and status are the reference then
           "$kdbench" fit "$csv" >"${csv%.csv}.fit.txt" 2>&1 || echo "exit status $?" >>"${csv%.csv}.fit.txt" ;;
      esac
    done < <("$kdbench" --preset "$preset" "${quick[@]}" --csv ./ --print-scenario | sed -n 's/^csv = //p')
  )
}

# The file's text with what is not a result taken out (see above).
normal() {
  case "$1" in
    *.jsonl) "$py" -c '
import json, sys
for line in open(sys.argv[1]):
    row = json.loads(line)
    row.pop("wall_s", None); row.pop("check", None)
    print(json.dumps(row, sort_keys=True))' "$1" ;;
    *.meta.json) "$py" -c '
import json, sys
meta = json.load(open(sys.argv[1]))
for key in ("started", "finished", "point_wall_s", "wall_s", "command"):
    meta.pop(key, None)
meta.get("kdbench", {}).pop("git_commit", None)
print(json.dumps(meta, sort_keys=True, indent=1))' "$1" ;;
    *.md|*.tex) sed -E -e 's/commit (\\texttt\{)?([0-9a-f]{12}(-dirty)?|unknown)/commit \1COMMIT/' \
                       -e 's/^% commit: ([0-9a-f]{12}(-dirty)?|unknown)$/% commit: COMMIT/' "$1" ;;
    *) cat "$1" ;;
  esac
}

status=0
for preset in "${presets[@]}"; do
  make_preset "$preset" "$out/$preset"
  [[ -z $write ]] || continue
  refdir=$ref/$preset
  [[ -d $refdir ]] || { echo "compare_runs.sh: $refdir: no reference for preset $preset" >&2; status=1; continue; }
  compared=0
  for want in "$refdir"/*; do
    name=${want##*/}
    case "$name" in *.png|*.pdf|README.md) continue ;; esac
    got=$out/$preset/$name
    if [[ ! -f $got ]]; then
      echo "DIFFERS $preset/$name: not written"; status=1; continue
    fi
    if ! cmp -s <(normal "$want") <(normal "$got"); then
      echo "DIFFERS $preset/$name:"; diff <(normal "$want") <(normal "$got") | head -5 || true; status=1
    fi
    compared=$((compared + 1))
  done
  echo "$preset: $compared files compared"
done
((status == 0)) && [[ -z $write ]] && echo "all equal"
[[ -z $write ]] || echo "wrote the reference of ${presets[*]} to $write"
exit $status
