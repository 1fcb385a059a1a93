#!/usr/bin/env bash
# Installs the Debian packages kdbench needs, only those that are missing.
# Idempotent and quiet when everything is already there.
#   scripts/setup.sh          build + test dependencies
#   scripts/setup.sh --bench  also the NumPy and NumPy + SciPy peers used by bench/
set -euo pipefail

# Beyond the build, the tests use /usr/bin/python3 (tests/test_slurm.sh) with matplotlib
# (tests/test_plot.c) and pandas (scripts/kdrun.py's DataFrames, tests/test_kdrun.c), and
# pdflatex with booktabs.sty (tests/test_report.c and tests/test_fit.c compile the LaTeX
# tables). Slurm is installed by the test that uses
# it (tests/test_slurm.sh, through scripts/slurm_local.sh), which skips, saying why,
# where it cannot be.
# The fuzz targets (scripts/fuzz.sh) need clang with its runtime (libFuzzer, the
# sanitizers: libclang-rt-dev, only recommended by clang) and its OpenMP (libomp-dev).
pkgs=(build-essential cmake pkg-config libopenblas-dev liblapacke-dev libgsl-dev libcriterion-dev
      libinih-dev libcjson-dev python3 python3-matplotlib python3-pandas texlive-latex-base texlive-latex-recommended
      clang libclang-rt-dev libomp-dev)
if [[ "${1:-}" == "--bench" ]]; then pkgs+=(python3-numpy python3-scipy); fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "setup: installing ${missing[*]}" >&2
SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
