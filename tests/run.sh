#!/usr/bin/env bash
# Runs the test suite and prints "N passed, N failed" as its last line.
#   tests/run.sh [unit|sql|e2e|all|check|fuzz|multihost|ha|city|nemesis] (default all)
# check = all (the unit tests, pgTAP, the unit tests under valgrind and the
# libFuzzer targets beside the e2e lanes), then all again with the
# ASan/UBSan build in build/asan (make check builds it); check also runs
# each libFuzzer target briefly (build/fuzz, GF_FUZZ_SECONDS each, default 5),
# and, together, the multihost test (when network namespaces can be made),
# the failover tests (tests/ha) and the short nemesis run.
# Unit tests are cmocka programs (build/tests/test_*), run with TAP output;
# with VALGRIND=1 they run under valgrind.  End-to-end tests
# (tests/e2e/test_*.sh) start real services against the private PostgreSQL
# cluster (deploy/pg.sh) on their own ports (from GF_TEST_PORT_START, default
# 17000, in steps of 20: a test uses PORT_BASE+0..+19 and no other) and their
# own databases, GF_TEST_JOBS (default 3: most of a test's time is waiting
# on processes and the clock, and three lanes keep make check inside its 20
# minutes on two cores) at a time, the ones marked "# test: long SECONDS"
# first, longest first, so that no long test starts last; a test whose file
# has the line "# test: exclusive" (it restarts
# PostgreSQL, or its assertions are about timing) runs alone, after the
# others; one whose file has "# test: once" (it starts clusters of its own:
# tests/e2e/test_city.sh) runs in the normal pass only, not again with the
# ASan/UBSan build.  Output lands in tests/artifacts/.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
MODE=${1:-all}
ART=$ROOT/tests/artifacts
mkdir -p "$ART"
touch "$ART/.run-start"
PASS=0
FAIL=0

# phase NAME: a "#" line with the time since the run began, so that a slow
# run says where its time went.
phase() {
  echo "# phase $1: at $((SECONDS / 60)) min $((SECONDS % 60)) s"
}

# failures: what failed in this run, compact, just above the counts (CI
# shows only the end of the output): per failed test (at most four) its
# first "not ok" lines with the lines after them, and the last lines of its
# stderr.
failures() {
  local tap n=0
  echo "# what failed (tests/artifacts/NAME.tap and NAME.stderr):"
  for tap in $(grep -l '^not ok' $(find "$ART" -maxdepth 1 -name '*.tap' -newer "$ART/.run-start") /dev/null); do
    n=$((n + 1))
    [ $n -le 4 ] || { echo "# ... and more: grep '^not ok' tests/artifacts/*.tap"; break; }
    grep -m 2 -A 2 '^not ok' "$tap" | grep -v '^--$' | cut -c1-200 | sed "s|^|# $(basename "$tap" .tap): |"
    if [ -s "${tap%.tap}.stderr" ]; then
      tail -n 2 "${tap%.tap}.stderr" | cut -c1-200 | sed 's/^/#   stderr: /'
    fi
  done
}

# beside NAME FUNCTION [ARGS...]: FUNCTION in the background (it is not one of
# the e2e lanes' jobs: disowned), its lines into NAME.out and its counts into
# NAME.counts; collect NAME waits for it, prints its lines and adds its
# counts.  make check runs the phases that assert no timing (and need no more
# of the shared cluster than a database of their own) this way, beside the
# e2e lanes; and multihost and ha beside nemesis (each with clusters, ports
# and networks of its own, mostly waiting).
declare -A BESIDE_PID=()
beside() {
  local name=$1
  shift
  (PASS=0 FAIL=0; "$@"; echo "$PASS $FAIL" >"$ART/$name.counts") >"$ART/$name.out" 2>&1 &
  BESIDE_PID[$name]=$!
  disown "$!"
}
collect() {
  local p f
  while kill -0 "${BESIDE_PID[$1]}" 2>/dev/null; do sleep 0.5; done
  cat "$ART/$1.out"
  if ! read -r p f <"$ART/$1.counts"; then
    echo "not ok - $1: it ended without its counts (see tests/artifacts/$1.out)" | tee -a "$ART/$1.tap"
    p=0 f=1
  fi
  PASS=$((PASS + p))
  FAIL=$((FAIL + f))
}

# run_tap NAME COMMAND...: stream COMMAND's TAP lines, count them.
run_tap() {
  local name=$1; shift
  timeout 900 "$@" 2>"$ART/$name.stderr" | tee "$ART/$name.tap" | grep -E '^(ok|not ok|#)' || true
  tally "$name" "${PIPESTATUS[0]}"
}

# tally NAME RC: count NAME's TAP lines; a non-zero exit without any
# "not ok" line still counts as one failure, and so does a test that ran none.
tally() {
  local name=$1 rc=$2 out=$ART/$1.tap
  local p f
  p=$(grep -c '^ok' "$out")
  f=$(grep -c '^not ok' "$out")
  # (each verdict tally adds is also appended to the .tap, where the
  # failure summary at the end finds it)
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "not ok - $name exited with status $rc (see tests/artifacts/$name.stderr)" | tee -a "$out"
    f=1
  fi
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
    echo "not ok - $name ran no test" | tee -a "$out"
    f=1
  fi
  # pgTAP's and cmocka's word that the plan was not kept (a suite that
  # stopped early, or ran more than it says).
  if grep -q '^# Looks like you planned' "$out"; then
    echo "not ok - $name did not run the number of tests it planned" | tee -a "$out"
    f=$((f + 1))
  fi
  PASS=$((PASS + p))
  FAIL=$((FAIL + f))
}

# unit BUILD_DIR TAG [valgrind]
unit() {
  local t name
  for t in "$1"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")$2
    if [ "${3:-}" = valgrind ]; then
      run_tap "$name" env CMOCKA_MESSAGE_OUTPUT=TAP valgrind -q --leak-check=full \
        --errors-for-leak-kinds=definite --error-exitcode=99 "$t"
    else
      run_tap "$name" env CMOCKA_MESSAGE_OUTPUT=TAP "$t"
    fi
  done
}

# e2e_one INDEX FILE BIN_DIR TOOLS_DIR TAG: one end-to-end test into its
# .tap and .rc files; its TAP lines are printed when it ends.  The test runs
# in a session of its own (setsid), so that everything it started can be
# found and stopped: past GF_TEST_LIMIT seconds (default 600) it is a hang,
# and before the session is killed, what each of its processes was doing
# goes into the .tap as "#" lines (hang_report).
e2e_one() {
  local name pid limit=${GF_TEST_LIMIT:-600} ticks=0 start=$SECONDS
  name=$(basename "$2" .sh)$5
  setsid env TEST_PORT_BASE=$((${GF_TEST_PORT_START:-17000} + 20 * $1)) GF_TEST_BIN="$3" \
    GF_TEST_TOOLS="$4" GF_TEST_TAG="$5" bash "$2" >"$ART/$name.tap" 2>"$ART/$name.stderr" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null && [ $ticks -lt $((limit * 2)) ]; do
    sleep 0.5
    ticks=$((ticks + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    hang_report "$pid" "$limit" >>"$ART/$name.tap" 2>&1
    pkill -KILL -s "$pid" 2>/dev/null
    { wait "$pid"; } 2>/dev/null
    echo "not ok - $name: still running after ${limit}s (GF_TEST_LIMIT), killed" >>"$ART/$name.tap"
    echo 124 >"$ART/$name.rc"
  else
    wait "$pid"
    echo $? >"$ART/$name.rc"
  fi
  echo "# $name: $((SECONDS - start)) s" >>"$ART/$name.tap"
  flock "$ART/.print.lock" grep -E '^(ok|not ok|#)' "$ART/$name.tap"
}

# hang_report SID LIMIT: the processes of session SID, the innermost frames
# of each one's threads (gdb), and the database sessions that are not idle.
hang_report() {
  local sid=$1 p
  echo "# hang: still running after $2 s; its processes:"
  ps -o pid=,stat=,etime=,wchan:22=,args= -s "$sid" | cut -c1-160 | sed 's/^/# hang: /'
  for p in $(ps -o pid=,comm= -s "$sid" | awk '$2 !~ /^(bash|sleep|timeout|setsid|env)$/ {print $1}'); do
    echo "# hang: backtrace of $(ps -o pid=,args= -p "$p" | cut -c1-100)"
    timeout 30 gdb -p "$p" -batch -nx -ex "thread apply all bt 8" 2>/dev/null |
      grep -E '^(#|Thread)' | cut -c1-150 | sed 's/^/# hang:   /'
  done
  echo "# hang: database sessions not idle:"
  deploy/pg.sh psql -X -q -t -A -d postgres -c "SELECT pid, datname, state, wait_event_type,
      wait_event, now() - xact_start, left(regexp_replace(query, '\s+', ' ', 'g'), 90)
      FROM pg_stat_activity WHERE state <> 'idle' AND pid <> pg_backend_pid()" 2>&1 |
    sed 's/^/# hang: /'
}

# e2e_batch JOBS BIN_DIR TOOLS_DIR TAG INDEX:FILE...: JOBS tests at a time.
e2e_batch() {
  local jobs=$1 bin=$2 tools=$3 tag=$4 entry
  shift 4
  for entry in "$@"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
    e2e_one "${entry%%:*}" "${entry#*:}" "$bin" "$tools" "$tag" &
  done
  wait
  for entry in "$@"; do
    tally "$(basename "${entry#*:}" .sh)$tag" "$(cat "$ART/$(basename "${entry#*:}" .sh)$tag.rc")"
  done
}

# e2e BIN_DIR TOOLS_DIR TAG
e2e() {
  local t i=0 cost
  local -a shared=() alone=()
  deploy/pg.sh start
  template "$1"
  for t in tests/e2e/test_*.sh; do
    i=$((i + 1))
    if [ -n "$3" ] && grep -q '^# test: once' "$t"; then continue; fi
    cost=$(sed -n 's/^# test: long \([0-9]*\).*/\1/p' "$t")
    if grep -q '^# test: exclusive' "$t"; then alone+=("$i:$t"); else shared+=("${cost:-0}:$i:$t"); fi
  done
  # Longest first (a stable sort: the others in name order); the index,
  # and with it the test's ports, stays the test's own.
  mapfile -t shared < <(printf '%s\n' "${shared[@]}" | sort -s -t: -k1,1nr | cut -d: -f2-)
  e2e_batch "${GF_TEST_JOBS:-3}" "$1" "$2" "$3" "${shared[@]}"
  [ ${#alone[@]} -eq 0 ] || e2e_batch 1 "$1" "$2" "$3" "${alone[@]}"
}

# sample_db DB BIN_DIR LOG: DB dropped and made again, migrated by
# BIN_DIR/gridctl, the sample directory imported (their output in LOG).
sample_db() {
  PGOPTIONS="-c client_min_messages=warning" deploy/pg.sh psql -X -q -d postgres \
    -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null &&
    GF_DB="$(deploy/pg.sh conninfo "$1")" "$2/gridctl" db migrate >"$3" 2>&1 &&
    GF_DB="$(deploy/pg.sh conninfo "$1")" "$2/gridctl" grids import deploy/sample/qingnianlu.json >>"$3" 2>&1
}

# template BIN_DIR: the database every e2e test's new_db copies
# (GF_TEST_TEMPLATE): a sample_db with no connection left to it.  Without
# it each test migrates its own (and the failure counts).
# tests/e2e/test_db_migrate.sh tests the migrations themselves.
template() {
  if sample_db gft__template "$1" "$ART/template.log"; then
    export GF_TEST_TEMPLATE=gft__template
  else
    echo "not ok - the e2e tests' template database (tests/artifacts/template.log)" | tee "$ART/template.tap"
    FAIL=$((FAIL + 1))
    unset GF_TEST_TEMPLATE
  fi
}

# sql BIN_DIR: the database code's own tests.  tests/sql/check_layout.py
# (one file per function, no long SQL in C), then each pgTAP suite
# tests/sql/*.sql in a database migrated by BIN_DIR/gridctl with the sample
# directory; every suite runs in a transaction it rolls back.
sql_suites() {
  local db=gft_sql suite
  # The suites drive the simulated clock (gf_now () follows it in a session
  # that says so, as the services do when clock/simulated is on).
  export PGOPTIONS="${PGOPTIONS:-} -c gridflow.sim_clock=on"
  run_tap check_layout python3 tests/sql/check_layout.py
  deploy/pg.sh start
  if ! sample_db "$db" "$1" "$ART/sql-migrate.log" ||
     ! deploy/pg.sh psql -X -q -d "$db" -c "CREATE EXTENSION IF NOT EXISTS pgtap" >>"$ART/sql-migrate.log" 2>&1; then
    echo "not ok - sql: database for the pgTAP suites (see tests/artifacts/sql-migrate.log)" | tee -a "$ART/sql.tap"
    FAIL=$((FAIL + 1))
    return
  fi
  for suite in tests/sql/*.sql; do
    run_tap "sql_$(basename "$suite" .sql)" deploy/pg.sh psql -X -q -t -A -v ON_ERROR_STOP=1 \
      -d "$db" -f "$suite"
  done
}

# multihost BIN_DIR TAG: tests/multihost/ (test_multihost, then test_scaleout,
# one after the other) when network namespaces can be made
# (root, ip netns); else a "# skip" line that counts nothing.
multihost() {
  if [ "$(id -u)" -eq 0 ] && ip netns add "gfmh-probe$$" 2>/dev/null; then
    ip netns del "gfmh-probe$$"
    run_tap "test_multihost$2" env GF_TEST_BIN="$1" GF_TEST_TAG="$2" bash tests/multihost/test_multihost.sh
    # then the notifiers' scale-out (issue 18 item 3); its ports are inside its
    # namespaces, and clear of those ha and nemesis use beside it all the same
    run_tap "test_scaleout$2" env GF_TEST_BIN="$1" GF_TEST_TAG="$2" \
      TEST_PORT_BASE="$((${GF_TEST_PORT_START:-17000} + 60))" bash tests/multihost/test_scaleout.sh
  else
    echo "# skip test_multihost: no network namespaces (needs root and ip netns)"
  fi
}

# ha BIN_DIR TOOLS_DIR TAG: tests/ha/ (their own PostgreSQL clusters, under var/ha/).
ha() {
  local t port=${GF_TEST_PORT_START:-17000}
  for t in tests/ha/test_*.sh; do
    run_tap "$(basename "$t" .sh)$3" env TEST_PORT_BASE=$port GF_TEST_BIN="$1" GF_TEST_TOOLS="$2" \
      GF_TEST_TAG="$3" bash "$t"
    port=$((port + 10))
  done
}

# nemesis BIN_DIR: the short nemesis run (tests/nemesis/nemesis_short.sh; make nemesis is the long one).
nemesis() {
  run_tap nemesis_short env TEST_PORT_BASE=$((${GF_TEST_PORT_START:-17000} + 40)) GF_TEST_BIN="$1" bash tests/nemesis/nemesis_short.sh
}

# fuzz_short: each libFuzzer target briefly (GF_FUZZ_SECONDS, default 5).
fuzz_short() { run_tap fuzz_short tests/fuzz/run.sh "${GF_FUZZ_SECONDS:-5}"; }

units_sql_fuzz_valgrind() {
  echo "# unit tests"
  unit build ""
  echo "# the database code: layout rules and pgTAP suites (tests/sql)"
  sql_suites "$ROOT/bin"
  echo "# libFuzzer targets, a bounded run (tests/fuzz/run.sh; make fuzz runs them longer)"
  fuzz_short
  echo "# unit tests under valgrind"
  unit build "-valgrind" valgrind
}

case "$MODE" in
  nemesis) nemesis "$ROOT/bin" ;;
  ha) ha "$ROOT/bin" "$ROOT/build/tools" "" ;;
  city) deploy/pg.sh start && e2e_batch 1 "$ROOT/bin" "$ROOT/build/tools" "" "0:tests/e2e/test_city.sh" ;;
  multihost) multihost "$ROOT/bin" "" ;;
  unit) unit build "" ;;
  sql) sql_suites "$ROOT/bin" ;;
  e2e) e2e "$ROOT/bin" "$ROOT/build/tools" "" ;;
  fuzz) fuzz_short ;;
  all) unit build ""; sql_suites "$ROOT/bin"; e2e "$ROOT/bin" "$ROOT/build/tools" "" ;;
  check)
    phase format-check
    if make -s format-check >"$ART/format-check.out" 2>&1; then
      echo "ok - format-check (clang-format)"; PASS=$((PASS + 1))
    else
      echo "not ok - format-check: run make format (see tests/artifacts/format-check.out)" | tee -a "$ART/format-check.tap"
      FAIL=$((FAIL + 1))
    fi
    deploy/pg.sh start >/dev/null
    phase "e2e, and beside it the unit tests, the database code's (layout rules and pgTAP suites, tests/sql), the libFuzzer targets (a bounded run of tests/fuzz/run.sh; make fuzz runs them longer) and the unit tests under valgrind"
    beside beside_e2e units_sql_fuzz_valgrind
    e2e "$ROOT/bin" "$ROOT/build/tools" ""
    phase "the unit tests, pgTAP, libFuzzer and valgrind, collected"
    collect beside_e2e
    # Each of these three has its own clusters, ports, namespaces and
    # subnets, and most of their time is spent waiting for faults and
    # timeouts (about half the two cores idle, one after the other): they
    # run together.
    phase "multihost, ha (PostgreSQL failover: tests/ha, make check-ha) and nemesis (pause, file descriptors, clock skew, full disk, partition: tests/nemesis, make nemesis), together"
    beside beside_multihost multihost "$ROOT/bin" ""
    beside beside_ha ha "$ROOT/bin" "$ROOT/build/tools" ""
    nemesis "$ROOT/bin"
    phase "multihost and ha, collected"
    collect beside_multihost
    collect beside_ha
    phase "e2e built with AddressSanitizer + UBSan, and beside it the unit tests so built"
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    beside beside_asan unit build/asan "-asan"
    e2e "$ROOT/build/asan/bin" "$ROOT/build/asan/tools" "-asan"
    phase "the unit tests built with AddressSanitizer + UBSan, collected"
    collect beside_asan
    phase end
    ;;
  *) echo "usage: $0 [unit|sql|e2e|all|check|fuzz|multihost|ha|city|nemesis]" >&2; exit 2 ;;
esac

[ "$FAIL" -eq 0 ] || failures
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
