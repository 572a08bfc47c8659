#!/usr/bin/env bash
# Issue 5, acceptance 1: an SMS gateway that fails 30% of requests with 500s
# and lets 10% time out.  Every SMS is delivered exactly once (by dedupe key)
# or dead-lettered after the configured attempts; none is lost; the counts
# add up.  Then the dead letters are re-driven to a healthy gateway.
source "$(dirname "$0")/lib.sh"
new_db
start_sms_gateway "$ART/gateway.log" --fail 0.3 --timeout 0.1 --delay 0.6 --seed 5 --token s3cret
trap 'kill $GW 2>/dev/null; stop_all' EXIT

MAX=5
sql "UPDATE delivery_policy SET max_attempts = $MAX, backoff_ms = 50, backoff_max_ms = 400, rate_limit = 0
      WHERE channel = 'sms'"
sql "DELETE FROM delivery_quiet"   # quiet hours off: staff messages go at any hour
export GF_SMS_URL=http://127.0.0.1:$GW_PORT/sms GF_SMS_TOKEN=s3cret GF_SMS_TIMEOUT_MS=300
start_stack

gen_hotline 300 11 >"$ART/feed.jsonl" 2>/dev/null
run_feed
check "feed accepted" "accepted 300, duplicate 0, rejected 0, failed 0" "$(cat "$ART/feed.out")"
wait_for "pipeline to drain" 60 quiescent
total=$(sql "SELECT count(*) FROM deliveries WHERE channel = 'sms'")
note "SMS deliveries: $total"
check "SMS deliveries: every staff phone and every resident phone" \
  "$(sql "SELECT (SELECT count(*) FROM notifications n JOIN people p ON p.id = n.recipient WHERE p.phone IS NOT NULL)
               + (SELECT count(*) FROM notifications WHERE recipient IS NULL)")" "$total"
wait_for "every SMS sent or dead-lettered" 180 \
  sql_eq "SELECT count(*) FROM deliveries WHERE channel = 'sms' AND state = 'pending'" 0
sent=$(sql "SELECT count(*) FROM deliveries WHERE channel = 'sms' AND state = 'sent'")
dead=$(sql "SELECT count(*) FROM deliveries WHERE channel = 'sms' AND state = 'dead'")
curl -s "http://127.0.0.1:$GW_PORT/keys" >"$ART/gateway.keys"
sql "SELECT dedupe_key FROM deliveries WHERE channel = 'sms' AND state = 'sent' ORDER BY 1" >"$ART/sent.keys"
sql "SELECT dedupe_key FROM deliveries WHERE channel = 'sms' ORDER BY 1" >"$ART/all.keys"
note "gateway: requests $(gw requests), delivered $(gw delivered), duplicates $(gw duplicates), 500s $(gw errors), timeouts $(gw timeouts)"
note "outbox: sent $sent, dead $dead"
check "counts add up: sent + dead = deliveries" "$total" "$((sent + dead))"
check "the gateway failed requests as configured (some 500s and timeouts)" yes \
  "$([ "$(gw errors)" -gt 0 ] && [ "$(gw timeouts)" -gt 0 ] && echo yes || echo no)"
check "the retries carried the same key (duplicates recognised by the gateway)" yes \
  "$([ "$(gw duplicates)" -gt 0 ] && echo yes || echo no)"
check "every sent SMS reached the gateway, once" 0 "$(comm -23 "$ART/sent.keys" "$ART/gateway.keys" | wc -l)"
check "the gateway delivered nothing unknown" 0 "$(comm -13 "$ART/all.keys" "$ART/gateway.keys" | wc -l)"
check "no request was malformed or unauthorised" "0 0" "$(gw bad) $(gw unauthorized)"
check "dead letters used exactly the configured attempts" 0 \
  "$(sql "SELECT count(*) FROM deliveries WHERE state = 'dead' AND (attempts <> $MAX OR last_error IS NULL)")"
check "sent ones within the attempts" 0 \
  "$(sql "SELECT count(*) FROM deliveries WHERE channel = 'sms' AND state = 'sent' AND (attempts < 1 OR attempts > $MAX)")"

# Make sure there is something to re-drive: a permanent refusal (bad number).
sql "UPDATE delivery_policy SET max_attempts = 1 WHERE channel = 'sms'" >/dev/null
curl -s -X POST -d '{"fail": 1.0, "timeout": 0}' "http://127.0.0.1:$GW_PORT/control" >/dev/null
"$BIN/gridctl" submit --source hotline --ref FLAKY-1 --text "路灯不亮" --grid QNL.07.063 --phone 13800001111 >/dev/null
wait_for "the new receipt dead-lettered" 30 \
  sql_eq "SELECT count(*) FROM deliveries d JOIN notifications n ON n.id = d.notification
           JOIN cases c ON c.id = n.case_id WHERE c.source_ref = 'FLAKY-1' AND n.recipient IS NULL AND d.state = 'dead'" 1
# The receipt is one of several SMS of that complaint (the grid's staff get
# theirs too); count the dead letters only once none of them is pending.
wait_for "pipeline to drain" 60 quiescent
wait_for "every SMS of the new complaint settled" 30 \
  sql_eq "SELECT count(*) FROM deliveries WHERE channel = 'sms' AND state = 'pending'" 0
dead=$(sql "SELECT count(*) FROM deliveries WHERE state = 'dead'")
"$BIN/gridctl" notify dead >"$ART/dead.txt"
check "gridctl notify dead lists every dead letter" "($dead dead letters; gridctl notify redrive ID... | --all)" \
  "$(tail -n 1 "$ART/dead.txt")"
check "dead letters show masked phone numbers only" 0 "$(grep -c '138000011' "$ART/dead.txt")"
check "gridctl notify dead --limit 2 says how many it left out" \
  "(2 of $dead dead letters shown, the oldest; --limit N shows more; gridctl notify redrive ID... | --all)" \
  "$("$BIN/gridctl" notify dead --limit 2 | tail -n 1)"
curl -s -X POST -d '{"fail": 0, "timeout": 0}' "http://127.0.0.1:$GW_PORT/control" >/dev/null
sql "UPDATE delivery_policy SET max_attempts = $MAX WHERE channel = 'sms'" >/dev/null
check "gridctl notify redrive --all" "redriven $dead" "$("$BIN/gridctl" notify redrive --all)"
wait_for "re-driven letters sent" 60 \
  sql_eq "SELECT count(*) FROM deliveries WHERE channel = 'sms' AND state <> 'sent'" 0
curl -s "http://127.0.0.1:$GW_PORT/keys" >"$ART/gateway.keys"
sql "SELECT dedupe_key FROM deliveries WHERE channel = 'sms' ORDER BY 1" >"$ART/all.keys"
check "after the redrive the gateway holds every SMS exactly once" "$(wc -l <"$ART/all.keys")" \
  "$(comm -12 "$ART/all.keys" "$ART/gateway.keys" | wc -l)"
check "and nothing else" "$(wc -l <"$ART/all.keys")" "$(wc -l <"$ART/gateway.keys")"
kill $GW 2>/dev/null
finish
