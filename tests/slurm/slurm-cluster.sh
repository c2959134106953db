# tests/slurm/slurm-cluster.sh: a private one-node Slurm cluster on loopback,
# sourced (bash) by tests/slurm/slurm-test.sh and bench/slurm-bench.sh.
#
# slurm_cluster_start DIR: starts munged, slurmctld and slurmd in the
#   foreground from DIR (configuration, key, socket, spool, logs; nothing
#   under /etc), exports SLURM_CONF and waits up to 30 s for the node to be
#   idle. Returns 0 when it is. Needs root, munge and slurm-wlm. The node has
#   every core and 90 % of the memory; the partition is `galleyci`, the
#   scheduler runs every 2 s. Extra slurm.conf lines can be given in
#   SLURM_CLUSTER_EXTRA.
# slurm_cluster_stop: stops what slurm_cluster_start started, by PID, and
#   removes the loopback address it may have added (not DIR).
# slurm_tools_missing: prints the first Slurm or munge tool not installed.
# slurm_job_field ID FIELD, slurm_wait_job ID SECONDS, slurm_queue_empty:
#   see below.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

slurm_pids=()
slurm_added_lo=""

slurm_tools_missing() {
  local tool
  for tool in munged mungekey slurmctld slurmd sbatch scontrol sinfo squeue; do
    if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
      echo "$tool"
      return 0
    fi
  done
  return 1
}

slurm_cluster_stop() {
  local pid i
  for pid in "${slurm_pids[@]}"; do
    kill "$pid" 2>/dev/null
  done
  for pid in "${slurm_pids[@]}"; do
    for i in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null
  done
  slurm_pids=()
  if [ -n "$slurm_added_lo" ]; then
    ip addr del "$slurm_added_lo" dev lo 2>/dev/null
    slurm_added_lo=""
  fi
}

slurm_cluster_start() {
  local dir=$1 ctld_port slurmd_port cpus mem_mb
  export PATH=$PATH:/usr/sbin
  # munged wants its socket's directory searchable by everyone
  chmod 0711 "$dir"

  # In an isolated network namespace (only lo), Slurm resolves the host only
  # once a second loopback address exists.
  if command -v ip >/dev/null 2>&1 && [ "$(ip -o link show | wc -l)" -eq 1 ] \
     && ! ip -o addr show dev lo | grep -q ' 127\.0\.0\.2/'; then
    ip link set lo up 2>/dev/null
    if ip addr add 127.0.0.2/8 dev lo 2>/dev/null; then
      slurm_added_lo=127.0.0.2/8
    fi
  fi

  read -r ctld_port slurmd_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')

  mkdir -p "$dir/state" "$dir/spool"
  dd if=/dev/urandom of="$dir/munge.key" bs=1024 count=1 status=none
  chmod 0400 "$dir/munge.key"
  munged --foreground --socket="$dir/munge.sock" --key-file="$dir/munge.key" \
    --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munged.seed" \
    </dev/null >"$dir/munged.out" 2>&1 &
  slurm_pids+=($!)

  cpus=$(nproc)
  mem_mb=$(awk '/^MemTotal:/ { print int($2 / 1024 * 0.9) }' /proc/meminfo)
  cat > "$dir/slurm.conf" <<EOF
ClusterName=galleyci
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge.sock
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=256
ReturnToService=2
MinJobAge=3600
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# short scheduler cycles: dependent jobs start within seconds
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=1
NodeName=localhost CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=galleyci Nodes=localhost Default=YES MaxTime=INFINITE State=UP
${SLURM_CLUSTER_EXTRA:-}
EOF
  export SLURM_CONF=$dir/slurm.conf

  # munged creates its socket shortly after starting
  for _ in $(seq 50); do
    [ -S "$dir/munge.sock" ] && break
    sleep 0.1
  done
  slurmctld -D -f "$dir/slurm.conf" </dev/null >"$dir/slurmctld.out" 2>&1 &
  slurm_pids+=($!)
  slurmd -D -N localhost -f "$dir/slurm.conf" </dev/null >"$dir/slurmd.out" 2>&1 &
  slurm_pids+=($!)

  local deadline=$((SECONDS + 30))
  while [ "$SECONDS" -lt "$deadline" ] && [ -S "$dir/munge.sock" ]; do
    if [ "$(timeout 5 sinfo -h -N -o %t 2>/dev/null)" = idle ]; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# slurm_job_field ID FIELD: a field of `scontrol show job`, first array task for arrays
slurm_job_field() {
  timeout 10 scontrol -o show job "$1" 2>/dev/null | head -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# slurm_wait_job ID SECONDS [POLL]: waits until the job (all its array tasks)
# has ended; prints its states (comma-separated when they differ), TIMEOUT
# after SECONDS. sbatch --wait is no help: it returns 0 for a cancelled job.
slurm_wait_job() {
  local id=$1 states state deadline=$((SECONDS + $2)) poll=${3:-0.5}
  while [ "$SECONDS" -lt "$deadline" ]; do
    states=$(timeout 10 scontrol -o show job "$id" 2>/dev/null | tr ' ' '\n' | sed -n 's/^JobState=//p' | sort -u)
    if [ -n "$states" ] && ! grep -qE '^(PENDING|RUNNING|CONFIGURING|COMPLETING|SUSPENDED|REQUEUED|RESIZING)$' <<<"$states"; then
      state=$(tr '\n' ',' <<<"$states")
      echo "${state%,}"
      return 0
    fi
    sleep "$poll"
  done
  echo TIMEOUT
}

slurm_queue_empty() { [ -z "$(timeout 10 squeue -h 2>/dev/null)" ]; }
