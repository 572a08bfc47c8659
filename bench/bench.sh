#!/usr/bin/env bash
# make bench (first version): how fast complaints go end to end, against the
# ceiling PostgreSQL itself gives for storing the same rows in batches.
#   BENCH_N (default 20000) complaints, fed by one hotline adapter with a
#   window of 1000 in flight, on the private cluster (deploy/pg.sh).
# Prints a table and writes bench/results.json.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
N=${BENCH_N:-20000}
BIN=$ROOT/bin
OUT=$ROOT/bench/out
mkdir -p "$OUT"
PSQL=/usr/lib/postgresql/15/bin/psql
PGBENCH=/usr/lib/postgresql/15/bin/pgbench

deploy/pg.sh start
DB=gf_bench
PGOPTIONS="-c client_min_messages=warning" deploy/pg.sh psql -X -q -d postgres \
  -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
export GF_DB="$(deploy/pg.sh conninfo $DB)"
export GF_CURVE=${GF_CURVE:-off} # loopback, plain TCP (docs/security.md)
export GF_INTAKE=tcp://127.0.0.1:16570 GF_PUB=tcp://127.0.0.1:16571 GF_REPLAY=tcp://127.0.0.1:16572
"$BIN/gridctl" db migrate >/dev/null 2>&1
"$BIN/gridctl" grids import deploy/sample/qingnianlu.json >/dev/null 2>&1
sql() { "$PSQL" -X -q -t -A -d "$GF_DB" -c "$1"; }

python3 tests/tools/gen_hotline.py --grids deploy/sample/qingnianlu.json --count "$N" --seed 3 \
  --prefix HL-B >"$OUT/feed.jsonl" 2>/dev/null
ROUTED_EXPECTED=$(python3 -c "print($N - round($N * 0.10))")

PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT
for svc in relay intake router notifier; do
  "$BIN/gf-$svc" 2>"$OUT/$svc.log" &
  PIDS+=($!)
done
sleep 1

now() { date +%s.%N; }
t0=$(now)
"$BIN/gf-hotline" --quiet --window 1000 "$OUT/feed.jsonl" >"$OUT/feed.out"
t_ack=$(now)
until [ "$(sql "SELECT count(*) FROM notifications n JOIN people p ON p.id = n.recipient
              WHERE n.kind = 'case.routed' AND p.role = 'leader'")" -ge "$ROUTED_EXPECTED" ]; do sleep 0.02; done
t_e2e=$(now)
cat "$OUT/feed.out"
# Where the CPU went: each service and its PostgreSQL backend(s).
tick=$(getconf CLK_TCK)
cpu() { awk -v t="$tick" '{printf "%.2f", ($14 + $15) / t}' "/proc/$1/stat" 2>/dev/null || echo "?"; }
{
  i=0
  for svc in relay intake router notifier; do
    backends=$(sql "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE application_name LIKE 'gf-$svc%'")
    bcpu=0
    for b in $backends; do bcpu=$(python3 -c "print($bcpu + $(cpu "$b"))"); done
    printf "  cpu s  %-10s process %6s   postgres backend %6s\n" "$svc" "$(cpu "${PIDS[$i]}")" "$bcpu"
    i=$((i + 1))
  done
} | tee "$OUT/cpu.txt"

# The ceiling: PostgreSQL storing the same rows (a case and its event per
# complaint) in batches of 500 per transaction, 2 clients, 10 seconds.
sql "CREATE TABLE IF NOT EXISTS bench_cases (LIKE cases INCLUDING DEFAULTS);
     CREATE TABLE IF NOT EXISTS bench_events (LIKE case_events INCLUDING DEFAULTS)"
cat >"$OUT/pgbench.sql" <<'SQL'
WITH c AS (
  INSERT INTO bench_cases (id, source, source_ref, root, grid, description, address, phone, received_at)
  SELECT nextval('cases_id_seq'), 'hotline', 'PB-' || nextval('cases_id_seq'), 'QNL', 'QNL',
         '小区路灯不亮已经三天了，晚上出行很不方便，请尽快派人维修。', '西街村3组12号', '13912345678', now()
    FROM generate_series(1, 500)
  RETURNING id, root)
INSERT INTO bench_events (id, type, topic, case_id, grid, at, payload)
SELECT nextval('case_events_id_seq'), 'case.received', 'case.received/' || root, id, root, now(),
       '{"source":"hotline","description":"小区路灯不亮已经三天了"}'::jsonb FROM c;
SQL
"$PGBENCH" -n -h "$(deploy/pg.sh sockdir)" -p "${GF_PGPORT:-55432}" -U gridflow -c 2 -j 2 -T 10 \
  -f "$OUT/pgbench.sql" "$DB" >"$OUT/pgbench.out" 2>&1
tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$OUT/pgbench.out" | head -1)

python3 - "$N" "$t0" "$t_ack" "$t_e2e" "$tps" <<'PY'
import json, sys
n, t0, t_ack, t_e2e, tps = int(sys.argv[1]), *map(float, sys.argv[2:6])
ack = n / (t_ack - t0)
e2e = n / (t_e2e - t0)
ceiling = tps * 500
r = {"complaints": n,
     "intake_ack_per_s": round(ack, 1),
     "end_to_end_per_s": round(e2e, 1),
     "end_to_end_seconds": round(t_e2e - t0, 3),
     "pgbench_batched_rows_per_s": round(ceiling, 1),
     "ratio_end_to_end_to_pgbench": round(e2e / ceiling, 3)}
print()
print("gridflow bench (%d complaints, 1 adapter, window 1000)" % n)
print("  %-44s %12.0f /s" % ("intake acknowledged", ack))
print("  %-44s %12.0f /s" % ("end to end (submitted -> notification stored)", e2e))
print("  %-44s %12.0f rows/s" % ("pgbench ceiling (same rows, 500 per txn)", ceiling))
print("  %-44s %12.1f %%" % ("end to end / pgbench ceiling", 100 * e2e / ceiling))
json.dump(r, open("bench/results.json", "w"), indent=2)
PY
