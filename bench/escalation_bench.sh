#!/usr/bin/env bash
# make bench, part 2: the weekly meeting round (all 12 L2 grids of the
# sample) with BENCH_OPEN_CASES open cases (default 1,000,000) in the
# database, held by the real escalator on the simulated clock.  Prints the
# round's wall time and the escalator's peak resident memory; appends them
# to bench/out/escalation.json.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
N=${BENCH_OPEN_CASES:-1000000}
BIN=$ROOT/bin
OUT=$ROOT/bench/out
mkdir -p "$OUT"
PSQL=/usr/lib/postgresql/15/bin/psql

deploy/pg.sh start
DB=gf_bench_esc
PGOPTIONS="-c client_min_messages=warning" deploy/pg.sh psql -X -q -d postgres \
  -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
export GF_DB="$(deploy/pg.sh conninfo $DB)"
sql() { "$PSQL" -X -q -t -A -v ON_ERROR_STOP=1 -d "$GF_DB" -c "$1"; }
"$BIN/gridctl" db migrate >/dev/null 2>&1
"$BIN/gridctl" grids import deploy/sample/qingnianlu.json >/dev/null 2>&1
"$BIN/gridctl" calendar import >/dev/null 2>&1
"$BIN/gridctl" clock set 2026-11-16T08:00:00+08:00 >/dev/null
# Only the meeting round is measured: sign-for reminders (which would fire
# for every routed case here) are switched off for this database.
sql "UPDATE escalation_rules SET enabled = false WHERE rule = 'sign_reminder'"

t0=$(date +%s.%N)
# N open cases over the 111 L3 grids, received during the 60 days before,
# each with its case.received and case.routed events (already sequenced).
sql "INSERT INTO cases (id, source, source_ref, root, grid, state, description, received_at, routed_at, category)
     SELECT i, 'hotline', 'BENCH-' || i, 'QNL', g.codes[1 + i % array_length(g.codes, 1)],
            CASE WHEN i % 5 = 0 THEN 'signed' ELSE 'routed' END,
            '小区路灯不亮，晚上出行不便', gf_now() - make_interval(mins => (i % 86400)),
            gf_now() - make_interval(mins => (i % 86400)) + interval '1 minute', 'power'
       FROM generate_series(1, $N) i,
            (SELECT array_agg(code ORDER BY code) AS codes FROM grids WHERE level = 3) g;
     SELECT setval('cases_id_seq', $N);
     INSERT INTO case_events (seq, type, topic, case_id, grid, at, payload)
     SELECT 2 * id - 1, 'case.received', 'case.received/QNL', id, 'QNL', received_at, '{}' FROM cases;
     INSERT INTO case_events (seq, type, topic, case_id, grid, at, payload)
     SELECT 2 * id, 'case.routed', 'case.routed/' || grid, id, grid, routed_at, '{}' FROM cases;
     ANALYZE"
t_load=$(date +%s.%N)

"$BIN/gf-escalator" 2>"$OUT/escalator.log" &
ESC=$!
trap 'kill -TERM $ESC 2>/dev/null || true; wait 2>/dev/null || true' EXIT
until [ "$(sql "SELECT count(*) FROM escalation_state")" = 1 ]; do sleep 0.1; done
"$BIN/gridctl" clock set 2026-11-16T09:00:00+08:00 >/dev/null   # the Monday slot
t1=$(date +%s.%N)
until [ "$(sql "SELECT count(*) FROM meetings WHERE kind = 'weekly'")" = 12 ]; do sleep 0.05; done
t2=$(date +%s.%N)
rss=$(awk '/VmHWM/ {print $2}' "/proc/$ESC/status")
entries=$(sql "SELECT count(*) FROM ledger_entries")
escalated=$(sql "SELECT count(*) FROM escalations")
python3 - "$N" "$t0" "$t_load" "$t1" "$t2" "$rss" "$entries" "$escalated" <<'PY'
import json, sys
n, t0, tl, t1, t2, rss, entries, esc = sys.argv[1:]
r = {"open_cases": int(n), "load_seconds": round(float(tl) - float(t0), 1),
     "weekly_round_seconds": round(float(t2) - float(t1), 2),
     "escalator_peak_rss_kib": int(rss), "ledger_entries": int(entries), "escalations": int(esc)}
print()
print("weekly meeting round (12 L2 grids) with %d open cases" % r["open_cases"])
print("  %-40s %10.2f s" % ("round, slot reached -> 12 meetings held", r["weekly_round_seconds"]))
print("  %-40s %10d" % ("ledger entries written", r["ledger_entries"]))
print("  %-40s %10d" % ("escalations", r["escalations"]))
print("  %-40s %10.1f MiB" % ("escalator peak RSS", r["escalator_peak_rss_kib"] / 1024))
json.dump(r, open("bench/out/escalation.json", "w"), indent=2)
PY
