#!/usr/bin/env bash
# The Python client example (docs/examples/gf_stream_client.py, Debian's
# python3-zmq and python3-msgpack): it decodes and re-encodes every golden
# vector of proto/vectors byte for byte, replays the log from a relay, and
# follows it live by topic prefix; stopped (SIGSTOP) while the relay publishes
# more than its queues hold (small ones: relay SNDHWM 200, the client's
# receive HWM 100 and 4 KiB kernel buffer), it detects the gap and recovers
# every event.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3 # Debian's, with python3-zmq and python3-msgpack
CLIENT=$ROOT/docs/examples/gf_stream_client.py
# Small relay queues, so that a stopped subscriber overflows.
export GF_RELAY_SNDHWM=200 GF_RELAY_SNDBUF=16384

"$PY" "$CLIENT" vectors "$ROOT/proto/vectors" >"$ART/vectors.out" 2>&1
check "vectors: exit status" 0 $?
check "vectors: every one decodes to its JSON and encodes to its bytes" \
  "$(ls "$ROOT"/proto/vectors/*.hex | wc -l) 0" \
  "$(grep -c '^ok - ' "$ART/vectors.out") $(grep -c '^not ok' "$ART/vectors.out")"

new_db
insert_events 500 QNL.07.063 QNL.08.001
start relay --metrics "${MPORT[relay]}"
wait_for "relay ports" 30 port_open $((PORT_BASE + 2))

"$PY" "$CLIENT" watch "$GF_PUB" "$GF_REPLAY" --since 0 --idle 1500 >"$ART/replay.txt" 2>"$ART/replay.err"
check "replay from 0: every event once, in order" "$(seq 1 500 | md5sum)" "$(cut -d' ' -f1 "$ART/replay.txt" | md5sum)"
check "replay: topics and types as in the log" \
  "$(sql "SELECT seq || ' ' || topic || ' ' || type FROM case_events ORDER BY seq" | md5sum)" \
  "$(cut -d' ' -f1-3 "$ART/replay.txt" | md5sum)"

# The relay's probe and page counts, straight on the wire (SPEC.md 6.5, 6.6).
probe() {
  "$PY" - "$GF_REPLAY" "$@" <<'PYEOF'
import sys, zmq, msgpack
ep, frm, to, prefix = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
d = zmq.Context.instance().socket(zmq.DEALER); d.connect(ep); d.setsockopt(zmq.RCVTIMEO, 5000)
req = {"v": 1, "type": "replay.request", "id": "t1", "from": frm, "prefix": prefix, "limit": 1, "probe": True}
if to:
    req["to"] = to
d.send(msgpack.packb(req))
topic, body = d.recv_multipart()
end = msgpack.unpackb(body)
print(topic.decode(), end.get("ok"), end.get("count", end.get("code")), end.get("last"))
PYEOF
}
check "probe (100, 400] case.routed/QNL.08: the number of matching events" \
  "replay.end True $(sql "SELECT count(*) FROM case_events WHERE seq > 100 AND seq <= 400 AND starts_with(topic, 'case.routed/QNL.08')") 400" \
  "$(probe 100 400 case.routed/QNL.08)"
check "probe without 'to' is refused" "replay.end False missing_field None" "$(probe 100 0 case.routed/)"

# Live, by prefix, started at the head; stopped while 3000 events go out.
"$PY" "$CLIENT" watch "$GF_PUB" "$GF_REPLAY" --prefix case.routed/QNL.08 --idle 6000 \
  --rcvhwm 100 --rcvbuf 4096 \
  >"$ART/live.txt" 2>"$ART/live.err" &
CLIENT_PID=$!
# A heartbeat anchors it at the head (500); the client shows no sign of it
# (it prints events only), so this waits two heartbeat periods.
sleep 2
insert_events 100 QNL.07.063 QNL.08.001
wait_for "live events" 10 test -s "$ART/live.txt"
kill -STOP $CLIENT_PID
insert_events 3000 QNL.07.063 QNL.08.001
wait_for "the relay to publish up to the head" 10 relay_at_head
kill -CONT $CLIENT_PID
wait $CLIENT_PID
check "live client exits 0" 0 $?
check "live by prefix: every matching event after the start once" \
  "$(sql "SELECT seq FROM case_events WHERE seq > 500 AND starts_with(topic, 'case.routed/QNL.08') ORDER BY seq" | md5sum)" \
  "$(cut -d' ' -f1 "$ART/live.txt" | sort -n | md5sum)"
check "live by prefix: no duplicate" "$(wc -l <"$ART/live.txt")" "$(cut -d' ' -f1 "$ART/live.txt" | sort -u | wc -l)"
read -r _ recovered _ gaps <"$ART/live.err"
note "stopped client: recovered $recovered events by replay after $gaps gap(s)"
if [ "${recovered:-0}" -gt 0 ] && [ "${gaps:-0}" -gt 0 ]; then
  ok "the stopped client detected its gap and recovered by replay"
else
  not_ok "the stopped client did not detect a gap ($(cat "$ART/live.err"))"
fi

# `at` on the wire is the log's timestamp in milliseconds, rounded half away
# from zero as (extract (epoch FROM at) * 1000)::bigint rounds.  The relay
# reads replay pages in binary and converts in C; live it is the SQL: the
# two must agree, also on the half milliseconds.
sql "INSERT INTO event_stage (type, topic, grid, at, payload)
     SELECT 'case.routed', 'case.routed/QNL.07.063', 'QNL.07.063', t::timestamptz, '{}'
       FROM unnest (ARRAY['2026-12-06 08:00:00.0005+00', '2026-12-06 08:00:00.0025+00',
                          '2026-12-06 08:00:00.123499+00', '2026-12-06 08:00:00.999500+00',
                          '1969-12-31 23:59:59.9995+00', '1969-12-31 23:59:59.9975+00']) t"
FROM=$(sql "SELECT max(seq) - 6 FROM case_events")
"$PY" - "$GF_REPLAY" "$FROM" >"$ART/at.txt" <<'PYEOF'
import sys, zmq, msgpack
d = zmq.Context.instance().socket(zmq.DEALER); d.connect(sys.argv[1]); d.setsockopt(zmq.RCVTIMEO, 5000)
d.send(msgpack.packb({"v": 1, "type": "replay.request", "id": "at", "from": int(sys.argv[2]),
                      "prefix": "", "limit": 10}))
while True:
    topic, body = d.recv_multipart()
    if topic == b"replay.end":
        break
    e = msgpack.unpackb(body)
    print(e["seq"], e["at"])
PYEOF
check "replayed 'at': the log's milliseconds, half away from zero (six events)" \
  "$(sql "SELECT seq || ' ' || (extract (epoch FROM at) * 1000)::bigint FROM case_events
           WHERE seq > $FROM ORDER BY seq")" "$(cat "$ART/at.txt")"
# 0.5 and 2.5 ms go up and -0.5 and -2.5 ms down (half to even would give 0, 2, 0, -2).
check "replayed 'at' of the six, by hand" \
  "1796544000001 1796544000003 1796544000123 1796544001000 -1 -3" "$(cut -d' ' -f2 "$ART/at.txt" | xargs)"
finish
