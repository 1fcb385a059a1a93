#!/usr/bin/env bash
# Downloads, into .debs/ at the repository root (git-ignored), the Debian packages that
# bench/gpu/run.sh unpacks on a bare device machine: the CUDA image there has nvcc,
# cuBLAS, cuSOLVER, CMake and Python, but none of kdbench's host libraries. Run it here
# (Debian 12, the packages' release), then carry .debs with the device command. Prints
# what it fetched and its size: at most 64 MiB may travel with a device command.
#
#   bash bench/gpu/fetch_debs.sh [DIR]      (default: .debs)
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-.debs}
# The CPU reference stage (OpenBLAS, LAPACKE and what they load), Criterion and the
# libraries it loads (through libgit2), the rest of a full kdbench build (GSL, libinih,
# cJSON), and pkg-config itself. glibc, libstdc++, libgcc, libgomp and zlib are left
# out: every image with a compiler has them.
pkgs=(libopenblas0-pthread libopenblas-pthread-dev liblapacke liblapacke-dev libtmglib3
      libgfortran5 libquadmath0
      libcriterion3 libcriterion-dev libgit2-1.5 libnanomsg5 libhttp-parser2.9 libmbedcrypto7
      libmbedtls14 libmbedx509-1 libssh2-1 libffi8 libpcre2-8-0 libssl3 libgssapi-krb5-2
      libkrb5-3 libk5crypto3 libkrb5support0 libkeyutils1 libcom-err2
      libgsl27 libgslcblas0 libgsl-dev libinih1 libinih-dev libcjson1 libcjson-dev
      pkgconf pkgconf-bin libpkgconf3)
mkdir -p "$dir"
# (apt warns that root downloads unsandboxed: true, and harmless here)
(cd "$dir" && apt-get download "${pkgs[@]}" >/dev/null 2> >(grep -v unsandboxed >&2))
echo "fetch_debs: ${#pkgs[@]} packages in $dir, $(du -sh "$dir" | cut -f1) ($(du -sb "$dir" | cut -f1) bytes)"
