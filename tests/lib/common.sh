# The helpers every shell test shares: TAP output, waiting on conditions,
# SQL, the services' /healthz and /metrics, gridctl shortcuts and the
# end-of-run checks.  Sourced by tests/e2e/lib.sh (and through it by the
# end-to-end tests, tests/ha and tests/chaos) and by tests/multihost.
#
# It sets ROOT, BIN, TOOLS, TEST_NAME and ART (the artifact directory; the
# caller makes it), FAILED=0 and an empty PIDS (name -> pid of each service
# the test started).  Helpers read, when they are called:
#   GF_DB      the database sql talks to (SQL_DB instead, when set: multihost
#              reads over a Unix socket what the services reach over TCP)
#   PSQL_BIN   psql (from GF_PGBIN, default PostgreSQL 15's)
#   CURL       the command that runs curl, an array (multihost prefixes it
#              with `ip netns exec NS` for one call)
#   GW_PORT    the port of the test SMS gateway (tests/tools/sms_gateway.py)

set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${GF_TEST_BIN:-$ROOT/bin}
TOOLS=${GF_TEST_TOOLS:-$ROOT/build/tools}
TEST_NAME=$(basename "$0" .sh)
ART=$ROOT/tests/artifacts/$TEST_NAME${GF_TEST_TAG:-}
PSQL_BIN=${GF_PGBIN:-/usr/lib/postgresql/15/bin}/psql
CURL=(curl)
SAMPLE=$ROOT/deploy/sample/qingnianlu.json # the sample directory of grids and people
# What the ASan/UBSan runtimes print on a finding.
SANITIZER_RE='ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:'
FAILED=0
declare -A PIDS=()
# The tests drive the simulated clock (clock/simulated; off in production),
# weeks at a step (clock/max_jump: a year; test_security_authz checks the
# default).
export GF_SIM_CLOCK=${GF_SIM_CLOCK:-on}
# The tests' own psql sessions follow the simulated clock as the services do
# (gf_now (), deploy/sql/repeatable/clock.sql).
if [ "$GF_SIM_CLOCK" = on ]; then export PGOPTIONS="${PGOPTIONS:-} -c gridflow.sim_clock=on"; fi
export GF_CLOCK_MAX_JUMP=${GF_CLOCK_MAX_JUMP:-8784}

# --- TAP ---------------------------------------------------------------------
ok() { echo "ok - $TEST_NAME: $*"; }
not_ok() { echo "not ok - $TEST_NAME: $*"; FAILED=$((FAILED + 1)); }
# check NAME EXPECTED ACTUAL
check() {
  if [ "$2" == "$3" ]; then ok "$1 ($3)"; else not_ok "$1: expected '$2', got '$3'"; fi
}
note() { echo "# $*"; }

# timeout: coreutils' timeout, and a command that ignores or outlives its
# signal is killed 10 s later: a tool hanging at exit cannot stall a test
# (tests/run.sh's watchdog reports such a hang, GF_TEST_LIMIT).
timeout() { command timeout -k 10 "$@"; }

# --- waiting -------------------------------------------------------------------
# wait_for DESCRIPTION TIMEOUT_S COMMAND...: poll until COMMAND succeeds; a
# "not ok" and status 1 when it has not within TIMEOUT_S seconds.
wait_for() {
  local what=$1 timeout=$2; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then not_ok "timed out after ${timeout}s waiting for $what"; return 1; fi
    sleep 0.1
  done
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# more_than FUNCTION N: FUNCTION prints a number greater than N.
more_than() { [ "$("$1")" -gt "$2" ]; }

# --- processes -----------------------------------------------------------------
# stop_all [SECONDS]: SIGTERM every process in PIDS and wait for each; not ok
# for one still running after SECONDS (default 5; it is then killed) or
# exiting with a status other than 0.  Then not ok for any sanitizer report
# in the services' logs ($ART/*.log; sanitizer builds report leaks at exit).
stop_all() {
  local limit=${1:-5} name
  for name in "${!PIDS[@]}"; do kill -TERM "${PIDS[$name]}" 2>/dev/null; done
  for name in "${!PIDS[@]}"; do
    local i=0
    while kill -0 "${PIDS[$name]}" 2>/dev/null && [ $i -lt $((limit * 10)) ]; do sleep 0.1; i=$((i + 1)); done
    if kill -0 "${PIDS[$name]}" 2>/dev/null; then
      not_ok "$name did not stop within $limit s of SIGTERM"
      kill -9 "${PIDS[$name]}" 2>/dev/null
    fi
    wait "${PIDS[$name]}" 2>/dev/null
    local rc=$?
    [ $rc -eq 0 ] || not_ok "$name exited with status $rc after SIGTERM"
  done
  PIDS=()
  local reports
  reports=$(grep -l -E "$SANITIZER_RE" "$ART"/*.log 2>/dev/null | xargs -r -n1 basename | tr '\n' ' ')
  [ -z "$reports" ] || not_ok "sanitizer reports in $reports"
}

# --- SQL -----------------------------------------------------------------------
# A lock held by a stuck service fails the statement after a minute instead
# of stalling the test.
sql() { PGOPTIONS="${PGOPTIONS:-} -c lock_timeout=60s" "$PSQL_BIN" -X -q -t -A -v ON_ERROR_STOP=1 -d "${SQL_DB:-$GF_DB}" -c "$1"; }
sql_eq() { [ "$(sql "$1")" == "$2" ]; }
cases() { sql "SELECT count(*) FROM cases"; }
# counts: "cases/events/notifications", to show that something added nothing.
counts() {
  sql "SELECT (SELECT count(*) FROM cases) || '/' || (SELECT count(*) FROM case_events) || '/' || (SELECT count(*) FROM notifications)"
}
# insert_events N [GRID...]: N case.routed events (payload {"n": i}) spread
# over the grids (default QNL.07.063 and QNL.08.001), straight into the log
# (staged and appended at commit, as every writer's).
insert_events() {
  local n=$1; shift
  [ $# -gt 0 ] || set -- QNL.07.063 QNL.08.001
  local grids; grids=$(printf "'%s'," "$@"); grids=${grids%,}
  sql "INSERT INTO event_stage (type, topic, grid, at, payload)
       SELECT 'case.routed', 'case.routed/' || g, g, now(), jsonb_build_object('n', i)
         FROM generate_series(1, $n) i,
              LATERAL (SELECT (ARRAY[$grids])[1 + i % $#] AS g) x"
}

# quiescent: each consumer at the end of its type.
quiescent() {
  sql_eq "SELECT (SELECT last_seq FROM consumer_checkpoints WHERE consumer = 'router')
               >= (SELECT coalesce(max(seq), 0) FROM case_events WHERE type = 'case.received')
             AND (SELECT last_seq FROM consumer_checkpoints WHERE consumer = 'notifier')
               >= (SELECT coalesce(max(seq), 0) FROM case_events WHERE type IN (
                     SELECT event_type FROM notification_rules WHERE enabled))" t
}
# relay_at_head: the relay has published up to the log's head (its metric).
# It publishes a moment after the last commit (its wake-up follows it): a
# test waits for this (wait_for) before it compares the two.
relay_at_head() {
  [ "$(metric "${MPORT[relay]}" gf_relay_head_seq)" = "$(sql "SELECT max(seq) FROM case_events")" ]
}
# meetings_due_held: every weekly and monthly slot since escalation started
# has its meeting, and no meeting the safety net must lapse is still open.
meetings_due_held() {
  sql_eq "SELECT count(*) FROM gf_due_lapses()" 0 &&
  sql_eq "SELECT count(*) FROM gf_weekly_slots((SELECT min(since) FROM escalation_state), gf_now()) w
           WHERE NOT EXISTS (SELECT 1 FROM meetings m WHERE m.grid = w.grid AND m.kind = 'weekly' AND m.day = w.day)" 0 &&
  sql_eq "SELECT count(*) FROM gf_monthly_slots((SELECT min(since) FROM escalation_state), gf_now()) w
           WHERE NOT EXISTS (SELECT 1 FROM meetings m WHERE m.grid = w.grid AND m.kind = 'monthly' AND m.day = w.day)" 0
}

# --- gridctl ---------------------------------------------------------------------
# submit ARGS...: gridctl submit ARGS; prints the new case's id.
submit() { "$BIN/gridctl" submit "$@" | sed -n 's/^case \([0-9]*\) .*/\1/p'; }
# act CASE ACTION ARGS...: gridctl case ACTION CASE ARGS, which must succeed.
act() {
  "$BIN/gridctl" case "$2" "$1" "${@:3}" >>"$ART/actions.out" 2>>"$ART/actions.err" \
    || not_ok "case $1 $2 ${*:3}: $(tail -1 "$ART/actions.err")"
}
# clock_set TIME: move the simulated clock.
clock_set() { "$BIN/gridctl" clock set "$1" >/dev/null || not_ok "clock set $1"; }
# plan_empty: no escalation due at the simulated now.
plan_empty() { "$BIN/gridctl" escalation plan --at "$(sql "SELECT gf_now()")" | grep -q '^(0 escalations'; }

# --- feeds ---------------------------------------------------------------------
# gen_hotline COUNT SEED [OPTIONS...]: COUNT hotline records over the sample
# directory on stdout (tests/tools/gen_hotline.py; OPTIONS such as --prefix),
# its summary on stderr.
gen_hotline() {
  python3 "$ROOT/tests/tools/gen_hotline.py" --grids "$SAMPLE" --count "$1" --seed "$2" "${@:3}"
}

# --- HTTP: /healthz, /metrics, the test SMS gateway ----------------------------
# health PORT: the HTTP status of /healthz on 127.0.0.1:PORT (000: no answer).
health() { "${CURL[@]}" -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/healthz"; }
health_is() { [ "$(health "$1")" == "$2" ]; }
# metrics PORT|URL: the /metrics page of the service on 127.0.0.1:PORT or at URL.
metrics() {
  local base=$1
  [[ $base == http* ]] || base=http://127.0.0.1:$base
  "${CURL[@]}" -sS -m 10 "$base/metrics" 2>>"$ART/curl.err"
}
# metric PORT|URL NAME: one value from it (NAME with its labels, if any).
metric() { metrics "$1" | awk -v m="$2" '$1 == m {print $2}'; }
# gw KEY: a counter from the test SMS gateway's /stats.
gw() { curl -s "http://127.0.0.1:$GW_PORT/stats" | jq -r --arg k "$1" '.[$k]'; }

# --- the end-of-run checks -------------------------------------------------------
# check_cases_once N: after a run of N distinct complaints: each stored once,
# received once, routed (or unroutable) once.
check_cases_once() {
  check "every acknowledged complaint stored once" "$1 $1" \
    "$(sql "SELECT count(*) || ' ' || count(DISTINCT source_ref) FROM cases")"
  check "one case.received per case" "$1" "$(sql "SELECT count(*) FROM case_events WHERE type = 'case.received'")"
  check "every case routed or unroutable exactly once" 0 \
    "$(sql "SELECT count(*) FROM cases c WHERE state = 'registered' OR (SELECT count(*) FROM case_events e
             WHERE e.case_id = c.id AND e.type IN ('case.routed', 'case.unroutable')) <> 1")"
}

# check_effects_once N: check_cases_once N, and each routed case's leader
# notified once; the event log sequenced and dense.
check_effects_once() {
  check_cases_once "$1"
  check "every routed case's leader notified exactly once" 0 \
    "$(sql "SELECT count(*) FROM cases c WHERE c.state = 'routed'
             AND (SELECT count(*) FROM notifications n JOIN people p ON p.id = n.recipient
                   WHERE n.case_id = c.id AND n.kind = 'case.routed' AND p.role = 'leader') <> 1")"
  check "event log dense: seq 1..N" t \
    "$(sql "SELECT count(*) = max(seq) AND min(seq) = 1 AND count(*) = count(DISTINCT seq) FROM case_events")"
}

# check_notified_once [LABEL]: each case with a case.routed event (whatever
# its state now) notified to its grid leader once, and one
# notification.created event per notification; LABEL prefixes the names.
check_notified_once() {
  local l=${1:+$1: }
  check "${l}every routed case's leader notified of it exactly once" 0 \
    "$(sql "SELECT count(*) FROM cases c WHERE EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = c.id AND e.type = 'case.routed')
             AND (SELECT count(*) FROM notifications n JOIN people p ON p.id = n.recipient
                   WHERE n.case_id = c.id AND n.kind = 'case.routed' AND p.role = 'leader') <> 1")"
  check "${l}one notification.created per notification" "$(sql "SELECT count(*) FROM notifications")" \
    "$(sql "SELECT count(*) FROM case_events WHERE type = 'notification.created'")"
}

# check_escalations_notified: each escalation told to the leaders of the new
# owner and of the previous one, by the grid the case had when it escalated
# (its case.escalated event): a case still unrouted then, or unroutable, sits
# under the L1 grid itself, so both are the L1 leader, told once.  (A case
# routed after its escalation keeps the notices of the grid it had.)  A
# lapse past digest_over (its meeting.lapsed says digest: 049) tells no case:
# both leaders have the meeting's notice instead (the lapse notice or a
# digest), and there is no per-case one; the digest lapses are the meetings
# with digests.
check_escalations_notified() {
  check "each escalation notified the new owner's and the previous owner's leaders, once each (a digest lapse: by the meeting's notices)" 0 \
    "$(sql "WITH digest AS MATERIALIZED (SELECT (payload->>'meeting')::bigint AS meeting FROM case_events
                             WHERE type = 'meeting.lapsed' AND (payload->>'digest')::boolean),
                 esc AS MATERIALIZED (SELECT e.case_id, e.meeting_id, e.to_level, d.meeting IS NOT NULL AS digest,
                                ARRAY[array_to_string ((string_to_array (ev.grid, '.'))[1:e.to_level], '.'),
                                      array_to_string ((string_to_array (ev.grid, '.'))[1:e.from_level], '.')] AS grids
                           FROM escalations e
                           JOIN case_events ev ON ev.case_id = e.case_id AND ev.type = 'case.escalated'
                                              AND (ev.payload->>'to_level')::int = e.to_level
                           LEFT JOIN digest d ON d.meeting = e.meeting_id)
            SELECT count(*) FROM esc
             WHERE CASE WHEN NOT esc.digest THEN
                     (SELECT count(*) FROM notifications n WHERE n.case_id = esc.case_id AND n.kind = 'escalated.to' || esc.to_level)
                     <> (SELECT count(DISTINCT p.id) FROM people p WHERE p.role = 'leader' AND p.grid = ANY (esc.grids))
                   ELSE EXISTS (SELECT 1 FROM notifications n WHERE n.case_id = esc.case_id AND n.kind = 'escalated.to' || esc.to_level)
                     OR EXISTS (SELECT 1 FROM people p WHERE p.role = 'leader' AND p.grid = ANY (esc.grids)
                                   AND NOT EXISTS (SELECT 1 FROM notifications n
                                                    WHERE n.meeting_id = esc.meeting_id AND n.recipient = p.id)) END")"
  note "escalations told per case / by a digest lapse: $(sql "WITH lapse AS MATERIALIZED (SELECT (payload->>'meeting')::bigint AS meeting, (payload->>'digest')::boolean AS digest
                                   FROM case_events WHERE type = 'meeting.lapsed')
         SELECT count(*) FILTER (WHERE NOT coalesce (l.digest, false)) || ' / ' || count(*) FILTER (WHERE l.digest)
           FROM escalations e LEFT JOIN lapse l ON l.meeting = e.meeting_id")"
}

# check_notification_fanout: the rules' notifications, counted independently:
# the leader and members of each routed case, the L1 triage staff of each
# unroutable case, a receipt to each resident with a phone.
check_notification_fanout() {
  check "notifications: leader and members of each routed case, triage staff of each unroutable one, a receipt to each resident with a phone" \
    "$(sql "SELECT (SELECT count(*) FROM cases c JOIN people p ON p.grid = c.grid
                     WHERE c.state = 'routed' AND p.role IN ('leader', 'member'))
                 + (SELECT count(*) FROM cases c JOIN people p ON p.grid = c.root
                     WHERE c.state = 'unroutable' AND p.role = 'triage')
                 + (SELECT count(*) FROM cases WHERE phone IS NOT NULL)")" \
    "$(sql "SELECT count(*) FROM notifications")"
}
