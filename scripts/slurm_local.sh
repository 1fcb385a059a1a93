#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for tests: installs Debian's slurm-wlm
# and munge when missing, writes a private slurm.conf (CPU only, this host's cores;
# two fake GPUs, character devices that are /dev/null and /dev/zero, so that
# --gres=gpu:1 is schedulable; none if mknod is not allowed: then $dir/gpus says 0)
# and starts munged, slurmctld and slurmd. Never touches /etc/slurm: the configuration and all
# state live in $KDBENCH_SLURM_DIR (default /tmp/kdbench-slurm).
#
#   scripts/slurm_local.sh start    install, configure, start (if not running); prints
#                                   "export SLURM_CONF=..." for eval
#   scripts/slurm_local.sh stop     stop what start started
#   scripts/slurm_local.sh status   sinfo of the cluster
#
# Exit status: 0 on success; 3 when Slurm cannot be installed or started here (the
# reason on standard error, the daemons' logs in $KDBENCH_SLURM_DIR).
set -euo pipefail
dir=${KDBENCH_SLURM_DIR:-/tmp/kdbench-slurm}
conf=$dir/slurm.conf
export SLURM_CONF=$conf
node=$(hostname -s)
say() { echo "slurm_local: $*" >&2; }
cannot() { say "cannot: $*"; exit 3; }

install() {
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null &&
    command -v munged >/dev/null && return 0
  local sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null && sudo -n true 2>/dev/null || cannot "slurm-wlm and munge are not installed and this user cannot install them (not root, no sudo)"
    sudo="sudo -n"
  fi
  say "installing slurm-wlm and munge (apt)"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null 2>&1 || cannot "apt-get update failed (no network?)"
  $sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends slurm-wlm munge >/dev/null 2>&1 ||
    cannot "apt-get install slurm-wlm munge failed"
}

start_munge() {
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then return 0; fi # a munged answers
  [[ -s /etc/munge/munge.key ]] || {
    command -v mungekey >/dev/null && mungekey --create --force >/dev/null 2>&1 ||
      dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
  } || cannot "no munge key and none could be made"
  chown munge:munge /etc/munge/munge.key 2>/dev/null || true
  chmod 400 /etc/munge/munge.key
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
  if id munge >/dev/null 2>&1; then runuser -u munge -- munged >/dev/null 2>&1 || true
  else munged --force >/dev/null 2>&1 || true; fi
  pgrep -x munged > "$dir/munged.started" || true
  for _ in $(seq 50); do
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  cannot "munged does not answer (see /var/log/munge/munged.log)"
}

# Two GPU slots for the scheduler: Slurm drops a GPU without a device file.
fake_gpus() {
  mkdir -p "$dir/dev"
  [[ -c "$dir/dev/gpu0" ]] || mknod "$dir/dev/gpu0" c 1 3 2>/dev/null || return 1
  [[ -c "$dir/dev/gpu1" ]] || mknod "$dir/dev/gpu1" c 1 5 2>/dev/null || return 1
}

configure() {
  mkdir -p "$dir/ctld" "$dir/d"
  local cpus gres=""
  cpus=$(nproc)
  if fake_gpus; then
    gres=" Gres=gpu:2"
    echo "NodeName=$node Name=gpu File=$dir/dev/gpu[0-1]" > "$dir/gres.conf"
    echo 2 > "$dir/gpus"
  else
    say "mknod is not allowed here: no GPU slots (submit with --gres=none)"
    : > "$dir/gres.conf"
    echo 0 > "$dir/gpus"
  fi
  cat > "$conf" <<CONF
# Written by scripts/slurm_local.sh: a one-node test cluster on $node.
ClusterName=kdbench
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=${KDBENCH_SLURM_PORT:-6817}
SlurmdPort=$(( ${KDBENCH_SLURM_PORT:-6817} + 1 ))
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$dir/ctld
SlurmdSpoolDir=$dir/d
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
MinJobAge=600
KillWait=5
GresTypes=gpu
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=1000$gres State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
}

# (Without its slurm.conf, scontrol looks for a configless controller in the DNS: slow.)
running() { [[ -f "$conf" ]] && scontrol ping 2>/dev/null | grep -q "is UP"; }

node_idle() { [[ "$(sinfo -h -n "$node" -o %T 2>/dev/null)" =~ ^(idle|mixed|allocated)$ ]]; }

start() {
  install
  mkdir -p "$dir" 2>/dev/null || cannot "cannot create $dir (set KDBENCH_SLURM_DIR)"
  if running && node_idle; then echo "export SLURM_CONF=$conf"; return 0; fi
  start_munge
  configure
  slurmctld -f "$conf" >>"$dir/start.log" 2>&1 || cannot "slurmctld did not start (see $dir/slurmctld.log)"
  slurmd -f "$conf" -N "$node" >>"$dir/start.log" 2>&1 || cannot "slurmd did not start (see $dir/slurmd.log)"
  local state
  for i in $(seq 60); do
    if node_idle; then
      say "cluster up: node $node, $(sinfo -h -o %c) CPUs, $(cat "$dir/gpus") GPU slots, state in $dir"
      echo "export SLURM_CONF=$conf"
      return 0
    fi
    state=$(sinfo -h -n "$node" -o %T 2>/dev/null || true)
    [[ "$state" == inval* ]] && break # a configuration the node contradicts: give up now
    # A node left down by an earlier run: bring it back.
    if (( i % 10 == 0 )); then scontrol update NodeName="$node" State=RESUME >/dev/null 2>&1 || true; fi
    sleep 0.5
  done
  cannot "node $node does not become idle: $(sinfo -h -o '%T %E' 2>&1 | head -1) (see $dir/*.log)"
}

stop() {
  local pids=""
  for f in "$dir/slurmd.pid" "$dir/slurmctld.pid"; do
    [[ -s $f ]] && pids+=" $(cat "$f")"
  done
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  for _ in $(seq 50); do
    local alive=0
    for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
    (( alive )) || break
    sleep 0.2
  done
  if [[ -s "$dir/munged.started" ]]; then
    while read -r p; do kill "$p" 2>/dev/null || true; done < "$dir/munged.started"
    rm -f "$dir/munged.started"
  fi
  say "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) running && sinfo || { say "not running"; exit 1; } ;;
  *) echo "usage: scripts/slurm_local.sh start|stop|status" >&2; exit 2 ;;
esac
