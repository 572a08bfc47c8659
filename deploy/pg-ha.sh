#!/usr/bin/env bash
# A PostgreSQL 15 primary and a synchronous standby on this machine, for the
# high-availability test and demos (docs/operations.md, "PostgreSQL high
# availability").  Two clusters under var/ha/: node `a` and node `b`, each
# listening on 127.0.0.1 and a Unix socket.  Node a starts as the primary,
# node b is a streaming standby made with `pg_basebackup -R`, named in the
# primary's synchronous_standby_names, so a COMMIT returns only once the
# standby has its WAL on disk.
#   deploy/pg-ha.sh init|start|stop|destroy|status
#   deploy/pg-ha.sh stop-node a|b [fast|immediate]
#   deploy/pg-ha.sh promote a|b     promote a standby; it then runs without a
#                                   synchronous standby until one is rebuilt
#   deploy/pg-ha.sh conninfo [db]   the multi-host libpq string the services use
#   deploy/pg-ha.sh psql a|b [args]
# Environment: GF_VAR (default <repo>/var), GF_PGPORT_A, GF_PGPORT_B (default
# GF_PGPORT+1 and +2; GF_PGPORT defaults to 55432).
# As root the clusters run as the system user `gridflow`, like deploy/pg.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/deploy/lib.sh"
VAR=${GF_VAR:-$ROOT/var}
BASE=${GF_PGPORT:-55432}
PORT_A=${GF_PGPORT_A:-$((BASE + 1))}
PORT_B=${GF_PGPORT_B:-$((BASE + 2))}
PGBIN=${GF_PGBIN:-/usr/lib/postgresql/15/bin}
HA=$VAR/ha
SOCK=$HA/run
if [ $((${#SOCK} + 20)) -gt 107 ]; then
  SOCK=/tmp/gridflow-ha-$(printf '%s' "$VAR" | md5sum | cut -c1-12)
fi

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u gridflow -- "$@"; else "$@"; fi
}

ensure_user() { gf_ensure_user "$HA" pg-ha.sh; }

port_of() {
  case "$1" in a) echo "$PORT_A" ;; b) echo "$PORT_B" ;; *) echo "pg-ha.sh: node is a or b" >&2; exit 2 ;; esac
}
data_of() { port_of "$1" >/dev/null && echo "$HA/$1"; }
running() { as_owner "$PGBIN/pg_ctl" -D "$(data_of "$1")" status >/dev/null 2>&1; }
psql_node() {
  local n=$1; shift
  "$PGBIN/psql" -X -h "$SOCK" -p "$(port_of "$n")" -U gridflow "$@"
}

cmd_init() {
  ensure_user
  mkdir -p "$HA" "$SOCK" "$VAR/log"
  if [ "$(id -u)" -eq 0 ]; then chown gridflow "$HA" "$SOCK" "$VAR/log"; fi
  [ -f "$HA/a/PG_VERSION" ] && [ -f "$HA/b/PG_VERSION" ] && return 0
  rm -rf "$HA/a" "$HA/b"
  as_owner "$PGBIN/initdb" -D "$HA/a" -N -U gridflow --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  # trust: a test cluster on loopback only.  Production uses scram-sha-256
  # and a replication role (docs/operations.md).
  # -N / --no-sync: a throw-away cluster need not wait for the disk when made.
  cat >>"$HA/a/postgresql.conf" <<CONF
# gridflow HA test cluster, node a
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SOCK'
port = $PORT_A
wal_level = replica
max_wal_senders = 5
hot_standby = on
wal_log_hints = on
synchronous_commit = on
synchronous_standby_names = 'FIRST 1 (b)'
max_connections = 100
shared_buffers = 64MB
# deploy/pg.sh's WAL settings (docs/operations.md, "WAL settings")
wal_compression = lz4
backend_flush_after = 256kB
idle_in_transaction_session_timeout = 10s
log_min_messages = warning
CONF
  as_owner "$PGBIN/pg_ctl" -D "$HA/a" -l "$VAR/log/pg-ha-a.log" -w -t 60 start >/dev/null
  # The standby: a base backup of a, with standby.signal and primary_conninfo
  # (application_name=b, the name synchronous_standby_names waits for).
  as_owner "$PGBIN/pg_basebackup" -D "$HA/b" -R -X stream -c fast --no-sync \
    -d "host=$SOCK port=$PORT_A user=gridflow application_name=b"
  # Its own port; and no synchronous standby of its own: once promoted it
  # must not wait for a standby that does not exist yet.
  cat >>"$HA/b/postgresql.conf" <<CONF
# gridflow HA test cluster, node b (standby of a)
port = $PORT_B
synchronous_standby_names = ''
CONF
  as_owner "$PGBIN/pg_ctl" -D "$HA/b" -l "$VAR/log/pg-ha-b.log" -w -t 60 start >/dev/null
}

cmd_start() {
  cmd_init
  local n
  for n in a b; do
    running $n || as_owner "$PGBIN/pg_ctl" -D "$HA/$n" -l "$VAR/log/pg-ha-$n.log" -w -t 60 start >/dev/null
  done
}

cmd_stop_node() {
  local n=$1 mode=${2:-fast}
  if running "$n"; then as_owner "$PGBIN/pg_ctl" -D "$(data_of "$n")" -m "$mode" -w stop >/dev/null; fi
}

cmd_promote() {
  local n=$1
  as_owner "$PGBIN/pg_ctl" -D "$(data_of "$n")" -w -t 60 promote >/dev/null
}

cmd_status() {
  local n
  for n in a b; do
    if [ -f "$HA/$n/PG_VERSION" ] && running $n; then
      echo "$n: port $(port_of $n) $(psql_node $n -d postgres -tAc \
        "SELECT CASE WHEN pg_is_in_recovery() THEN 'standby' ELSE 'primary' END")"
    else
      echo "$n: stopped"
    fi
  done
}

# Every node, in order; libpq tries each and keeps the first that accepts
# writes.  Keepalives and tcp_user_timeout make a dead peer noticed in seconds.
cmd_conninfo() {
  echo "host=127.0.0.1,127.0.0.1 port=$PORT_A,$PORT_B user=gridflow dbname=${1:-gridflow}" \
    "target_session_attrs=read-write connect_timeout=3" \
    "keepalives_idle=2 keepalives_interval=1 keepalives_count=2 tcp_user_timeout=5000"
}

case "${1:-}" in
  init) cmd_init ;;
  start) cmd_start ;;
  stop) cmd_stop_node a; cmd_stop_node b ;;
  destroy) cmd_stop_node a immediate || true; cmd_stop_node b immediate || true; rm -rf "$HA" ;;
  stop-node) shift; cmd_stop_node "$@" ;;
  promote) shift; cmd_promote "$1" ;;
  status) cmd_status ;;
  conninfo) shift; cmd_conninfo "$@" ;;
  psql) shift; n=$1; shift; psql_node "$n" "$@" ;;
  *) echo "usage: $0 init|start|stop|destroy|status|stop-node a|b [mode]|promote a|b|conninfo [db]|psql a|b [args]" >&2; exit 2 ;;
esac
