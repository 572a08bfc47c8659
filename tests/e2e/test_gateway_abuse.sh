#!/usr/bin/env bash
# test: exclusive (its assertions are about timing: /healthz within 100 ms under the abuse)
# Issue 13, acceptance 4: HTTP that a hostile client cannot topple.  Against
# a real gf-gateway (as its gf_gateway role) with the real stack behind it:
# 1,000 concurrent SSE clients, 600 slowloris connections, 300 concurrent
# summary reads (tests/tools/http_abuse.py, from addresses 127.0.1-3.x), and
# meanwhile since=2^64-1 and a 10 MB POST.  Throughout: the gateway stays up,
# /healthz on its reserved path (the metrics port, its own thread and
# listening socket) answers within 100 ms (probed every 100 ms), PostgreSQL
# sees at most gateway/db_pool connections from it, and a normal client (from
# 127.0.0.1) is served: the dashboard's JSON, a page, and a live SSE stream
# that sees new events.  Also, unabused: the security headers, the Host
# check, CORS only for the configured origin, 400 for resume points and
# dates that cannot be served, 413 for bodies over the limit before they are
# read (Content-Length, Expect: 100-continue) and a chunked body cut off.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/gateway_lib.sh"
new_db
start_stack
gen_hotline 60 7 --prefix AB >"$ART/feed.jsonl" 2>/dev/null
run_feed --quiet || not_ok "feed"
wait_for "feed routed" 60 quiescent
HP=$((PORT_BASE + 6)) # the gateway's metrics port: /healthz from memory
POOL=8
SSE_MAX=200
ORIGIN=https://dash.example.gov.cn
start_gateway GF_DB="$GF_DB options=-crole=gf_gateway" GF_METRICS=$HP GF_SSE_MAX=$SSE_MAX \
  GF_HTTP_DB_POOL=$POOL GF_HTTP_CORS=$ORIGIN GF_SSE_HEARTBEAT_MS=2000 GF_SSE_BUFFER=100
GWPID=${PIDS[gateway]}
gw_kiosk # the staff reads (/api/*, /stream) need a session or a kiosk token (issue 16)
HEAD=$(sql "SELECT max(seq) FROM case_events")

# --- headers, Host, CORS ------------------------------------------------------------
hdr() { curl -s -o /dev/null -D - -H "$AUTH" "$@" | tr -d '\r'; } # response headers
for path in / /api/summary.json /no-such-file "/stream?since=abc"; do
  hdr "$URL$path" >"$ART/h.txt"
  if grep -q "^Content-Security-Policy: default-src 'self';.*frame-ancestors 'none'" "$ART/h.txt" &&
    grep -q '^X-Content-Type-Options: nosniff' "$ART/h.txt" && grep -q '^X-Frame-Options: DENY' "$ART/h.txt" &&
    grep -q '^Referrer-Policy: no-referrer' "$ART/h.txt"; then ok "security headers on $path"
  else not_ok "security headers on $path: $(tr '\n' '|' <"$ART/h.txt")"; fi
done
http GET /api/summary.json -H "Host: evil.example"; check "a foreign Host -> 400" 400 "$STATUS"
http GET /api/summary.json -H "Host: localhost:$HTTP_PORT"; check "Host localhost -> 200" 200 "$STATUS"
check "no CORS for an origin not configured" "" \
  "$(hdr -H "Origin: https://evil.example" "$URL/api/summary.json" | grep -i '^Access-Control-Allow-Origin')"
check "CORS for the configured origin" "Access-Control-Allow-Origin: $ORIGIN" \
  "$(hdr -H "Origin: $ORIGIN" "$URL/api/summary.json" | grep -i '^Access-Control-Allow-Origin')"

# --- resume points and dates that cannot be served: 400, never 503 or a loop --------
for q in "since=18446744073709551615" "since=9223372036854775808" "since=$((HEAD + 1000))"; do
  http GET "/stream?$q" --max-time 5
  check "/stream?$q -> 400 $(jbody .error | head -c 60)" 400 "$STATUS"
done
http GET /stream -H "Last-Event-ID: 18446744073709551615" --max-time 5
check "Last-Event-ID 2^64-1 -> 400" 400 "$STATUS"
http GET "/open311/v2/requests.json?start_date=2026-02-31"; check "start_date 2026-02-31 -> 400" 400 "$STATUS"
http GET "/open311/v2/requests.json?end_date=2025-02-29T08:00Z"; check "end_date 2025-02-29 -> 400" 400 "$STATUS"
check "no relay replay was started for them" 0 "$(metric "$HTTP_PORT" gf_gateway_sse_replays_total)"
L1=$(wc -l <"$ART/gateway.log"); sleep 2; L2=$(wc -l <"$ART/gateway.log")
check "the gateway's log is quiet afterwards (no error loop)" "$L1" "$L2"

# --- bodies over the limit: refused before they are read ----------------------------
head -c 10485760 /dev/zero | tr '\0' 'a' >"$ART/10mb.txt"
post10() { curl -s -o /dev/null -w '%{http_code} %{size_upload} %{time_total}' --max-time 30 \
  -X POST -H "Content-Type: application/x-www-form-urlencoded" "$@" "$URL/open311/v2/requests.json"; }
read -r code up t < <(post10 --data-binary @"$ART/10mb.txt" -H "Expect: 100-continue")
check "10 MB POST (Expect: 100-continue) -> 413 with no body byte sent (${t}s)" "413 0" "$code ${up%.*}"
read -r code up t < <(post10 --data-binary @"$ART/10mb.txt" -H "Expect:")
note "10 MB POST without Expect: status $code after ${t}s, $up bytes sent before the gateway closed"
case $code in 413 | 000) ok "10 MB POST without Expect refused ($code)" ;; *) not_ok "10 MB POST without Expect: $code" ;; esac
read -r code up t < <(post10 --data-binary @"$ART/10mb.txt" -H "Transfer-Encoding: chunked")
note "10 MB chunked POST: status $code after ${t}s, $up bytes sent"
case $code in 000 | 100 | 413) ok "10 MB chunked POST cut off ($code)" ;; *) not_ok "10 MB chunked POST: $code" ;; esac
check "the gateway counted the refused bodies" 3 "$(metrics "$HTTP_PORT" | awk '$1 == "gf_gateway_http_refused_total{reason=\"body\"}" {print $2}')"
kill -0 "$GWPID" 2>/dev/null && ok "gateway up after the bodies" || not_ok "gateway died"

# --- resumes beyond the ring share the gateway's one replay connection ---------------
# 20 streams from since=0 while the ring holds only the last 100 events: each
# gets every event, and the gateway never has more than its own two
# connections to the relay's replay port (its follower's and the replayer's).
replay_conns() { ss -tnp state established "( dport = :$((PORT_BASE + 2)) )" | grep -c "pid=$GWPID,"; }
RESUMES=()
for i in $(seq 1 20); do
  curl -s -N --max-time 6 --interface 127.0.4.$((i % 2 + 1)) -H "$AUTH" "$URL/stream?since=0" >"$ART/resume-$i.txt" &
  RESUMES+=($!)
done
MAXC=0
for _ in $(seq 1 20); do c=$(replay_conns); [ "$c" -gt "$MAXC" ] && MAXC=$c; sleep 0.2; done
wait "${RESUMES[@]}"
GOT=$(for i in $(seq 1 20); do grep -c '^id: ' "$ART/resume-$i.txt"; done | sort -u | tr '\n' ' ')
check "20 resumes from seq 0 past the 100-event ring: each got all $HEAD events" "$HEAD " "$GOT"
[ "$MAXC" -le 2 ] && ok "the gateway's connections to the relay's replay port stayed at $MAXC (no socket per stream)" ||
  not_ok "the gateway had $MAXC connections to the relay's replay port"
check "they were replays" 20 "$(metric "$HTTP_PORT" gf_gateway_sse_replays_total)"
no_streams() { [ "$(metric "$HTTP_PORT" gf_gateway_sse_clients)" == 0 ]; }
wait_for "the resumed streams to close" 30 no_streams

# --- the caps, one at a time --------------------------------------------------------
# Global SSE cap: 300 streams from 30 addresses (10 each, under the per-address cap).
python3 "$ROOT/tests/tools/http_abuse.py" 127.0.0.1 "$HTTP_PORT" "$ART/cap.json" --sse 300 --sse-sources 30 --hold 4 \
  >"$ART/cap.out" 2>&1 || not_ok "http_abuse.py (cap)"
check "global SSE cap: 300 asked from 30 addresses -> served, 503 with Retry-After" \
  "$SSE_MAX $((300 - SSE_MAX)) $((300 - SSE_MAX))" "$(jq -r '[.sse["200"], .sse["503"], .sse.retry_after] | map(. // 0) | join(" ")' "$ART/cap.json")"
wait_for "the capped streams to close" 30 no_streams
# Request rate: 400 requests on one keep-alive connection from one address.
curl -s --interface 127.0.3.9 -o /dev/null -w '%{http_code}\n' "$URL/no-such-file?n=[1-400]" >"$ART/rate.txt"
R404=$(grep -c '^404$' "$ART/rate.txt"); R429=$(grep -c '^429$' "$ART/rate.txt")
note "400 quick requests from one address: $R404 served (404), $R429 refused (429)"
[ "$R404" -ge 200 ] && [ "$R429" -ge 50 ] && [ $((R404 + R429)) -eq 400 ] &&
  ok "request rate per address: the burst of 200 served, then 429" || not_ok "rate: $R404 x 404, $R429 x 429"
http GET /api/summary.json; check "another address is not limited by it" 200 "$STATUS"

# --- the abuse --------------------------------------------------------------------
probe_health() { # every 100 ms: "status seconds" of GET /healthz on the reserved path
  while [ ! -f "$ART/stop" ]; do
    # From 127.0.0.4: hundreds of client sockets in TIME_WAIT on 127.0.0.1's
    # ephemeral ports would stop the next test binding a port there.
    curl -s --interface 127.0.0.4 -o /dev/null -m 5 -w '%{http_code} %{time_total}\n' \
      "http://127.0.0.1:$HP/healthz" >>"$ART/healthz.txt"
    sleep 0.1
  done
}
count_pg() { # every 500 ms: the gateway's PostgreSQL connections
  while [ ! -f "$ART/stop" ]; do
    sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'gf-gateway' AND datname = current_database ()" >>"$ART/pg.txt"
    sleep 0.5
  done
}
rm -f "$ART/stop" "$ART/healthz.txt" "$ART/pg.txt" "$ART/abuse.done"
probe_health & PROBE=$!
count_pg & PGCOUNT=$!
sleep 1
python3 "$ROOT/tests/tools/http_abuse.py" 127.0.0.1 "$HTTP_PORT" "$ART/abuse.json" --sse 1000 --sse-sources 8 \
  --slowloris 600 --slow-sources 4 --summary 300 --summary-sources 2 --summary-at 8 --hold 60 \
  --ready "$ART/abuse.ready" --until "$ART/abuse.done" --min-hold 20 >"$ART/abuse.out" 2>&1 &
ABUSE=$!
wait_for "the hostile clients to connect" 60 test -f "$ART/abuse.ready"
sleep 2
note "t=${SECONDS}s: under abuse: $(metric "$HTTP_PORT" gf_gateway_sse_clients) SSE streams open"
# A normal client, meanwhile: a live stream that sees new events, the
# dashboard's JSON, a page; since=2^64-1 and a 10 MB POST again.
H0=$(sql "SELECT max(seq) FROM case_events")
python3 "$ROOT/tests/tools/sse_client.py" "$URL/stream?since=$H0" "$ART/normal.txt" --until "$ART/until" \
  --ready "$ART/normal.ready" --idle 30000 &
NORMAL=$!
wait_for "the normal client's stream" 20 test -f "$ART/normal.ready"
gen_hotline 5 99 --prefix ABN >"$ART/feed2.jsonl" 2>/dev/null
"$BIN/gf-hotline" --quiet "$ART/feed2.jsonl" >>"$ART/feed.out" 2>&1 || not_ok "feed during the abuse"
wait_for "the new complaints routed" 60 quiescent
sql "SELECT max(seq) FROM case_events" >"$ART/until"
sleep 3 # the summary reads are under way now
T0=$(date +%s%N)
http GET /api/summary.json --max-time 10
check "normal client: /api/summary.json during the abuse ($((($(date +%s%N) - T0) / 1000000)) ms)" 200 "$STATUS"
http GET /directory --max-time 10; check "normal client: a page during the abuse" 200 "$STATUS"
http GET /healthz --max-time 10; check "normal client: the main port's /healthz during the abuse" 200 "$STATUS"
http GET "/stream?since=18446744073709551615" --max-time 5; check "since=2^64-1 during the abuse -> 400" 400 "$STATUS"
read -r code up t < <(post10 --data-binary @"$ART/10mb.txt")
check "10 MB POST during the abuse -> 413 before the body (${t}s)" "413 0" "$code ${up%.*}"
wait "$NORMAL"; check "normal client's stream saw the new events (to seq $(cat "$ART/until"))" 0 $?
kill -0 "$ABUSE" 2>/dev/null && ok "all of that while the hostile clients were still connected" ||
  not_ok "the abuse had ended before the normal client was done (raise --hold)"
touch "$ART/abuse.done" # the hostile clients let go now (20 s after they came at the least), not after --hold
check_list "... each once, in order" "$(sql "SELECT seq || ' ' || type || ' ' || coalesce (grid, '-') FROM case_events WHERE seq > $H0 ORDER BY seq")" \
  "$(cat "$ART/normal.txt")"
wait "$ABUSE"; check "the abuse tool ran" 0 $?
note "abuse outcomes: $(cat "$ART/abuse.json")"
touch "$ART/stop"; wait "$PROBE" "$PGCOUNT"

# --- what held ---------------------------------------------------------------------
kill -0 "$GWPID" 2>/dev/null && ok "the gateway stayed up" || not_ok "the gateway died"
N=$(wc -l <"$ART/healthz.txt")
SLOW=$(awk '$1 != 200 || $2 > 0.100' "$ART/healthz.txt" | wc -l)
MAX=$(sort -k2 -g "$ART/healthz.txt" | tail -n 1 | cut -d' ' -f2)
P99=$(sort -k2 -g "$ART/healthz.txt" | awk -v n="$N" 'NR == int(n * 0.99) {print $2}')
note "/healthz: $N probes, slowest ${MAX}s, p99 ${P99}s, $SLOW not 200 within 100 ms"
[ "$N" -ge 100 ] && ok "/healthz probed $N times throughout" || not_ok "only $N /healthz probes"
check "/healthz (reserved path) answered 200 within 100 ms every time" 0 "$SLOW"
PGMAX=$(sort -n "$ART/pg.txt" | tail -n 1)
note "gateway PostgreSQL connections: $(wc -l <"$ART/pg.txt") samples, at most $PGMAX"
[ "${PGMAX:-99}" -le $POOL ] && ok "PostgreSQL connections stayed within the pool ($PGMAX <= $POOL)" ||
  not_ok "PostgreSQL connections: $PGMAX > pool $POOL"
j() { jq -r "$1" "$ART/abuse.json"; }
check "SSE streams served: 16 per address from 8 addresses (gateway/sse_per_ip)" 128 "$(j '.sse["200"] // 0')"
[ "$(j '.sse["503"] // 0')" -gt 0 ] && [ "$(j '.sse["503"] // 0')" == "$(j '.sse.retry_after // 0')" ] &&
  ok "SSE over the cap: $(j '.sse["503"]') x 503, each with Retry-After" || not_ok "SSE over the cap: $(j .sse)"
[ "$(j '.slowloris.refused // 0')" -gt 0 ] && ok "per-address connection limit refused $(j .slowloris.refused) slowloris connections" ||
  not_ok "no slowloris connection refused per address: $(j .slowloris)"
[ "$(j '.slowloris.open // 0')" -le 128 ] && ok "slowloris connections held: $(j '.slowloris.open // 0') <= 4 x 32 per IP" ||
  not_ok "slowloris held $(j .slowloris.open)"
[ "$(j '.summary["200"] // 0')" -gt 0 ] && ok "summary reads: $(j .summary)" || not_ok "no summary read served: $(j .summary)"
[ "$(j '.summary["500"] // 0')" -eq 0 ] && ok "no 500 among the summary reads" || not_ok "500s: $(j .summary)"
wait_for "the SSE streams to close" 30 no_streams
http GET /api/summary.json; check "normal client served after the abuse" 200 "$STATUS"
note "refused: $(metrics "$HTTP_PORT" | grep '^gf_gateway_http_refused_total' | tr '\n' ' ')"
finish
