#!/usr/bin/env bash
# test: exclusive (it asserts exit times)
# Issue 7, acceptance 5: SIGTERM each service in turn during a 10,000-
# complaint feed.  Each exits with status 0 within 5 s, is restarted, and in
# the end every complaint the adapter saw acknowledged is stored once,
# routed once, notified once.  Then the two limits of a stop: work in hand
# that cannot finish (a consumer blocked on a row lock) ends the process
# after service/drain ms, and a second SIGTERM ends it at once.
source "$(dirname "$0")/lib.sh"
new_db
start_stack --escalator

gen_hotline 10000 31 --prefix HL-T >"$ART/feed.jsonl" 2>"$ART/feed.summary"
run_feed --window 64 --timeout 1000 --attempts 300 &
FEED=$!

# term NAME: SIGTERM, measure the exit, check the status, start it again.
term() {
  local name=$1 pid=${PIDS[$1]} t0 t1 rc
  t0=$(date +%s%N)
  kill -TERM "$pid"
  while kill -0 "$pid" 2>/dev/null && [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 10000 ]; do sleep 0.02; done
  t1=$(date +%s%N)
  if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
  wait "$pid"; rc=$?
  local ms=$(( (t1 - t0) / 1000000 ))
  if [ $ms -lt 5000 ]; then ok "$name exited ${ms} ms after SIGTERM"; else not_ok "$name took ${ms} ms to exit"; fi
  check "$name exit status after SIGTERM" 0 $rc
  unset "PIDS[$name]"
  start "$name@2"
  PIDS[$name]=${PIDS[$name@2]}; unset "PIDS[$name@2]"
}

# Each stop comes 800 cases after the previous restart, or once the feed's
# last case is stored when fewer than 800 are left (a slow stop and restart
# can leave fewer: the target must stay reachable).
for s in intake router notifier relay escalator; do
  target=$(( $(cases) + 800 ))
  [ $target -lt 10000 ] || target=9999
  wait_for "more cases" 60 more_than cases $target
  note "SIGTERM $s at $(cases) cases"
  term "$s"
done
grep -h "handed back" "$ART"/intake*.log | sed 's/^/# /'

wait "$FEED"
check "adapter: every record acknowledged, none failed" "accepted 10000, duplicate 0, rejected 0, failed 0" \
  "$(cat "$ART/feed.out")"
wait_for "pipeline to drain" 90 quiescent
check_effects_once 10000

# The drain bound: hold the router's checkpoint row so its step blocks.
stop_router_pid=${PIDS[router]}
kill -TERM "$stop_router_pid"; wait "$stop_router_pid"; unset "PIDS[router]"
"$PSQL_BIN" -X -q -d "$GF_DB" -c "BEGIN" \
  -c "SELECT 1 FROM consumer_checkpoints WHERE consumer = 'router' FOR UPDATE" \
  -c "SELECT pg_sleep (30)" >/dev/null 2>&1 &
LOCKER=$!
wait_for "the lock to be held" 10 sql_eq "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database () AND query LIKE 'SELECT pg_sleep%'" 1
blocked() { sql_eq "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database () AND application_name = 'gf-router' AND wait_event_type = 'Lock' AND wait_event IN ('transactionid', 'tuple')" 1; }

"$BIN/gf-router" --drain 1000 >>"$ART/router-drain.log" 2>&1 &
R=$!
wait_for "the router to block on the lock" 15 blocked
t0=$(date +%s%N); kill -TERM $R; wait $R; rc=$?; ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "blocked router: exit status 1 when its work in hand outlives service/drain" 1 $rc
if [ $ms -ge 900 ] && [ $ms -lt 3000 ]; then ok "blocked router exited after the 1000 ms drain (${ms} ms)"
else not_ok "blocked router exited after ${ms} ms, expected about 1000"; fi
grep -q "not finished within 1000 ms" "$ART/router-drain.log" && ok "the log says why" || not_ok "no drain message in the log"
# Its server backend still waits on the lock: end it, so that `blocked` sees the next router only.
sql "SELECT pg_terminate_backend (pid) FROM pg_stat_activity WHERE datname = current_database () AND application_name = 'gf-router'" >/dev/null
wait_for "the old backend to go" 10 sql_eq "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database () AND application_name = 'gf-router'" 0

"$BIN/gf-router" --drain 30000 >>"$ART/router-twice.log" 2>&1 &
R=$!
wait_for "the router to block on the lock" 15 blocked
kill -TERM $R; sleep 0.5 # it must still be running half a second later: the subject, not a wait
kill -0 $R 2>/dev/null && ok "first SIGTERM: still draining" || not_ok "router exited on the first SIGTERM while blocked"
t0=$(date +%s%N); kill -TERM $R; wait $R; rc=$?; ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "second SIGTERM: exit status 1" 1 $rc
if [ $ms -lt 500 ]; then ok "second SIGTERM exits at once (${ms} ms)"; else not_ok "second SIGTERM took ${ms} ms"; fi
kill $LOCKER 2>/dev/null; wait $LOCKER 2>/dev/null
sql "SELECT pg_terminate_backend (pid) FROM pg_stat_activity WHERE datname = current_database () AND query LIKE 'SELECT pg_sleep%'" >/dev/null
start router@3
wait_for "the router to resume" 10 grep -q "router: consuming" "$ART/router@3.log"
finish
