#!/usr/bin/env bash
# test: long 35 (seconds on a quiet machine: the long ones start first)
# Issue 6, acceptance 3: the gateway's server-sent events.  A client that is
# away for 1,000+ events and reconnects with Last-Event-ID receives exactly
# the events it missed (each once, in seq order, the same types as the log),
# both when the gateway still holds them in memory and when they have left
# its buffer and come from a relay replay.  Also: ?since=, the grid and
# types filters; a slow client does not hold back the others, is cut off once it
# lags past the gateway's buffer, and resumes.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/gateway_lib.sh"
new_db
start_stack
# Gateway A: the default 10,000-event buffer (resume from memory).
start_gateway
# Gateway B: a 400-event buffer, so a 1,000-event absence needs a replay, while
# the live phase (under 200 events) cannot outrun a live client however late it
# reads (with 100, a loaded machine saw the live client cut off).
URL_B=http://127.0.0.1:$((PORT_BASE + 6))
env GF_HTTP=127.0.0.1:$((PORT_BASE + 6)) GF_SSE_BUFFER=400 GF_SSE_HEARTBEAT_MS=1000 "$BIN/gf-gateway" >>"$ART/gateway_b.log" 2>&1 &
PIDS[gateway_b]=$!
wait_for "gateway B /healthz" 20 curl -sf "$URL_B/healthz"
SSE="python3 $ROOT/tests/tools/sse_client.py"
gw_kiosk # /stream needs a session or a kiosk token (issue 16): the root's, every event

feed() { # feed N SEED PREFIX: N hotline complaints through the intake, then quiescence
  gen_hotline "$1" "$2" --prefix "$3" >"$ART/feed-$3.jsonl" 2>/dev/null
  "$BIN/gf-hotline" --quiet "$ART/feed-$3.jsonl" >>"$ART/feed.out" 2>&1 || not_ok "feed $3"
  wait_for "all events sequenced and consumed" 60 quiescent
}
head_seq() { sql "SELECT coalesce (max (seq), 0) FROM case_events"; }
# expected_from LAST: "seq type grid" of every event after LAST, from the log.
expected_from() { sql "SELECT seq || ' ' || type || ' ' || coalesce (grid, '-') FROM case_events WHERE seq > $1 ORDER BY seq"; }

# --- live clients on A and B; a stalled client on B -----------------------------
$SSE "$URL/stream" "$ART/a1.txt" --ready "$ART/a1.ready" --idle 60000 --until "$ART/until1" &
A1=$!
$SSE "$URL_B/stream" "$ART/b1.txt" --ready "$ART/b1.ready" --idle 60000 --until "$ART/until1" &
B1=$!
# A slow client: reads 1 KiB per 500 ms through a small socket buffer.
$SSE "$URL_B/stream" "$ART/slow.txt" --ready "$ART/stall.ready" --slow 0.5 --rcvbuf 2048 --idle 60000 &
SLOW=$!
wait_for "SSE clients connected" 30 test -f "$ART/a1.ready" -a -f "$ART/b1.ready" -a -f "$ART/stall.ready"
feed 30 11 SSE-A
head_seq >"$ART/until1"
wait "$A1"; check "live client A exits at the head" 0 $?
wait "$B1"; check "live client B exits at the head" 0 $?
H1=$(head_seq)
check_list "live client on A saw every event" "$(expected_from 0)" "$(cat "$ART/a1.txt")"
check_list "live client on B saw every event" "$(expected_from 0)" "$(cat "$ART/b1.txt")"
L=$(tail -n 1 "$ART/a1.txt" | cut -d' ' -f1)
check "the last id seen is the head" "$H1" "$L"

# --- away for 1,000+ events ------------------------------------------------------
N=0
while [ $(($(head_seq) - L)) -lt 1000 ]; do N=$((N + 1)); feed 150 $((20 + N)) SSE-B$N; done
H2=$(head_seq)
note "t=${SECONDS}s: missed while away: $((H2 - L)) events (seq $((L + 1))..$H2)"
[ $((H2 - L)) -ge 1000 ] && ok "client was away for $((H2 - L)) >= 1000 events" || not_ok "too few events"
echo "$H2" >"$ART/until2"
$SSE "$URL/stream" "$ART/a2.txt" --last-id "$L" --until "$ART/until2" --idle 30000
check "reconnect to A with Last-Event-ID ends at the head" 0 $?
check_list "A: exactly the missed events, in order" "$(expected_from "$L")" "$(cat "$ART/a2.txt")"
check "A: count" "$((H2 - L))" "$(wc -l <"$ART/a2.txt")"
$SSE "$URL_B/stream" "$ART/b2.txt" --last-id "$L" --until "$ART/until2" --idle 30000
check "reconnect to B (events left its buffer) ends at the head" 0 $?
check_list "B: exactly the missed events, in order (relay replay)" "$(expected_from "$L")" "$(cat "$ART/b2.txt")"
check "B: count" "$((H2 - L))" "$(wc -l <"$ART/b2.txt")"
check "A served the resume from memory (no replay)" 0 "$(metric "$URL" gf_gateway_sse_replays_total)"
check "B needed one relay replay" 1 "$(metric "$URL_B" gf_gateway_sse_replays_total)"

# --- a resume that continues live: events after the reconnect arrive too ---------
MID=$((L + 500))
$SSE "$URL_B/stream?since=$MID" "$ART/b3.txt" --ready "$ART/b3.ready" --until "$ART/until3" --idle 30000 &
B3=$!
wait_for "resumed client connected" 30 test -f "$ART/b3.ready"
feed 20 40 SSE-C
H3=$(head_seq)
echo "$H3" >"$ART/until3"
wait "$B3"; check "?since= client exits at the new head" 0 $?
check_list "?since= replays then continues live, each event once" "$(expected_from "$MID")" "$(cat "$ART/b3.txt")"

# --- filters -------------------------------------------------------------------------
$SSE "$URL/stream?since=0&grid=QNL.01&types=case.routed,notification.*" "$ART/f.txt" --idle 1500
check_list "grid and types filters" \
  "$(sql "SELECT seq || ' ' || type || ' ' || grid FROM case_events WHERE (grid = 'QNL.01' OR grid LIKE 'QNL.01.%')
          AND (type = 'case.routed' OR type LIKE 'notification.%') ORDER BY seq")" "$(cat "$ART/f.txt")"
note "filtered stream: $(wc -l <"$ART/f.txt") events"
http GET "/stream?since=abc"; check "bad since -> 400" 400 "$STATUS"
http GET "/stream" -H "Last-Event-ID: -1"; check "bad Last-Event-ID -> 400" 400 "$STATUS"
http GET "/stream?grid=qnl;drop"; check "bad grid -> 400" 400 "$STATUS"

note "t=${SECONDS}s"
# --- the slow client ---------------------------------------------------------------
# B's other clients above got every event on time while it lagged; it was cut
# off once it lagged past B's 400-event buffer, and resumes with Last-Event-ID.
wait_for "the slow client to be cut off" 60 sh -c "! kill -0 $SLOW 2>/dev/null"
wait "$SLOW"; check "the slow client's stream was closed by the gateway" 3 $?
check "B counted one lagging client" 1 "$(metric "$URL_B" gf_gateway_sse_overflows_total)"
note "slow client got $(wc -l <"$ART/slow.txt") events before it was cut off"
check_list "what the slow client got is a prefix of the log" "$(expected_from 0 | head -n "$(wc -l <"$ART/slow.txt")")" "$(cat "$ART/slow.txt")"
SL=$(tail -n 1 "$ART/slow.txt" | cut -d' ' -f1)
echo "$H3" >"$ART/until4"
$SSE "$URL_B/stream" "$ART/slow2.txt" --last-id "${SL:-0}" --until "$ART/until4" --idle 30000
check_list "the slow client resumes with Last-Event-ID and gets the rest" "$(expected_from "${SL:-0}")" "$(cat "$ART/slow2.txt")"
# Personal data never reaches the stream: no phone number of any fed complaint.
cat "$ART"/feed-*.jsonl | jq -r 'select(.phone != null) | .phone' | sort -u >"$ART/phones.txt"
curl -s -N --max-time 10 -H "$AUTH" "$URL/stream?since=0" >"$ART/raw-all.txt"
note "$(wc -l <"$ART/phones.txt") phone numbers fed; $(grep -c '^id: ' "$ART/raw-all.txt") events read back"
check "the whole stream was read back" True "$([ "$(grep -c '^id: ' "$ART/raw-all.txt")" -ge "$H3" ] && echo True || echo False)"
check "no resident phone number in the stream" 0 "$(grep -c -F -f "$ART/phones.txt" "$ART/raw-all.txt")"
curl -s -N --max-time 2 -H "$AUTH" "$URL/stream?since=$((H3 - 5))" >"$ART/raw-stream.txt"
check "the raw stream: 5 frames of id/event/data after since=head-5" "5 5 5" \
  "$(grep -c '^id: ' "$ART/raw-stream.txt") $(grep -c '^event: ' "$ART/raw-stream.txt") $(grep -c '^data: {' "$ART/raw-stream.txt")"
finish
