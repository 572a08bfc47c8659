# tests/multihost/lib.sh — what the multihost tests share (sourced after
# tests/lib/common.sh, with NS, NET, VAR, PGPORT, PGBIN and ART set): a
# "switch" namespace with a bridge, one namespace per host joined to it by a
# veth pair, and a PostgreSQL cluster in the namespace db reached over TCP.

source "$ROOT/deploy/lib.sh"
as_pg() { runuser -u gridflow -- "$@"; }

# start HOST NAME [ARGS...]: bin/gf-NAME in HOST's namespace, its metrics on
# MPORT[NAME] there (the test's own map), its pid in PIDS[NAME@HOST].
start() {
  local host=$1 name=$2
  shift 2
  ip netns exec "$NS-$host" "$BIN/gf-$name" --metrics "${MPORT[$name]}" --status 1000 "$@" \
    >>"$ART/$name@$host.log" 2>&1 &
  PIDS[$name@$host]=$!
}

# mh_skip_without_netns: "# skip" and exit 0 where namespaces cannot be made
# (not root, or no `ip netns`).
mh_skip_without_netns() {
  local probe=${NS}probe
  if [ "$(id -u)" -ne 0 ] || ! ip netns add "$probe" 2>/dev/null; then
    echo "# skip $TEST_NAME: no network namespaces (needs root and ip netns)"
    exit 0
  fi
  ip netns del "$probe"
}

# mh_network HOST...: namespace $NS-HOST for each, at $NET.1, $NET.2 ... in
# the order given (ADDR[HOST]), on the bridge of $NS-sw.  Non-zero on the
# first step that fails.
mh_network() {
  local n i=0
  declare -gA ADDR=()
  ip netns add "$NS-sw" && ip -n "$NS-sw" link add br0 type bridge &&
    ip -n "$NS-sw" link set br0 up && ip -n "$NS-sw" link set lo up || return 1
  for n in "$@"; do
    i=$((i + 1))
    ADDR[$n]=$NET.$i
    ip netns add "$NS-$n" &&
      ip -n "$NS-sw" link add "p-$n" type veth peer name eth0 netns "$NS-$n" &&
      ip -n "$NS-sw" link set "p-$n" master br0 up &&
      ip -n "$NS-$n" addr add "${ADDR[$n]}/24" dev eth0 &&
      ip -n "$NS-$n" link set eth0 up && ip -n "$NS-$n" link set lo up || return 1
  done
}

# mh_cleanup HOST...: PostgreSQL stopped (its log kept in ART), the
# namespaces and VAR gone.
mh_cleanup() {
  local n
  cp "$VAR/postgresql.log" "$ART/" 2>/dev/null
  [ -f "$VAR/data/PG_VERSION" ] && as_pg "$PGBIN/pg_ctl" -D "$VAR/data" -m immediate -w stop >/dev/null 2>&1
  for n in "$@" sw; do ip netns del "$NS-$n" 2>/dev/null; done
  rm -rf "$VAR"
}

# mh_postgres MAX_CONNECTIONS [SETTING...]: a cluster under VAR owned by
# gridflow, listening on ADDR[db] only, started in the namespace db, with
# the extra postgresql.conf lines given.  Non-zero (after a not ok) when it
# cannot be made.
mh_postgres() {
  local max=$1 setting
  shift
  rm -rf "$VAR" && mkdir -p "$VAR/run"
  gf_ensure_user "$VAR" "$TEST_NAME"
  chown gridflow "$VAR" "$VAR/run"
  as_pg "$PGBIN/initdb" -D "$VAR/data" -N -U gridflow --auth=trust -E UTF8 --locale=C.UTF-8 >"$ART/initdb.log" 2>&1 ||
    { not_ok "initdb (see initdb.log)"; return 1; }
  {
    cat <<CONF
listen_addresses = '${ADDR[db]}'
unix_socket_directories = '$VAR/run'
port = $PGPORT
max_connections = $max
shared_buffers = 64MB
# deploy/pg.sh's WAL settings (docs/operations.md, "WAL settings")
wal_compression = lz4
backend_flush_after = 256kB
# A worker cut off in the middle of a transaction holds the consumer's
# checkpoint row lock until its session ends; end such sessions soon.
idle_in_transaction_session_timeout = 5s
tcp_keepalives_idle = 2
tcp_keepalives_interval = 1
tcp_keepalives_count = 2
tcp_user_timeout = 5000
log_min_messages = warning
CONF
    for setting in "$@"; do echo "$setting"; done
  } >>"$VAR/data/postgresql.conf"
  echo "host all all $NET.0/24 trust" >>"$VAR/data/pg_hba.conf"
  ip netns exec "$NS-db" runuser -u gridflow -- "$PGBIN/pg_ctl" -D "$VAR/data" -l "$VAR/postgresql.log" -w -t 60 start \
    >/dev/null || { not_ok "PostgreSQL starts in the db namespace"; return 1; }
}
