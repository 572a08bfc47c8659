#!/usr/bin/env bash
# Issue 8, several hosts: the stack across network namespaces on one machine.
#   db   10.77.0.1  PostgreSQL (its own cluster under var/mh/, TCP)
#   hub  10.77.0.2  gf-relay, gf-intake, gf-hotline (the feed)
#   w1   10.77.0.3  gf-router, gf-notifier
#   w2   10.77.0.4  gf-router, gf-notifier
# joined by veth pairs to a bridge in a fifth namespace (the "switch"); no
# address outside the namespaces.  In the middle of a hotline feed w1's link
# is cut (its switch port set down) for a while, then restored: the other
# instance carries on during the cut, and at the end every case is routed
# once, notified once, and the event log is dense.
# Needs root and `ip netns` (prints "# skip" and exits 0 without them).
# Output: TAP lines; logs in tests/artifacts/test_multihost/.
#   tests/multihost/test_multihost.sh        (make check-multihost)
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/lib.sh"
VAR=$ROOT/var/mh
PGBIN=${GF_PGBIN:-/usr/lib/postgresql/15/bin}
PGPORT=5432 # inside the db namespace: no clash with the machine's ports
NS=gfmh$$   # namespace prefix, unique per run
NET=10.77.0
CUT_S=${GF_MH_CUT_S:-15}

mh_skip_without_netns

rm -rf "$ART" && mkdir -p "$ART"


cleanup() {
  [ -n "${FEED:-}" ] && kill "$FEED" 2>/dev/null && wait "$FEED" 2>/dev/null
  [ ${#PIDS[@]} -eq 0 ] || stop_all 6 # after a failure: the services are still running
  mh_cleanup db hub w1 w2
}
trap cleanup EXIT

# ---- the network ---------------------------------------------------------
mh_network db hub w1 w2 || { not_ok "the network namespaces"; exit 1; }
check "no gridflow address outside the namespaces" "" "$(ip -o addr show | grep -F " $NET." || true)"

# ---- PostgreSQL on db ----------------------------------------------------
mh_postgres 60 || exit 1
# The test itself reads the database over the Unix socket (a path, shared by
# every namespace); the services use TCP across the bridge.
SQL_DB="host=$VAR/run port=$PGPORT user=gridflow dbname=gfmh"
"$PGBIN/createdb" -h "$VAR/run" -p $PGPORT -U gridflow gfmh
# libpq keepalives and tcp_user_timeout: a cut link breaks the connection
# within seconds instead of the kernel's minutes.
export GF_DB="host=${ADDR[db]} port=$PGPORT user=gridflow dbname=gfmh connect_timeout=3
  keepalives=1 keepalives_idle=2 keepalives_interval=1 keepalives_count=2 tcp_user_timeout=5000"
ip netns exec "$NS-hub" "$BIN/gridctl" db migrate >"$ART/migrate.log" 2>&1 || { not_ok "migrate over TCP from hub"; exit 1; }
ip netns exec "$NS-hub" "$BIN/gridctl" grids import "$SAMPLE" >>"$ART/migrate.log" 2>&1 \
  || { not_ok "grids import"; exit 1; }
ok "PostgreSQL on db, reached over TCP from hub ($SECONDS s)"
# The intake and the relay listen on the bridge, not on loopback: CurveZMQ,
# with their own certificates, one adapter identity for the feed and one
# stream identity each for the routers and notifiers (docs/security.md).
export GF_CURVE=on
CERTS=$ART/certs
mkdir -p "$CERTS/clients"
ip netns exec "$NS-hub" "$BIN/gridctl" cert server "$CERTS/intake.cert" >>"$ART/migrate.log" 2>&1 \
  && ip netns exec "$NS-hub" "$BIN/gridctl" --certs "$CERTS/clients" cert new mh-hotline --kind adapter \
       --grid QNL --sources hotline --out "$CERTS/hotline.cert" >>"$ART/migrate.log" 2>&1 \
  && ip netns exec "$NS-hub" "$BIN/gridctl" cert server "$CERTS/relay.cert" >>"$ART/migrate.log" 2>&1 \
  && for s in router notifier; do
       ip netns exec "$NS-hub" "$BIN/gridctl" --certs "$CERTS/clients" cert new mh-$s --kind subscriber \
         --grid QNL --out "$CERTS/$s.cert" >>"$ART/migrate.log" 2>&1 || { not_ok "CurveZMQ certificates"; exit 1; }
     done \
  || { not_ok "CurveZMQ certificates"; exit 1; }
# reaches HOST ADDR PORT: a TCP connection from HOST's namespace succeeds.
reaches() { ip netns exec "$NS-$1" timeout 3 bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null; }
if reaches w1 "${ADDR[db]}" $PGPORT && reaches w2 "${ADDR[db]}" $PGPORT; then
  ok "w1 and w2 reach PostgreSQL on db across the bridge"
else
  not_ok "the worker hosts cannot reach db"; exit 1
fi

# ---- the services ----------------------------------------------------------
export GF_INTAKE=tcp://${ADDR[hub]}:22400 GF_PUB=tcp://${ADDR[hub]}:22401 GF_REPLAY=tcp://${ADDR[hub]}:22402
export GF_APP=tcp://127.0.0.1:22409 GF_ROOT=QNL
unset GF_SMS_URL GF_SMS_TOKEN GF_SMTP_URL
declare -A MPORT=([relay]=22403 [intake]=22404 [router]=22405 [notifier]=22406)
# health_on HOST NAME CODE: NAME's /healthz, asked inside HOST's namespace, answers CODE.
health_on() { local -a CURL=(ip netns exec "$NS-$1" curl); health_is "${MPORT[$2]}" "$3"; }
start hub relay --cert "$CERTS/relay.cert" --certs "$CERTS/clients"
start hub intake --cert "$CERTS/intake.cert" --certs "$CERTS/clients"
for w in w1 w2; do
  start "$w" router --cert "$CERTS/router.cert" --relay-cert "$CERTS/relay.cert"
  start "$w" notifier --cert "$CERTS/notifier.cert" --certs "$CERTS/clients" --relay-cert "$CERTS/relay.cert"
done
for i in hub:relay hub:intake w1:router w1:notifier w2:router w2:notifier; do
  wait_for "${i#*:} on ${i%%:*} ready" 20 health_on "${i%%:*}" "${i#*:}" 200 || exit 1
done
ok "relay and intake on hub, a router and a notifier on each of w1 and w2, all ready"

gen_hotline 2000 808 --prefix HL-MH >"$ART/feed.jsonl" 2>"$ART/feed.summary"
ip netns exec "$NS-hub" "$BIN/gf-hotline" --window 8 --timeout 2000 --attempts 100 \
  --cert "$CERTS/hotline.cert" --server-cert "$CERTS/intake.cert" "$ART/feed.jsonl" \
  >"$ART/feed.out" 2>"$ART/feed.err" &
FEED=$!

routed() { sql "SELECT count(*) FROM case_events WHERE type IN ('case.routed', 'case.unroutable')"; }
wait_for "some cases routed" 60 more_than routed 300 || exit 1

# ---- cut w1 ----------------------------------------------------------------
ip -n "$NS-sw" link set p-w1 down
cut_at=$SECONDS
at_cut=$(routed)
note "w1 cut off at $at_cut routed cases"
if reaches w1 "${ADDR[db]}" $PGPORT; then
  not_ok "w1 still reaches db after the cut"
else
  ok "w1 no longer reaches db"
fi
# The other instance must carry on while w1 is away.
if wait_for "routing to go on without w1" $((CUT_S - 1)) more_than routed $((at_cut + 100)); then
  ok "routing goes on while w1 is cut off ($((SECONDS - cut_at)) s to route 100 more)"
fi
sleep $((cut_at + CUT_S - SECONDS > 0 ? cut_at + CUT_S - SECONDS : 0)) # the cut lasts CUT_S: the subject, not a wait
during=$(routed)
ip -n "$NS-sw" link set p-w1 up
note "w1 back after $((SECONDS - cut_at)) s; $((during - at_cut)) cases routed meanwhile"
for s in router notifier; do
  kill -0 "${PIDS[$s@w1]}" 2>/dev/null && ok "$s on w1 survived the cut" || not_ok "$s on w1 died"
done
for s in router notifier; do
  wait_for "$s on w1 ready again" 30 health_on w1 $s 200 && ok "$s on w1 ready again after the link is back"
done

wait "$FEED"
check "adapter: every record acknowledged, none rejected or failed" "2000 0 0" \
  "$(awk -F'[ ,]+' '{print $2 + $4, $6, $8}' "$ART/feed.out")"
wait_for "the pipeline to drain" 60 quiescent
check_effects_once 2000
check_notification_fanout
check "heartbeats from both worker hosts' routers" 2 \
  "$(sql "SELECT count(DISTINCT instance) FROM service_status WHERE service = 'gf-router' AND stopped_at IS NULL")"

stop_all 6
note "total $SECONDS s"
[ "$FAILED" -eq 0 ]
