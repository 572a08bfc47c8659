#!/usr/bin/env bash
# make bench, part 2: the weekly meeting round (all 12 L2 grids of the
# sample) with BENCH_OPEN_CASES open cases (default 1,000,000) in the
# database, held by the real escalator on the simulated clock.  Prints the
# round's wall time and the escalator's peak resident memory.  Then, on the
# same database: every other service started (router and notifier from the
# head of the log), a subscriber replays BENCH_REPLAY (default 1,000,000)
# events from seq 0, a light open-loop load (200/s for 5 s) goes through,
# and the peak resident memory (VmHWM) of every service is read.
# Writes bench/out/escalation.json (bench/report.py builds the table).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
N=${BENCH_OPEN_CASES:-1000000}
BIN=$ROOT/bin
OUT=$ROOT/bench/out
mkdir -p "$OUT"
PSQL=/usr/lib/postgresql/15/bin/psql
# The benchmark drives the simulated clock (clock/simulated), and its own
# psql sessions follow it as the services do.
export GF_SIM_CLOCK=on GF_CLOCK_MAX_JUMP=8784 PGOPTIONS="${PGOPTIONS:-} -c gridflow.sim_clock=on"

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
# for every routed case here) are switched off for this database (their
# notification rules: the sign_reminder escalation rule only sets the hours).
sql "UPDATE notification_rules SET enabled = false WHERE event_type = 'sign.reminder'"

load_round=$(cut -d' ' -f1 /proc/loadavg)
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

# The other services on the same 1,000,000 open cases.  Router and notifier
# start at the head: they are here to hold the cases, not to re-route them.
REPLAY=${BENCH_REPLAY:-1000000}
HEAD=$(sql "SELECT coalesce(max(seq), 0) FROM case_events")
[ "$REPLAY" -le "$HEAD" ] || REPLAY=$HEAD
sql "INSERT INTO consumer_checkpoints (consumer, last_seq) VALUES ('router', $HEAD), ('notifier', $HEAD)
     ON CONFLICT (consumer) DO UPDATE SET last_seq = EXCLUDED.last_seq"
PB=${BENCH_PORT_BASE:-16570}
export GF_CURVE=${GF_CURVE:-off} # loopback, plain TCP (docs/security.md)
export GF_INTAKE=tcp://127.0.0.1:$((PB + 3)) GF_PUB=tcp://127.0.0.1:$((PB + 4)) GF_REPLAY=tcp://127.0.0.1:$((PB + 5))
export GF_APP=tcp://127.0.0.1:$((PB + 7))   # the notifier's app push
TOOLS=${GF_TEST_TOOLS:-$ROOT/build/tools}
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT
for svc in relay intake router notifier; do
  "$BIN/gf-$svc" 2>"$OUT/$svc-1m.log" &
  PIDS+=($!)
done
sleep 1
load_replay=$(cut -d' ' -f1 /proc/loadavg)
"$TOOLS/bench_replay" "$GF_PUB" "$GF_REPLAY" "$REPLAY" 600000 >"$OUT/replay.json" || true
cat "$OUT/replay.json"
GRIDS=$(sql "SELECT string_agg(code, ',' ORDER BY code) FROM grids WHERE level = 3")
"$TOOLS/bench_load" "$GF_INTAKE" "$GF_PUB" "$GRIDS" 200 5 0 "m1$$" >"$OUT/open_1m.json" || true
cat "$OUT/open_1m.json"
i=0
for svc in relay intake router notifier; do
  printf '%s %s\n' "$svc" "$(awk '/VmHWM/ {print $2}' "/proc/${PIDS[$i]}/status")"
  i=$((i + 1))
done | tee "$OUT/rss_1m_before_round.txt"
load_round=$(cut -d' ' -f1 /proc/loadavg)
"$BIN/gf-escalator" 2>"$OUT/escalator.log" &
ESC=$!
PIDS=($ESC "${PIDS[@]}")
until [ "$(sql "SELECT count(*) FROM escalation_state")" = 1 ]; do sleep 0.1; done
"$BIN/gridctl" clock set 2026-11-16T09:00:00+08:00 >/dev/null   # the Monday slot
t1=$(date +%s.%N)
# BENCH_ROUND_TIMEOUT (default 600 s) keeps make bench bounded: past it the
# round is recorded as incomplete, with the meetings held so far.
deadline=$((SECONDS + ${BENCH_ROUND_TIMEOUT:-600}))
until [ "$(sql "SELECT count(*) FROM meetings WHERE kind = 'weekly'")" = 12 ] || [ $SECONDS -ge $deadline ]; do
  sleep 0.2
done
t2=$(date +%s.%N)
held=$(sql "SELECT count(*) FROM meetings WHERE kind = 'weekly'")
grep -o 'held weekly meeting .* in [0-9]* ms' "$OUT/escalator.log" | sed 's/.* in \([0-9]*\) ms/\1/' \
  | paste -sd, >"$OUT/meeting_ms.txt" || true
rss=$(awk '/VmHWM/ {print $2}' "/proc/$ESC/status")
entries=$(sql "SELECT count(*) FROM ledger_entries")
escalated=$(sql "SELECT count(*) FROM escalations")

{
  printf 'escalator %s\n' "$rss"
  i=1
  for svc in relay intake router notifier; do
    printf '%s %s\n' "$svc" "$(awk '/VmHWM/ {print $2}' "/proc/${PIDS[$i]}/status")"
    i=$((i + 1))
  done
} >"$OUT/rss_1m.txt"

python3 - "$N" "$t0" "$t_load" "$t1" "$t2" "$entries" "$escalated" "$load_round" "$load_replay" "$held" <<'PY'
import json, sys
n, t0, tl, t1, t2, entries, esc, l_round, l_replay, held = sys.argv[1:]
out = "bench/out"
r = {"open_cases": int(n), "load_seconds": round(float(tl) - float(t0), 1),
     "weekly_round_seconds": round(float(t2) - float(t1), 2) if held == "12" else None,
     "meetings_held": int(held),
     "meeting_ms": [int(x) for x in open(out + "/meeting_ms.txt").read().split(",") if x.strip()],
     "ledger_entries": int(entries), "escalations": int(esc),
     "replay": json.load(open(out + "/replay.json")),
     "open_200_at_open_cases": json.load(open(out + "/open_1m.json")),
     "rss_kib": {l.split()[0]: int(l.split()[1]) for l in open(out + "/rss_1m.txt")},
     "load": {"round": float(l_round), "replay": float(l_replay)}}
json.dump(r, open(out + "/escalation.json", "w"), indent=2)
PY
