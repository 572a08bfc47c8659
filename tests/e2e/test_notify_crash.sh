#!/usr/bin/env bash
# Issue 5, acceptance 5: kill -9 the notifier again and again in the middle of
# a 10,000-message run: nothing is lost, and nothing is sent twice through the
# dedupe-honouring gateway (resends after a kill carry the same key).
source "$(dirname "$0")/lib.sh"
new_db
COUNT=${NOTIFY_CRASH_COUNT:-11200}
start_sms_gateway "$ART/gateway.log"
trap 'kill $GW 2>/dev/null; stop_all' EXIT
# One SMS per routed case: only grid leaders have the SMS channel here.
sms_to_leaders_only
start_stack
gen_hotline $COUNT 21 >"$ART/feed.jsonl" 2>/dev/null
run_feed &
FEED=$!
sent() { sql "SELECT count(*) FROM deliveries WHERE channel = 'sms' AND state = 'sent'"; }
kills=0
for at in 1500 3500 5500 8000; do
  wait_for "$at SMS sent" 120 eval "[ \$(sent) -ge $at ]"
  kill9 notifier
  kills=$((kills + 1))
  note "notifier killed (kill -9) at $(sent) SMS sent"
  sleep 0.3 # down for a moment while messages wait: the subject, not a wait
  start notifier
done
wait $FEED
check "feed accepted" "accepted $COUNT, duplicate 0, rejected 0, failed 0" "$(cat "$ART/feed.out")"
wait_for "pipeline to drain" 120 quiescent
total=$(sql "SELECT count(*) FROM deliveries WHERE channel = 'sms'")
wait_for "every SMS sent" 120 sql_eq "SELECT count(*) FROM deliveries WHERE channel = 'sms' AND state <> 'sent'" 0
stats=$(curl -s "http://127.0.0.1:$GW_PORT/stats")
note "$total SMS after $kills kills; gateway: $stats"
check "at least 10,000 messages" yes "$([ "$total" -ge 10000 ] && echo yes || echo no)"
check "one SMS per routed case, to its leader" 0 \
  "$(sql "SELECT count(*) FROM cases c LEFT JOIN (SELECT n.case_id, count(*) AS k FROM deliveries d
           JOIN notifications n ON n.id = d.notification WHERE d.channel = 'sms' GROUP BY n.case_id) s
           ON s.case_id = c.id WHERE c.state = 'routed' AND coalesce(s.k, 0) <> 1")"
check "the gateway delivered every message exactly once" "$total" "$(gw delivered)"
curl -s "http://127.0.0.1:$GW_PORT/keys" >"$ART/gateway.keys"
sql "SELECT dedupe_key FROM deliveries WHERE channel = 'sms' ORDER BY 1" >"$ART/all.keys"
check "and exactly the outbox's keys" "" "$(diff "$ART/all.keys" "$ART/gateway.keys" | head -3)"
note "resends after kills, recognised by dedupe key: $(gw duplicates)"
check "no dead letters" 0 "$(sql "SELECT count(*) FROM deliveries WHERE state = 'dead'")"
kill $GW 2>/dev/null
finish
