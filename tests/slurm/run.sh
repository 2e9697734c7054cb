#!/usr/bin/env bash
# A real single-node Slurm cluster on this machine, and the tiny workflow through it.
#
#   sudo bash tests/slurm/run.sh        (root, Debian/Ubuntu; tests/test_slurm.py runs it)
#
# 1. Installs (apt, only what is missing) slurm-wlm, munge, slurmdbd and mariadb-server:
#    snakemake-executor-plugin-slurm asks sacct for job states, which needs accounting.
# 2. Writes /etc/slurm/slurm.conf and slurmdbd.conf (the default path: the jobstep plugin
#    drops SLURM_CONF) and starts, by hand and on loopback only, munged, a private MariaDB
#    (datadir and socket in the temporary folder), slurmdbd, slurmctld and slurmd.
# 3. Runs tests/tiny_config.yaml twice, each in a fresh copy of the workflow: locally
#    (--cores 2) and with --profile profiles/slurm. The science summaries (detection,
#    unlearning, loo_validation; wall-time columns, if any, left out) must be identical.
# 4. Prints the cluster jobs (sacct), the rule jobs they carried, and both wall times.
# Every daemon it started is stopped by PID on exit, failure included, and the two config
# files it wrote are removed; on failure the
# tails of the daemon and Snakemake logs are printed and the temporary folder is kept.
# Safe to rerun. Never touches a Slurm setup it did not write (it refuses instead).
#
# Environment: PYTHON (default: <repo>/.venv/bin/python), KEEP_TMP=1 keeps the folder,
# SLURM_RUN_TIMEOUT (s, default 600) bounds each Snakemake run.
set -euo pipefail
export PATH="/usr/local/sbin:/usr/sbin:/sbin:$PATH"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PY="${PYTHON:-$REPO/.venv/bin/python}"
TINY="$REPO/tests/tiny_config.yaml"
RUN_TIMEOUT="${SLURM_RUN_TIMEOUT:-600}"
MARK="# written by mislabel tests/slurm/run.sh"
PIDFILE=/run/mislabel-slurm-test.pids     # daemons of a run that could not clean up
CLUSTER=mislabel
SUMMARIES=(detection unlearning loo_validation)

say() { printf '[slurm-test] %s\n' "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

[ "$(id -u)" = 0 ] || die "must run as root (it installs packages and starts daemons)"
[ -x "$PY" ] || die "no Python at $PY (run ./install.sh, or set PYTHON)"
"$PY" -c "import snakemake_executor_plugin_slurm" 2>/dev/null \
    || die "$PY lacks snakemake-executor-plugin-slurm (pip install -e '.[workflow]')"

# --- 0. Daemons left by an earlier run killed before its clean-up --------------------------
stop_pid() {  # PID NAME: TERM, up to 20 s, then KILL; only if it still is NAME
    local pid=$1 name=$2 i
    [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 0
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 1 40); do
        [ -d "/proc/$pid" ] || return 0
        sleep 0.5
    done
    say "$name (pid $pid) ignored SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
}
if [ -s "$PIDFILE" ]; then
    say "stopping daemons left by an earlier run ($PIDFILE)"
    tac "$PIDFILE" | while read -r pid name; do stop_pid "$pid" "$name"; done
    rm -f "$PIDFILE"
fi

# --- 1. Packages ---------------------------------------------------------------------------
missing=()
command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
    && command -v sbatch >/dev/null || missing+=(slurm-wlm)
command -v munged >/dev/null || missing+=(munge)
command -v slurmdbd >/dev/null || missing+=(slurmdbd)
command -v mariadbd >/dev/null && command -v mariadb-install-db >/dev/null \
    && command -v mariadb-admin >/dev/null || missing+=(mariadb-server)
if ((${#missing[@]})); then
    command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get"
    say "installing ${missing[*]} (apt-get)"
    t0=$(now)
    # No service may start during the install (no systemd here; we start them by hand).
    policy_added=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        policy_added=1
    fi
    apt_ok=1
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null; } || apt_ok=0
    if ((policy_added)); then rm -f /usr/sbin/policy-rc.d; fi
    ((apt_ok)) || die "apt-get install ${missing[*]} failed"
    say "apt-get took $(elapsed "$t0" "$(now)") s"
fi

# --- 2. Refuse to clobber a Slurm setup that is not ours -----------------------------------
for f in /etc/slurm/slurm.conf /etc/slurm/slurmdbd.conf; do
    if [ -e "$f" ] && ! head -n1 "$f" | grep -qF "$MARK"; then
        die "$f exists and was not written by this script: not touching a real Slurm setup"
    fi
done
listening() {  # PORT: is anything listening on it (IPv4 or IPv6)?
    local hex
    hex=$(printf '%04X' "$1")
    awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
for port in 6817 6818 6819; do
    listening "$port" && die "port $port is in use: another Slurm daemon is running here"
done

# --- Temporary folder, logs, clean-up ------------------------------------------------------
TMP="$(mktemp -d /tmp/mislabel-slurm.XXXXXX)"
chmod 755 "$TMP"    # munge and mysql users need to reach their folders inside
LOGS="$TMP/logs"
mkdir -p "$LOGS" "$TMP/run" "$TMP/state/ctld" "$TMP/state/d"
STARTED=()          # "pid name", in start order
HOSTS_LINE=""

start_daemon() {  # NAME LOG CMD...: start CMD in the background, remember its PID
    local name=$1 log=$2
    shift 2
    # Own session: a Ctrl-C meant for the run must not kill the daemons before clean-up.
    # (A background child is no group leader, so setsid execs in place: $! stays its PID.)
    setsid "$@" >>"$log" 2>&1 </dev/null &
    STARTED+=("$! $name")
    echo "$! $name" >>"$PIDFILE"
}

print_tails() {
    local f
    for f in "$LOGS"/*; do
        [ -s "$f" ] || continue
        printf '\n----- tail of %s -----\n' "$f" >&2
        tail -n 40 "$f" >&2
    done
    # Slurm logs of the cluster jobs, the last written first.
    find "$TMP/slurm/.snakemake/slurm_logs" -name '*.log' \
        -printf '%T@ %p\n' 2>/dev/null | sort -rn | head -n 6 | while read -r _ f; do
        printf '\n----- tail of %s -----\n' "$f" >&2
        tail -n 25 "$f" >&2
    done
}

SNAKE_PID=""        # a Snakemake run in progress (its timeout process)
stop_snakemake() {
    local i
    [ -n "$SNAKE_PID" ] && kill -0 "$SNAKE_PID" 2>/dev/null || return 0
    say "interrupting the Snakemake run (it cancels its cluster jobs)"
    kill -INT "$SNAKE_PID" 2>/dev/null
    for i in $(seq 1 120); do
        kill -0 "$SNAKE_PID" 2>/dev/null || return 0
        sleep 0.5
    done
    kill -KILL -- "-$SNAKE_PID" 2>/dev/null    # timeout leads a process group of its own
}

cleanup() {
    local rc=$? i entry
    set +e
    trap - EXIT INT TERM
    stop_snakemake
    if ((${#STARTED[@]})); then
        # Our cluster only (our slurm.conf): cancel what may still run, then stop daemons.
        if command -v scancel >/dev/null && [ -n "$(squeue -h -o %i 2>/dev/null)" ]; then
            scancel --full --user=root 2>/dev/null
            for i in $(seq 1 20); do
                [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
                sleep 0.5
            done
        fi
        for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
            entry=${STARTED[$i]}
            stop_pid "${entry%% *}" "${entry#* }"
        done
        wait 2>/dev/null
        rm -f "$PIDFILE"
    fi
    for f in /etc/slurm/slurm.conf /etc/slurm/slurmdbd.conf; do  # ours only (step 2)
        if [ -e "$f" ] && head -n1 "$f" | grep -qF "$MARK"; then rm -f "$f"; fi
    done
    if [ -n "$HOSTS_LINE" ]; then
        grep -vxF "$HOSTS_LINE" /etc/hosts >"$TMP/hosts.restored" \
            && cat "$TMP/hosts.restored" >/etc/hosts
    fi
    if ((rc != 0)); then
        print_tails
        say "exit status $rc; logs and runs kept in $TMP"
    elif [ "${KEEP_TMP:-0}" = 1 ]; then
        say "kept $TMP"
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_for() {  # WHAT SECONDS CMD...: poll CMD every 0.5 s until it succeeds
    local what=$1 secs=$2 i
    shift 2
    for ((i = 0; i < secs * 2; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.5
    done
    die "$what did not come up within $secs s"
}

# --- 3. Node facts, loopback name ----------------------------------------------------------
t_setup=$(now)
NODE_FACTS="$(slurmd -C | head -n1)"
fact() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$NODE_FACTS"; }
NODE="$(fact NodeName)"
CPUS="$(fact CPUs)"
MEM="$(fact RealMemory)"
if [ -z "$NODE" ] || [ -z "$CPUS" ] || [ -z "$MEM" ]; then
    die "cannot read 'slurmd -C': $NODE_FACTS"
fi
# With NoInAddrAny the daemons and srun bind to what the node name resolves to.
if [ "$(getent ahostsv4 "$NODE" | awk 'NR == 1 { print $1 }')" != 127.0.0.1 ]; then
    HOSTS_LINE="127.0.0.1 $NODE $MARK (removed on exit)"
    say "$NODE does not resolve to 127.0.0.1: adding it to /etc/hosts for this run"
    { echo "$HOSTS_LINE"; cat /etc/hosts; } >"$TMP/hosts.new"
    cat "$TMP/hosts.new" >/etc/hosts    # in place: /etc/hosts may be a bind mount
fi

# The partition and account the profile asks for (a site may have edited them).
read -r PARTITION ACCOUNT < <("$PY" - "$REPO/profiles/slurm/config.yaml" <<'EOF'
import sys, yaml
res = (yaml.safe_load(open(sys.argv[1])) or {}).get("default-resources") or {}
if isinstance(res, list):
    res = dict(item.split("=", 1) for item in res)
print(str(res.get("slurm_partition") or "cpu").strip("'\""),
      str(res.get("slurm_account") or "").strip("'\"") or "mislabel")
EOF
)
[ -n "${PARTITION:-}" ] || die "cannot read the partition from profiles/slurm/config.yaml"
say "node $NODE: $CPUS CPUs, $MEM MB; partition '$PARTITION', account '$ACCOUNT'"

# --- 4. munge ------------------------------------------------------------------------------
munge_ok() { munge -n | unmunge; }
if munge_ok >/dev/null 2>&1; then
    say "munged already running: using it"
else
    [ -s /etc/munge/munge.key ] || die "/etc/munge/munge.key is missing (reinstall munge)"
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 "$TMP/munge"
    install -o munge -g munge -m 0600 /dev/null "$LOGS/munged.log"
    start_daemon munged "$LOGS/munged.out" setpriv --reuid=munge --regid=munge --init-groups \
        munged --foreground --log-file="$LOGS/munged.log" --seed-file="$TMP/munge/seed" \
        --pid-file="$TMP/munge/munged.pid"
    wait_for munged 15 munge_ok
fi

# --- 5. MariaDB (private datadir and socket, no TCP) ---------------------------------------
DB="$TMP/mysql"
export MYSQL_UNIX_PORT="$DB/mysqld.sock"     # read by the clients and by slurmdbd
mkdir -p "$DB"
chown mysql:mysql "$DB"
mariadb-install-db --no-defaults --user=mysql --datadir="$DB/data" --skip-test-db \
    --auth-root-authentication-method=socket >"$LOGS/mariadb-install.log" 2>&1 \
    || die "mariadb-install-db failed"
start_daemon mariadbd "$LOGS/mariadb.out" mariadbd --no-defaults --user=mysql \
    --datadir="$DB/data" --socket="$MYSQL_UNIX_PORT" --pid-file="$DB/mariadbd.pid" \
    --skip-networking --log-error="$LOGS/mariadb.log" --innodb-buffer-pool-size=64M
wait_for mariadbd 60 mariadb-admin --no-defaults --socket="$MYSQL_UNIX_PORT" ping
DB_PASS="$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
mariadb --no-defaults --socket="$MYSQL_UNIX_PORT" -u root <<EOF
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
EOF

# --- 6. Slurm configuration ----------------------------------------------------------------
mkdir -p /etc/slurm
cat >/etc/slurm/slurm.conf <<EOF
$MARK: a single-node test cluster, loopback only
ClusterName=$CLUSTER
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
CommunicationParameters=NoInAddrAny,NoCtldInAddrAny
StateSaveLocation=$TMP/state/ctld
SlurmdSpoolDir=$TMP/state/d
SlurmctldPidFile=$TMP/run/slurmctld.pid
SlurmdPidFile=$TMP/run/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoreFlags=job_comment
JobAcctGatherType=jobacct_gather/linux
JobCompType=jobcomp/none
InactiveLimit=0
KillWait=10
MinJobAge=300
NodeName=$NODE NodeAddr=127.0.0.1 NodeHostname=$NODE CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
(
    umask 077
    cat >/etc/slurm/slurmdbd.conf <<EOF
$MARK: accounting for the test cluster, loopback only
AuthType=auth/munge
DbdHost=$NODE
DbdAddr=127.0.0.1
SlurmUser=root
CommunicationParameters=NoInAddrAny
LogFile=$LOGS/slurmdbd.log
PidFile=$TMP/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=$DB_PASS
StorageLoc=slurm_acct_db
EOF
)

# --- 7. Slurm daemons ----------------------------------------------------------------------
start_daemon slurmdbd "$LOGS/slurmdbd.out" slurmdbd -D
wait_for slurmdbd 60 sacctmgr -n list cluster
sacctmgr -i add cluster "$CLUSTER" >/dev/null || die "sacctmgr add cluster failed"
sacctmgr -i add account "$ACCOUNT" Cluster="$CLUSTER" Description=test Organization=test \
    >/dev/null || die "sacctmgr add account failed"
sacctmgr -i add user root Account="$ACCOUNT" DefaultAccount="$ACCOUNT" >/dev/null || true
sacctmgr -i modify user root set DefaultAccount="$ACCOUNT" >/dev/null || true
start_daemon slurmctld "$LOGS/slurmctld.out" slurmctld -D
wait_for slurmctld 60 bash -c 'scontrol ping | grep -q UP'
start_daemon slurmd "$LOGS/slurmd.out" slurmd -D -N "$NODE"
node_idle() { [[ "$(sinfo -h -n "$NODE" -o %t)" == idle* ]]; }
wait_for "node $NODE (idle)" 60 node_idle
SMOKE=mislabel-smoke
smoke_out="$(timeout 60 srun --job-name="$SMOKE" -N1 -n1 hostname 2>&1)" \
    || die "srun smoke test failed: $smoke_out"
say "cluster up in $(elapsed "$t_setup" "$(now)") s (srun ran on $smoke_out)"

# --- 8. The two runs -----------------------------------------------------------------------
copy_workflow() {  # DEST: what a fresh checkout of the workflow needs
    mkdir -p "$1"
    cp "$REPO/Snakefile" "$REPO/config.yaml" "$1/"
    cp -r "$REPO/workflow" "$REPO/envs" "$REPO/profiles" "$1/"
}
# One JAX compilation cache for both runs (compiled programs are identical, so sharing
# changes no result, only the time): the local run fills it, the SLURM run starts warm.
export JAX_COMPILATION_CACHE_DIR="$TMP/jax_cache"
snake() {  # DIR LOG ARGS...: Snakemake in DIR, output to LOG, at most RUN_TIMEOUT s
    # SIGINT on timeout or interruption: Snakemake then cancels its cluster jobs (on SIGTERM
    # it would wait for them). In the background, so that a signal to this script is
    # handled at once (the clean-up passes it on, see stop_snakemake).
    local dir=$1 log=$2 rc=0
    shift 2
    (cd "$dir" && exec timeout -s INT -k 30 "$RUN_TIMEOUT" "$PY" -m snakemake "$@") \
        >"$log" 2>&1 &
    SNAKE_PID=$!
    wait "$SNAKE_PID" || rc=$?
    SNAKE_PID=""
    return "$rc"
}

copy_workflow "$TMP/local"
copy_workflow "$TMP/slurm"

say "local run: snakemake --cores 2 --configfile tests/tiny_config.yaml"
t0=$(now)
snake "$TMP/local" "$LOGS/snakemake-local.log" --cores 2 --configfile "$TINY" \
    || die "the local run failed (exit $?), see $LOGS/snakemake-local.log"
T_LOCAL=$(elapsed "$t0" "$(now)")

# Test-cluster overrides only: first status check after 5 s (not 40 s); files appear at
# once on one machine; keep every job's Slurm log (in the temporary folder).
SLURM_ARGS=(--profile profiles/slurm --configfile "$TINY" --latency-wait 5
    --slurm-init-seconds-before-status-checks 5 --slurm-keep-successful-logs)
say "SLURM run: snakemake ${SLURM_ARGS[*]}"
t0=$(now)
snake "$TMP/slurm" "$LOGS/snakemake-slurm.log" "${SLURM_ARGS[@]}" \
    || die "the SLURM run failed (exit $?), see $LOGS/snakemake-slurm.log"
T_SLURM=$(elapsed "$t0" "$(now)")

# --- 9. Same science? ----------------------------------------------------------------------
mismatch=0
for name in "${SUMMARIES[@]}"; do
    for run in local slurm; do
        f="$TMP/$run/results/summary/$name.csv"
        [ -s "$f" ] || die "the $run run wrote no $f"
    done
    local_csv="$TMP/local/results/summary/$name.csv"
    slurm_csv="$TMP/slurm/results/summary/$name.csv"
    if cmp -s "$local_csv" "$slurm_csv"; then
        say "$name.csv: identical ($(($(wc -l <"$local_csv") - 1)) rows)"
    else
        say "$name.csv DIFFERS between the local and the SLURM run:"
        diff -u "$local_csv" "$slurm_csv" | head -n 60 >&2 || true
        mismatch=1
    fi
done
((mismatch == 0)) || die "the SLURM run's summaries differ from the local run's"

# --- 10. Figures ---------------------------------------------------------------------------
sacct -X -n -P -a -o JobID,JobName,State,AllocCPUS,ReqMem,Timelimit,Elapsed,Comment \
    | awk -F'|' -v OFS='|' -v smoke="$SMOKE" '$2 != smoke { print $1, $3, $4, $5, $6, $7, $8 }' \
    >"$TMP/sacct.txt" || true
N_SBATCH="$(cut -d'|' -f1 "$TMP/sacct.txt" | sort -u | grep -c . || true)"
# Rule jobs that went to the cluster (not localrules): 'rule X:' lines, group members included.
N_RULE_JOBS="$(grep -cE '^\s*rule [A-Za-z0-9_]+:' "$LOGS/snakemake-slurm.log" || true)"
N_GROUPS="$(grep -c 'Group job' "$LOGS/snakemake-slurm.log" || true)"
N_FAILED="$(grep -vc '|COMPLETED|' "$TMP/sacct.txt" || true)"
{
    echo "cluster jobs (sacct -X: JobID|State|CPUs|ReqMem|Timelimit|Elapsed|Comment):"
    sed 's/^/  /' "$TMP/sacct.txt"
} >&2
((N_FAILED == 0)) || die "$N_FAILED cluster job(s) did not complete"
((N_SBATCH > 0)) || die "sacct lists no cluster job: the run did not use Slurm"
((N_SBATCH < N_RULE_JOBS)) \
    || die "no grouping: $N_SBATCH cluster jobs for $N_RULE_JOBS rule jobs"
cat <<EOF
SLURM test passed: the summaries of the local and the SLURM run are identical
  (${SUMMARIES[*]}, byte for byte).
  cluster jobs submitted (sacct): $N_SBATCH, carrying $N_RULE_JOBS rule jobs ($N_GROUPS group jobs)
  wall time, local run: $T_LOCAL s (--cores 2, cold JAX compilation cache)
  wall time, SLURM run: $T_SLURM s (JAX cache filled by the local run)
EOF
