#!/usr/bin/env bash
# KDBENCH_REQUIRE_CUDA=1, as the device script sets it: the CUDA suite never passes by
# skipping. Without a usable device it must fail, saying why; with one, it must run every
# test. Usage: test_cuda_required.sh TEST_CUDA_BACKEND
set -uo pipefail
log=$(mktemp)
trap 'rm -f "$log"' EXIT
KDBENCH_REQUIRE_CUDA=1 "$1" --verbose --jobs 1 >"$log" 2>&1
rc=$?
if grep -q '^\[SKIP' "$log"; then
  echo "test_cuda_required: tests were skipped under KDBENCH_REQUIRE_CUDA=1"; grep '^\[SKIP' "$log"; exit 1
fi
if [[ $rc == 0 ]]; then echo "test_cuda_required: a device answered, every test ran and passed"; exit 0; fi
if grep -q 'KDBENCH_REQUIRE_CUDA=1: ' "$log"; then
  echo "test_cuda_required: no device: the suite failed, as it must:"
  grep -m1 'KDBENCH_REQUIRE_CUDA=1: ' "$log"
  exit 0
fi
echo "test_cuda_required: the suite failed (exit $rc) for another reason:"; tail -20 "$log"; exit 1
