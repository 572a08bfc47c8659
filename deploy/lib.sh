# deploy/lib.sh — what deploy/pg.sh, pg-ha.sh and pg-auto.sh share (sourced,
# not run): the cluster's OS user and the services' LOGIN roles.

# gf_ensure_user DIR WHO: as root, the system user gridflow (it owns every
# cluster) and traverse (o+x) on DIR's ancestors that lack it, so that
# gridflow can reach DIR.  WHO names the script in what it says.  Not root:
# nothing (the clusters run as the calling user).
gf_ensure_user() {
  [ "$(id -u)" -eq 0 ] || return 0
  id gridflow >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin gridflow
  local d=$1
  while [ "$d" != "/" ]; do
    d=$(dirname "$d")
    if [ -d "$d" ] && ! runuser -u gridflow -- test -x "$d"; then
      echo "$2: granting o+x on $d so that user gridflow can reach $1" >&2
      chmod o+x "$d"
    fi
  done
}

# The services' LOGIN users, each a member of its role (grants.sql), and
# the city's replication user (city.sql): docs/security.md, section 3.
GF_SERVICES="intake relay router notifier escalator gateway ctl"

# gf_users_sql: one DO block that creates the users that do not exist yet.
gf_users_sql() {
  local s sql="DO \$\$ BEGIN"
  for s in $GF_SERVICES; do
    sql="$sql BEGIN CREATE ROLE gridflow_$s LOGIN IN ROLE gf_$s;"
    sql="$sql EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;"
  done
  sql="$sql BEGIN CREATE ROLE gridflow_city LOGIN REPLICATION IN ROLE gf_city;"
  sql="$sql EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;"
  echo "$sql END \$\$"
}
