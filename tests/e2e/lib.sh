# Shared helpers for the end-to-end tests: a fresh database per test, real
# service processes on their own ports, TAP output ("ok - ..." / "not ok - ...").
# Sourced by tests/e2e/test_*.sh; needs the private cluster (deploy/pg.sh start).

set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${GF_TEST_BIN:-$ROOT/bin}
TOOLS=${GF_TEST_TOOLS:-$ROOT/build/tools}
TEST_NAME=$(basename "$0" .sh)
ART=$ROOT/tests/artifacts/$TEST_NAME${GF_TEST_TAG:-}
rm -rf "$ART" && mkdir -p "$ART"

PORT_BASE=${TEST_PORT_BASE:-17000}
export GF_INTAKE=tcp://127.0.0.1:$((PORT_BASE + 0))
export GF_PUB=tcp://127.0.0.1:$((PORT_BASE + 1))
export GF_REPLAY=tcp://127.0.0.1:$((PORT_BASE + 2))
export GF_APP=tcp://127.0.0.1:$((PORT_BASE + 9))   # the notifier's app push
export GF_ROOT=QNL
# Delivery channels are off unless a test configures them.
unset GF_SMS_URL GF_SMS_TOKEN GF_SMTP_URL
# Plain TCP on loopback, explicitly (the default is CurveZMQ); the
# test_security_* tests set up certificates and turn it on.
export GF_CURVE=${GF_CURVE:-off}

declare -A PIDS=()
FAILED=0

ok() { echo "ok - $TEST_NAME: $*"; }
not_ok() { echo "not ok - $TEST_NAME: $*"; FAILED=$((FAILED + 1)); }
# check NAME EXPECTED ACTUAL
check() {
  if [ "$2" == "$3" ]; then ok "$1 ($3)"; else not_ok "$1: expected '$2', got '$3'"; fi
}
note() { echo "# $*"; }

PSQL_BIN=/usr/lib/postgresql/15/bin/psql
sql() { "$PSQL_BIN" -X -q -t -A -v ON_ERROR_STOP=1 -d "$GF_DB" -c "$1"; }

# new_db [SUFFIX]: a fresh database with migrations and the sample directory.
new_db() {
  local db=gft_$TEST_NAME${1:-}
  PGOPTIONS="-c client_min_messages=warning" "$ROOT/deploy/pg.sh" psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" \
    -c "CREATE DATABASE $db" >/dev/null
  export GF_DB="$("$ROOT/deploy/pg.sh" conninfo "$db")"
  "$BIN/gridctl" db migrate >"$ART/migrate.log" 2>&1 || { not_ok "migrate"; exit 1; }
  "$BIN/gridctl" grids import "$ROOT/deploy/sample/qingnianlu.json" >>"$ART/migrate.log" 2>&1 \
    || { not_ok "grids import"; exit 1; }
}

# start NAME [ARGS...]: start bin/gf-NAME (instance name may carry a suffix: router@2)
start() {
  local name=$1; shift
  "$BIN/gf-${name%@*}" "$@" >>"$ART/$name.log" 2>&1 &
  PIDS[$name]=$!
}

kill9() { kill -9 "${PIDS[$1]}" 2>/dev/null; wait "${PIDS[$1]}" 2>/dev/null; unset "PIDS[$1]"; }

stop_all() {
  local name
  for name in "${!PIDS[@]}"; do kill -TERM "${PIDS[$name]}" 2>/dev/null; done
  for name in "${!PIDS[@]}"; do
    local i=0
    while kill -0 "${PIDS[$name]}" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    if kill -0 "${PIDS[$name]}" 2>/dev/null; then
      not_ok "$name did not stop within 5 s of SIGTERM"
      kill -9 "${PIDS[$name]}" 2>/dev/null
    fi
    wait "${PIDS[$name]}" 2>/dev/null
    local rc=$?
    [ $rc -eq 0 ] || not_ok "$name exited with status $rc after SIGTERM"
  done
  PIDS=()
  # Sanitizer builds report here (leaks are reported at exit).
  if grep -l -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$ART"/*.log >/dev/null 2>&1; then
    not_ok "sanitizer reports in $(grep -l -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$ART"/*.log | xargs -n1 basename | tr '\n' ' ')"
  fi
}
trap stop_all EXIT

# wait_for DESCRIPTION TIMEOUT_S COMMAND...: poll until COMMAND succeeds.
wait_for() {
  local what=$1 timeout=$2; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then not_ok "timed out after ${timeout}s waiting for $what"; return 1; fi
    sleep 0.1
  done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_stack: relay, intake, router, notifier; returns when all are ready.
start_stack() {
  start relay; start intake; start router; start notifier
  wait_for "intake port" 30 port_open $((PORT_BASE + 0))
  wait_for "relay ports" 30 port_open $((PORT_BASE + 2))
  wait_for "consumers" 10 sql_eq "SELECT count(*) FROM consumer_checkpoints" 2
}

sql_eq() { [ "$(sql "$1")" == "$2" ]; }

# quiescent: every event sequenced and each consumer at the end of its type.
quiescent() {
  sql_eq "SELECT NOT EXISTS (SELECT 1 FROM case_events WHERE seq IS NULL)
             AND (SELECT last_seq FROM consumer_checkpoints WHERE consumer = 'router')
               >= (SELECT coalesce(max(seq), 0) FROM case_events WHERE type = 'case.received')
             AND (SELECT last_seq FROM consumer_checkpoints WHERE consumer = 'notifier')
               >= (SELECT coalesce(max(seq), 0) FROM case_events WHERE type IN (
                     SELECT event_type FROM notification_rules WHERE enabled))" t
}

source "$(dirname "${BASH_SOURCE[0]}")/checks.sh"

# start_capture: a raw subscriber to everything, output in $ART/capture.txt
# ("seq id topic" per event); returns once it is surely subscribed.
start_capture() {
  "$TOOLS/capture" "$GF_PUB" "$ART/capture.ready" 600000 >"$ART/capture.txt" 2>"$ART/capture.err" &
  CAPTURE=$!
  wait_for "subscriber to be connected" 10 test -f "$ART/capture.ready"
}

# stop_capture: once the capture has seen the log's head, stop it.
capture_at_head() {
  [ "$(tail -n 1 "$ART/capture.txt" | cut -d' ' -f1)" == "$(sql "SELECT max(seq) FROM case_events")" ]
}
stop_capture() {
  wait_for "all events sequenced" 30 sql_eq "SELECT count(*) FROM case_events WHERE seq IS NULL" 0
  wait_for "the subscriber to see the head of the log" 30 capture_at_head
  kill -TERM "$CAPTURE"; wait "$CAPTURE"
}

finish() {
  local before=$FAILED
  stop_all
  [ "$FAILED" -eq "$before" ] && ok "services stopped cleanly on SIGTERM, no sanitizer report"
  trap - EXIT
  [ "$FAILED" -eq 0 ]
  exit $?
}
