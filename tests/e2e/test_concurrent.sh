#!/usr/bin/env bash
# Acceptance 3 and DESIGN.md guarantee 4: with 4 adapters feeding two intake
# instances at once (while the router and notifier write too), a raw
# subscriber connected from the start sees every event exactly once, dense,
# in the log's order.  Then a transaction that inserted its event first but
# commits last is still published (after the later one), not skipped.
source "$(dirname "$0")/lib.sh"
new_db
start_stack
INTAKE2=tcp://127.0.0.1:$((PORT_BASE + 3))
start intake@2 --intake "$INTAKE2"
wait_for "second intake port" 30 port_open $((PORT_BASE + 3))

start_capture

for n in 1 2 3 4; do
  gen_hotline 1500 $n --prefix "HL-C$n" >"$ART/feed$n.jsonl" 2>/dev/null
done
pids=()
for n in 1 2 3 4; do
  ep=$GF_INTAKE; [ $n -gt 2 ] && ep=$INTAKE2
  "$BIN/gf-hotline" --intake "$ep" --window 64 "$ART/feed$n.jsonl" >"$ART/feed$n.out" 2>&1 &
  pids+=($!)
done
for n in 1 2 3 4; do
  wait "${pids[$((n - 1))]}"
  check "adapter $n stored all its records" "accepted 1500, duplicate 0, rejected 0, failed 0" \
    "$(cat "$ART/feed$n.out")"
done
wait_for "pipeline to drain" 60 quiescent

# Guarantee 4, made to happen: A inserts first (lower id) and commits last.
"$PSQL_BIN" -X -q -d "$GF_DB" >"$ART/slow_txn.out" 2>&1 <<'SQL' &
BEGIN;
INSERT INTO event_stage (type, topic, at, payload) VALUES ('test.probe', 'test.probe/A', now(), '{}');
SELECT pg_sleep(2);
COMMIT;
SQL
SLOW=$!
wait_for "slow transaction to insert" 5 sql_eq "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database () AND query LIKE '%pg_sleep(2)%' AND state = 'active' AND pid <> pg_backend_pid()" 1
sql "INSERT INTO event_stage (type, topic, at, payload) VALUES ('test.probe', 'test.probe/B', now(), '{}')"
wait "$SLOW"
wait_for "probes to be sequenced" 10 sql_eq "SELECT count(seq) FROM case_events WHERE type = 'test.probe'" 2
check "A was inserted before B" t "$(sql "SELECT (SELECT id FROM case_events WHERE topic = 'test.probe/A') < (SELECT id FROM case_events WHERE topic = 'test.probe/B')")"
check "A, committed last, is sequenced after B" t "$(sql "SELECT (SELECT seq FROM case_events WHERE topic = 'test.probe/A') > (SELECT seq FROM case_events WHERE topic = 'test.probe/B')")"

stop_capture
total=$(sql "SELECT count(*) FROM case_events")
check "events in the log" "$((6000 * 2 + $(sql "SELECT count(*) FROM notifications") + 2))" "$total"
check "subscriber saw every event" "$total" "$(wc -l <"$ART/capture.txt")"
check_capture_is_log
check "both probes published" 2 "$(grep -c ' test.probe/' "$ART/capture.txt")"
finish
