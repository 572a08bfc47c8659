#!/usr/bin/env bash
# test: exclusive (it restarts PostgreSQL under the other tests)
# Issue 7, acceptance 4: PostgreSQL stops and starts again in the middle of
# a hotline feed.  Every service reports not ready on /healthz during the
# outage and ready after, reconnects by itself (counted in /metrics), and
# nothing is lost or doubled: every record stored once, routed once,
# notified once, and the event log stays dense.
source "$(dirname "$0")/lib.sh"
trap '"$ROOT/deploy/pg.sh" start >/dev/null 2>&1; stop_all' EXIT
new_db
start_stack --metrics --escalator --status 1000

for s in relay intake router notifier escalator; do
  wait_for "$s ready" 10 health_is "${MPORT[$s]}" 200 && ok "$s /healthz 200 before the outage"
done

gen_hotline 3000 21 --prefix HL-PG >"$ART/feed.jsonl" 2>"$ART/feed.summary"
run_feed --window 16 --timeout 1000 --attempts 300 &
FEED=$!
wait_for "some cases" 60 more_than cases 500
note "stopping PostgreSQL at $(cases) cases"
"$ROOT/deploy/pg.sh" stop
down_at=$SECONDS
for s in relay intake router notifier escalator; do
  wait_for "$s not ready during the outage" 15 health_is "${MPORT[$s]}" 503 \
    && ok "$s /healthz 503 while PostgreSQL is down"
done
check "intake readiness names the database" "not ready: db:gf-intake" \
  "$(curl -s "http://127.0.0.1:${MPORT[intake]}/healthz")"
sleep $((down_at + 4 - SECONDS > 0 ? down_at + 4 - SECONDS : 0)) # an outage of a few seconds
"$ROOT/deploy/pg.sh" start
note "PostgreSQL back after $((SECONDS - down_at)) s"
for s in relay intake router notifier escalator; do
  wait_for "$s ready again" 30 health_is "${MPORT[$s]}" 200 && ok "$s /healthz 200 after the outage"
  check_reconnected "$s"
done

wait "$FEED"
check "adapter: every record stored, none failed" "accepted 3000, duplicate 0, rejected 0, failed 0" \
  "$(cat "$ART/feed.out")"
wait_for "pipeline to drain" 60 quiescent
check_effects_once 3000
# A COMMIT cut by the shutdown may have succeeded: its requests were answered
# `unavailable`, resent and answered `duplicate`.  So stored <= cases <= stored + duplicates.
st=$(metric "${MPORT[intake]}" gf_intake_stored_total)
du=$(metric "${MPORT[intake]}" gf_intake_duplicates_total)
if [ "$st" -le "$(cases)" ] && [ "$(cases)" -le $((st + du)) ]; then
  ok "intake metrics: stored $st, duplicates $du, cases $(cases)"
else
  not_ok "intake metrics: stored $st, duplicates $du, cases $(cases)"
fi
check "intake metrics: refusals during the outage are 'unavailable' only" "" \
  "$(metrics "${MPORT[intake]}" | grep '^gf_intake_rejected_total' | grep -v 'code="unavailable"')"
wait_for "the relay to publish up to the head" 15 relay_at_head
check "relay metrics: published up to the head" "$(sql "SELECT max(seq) FROM case_events")" \
  "$(metric "${MPORT[relay]}" gf_relay_head_seq)"
finish
