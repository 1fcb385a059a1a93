#!/usr/bin/env bash
# The README's test command: install what is missing, build (the CUDA backend too
# when nvcc is present), run every Criterion suite through ctest, then build and run
# them once more under AddressSanitizer + UndefinedBehaviorSanitizer, then run each
# fuzz target for a minute (scripts/fuzz.sh, tests/fuzz/README.md).
# GPU tests skip, saying why, on machines without a device.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
jobs=$(nproc)

echo "== build (Release) =="
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"
echo "== tests (Release) =="
(cd build && ctest --output-on-failure -j1)

echo "== build (ASan + UBSan) =="
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKDBENCH_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
echo "== tests (ASan + UBSan) =="
# OpenBLAS's own threads confuse LeakSanitizer's stack walk; one thread keeps it exact.
(cd build-asan && OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \
   ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
   ctest --output-on-failure -j1)

echo "== fuzz (libFuzzer + ASan + UBSan, clang: 60 s a target) =="
bash scripts/fuzz.sh 60
