#!/usr/bin/env bash
# test: long 30 (seconds on a quiet machine: the long ones start first)
# Issue 18, item 4: a head regression (docs/streams.md, "Head regression").
# Subscribers follow the relay up to seq 60; the relay stops, the log is
# taken back to seq 45 (what restoring an older backup, or failing over to
# a standby that was behind, does) and a new relay starts on it.  Every
# subscriber, running across it, must say so and then deliver each event
# of the new log after 45 exactly once, in order, although their seqs 46..60
# were already seen (before, they were silently dropped as duplicates):
# `gridctl watch --json` unfiltered and by grid prefix (gap detection by
# probe), the Python client, and the gateway's /stream (SSE, read with curl).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/gateway_lib.sh"
PY=/usr/bin/python3 # Debian's, with python3-zmq and python3-msgpack
CLIENT=$ROOT/docs/examples/gf_stream_client.py
new_db
insert_events 40
start relay
wait_for "relay ports" 30 port_open $((PORT_BASE + 2))
start_gateway
gw_kiosk # /stream needs a session or a kiosk token: the root's, every event
curl -sN -H "$AUTH" "$URL/stream" >"$ART/sse.txt" 2>"$ART/sse.err" &
SSE=$!
"$BIN/gridctl" watch --json --idle 20000 >"$ART/all.jsonl" 2>"$ART/all.err" &
ALL=$!
"$BIN/gridctl" watch case.routed/QNL.08 --json --idle 20000 >"$ART/grid.jsonl" 2>"$ART/grid.err" &
GRID=$!
"$PY" "$CLIENT" watch "$GF_PUB" "$GF_REPLAY" --idle 20000 >"$ART/py.txt" 2>"$ART/py.err" &
PYC=$!
# A heartbeat anchors them at seq 40 (they print events only): two periods.
sleep 2
insert_events 20
lines() { wc -l <"$1"; }
seen_60() {
  [ "$(lines "$ART/all.jsonl")" == 20 ] && [ "$(lines "$ART/py.txt")" == 20 ] &&
    [ "$(grep -c '^id: ' "$ART/sse.txt")" == 20 ] &&
    [ "$(lines "$ART/grid.jsonl")" == "$(sql "SELECT count(*) FROM case_events WHERE seq > 40 AND starts_with(topic, 'case.routed/QNL.08')")" ]
}
wait_for "every subscriber to see seq 41..60" 20 seen_60
check "the log's head before the regression" 60 "$(sql "SELECT max(seq) FROM case_events")"
GRID_OLD=$(lines "$ART/grid.jsonl") # the filtered watch's events of the old log

# --- the regression: stop the relay, take the log back to 45, start a new one --
kill -TERM "${PIDS[relay]}"; wait "${PIDS[relay]}"; unset "PIDS[relay]"
sql "DELETE FROM case_events WHERE seq > 45" >/dev/null
start relay@2
reported() { grep -qE "head regression: the log.s head is 45, below seq (59|60) already seen; resynchronising from the new log" "$1"; }
wait_for "gridctl watch (all) to report the regression" 20 reported "$ART/all.err"
wait_for "gridctl watch (by grid) to report the regression" 20 reported "$ART/grid.err"
wait_for "the Python client to report the regression" 20 reported "$ART/py.err"
sse_reported() { grep -q '^event: stream.regression' "$ART/sse.txt"; }
wait_for "the gateway's /stream to report the regression" 20 sse_reported
ok "every subscriber reported: head regression: the log's head is 45, below seq 60 (59 by grid) already seen"

# A browser resuming after seq 60 (its Last-Event-ID) is told why it cannot.
http GET /stream -H "Last-Event-ID: 60"
check "/stream resuming above the new head: 400" 400 "$STATUS"
check "... saying the log may have gone back" 1 "$(jbody .error | grep -c 'may have gone back (a head regression')"

# --- the new log's events: 46..55 reuse seqs already seen, 56..75 pass the old head
insert_events 10
sleep 1
insert_events 20
check "the new log's head" 75 "$(sql "SELECT max(seq) FROM case_events")"
wait "$ALL"; check "unfiltered watch exits 0" 0 $?
wait "$GRID"; check "filtered watch exits 0" 0 $?
wait "$PYC"; check "Python client exits 0" 0 $?

# Expected: 41..60 of the old log, then every event of the new log after 45
# (by seq and event id: the new log's events, not the old ones), once.
new_log() { sql "SELECT seq || ' ' || id FROM case_events WHERE seq > 45 $1 ORDER BY seq"; }
json_seq_id() { jq -r '"\(.seq) \(.id)"' "$1"; }
check_list "unfiltered watch: 41..60, then the new log after 45 once, in order" \
  "$(seq 41 60; new_log "" | cut -d' ' -f1)" "$(jq -r .seq "$ART/all.jsonl")"
check_list "unfiltered watch: after the regression, exactly the new log's events (seq, id)" \
  "$(new_log "")" "$(json_seq_id "$ART/all.jsonl" | tail -n +21)"
check_list "filtered watch: after the regression, exactly the new log's matching events" \
  "$(new_log "AND starts_with(topic, 'case.routed/QNL.08')")" \
  "$(json_seq_id "$ART/grid.jsonl" | tail -n +$((GRID_OLD + 1)))"
check_list "Python client: 41..60, then the new log after 45 once, in order" \
  "$(seq 41 60; new_log "" | cut -d' ' -f1)" "$(cut -d' ' -f1 "$ART/py.txt")"
# /stream: 41..60, a stream.regression frame whose id is 45 (a reconnecting
# browser resumes there), then the new log's events after 45, once.
wait_for "the SSE stream to reach seq 75" 20 sh -c "grep '^id: ' '$ART/sse.txt' | tail -n 1 | grep -qx 'id: 75'"
check_list "/stream: ids 41..60, the regression frame (45), then the new log after 45 once" \
  "$(seq 41 60; echo 45; new_log "" | cut -d' ' -f1)" "$(sed -n 's/^id: //p' "$ART/sse.txt")"
check_list "/stream: after the regression, exactly the new log's events (seq, id)" \
  "$(new_log "")" "$(sed -n 's/^data: //p' "$ART/sse.txt" | tail -n +22 | jq -r '"\(.seq) \(.id)"')"
check "/stream: the regression frame says what happened" \
  '{"type":"stream.regression","head":45,"seen":60,"message":"head regression: the log'"'"'s head is 45, below seq 60 already seen; resynchronising from the new log"}' \
  "$(grep -A2 '^event: stream.regression' "$ART/sse.txt" | sed -n 's/^data: //p')"
kill "$SSE" 2>/dev/null; wait "$SSE" 2>/dev/null
http GET /metrics
check "gateway /metrics counts the regression" 1 "$(sed -n 's/^gf_gateway_head_regressions_total //p' "$ART/body.json")"
check "the gateway logs the regression" 1 "$(grep -c "stream: head regression: the log's head is 45, below seq 60 already seen" "$ART/gateway.log")"
check "gridctl watch counts the regression" 1 \
  "$(grep -c "watch: 1 head regressions" "$ART/all.err")"
check "the Python client counts the regression" "regressions 1" "$(tail -n 1 "$ART/py.err")"
check "no sanitizer report from gridctl" 0 "$(cat "$ART"/*.err | grep -c -E "$SANITIZER_RE")"

# --- the log goes back under a running relay (its connection kept): it
# publishes from the log's head again instead of waiting for seqs above
# its old head that the new log reaches only much later.
start_capture
sql "DELETE FROM case_events WHERE seq > 70" >/dev/null
went_back() { grep -q "relay: the log's head went back from seq 75 to 70; publishing from there" "$ART/relay@2.log"; }
wait_for "the running relay to see the log's head go back" 10 went_back
insert_events 3
stop_capture
check "the running relay publishes the new log's 71..73 live" "71 72 73" \
  "$(cut -d' ' -f1 "$ART/capture.txt" | tr '\n' ' ' | sed 's/ $//')"
finish
