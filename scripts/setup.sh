#!/usr/bin/env bash
# Installs the Debian packages kdbench needs, only those that are missing.
# Idempotent and quiet when everything is already there.
#   scripts/setup.sh          build + test dependencies
#   scripts/setup.sh --bench  also the NumPy peer used by bench/
set -euo pipefail

pkgs=(build-essential cmake pkg-config libopenblas-dev liblapacke-dev libgsl-dev libcriterion-dev
      libinih-dev libcjson-dev python3-matplotlib)
if [[ "${1:-}" == "--bench" ]]; then pkgs+=(python3-numpy); fi

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
