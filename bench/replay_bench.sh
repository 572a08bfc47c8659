#!/usr/bin/env bash
# The replay figure alone (the replay part of bench/escalation_bench.sh):
# BENCH_REPLAY_CASES cases (default 250,000) with 2 sequenced events each,
# loaded by SQL into database gf_bench_replay (BENCH_RELOAD=0 keeps a loaded
# one) in seq order, as the log is written (numbered at commit), then the
# relay alone and one bench_replay subscriber replaying BENCH_REPLAY events
# (default all) from seq 0.  Prints the JSON of
# bench_replay, the CPU seconds of the reader, the relay and its PostgreSQL
# backend, and the load average before and after.
# BENCH_REPLAY_DB=name replays an existing database as it is (say
# gf_bench_sub, left by escalation_bench.sh: real payloads) instead.
# Environment: GF_PGPORT, BENCH_PORT_BASE (default 16570) as in make bench;
# BENCH_BIN (default bin/) and GF_TEST_TOOLS (default build/tools) run
# another build's relay and reader.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
N=${BENCH_REPLAY_CASES:-250000}
REPLAY=${BENCH_REPLAY:-$((2 * N))}
BIN=${BENCH_BIN:-$ROOT/bin}
TOOLS=${GF_TEST_TOOLS:-$ROOT/build/tools}
PSQL=/usr/lib/postgresql/15/bin/psql
DB=${BENCH_REPLAY_DB:-gf_bench_replay}
deploy/pg.sh start
export GF_DB="$(deploy/pg.sh conninfo $DB)"
sql() { "$PSQL" -X -q -t -A -v ON_ERROR_STOP=1 -d "$GF_DB" -c "$1"; }
if [ -n "${BENCH_REPLAY_DB:-}" ]; then
  HEAD=$(sql "SELECT coalesce (max (seq), 0) FROM case_events")
  [ "$REPLAY" -le "$HEAD" ] || REPLAY=$HEAD
elif [ "${BENCH_RELOAD:-1}" = 1 ] || ! sql "SELECT 1" >/dev/null 2>&1; then
  PGOPTIONS="-c client_min_messages=warning" deploy/pg.sh psql -X -q -d postgres \
    -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
  "$BIN/gridctl" db migrate >/dev/null 2>&1
  "$BIN/gridctl" grids import deploy/sample/qingnianlu.json >/dev/null 2>&1
  sql "INSERT INTO cases (id, source, source_ref, root, grid, state, description, received_at, routed_at, category)
     SELECT i, 'hotline', 'BENCH-' || i, 'QNL', g.codes[1 + i % array_length(g.codes, 1)], 'routed',
            '小区路灯不亮，晚上出行不便', now() - make_interval(mins => (i % 86400)),
            now() - make_interval(mins => (i % 86400)) + interval '1 minute', 'power'
       FROM generate_series(1, $N) i,
            (SELECT array_agg(code ORDER BY code) AS codes FROM grids WHERE level = 3) g;
     SELECT setval('cases_id_seq', $N);
     INSERT INTO case_events (seq, type, topic, case_id, grid, at, payload)
     SELECT e.* FROM cases c,
            LATERAL (VALUES (2 * c.id - 1, 'case.received', 'case.received/QNL', c.id, 'QNL',
                             c.received_at, '{}'::jsonb),
                            (2 * c.id, 'case.routed', 'case.routed/' || c.grid, c.id, c.grid,
                             c.routed_at, '{}')) e
      ORDER BY 1;
     ANALYZE"
fi
PB=${BENCH_PORT_BASE:-16570}
export GF_CURVE=${GF_CURVE:-off}
export GF_PUB=tcp://127.0.0.1:$((PB + 4)) GF_REPLAY=tcp://127.0.0.1:$((PB + 5))
"$BIN/gf-relay" 2>/dev/null &
RELAY=$!
trap 'kill -TERM $RELAY 2>/dev/null || true; wait $RELAY 2>/dev/null || true' EXIT
sleep 1
BACKEND=$(sql "SELECT pid FROM pg_stat_activity WHERE application_name = 'gf-relay-replay'" | head -1)
cpu() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$1/stat"; }
r0=$(cpu $RELAY)
b0=$(cpu "$BACKEND")
echo "load before: $(cat /proc/loadavg)"
/usr/bin/time -f "reader cpu: %U s user, %S s sys" "$TOOLS/bench_replay" "$GF_PUB" "$GF_REPLAY" "$REPLAY" 600000 || true
python3 -c "import sys; print('relay cpu: %.2f s, its backend: %.2f s' % (float(sys.argv[1]) - float(sys.argv[2]), float(sys.argv[3]) - float(sys.argv[4])))" \
  "$(cpu $RELAY)" "$r0" "$(cpu "$BACKEND")" "$b0"
echo "load after: $(cat /proc/loadavg)"
