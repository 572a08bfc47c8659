#!/usr/bin/env bash
# Issue 7, acceptance 3 (and the least-privilege roles in real use): a full
# end-to-end run — CurveZMQ intake, every service connected as its own
# PostgreSQL role (options=-crole=gf_*), verbose logs, hotline feed with
# known resident names, phones and exact addresses, staff actions, a weekly
# and a monthly meeting with escalations — then no name, phone or exact
# address appears in any published event (the raw stream, a live and a
# replaying subscriber) or in any log line.  The data is in the database
# (the test would see a leak), and readable there only by roles allowed to.
source "$(dirname "$0")/lib.sh"
new_db
G="$BIN/gridctl"
"$G" calendar import >"$ART/calendar.out" 2>&1 || not_ok "calendar import"
"$G" clock set "2026-11-02T08:00:00+08:00" >/dev/null # a Monday, before the 09:00 meetings

CERTS=$ART/certs
mkdir -p "$CERTS"
{
  "$G" --certs "$CERTS" cert server "$ART/server.cert"
  "$G" --certs "$CERTS" cert new hotline --kind adapter --grid QNL --sources hotline --out "$ART/hotline.cert"
  "$G" --certs "$CERTS" cert new office --kind staff --grid QNL --out "$ART/office.cert"
  "$G" --certs "$CERTS" cert new watcher --kind subscriber --grid QNL --out "$ART/watcher.cert"
} >"$ART/cert.out" 2>&1 || not_ok "certificates"
as_role() { echo "$GF_DB options=-crole=$1"; }
# A real SMS gateway that fails a third of the time, so that the notifier
# sends, retries and logs failures.  It receives residents' phones by design
# (texting them is its job): its own output is not searched.
start_sms_gateway "$ART/sms-gateway.txt" --fail 0.3 --seed 3 --token t0k
trap 'kill $GW 2>/dev/null; stop_all' EXIT
sql "UPDATE delivery_policy SET max_attempts = 3, backoff_ms = 20, backoff_max_ms = 100, rate_limit = 0
      WHERE channel = 'sms'"
export GF_SMS_URL=http://127.0.0.1:$GW_PORT/sms GF_SMS_TOKEN=t0k GF_SMS_TIMEOUT_MS=1000
export GF_CURVE=on
start relay -v --db "$(as_role gf_relay)" --cert "$ART/server.cert" --certs "$CERTS"
start intake -v --db "$(as_role gf_intake)" --cert "$ART/server.cert" --certs "$CERTS"
start router -v --db "$(as_role gf_router)"
start notifier -v --db "$(as_role gf_notifier)" --cert "$ART/server.cert" --certs "$CERTS"
start escalator -v --db "$(as_role gf_escalator)"
wait_for "intake port" 30 port_open $((PORT_BASE + 0))
wait_for "consumers" 10 sql_eq "SELECT count(*) FROM consumer_checkpoints" 2
wait_for "escalation to start" 10 sql_eq "SELECT count(*) FROM escalation_state" 1

GF_CERT=$ART/watcher.cert GF_RELAY_CERT=$ART/server.cert "$TOOLS/capture" "$GF_PUB" "$ART/capture.ready" 600000 "$ART/bodies.bin" >"$ART/capture.txt" 2>"$ART/capture.err" &
CAPTURE=$!
wait_for "subscriber to be connected" 10 test -f "$ART/capture.ready"
"$G" watch --json --cert "$ART/watcher.cert" --relay-cert "$ART/server.cert" >"$ART/live.jsonl" 2>"$ART/watch-live.log" &
WATCH=$!

# 200 records; every resident named gets a name and a phone no other text
# could contain, so any occurrence is a leak.
gen_hotline 200 11 --start 2026-11-02T07:00:00+08:00 2>/dev/null | python3 -c '
import json, sys
for i, line in enumerate(sys.stdin):
    r = json.loads(line)
    r.pop("caller", None)
    r.pop("phone", None)
    if i % 3 != 2:
        r["caller"] = "居民秘%03d号" % i
        r["phone"] = "1370%07d" % (4200000 + i)
    print(json.dumps(r, ensure_ascii=False))' >"$ART/feed.jsonl"
python3 - "$ART/feed.jsonl" >"$ART/secrets.txt" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    for k in ("caller", "phone", "address"):
        if r.get(k):
            print(r[k])
PY
note "secrets to look for: $(wc -l <"$ART/secrets.txt") (names, phones, exact addresses)"

"$BIN/gf-hotline" -v --cert "$ART/hotline.cert" --server-cert "$ART/server.cert" "$ART/feed.jsonl" \
  >"$ART/feed.out" 2>"$ART/hotline.log"
check "feed over CurveZMQ" "accepted 200, duplicate 0, rejected 0, failed 0" "$(cat "$ART/feed.out")"
wait_for "pipeline to drain" 60 quiescent
check "every case routed or unroutable, under the services' own roles" 0 \
  "$(sql "SELECT count(*) FROM cases WHERE state = 'registered'")"
check "every routed case notified to its grid leader (the notifier's role suffices)" 0 \
  "$(sql "SELECT count(*) FROM cases c WHERE c.state = 'routed' AND NOT EXISTS (SELECT 1 FROM notifications n
           JOIN people p ON p.id = n.recipient WHERE n.case_id = c.id AND p.role = 'leader')")"
wait_for "SMS deliveries sent or dead-lettered" 90 \
  sql_eq "SELECT count(*) FROM deliveries WHERE channel = 'sms' AND state = 'pending'" 0
check "SMS to residents went out through the gateway (and some failed first)" "t t" \
  "$(sql "SELECT count(*) > 0 FROM deliveries d JOIN notifications n ON n.id = d.notification
           WHERE d.channel = 'sms' AND n.audience = 'resident' AND d.state = 'sent'") $(sql "SELECT count(*) > 0 FROM deliveries WHERE attempts > 1")"

# Staff work on a few cases, through the intake, as the office identity.
OFFICE=(--cert "$ART/office.cert" --server-cert "$ART/server.cert")
for id in $(sql "SELECT id FROM cases WHERE state = 'routed' ORDER BY id LIMIT 5"); do
  leader=$(sql "SELECT p.id FROM cases c JOIN people p ON p.grid = c.grid AND p.role = 'leader' WHERE c.id = $id")
  act "$id" sign --actor "$leader" "${OFFICE[@]}"
  act "$id" resolve --actor "$leader" --note "已上门处理" "${OFFICE[@]}"
done
check "staff actions applied" 5 "$(sql "SELECT count(*) FROM cases WHERE state = 'resolved'")"

# Meetings and escalations: the weekly L2 and monthly L1 meetings open at
# 09:00, the next week's too; nobody closes them, so 48 h later the safety
# net lapses them and the unresolved cases move to L2.
settled() { sql_eq "SELECT count(*) >= 13 FROM meetings" t; }
"$G" clock set "2026-11-02T09:00:00+08:00" >/dev/null
wait_for "the meetings of 2 November" 60 settled
"$G" clock set "2026-11-09T09:00:00+08:00" >/dev/null
wait_for "the next weekly meetings" 60 sql_eq "SELECT count(*) >= 25 FROM meetings" t
"$G" clock set "2026-11-11T09:00:00+08:00" >/dev/null
wait_for "the lapse of the weekly meetings and their escalations" 60 \
  sql_eq "SELECT count(*) >= 25 AND (SELECT count(*) FROM escalations) > 0 FROM meetings WHERE kind = 'monthly' OR state = 'lapsed'" t
check "escalator worked under its role (meetings, escalations)" "t" \
  "$(sql "SELECT count(*) >= 25 AND (SELECT count(*) FROM escalations) > 0 FROM meetings")"

stop_capture
kill -TERM "$WATCH" 2>/dev/null; wait "$WATCH" 2>/dev/null
"$G" watch --since 0 --json --idle 1500 --cert "$ART/watcher.cert" --relay-cert "$ART/server.cert" >"$ART/replay.jsonl" 2>"$ART/watch-replay.log"
total=$(sql "SELECT count(*) FROM case_events")
# PUB/SUB may drop under load (guarantee 3 relies on the log, not on it): the
# raw capture is searched for what it saw, the replay covers every event.
note "raw capture: $(wc -l <"$ART/capture.txt") of $total events"
check "the raw capture saw events of every kind that carries text" 0 \
  "$(for t in case.received/ case.unroutable/ notify/; do grep -q " $t" "$ART/capture.txt" || echo "$t"; done | wc -l)"
check "the replaying subscriber got every event" "$total" "$(wc -l <"$ART/replay.jsonl")"
check "event types seen include escalations, meetings and notifications" 3 \
  "$(for t in case.escalated/ meeting.opened/ notify/; do grep -q " $t" "$ART/capture.txt" && echo "$t"; done | wc -l)"

# Positive control: the data is really there, and masked forms do travel.
named=$(grep -c '"caller"' "$ART/feed.jsonl")
check "names and phones are stored" "$named $named" \
  "$(sql "SELECT count(name) || ' ' || count(phone) FROM cases")"
check "masked phones are on the stream" "t" \
  "$(grep -q -E '137\*\*\*\*[0-9]{4}' "$ART/bodies.bin" && echo t || echo f)"

# The check itself: every secret, as a fixed string, everywhere.
stop_all
kill $GW 2>/dev/null
logs=$(ls "$ART"/*.log "$ART"/*.err "$ART"/*.out 2>/dev/null)
leaks() { grep -a -F -o -f "$ART/secrets.txt" "$@" 2>/dev/null | sort -u | head -5 | tr '\n' ' '; }
check "no name, phone or exact address in the raw published stream" "" "$(leaks "$ART/bodies.bin")"
check "none in the live subscriber's events" "" "$(leaks "$ART/live.jsonl")"
check "none in the replayed events" "" "$(leaks "$ART/replay.jsonl")"
check "none in any service, adapter or tool log ($(echo $logs | wc -w) files)" "" "$(leaks $logs)"
check "logs are not empty (verbose services logged)" "t" \
  "$([ "$(cat $logs | wc -l)" -gt 50 ] && echo t || echo f)"

# Readable only through authorised queries.
sqlr() { "$PSQL_BIN" -X -q -t -A -d "$GF_DB" -c "SET ROLE $1" -c "$2" 2>&1 | tail -1; }
check "the gateway role cannot read phones from cases" "ERROR:  permission denied for table cases" \
  "$(sqlr gf_gateway "SELECT phone FROM cases LIMIT 1")"
check "the gateway role reads the masked view" "t" \
  "$(sqlr gf_gateway "SELECT bool_and(phone_masked ~ '^137\*\*\*\*[0-9]{4}$') FROM cases_public WHERE phone_masked IS NOT NULL")"
check "the relay role reads no case at all" "ERROR:  permission denied for table cases" \
  "$(sqlr gf_relay "SELECT count(*) FROM cases")"
check "the notifier role cannot read names" "ERROR:  permission denied for table cases" \
  "$(sqlr gf_notifier "SELECT name FROM cases LIMIT 1")"
check "the intake role (authorised) reads them" "$named" \
  "$(sqlr gf_intake "SELECT count(name) FROM cases")"
finish
