#!/usr/bin/env bash
# The fuzz targets of tests/fuzz (tests/fuzz/README.md): builds them with clang's
# libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer in build-fuzz, and runs
# each for SECONDS (default 60) from its committed corpus, tests/fuzz/corpus/TARGET
# (the new inputs it finds go to build-fuzz/corpus/TARGET, never into the tree). A
# crash, a sanitizer report, a leak or an input slower than 10 s fails the run;
# libFuzzer leaves that input in build-fuzz/findings/TARGET/.
#   scripts/fuzz.sh [SECONDS [TARGET...]]     TARGET: scenario rows vector axis
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=(scenario rows vector axis)

cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DKDBENCH_FUZZ=ON -DKDBENCH_TESTS=OFF -DKDBENCH_CUDA=OFF >/dev/null || exit 1
cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]/#/fuzz_}" || exit 1

failed=()
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t" "build-fuzz/findings/$t"
  echo "== fuzz $t: $secs s =="
  # One thread: the targets call no BLAS, and OpenBLAS's threads only slow libFuzzer.
  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 ASAN_OPTIONS=detect_leaks=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "build-fuzz/fuzz_$t" "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
    -artifact_prefix="build-fuzz/findings/$t/" -print_final_stats=1 \
    >"build-fuzz/findings/$t.log" 2>&1
  rc=$?
  grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)|ERROR|SUMMARY|runtime error" \
    "build-fuzz/findings/$t.log" | head -n 20
  if [[ $rc -ne 0 ]]; then
    failed+=("$t")
    echo "fuzz $t: FAILED (exit $rc); the input is in build-fuzz/findings/$t/, the log in build-fuzz/findings/$t.log"
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz: failed: ${failed[*]}"
  exit 1
fi
echo "fuzz: ${targets[*]}: clean"
