#!/usr/bin/env bash
# Issue 16, item 4: notices into a signed-in browser.  gf-gateway as its own
# LOGIN user (member of gf_gateway only).  GET /notices streams the
# person's app messages (server-sent events) and POST /notices/ack records
# the receipt (送达有签收).  A new complaint for the L3 leader's grid reaches
# the leader's open stream within seconds while the gateway's safety poll is
# a minute away: it came by the stream's wake-up, not by the poll.  Without
# a session: 401; the receipt needs the CSRF token; another person's
# delivery cannot be acknowledged; an acknowledged notice never comes
# back; a resumed stream (Last-Event-ID) starts after what it had; a phone
# app of the same person gets its push for what the browser has not
# acknowledged; logout everywhere ends an open stream.  GET /notices.json:
# the same inbox at once (what the workbench app reads).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/gateway_lib.sh"
new_db
sql "DELETE FROM delivery_quiet" >/dev/null
start_stack

CTL=(env GF_DB="$GF_DB options=-crole=gf_ctl" "$BIN/gridctl")
PW='notice board 63'
printf '%s\n' "$PW" | "${CTL[@]}" user add "$L3" --password-stdin >/dev/null
printf '%s\n' "$PW" | "${CTL[@]}" user add "$L3B" --password-stdin >/dev/null
GWUSER=gft_notices_gw
PGOPTIONS="-c client_min_messages=warning" sql "DROP ROLE IF EXISTS $GWUSER; CREATE ROLE $GWUSER LOGIN IN ROLE gf_gateway" >/dev/null
# The safety poll a minute away: what arrives sooner came by the wake-up.
start_gateway GF_DB="$GF_DB user=$GWUSER" GF_NOTICE_POLL_MS=60000

# login PERSON: the session cookie into $ART/PERSON.jar, its CSRF token printed.
login() {
  curl -s -c "$ART/$1.jar" -H 'Content-Type: application/json' \
    -d "{\"person\":\"$1\",\"password\":\"$PW\"}" "$URL/auth/login" | jq -r .csrf
}
# cookie PERSON: the Cookie header of its session (the cookie is Secure:
# curl would not send it over plain HTTP by itself).
cookie() { printf 'gf_session=%s' "$(awk '$6 == "gf_session" {print $7}' "$ART/$1.jar")"; }
CSRF=$(login "$L3")
CSRFB=$(login "$L3B")
check "both signed in" "64 64" "${#CSRF} ${#CSRFB}"

http GET /notices
check "GET /notices without a session: 401" 401 "$STATUS"
http GET /notices -H "Cookie: gf_session=$(printf '0%.0s' {1..64})"
check "with an unknown session: 401" 401 "$STATUS"
http POST /notices/ack -H 'Content-Type: application/json' -d '{"delivery":1}'
check "POST /notices/ack without a session: 401" 401 "$STATUS"
http PUT /notices -H "Cookie: $(cookie "$L3")"
check "PUT /notices: 405" 405 "$STATUS"

# stream NAME PERSON [CURL ARGS...]: follow PERSON's notices into $ART/NAME.sse.
stream() {
  local name=$1 person=$2; shift 2
  curl -s -N -H "Cookie: $(cookie "$person")" "$@" "$URL/notices" >"$ART/$name.sse" 2>/dev/null &
  PIDS[$name]=$!
  wait_for "$name: stream open" 10 grep -q "gridflow notices" "$ART/$name.sse"
}
# has_notices NAME N: NAME's stream has sent at least N notices.
has_notices() { [ "$(grep -c '^event: notice' "$ART/$1.sse")" -ge "$2" ]; }
# notices FILE: "delivery case" per notice in FILE, as the stream sent them.
notices() { grep '^data: ' "$1" | sed 's/^data: //' | jq -r '"\(.delivery) \(.case)"'; }
app_ids() { # app_ids PERSON: its outstanding app deliveries, "delivery case" each
  sql "SELECT d.id || ' ' || n.case_id FROM deliveries d JOIN notifications n ON n.id = d.notification
        WHERE d.channel = 'app' AND d.address = '$1' AND d.state <> 'acked' ORDER BY d.id"
}

stream live "$L3"
stream other "$L3B"
T0=$(date +%s%N)
"$BIN/gridctl" submit --source hotline --ref NOTE-1 --text "楼道灯不亮" --grid QNL.07.063 >/dev/null
C1=$(sql "SELECT id FROM cases WHERE source_ref = 'NOTE-1'")
wait_for "the leader's notice on the open stream" 20 grep -q '^event: notice' "$ART/live.sse"
MS=$(( ($(date +%s%N) - T0) / 1000000 ))
if [ $MS -lt 20000 ]; then ok "the notice arrived ${MS} ms after the complaint (the safety poll is 60 s away)"
else not_ok "the notice took ${MS} ms"; fi
D1=$(app_ids "$L3" | awk -v c="$C1" '$2 == c {print $1}')
check "it is the leader's app delivery of that case" "$D1 $C1" "$(notices "$ART/live.sse")"
check "its text is the notification's (新案件待签收)" \
  "$(sql "SELECT n.text FROM deliveries d JOIN notifications n ON n.id = d.notification WHERE d.id = $D1")" \
  "$(grep '^data: ' "$ART/live.sse" | sed 's/^data: //' | jq -r .text)"
grep '^data: ' "$ART/live.sse" | sed 's/^data: //' | jq -r .text | grep -q '待签收' &&
  ok "the text says 待签收" || not_ok "the text says 待签收"
check "the SSE id is the delivery" "id: $D1" "$(grep '^id: ' "$ART/live.sse")"
sleep 1
check "another grid's leader got nothing" 0 "$(grep -c '^event: notice' "$ART/other.sse")"
check "reading changed nothing: still outstanding" "pending" \
  "$(sql "SELECT state FROM deliveries WHERE id = $D1")"

# --- the receipt ------------------------------------------------------------------
ack() { # ack PERSON CSRF DELIVERY
  http POST /notices/ack -H "Cookie: $(cookie "$1")" -H "X-CSRF-Token: $2" \
    -H 'Content-Type: application/json' -d "{\"delivery\":$3}"
}
ack "$L3" "" "$D1"
check "a receipt without the CSRF token: 403, nothing changed" "403 pending" \
  "$STATUS $(sql "SELECT state FROM deliveries WHERE id = $D1")"
http POST /notices/ack -H "Cookie: $(cookie "$L3")" -H "X-CSRF-Token: $CSRF" \
  -H "Origin: https://evil.example" -H 'Content-Type: application/json' -d "{\"delivery\":$D1}"
check "a receipt from another site: 403, nothing changed" "403 pending" \
  "$STATUS $(sql "SELECT state FROM deliveries WHERE id = $D1")"
ack "$L3B" "$CSRFB" "$D1"
check "another person cannot acknowledge it" "200 false pending" \
  "$STATUS $(jbody .acked) $(sql "SELECT state FROM deliveries WHERE id = $D1")"
ack "$L3" "$CSRF" abc
check "a delivery that is not an id: 400" 400 "$STATUS"
ack "$L3" "$CSRF" "$D1"
check "the leader's receipt: acknowledged (送达有签收)" "200 true acked" \
  "$STATUS $(jbody .acked) $(sql "SELECT state FROM deliveries WHERE id = $D1 AND acked_at IS NOT NULL")"
ack "$L3" "$CSRF" "$D1"
check "twice: not a second receipt" "200 false" "$STATUS $(jbody .acked)"
http POST /notices/ack -H "Cookie: $(cookie "$L3")" -H "X-CSRF-Token: $CSRF" -d "delivery=$D1"
check "the same as a form field" "200 false" "$STATUS $(jbody .acked)"

# --- a new stream, and a resumed one ---------------------------------------------
"$BIN/gridctl" submit --source hotline --ref NOTE-2 --text "垃圾未清运" --grid QNL.07.063 >/dev/null
C2=$(sql "SELECT id FROM cases WHERE source_ref = 'NOTE-2'")
wait_for "the second notice on the open stream" 20 has_notices live 2
D2=$(app_ids "$L3" | awk -v c="$C2" '$2 == c {print $1}')
stream fresh "$L3"
wait_for "a new stream's backlog" 10 grep -q '^event: notice' "$ART/fresh.sse"
sleep 1
check "a new stream: the outstanding notice only, not the acknowledged one" "$D2 $C2" \
  "$(notices "$ART/fresh.sse")"
"$BIN/gridctl" submit --source hotline --ref NOTE-3 --text "路面积水" --grid QNL.07.063 >/dev/null
C3=$(sql "SELECT id FROM cases WHERE source_ref = 'NOTE-3'")
wait_for "the third notice on the open stream" 20 has_notices live 3
D3=$(app_ids "$L3" | awk -v c="$C3" '$2 == c {print $1}')
stream resumed "$L3" -H "Last-Event-ID: $D2"
wait_for "the resumed stream's notice" 10 grep -q '^event: notice' "$ART/resumed.sse"
sleep 1
check "resumed after $D2: only what came after" "$D3 $C3" "$(notices "$ART/resumed.sse")"
http GET "/notices?after=-1" -H "Cookie: $(cookie "$L3")"
check "a resume point that is not a delivery id: 400" 400 "$STATUS"
http GET /notices.json -H "Cookie: $(cookie "$L3")"
check "GET /notices.json: the same two outstanding, at once" "200 $D2,$D3 $C2,$C3" \
  "$STATUS $(jbody '[.notices[].delivery] | join(",")') $(jbody '[.notices[].case] | join(",")')"
http GET "/notices.json?after=$D2" -H "Cookie: $(cookie "$L3")"
check "GET /notices.json?after=$D2: what came after" "200 $D3" "$STATUS $(jbody '[.notices[].delivery] | join(",")')"
http GET /notices.json -H "Cookie: $(cookie "$L3B")"
check "another grid's leader: none of them" "200 0" "$STATUS $(jbody '.notices | length')"
http GET /notices.json
check "GET /notices.json without a session: 401" 401 "$STATUS"

# --- a phone app of the same person still gets its push ---------------------------
TOKEN=$("$BIN/gridctl" notify token "$L3")
"$TOOLS/app_client" "$GF_APP" "$L3" "$TOKEN" noack 2000 >"$ART/app.txt"
check "the phone app: the two the browser has not acknowledged, not the one it has" "$C2 $C3" \
  "$(awk '$1 == "message" {print $3}' "$ART/app.txt" | sort -n | tr '\n' ' ' | sed 's/ $//')"

# --- logout everywhere ends the open streams --------------------------------------
http POST /auth/logout-all -H "Cookie: $(cookie "$L3")" -H "X-CSRF-Token: $CSRF"
check "logout everywhere" 200 "$STATUS"
gone() { ! kill -0 "${PIDS[$1]}" 2>/dev/null; }
# The stream checks its session at its next poll (60 s here); a gateway
# with a short poll ends it within that.
stop_gateway_streams() { for s in live fresh resumed; do kill "${PIDS[$s]}" 2>/dev/null; wait "${PIDS[$s]}" 2>/dev/null; unset "PIDS[$s]"; done; }
stop_gateway_streams
kill -TERM "${PIDS[gateway]}"; wait "${PIDS[gateway]}"; unset "PIDS[gateway]"
start_gateway GF_DB="$GF_DB user=$GWUSER" GF_NOTICE_POLL_MS=500
CSRF=$(login "$L3")
stream after "$L3"
http POST /auth/logout-all -H "Cookie: $(cookie "$L3")" -H "X-CSRF-Token: $CSRF"
wait_for "the open stream ended after logout everywhere" 10 gone after
unset "PIDS[after]"
ok "a stream ends when its session does"
kill "${PIDS[other]}" 2>/dev/null; wait "${PIDS[other]}" 2>/dev/null; unset "PIDS[other]"
finish
