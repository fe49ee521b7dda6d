#!/usr/bin/env bash
# A real one-node Slurm cluster on localhost, for tests: munged, slurmctld and slurmd, all run
# as root with every file (config, state, spool, logs, pid files, munge key and socket) under
# STATE_DIR, so nothing in /etc or /run is touched and several clusters can coexist.
#
#   scripts/slurm-local.sh start STATE_DIR   start the daemons, wait until the node is idle
#   scripts/slurm-local.sh env STATE_DIR     print the line that points Slurm's commands at it
#   scripts/slurm-local.sh stop STATE_DIR    cancel its jobs, stop the daemons it started
#
# Every Slurm command (sbatch, squeue, scontrol, ...) needs SLURM_CONF=STATE_DIR/slurm.conf;
# `eval "$(scripts/slurm-local.sh env STATE_DIR)"` sets it. Ports default to 6817/6818 (the next
# free pair up to 6835 when taken); SLURM_LOCAL_PORTS="CTLD SLURMD" picks them.
# Needs Debian's slurmctld, slurmd, slurm-client and munge (Slurm 22.05 on Debian 12).
set -euo pipefail

usage() { echo "usage: $0 start|stop|env STATE_DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
dir=$(realpath -m "$2")          # absolute: the paths go into slurm.conf and daemon flags
conf=$dir/slurm.conf
host=$(hostname -s)

# The pid of a daemon we started, if it is still running under the expected name (a pid file
# from an earlier run may name a pid the system has since reused).
live_pid() {  # NAME PIDFILE
  local pid
  pid=$(cat "$2" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "$1" ] && echo "$pid"
}

# Stop one daemon by its pid file: SIGTERM, wait up to 20 s, then SIGKILL.
stop_daemon() {  # NAME PIDFILE
  local pid i
  pid=$(live_pid "$1" "$2") || { rm -f "$2"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then echo "$1 ($pid) ignored SIGTERM, killing it" >&2; kill -KILL "$pid" || true; fi
  rm -f "$2"
}

show_logs() {
  for f in "$dir"/log/*.log; do echo "=== $f" >&2; tail -n 40 "$f" >&2 || true; done
}

port_free() { ! (: </dev/tcp/127.0.0.1/"$1") 2>/dev/null; }

case $cmd in
env)
  echo "export SLURM_CONF=$conf"
  ;;

start)
  missing=""
  for b in slurmctld slurmd sbatch munged; do command -v "$b" >/dev/null || missing="$missing $b"; done
  if [ -n "$missing" ]; then
    echo "slurm-local: missing$missing; install them with:" >&2
    echo "  apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge" >&2
    exit 2
  fi
  if live_pid slurmctld "$dir/run/slurmctld.pid" >/dev/null || live_pid munged "$dir/run/munged.pid" >/dev/null; then
    echo "slurm-local: a cluster is already running in $dir (run: $0 stop $dir)" >&2; exit 1
  fi
  mkdir -p "$dir"/{state,spool,log,run,munge}
  chmod 711 "$dir/munge"   # munged wants the socket dir searchable by all, writable by none

  # Munge: a fresh key (1024 random bytes, mode 400, owned by root, who runs munged) and a
  # private socket. --force: munged refuses a socket below a directory others cannot search
  # (mktemp -d makes 0700 ones); with it, that is only a warning. Running as root is fine.
  munge_sock=$dir/munge/munge.socket
  rm -f "$dir/munge/munge.key"
  head -c 1024 /dev/urandom >"$dir/munge/munge.key"
  chmod 400 "$dir/munge/munge.key"
  munged --force --key-file="$dir/munge/munge.key" --socket="$munge_sock" \
    --pid-file="$dir/run/munged.pid" --log-file="$dir/log/munged.log" \
    --seed-file="$dir/munge/munged.seed" || { show_logs; exit 1; }

  # Ports: SLURM_LOCAL_PORTS, or the first free pair from 6817/6818 up.
  if [ -n "${SLURM_LOCAL_PORTS:-}" ]; then
    read -r ctld_port slurmd_port <<<"$SLURM_LOCAL_PORTS"
  else
    for ctld_port in $(seq 6817 2 6835); do
      slurmd_port=$((ctld_port + 1))
      port_free "$ctld_port" && port_free "$slurmd_port" && break
    done
  fi

  # The configuration: one node (this host, all its CPUs, 95% of its memory), one partition,
  # no cgroups and no accounting so it runs in a container; everything under $dir.
  mem_mb=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.95 }' /proc/meminfo)
  cat >"$conf" <<EOF
# Written by scripts/slurm-local.sh: a one-node test cluster.
ClusterName=lab10
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
# cred_expire: a requeued job waits cred_expire+1 s before it may start again (default 120).
AuthInfo=socket=$munge_sock,cred_expire=10
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
# Test the whole queue every 2 s (default 60), so requeued jobs start soon after cred_expire.
SchedulerParameters=sched_interval=2,bf_interval=2
MailProg=/bin/true
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
ReturnToService=2
MinJobAge=300
KillWait=5
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

  # The Slurm daemons, daemonized; they write their pid files under $dir/run.
  slurmctld -f "$conf" || { show_logs; echo "(clean up: $0 stop $dir)" >&2; exit 1; }
  slurmd -f "$conf" || { show_logs; echo "(clean up: $0 stop $dir)" >&2; exit 1; }

  # Ready when sinfo reports the node idle (30 s at most).
  for i in $(seq 60); do
    state=$(SLURM_CONF=$conf sinfo -h -N -o %T 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 0.5
  done
  if [ "$state" != idle ]; then
    echo "slurm-local: node not idle after 30 s (state: ${state:-none})" >&2
    show_logs; echo "(clean up: $0 stop $dir)" >&2; exit 1
  fi
  echo "slurm-local: cluster lab10 up in $dir (ports $ctld_port/$slurmd_port, $(nproc) CPUs); now run:"
  echo "export SLURM_CONF=$conf"
  ;;

stop)
  # Cancel the cluster's jobs first so no slurmstepd or job outlives slurmd (10 s at most).
  if live_pid slurmctld "$dir/run/slurmctld.pid" >/dev/null; then
    jobs=$(SLURM_CONF=$conf squeue -h -o %A 2>/dev/null || true)
    if [ -n "$jobs" ]; then
      # shellcheck disable=SC2086
      SLURM_CONF=$conf scancel $jobs 2>/dev/null || true
      for i in $(seq 50); do
        [ -z "$(SLURM_CONF=$conf squeue -h -o %A 2>/dev/null)" ] && break; sleep 0.2
      done
    fi
  fi
  stop_daemon slurmd "$dir/run/slurmd.pid"
  stop_daemon slurmctld "$dir/run/slurmctld.pid"
  stop_daemon munged "$dir/run/munged.pid"
  echo "slurm-local: stopped the cluster in $dir"
  ;;

*) usage ;;
esac
