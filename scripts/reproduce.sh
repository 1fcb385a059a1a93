#!/usr/bin/env bash
# Reproduces a preset end to end: its runs (kdbench --preset NAME, with the fits the
# preset asks for), then the report tables and the figure of each run (of the preset
# features: one figure of its runs, scripts/plot_features.py).
#   scripts/reproduce.sh PRESET [kdbench flags...]     e.g. scripts/reproduce.sh scaling --backend cuda
# Outputs land where the preset writes them (results/PRESET/, or results/quick/PRESET/
# with --quick). Needs a built ./build/kdbench (or KDBENCH=path) and Debian's
# python3-matplotlib (scripts/setup.sh installs it).
set -euo pipefail
preset=${1:?usage: scripts/reproduce.sh PRESET [kdbench flags...]}
shift
kdbench=${KDBENCH:-./build/kdbench}
py=/usr/bin/python3

"$kdbench" --preset "$preset" "$@"

# Every run the preset wrote: the csv settings of its parts, as --print-scenario shows them.
mapfile -t csvs < <("$kdbench" --preset "$preset" "$@" --print-scenario | sed -n 's/^csv = //p')
for csv in "${csvs[@]}"; do
  case "$csv" in
    */weights.csv) "$py" scripts/plot_weights.py "$csv" ;;
    */curriculum/*.csv) "$kdbench" report "$csv" ;; # its figure: all runs in one, below
    */features/*-q*.csv) "$kdbench" report "$csv" ;; # one figure of them all, below
    *) "$kdbench" report "$csv"
       # the collapse preset's runs are by generation (scripts/plot_generations.py)
       if [[ $preset == collapse ]]; then "$py" scripts/plot_generations.py "$csv"
       else "$py" scripts/plot_run.py "$csv"; fi ;;
  esac
done
# The synthetic preset's own figures and summary table (risk against p/m, against f).
if [[ $preset == synthetic ]]; then "$py" scripts/plot_synthetic.py "$(dirname "${csvs[0]}")"; fi
# The curriculum preset: one figure and one table of all its runs.
if [[ $preset == curriculum ]]; then
  dir=$(dirname "${csvs[0]}")
  "$py" scripts/plot_curriculum.py --table "$dir/curriculum.md" "$dir/curriculum.png" "${csvs[@]}"
fi
# The feature-growth runs share one figure: risk against s per order, a panel per q.
if [[ $preset == features ]]; then "$py" scripts/plot_features.py "$(dirname "${csvs[0]}")"; fi
