#!/usr/bin/env bash
# The GPU check in one command: on a bare device machine (nvcc, cuBLAS, cuSOLVER, CMake,
# Python with PyTorch; kdbench's host libraries carried as .deb files, see
# fetch_debs.sh), it builds kdbench for sm_90, runs the CUDA tests with
# KDBENCH_REQUIRE_CUDA=1 (a missing device fails, never skips), runs compute-sanitizer's
# memcheck on a reduced set in the debug mode (KDBENCH_CUDA_SYNC=1), times the stages
# (bench_stage), times the PyTorch peer, runs the default sweep on both backends and
# compares them, and prints a one-screen summary. Every step writes into OUT as it goes,
# so a run cut short still returns what it did; a step that fails is recorded and the
# next one runs. Exit status: 0 when every step that ran passed.
#
#   bench/gpu/run.sh [--dry-run] [--out DIR] [--build-dir DIR] [--no-build] [--debs DIR]
#                    [--budget SECONDS]
#     --dry-run    the same steps with the CPU backend, on a machine without a device,
#                  on small shapes (tests/test_gpu_script.sh runs it in CI)
#     --out        where the files go (default: $OUT, else build-gpu/out)
#     --build-dir  the build folder (default build-gpu)
#     --no-build   use the build folder as it is (the dry run's test does)
#     --debs       the carried .deb files (default .debs, when present)
#     --budget     seconds for the whole run (default 480); each step's limit is cut to
#                  what is left
#
# OUT holds at most 8 files (what the device tool returns): summary.txt (the summary),
# log.txt (every step's output), env.txt (machine, driver, toolchain), tests.txt (the
# test suites and the sanitizer pass), bench.json (bench_stage), torch.json (the peer),
# sweeps.txt (both sweeps' tables and their comparison).
set -uo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)

dry=0 build=build-gpu no_build=0 debs=.debs budget=480 out=${OUT:-}
while [[ $# -gt 0 ]]; do
  case $1 in
    --dry-run) dry=1 ;;
    --out) out=$2; shift ;;
    --build-dir) build=$2; shift ;;
    --no-build) no_build=1 ;;
    --debs) debs=$2; shift ;;
    --budget) budget=$2; shift ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
out=${out:-$build/out}
mkdir -p "$out" "$build"
out=$(cd "$out" && pwd) build=$(cd "$build" && pwd)
summary=$out/summary.txt log=$out/log.txt
: >"$summary"; : >"$log"
start=$SECONDS failed=0
backend=cuda; [[ $dry == 1 ]] && backend=cpu
# the toolkit's tools, where the image leaves them off PATH
for d in /usr/local/cuda/bin /usr/local/cuda/compute-sanitizer; do
  [[ -d $d && ":$PATH:" != *":$d:"* ]] && PATH=$PATH:$d
done

note() { echo "$*" | tee -a "$summary"; }
left() { echo $((budget - (SECONDS - start))); }

# step NAME LIMIT COMMAND...: runs COMMAND with its output in log.txt, its time and
# status in summary.txt; LIMIT seconds at most, cut to what the budget leaves.
step() {
  local name=$1 limit=$2; shift 2
  local avail=$(( $(left) - 10 ))
  (( avail < limit )) && limit=$avail
  if (( limit < 5 )); then note "$name: skipped: out of time"; failed=1; return 1; fi
  echo "==== $name (limit ${limit} s): $*" >>"$log"
  local t0=$SECONDS rc
  # the steps are this script's functions: exported, and run by a child shell
  timeout --kill-after=10 "$limit" bash -c "$(printf '%q ' "$@")" >>"$log" 2>&1; rc=$?
  local dt=$((SECONDS - t0))
  if [[ $rc == 0 ]]; then note "$name: ok (${dt} s)"
  elif [[ $rc == 124 || $rc == 137 ]]; then note "$name: FAILED: over its ${limit} s"; failed=1
  else note "$name: FAILED (exit $rc, ${dt} s; see log.txt)"; failed=1; fi
  return $rc
}

# ---- 1. the machine ---------------------------------------------------------------------
env_report() {
  echo "date: $(date -u)"; echo "uname: $(uname -a)"
  echo "dry run: $dry"; echo "commit: $(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)"
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
  else echo "nvidia-smi: none"; fi
  for tool in nvcc cmake gcc compute-sanitizer; do
    echo "$tool: $(command -v $tool >/dev/null && $tool --version 2>&1 | grep -m1 -iE 'release|version' || echo none)"
  done
  python3 -c 'import sys, torch; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda)' 2>&1 | tail -1
}
env_report >"$out/env.txt" 2>&1
note "kdbench GPU check ($([[ $dry == 1 ]] && echo "dry run, CPU backend" || echo "device run")), $(head -c 200 "$out/env.txt" | grep -m1 '^date')"
grep -m1 -A1 '^name' "$out/env.txt" | tail -1 | sed 's/^/device: /' | tee -a "$summary" >/dev/null

# ---- 2. the carried packages ----------------------------------------------------------------
# Unpacked into a private root (never into /), with the symbolic links that Debian's
# alternatives system would have made; only our builds and binaries see it (search
# paths, LD_LIBRARY_PATH for our processes alone: the machine's Python must not load
# these libraries).
root=$build/deps libdir=$root/usr/lib/x86_64-linux-gnu
unpack_debs() {
  rm -rf "$root" && mkdir -p "$root"
  for f in "$debs"/*.deb; do
    if command -v dpkg-deb >/dev/null; then dpkg-deb -x "$f" "$root"
    else (tmp=$(mktemp -d) && cd "$tmp" && ar x "$f" && tar -xf data.tar.* -C "$root" && rm -rf "$tmp"); fi
  done
  for l in libblas.so.3 liblapack.so.3 libopenblas.so.0 libblas.so liblapack.so libopenblas.so; do
    ln -sf openblas-pthread/$l "$libdir/$l"
  done
  mkdir -p "$libdir/pkgconfig"
  ln -sf ../openblas-pthread/pkgconfig/openblas.pc "$libdir/pkgconfig/openblas.pc"
  ln -sf ../openblas-pthread/pkgconfig/lapack-openblas.pc "$libdir/pkgconfig/lapack.pc"
  ln -sf ../openblas-pthread/pkgconfig/blas-openblas.pc "$libdir/pkgconfig/blas.pc"
  ls "$debs"/*.deb | wc -l | sed 's/$/ packages unpacked/'
}
use_root=0
if [[ -d $debs ]] && ls "$debs"/*.deb >/dev/null 2>&1; then
  export -f unpack_debs; export debs root libdir
  step "packages ($(du -sh "$debs" | cut -f1) of .deb)" 60 unpack_debs && use_root=1
else
  note "packages: skipped: no .deb files in $debs (the machine's own libraries)"
fi
run_ours() { # our binaries, with the carried libraries first
  if [[ $use_root == 1 ]]; then LD_LIBRARY_PATH=$libdir:$libdir/openblas-pthread${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$@"
  else "$@"; fi
}

export -f run_ours
export dry backend build out repo root libdir use_root debs

# ---- 3. the build ------------------------------------------------------------------------
configure() {
  local args=(-S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release "$@")
  if [[ $dry == 0 ]]; then
    args+=(-DKDBENCH_CUDA_ARCHITECTURES=90 "-DCMAKE_CUDA_COMPILER=$(command -v nvcc)")
  fi
  if [[ $use_root == 1 ]]; then
    export PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_LIBDIR=$libdir/pkgconfig:$root/usr/share/pkgconfig
    args+=("-DPKG_CONFIG_EXECUTABLE=$build/pkg-config") # the carried one: not the machine's
    printf '#!/bin/sh\nLD_LIBRARY_PATH=%s exec %s/usr/bin/pkgconf "$@"\n' "$libdir" "$root" >"$build/pkg-config"
    chmod +x "$build/pkg-config"
    args+=("-DCMAKE_PREFIX_PATH=$root/usr" "-DCMAKE_EXE_LINKER_FLAGS=-Wl,-rpath-link,$libdir:$libdir/openblas-pthread")
  fi
  cmake "${args[@]}"
}
build_all() {
  local jobs; jobs=$(nproc)
  if configure; then cmake --build "$build" -j"$jobs"; return; fi
  echo "run.sh: the full build does not configure: building the CUDA backend, the CPU stage and their tests only"
  rm -f "$build/CMakeCache.txt"
  configure -DKDBENCH_CUDA_ONLY=ON && cmake --build "$build" -j"$jobs"
}
export -f configure build_all
if [[ $no_build == 1 ]]; then note "build: skipped: --no-build ($build as it is)"
else step "build" 240 build_all; fi

# ---- 4. the tests ---------------------------------------------------------------------------
# On the device, KDBENCH_REQUIRE_CUDA=1: a probe failure fails every test, and no test
# may be skipped.
tests() {
  local rc=0 t
  : >"$out/tests.txt"
  for t in test_cuda_backend test_cond_est test_cuda_plan test_cuda_batch; do
    if [[ ! -x $build/$t ]]; then echo "$t: not built" >>"$out/tests.txt"; rc=1; continue; fi
    if [[ $dry == 0 ]]; then
      KDBENCH_REQUIRE_CUDA=1 run_ours "$build/$t" --verbose --jobs 1 >>"$out/tests.txt" 2>&1 || rc=1
    else
      run_ours "$build/$t" --verbose --jobs 1 >>"$out/tests.txt" 2>&1 || rc=1
    fi
  done
  cat "$out/tests.txt"
  if [[ $dry == 0 ]] && grep -q '^\[SKIP' "$out/tests.txt"; then
    echo "run.sh: tests were skipped on the device"; rc=1
  fi
  return $rc
}
export -f tests
step "tests$([[ $dry == 0 ]] && echo " (KDBENCH_REQUIRE_CUDA=1)")" 180 tests
grep -h 'Synthesis' "$out/tests.txt" 2>/dev/null | sed 's/^\[====\] Synthesis: /  /' >>"$summary"

# ---- 5. compute-sanitizer -------------------------------------------------------------------
sanitize() {
  { echo "==== compute-sanitizer memcheck, KDBENCH_CUDA_SYNC=1"
    KDBENCH_REQUIRE_CUDA=1 KDBENCH_CUDA_SYNC=1 run_ours compute-sanitizer --tool memcheck \
      --target-processes all --error-exitcode 9 "$build/test_cuda_backend" --jobs 1 \
      --filter 'stage/risks_match_cpu'; } 2>&1 | tee -a "$out/tests.txt"
  return "${PIPESTATUS[0]}"
}
export -f sanitize
if [[ $dry == 1 ]]; then note "sanitizer: skipped: no device in a dry run"
elif ! command -v compute-sanitizer >/dev/null; then note "sanitizer: skipped: compute-sanitizer not found"
else step "sanitizer (memcheck, KDBENCH_CUDA_SYNC=1)" 90 sanitize; fi

# ---- 6. the stage benchmark -------------------------------------------------------------------
bench_args=(--backend "$backend" --json "$out/bench.json")
[[ $dry == 1 ]] && bench_args+=(--quick)
if [[ -x $build/bench_stage ]]; then
  step "bench_stage --backend $backend" 150 run_ours "$build/bench_stage" "${bench_args[@]}"
  sed -n '/^ *n  *p  *ridge/,$p' "$log" | grep -E '^ *[0-9n]' | tail -n 8 >>"$summary"
else note "bench_stage: FAILED: not built"; failed=1; fi

# ---- 7. the PyTorch peer ------------------------------------------------------------------------
if python3 -c 'import torch' 2>/dev/null; then
  peer_args=(--json "$out/torch.json")
  [[ $dry == 1 ]] && peer_args+=(--device cpu --quick)
  step "torch peer" 90 env PYTHONUNBUFFERED=1 python3 "$repo/bench/torch_peer.py" "${peer_args[@]}"
else note "torch peer: skipped: python3 has no torch"; fi

# ---- 8. the default sweep on both backends ------------------------------------------------------
sweeps() {
  local extra=() b t0
  [[ $dry == 1 ]] && extra=(--trials 4 --pipelines strong,w2s)
  # the reference on the CPU, then the backend under test (the CPU again in a dry run)
  for b in ref:cpu test:"$backend"; do
    rm -f "$build/sweep-${b%%:*}".*
    echo "==== kdbench --sweep n --backend ${b#*:} ${extra[*]}"
    t0=$SECONDS
    run_ours "$build/kdbench" --sweep n --backend "${b#*:}" --csv "$build/sweep-${b%%:*}.csv" \
      "${extra[@]}" || return 1
    echo "wall time, backend ${b#*:}: $((SECONDS - t0)) s"
  done
  python3 "$repo/bench/gpu/compare_sweeps.py" "$build/sweep-ref.csv" "$build/sweep-test.csv"
}
export -f sweeps
if [[ -x $build/kdbench ]]; then
  step "sweeps (cpu, then $backend)" 120 sweeps
  sed -n '/^==== sweeps/,$p' "$log" >"$out/sweeps.txt"
  grep -E '^(wall time|compare)' "$out/sweeps.txt" >>"$summary"
else note "sweeps: skipped: kdbench not built (a CUDA-only build)"; fi

note "total: $((SECONDS - start)) s of a ${budget} s budget; $([[ $failed == 0 ]] && echo "every step that ran passed" || echo "some step FAILED")"
echo; cat "$summary"
exit $failed
