#!/usr/bin/env bash
# test: exclusive (it changes settings of the whole cluster: ALTER SYSTEM)
# Issue 13, "Failures named right" (acceptance: tests/e2e/test_db_faults.sh).
# Three database faults while a hotline adapter feeds the intake, on real
# processes and a real PostgreSQL:
#   (a) a read-only server (default_transaction_read_only, reloaded);
#   (b) a statement timeout: the cases table locked by another session while
#       the intake's sessions run with statement_timeout (its own setting,
#       db/statement_timeout);
#   (c) a dead synchronous standby: COMMIT waits for ever (statement_timeout
#       does not cover that wait): (c1) the intake's own deadline cancels
#       it; (c2) an operator cancels it first (pg_cancel_backend: the server
#       ends the wait with a WARNING, the transaction committed locally,
#       which must not be acknowledged).
# In each the intake answers `unavailable` (never `internal`, never hangs)
# within its deadline (intake/deadline; a request queued behind a stuck batch
# waits for that batch too: at most twice the deadline); the adapter keeps
# resending with back-off (it never gives up on `unavailable`: --attempts 3
# here, many more `unavailable` answers); afterwards every record is stored
# exactly once with exactly one case.received, and a request answered
# `unavailable` while its COMMIT was cut is answered `duplicate` on resend.
# While COMMITs are stuck, the intake's /healthz says "not ready:
# commit:gf-intake".
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/gateway_lib.sh"
HTTP_PORT=$((PORT_BASE + 8)) # +5 is the router's /metrics here
URL=http://127.0.0.1:$HTTP_PORT
DEADLINE=3000
export GF_INTAKE_DEADLINE_MS=$DEADLINE

# cluster SQL: a cluster-wide setting (ALTER SYSTEM ...), reloaded.
pg_admin() { "$ROOT/deploy/pg.sh" psql -X -q -t -A -d postgres -c "$1"; }
cluster() { pg_admin "$1" >/dev/null && pg_admin "SELECT pg_reload_conf ()" >/dev/null; }
restore() {
  pg_admin "ALTER SYSTEM RESET default_transaction_read_only" >/dev/null 2>&1
  pg_admin "ALTER SYSTEM RESET synchronous_standby_names" >/dev/null 2>&1
  pg_admin "SELECT pg_reload_conf ()" >/dev/null 2>&1
  return 0
}
trap 'restore; stop_all' EXIT
restore

new_db
DBNAME=$(sql "SELECT current_database ()")
add_api_key testclient "$API_KEY"
start_stack --metrics
wait_for "intake ready" 10 health_is "${MPORT[intake]}" 200
start_gateway GF_INTAKE_TIMEOUT_MS=8000
# post_request TOKEN: an Open311 POST with client_request_id TOKEN; status in STATUS.
post_request() {
  http POST /open311/v2/requests.json --data-urlencode "api_key=$API_KEY" \
    --data-urlencode service_code=water --data-urlencode "description=水管漏水" \
    --data-urlencode "attribute[grid]=QNL.07.063" --data-urlencode "client_request_id=$1"
}

# probe REF: one complaint (source_ref REF) sent once, never resent; prints
# "CODE MS DUPLICATE CASE" (tests/tools/intake_probe.c).
probe() { "$TOOLS/intake_probe" "$GF_INTAKE" "$1" 20000; }
# expect_probe WHAT LINE CODE MAX_MS [DUP]: the probe's answer is CODE within MAX_MS
# (and DUP: new or duplicate).
expect_probe() {
  local what=$1 line=$2 code=$3 max=$4 dup=${5:-}
  read -r c ms d _ <<<"$line"
  if [ "$c" == "$code" ] && [ "${ms:-999999}" -le "$max" ] && { [ -z "$dup" ] || [ "$d" == "$dup" ]; }; then
    ok "$what: $code${dup:+ ($dup)} in $ms ms (limit $max)"
  else
    not_ok "$what: expected $code${dup:+ ($dup)} within $max ms, got '$line'"
  fi
}
PREFIX=
prefix_cases() { sql "SELECT count(*) FROM cases WHERE source_ref LIKE '$PREFIX-%'"; }
# misses: how often the intake cancelled a statement at its own deadline.
misses() { grep -c 'statement missed its deadline' "$ART/intake.log"; }
unavailable() { local v; v=$(metric "${MPORT[intake]}" 'gf_intake_rejected_total{code="unavailable"}'); echo "${v:-0}"; }
# check_once PREFIX N: N records of the feed PREFIX, each stored once, each with one case.received.
check_once() {
  check "$1: every record stored exactly once" "$2 $2" \
    "$(sql "SELECT count(*) || ' ' || count(DISTINCT source_ref) FROM cases WHERE source_ref LIKE '$1-%'")"
  check "$1: exactly one case.received per record" 0 \
    "$(sql "SELECT count(*) FROM cases c WHERE c.source_ref LIKE '$1-%' AND (SELECT count(*)
              FROM case_events e WHERE e.case_id = c.id AND e.type = 'case.received') <> 1")"
}
# feed PREFIX N SEED: N hotline records in the background (pid in FEED):
# --attempts 3 (only silence counts), --backoff 1000.  Started once the fault
# is in place (a feed is faster than any fault can be set up), it runs
# through the fault and after it.
feed() {
  PREFIX=$1
  gen_hotline "$2" "$3" --prefix "$1" >"$ART/feed.jsonl" 2>/dev/null
  run_feed --window 32 --timeout 8000 --attempts 3 --backoff 1000 &
  FEED=$!
}
# feed_done PREFIX N: the adapter finished with every record stored.
feed_done() {
  wait "$FEED"
  check "$1: adapter stored every record, none failed or rejected" \
    "accepted $2, duplicate 0, rejected 0, failed 0" "$(cat "$ART/feed.out")"
  check "$1: the adapter was answered 'unavailable' and resent" 1 \
    "$(grep -c "answers were 'unavailable': each record was resent" "$ART/feed.err")"
  cp "$ART/feed.out" "$ART/feed-$1.out"; cp "$ART/feed.err" "$ART/feed-$1.err"
}
EXPECTED=0

# --- (a) a read-only server ----------------------------------------------------
note "(a) read-only server"
cluster "ALTER SYSTEM SET default_transaction_read_only = on"
u0=$(unavailable)
PREFIX=RO
expect_probe "(a) read-only: a new complaint" "$(probe P-RO)" unavailable "$DEADLINE"
stored=$(prefix_cases)
feed RO 400 31
post_request GW-RO
check "(a) Open311 POST while read-only: 503 (the client resends), never 400/500" 503 "$STATUS"
check "(a) ... naming the intake's answer" unavailable "$(jbody '.[0].description' | cut -d: -f1)"
wait_for "the adapter to be answered unavailable again and again" 30 more_than unavailable $((u0 + 60))
sleep 3
check "(a) nothing stored while read-only" "$stored" "$(prefix_cases)"
check "(a) the intake stays up" 0 "$(kill -0 "${PIDS[intake]}"; echo $?)"
cluster "ALTER SYSTEM RESET default_transaction_read_only"
feed_done RO 400
check_once RO 400
expect_probe "(a) the probe resent after the fault: stored now" "$(probe P-RO)" ok "$DEADLINE" new
post_request GW-RO
check "(a) Open311 POST resent after the fault: created" 201 "$STATUS"
check "(a) ... stored once" 1 "$(sql "SELECT count(*) FROM cases WHERE source_ref = 'testclient:GW-RO'")"
EXPECTED=$((EXPECTED + 402))

# --- (c1) a dead synchronous standby, no statement_timeout ------------------------
note "(c1) dead synchronous standby: the intake's own deadline"
cluster "ALTER SYSTEM SET synchronous_standby_names = 'gf_dead_standby'"
u0=$(unavailable)
feed SB 300 32
expect_probe "(c1) dead standby: a new complaint (COMMIT cancelled at the deadline)" \
  "$(probe P-SB)" unavailable $((2 * DEADLINE + 1000))
wait_for "intake not ready while COMMITs are stuck" 15 health_is "${MPORT[intake]}" 503 \
  && ok "(c1) intake /healthz 503 while COMMITs are stuck"
check "(c1) intake readiness names the stuck COMMITs" "not ready: commit:gf-intake" \
  "$(curl -s "http://127.0.0.1:${MPORT[intake]}/healthz")"
if [ "$(misses)" -ge 1 ]; then ok "(c1) the intake cancelled stuck COMMITs at its deadline ($(misses))"
else not_ok "(c1) no COMMIT cancelled at the deadline"; fi
wait_for "the adapter to be answered unavailable" 30 more_than unavailable $((u0 + 32))
sleep 3
check "(c1) the intake stays up" 0 "$(kill -0 "${PIDS[intake]}"; echo $?)"
cluster "ALTER SYSTEM RESET synchronous_standby_names"
# The probe's COMMIT was cancelled: rolled back (it waited for a lock first,
# e.g. the one NOTIFY takes at commit, held by another service's stuck
# COMMIT) or committed locally (cancelled in its wait for the standby).
# Either way the resend is stored exactly once ((c2) forces the second).
r=$(probe P-SB)
expect_probe "(c1) the probe resent after the fault: stored ($(echo "$r" | cut -d' ' -f3))" "$r" ok "$DEADLINE"
check "(c1) ... exactly once" 1 "$(sql "SELECT count(*) FROM cases WHERE source_ref = 'P-SB'")"
expect_probe "(c1) a new complaint after the fault" "$(probe P-SB-AFTER)" ok "$DEADLINE" new
wait_for "intake ready again" 30 health_is "${MPORT[intake]}" 200 \
  && ok "(c1) intake /healthz 200 once a COMMIT completes in time"
feed_done SB 300
check_once SB 300
EXPECTED=$((EXPECTED + 302))

# --- (b) a statement timeout (a lock held by another session) ---------------------
note "(b) statement timeout: cases locked by another session"
kill -TERM "${PIDS[intake]}"; wait "${PIDS[intake]}"; unset "PIDS[intake]"
start intake --metrics "${MPORT[intake]}" --statement-timeout 1500
wait_for "intake port" 30 port_open $((PORT_BASE + 0))
wait_for "intake ready" 10 health_is "${MPORT[intake]}" 200
printf 'SET statement_timeout = 0;\nBEGIN;\nLOCK TABLE cases IN SHARE MODE;\nSELECT pg_sleep (7);\nCOMMIT;\n' |
  "$PSQL_BIN" -X -q -d "$GF_DB" >/dev/null 2>"$ART/holder.err" &
HOLDER=$!
m0=$(misses)
wait_for "the lock on cases" 10 sql_eq "SELECT count(*) FROM pg_locks
  WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database ()) AND relation = 'cases'::regclass AND mode = 'ShareLock' AND granted" 1
PREFIX=LK
stored=$(prefix_cases)
feed LK 300 33
# The server cancels at 1.5 s, before the intake's own deadline (a request
# queued behind a waiting batch waits for it too).
expect_probe "(b) cases locked: a new complaint" "$(probe P-LK)" unavailable 4500
check "(b) nothing stored while cases is locked" "$stored" "$(prefix_cases)"
wait "$HOLDER"
check "(b) the timeouts were the server's (57014), named unavailable" 1 \
  "$(grep -c -m1 'statement failed (57014)' "$ART/intake.log")"
check "(b) the intake's own deadline never had to cancel" "$m0" "$(misses)"
feed_done LK 300
check_once LK 300
expect_probe "(b) the probe resent after the lock: stored now" "$(probe P-LK)" ok "$DEADLINE" new
EXPECTED=$((EXPECTED + 301))

# --- (c2) a dead synchronous standby, the stuck COMMIT cancelled by an operator ---
note "(c2) dead synchronous standby: an operator cancels the stuck COMMIT"
# Nothing else committing: no other service's stuck COMMIT holds the lock
# NOTIFY takes at commit, so the intake's COMMIT reaches the standby wait.
wait_for "pipeline to drain" 60 quiescent
cluster "ALTER SYSTEM SET synchronous_standby_names = 'gf_dead_standby'"
m0=$(misses)
"$TOOLS/intake_probe" "$GF_INTAKE" P-SB2 20000 >"$ART/probe-sb2.out" &
PROBE=$!
# The intake's COMMIT waiting for the standby, cancelled before the intake's
# deadline: the server ends the wait with a WARNING, the transaction
# committed locally only: not an acknowledgement.
wait_for "the intake's COMMIT waiting for the standby" 10 sql_eq "SELECT count(*) FROM pg_stat_activity
  WHERE datname = current_database () AND application_name = 'gf-intake' AND wait_event = 'SyncRep'" 1
check "(c2) operator cancels the stuck COMMIT" t \
  "$(sql "SELECT bool_and (pg_cancel_backend (pid)) FROM pg_stat_activity
          WHERE datname = current_database () AND application_name = 'gf-intake' AND wait_event = 'SyncRep'")"
wait "$PROBE"
expect_probe "(c2) dead standby: the complaint whose COMMIT was cancelled" \
  "$(cat "$ART/probe-sb2.out")" unavailable "$DEADLINE"
check "(c2) intake not ready while COMMITs are cut" "not ready: commit:gf-intake" \
  "$(curl -s "http://127.0.0.1:${MPORT[intake]}/healthz")"
check "(c2) the cancel was the operator's, not the intake's deadline" "$m0" "$(misses)"
cluster "ALTER SYSTEM RESET synchronous_standby_names"
expect_probe "(c2) the probe resent after the fault" "$(probe P-SB2)" ok "$DEADLINE" duplicate
expect_probe "(c2) a new complaint after the fault" "$(probe P-SB2-AFTER)" ok "$DEADLINE" new
wait_for "intake ready again" 30 health_is "${MPORT[intake]}" 200 && ok "(c2) intake /healthz 200 again"
EXPECTED=$((EXPECTED + 2))

# --- nothing lost or doubled, nothing misnamed ----------------------------------
wait_for "pipeline to drain" 60 quiescent
check_cases_once "$EXPECTED"
check "intake: every refusal in the faults was 'unavailable'" "" \
  "$(metrics "${MPORT[intake]}" | grep '^gf_intake_rejected_total' | grep -v 'code="unavailable"')"
check "intake log: no request rejected as internal" 0 \
  "$(grep -h -c 'rejected: internal' "$ART"/intake.log)"
finish restore
