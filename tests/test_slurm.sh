#!/usr/bin/env bash
# ctest test_slurm: kdbench on a real single-node Slurm (scripts/slurm_local.sh).
#  1. a sharded sweep (3 shards, CPU backend) submitted with scripts/slurm/submit.sh:
#     the array, then the merge job; the merged CSV equals an unsharded run's, byte
#     for byte, and the JSON Lines hold the same rows;
#  2. a lost shard: `kdbench missing --array` names it, KDBENCH_ARRAY resubmits only
#     it, the merge is identical again;
#  3. a pre-empted task (scontrol requeue, with --requeue in the template) resumes its
#     shard: points_resumed > 0, the result identical to the unsharded run.
# Exit 77 (ctest: skipped) with the reason when Slurm cannot be installed or started.
#   tests/test_slurm.sh KDBENCH_BINARY
set -euo pipefail
bin=$(realpath "${1:?usage: tests/test_slurm.sh KDBENCH_BINARY}")
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
t0=$SECONDS
note() { echo "test_slurm [$((SECONDS - t0)) s]: $*"; }

# ---- the cluster ------------------------------------------------------------------------
export SLURM_CONF=${KDBENCH_SLURM_DIR:-/tmp/kdbench-slurm}/slurm.conf
was_up=0
[[ -f $SLURM_CONF ]] && command -v scontrol >/dev/null && scontrol ping 2>/dev/null | grep -q "is UP" && was_up=1
if ! up=$(bash "$src/scripts/slurm_local.sh" start 2>/tmp/kdbench-slurm-start.$$); then
  reason=$(grep 'cannot:' /tmp/kdbench-slurm-start.$$ | tail -n 1 || tail -n 1 /tmp/kdbench-slurm-start.$$)
  rm -f /tmp/kdbench-slurm-start.$$
  echo "SKIPPED: Slurm cannot run here: ${reason:-scripts/slurm_local.sh start failed}"
  exit 77
fi
rm -f /tmp/kdbench-slurm-start.$$
eval "$up"
note "cluster up ($(sinfo -h -o '%D node, %c CPUs, %G'))"

work=$(mktemp -d /tmp/kdbench-slurm-test-XXXXXX)
cd "$work"
finish() {
  local rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "test_slurm: FAILED; its files are in $work. Job logs:"
    for f in "$work"/kdbench-*.out; do [[ -e $f ]] && { echo "== $f"; tail -n 20 "$f"; }; done
    echo "== slurmctld.log"; tail -n 20 "$(dirname "$SLURM_CONF")/slurmctld.log" 2>/dev/null || true
  else
    rm -rf "$work"
  fi
  if [[ $was_up -eq 0 ]]; then bash "$src/scripts/slurm_local.sh" stop 2>/dev/null || true; fi
}
trap finish EXIT
fail() { echo "test_slurm: $*"; exit 1; }

export KDBENCH_BIN=$bin KDBENCH_SBATCH="--cpus-per-task=1 --time=10" KDBENCH_THROTTLE=2
[[ "$(cat "$(dirname "$SLURM_CONF")/gpus" 2>/dev/null)" == 0 ]] && export KDBENCH_GRES=none

# The states of a job's tasks, once they have all ended (at most $2 seconds).
wait_job() {
  local states=""
  for ((i = 0; i < $2 * 4; ++i)); do
    states=$(scontrol show job "$1" -o 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2 | sort -u | tr '\n' ' ')
    if [[ -n "$states" && ! "$states" =~ PENDING|RUNNING|CONFIGURING|COMPLETING|REQUEUE|SUSPENDED|RESIZING ]]; then
      echo "$states"
      return 0
    fi
    sleep 0.25
  done
  echo "still ${states:-unknown} after $2 s"
  return 1
}

# Submits SCENARIO with N shards, waits for the array and the merge to complete.
submit_and_wait() {
  local ids array merge s
  ids=$(bash "$src/scripts/slurm/submit.sh" "$1" "$2") || fail "submit.sh $1 $2 failed"
  array=$(sed -n 's/.*array=\([0-9]*\).*/\1/p' <<< "$ids")
  merge=$(sed -n 's/.*merge=\([0-9]*\).*/\1/p' <<< "$ids")
  [[ -n "$array" && -n "$merge" ]] || fail "submit.sh printed '$ids'"
  s=$(wait_job "$array" 240) || fail "array job $array: $s"
  [[ "$s" == "COMPLETED " ]] || fail "array job $array ended $s"
  s=$(wait_job "$merge" 120) || fail "merge job $merge: $s"
  [[ "$s" == "COMPLETED " ]] || fail "merge job $merge ended $s"
  note "array job $array and merge job $merge completed"
}

# Debian's python3, which scripts/setup.sh installs; a python3 earlier on PATH (a pyenv
# shim, a virtual environment) is an interpreter setup.sh knows nothing of.
py=/usr/bin/python3
# The rows of a JSON Lines file without their wall times and checks, sorted.
rows() { "$py" -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l); r.pop("wall_s"); r.pop("check"); print(json.dumps(r, sort_keys=True))' "$1" | sort; }

meta() { "$py" -c 'import json,sys
m = json.load(open(sys.argv[1])); v = m
for k in sys.argv[2].split("."): v = v[k]
print(json.dumps(v))' "$1" "$2"; }

# ---- 1. a sharded sweep through submit.sh ---------------------------------------------------------
"$bin" --sweep n --n 10,20,30,40,60,80 --p 30 --m 100 --trials 6 --pipelines strong,optimal,w2s \
  --backend cpu --csv run.csv --print-scenario > small.ini
"$bin" --scenario small.ini --csv ref.csv --quiet
note "unsharded reference run done"
submit_and_wait small.ini 3
cmp run.csv ref.csv || fail "merged run.csv differs from the unsharded ref.csv"
diff <(rows run.jsonl) <(rows ref.jsonl) >/dev/null || fail "merged run.jsonl rows differ from ref.jsonl"
[[ $(meta run.meta.json complete) == true ]] || fail "run.meta.json: not complete"
for i in 1 2 3; do
  [[ $(meta run.shards/shard-00$i-of-003.meta.json shard.from_slurm) == true ]] ||
    fail "shard $i/3 did not take its shard from the Slurm array"
done
note "1. merged CSV identical to the unsharded run's"

# ---- 2. a lost shard, found by kdbench missing, resubmitted alone -----------------------------------
rm -f run.shards/shard-002-of-003.* run.csv run.jsonl run.meta.json
[[ $("$bin" missing --array run) == 2 ]] || fail "kdbench missing --array run: '$("$bin" missing --array run)', want 2"
KDBENCH_ARRAY=2 submit_and_wait small.ini 3
cmp run.csv ref.csv || fail "after resubmitting shard 2: run.csv differs from ref.csv"
[[ $(meta run.shards/shard-002-of-003.meta.json shard.from_slurm) == false ]] ||
  fail "shard 2/3 resubmitted alone should have been given --shard 2/3"
note "2. the lost shard resubmitted alone; merged CSV identical again"

# ---- 3. a pre-empted task resumes its shard ----------------------------------------------------------
# About 4 s of work (one OpenBLAS thread), long enough to be caught running.
"$bin" --sweep n --n 100:600:log6 --p 300 --trials 200 --pipelines strong --backend cpu \
  --csv slow.csv --print-scenario > slow.ini
ids=$(bash "$src/scripts/slurm/submit.sh" slow.ini 1) || fail "submit.sh slow.ini 1 failed"
array=$(sed -n 's/.*array=\([0-9]*\).*/\1/p' <<< "$ids")
merge=$(sed -n 's/.*merge=\([0-9]*\).*/\1/p' <<< "$ids")
shard=slow.shards/shard-001-of-001.meta.json
for ((i = 0; i < 600; ++i)); do
  [[ -e $shard ]] && (( $(meta $shard points_done) >= 2 )) && break
  sleep 0.1
done
done_before=$(meta $shard points_done)
(( done_before >= 2 )) || fail "the slow shard did not get going"
[[ $(meta $shard complete) == false ]] || fail "the slow shard finished before it could be requeued: make it slower"
scontrol requeue "${array}_1" || fail "scontrol requeue ${array}_1 failed"
note "task ${array}_1 requeued after $done_before points"
# A requeued job waits for its begin time: let it start again now.
sleep 1
scontrol update JobId="${array}_1" StartTime=now >/dev/null 2>&1 || true
s=$(wait_job "$array" 240) || fail "requeued array job $array: $s"
[[ "$s" == "COMPLETED " ]] || fail "requeued array job $array ended $s"
s=$(wait_job "$merge" 120) || fail "merge job $merge: $s"
[[ "$s" == "COMPLETED " ]] || fail "merge job $merge ended $s"
resumed=$(meta $shard points_resumed)
(( resumed >= done_before )) || fail "the requeued shard resumed $resumed points, want >= $done_before"
grep -q "restart 1" kdbench-"${array}"_1.out || fail "the task's log shows no restart"
"$bin" --scenario slow.ini --csv slowref.csv --quiet
cmp slow.csv slowref.csv || fail "the requeued and merged slow.csv differs from an unsharded run"
note "3. the requeued task resumed $resumed points; merged CSV identical to the unsharded run's"
note "passed"
