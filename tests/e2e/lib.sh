# Helpers of the end-to-end tests, on top of tests/lib/common.sh: a fresh
# database per test, real service processes on their own ports, TAP output
# ("ok - ..." / "not ok - ...").  Sourced by tests/e2e/test_*.sh,
# tests/ha and tests/chaos; needs the private cluster (deploy/pg.sh start).

source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
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
# The services' /metrics and /healthz ports, for tests that start them with
# --metrics (start_stack --metrics).  They overlap ports other tests use for
# other things (a gateway or the SMS gateway on +5, PostgreSQL in tests/ha on
# +7 and +8).
declare -A MPORT=([intake]=$((PORT_BASE + 3)) [relay]=$((PORT_BASE + 4)) [router]=$((PORT_BASE + 5))
                  [notifier]=$((PORT_BASE + 6)) [escalator]=$((PORT_BASE + 7)))
GW_PORT=$((PORT_BASE + 5)) # the test SMS gateway (start_sms_gateway)

# Grid leaders in the sample directory.
L1=P-QNL-1            # leader of QNL
L2=P-QNL.07-1         # leader of QNL.07
L3=P-QNL.07.063-1     # leader of QNL.07.063
L3B=P-QNL.07.064-1    # leader of QNL.07.064
L3C=P-QNL.08.067-1    # leader of QNL.08.067

# migrate_db: migrations and the sample directory into GF_DB.
migrate_db() {
  "$BIN/gridctl" db migrate >"$ART/migrate.log" 2>&1 || { not_ok "migrate"; exit 1; }
  "$BIN/gridctl" grids import "$SAMPLE" >>"$ART/migrate.log" 2>&1 \
    || { not_ok "grids import"; exit 1; }
}

# new_db [SUFFIX]: a fresh database with migrations and the sample directory:
# a copy of GF_TEST_TEMPLATE when set (tests/run.sh makes it once per run
# with the same two steps: 0.2 s a database instead of 2.4 s of migration
# and import), else migrated here.
new_db() {
  local db=gft_$TEST_NAME${1:-}
  PGOPTIONS="-c client_min_messages=warning" "$ROOT/deploy/pg.sh" psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" \
    -c "CREATE DATABASE $db${GF_TEST_TEMPLATE:+ TEMPLATE $GF_TEST_TEMPLATE}" >/dev/null
  export GF_DB="$("$ROOT/deploy/pg.sh" conninfo "$db")"
  if [ -n "${GF_TEST_TEMPLATE:-}" ]; then echo "copy of $GF_TEST_TEMPLATE" >"$ART/migrate.log"; else migrate_db; fi
  # The services' LOGIN users (their roles came with the migration).
  "$ROOT/deploy/pg.sh" users >/dev/null || not_ok "pg.sh users"
}

# as_service SVC: GF_DB as the service's own LOGIN user (gridflow_SVC, a
# member of gf_SVC only), as every sample config connects, so that every
# test also proves the grants of what it makes the service do.  The later
# `user` wins in a conninfo.  GF_TEST_AS_OWNER=1: as the owner instead.
as_service() {
  if [ -n "${GF_TEST_AS_OWNER:-}" ]; then echo "$GF_DB"; else echo "$GF_DB user=gridflow_$1"; fi
}

# start NAME [ARGS...]: start bin/gf-NAME (instance name may carry a suffix: router@2)
start() {
  local name=$1; shift
  GF_DB=$(as_service "${name%@*}") "$BIN/gf-${name%@*}" "$@" >>"$ART/$name.log" 2>&1 &
  PIDS[$name]=$!
}

kill9() { kill -9 "${PIDS[$1]}" 2>/dev/null; wait "${PIDS[$1]}" 2>/dev/null; unset "PIDS[$1]"; }

trap stop_all EXIT

# start_stack [--metrics] [--escalator] [OPTIONS...]: relay, intake, router
# and notifier (and the escalator), each with OPTIONS (and with --metrics its
# /metrics on MPORT[name]); returns when all are ready.
start_stack() {
  local -a services=(relay intake router notifier) opts=()
  local metrics=0 s
  while [ $# -gt 0 ]; do
    case $1 in
      --metrics) metrics=1 ;;
      --escalator) services+=(escalator) ;;
      *) opts+=("$1") ;;
    esac
    shift
  done
  for s in "${services[@]}"; do
    if [ $metrics -eq 1 ]; then start "$s" --metrics "${MPORT[$s]}" "${opts[@]}"; else start "$s" "${opts[@]}"; fi
  done
  wait_for "intake port" 30 port_open $((PORT_BASE + 0))
  wait_for "relay ports" 30 port_open $((PORT_BASE + 2))
  wait_for "consumers" 10 sql_eq "SELECT count(*) FROM consumer_checkpoints" 2
}

# check_reconnected NAME: ok when the service's gf_db_reconnects_total (on
# MPORT[NAME]) is at least 1.
check_reconnected() {
  local r; r=$(metric "${MPORT[$1]}" gf_db_reconnects_total)
  if [ "${r:-0}" -ge 1 ]; then ok "$1 reconnected ($r)"; else not_ok "$1: gf_db_reconnects_total is '${r}'"; fi
}

# run_feed [OPTIONS...]: gf-hotline OPTIONS over $ART/feed.jsonl (see
# gen_hotline), its report in $ART/feed.out, its errors in $ART/feed.err.
# Run it with & and keep $! to feed while the test does other things.
run_feed() { "$BIN/gf-hotline" "$@" "$ART/feed.jsonl" >"$ART/feed.out" 2>"$ART/feed.err"; }

# start_sms_gateway OUTPUT [OPTIONS...]: tests/tools/sms_gateway.py on
# GW_PORT (OPTIONS: --fail, --token ...), its output in OUTPUT, its pid in GW;
# returns when it listens.  The caller kills it (kill $GW) before finish.
start_sms_gateway() {
  local out=$1; shift
  python3 "$ROOT/tests/tools/sms_gateway.py" --port "$GW_PORT" "$@" >"$out" 2>&1 &
  GW=$!
  wait_for "SMS gateway" 30 port_open "$GW_PORT"
}

# sms_to_leaders_only [--no-reminders]: every message goes out at once (no
# quiet hours, no rate limit, short backoffs), only grid leaders have the SMS
# channel and residents get no receipts, so that a routed case makes one SMS
# and the SMS can be counted; with --no-reminders no sign-for reminders
# either (one per case a day later: volume).  The notifiers started after
# it send to the test gateway (GF_SMS_URL, start_sms_gateway's GW_PORT).
sms_to_leaders_only() {
  sql "DELETE FROM delivery_quiet;
       UPDATE delivery_policy SET rate_limit = 0, backoff_ms = 50, backoff_max_ms = 500;
       UPDATE people SET channels = '{app}' WHERE role <> 'leader';
       UPDATE notification_rules SET enabled = false WHERE audience = 'resident';
       UPDATE notification_rules SET enabled = false
        WHERE event_type = 'sign.reminder' AND '${1:-}' = '--no-reminders'" >/dev/null
  export GF_SMS_URL=http://127.0.0.1:$GW_PORT/sms GF_SMS_TIMEOUT_MS=2000
}

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
  wait_for "the subscriber to see the head of the log" 30 capture_at_head
  kill -TERM "$CAPTURE"; wait "$CAPTURE"
}
# check_capture_is_log: what the capture saw is the log: seq 1..N in order,
# none twice, and each (seq, id, topic) as stored.
check_capture_is_log() {
  local total; total=$(sql "SELECT count(*) FROM case_events")
  check "published seqs are 1..N in order, none twice" "$(seq 1 "$total" | md5sum)" \
    "$(cut -d' ' -f1 "$ART/capture.txt" | md5sum)"
  check "published (seq, id, topic) match the log" \
    "$(sql "SELECT seq || ' ' || id || ' ' || topic FROM case_events ORDER BY seq" | md5sum)" \
    "$(md5sum <"$ART/capture.txt")"
}

# finish [COMMAND...]: stop every service (ok when all stop cleanly), run
# COMMAND (the test's own clean-up, which may add "not ok" lines), and exit
# with the test's status.
finish() {
  local before=$FAILED
  stop_all
  [ "$FAILED" -eq "$before" ] && ok "services stopped cleanly on SIGTERM, no sanitizer report"
  trap - EXIT
  [ $# -eq 0 ] || "$@"
  [ "$FAILED" -eq 0 ]
  exit $?
}
