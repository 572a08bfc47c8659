#!/usr/bin/env bash
# test: long 63 (seconds on a quiet machine: the long ones start first)
# Issue 13, item 2: every socket authenticated.  With CurveZMQ on (real
# relay and notifier processes, ZAP enforced): a SUB and a DEALER without a
# key, or with an unknown key, get nothing from the relay's PUB and replay,
# nor from the app push; a subscriber limited to QNL.07 sees only that
# subtree's events, live and by replay; a subscriber whose key is revoked
# gets nothing (new connections, and an open one from the revocation on); an
# app key receives only for its person.  Also: plain TCP refused off
# loopback for the relay and the app push.
source "$(dirname "$0")/lib.sh"
new_db

CERTS=$ART/certs
mkdir -p "$CERTS"
ctl() { "$BIN/gridctl" --certs "$CERTS" "$@"; }
{
  ctl cert server "$ART/relay.cert"
  ctl cert server "$ART/unknown.cert" # a key pair that was never registered
  ctl cert new sub-07 --kind subscriber --grid QNL.07 --out "$ART/sub-07.cert"
  ctl cert new sub-all --kind subscriber --grid QNL --out "$ART/sub-all.cert"
  ctl cert new sub-gone --kind subscriber --grid QNL --out "$ART/sub-gone.cert"
  ctl cert new sub-dbrevoked --kind subscriber --grid QNL --out "$ART/sub-dbrevoked.cert"
  ctl cert new hotline-07 --kind adapter --grid QNL.07 --sources hotline --out "$ART/hotline-07.cert"
  ctl cert new app-l2 --kind app --grid QNL.07 --person "$L2" --out "$ART/app-l2.cert"
  ctl cert new notifier --kind subscriber --grid QNL --out "$ART/notifier.cert"
} >"$ART/cert.out" 2>&1 || not_ok "certificates"
check "identities registered" 7 "$(sql "SELECT count(*) FROM identities")"

# Server settings that must not start.
GF_CURVE=off "$BIN/gf-relay" --pub "tcp://0.0.0.0:$((PORT_BASE + 11))" \
  --replay "tcp://0.0.0.0:$((PORT_BASE + 12))" >"$ART/plain-relay.log" 2>&1
check "relay: plain TCP on a non-loopback endpoint refused at start" "1 1" \
  "$? $(grep -c "allowed only on loopback" "$ART/plain-relay.log")"
GF_CURVE=on "$BIN/gf-relay" >"$ART/nocert-relay.log" 2>&1
check "relay: curve=on without certificates refused at start" "1 1" \
  "$? $(grep -c "needs --cert" "$ART/nocert-relay.log")"

export GF_CURVE=on
RELAY_CERT=$ART/relay.cert
start relay --cert "$RELAY_CERT" --certs "$CERTS"
start notifier --cert "$ART/notifier.cert" --certs "$CERTS" --relay-cert "$RELAY_CERT"
wait_for "relay port" 30 port_open $((PORT_BASE + 1))
wait_for "app push port" 30 port_open $((PORT_BASE + 9))

# watch NAME [CERT]: replay from seq 0 and follow for a while, as JSON
# lines (gridctl watch: gf_stream, a SUB and a DEALER); "grid" per event.
watch_all() {
  local name=$1 cert=${2:-}
  local -a auth=()
  [ -n "$cert" ] && auth=(--cert "$cert" --relay-cert "$RELAY_CERT")
  "$BIN/gridctl" watch --since 0 --json --idle 3000 "${auth[@]}" >"$ART/$name.jsonl" 2>"$ART/$name.err"
  jq -r .grid "$ART/$name.jsonl" | sort | uniq -c | awk '{printf "%s:%s ", $2, $1}'
}
# has_lines FILE N: FILE has at least N lines.
has_lines() { [ "$(wc -l <"$1")" -ge "$2" ]; }
# The log: 40 events in QNL.07.063 and 40 in QNL.08.001 (insert_events).
insert_events 80

# --- unauthenticated and unknown clients: nothing -------------------------
timeout 4 "$TOOLS/capture" "$GF_PUB" "$ART/nokey.ready" 3000 >"$ART/nokey-capture.txt" 2>&1
check "a SUB without a key gets nothing (not even the heartbeat)" "0 no" \
  "$(wc -l <"$ART/nokey-capture.txt") $(test -f "$ART/nokey.ready" && echo yes || echo no)"
GF_CERT=$ART/unknown.cert GF_RELAY_CERT=$RELAY_CERT timeout 4 "$TOOLS/capture" "$GF_PUB" \
  "$ART/unknown.ready" 3000 >"$ART/unknown-capture.txt" 2>&1
check "a SUB with an unknown key gets nothing" "0 no" \
  "$(wc -l <"$ART/unknown-capture.txt") $(test -f "$ART/unknown.ready" && echo yes || echo no)"
check "a SUB and DEALER without a key get nothing, live or by replay" "" "$(watch_all nokey)"
check "a SUB and DEALER with an unknown key get nothing" "" "$(watch_all unknown "$ART/unknown.cert")"
check "an adapter key (no stream rights) gets nothing" "" "$(watch_all adapter "$ART/hotline-07.cert")"
grep -q "no stream rights" "$ART/relay.log" && ok "the relay logs the refused subscription" \
  || not_ok "the relay logs the refused subscription"

# --- rights: QNL.07 only, by replay and live --------------------------------
check "a QNL subscriber replays both subtrees (the events are there)" "QNL.07.063:40 QNL.08.001:40 " \
  "$(watch_all all "$ART/sub-all.cert")"
check "a QNL.07 subscriber replays only QNL.07's events" "QNL.07.063:40 " \
  "$(watch_all sub07 "$ART/sub-07.cert")"

# The Python client example (docs/examples/gf_stream_client.py) with the same key.
/usr/bin/python3 "$ROOT/docs/examples/gf_stream_client.py" watch "$GF_PUB" "$GF_REPLAY" --since 0 --idle 3000 \
  --cert "$ART/sub-07.cert" --relay-cert "$RELAY_CERT" >"$ART/py07.txt" 2>"$ART/py07.err"
check "the Python client with the QNL.07 key replays only QNL.07's events" "40 0" \
  "$(wc -l <"$ART/py07.txt") $(grep -vc ' case.routed/QNL.07' "$ART/py07.txt")"

# ZMQ_MAXMSGSIZE on the replay (at most 64 KiB): a 70,000-byte message from
# an authenticated peer gets no answer (its connection is dropped); a normal
# request on a new connection is served.
/usr/bin/python3 - "$GF_REPLAY" "$ART/sub-07.cert" "$RELAY_CERT" >"$ART/maxmsg.txt" 2>&1 <<'PYEOF'
import sys, zmq, zmq.auth, msgpack
ep, cert, server = sys.argv[1:4]
pub, sec = zmq.auth.load_certificate(cert + "_secret")
srv, _ = zmq.auth.load_certificate(server)
def dealer():
    d = zmq.Context.instance().socket(zmq.DEALER)
    d.curve_publickey, d.curve_secretkey, d.curve_serverkey = pub, sec, srv
    d.setsockopt(zmq.LINGER, 0); d.connect(ep)
    return d
req = {"v": 1, "type": "replay.request", "id": "m1", "from": 0, "prefix": "", "limit": 1}
big = dealer(); big.send(msgpack.packb(dict(req, prefix="x" * 70000)))
print("big:", "answered" if big.poll(2000) else "none")
small = dealer(); small.send(msgpack.packb(req))
print("small:", "answered" if small.poll(5000) else "none")
PYEOF
check "replay: a message over the size limit is dropped, a normal one served" "big: none small: answered" \
  "$(tr '\n' ' ' <"$ART/maxmsg.txt" | sed 's/ $//')"

# Live: two followers started before new events, a raw SUB with the QNL.07
# key (subscribed to everything: the relay narrows it) and gridctl watch.
GF_CERT=$ART/sub-07.cert GF_RELAY_CERT=$RELAY_CERT "$TOOLS/capture" "$GF_PUB" "$ART/live07.ready" 600000 \
  >"$ART/live07-capture.txt" 2>"$ART/live07-capture.err" &
CAP07=$!
wait_for "the QNL.07 SUB to be connected" 10 test -f "$ART/live07.ready"
"$BIN/gridctl" watch --json --cert "$ART/sub-07.cert" --relay-cert "$RELAY_CERT" >"$ART/live07.jsonl" 2>"$ART/live07.err" &
W07=$!
"$BIN/gridctl" watch --json --cert "$ART/sub-gone.cert" --relay-cert "$RELAY_CERT" >"$ART/livegone.jsonl" 2>"$ART/livegone.err" &
WGONE=$!
sleep 2 # both watchers take the head at their first heartbeat: events after it are live
head1=$(sql "SELECT max(seq) FROM case_events")
insert_events 20 QNL.07.064 QNL.08.067
wait_for "the QNL.07 watcher to see its 10 live events" 15 has_lines "$ART/live07.jsonl" 10
sleep 1
check "live, gridctl watch with the QNL.07 key: only QNL.07.064's 10 events" "QNL.07.064:10 " \
  "$(jq -r .grid "$ART/live07.jsonl" | sort | uniq -c | awk '{printf "%s:%s ", $2, $1}')"
check "live, a raw SUB to everything with the QNL.07 key: only QNL.07 topics" "10 0" \
  "$(awk -v h="$head1" '$1 > h' "$ART/live07-capture.txt" | wc -l) $(grep -vc ' case.routed/QNL.07' "$ART/live07-capture.txt")"
check "the key about to be revoked (QNL) saw all 20" 20 "$(wc -l <"$ART/livegone.jsonl")"

# --- revocation --------------------------------------------------------------
ctl cert revoke sub-gone >>"$ART/cert.out" 2>&1
sql "UPDATE identities SET revoked_at = now() WHERE name = 'sub-dbrevoked'" # its certificate stays in the store
sleep 4 # the relay rechecks its subscribers' keys every 2 s
insert_events 20 QNL.07.064 QNL.08.067
wait_for "the QNL.07 watcher to see its next 10 live events" 20 has_lines "$ART/live07.jsonl" 20
sleep 2
check "an open connection of a revoked key gets nothing after the revocation" 20 "$(wc -l <"$ART/livegone.jsonl")"
check "the other subscribers go on (QNL.07 watcher: 20 events, no duplicate)" "20 20" \
  "$(wc -l <"$ART/live07.jsonl") $(jq -r .seq "$ART/live07.jsonl" | sort -u | wc -l)"
check "a revoked key (certificate removed) gets nothing, live or by replay" "" \
  "$(watch_all gone "$ART/sub-gone.cert")"
check "a key revoked in the database only gets nothing, live or by replay" "" \
  "$(watch_all dbrevoked "$ART/sub-dbrevoked.cert")"
grep -q "lost its rights" "$ART/relay.log" && ok "the relay logged the revoked subscriber" \
  || not_ok "the relay logged the revoked subscriber"
kill -TERM $W07 $WGONE $CAP07 2>/dev/null
wait $W07 $WGONE $CAP07 2>/dev/null

# --- the gateway's SSE, as a CURVE client of the relay --------------------------
# Its key (an Open311 adapter of QNL.07 that may read case.* on the stream)
# limits what its browsers get.
source "$(dirname "$0")/gateway_lib.sh"
ctl cert new gw-07 --kind adapter --grid QNL.07 --sources open311 --topics case. \
  --out "$ART/gw-07.cert" >>"$ART/cert.out" 2>&1
start_gateway GF_CERT="$ART/gw-07.cert" GF_RELAY_CERT="$RELAY_CERT"
gw_kiosk QNL # a kiosk of the root (issue 16): the gateway's key still limits it to QNL.07
curl -s -N --max-time 5 -H "$AUTH" "$URL/stream?since=0" >"$ART/sse.txt"
check "gateway SSE with a QNL.07 key: only QNL.07's events" "QNL.07.063:40 QNL.07.064:20 " \
  "$(sed -n 's/^data: //p' "$ART/sse.txt" | jq -r .grid | sort | uniq -c | awk '{printf "%s:%s ", $2, $1}')"

# --- app push ---------------------------------------------------------------
TOKEN=$("$BIN/gridctl" notify token "$L2")
TOKEN3=$("$BIN/gridctl" notify token "$L3")
app() { "$TOOLS/app_client" "$GF_APP" "$@"; }
check "app push: a DEALER without a key gets nothing, even with the right token" "" \
  "$(app "$L2" "$TOKEN" noack 2000)"
check "app push: an unknown key gets nothing" "" \
  "$(GF_CERT=$ART/unknown.cert GF_SERVER_CERT=$ART/notifier.cert app "$L2" "$TOKEN" noack 2000)"
check "app push: the app key of $L2 signs in as $L2" "welcome" \
  "$(GF_CERT=$ART/app-l2.cert GF_SERVER_CERT=$ART/notifier.cert app "$L2" "$TOKEN" noack 1500)"
check "app push: the same key may not receive for $L3, even with $L3's token" "error forbidden" \
  "$(GF_CERT=$ART/app-l2.cert GF_SERVER_CERT=$ART/notifier.cert app "$L3" "$TOKEN3" noack 1500)"
check "app push: a subscriber key is no app key" "error forbidden" \
  "$(GF_CERT=$ART/sub-07.cert GF_SERVER_CERT=$ART/notifier.cert app "$L2" "$TOKEN" noack 1500)"
ctl cert revoke app-l2 >>"$ART/cert.out" 2>&1
check "app push: a revoked app key gets nothing" "" \
  "$(GF_CERT=$ART/app-l2.cert GF_SERVER_CERT=$ART/notifier.cert app "$L2" "$TOKEN" noack 2000)"

finish
