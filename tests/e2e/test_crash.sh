#!/usr/bin/env bash
# Acceptance 5 and DESIGN.md guarantees 1, 2 and 5: kill -9 the router while
# cases arrive and restart it — every case is still routed exactly once; the
# same for the notifier, the relay and the intake (the adapter resends what
# was not acknowledged).  Afterwards the log is dense and each effect single.
source "$(dirname "$0")/lib.sh"
new_db
start_stack
gen_hotline 6000 11 --prefix HL-K >"$ART/feed.jsonl" 2>"$ART/feed.summary"

run_feed --window 16 --timeout 1000 --attempts 60 &
FEED=$!

routed() { sql "SELECT count(*) FROM cases WHERE state <> 'registered'"; }

wait_for "some routing" 30 more_than routed 300
kill9 router
note "router killed at $(routed) routed / $(cases) cases"
wait_for "cases to keep arriving without a router" 30 more_than cases $(( $(cases) + 300 ))
start router@2

wait_for "more routing" 30 more_than routed $(( $(routed) + 300 ))
kill9 notifier
note "notifier killed at $(sql "SELECT count(*) FROM notifications") notifications"
sleep 0.3 # down for a moment while events arrive: the subject, not a wait
start notifier@2

wait_for "more cases" 30 more_than cases $(( $(cases) + 300 ))
kill9 relay
note "relay killed at seq $(sql "SELECT max(seq) FROM case_events")"
sleep 0.3 # down for a moment while complaints arrive: the subject, not a wait
start relay@2

wait_for "more cases" 30 more_than cases $(( $(cases) + 300 ))
kill9 intake
note "intake killed at $(cases) cases"
sleep 0.5 # down for a moment: the adapter's requests go unanswered and are resent
start intake@2

wait "$FEED"
check "adapter: every record stored, none failed" "accepted 6000, duplicate 0, rejected 0, failed 0" \
  "$(cat "$ART/feed.out")"
wait_for "pipeline to drain" 60 quiescent

check_effects_once 6000
check "every resident with a phone gets one receipt" 0 \
  "$(sql "SELECT count(*) FROM cases c WHERE c.phone IS NOT NULL
           AND (SELECT count(*) FROM notifications n WHERE n.case_id = c.id AND n.kind = 'resident.receipt') <> 1")"
check "one notification.created per notification" \
  "$(sql "SELECT count(*) FROM notifications")" \
  "$(sql "SELECT count(*) FROM case_events WHERE type = 'notification.created'")"
check "consumers' checkpoints at the end of their streams" t \
  "$(sql "SELECT bool_and(last_seq >= (SELECT max(seq) FROM case_events WHERE type IN ('case.received', 'case.routed') AND (consumer = 'router') = (type = 'case.received'))) FROM consumer_checkpoints")"
finish
