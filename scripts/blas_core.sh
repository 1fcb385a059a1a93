# Sourced by scripts/compare_runs.sh and tests/test_compare_runs.sh: runs a reference's
# OpenBLAS kernel on this machine where that is possible, so that its bytes hold here.
#   use_reference_core META.json   exports OPENBLAS_CORETYPE=CORE when the run of META
#                                  used a DYNAMIC_ARCH OpenBLAS's CORE kernel, this
#                                  OpenBLAS is DYNAMIC_ARCH too and the CPU has the
#                                  instructions CORE needs (overriding an
#                                  OPENBLAS_CORETYPE of the environment: some machines
#                                  set one); otherwise changes nothing.
# The last digits of a BLAS sum depend on the kernel's blocking; a DYNAMIC_ARCH build
# picks its kernel from the CPU, and OPENBLAS_CORETYPE overrides that pick.
use_reference_core() {
  local meta=$1 desc core needs flags f
  [[ -f $meta ]] || return 0
  desc=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["backend"]["description"])' "$meta") || return 0
  core=$(sed -n 's/.*DYNAMIC_ARCH.* \([A-Za-z0-9]*\) MAX_THREADS.*/\1/p' <<<"$desc")
  case $core in
    SkylakeX | Cooperlake | SapphireRapids) needs="avx512f avx512bw avx512dq avx512vl" ;;
    Haswell | Zen) needs="avx2 fma" ;;
    *) return 0 ;;
  esac
  ldconfig -p 2>/dev/null | grep -q libopenblas || return 0
  flags=" $(grep -m1 '^flags' /proc/cpuinfo) "
  for f in $needs; do [[ $flags == *" $f "* ]] || return 0; done
  export OPENBLAS_CORETYPE=$core
}
