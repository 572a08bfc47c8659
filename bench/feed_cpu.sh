#!/usr/bin/env bash
# What one complaint costs in CPU at a steady feed: relay, intake, router and
# notifier on database gf_bench_feed (the county directory of
# bench/escalation_bench.sh: 15 sub-districts, 1,665 L3 grids, 6,000 people;
# BENCH_RELOAD=0 keeps a loaded one; BENCH_FEED_DB names another database
# to use as it is, such as gf_bench_county after the county scenario, with
# its 1,000,000 closed and 30,000 open cases), BENCH_FEED_RATE complaints/s (default
# 200) for BENCH_FEED_SECONDS (default 10) from bench_load after a 2 s
# warm-up, and the CPU seconds of every PostgreSQL backend (by
# application_name) and of every service, from /proc before and after.
# Prints one line and writes bench/out/feed_cpu.json: milliseconds of CPU
# per acknowledged complaint, with the feed's ack and end-to-end p99 and the
# load average before.  A CPU figure, not a latency one: two builds compare
# within a few per cent (docs/performance.md, "eighth look"), where their
# latencies drift with the machine.
# Environment: BENCH_BIN (default bin/) runs another build's services;
# GF_PGPORT, BENCH_PORT_BASE (default 16570) as in make bench.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BIN=${BENCH_BIN:-$ROOT/bin}
TOOLS=${GF_TEST_TOOLS:-$ROOT/build/tools}
RATE=${BENCH_FEED_RATE:-200}
SECS=${BENCH_FEED_SECONDS:-10}
OUT=$ROOT/bench/out
PSQL=/usr/lib/postgresql/15/bin/psql
source "$ROOT/bench/lib.sh"
DB=${BENCH_FEED_DB:-gf_bench_feed}
mkdir -p "$OUT"
export GF_SIM_CLOCK=on GF_CLOCK_MAX_JUMP=8784 PGOPTIONS="${PGOPTIONS:-} -c gridflow.sim_clock=on"
PB=${BENCH_PORT_BASE:-16570}
export GF_CURVE=${GF_CURVE:-off} # loopback, plain TCP (docs/security.md)
export GF_INTAKE=tcp://127.0.0.1:$((PB + 3)) GF_PUB=tcp://127.0.0.1:$((PB + 4))
export GF_REPLAY=tcp://127.0.0.1:$((PB + 5)) GF_APP=tcp://127.0.0.1:$((PB + 7))
deploy/pg.sh start
export GF_DB="$(deploy/pg.sh conninfo $DB)"
sql() { "$PSQL" -X -q -t -A -v ON_ERROR_STOP=1 -d "$GF_DB" -c "$1"; }
if [ -z "${BENCH_FEED_DB:-}" ] && { [ "${BENCH_RELOAD:-1}" = 1 ] || ! sql "SELECT 1 FROM grids LIMIT 1" >/dev/null 2>&1; }; then
  PGOPTIONS="-c client_min_messages=warning" deploy/pg.sh psql -X -q -d postgres \
    -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
  python3 bench/county_directory.py deploy/sample/qingnianlu.json 15 >"$OUT/feed_county.json"
  "$BIN/gridctl" db migrate >/dev/null 2>&1
  "$BIN/gridctl" grids import "$OUT/feed_county.json" >/dev/null
  "$BIN/gridctl" calendar import >/dev/null 2>&1
  "$BIN/gridctl" clock set 2026-11-16T10:00:00+08:00 >/dev/null
fi
# Router and notifier start at the head: they hold this run's cases only.
HEAD=$(sql "SELECT coalesce (max (seq), 0) FROM case_events")
sql "INSERT INTO consumer_checkpoints (consumer, last_seq) VALUES ('router', $HEAD), ('notifier', $HEAD)
     ON CONFLICT (consumer) DO UPDATE SET last_seq = EXCLUDED.last_seq"
declare -A PID
stop_all() {
  for p in "${PID[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PID[@]}"; do wait "$p" 2>/dev/null || true; done
  PID=()
}
trap stop_all EXIT
for svc in relay intake router notifier; do
  "$BIN/gf-$svc" 2>"$OUT/feed-$svc.log" &
  PID[$svc]=$!
done
sleep 2
GRIDS=$(sql "SELECT string_agg (code, ',' ORDER BY code) FROM grids WHERE level = 3")
"$TOOLS/bench_load" "$GF_INTAKE" "$GF_PUB" "$GRIDS" "$RATE" 2 0 "fw$$" >/dev/null 2>&1
# (statistics of what the warm-up wrote: a new database's first plans
# would otherwise be made for empty tables)
sql "ANALYZE cases, case_events, notifications, deliveries" >/dev/null
feed_cpu() {
  local args=() svc
  for svc in "${!PID[@]}"; do args+=("gf-$svc" "${PID[$svc]}"); done
  cpu_snap "$1" "${args[@]}"
}
LOAD=$(cut -d' ' -f1 /proc/loadavg)
feed_cpu "$OUT/feed_cpu_0.txt"
"$TOOLS/bench_load" "$GF_INTAKE" "$GF_PUB" "$GRIDS" "$RATE" "$SECS" 0 "fc$$" >"$OUT/feed_load.json"
sleep 0.5 # the last notices' steps
feed_cpu "$OUT/feed_cpu_1.txt"
stop_all
python3 - "$LOAD" "$BIN" <<'PY'
import json, sys
load, build = float(sys.argv[1]), sys.argv[2]
out = "bench/out/"
feed = json.load(open(out + "feed_load.json"))
def snap(k):
    t = {}
    for line in open(out + "feed_cpu_%d.txt" % k):
        who, seconds = line.rsplit(" ", 1)
        t[who] = t.get(who, 0) + float(seconds)
    return t
a, b = snap(0), snap(1)
n = feed["acked"]
ms = {k: round((b[k] - a.get(k, 0)) * 1000.0 / n, 3) for k in sorted(b) if n}
res = {"build": build, "rate": feed["rate"], "acked": n, "failed": feed["failed"], "seen": feed["seen"],
       "ack_p99_ms": feed["ack_ms"]["p99"], "end_to_end_p99_ms": feed["end_to_end_ms"]["p99"],
       "load_average": load,
       "backends_ms_per_complaint": round(sum(v for k, v in ms.items() if k.startswith("backend")), 3),
       "services_ms_per_complaint": round(sum(v for k, v in ms.items() if k.startswith("process")), 3),
       "ms_per_complaint": {k: v for k, v in ms.items() if v > 0}}
json.dump(res, open(out + "feed_cpu.json", "w"), indent=1)
print("feed %s/s, %d acked (%d failed, %d seen), load %.2f: backends %.2f ms, services %.2f ms a complaint;"
      " ack p99 %.1f ms, end to end p99 %.1f ms" % (res["rate"], n, res["failed"], res["seen"], load,
      res["backends_ms_per_complaint"], res["services_ms_per_complaint"], res["ack_p99_ms"],
      res["end_to_end_p99_ms"]))
print("  " + ", ".join("%s %.2f" % (k, v) for k, v in res["ms_per_complaint"].items()))
PY
