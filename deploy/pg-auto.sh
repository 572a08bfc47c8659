#!/usr/bin/env bash
# Automatic PostgreSQL failover with pg_auto_failover (Debian packages
# pg-auto-failover-cli and postgresql-15-auto-failover): a monitor, a primary
# and a synchronous standby on this machine, each a `pg_autoctl run` keeper
# supervising its own PostgreSQL 15 under var/paf/ (docs/operations.md,
# "Automatic failover with pg_auto_failover").  The monitor promotes the
# standby when the primary dies or freezes, and drops synchronous replication
# (the primary goes to wait_primary) when the standby dies, so a COMMIT waits
# a bounded time, never forever.
#   deploy/pg-auto.sh start         make (first time) and start the monitor, node a, node b
#   deploy/pg-auto.sh stop|destroy  stop the keepers (destroy: and remove var/paf)
#   deploy/pg-auto.sh status        pg_autoctl show state (the monitor's view)
#   deploy/pg-auto.sh conninfo [db] the multi-host libpq string the services use
#   deploy/pg-auto.sh users         gridflow_<service> login users on the primary
#   deploy/pg-auto.sh migrate       gridctl db migrate on the primary, then users
#   deploy/pg-auto.sh tune KEY=VALUE...  monitor settings (pgautofailover.KEY)
#   deploy/pg-auto.sh primary       the name (a or b) of the current primary
#   deploy/pg-auto.sh pid a|b       the node's postmaster pid
#   deploy/pg-auto.sh keeper-pid a|b|monitor   the node's pg_autoctl pid
#   deploy/pg-auto.sh start-node a|b|monitor   start one keeper again
#   deploy/pg-auto.sh psql a|b|monitor [args]
# Environment: GF_VAR (default <repo>/var); GF_PAF_PORT_MONITOR, GF_PAF_PORT_A,
# GF_PAF_PORT_B (default GF_PGPORT+3, +4, +5; GF_PGPORT defaults to 55432).
# As root every process runs as the system user `gridflow`, like deploy/pg.sh
# (initdb and pg_autoctl refuse root).  Authentication is `trust` on
# 127.0.0.1 and the Unix socket: a test and demo cluster.  Production uses
# scram-sha-256 or certificates (pg_autoctl create --auth, --ssl-*).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/deploy/lib.sh"
VAR=${GF_VAR:-$ROOT/var}
BASE=${GF_PGPORT:-55432}
PORT_M=${GF_PAF_PORT_MONITOR:-$((BASE + 3))}
PORT_A=${GF_PAF_PORT_A:-$((BASE + 4))}
PORT_B=${GF_PAF_PORT_B:-$((BASE + 5))}
PGBIN=${GF_PGBIN:-/usr/lib/postgresql/15/bin}
PAF=$VAR/paf
SOCK=$PAF/run
if [ $((${#SOCK} + 20)) -gt 107 ]; then
  SOCK=/tmp/gridflow-paf-$(printf '%s' "$VAR" | md5sum | cut -c1-12)
fi
MONITOR_URI="postgres://autoctl_node@127.0.0.1:$PORT_M/pg_auto_failover?sslmode=disable"

# pg_autoctl keeps its configuration and state under XDG_CONFIG_HOME and
# XDG_DATA_HOME (per PGDATA): under var/paf/ too, not in a home directory.
# PG_REGRESS_SOCK_DIR is pg_autoctl's unix_socket_directories.
as_owner() {
  local -a env=(XDG_CONFIG_HOME="$PAF/config" XDG_DATA_HOME="$PAF/share" XDG_RUNTIME_DIR="$SOCK"
    PG_REGRESS_SOCK_DIR="$SOCK" PGHOST="$SOCK" PG_CONFIG="$PGBIN/pg_config" PATH="$PGBIN:$PATH")
  if [ "$(id -u)" -eq 0 ]; then runuser -u gridflow -- env "${env[@]}" "$@"; else env "${env[@]}" "$@"; fi
}
autoctl() { as_owner pg_autoctl "$@"; }

ensure_user() { gf_ensure_user "$PAF" pg-auto.sh; }

port_of() {
  case "$1" in
    a) echo "$PORT_A" ;; b) echo "$PORT_B" ;; monitor) echo "$PORT_M" ;;
    *) echo "pg-auto.sh: node is a, b or monitor" >&2; exit 2 ;;
  esac
}
data_of() { port_of "$1" >/dev/null && echo "$PAF/$1"; }
psql_node() {
  local n=$1; shift
  "$PGBIN/psql" -X -h "$SOCK" -p "$(port_of "$n")" -U gridflow "$@"
}
# keeper_pid NODE: the pid of the node's `pg_autoctl run`, if it runs.
keeper_pid() {
  local f=$PAF/$1.pid p
  [ -f "$f" ] || return 1
  p=$(cat "$f")
  kill -0 "$p" 2>/dev/null || return 1
  echo "$p"
}
# run_keeper NODE: `pg_autoctl run` for NODE in the background, in a session
# of its own (so that a Ctrl-C on the caller's terminal does not reach it),
# its log in var/paf/log/NODE.log.
run_keeper() {
  local n=$1
  keeper_pid "$n" >/dev/null && return 0
  # The pid of pg_autoctl itself (exec), not of runuser.
  if [ "$(id -u)" -eq 0 ]; then
    setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PAF/$n.pid" env XDG_CONFIG_HOME="$PAF/config" \
      XDG_DATA_HOME="$PAF/share" XDG_RUNTIME_DIR="$SOCK" PG_REGRESS_SOCK_DIR="$SOCK" PGHOST="$SOCK" \
      PG_CONFIG="$PGBIN/pg_config" PATH="$PGBIN:$PATH" \
      setpriv --reuid=gridflow --regid=gridflow --init-groups pg_autoctl run --pgdata "$PAF/$n" \
      >>"$PAF/log/$n.log" 2>&1 </dev/null &
  else
    setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PAF/$n.pid" env XDG_CONFIG_HOME="$PAF/config" \
      XDG_DATA_HOME="$PAF/share" XDG_RUNTIME_DIR="$SOCK" PG_REGRESS_SOCK_DIR="$SOCK" PGHOST="$SOCK" \
      PG_CONFIG="$PGBIN/pg_config" PATH="$PGBIN:$PATH" pg_autoctl run --pgdata "$PAF/$n" \
      >>"$PAF/log/$n.log" 2>&1 </dev/null &
  fi
}

wait_until() { # SECONDS DESCRIPTION COMMAND...
  local limit=$1 what=$2; shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      echo "pg-auto.sh: $what: not after $limit s (logs in $PAF/log/)" >&2
      return 1
    fi
    sleep 0.2
  done
}

# node_state NODE: the node's current state as the monitor sees it.
node_state() {
  psql_node monitor -d pg_auto_failover -tA -v node="$1" 2>/dev/null <<'SQL'
SELECT reportedstate FROM pgautofailover.node WHERE nodename = :'node'
SQL
}
state_is() { [ "$(node_state "$1")" = "$2" ]; }

cmd_init() {
  ensure_user
  mkdir -p "$PAF/log" "$SOCK" "$PAF/config" "$PAF/share"
  if [ "$(id -u)" -eq 0 ]; then chown gridflow "$PAF" "$PAF/log" "$SOCK" "$PAF/config" "$PAF/share"; fi
  if [ ! -f "$PAF/monitor/PG_VERSION" ]; then
    autoctl create monitor --pgdata "$PAF/monitor" --pgport "$PORT_M" --hostname 127.0.0.1 \
      --auth trust --no-ssl >>"$PAF/log/create.log" 2>&1
    # Loopback only (create monitor has no --listen).
    autoctl config set --pgdata "$PAF/monitor" postgresql.listen_addresses 127.0.0.1 >/dev/null
  fi
  run_keeper monitor
  wait_until 60 "the monitor to accept connections" psql_node monitor -d pg_auto_failover -c "SELECT 1"
  local n created
  for n in a b; do
    created=0
    if [ ! -f "$PAF/$n/PG_VERSION" ]; then
      # b clones a: a must be the primary (single) first.
      [ $n = b ] && wait_until 120 "node a to be the primary" state_is a single
      # --dbname: the database pg_autoctl creates on the first primary
      # (the standby gets it by replication).
      autoctl create postgres --pgdata "$PAF/$n" --pgport "$(port_of $n)" --name "$n" \
        --hostname 127.0.0.1 --listen 127.0.0.1 --username gridflow --dbname gridflow \
        --monitor "$MONITOR_URI" --auth trust --no-ssl >>"$PAF/log/create.log" 2>&1
      created=1
    fi
    run_keeper $n
    # The WAL settings of deploy/pg.sh (docs/operations.md, "WAL settings"),
    # once, on the first node made: b, and any node rebuilt from the
    # primary later, copies them with the data directory
    # (postgresql.auto.conf).
    if [ $n = a ] && [ $created = 1 ]; then
      wait_until 60 "node a to accept connections" psql_node a -d postgres -c "SELECT 1"
      psql_node a -d postgres -q -c "ALTER SYSTEM SET wal_compression = 'lz4'" \
        -c "ALTER SYSTEM SET backend_flush_after = '256kB'" -c "SELECT pg_reload_conf()" >/dev/null
    fi
  done
  # Either node may be the primary (after a failover, a restart keeps it).
  wait_until 120 "a primary and its synchronous standby" settled
}

settled() {
  local s
  s=$(psql_node monitor -d pg_auto_failover -tAc \
    "SELECT string_agg(reportedstate::text, ' ' ORDER BY reportedstate::text) FROM pgautofailover.node WHERE reportedstate = goalstate")
  # ...and the primary takes writes (the monitor's table may be from
  # before a restart).
  [ "$s" = "primary secondary" ] &&
    "$PGBIN/psql" -X -d "$(cmd_conninfo postgres)" -tAc "SELECT 1" >/dev/null 2>&1
}

cmd_start() {
  cmd_init
  local n
  for n in monitor a b; do run_keeper $n; done
  echo "pg-auto.sh: $(cmd_primary) is the primary; services connect with: $(cmd_conninfo gridflow)"
}

# migrate: gridctl db migrate on the primary (tables, functions, the gf_*
# roles), then the gridflow_<service> login users.
cmd_migrate() {
  "${GF_BIN:-$ROOT/bin}/gridctl" --db "$(cmd_conninfo gridflow)" db migrate
  cmd_users
}

# stop: the monitor first, so that it sees no node go down and starts no
# failover; then the standby and the primary.
cmd_stop() {
  local n p
  for n in monitor b a; do
    p=$(keeper_pid $n) || continue
    kill -TERM "$p" 2>/dev/null || true
    wait_until 60 "keeper $n to stop" bash -c "! kill -0 $p"
  done
  for n in b a monitor; do
    wait_until 60 "keeper $n to stop" bash -c "! kill -0 \$(cat '$PAF/$n.pid' 2>/dev/null) 2>/dev/null" || true
  done
}

# destroy: each keeper runs in a session and process group of its own
# (run_keeper): kill the whole group (woken first, in case a test froze
# it).  PostgreSQL's processes are not in it (each calls setsid), and the
# monitor's health-check worker outlives its postmaster's SIGKILL and keeps
# the logger's pipe open: so every process still working in a node's
# directory is killed too.  Then remove var/paf.
cmd_destroy() {
  local n p d
  for n in b a monitor; do
    [ -f "$PAF/$n.pid" ] || continue
    p=$(cat "$PAF/$n.pid")
    kill -CONT -- "-$p" 2>/dev/null || true
    kill -KILL -- "-$p" 2>/dev/null || true
  done
  for d in /proc/[0-9]*; do
    case "$(readlink "$d/cwd" 2>/dev/null)" in
      "$PAF"/*) kill -CONT "${d#/proc/}" 2>/dev/null && kill -KILL "${d#/proc/}" 2>/dev/null || true ;;
    esac
  done
  sleep 0.2
  rm -rf "$PAF"
}

cmd_primary() {
  psql_node monitor -d pg_auto_failover -tAc \
    "SELECT nodename FROM pgautofailover.node WHERE reportedstate IN ('single','primary','wait_primary') AND goalstate IN ('single','primary','wait_primary')"
}

# Every node, in order; libpq tries each and keeps the first that accepts
# writes.  Keepalives and tcp_user_timeout notice a dead peer in seconds.
cmd_conninfo() {
  echo "host=127.0.0.1,127.0.0.1 port=$PORT_A,$PORT_B user=gridflow dbname=${1:-gridflow}" \
    "target_session_attrs=read-write connect_timeout=2" \
    "keepalives_idle=2 keepalives_interval=1 keepalives_count=2 tcp_user_timeout=5000"
}

cmd_users() {
  PGOPTIONS="-c client_min_messages=warning" "$PGBIN/psql" -X -q -d "$(cmd_conninfo postgres)" \
    -v ON_ERROR_STOP=1 -c "$(gf_users_sql)" >/dev/null
}

# tune KEY=VALUE...: the monitor's pgautofailover.* settings (ALTER SYSTEM,
# then a reload), e.g. health_check_period=1000.
cmd_tune() {
  local kv
  for kv in "$@"; do
    if ! [[ $kv =~ ^[a-z_]+=[0-9]+$ ]]; then
      echo "pg-auto.sh: tune takes KEY=MILLISECONDS or KEY=COUNT (e.g. health_check_period=1000), not '$kv'" >&2
      exit 2
    fi
    psql_node monitor -d pg_auto_failover -q -v ON_ERROR_STOP=1 \
      -c "ALTER SYSTEM SET pgautofailover.${kv%%=*} = '${kv#*=}'" >/dev/null
  done
  psql_node monitor -d pg_auto_failover -q -c "SELECT pg_reload_conf()" >/dev/null
}

case "${1:-}" in
  init | start) cmd_start ;;
  stop) cmd_stop ;;
  destroy) cmd_destroy ;;
  status) autoctl show state --pgdata "$PAF/monitor" ;;
  conninfo) shift; cmd_conninfo "$@" ;;
  users) cmd_users ;;
  migrate) cmd_migrate ;;
  tune) shift; cmd_tune "$@" ;;
  primary) cmd_primary ;;
  pid) head -1 "$(data_of "$2")/postmaster.pid" ;;
  keeper-pid) keeper_pid "$2" ;;
  start-node) run_keeper "$2" ;;
  autoctl) shift; autoctl "$@" ;;
  psql) shift; n=$1; shift; psql_node "$n" "$@" ;;
  *) echo "usage: $0 start|stop|destroy|status|conninfo [db]|users|migrate|tune K=V...|primary|pid N|keeper-pid N|start-node N|autoctl ARGS|psql N [args]" >&2; exit 2 ;;
esac
