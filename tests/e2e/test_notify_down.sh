#!/usr/bin/env bash
# Issue 5, acceptance 2: the SMS gateway is down for the whole run, then comes
# back: every message arrives after it returns, none dead-lettered, none twice.
# Also: the per-recipient rate limit holds back a storm to one phone.
source "$(dirname "$0")/lib.sh"
new_db
sql "DELETE FROM delivery_quiet" >/dev/null
sql "UPDATE delivery_policy SET max_attempts = 3, backoff_ms = 50, backoff_max_ms = 200, rate_limit = 0
      WHERE channel = 'sms'" >/dev/null
export GF_SMS_URL=http://127.0.0.1:$GW_PORT/sms GF_SMS_TIMEOUT_MS=500
start_stack
trap 'kill ${GW:-} 2>/dev/null; stop_all' EXIT

gen_hotline 200 12 >"$ART/feed.jsonl" 2>/dev/null
run_feed
check "feed accepted" "accepted 200, duplicate 0, rejected 0, failed 0" "$(cat "$ART/feed.out")"
wait_for "pipeline to drain" 60 quiescent
total=$(sql "SELECT count(*) FROM deliveries WHERE channel = 'sms'")
sleep 4 # the gateway stays down; the notifier keeps probing: the subject, not a wait
check "while the gateway is down nothing is sent" 0 \
  "$(sql "SELECT count(*) FROM deliveries WHERE channel = 'sms' AND state <> 'pending'")"
check "and no attempt is used up (more than max_attempts probes would dead-letter them)" 0 \
  "$(sql "SELECT count(*) FROM deliveries WHERE channel = 'sms' AND attempts > 0")"
check "the notifier reported the channel unreachable" yes \
  "$(grep -q 'sms channel unreachable' "$ART/notifier.log" && echo yes || echo no)"
start_sms_gateway "$ART/gateway.log"
wait_for "every SMS sent after the gateway returned" 90 \
  sql_eq "SELECT count(*) FROM deliveries WHERE channel = 'sms' AND state = 'sent'" "$total"
stats=$(curl -s "http://127.0.0.1:$GW_PORT/stats")
note "$total SMS; gateway: $stats"
check "the gateway delivered each one once" "$total" "$(gw delivered)"
check "none dead-lettered" 0 "$(sql "SELECT count(*) FROM deliveries WHERE state = 'dead'")"

# Rate limit: 12 complaints for one grid in a burst; its leader's phone gets
# at most rate_limit SMS per window, the rest wait (deferred, not dropped).
sql "UPDATE delivery_policy SET rate_limit = 5, rate_window = '1 hour' WHERE channel = 'sms'" >/dev/null
leader=$(sql "SELECT phone FROM people WHERE id = 'P-QNL.07.063-1'")
before=$(sql "SELECT count(*) FROM deliveries WHERE channel = 'sms' AND address = '$leader' AND state = 'sent'")
for i in $(seq 1 12); do
  "$BIN/gridctl" submit --source hotline --ref RATE-$i --text "噪音扰民 $i" --grid QNL.07.063 >/dev/null
done
wait_for "12 new SMS to the leader" 30 sql_eq "SELECT count(*) FROM deliveries WHERE channel = 'sms'
   AND address = '$leader' AND created_at >= (SELECT min(received_at) FROM cases WHERE source_ref LIKE 'RATE-%')" 12
# The notifier sends what the limit allows and defers the rest.
burst_handled() {
  sql_eq "SELECT count(*) FILTER (WHERE state = 'sent' AND sent_real > now () - interval '1 hour') || ' '
                 || count(*) FILTER (WHERE state = 'pending' AND last_error LIKE 'rate limit%')
            FROM deliveries WHERE channel = 'sms' AND address = '$leader'" "5 $((12 - (5 - before)))"
}
wait_for "the burst sent up to the limit, the rest deferred" 30 burst_handled
check "rate limit: at most 5 SMS per hour to one phone (before the burst: $before)" 5 \
  "$(sql "SELECT count(*) FROM deliveries WHERE channel = 'sms' AND address = '$leader' AND state = 'sent'
           AND sent_real > now () - interval '1 hour'")"
check "the rest wait, deferred, none dropped" $((12 - (5 - before))) \
  "$(sql "SELECT count(*) FROM deliveries WHERE channel = 'sms' AND address = '$leader' AND state = 'pending'
           AND last_error LIKE 'rate limit%'")"
kill $GW 2>/dev/null
finish
