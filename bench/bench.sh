#!/usr/bin/env bash
# make bench, part 1: how fast complaints go end to end, against the
# ceiling PostgreSQL itself gives for storing the same rows in batches, and
# the latency under an open-loop load (docs/performance.md).
#   BENCH_N (default 20000) complaints at saturation: tests/tools/bench_load
#     keeps 1000 in flight and a dashboard-like subscriber on the relay
#     sees each case's notification (end to end).
#   BENCH_OL_SECONDS (default 10) seconds of open-loop load at 1,000/s and
#     at 50% of the measured saturation.
#   BENCH_MIX_RATE (default 200) complaints per second in the mixed open
#     loop, each case then worked by its grid leader with four staff
#     actions (sign, progress, resolve, callback): 5 requests per complaint.
#   BENCH_PORT_BASE (default 16570): the services use BASE..BASE+7, the
#     SMS sink BASE+10.
#   Every run is followed by the channels' drain: tests/tools/bench_sinks
#   is every person's phone app (signed in, acknowledging each message) and
#   the SMS gateway (answering 200); the next run starts when every
#   delivery is out, and how long that took after the run is recorded.
#   BENCH_BIN (default bin/) and GF_TEST_TOOLS (default build/tools): the
#     services and tools of another build (a worktree), to compare two
#     builds on the same cluster one run after the other.
# Writes bench/out/throughput.json (bench/report.py builds the table).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
N=${BENCH_N:-20000}
BIN=${BENCH_BIN:-$ROOT/bin}
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
PB=${BENCH_PORT_BASE:-16570}
export GF_INTAKE=tcp://127.0.0.1:$PB GF_PUB=tcp://127.0.0.1:$((PB + 1)) GF_REPLAY=tcp://127.0.0.1:$((PB + 2))
export GF_APP=tcp://127.0.0.1:$((PB + 6))   # the notifier's app push
OLS=${BENCH_OL_SECONDS:-10}
TOOLS=${GF_TEST_TOOLS:-$ROOT/build/tools}
"$BIN/gridctl" db migrate >/dev/null 2>&1
"$BIN/gridctl" grids import deploy/sample/qingnianlu.json >/dev/null 2>&1
sql() { "$PSQL" -X -q -t -A -d "$GF_DB" -c "$1"; }

# The channels' far ends.  Quiet hours and the SMS rate limit are off in
# this database: the bench measures how fast messages go out, not the
# policy that holds them back (tests/e2e/test_notify_quiet.sh and
# test_notify_down.sh test those).  Every person gets an app token.
SINK_PORT=$((PB + 10))
export GF_SMS_URL=http://127.0.0.1:$SINK_PORT/sms
sql "DELETE FROM delivery_quiet; UPDATE delivery_policy SET rate_limit = 0"
sql "INSERT INTO app_tokens (person, token_sha256)
     SELECT id, sha256 (convert_to ('bench-' || id, 'UTF8')) FROM people
     ON CONFLICT (person) DO UPDATE SET token_sha256 = excluded.token_sha256"
sql "SELECT id || ' bench-' || id FROM people ORDER BY id" >"$OUT/persons.txt"

GRIDS=$(sql "SELECT string_agg(code, ',' ORDER BY code) FROM grids WHERE level = 3")
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT
for svc in relay intake router notifier; do
  "$BIN/gf-$svc" 2>"$OUT/$svc.log" &
  PIDS+=($!)
done
sleep 1
"$TOOLS/bench_sinks" "$GF_APP" "$OUT/persons.txt" "$SINK_PORT" >"$OUT/sinks.json" 2>"$OUT/sinks.err" &
SINKS=$!
PIDS+=("$SINKS")

load() { cut -d' ' -f1 /proc/loadavg; }
# generate NAME ARGS...: one bench_load run into $OUT/NAME.json; the CPU
# seconds (user + system) the load generator itself used go to
# $OUT/NAME.cpu (bash's `times` of the subshell: its children's line).
generate() {
  local name=$1; shift
  ( "$TOOLS/bench_load" "$@" >"$OUT/$name.json" || true; times ) | sed -n 2p |
    awk '{split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.2f\n", u[1] * 60 + u[2] + s[1] * 60 + s[2]}' \
    >"$OUT/$name.cpu"
}
# drain NAME: waits (at most 180 s) until every delivery is out, an SMS
# sent and an app message acknowledged; the seconds it took go to
# $OUT/NAME.drain, then the deliveries still out (0 when drained).
drain() {
  local t0 left
  t0=$(date +%s%N)
  for _ in $(seq 1 1800); do
    left=$(sql "SELECT count(*) FROM deliveries WHERE state = 'pending' OR (channel = 'app' AND state = 'sent')")
    [ "$left" = 0 ] && break
    sleep 0.1
  done
  printf '%s %s\n' "$(python3 -c "print(round(($(date +%s%N) - $t0) / 1e9, 2))")" "$left" >"$OUT/$1.drain"
}
# Saturation: closed loop, 1000 in flight, BENCH_N complaints.
load_sat=$(load)
generate saturation "$GF_INTAKE" "$GF_PUB" "$GRIDS" 0 "$(python3 -c "print($N / 1000)")" 1000 "sat$$"
cat "$OUT/saturation.json"
drain saturation
SAT=$(python3 -c "import json; print(json.load(open('$OUT/saturation.json'))['end_to_end_per_s'])")
# Where the CPU went: each service and its PostgreSQL backend(s), the
# notifier's with its dispatch and app push, after the saturation run and
# its drain.
tick=$(getconf CLK_TCK)
cpu() { awk -v t="$tick" '{printf "%.2f", ($14 + $15) / t}' "/proc/$1/stat" 2>/dev/null || echo "?"; }
{
  i=0
  for svc in relay intake router notifier; do
    backends=$(sql "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE application_name LIKE 'gf-$svc%'")
    bcpu=0
    for b in $backends; do bcpu=$(awk -v a="$bcpu" -v b="$(cpu "$b")" 'BEGIN {printf "%.2f", a + b}'); done
    printf "  cpu s  %-10s process %6s   postgres backend %6s\n" "$svc" "$(cpu "${PIDS[$i]}")" "$bcpu"
    # the notifier's parts, each its own connection: events, dispatch, app
    [ "$svc" = notifier ] && sql "SELECT pid || ' ' || application_name FROM pg_stat_activity
                                   WHERE application_name LIKE 'gf-notifier%' ORDER BY application_name" |
      while read -r b name; do printf "         %-26s postgres backend %6s\n" "$name" "$(cpu "$b")"; done
    i=$((i + 1))
  done
  printf "  cpu s  %-10s process %6s\n" sinks "$(cpu "$SINKS")"
} | tee "$OUT/cpu.txt"


# Open loop at 1,000/s and at half the saturation just measured.
HALF=$(python3 -c "print(max(1, round($SAT / 2)))")
load_ol1=$(load)
generate open_1000 "$GF_INTAKE" "$GF_PUB" "$GRIDS" 1000 "$OLS" 0 "ol1k$$"
cat "$OUT/open_1000.json"
drain open_1000
load_olh=$(load)
generate open_half "$GF_INTAKE" "$GF_PUB" "$GRIDS" "$HALF" "$OLS" 0 "olhalf$$"
cat "$OUT/open_half.json"
drain open_half
# The mix: complaints at BENCH_MIX_RATE on the L3 grids that have a leader,
# each case worked by that leader (four actions, bench_load ACTORS).
MIX=${BENCH_MIX_RATE:-200}
MIX_GRIDS=$(sql "SELECT string_agg(g.code, ',' ORDER BY g.code) FROM grids g
                  WHERE g.level = 3 AND EXISTS (SELECT 1 FROM people p WHERE p.grid = g.code AND p.role = 'leader')")
ACTORS=$(sql "SELECT string_agg((SELECT min(p.id) FROM people p WHERE p.grid = g.code AND p.role = 'leader'), ',' ORDER BY g.code)
                FROM grids g
               WHERE g.level = 3 AND EXISTS (SELECT 1 FROM people p WHERE p.grid = g.code AND p.role = 'leader')")
load_mix=$(load)
generate open_mix "$GF_INTAKE" "$GF_PUB" "$MIX_GRIDS" "$MIX" "$OLS" 0 "olmix$$" "$ACTORS"
cat "$OUT/open_mix.json"
drain open_mix
sinks_cpu=$(cpu "$SINKS")
kill -TERM "$SINKS"
wait "$SINKS" || true
cat "$OUT/sinks.json"
sql "SELECT coalesce(json_object_agg(channel || '.' || state, n), '{}') FROM (SELECT channel, state, count(*) AS n FROM deliveries GROUP BY 1, 2) d" \
  >"$OUT/deliveries.json"
# Peak resident memory of each service over all the runs above.
i=0
for svc in relay intake router notifier; do
  printf '%s %s\n' "$svc" "$(awk '/VmHWM/ {print $2}' "/proc/${PIDS[$i]}/status")"
  i=$((i + 1))
done >"$OUT/rss_throughput.txt"

# The ceiling: PostgreSQL storing the same rows (a case and its event per
# complaint) in batches of 500 per transaction, 2 clients, 10 seconds.
sql "CREATE SEQUENCE IF NOT EXISTS bench_seq;
     CREATE TABLE IF NOT EXISTS bench_cases (LIKE cases INCLUDING DEFAULTS);
     CREATE TABLE IF NOT EXISTS bench_events (LIKE case_events INCLUDING DEFAULTS)"
cat >"$OUT/pgbench.sql" <<'SQL'
WITH c AS (
  INSERT INTO bench_cases (id, source, source_ref, root, grid, description, address, phone, received_at)
  SELECT nextval('cases_id_seq'), 'hotline', 'PB-' || nextval('cases_id_seq'), 'QNL', 'QNL',
         '小区路灯不亮已经三天了，晚上出行很不方便，请尽快派人维修。', '西街村3组12号', '13912345678', now()
    FROM generate_series(1, 500)
  RETURNING id, root)
INSERT INTO bench_events (id, seq, type, topic, case_id, grid, at, payload)
SELECT nextval('case_events_id_seq'), nextval('bench_seq'), 'case.received', 'case.received/' || root, id, root, now(),
       '{"source":"hotline","description":"小区路灯不亮已经三天了"}'::jsonb FROM c;
SQL
"$PGBENCH" -n -h "$(deploy/pg.sh sockdir)" -p "${GF_PGPORT:-55432}" -U gridflow -c 2 -j 2 -T 10 \
  -f "$OUT/pgbench.sql" "$DB" >"$OUT/pgbench.out" 2>&1
tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$OUT/pgbench.out" | head -1)

# The like-for-like ceiling: the same two rows into copies of cases and
# case_events with the same indexes and constraints (INCLUDING ALL: the
# unique keys, the seq index, the checks); still only two of the rows a
# complaint writes, numbered by a sequence, and no trigger.  Same clients,
# batches and time.
sql "CREATE TABLE IF NOT EXISTS bench_ll_cases (LIKE cases INCLUDING ALL);
     CREATE TABLE IF NOT EXISTS bench_ll_events (LIKE case_events INCLUDING ALL)"
sed -e 's/bench_cases/bench_ll_cases/; s/bench_events/bench_ll_events/' "$OUT/pgbench.sql" >"$OUT/pgbench_ll.sql"
"$PGBENCH" -n -h "$(deploy/pg.sh sockdir)" -p "${GF_PGPORT:-55432}" -U gridflow -c 2 -j 2 -T 10 \
  -f "$OUT/pgbench_ll.sql" "$DB" >"$OUT/pgbench_ll.out" 2>&1
tps_ll=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$OUT/pgbench_ll.out" | head -1)

# The floor of an acknowledgement after commit: one fdatasync of the WAL's
# disk (pg_test_fsync on a file beside the cluster's data), in microseconds.
"${PGBENCH%/*}/pg_test_fsync" -s 2 -f "$ROOT/var/bench_fsync.tmp" >"$OUT/pg_test_fsync.out" 2>&1 || true
rm -f "$ROOT/var/bench_fsync.tmp"
fsync_us=$(awk '/fdatasync/ && /usecs\/op/ {print $(NF - 1); exit}' "$OUT/pg_test_fsync.out")

load_pgb=$(load)
python3 - "$tps" "$load_sat" "$load_ol1" "$load_olh" "$load_pgb" "$OUT" "${tps_ll:-0}" "${fsync_us:-0}" \
  "$load_mix" "$sinks_cpu" <<'PY'
import json, sys
tps, l_sat, l_ol1, l_olh, l_pgb, out, tps_ll, fsync_us, l_mix, sinks_cpu = sys.argv[1:]
runs = ("saturation", "open_1000", "open_half", "open_mix")
def drained(run):
    s, left = open(out + "/" + run + ".drain").read().split()
    return {"seconds": float(s), "left": int(left)}
r = {"saturation": json.load(open(out + "/saturation.json")),
     "open_1000": json.load(open(out + "/open_1000.json")),
     "open_half": json.load(open(out + "/open_half.json")),
     "open_mix": json.load(open(out + "/open_mix.json")),
     "drain": {k: drained(k) for k in runs},
     "sinks": json.load(open(out + "/sinks.json")),
     "sinks_cpu_s": float(sinks_cpu),
     "deliveries": json.load(open(out + "/deliveries.json")),
     "pgbench_batched_rows_per_s": round(float(tps) * 500, 1),
     "pgbench_like_for_like_rows_per_s": round(float(tps_ll) * 500, 1),
     "fsync_floor_us": float(fsync_us),
     "generator_cpu_s": {k: float(open(out + "/" + k + ".cpu").read() or 0)
                         for k in runs},
     "rss_kib": {l.split()[0]: int(l.split()[1]) for l in open(out + "/rss_throughput.txt")},
     "load": {"saturation": float(l_sat), "open_1000": float(l_ol1),
              "open_half": float(l_olh), "open_mix": float(l_mix), "pgbench": float(l_pgb)}}
json.dump(r, open(out + "/throughput.json", "w"), indent=2)
PY
