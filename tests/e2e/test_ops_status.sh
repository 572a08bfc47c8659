#!/usr/bin/env bash
# Issue 7 operations: /metrics counts what happened (received, stored,
# rejected by code, published, consumer lag, DB latency), /healthz and
# unknown paths answer as documented, and `gridctl status` shows every
# service from its heartbeat (version, uptime, errors), the relay's
# heartbeat on the bus, the consumers' checkpoints and the next meetings;
# a stopped service shows as stopped.
source "$(dirname "$0")/lib.sh"
new_db
"$BIN/gridctl" calendar import >>"$ART/migrate.log" 2>&1
start_stack --metrics --escalator --status 500

gen_hotline 200 41 --prefix HL-S >"$ART/feed.jsonl" 2>"$ART/feed.summary"
run_feed
check "feed" "accepted 200, duplicate 0, rejected 0, failed 0" "$(cat "$ART/feed.out")"
# Two refusals with different codes: an unknown grid, then a duplicate that is not a refusal.
"$BIN/gridctl" submit --source hotline --ref HL-S-BAD --text "测试" --grid QNL.NOPE >"$ART/bad.out" 2>&1
"$BIN/gridctl" submit --source hotline --ref HL-S-BAD2 --text "测试" --category no_such_category \
  >>"$ART/bad.out" 2>&1
wait_for "pipeline to drain" 30 quiescent

check "intake: received" 202 "$(metric "${MPORT[intake]}" gf_intake_received_total)"
check "intake: stored" 200 "$(metric "${MPORT[intake]}" gf_intake_stored_total)"
check "intake: rejected, unknown grid" 1 "$(metric "${MPORT[intake]}" 'gf_intake_rejected_total{code="unknown_grid"}')"
check "intake: rejected, unknown category" 1 \
  "$(metric "${MPORT[intake]}" 'gf_intake_rejected_total{code="unknown_category"}')"
# The consumers read the log itself; the relay publishes what they read a
# moment later (its wake-up follows the commit): wait for it, then compare.
relay_at_log() { [ "$(metric "${MPORT[relay]}" gf_relay_published_total)" = "$(sql "SELECT count(*) FROM case_events")" ]; }
wait_for "the relay to publish the whole log" 15 relay_at_log
check "relay: published = events in the log" "$(sql "SELECT count(*) FROM case_events")" \
  "$(metric "${MPORT[relay]}" gf_relay_published_total)"
check "router: events handled = case.received" 200 \
  "$(metric "${MPORT[router]}" 'gf_consumer_events_total{consumer="router"}')"
check "intake (intake/route): routed + unroutable = 200" 200 \
  "$(( $(metric "${MPORT[intake]}" gf_intake_routed_total) + $(metric "${MPORT[intake]}" gf_intake_unroutable_total) ))"
check "router: found them routed, routed none again" 0 \
  "$(( $(metric "${MPORT[router]}" gf_router_routed_total) + $(metric "${MPORT[router]}" gf_router_unroutable_total) ))"
check "notifier: created = notifications" "$(sql "SELECT count(*) FROM notifications")" \
  "$(metric "${MPORT[notifier]}" gf_notifier_created_total)"
check "notifier: caught up, lag 0" 0 "$(metric "${MPORT[notifier]}" 'gf_consumer_lag_events{consumer="notifier"}')"
check "notifier: checkpoint gauge = stored checkpoint" \
  "$(sql "SELECT last_seq FROM consumer_checkpoints WHERE consumer = 'notifier'")" \
  "$(metric "${MPORT[notifier]}" 'gf_consumer_checkpoint_seq{consumer="notifier"}')"
metrics "${MPORT[intake]}" >"$ART/intake.metrics"
n=$(awk '$1 == "gf_db_query_seconds_count" {print $2}' "$ART/intake.metrics")
if [ "${n:-0}" -gt 0 ]; then ok "DB latency histogram counts statements ($n)"; else not_ok "gf_db_query_seconds_count is '$n'"; fi
check "histogram +Inf bucket = count" "$n" \
  "$(awk '$1 == "gf_db_query_seconds_bucket{le=\"+Inf\"}" {print $2}' "$ART/intake.metrics")"
check "TYPE lines" "counter" "$(metrics "${MPORT[intake]}" | awk '$1 == "#" && $2 == "TYPE" && $3 == "gf_intake_stored_total" {print $4}')"
check "/healthz body" "ready" "$(curl -s "http://127.0.0.1:${MPORT[relay]}/healthz")"
check "unknown path: 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${MPORT[relay]}/nope")"
check "POST: 405" 405 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:${MPORT[relay]}/metrics")"

# gridctl status: all five from their heartbeats.
wait_for "five heartbeats" 10 sql_eq "SELECT count(*) FROM service_status WHERE stopped_at IS NULL AND ready" 5
"$BIN/gridctl" status --bus-wait 3000 >"$ART/status.txt" 2>"$ART/status.err"
check "gridctl status exits 0" 0 $?
for s in relay intake router notifier escalator; do
  line=$(grep -E "^  gf-$s " "$ART/status.txt")
  if echo "$line" | grep -q " ready "; then ok "status: gf-$s ready"; else not_ok "status: gf-$s line: '$line'"; fi
done
grep -q "^  gf-intake .* stored 200" "$ART/status.txt" && ok "status: intake work (stored 200)" \
  || not_ok "status: no 'stored 200' for the intake"
head=$(sql "SELECT max(seq) FROM case_events")
grep -q "relay.hb on .*: head seq $head" "$ART/status.txt" && ok "status: relay heartbeat on the bus (head $head)" \
  || not_ok "status: bus line: $(grep -A1 '^BUS' "$ART/status.txt" | tail -1)"
grep -qE "^  notifier +[0-9]+ +$head " "$ART/status.txt" && ok "status: notifier checkpoint row" \
  || not_ok "status: consumer rows: $(grep -A3 '^CONSUMERS' "$ART/status.txt" | tr '\n' '|')"
expect_meeting=$(sql "SELECT count(*) FROM gf_weekly_slots (gf_now (), gf_now () + interval '14 days')")
if [ "$expect_meeting" -gt 0 ]; then
  grep -qE "^  weekly +QNL" "$ART/status.txt" && ok "status: next weekly meeting listed" \
    || not_ok "status: no weekly meeting in: $(grep -A3 '^NEXT' "$ART/status.txt" | tr '\n' '|')"
else
  not_ok "no weekly slot in the next 14 days (escalation rules missing?)"
fi

# The router lingers (router/linger, 100 ms by default, with intake/route
# on): a steady trickle of complaints, each of which wakes it, is taken a
# batch at a time; the notifier, which does not linger, steps about once per
# complaint.  A router stepping at every wake-up would take about one step
# per complaint too, far above the bound: one step per linger, one per
# safety-net second, and a few more.
steps() { metric "${MPORT[$1]}" "gf_consumer_steps_total{consumer=\"$1\"}"; }
r0=$(steps router) n0=$(steps notifier) e0=$(metric "${MPORT[router]}" 'gf_consumer_events_total{consumer="router"}')
t0=$(date +%s%N)
grids=$(sql "SELECT string_agg (code, ',') FROM (SELECT code FROM grids WHERE level = 3 ORDER BY code LIMIT 4) g")
"$TOOLS/bench_load" "$GF_INTAKE" "$GF_PUB" "$grids" 100 2 0 "trickle$$" \
  >"$ART/trickle.json" 2>"$ART/trickle.err" || true
wait_for "the trickle to drain" 30 quiescent
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
r=$(( $(steps router) - r0 )) n=$(( $(steps notifier) - n0 ))
check "trickle: 200 complaints stored" 200 "$(sql "SELECT count(*) FROM cases WHERE source_ref LIKE '%trickle$$%'")"
check "trickle: the router saw every case.received" 200 \
  "$(( $(metric "${MPORT[router]}" 'gf_consumer_events_total{consumer="router"}') - e0 ))"
bound=$(( ms / 100 + ms / 1000 + 3 ))
if [ "$r" -le "$bound" ] && [ "$n" -gt "$r" ]; then
  ok "trickle: router $r steps (at most $bound in $ms ms), notifier $n"
else
  not_ok "trickle: router $r steps (bound $bound in $ms ms), notifier $n (a trickle: above the router's)"
fi

# A clean stop is visible at once.
kill -TERM "${PIDS[router]}"; wait "${PIDS[router]}"; unset "PIDS[router]"
"$BIN/gridctl" status --bus-wait 0 >"$ART/status2.txt" 2>&1
grep -qE "^  gf-router .* stopped " "$ART/status2.txt" && ok "status: stopped router shows as stopped" \
  || not_ok "status: router line after stop: $(grep gf-router "$ART/status2.txt")"
finish
