#!/usr/bin/env bash
# Submits a kdbench sweep to Slurm as a job array of N shards, and the merge of the
# shards as a job that runs once every task has succeeded (--dependency=afterok).
#
#   scripts/slurm/submit.sh SCENARIO [N]        N shards (default 8)
#
# Prints "array=JOBID merge=JOBID" on standard output. Environment:
#   KDBENCH_BIN       the kdbench to run (default: kdbench on PATH, else build/kdbench)
#   KDBENCH_ARGS      more kdbench flags for every shard, e.g. "--backend cuda"
#   KDBENCH_ARRAY     the shards to run, as Slurm indices (default 1-N); e.g. the
#                     output of: kdbench missing --array RUN
#   KDBENCH_THROTTLE  at most this many tasks at once (the array's %; default 8)
#   KDBENCH_GRES      the generic resources of a task (default: the template's gpu:1)
#   KDBENCH_SBATCH    more sbatch options for both jobs (partition, account, time...)
# A failed task leaves the merge job pending forever without --kill-on-invalid-dep,
# so it is given: the merge is cancelled, and kdbench missing RUN says what to run.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "submit.sh: $*" >&2; exit 2; }

scenario=${1:-}
n=${2:-8}
[[ -n "$scenario" && $# -le 2 ]] || die "usage: scripts/slurm/submit.sh SCENARIO [N]"
[[ -r "$scenario" ]] || die "$scenario: no such scenario file"
[[ "$n" =~ ^[1-9][0-9]*$ ]] || die "N: expected a positive number of shards, got '$n'"
command -v sbatch >/dev/null || die "sbatch not found: is this a Slurm login node?"
bin=${KDBENCH_BIN:-$(command -v kdbench || echo "$here/../../build/kdbench")}
[[ -x "$bin" ]] || die "$bin: not an executable kdbench (set KDBENCH_BIN)"
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
read -r -a args <<< "${KDBENCH_ARGS:-}"
read -r -a extra <<< "${KDBENCH_SBATCH:-}"

# The run's CSV, from the effective scenario: the merge job names it.
csv=$("$bin" --scenario "$scenario" "${args[@]}" --print-scenario | sed -n 's/^csv = //p' | tail -n 1)
[[ -n "$csv" ]] || die "$scenario: kdbench --print-scenario names no csv"
run=${csv%.csv}

array=${KDBENCH_ARRAY:-1-$n}
[[ "$array" =~ ^[0-9,-]+$ ]] || die "KDBENCH_ARRAY: expected Slurm indices like 1-4,7, got '$array'"
throttle=${KDBENCH_THROTTLE:-8}
[[ "$throttle" =~ ^[1-9][0-9]*$ ]] || die "KDBENCH_THROTTLE: expected a positive number, got '$throttle'"
env="ALL,KDBENCH_BIN=$bin"
# Not the whole array 1-N: the tasks cannot tell N from Slurm, so they are told.
[[ "$array" == "1-$n" ]] || env+=",KDBENCH_SHARDS=$n"
gres=()
[[ -n "${KDBENCH_GRES:-}" ]] && gres=(--gres="$KDBENCH_GRES")

name=kdbench-$(basename "$run")
array_job=$(sbatch --parsable --job-name="$name" --array="$array%$throttle" --export="$env" \
  "${gres[@]}" "${extra[@]}" "$here/kdbench-array.sbatch" "$scenario" "${args[@]}")
array_job=${array_job%%;*}
merge_job=$(sbatch --parsable --job-name="$name-merge" --dependency="afterok:$array_job" \
  --kill-on-invalid-dep=yes --export="ALL,KDBENCH_BIN=$bin" "${extra[@]}" \
  "$here/kdbench-merge.sbatch" "$run")
merge_job=${merge_job%%;*}
echo "submit.sh: array job $array_job (shards $array of $n, at most $throttle at once) and merge" \
     "job $merge_job (after it) for $csv; if a task fails: kdbench missing $run" >&2
echo "array=$array_job merge=$merge_job"
