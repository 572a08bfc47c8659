#!/usr/bin/env bash
# Issue 18, item 3: notifiers that scale out.  The notifier's work is split
# into work/partitions (8 here) partitions by case, each with its own lease
# and checkpoint; the running notifiers share them fairly.
#   db   10.78.0.1   PostgreSQL (its own cluster under var/so/, TCP) and the
#                    test SMS gateway
#   hub  10.78.0.2   gf-relay, gf-intake, gf-hotline (the feed)
#   w1..w4 10.78.0.3..6  one gf-notifier each (and a gf-router in phase 3)
# joined by veth pairs to a bridge in another namespace (the "switch"); all
# namespaces are named gfso-<pid>-*.
#  1. A hotline feed of complaints over the network, no notifier running:
#     the backlog, kept as a template database.
#  2. For 1, 2 and 4 notifiers (each on its own host, a fresh copy of the
#     backlog): start them, wait until they share the partitions evenly,
#     rewind the partitions' checkpoints to the start and time the backlog's
#     notifications: "#" lines with notifications and events per second and
#     the load average.
#  3. With the 4 notifiers and a router beside each (partitioned the same
#     way; the intake leaves the routing to them here), a second feed live;
#     mid-run w1's router and notifier are killed (kill -9) and w2's link is
#     cut: the others take their partitions over; w2 comes back and w1's
#     services are started again: all get their share back (rebalance).
# Each phase ends with effects exactly once: every complaint stored and
# routed once, each notification made once with one notification.created,
# the counts the rules give, every SMS delivered once by the dedupe-honouring
# gateway; and each partition held by one instance, as the instances see it.
# Needs root and `ip netns` (prints "# skip" and exits 0 without them).
# Ports: TEST_PORT_BASE (default 19000) .. +9, inside the namespaces.
# Output: TAP lines; logs in tests/artifacts/test_scaleout/.
#   tests/multihost/test_scaleout.sh        (tests/run.sh multihost)
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/lib.sh"
VAR=$ROOT/var/so
PGBIN=${GF_PGBIN:-/usr/lib/postgresql/15/bin}
PORT_BASE=${TEST_PORT_BASE:-19000}
PGPORT=$PORT_BASE
NS=gfso-$$ # namespace prefix, unique per run
NET=10.78.0
PARTS=8
FEED_N=${GF_SO_FEED:-6000} # the backlog
LIVE_N=${GF_SO_LIVE:-1500} # the live feed of phase 3
export GF_PARTITIONS=$PARTS GF_LEASE_MS=2000

mh_skip_without_netns

rm -rf "$ART" && mkdir -p "$ART"
HOSTS=(db hub w1 w2 w3 w4)
now_ms() { date +%s%3N; }

cleanup() {
  [ -n "${FEED:-}" ] && kill "$FEED" 2>/dev/null && wait "$FEED" 2>/dev/null
  [ -n "${GW:-}" ] && kill "$GW" 2>/dev/null && wait "$GW" 2>/dev/null
  [ ${#PIDS[@]} -eq 0 ] || stop_all 6 # after a failure: the services are still running
  mh_cleanup "${HOSTS[@]}"
}
trap cleanup EXIT

# ---- the network ---------------------------------------------------------
mh_network "${HOSTS[@]}" || { not_ok "the network namespaces"; exit 1; }
check "no test address outside the namespaces" "" "$(ip -o addr show | grep -F " $NET." || true)"

# ---- PostgreSQL on db ----------------------------------------------------
mh_postgres 80 "fsync = off" || exit 1
# use_db NAME: the services reach database NAME over TCP across the bridge,
# the test itself over the Unix socket (a path, shared by every namespace).
use_db() {
  SQL_DB="host=$VAR/run port=$PGPORT user=gridflow dbname=$1"
  export GF_DB="host=${ADDR[db]} port=$PGPORT user=gridflow dbname=$1 connect_timeout=3
    keepalives=1 keepalives_idle=2 keepalives_interval=1 keepalives_count=2 tcp_user_timeout=5000"
}
use_db gfso_t
"$PGBIN/createdb" -h "$VAR/run" -p $PGPORT -U gridflow gfso_t
ip netns exec "$NS-hub" "$BIN/gridctl" db migrate >"$ART/migrate.log" 2>&1 || { not_ok "migrate over TCP from hub"; exit 1; }
ip netns exec "$NS-hub" "$BIN/gridctl" grids import "$SAMPLE" >>"$ART/migrate.log" 2>&1 \
  || { not_ok "grids import"; exit 1; }
# Messages go out at once (no quiet hours, no rate limit), as in test_notify_crash.
sql "DELETE FROM delivery_quiet;
     UPDATE delivery_policy SET rate_limit = 0, backoff_ms = 50, backoff_max_ms = 500" >/dev/null
ok "PostgreSQL on db, migrated over TCP from hub ($SECONDS s)"

export GF_CURVE=on
CERTS=$ART/certs
mkdir -p "$CERTS/clients"
{ ip netns exec "$NS-hub" "$BIN/gridctl" cert server "$CERTS/intake.cert" \
  && ip netns exec "$NS-hub" "$BIN/gridctl" --certs "$CERTS/clients" cert new so-hotline --kind adapter \
       --grid QNL --sources hotline --out "$CERTS/hotline.cert" \
  && ip netns exec "$NS-hub" "$BIN/gridctl" cert server "$CERTS/relay.cert" \
  && for s in router notifier; do
       ip netns exec "$NS-hub" "$BIN/gridctl" --certs "$CERTS/clients" cert new so-$s --kind subscriber \
         --grid QNL --out "$CERTS/$s.cert" || exit 1
     done; } >>"$ART/migrate.log" 2>&1 \
  || { not_ok "CurveZMQ certificates"; exit 1; }

# ---- the services ----------------------------------------------------------
export GF_INTAKE=tcp://${ADDR[hub]}:$((PORT_BASE + 1)) GF_PUB=tcp://${ADDR[hub]}:$((PORT_BASE + 2))
export GF_REPLAY=tcp://${ADDR[hub]}:$((PORT_BASE + 3)) GF_APP=tcp://127.0.0.1:$((PORT_BASE + 7)) GF_ROOT=QNL
GW_PORT=$((PORT_BASE + 8))
export GF_SMS_URL=http://${ADDR[db]}:$GW_PORT/sms GF_SMS_TIMEOUT_MS=2000
unset GF_SMTP_URL GF_SMS_TOKEN
declare -A MPORT=([relay]=$((PORT_BASE + 4)) [intake]=$((PORT_BASE + 5)) [notifier]=$((PORT_BASE + 6))
                 [router]=$((PORT_BASE + 9)))
start_notifier() {
  start "$1" notifier --cert "$CERTS/notifier.cert" --certs "$CERTS/clients" --relay-cert "$CERTS/relay.cert"
}
start_router() { start "$1" router --cert "$CERTS/router.cert" --relay-cert "$CERTS/relay.cert"; }
health_on() { local -a CURL=(ip netns exec "$NS-$1" curl); health_is "${MPORT[$2]}" "$3"; }
metric_on() { local -a CURL=(ip netns exec "$NS-$1" curl); metric "${MPORT[$2]}" "$3"; }
# The SMS gateway on db, a fresh one (no keys) for each database.
start_gateway() {
  [ -n "${GW:-}" ] && kill "$GW" 2>/dev/null && wait "$GW" 2>/dev/null
  ip netns exec "$NS-db" python3 "$ROOT/tests/tools/sms_gateway.py" --host "${ADDR[db]}" --port "$GW_PORT" \
    >>"$ART/gateway.log" 2>&1 &
  GW=$!
  wait_for "SMS gateway" 20 ip netns exec "$NS-hub" curl -sf "http://${ADDR[db]}:$GW_PORT/stats"
}
gw() { ip netns exec "$NS-hub" curl -s "http://${ADDR[db]}:$GW_PORT/stats" | jq -r --arg k "$1" '.[$k]'; }
# feed COUNT SEED PREFIX: gf-hotline on hub sends COUNT complaints in the background (FEED).
feed() {
  gen_hotline "$1" "$2" --prefix "$3" >"$ART/feed-$3.jsonl" 2>/dev/null
  ip netns exec "$NS-hub" "$BIN/gf-hotline" --window 16 --timeout 2000 --attempts 100 \
    --cert "$CERTS/hotline.cert" --server-cert "$CERTS/intake.cert" "$ART/feed-$3.jsonl" \
    >"$ART/feed-$3.out" 2>"$ART/feed-$3.err" &
  FEED=$!
}
feed_done() {
  wait "$FEED"
  FEED=
  check "feed $1: every record acknowledged, none rejected or failed" "$2 0 0" \
    "$(awk -F'[ ,]+' '{print $2 + $4, $6, $8}' "$ART/feed-$1.out")"
}

# drained [ROLE]: ROLE's (default notifier) partitions all at the end of its event types.
RULE_TYPES="SELECT event_type FROM notification_rules WHERE enabled AND raised_by = 'notifier'"
ROUTER_TYPES="VALUES ('case.received'), ('case.returned')"
drained() {
  local role=${1:-notifier} types=$RULE_TYPES
  [ "$role" == router ] && types=$ROUTER_TYPES
  sql_eq "SELECT count(*) = $PARTS AND min(last_seq) >= (SELECT coalesce(max(seq), 0) FROM case_events
                                                         WHERE type IN ($types))
            FROM consumer_checkpoints WHERE consumer LIKE '$role.p%of$PARTS'" t
}
# holders [ROLE]: "N/M": N instances hold ROLE's partitions' leases (unexpired), none more than M.
holders() {
  sql "SELECT count(*) || '/' || coalesce(max(n), 0) FROM (SELECT holder, count(*) AS n FROM leases
        WHERE name LIKE '${1:-notifier}.p%of$PARTS' AND expires_at > clock_timestamp() GROUP BY holder) h"
}
held_by() {
  sql "SELECT count(*) FROM leases WHERE name LIKE '${1:-notifier}.p%of$PARTS' AND expires_at > clock_timestamp()"
}
# shared ROLE N M: N instances hold all of ROLE's partitions, M at most each.
shared() { [ "$(holders "$1")" == "$2/$3" ] && [ "$(held_by "$1")" -eq $PARTS ]; }
notifications() { sql "SELECT count(*) FROM notifications"; }
# instances ROLE: the hosts where ROLE was started, from PIDS.
instances() { local n; for n in "${!PIDS[@]}"; do [[ $n == $1@* ]] && echo "${n#$1@}"; done | sort; }
# one_holder ROLE: gf_lease_holder of each of ROLE's partitions, summed over
# its running instances (as each sees it), is 1.
one_holder() {
  local host k bad=""
  declare -A SUM=()
  for host in $(instances "$1"); do
    for ((k = 0; k < PARTS; k++)); do
      SUM[$k]=$((${SUM[$k]:-0} + $(metric_on "$host" "$1" "gf_lease_holder{lease=\"$1.p${k}of$PARTS\"}")))
    done
  done
  for ((k = 0; k < PARTS; k++)); do [ "${SUM[$k]}" -eq 1 ] || bad="$bad p$k:${SUM[$k]}"; done
  check "each $1 partition held by exactly one running instance, by their own account" "" "$bad"
}

# check_once TOTAL: the end-of-phase checks (the cases' and notifications'
# effects, the SMS, one holder per partition as the instances see it).
check_once() {
  check_effects_once "$1"
  check_notification_fanout
  check "each notification has one notification.created, none twice" "0 0" \
    "$(sql "SELECT (SELECT count(*) FROM notifications n LEFT JOIN (
                      SELECT (payload->>'notification')::bigint AS id, count(*) AS k FROM case_events
                       WHERE type = 'notification.created' GROUP BY 1) e ON e.id = n.id
                     WHERE coalesce(e.k, 0) <> 1)
             || ' ' || (SELECT count(*) - count(DISTINCT payload->>'notification') FROM case_events
                         WHERE type = 'notification.created')")"
  wait_for "every SMS sent" 60 sql_eq "SELECT count(*) FROM deliveries WHERE channel = 'sms' AND state <> 'sent'" 0
  local total; total=$(sql "SELECT count(*) FROM deliveries WHERE channel = 'sms'")
  check "the gateway delivered each of the $total SMS once" "$total" "$(gw delivered)"
  [ "$(gw duplicates)" -eq 0 ] || note "resends recognised by dedupe key: $(gw duplicates)"
  one_holder notifier
  [ -z "$(instances router)" ] || one_holder router
}

# ---- 1. the backlog ----------------------------------------------------------
start hub relay --cert "$CERTS/relay.cert" --certs "$CERTS/clients"
start hub intake --cert "$CERTS/intake.cert" --certs "$CERTS/clients"
for s in relay intake; do wait_for "$s on hub ready" 20 health_on hub $s 200 || exit 1; done
t0=$SECONDS
feed "$FEED_N" 1818 HL-SO
feed_done HL-SO "$FEED_N"
note "feed: $FEED_N complaints over the network in $((SECONDS - t0)) s, no notifier running"
stop_all 6
EVENTS=$(sql "SELECT count(*) FROM case_events WHERE type IN ($RULE_TYPES)")

# ---- 2. 1, 2 and 4 notifiers on the backlog -----------------------------------
declare -A RATE=()
for N in 1 2 4; do
  for try in 1 2 3 4 5; do # the template may still have a session closing
    "$PGBIN/createdb" -h "$VAR/run" -p $PGPORT -U gridflow -T gfso_t "gfso_$N" 2>>"$ART/createdb.err" && break
    sleep 1
  done
  use_db "gfso_$N"
  # The partitions start at the head (as if caught up), so that the
  # instances share them out before the clock starts.
  sql "INSERT INTO consumer_checkpoints (consumer, last_seq)
       SELECT 'notifier.p' || k || 'of$PARTS', (SELECT max(seq) FROM case_events)
         FROM generate_series(0, $PARTS - 1) k" >/dev/null
  start_gateway
  start hub relay --cert "$CERTS/relay.cert" --certs "$CERTS/clients"
  wait_for "relay on hub ready" 20 health_on hub relay 200 || exit 1
  for ((i = 1; i <= N; i++)); do start_notifier "w$i"; done
  for ((i = 1; i <= N; i++)); do wait_for "notifier on w$i ready" 20 health_on "w$i" notifier 200 || exit 1; done
  share=$(((PARTS + N - 1) / N))
  t0=$(now_ms)
  if wait_for "$N notifiers to share the partitions" 20 shared notifier "$N" "$share"; then
    ok "$N notifier(s): the $PARTS partitions shared out, $share at most each, in $(($(now_ms) - t0)) ms"
  fi
  sql "UPDATE consumer_checkpoints SET last_seq = 0 WHERE consumer LIKE 'notifier.p%of$PARTS'" >/dev/null
  t0=$(now_ms)
  wait_for "the first notification" 10 more_than notifications 0
  t1=$(now_ms)
  wait_for "$N notifiers to drain the backlog" 120 drained
  t2=$(now_ms)
  made=$(notifications)
  ms=$((t2 - t1 > 0 ? t2 - t1 : 1))
  RATE[$N]=$((made * 1000 / ms))
  note "throughput with $N notifier(s): $made notifications from $EVENTS events in $ms ms:" \
    "$((made * 1000 / ms)) notifications/s, $((EVENTS * 1000 / ms)) events/s" \
    "(first after $((t1 - t0)) ms; load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores)"
  busy=0
  for ((i = 1; i <= N; i++)); do
    sum=0
    for ((k = 0; k < PARTS; k++)); do
      v=$(metric_on "w$i" notifier "gf_consumer_events_total{consumer=\"notifier.p${k}of$PARTS\"}")
      sum=$((sum + ${v:-0}))
    done
    [ "$sum" -gt 0 ] && busy=$((busy + 1))
  done
  check "$N notifier(s): each handled a part of the backlog" "$N" "$busy"
  check_once "$FEED_N"
  [ "$N" -eq 4 ] || stop_all 6
done

# ---- 3. the 4 notifiers and 4 routers under a live feed: w1 killed, w2 cut off ----
for w in w1 w2 w3 w4; do start_router "$w"; done
for w in w1 w2 w3 w4; do wait_for "router on $w ready" 20 health_on "$w" router 200 || exit 1; done
wait_for "4 routers to share the partitions" 20 shared router 4 2 && ok "4 routers: the $PARTS partitions shared out, 2 each"
start hub intake --cert "$CERTS/intake.cert" --certs "$CERTS/clients" --intake-route 0
wait_for "intake on hub ready" 20 health_on hub intake 200 || exit 1
base=$(notifications)
t0=$(now_ms)
feed "$LIVE_N" 1819 HL-SO-LIVE
wait_for "notifications from the live feed" 60 more_than notifications $((base + 300)) || exit 1
W1_KILLED="(${PIDS[router@w1]}|${PIDS[notifier@w1]})"
for s in router notifier; do
  kill -9 "${PIDS[$s@w1]}"; wait "${PIDS[$s@w1]}" 2>/dev/null; unset "PIDS[$s@w1]"
done
killed_at=$(now_ms)
note "w1's router and notifier killed (kill -9) at $(($(notifications) - base)) notifications of the live feed"
for s in notifier router; do
  wait_for "the killed $s's partitions to be taken" 20 sql_eq "SELECT count(*) FROM leases
      WHERE name LIKE '$s.p%of$PARTS' AND (holder ~ ':$W1_KILLED\.' OR expires_at <= clock_timestamp())" 0 \
    && ok "the killed $s's partitions taken over within $(($(now_ms) - killed_at)) ms (lease $GF_LEASE_MS ms)"
done
at=$(notifications)
wait_for "notifications after the kill" 30 more_than notifications $((at + 200))
ip -n "$NS-sw" link set p-w2 down
cut_at=$(now_ms)
note "w2 cut off from the database at $(($(notifications) - base)) notifications of the live feed"
if ip netns exec "$NS-w2" timeout 3 bash -c "exec 3<>/dev/tcp/${ADDR[db]}/$PGPORT" 2>/dev/null; then
  not_ok "w2 still reaches db after the cut"
else
  ok "w2 no longer reaches db"
fi
# on_w34 ROLE: w3's and w4's instances hold all of ROLE's partitions, 4 each.
on_w34() {
  shared "$1" 2 4 && sql_eq "SELECT bool_and(holder ~ ':(${PIDS[$1@w3]}|${PIDS[$1@w4]})\.') FROM leases
                             WHERE name LIKE '$1.p%of$PARTS'" t
}
for s in notifier router; do
  wait_for "w3 and w4 to hold every $s partition" 30 on_w34 $s \
    && ok "w3's and w4's ${s}s took over the partitions of the killed and the cut-off one within $(($(now_ms) - cut_at)) ms of the cut (lease $GF_LEASE_MS ms)"
done
sleep 2 # the cut lasts a while longer: the subject, not a wait
ip -n "$NS-sw" link set p-w2 up
start_notifier w1
start_router w1
note "w2 back after $(($(now_ms) - cut_at)) ms; w1's router and notifier started again"
for s in router notifier; do
  kill -0 "${PIDS[$s@w2]}" 2>/dev/null && ok "w2's $s survived the cut" || not_ok "w2's $s died"
  wait_for "w2's $s to step down (lease lost)" 30 grep -q "lease lost at epoch" "$ART/$s@w2.log" \
    && ok "w2's $s stepped down on its return: its partitions had been taken over"
done
feed_done HL-SO-LIVE "$LIVE_N"
wait_for "the live feed to be routed" 60 drained router
wait_for "the live feed's notifications" 60 drained
t1=$(now_ms)
live=$(($(notifications) - base))
note "live feed: $LIVE_N complaints, $live notifications in $((t1 - t0)) ms with the faults:" \
  "$((live * 1000 / (t1 - t0))) notifications/s (load average $(cut -d' ' -f1-3 /proc/loadavg))"
for s in notifier router; do
  wait_for "the $s partitions to be shared by 4 again" 30 shared $s 4 2 \
    && ok "rebalanced: w1's $s (restarted) and w2's (back) hold their share again, 2 partitions each of 4"
done
check_once $((FEED_N + LIVE_N))
note "notifications/s by instances: 1: ${RATE[1]}, 2: ${RATE[2]}, 4: ${RATE[4]}"
stop_all 6
note "total $SECONDS s"
[ "$FAILED" -eq 0 ]
