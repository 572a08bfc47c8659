#!/usr/bin/env bash
# A city above the districts (issue 18; docs/operations.md "Adding a
# district to a city"): each district keeps its own gridflow and PostgreSQL
# and publishes what the monthly report reads (publication gf_city); the city
# cluster holds one database per district, gridflow_<name>, that subscribes
# to it with PostgreSQL's built-in logical replication, and its own database
# gridflow where `gridctl city status|report` adds the districts up.
#
#   deploy/city.sh init                      the city cluster: commit
#                                            timestamps on, database gridflow
#                                            migrated, service users
#   deploy/city.sh add-district NAME DISTRICT_CONNINFO [SUBSCRIPTION_CONNINFO]
#   deploy/city.sh remove-district NAME
#   deploy/city.sh list
#
# The city cluster is deploy/pg.sh's (GF_VAR, GF_PGPORT select it), or the
# one GF_CITY_ADMIN reaches (a conninfo of a superuser, without dbname).
# DISTRICT_CONNINFO reaches the district's gridflow database as its owner
# (the publication's tables must be its own); SUBSCRIPTION_CONNINFO is what
# the city's subscription connects with, by default DISTRICT_CONNINFO with
# user=gridflow_city (deploy/pg.sh users; LOGIN REPLICATION, in gf_city: it
# reads only the published columns).  The district needs wal_level = logical
# (deploy/pg.sh's default; `deploy/pg.sh logical` for an older cluster).
# NAME: lower case letters, digits and _, starting with a letter.
# GF_GRIDCTL (default <repo>/bin/gridctl) migrates the databases;
# GF_CITY_SYNC_TIMEOUT (default 300 s) bounds the wait for the first copy.
# Runs as any OS user that may connect (as root, deploy/pg.sh runs the
# private cluster as user gridflow).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PG=$ROOT/deploy/pg.sh
PGBIN=${GF_PGBIN:-/usr/lib/postgresql/15/bin}
GRIDCTL=${GF_GRIDCTL:-$ROOT/bin/gridctl}
SYNC_TIMEOUT=${GF_CITY_SYNC_TIMEOUT:-300}

die() { echo "city.sh: $*" >&2; exit 1; }

# The city cluster's conninfo for database $1.
city_conn() {
  if [ -n "${GF_CITY_ADMIN:-}" ]; then echo "$GF_CITY_ADMIN dbname=$1"; else "$PG" conninfo "$1"; fi
}
# psql on a conninfo, quiet, stopping at the first error; more arguments follow.
q() {
  local conn=$1; shift
  PGOPTIONS="-c client_min_messages=warning" "$PGBIN/psql" -X -q -tA -v ON_ERROR_STOP=1 -d "$conn" "$@"
}

valid_name() { [[ $1 =~ ^[a-z][a-z0-9_]{0,30}$ ]] || die "bad district name '$1' (a-z, 0-9, _; 31 at most)"; }

cmd_init() {
  [ -n "${GF_CITY_ADMIN:-}" ] || GF_PG_COMMIT_TS=on "$PG" start
  local admin; admin=$(city_conn postgres)
  if [ "$(q "$admin" -c "SHOW track_commit_timestamp")" != on ]; then
    q "$admin" -c "ALTER SYSTEM SET track_commit_timestamp = on" >/dev/null
    if [ -n "${GF_CITY_ADMIN:-}" ]; then
      echo "city.sh: track_commit_timestamp set: restart the city cluster for the freshness line" >&2
    else
      "$PG" restart
    fi
  fi
  if [ "$(q "$admin" -c "SELECT count(*) FROM pg_database WHERE datname = 'gridflow'")" = 0 ]; then
    q "$admin" -c "CREATE DATABASE gridflow" >/dev/null
  fi
  GF_DB=$(city_conn gridflow) "$GRIDCTL" db migrate >/dev/null
  [ -n "${GF_CITY_ADMIN:-}" ] || "$PG" users
  echo "city: ready ($(city_conn gridflow))"
}

cmd_add() {
  [ $# -ge 2 ] || die "usage: city.sh add-district NAME DISTRICT_CONNINFO [SUBSCRIPTION_CONNINFO]"
  local name=$1 district=$2 sub=${3:-"$2 user=gridflow_city"}
  valid_name "$name"
  local db=gridflow_$name subname=gf_city_$name admin replica
  admin=$(city_conn postgres)
  replica=$(city_conn "$db")
  # The district: logical WAL, the replication user, the publication.
  [ "$(q "$district" -c "SHOW wal_level")" = logical ] ||
    die "district $name: wal_level is not logical (deploy/pg.sh logical, or set it and restart)"
  [ "$(q "$district" -c "SELECT count(*) FROM pg_roles WHERE rolname = 'gridflow_city' AND rolreplication AND rolcanlogin")" = 1 ] ||
    die "district $name: no LOGIN REPLICATION user gridflow_city (deploy/pg.sh users)"
  q "$district" -c "SELECT gf_city_publish ()" >/dev/null
  # The city: its replica database, migrated and emptied, then subscribed.
  [ "$(q "$admin" -v db="$db" <<<"SELECT count(*) FROM pg_database WHERE datname = :'db'")" = 0 ] ||
    die "district $name is already in the city (database $db exists; city.sh remove-district $name first)"
  q "$admin" -v db="$db" <<<'CREATE DATABASE :"db"' >/dev/null
  GF_DB=$replica "$GRIDCTL" db migrate >/dev/null
  q "$replica" -v sub="$subname" -v conn="$sub" >/dev/null <<'SQL'
SELECT gf_city_prepare_replica ();
CREATE SUBSCRIPTION :"sub" CONNECTION :'conn' PUBLICATION gf_city;
SQL
  # The first copy: every table ready (r) or synchronised (s).
  local deadline=$((SECONDS + SYNC_TIMEOUT)) pending
  while :; do
    pending=$(q "$replica" -v sub="$subname" <<'SQL'
SELECT count(*) FROM pg_subscription_rel r JOIN pg_subscription s ON s.oid = r.srsubid
 WHERE s.subname = :'sub' AND r.srsubstate NOT IN ('r', 's')
SQL
)
    [ "$pending" = 0 ] && break
    [ $SECONDS -lt $deadline ] || die "district $name: $pending tables still copying after ${SYNC_TIMEOUT}s (it goes on; see gridctl city status)"
    sleep 0.2
  done
  echo "city: district $name added (database $db, subscription $subname)"
}

cmd_remove() {
  [ $# -eq 1 ] || die "usage: city.sh remove-district NAME"
  valid_name "$1"
  local db=gridflow_$1 subname=gf_city_$1 admin replica
  admin=$(city_conn postgres)
  replica=$(city_conn "$db")
  [ "$(q "$admin" -v db="$db" <<<"SELECT count(*) FROM pg_database WHERE datname = :'db'")" = 1 ] ||
    die "no district $1 in the city"
  # DROP SUBSCRIPTION also drops the slot on the district; when the district
  # cannot be reached, the slot is left there (and keeps WAL, up to
  # max_slot_wal_keep_size): say how to drop it.
  if ! q "$replica" -v sub="$subname" <<<'DROP SUBSCRIPTION IF EXISTS :"sub"' >/dev/null 2>&1; then
    q "$replica" -v sub="$subname" >/dev/null <<'SQL'
ALTER SUBSCRIPTION :"sub" DISABLE;
ALTER SUBSCRIPTION :"sub" SET (slot_name = NONE);
DROP SUBSCRIPTION :"sub";
SQL
    echo "city.sh: district $1 unreachable: on it, run SELECT pg_drop_replication_slot('$subname')" >&2
  fi
  q "$admin" -v db="$db" <<<'DROP DATABASE :"db" WITH (FORCE)' >/dev/null
  echo "city: district $1 removed"
}

cmd_list() { q "$(city_conn gridflow)" -F ' ' -c "SELECT district, dbname FROM gf_city_districts ()"; }

case "${1:-}" in
  init) cmd_init ;;
  add-district) shift; cmd_add "$@" ;;
  remove-district) shift; cmd_remove "$@" ;;
  list) cmd_list ;;
  *) echo "usage: $0 init|add-district NAME DISTRICT_CONNINFO [SUBSCRIPTION_CONNINFO]|remove-district NAME|list" >&2; exit 2 ;;
esac
