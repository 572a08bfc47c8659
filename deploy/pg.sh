#!/usr/bin/env bash
# A private PostgreSQL 15 cluster under var/ for development, tests and demos.
#   deploy/pg.sh init|start|stop|status|conninfo|users|logical|psql [args]
# initdb refuses to run as root, so as root the cluster runs as the system
# user `gridflow` (created if missing).  Listens on a Unix socket only.
# Environment: GF_VAR (default <repo>/var), GF_PGPORT (default 55432);
# read by init (a new cluster's postgresql.conf):
#   GF_PG_WAL_LEVEL      wal_level, default logical, so that a city can
#                        subscribe to this district (deploy/city.sh) without
#                        a restart; costs a little more WAL (catalog and
#                        old-key details for logical decoding).  `replica`
#                        turns it off.
#   GF_PG_SLOT_KEEP      max_slot_wal_keep_size, default 4GB: WAL kept for a
#                        city that is away; past it the city's slot is
#                        invalidated (the district's disk never fills for
#                        it) and the district must be added again.
#   GF_PG_COMMIT_TS      track_commit_timestamp, default off (deploy/city.sh
#                        turns it on in the city cluster: its freshness line).
# The WAL settings (docs/operations.md, "WAL settings", with the figures):
#   synchronous_commit on and fsync on: a complaint is acknowledged after its
#     COMMIT is on disk (the guarantee; never off);
#   wal_compression lz4: a page's first change after a checkpoint writes the
#     whole page; at a sub-district's pace those images are about 80 % of
#     the WAL, and lz4 halves it (the standby's link carries less too);
#   max_wal_size, checkpoint_timeout, wal_buffers, commit_delay: PostgreSQL's
#     defaults, chosen (the same section says why).
# `logical` sets wal_level = logical in an existing cluster (ALTER SYSTEM)
# and restarts it when the running value differs.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/deploy/lib.sh"
VAR=${GF_VAR:-$ROOT/var}
PORT=${GF_PGPORT:-55432}
PGBIN=${GF_PGBIN:-/usr/lib/postgresql/15/bin}
DATA=$VAR/pg/data
LOG=$VAR/log/postgresql.log
SOCK=$VAR/run
# Unix socket paths are limited to 107 bytes.
if [ $(( ${#SOCK} + 20 )) -gt 107 ]; then
  SOCK=/tmp/gridflow-$(printf '%s' "$VAR" | md5sum | cut -c1-12)
fi

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u gridflow -- "$@"; else "$@"; fi
}

ensure_user() {
  mkdir -p "$VAR"
  gf_ensure_user "$VAR" pg.sh
}

cmd_init() {
  ensure_user
  mkdir -p "$VAR/pg" "$VAR/log" "$SOCK"
  if [ "$(id -u)" -eq 0 ]; then chown gridflow "$VAR/pg" "$VAR/log" "$SOCK"; fi
  if [ -f "$DATA/PG_VERSION" ]; then return 0; fi
  as_owner "$PGBIN/initdb" -D "$DATA" -U gridflow --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  cat >> "$DATA/postgresql.conf" <<CONF
# gridflow private cluster
listen_addresses = ''
unix_socket_directories = '$SOCK'
port = $PORT
synchronous_commit = on
fsync = on
# full-page images compressed: half the WAL at a sub-district's pace
wal_compression = lz4
# data pages a backend writes itself go to the disk soon, not in the
# kernel's burst 30 s later, which every WAL fsync (every COMMIT) queued
# behind: 0.5-0.8 s stalls of the acks (docs/operations.md, WAL settings)
backend_flush_after = 256kB
max_connections = 200
shared_buffers = 256MB
log_min_messages = warning
# short statements estimated expensive would be JIT-compiled for tens of ms
# each (the services also set it per session: common/gf_db.c)
jit = off
wal_level = ${GF_PG_WAL_LEVEL:-logical}
max_slot_wal_keep_size = ${GF_PG_SLOT_KEEP:-4GB}
track_commit_timestamp = ${GF_PG_COMMIT_TS:-off}
CONF
}

running() { as_owner "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

cmd_start() {
  cmd_init
  if ! running; then
    as_owner "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null
  fi
  if ! "$PGBIN/psql" -h "$SOCK" -p "$PORT" -U gridflow -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname='gridflow'" | grep -q 1; then
    "$PGBIN/createdb" -h "$SOCK" -p "$PORT" -U gridflow gridflow
  fi
}

cmd_stop() {
  [ -f "$DATA/PG_VERSION" ] || return 0
  if running; then as_owner "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null; fi
}

cmd_status() {
  if [ -f "$DATA/PG_VERSION" ] && running; then
    echo "running: $(cmd_conninfo)"
  else
    echo "stopped"; return 3
  fi
}

# logical: wal_level = logical in an existing cluster (restarted if needed).
cmd_logical() {
  cmd_start
  local psql=("$PGBIN/psql" -X -q -tA -h "$SOCK" -p "$PORT" -U gridflow -d postgres -v ON_ERROR_STOP=1)
  [ "$("${psql[@]}" -c "SHOW wal_level")" = logical ] && return 0
  "${psql[@]}" -c "ALTER SYSTEM SET wal_level = logical" >/dev/null
  echo "pg.sh: wal_level = logical: restarting the cluster" >&2
  cmd_stop; cmd_start
}

cmd_conninfo() { echo "host=$SOCK port=$PORT user=gridflow dbname=${1:-gridflow}"; }

# users: one LOGIN user per service, gridflow_<service>, member of its
# NOLOGIN role gf_<service> (made by `gridctl db migrate`, grants.sql; roles
# are cluster-wide), so that each service connects as itself and holds only
# its role's rights (docs/security.md).  No password: the private cluster
# trusts its Unix socket.  Idempotent; concurrent runs are harmless.
# gridflow_city (in gf_city, with REPLICATION: a logical walsender needs it)
# is the user a city's subscription connects as (deploy/city.sh).
cmd_users() {
  PGOPTIONS="-c client_min_messages=warning" "$PGBIN/psql" -X -q -h "$SOCK" -p "$PORT" -U gridflow \
    -d postgres -v ON_ERROR_STOP=1 -c "$(gf_users_sql)" >/dev/null
}

case "${1:-}" in
  init) cmd_init ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart) cmd_stop; cmd_start ;;
  status) cmd_status ;;
  conninfo) shift; cmd_conninfo "$@" ;;
  users) cmd_users ;;
  logical) cmd_logical ;;
  psql) shift; exec "$PGBIN/psql" -h "$SOCK" -p "$PORT" -U gridflow "$@" ;;
  sockdir) echo "$SOCK" ;;
  *) echo "usage: $0 init|start|stop|restart|status|conninfo [db]|users|logical|psql [args]|sockdir" >&2; exit 2 ;;
esac
