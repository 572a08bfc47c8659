#!/usr/bin/env bash
# make bench, part 3: the people side of grid work over a year of a
# sub-district (issue 15): the sample's 111 L3 grids with the article's
# figures x10, loaded in bulk (SQL, as escalation_bench.sh loads its cases:
# what is measured is the reading, not the intake), then the monthly report
# (gridctl report monthly, JSON and table) and the dashboard's programme
# figures (the gateway's /api/programmes.json, as gridflow_gateway) timed.
#   The year: 2025-12-01 .. 2026-11-30, the simulated clock at
#   2026-11-30 18:00 (+08:00); reports for 2026-11 (the current month:
#   overdue as of now) and 2026-10 (a closed month: as of its end).
#   The data (BENCH_PROG_SCALE, default 10: the article's figures x10):
#     cadres 709 x S (each keeping 10 households: 1+10+N), households and
#     links 7,090 x S, special households 709 x S (a tenth, the six groups
#     in turn, some memberships ended), visits 12,000 x S (two thirds to the
#     special households, about monthly; some stop visiting one in 23 from
#     August: overdue), things done 7,920 x S, help pairs 83 x S (half
#     closed), relief 21 x S (12 aided, 9 sent home), "111在行动" with a
#     target per L3 grid and 111 x S items; patrols: S a day for every L3
#     grid on every working day of the calendar, less one grid-day in 50
#     (missed).
#   Each timing: the first run and the best of BENCH_PROG_RUNS (default 5).
#   BENCH_PORT_BASE (default 16570): the gateway listens on BASE+8.
# Prints the figures with the 1-minute load average; writes
# bench/out/programmes.json (bench/report.py adds it to the table).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
S=${BENCH_PROG_SCALE:-10}
RUNS=${BENCH_PROG_RUNS:-5}
BIN=$ROOT/bin
OUT=$ROOT/bench/out
mkdir -p "$OUT"
PSQL=/usr/lib/postgresql/15/bin/psql
export GF_SIM_CLOCK=on GF_CLOCK_MAX_JUMP=8784 PGOPTIONS="${PGOPTIONS:-} -c gridflow.sim_clock=on"

deploy/pg.sh start >/dev/null
deploy/pg.sh users >/dev/null
DB=gf_bench_prog
PGOPTIONS="-c client_min_messages=warning" deploy/pg.sh psql -X -q -d postgres \
  -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
export GF_DB="$(deploy/pg.sh conninfo $DB)"
sql() { "$PSQL" -X -q -t -A -v ON_ERROR_STOP=1 -d "$GF_DB" -c "$1"; }
"$BIN/gridctl" db migrate >/dev/null 2>&1
"$BIN/gridctl" grids import deploy/sample/qingnianlu.json >/dev/null 2>&1
"$BIN/gridctl" calendar import >/dev/null 2>&1
"$BIN/gridctl" clock set 2026-11-30T18:00:00+08:00 >/dev/null

load_load=$(cut -d' ' -f1 /proc/loadavg)
t0=$(date +%s.%N)
sql "CREATE TEMP TABLE l3 AS SELECT row_number () OVER (ORDER BY code) - 1 AS i, code FROM grids WHERE level = 3;
     CREATE TEMP TABLE n AS SELECT count (*) AS n FROM l3;
     -- cadres, households (one per link), links
     INSERT INTO people (id, grid, role, name)
     SELECT 'B-C' || c, l3.code, 'member', '干部' || c FROM generate_series (0, 709 * $S - 1) c CROSS JOIN n
       JOIN l3 ON l3.i = c % n.n;
     INSERT INTO households (id, grid, address, head_name, created_at, updated_at)
     SELECT 'B-H' || h, p.grid, 'b', 'b', gf_now (), gf_now ()
       FROM generate_series (0, 7090 * $S - 1) h JOIN people p ON p.id = 'B-C' || h / 10;
     INSERT INTO care_links (cadre, household, grid, valid_from, opened_by)
     SELECT 'B-C' || h / 10, 'B-H' || h, h0.grid, '2025-12-01', 'bench'
       FROM generate_series (0, 7090 * $S - 1) h JOIN households h0 ON h0.id = 'B-H' || h;
     -- special households: every tenth, the six groups in turn; one in 13 left its group in July
     INSERT INTO household_groups (household, grp, valid_from, valid_to, source)
     SELECT 'B-H' || h, (ARRAY['hardship','petitioner','bereaved','left_behind','dibao','disabled'])[1 + h / 10 % 6],
            '2025-12-01', CASE WHEN h / 10 % 13 = 0 THEN date '2026-07-01' END, 'bench'
       FROM generate_series (0, 7090 * $S - 1, 10) h;
     -- visits by the linked cadre: two thirds to the special households,
     -- month by month; one special household in 23 is not visited from August
     INSERT INTO visits (request_id, actor, household, grid, done_at, body, logged_at)
     SELECT 'BV' || v, 'B-C' || hh / 10, 'B-H' || hh, h0.grid,
            (date '2025-12-01' + make_interval (months => x.mo, days => (v * 13 % 28)::int) + time '10:00') AT TIME ZONE 'Asia/Shanghai',
            '{}', gf_now ()
       FROM generate_series (0, 12000 * $S - 1) v
      CROSS JOIN LATERAL (SELECT CASE WHEN v < 8000 * $S THEN v / 12 % (709 * $S) * 10 ELSE v * 7 % (7090 * $S) END AS sp,
                                 v % 12 AS mo) x
      CROSS JOIN LATERAL (SELECT CASE WHEN x.sp % 10 = 0 AND x.sp / 10 % 23 = 0 AND x.mo >= 8
                                      THEN x.sp + 1 ELSE x.sp END AS hh) y
       JOIN households h0 ON h0.id = 'B-H' || y.hh;
     -- patrols: S a day for every L3 grid on every working day, less one grid-day in 50
     INSERT INTO patrols (request_id, actor, grid, done_at, body, logged_at)
     SELECT 'BP' || l3.i || '-' || d::date || '-' || k, 'B-C' || l3.i, l3.code,
            (d + make_interval (hours => 8 + k)) AT TIME ZONE 'Asia/Shanghai', '{}', gf_now ()
       FROM generate_series (timestamp '2025-12-01', timestamp '2026-11-30', interval '1 day') d
      CROSS JOIN l3 CROSS JOIN generate_series (0, $S - 1) k
      WHERE gf_is_workday (d::date) AND (l3.i * 7 + extract (doy FROM d)::int) % 50 <> 0;
     -- things done on the links, help pairs, relief, the campaign
     INSERT INTO things_done (kind, note, day, actor, household, link_id, grid, at)
     SELECT 'repair', 'b', date '2025-12-01' + t % 365, l.cadre, l.household, l.id, l.grid, gf_now ()
       FROM generate_series (0, 7920 * $S - 1) t JOIN care_links l ON l.id = 1 + t * 7 % (7090 * $S);
     INSERT INTO help_pairs (helper, household, grid, goal, started, state, outcome, closed_on, opened_by)
     SELECT l.cadre, l.household, l.grid, 'b', date '2025-12-01' + (l.id % 300)::int,
            CASE WHEN l.id % 2 = 0 THEN 'closed' ELSE 'active' END, CASE WHEN l.id % 2 = 0 THEN 'achieved' END,
            CASE WHEN l.id % 2 = 0 THEN date '2025-12-01' + (l.id % 300)::int + 60 END, 'bench'
       FROM care_links l WHERE l.id % 85 = 0 ORDER BY l.id LIMIT 83 * $S;
     INSERT INTO relief_cases (kind, grid, people, day, note, actor, at)
     SELECT CASE WHEN r % 21 < 12 THEN 'homeless_aided' ELSE 'sent_home' END, l3.code, 1,
            date '2025-12-01' + r * 17 % 365, 'b', 'bench', gf_now ()
       FROM generate_series (0, 21 * $S - 1) r CROSS JOIN n JOIN l3 ON l3.i = r % n.n;
     INSERT INTO campaigns (code, name, grid, opened_by, opened_at) VALUES ('C111', '111在行动', 'QNL', 'bench', gf_now ());
     INSERT INTO campaign_targets (campaign, grid, target) SELECT 'C111', code, 10 * $S FROM l3;
     INSERT INTO campaign_items (campaign, grid, qty, day, note, actor, at)
     SELECT 'C111', l3.code, 1, date '2025-12-01' + c % 365, 'b', 'bench', gf_now ()
       FROM generate_series (0, 111 * $S - 1) c CROSS JOIN n JOIN l3 ON l3.i = c % n.n;
     ANALYZE"
t_load=$(date +%s.%N)
counts=$(sql "SELECT json_build_object ('l3_grids', (SELECT count (*) FROM grids WHERE level = 3),
  'cadres', (SELECT count (*) FROM people WHERE id LIKE 'B-C%'), 'households', (SELECT count (*) FROM households),
  'special_households', (SELECT count (DISTINCT household) FROM household_groups), 'links', (SELECT count (*) FROM care_links),
  'visits', (SELECT count (*) FROM visits), 'patrols', (SELECT count (*) FROM patrols),
  'things_done', (SELECT count (*) FROM things_done), 'help_pairs', (SELECT count (*) FROM help_pairs),
  'relief_cases', (SELECT count (*) FROM relief_cases), 'campaign_items', (SELECT count (*) FROM campaign_items))")
echo "loaded in $(python3 -c "print(round($t_load - $t0, 1))") s: $counts"

# ms COMMAND...: wall milliseconds of one run (output to $OUT/last.out)
ms() {
  local a b
  a=$(date +%s%N)
  "$@" >"$OUT/last.out" 2>>"$OUT/programmes_bench.err"
  b=$(date +%s%N)
  echo $(((b - a) / 1000000))
}
# timing NAME COMMAND...: "NAME first best load" (first run, best of RUNS)
timing() {
  local name=$1 la first best t i
  shift
  la=$(cut -d' ' -f1 /proc/loadavg)
  first=$(ms "$@")
  best=$first
  for ((i = 1; i < RUNS; i++)); do
    t=$(ms "$@")
    [ "$t" -lt "$best" ] && best=$t
  done
  printf '%s %s %s %s\n' "$name" "$first" "$best" "$la" | tee -a "$OUT/programmes_times.txt"
}
: >"$OUT/programmes_times.txt"
: >"$OUT/programmes_bench.err"
timing report_json_current "$BIN/gridctl" report monthly --grid QNL --month 2026-11 --format json
cp "$OUT/last.out" "$OUT/programmes_report.json"
timing report_table_current "$BIN/gridctl" report monthly --grid QNL --month 2026-11
timing report_json_closed "$BIN/gridctl" report monthly --grid QNL --month 2026-10 --format json

# The dashboard's figures through the gateway, as its own LOGIN role.
PB=${BENCH_PORT_BASE:-16570}
GW_DB=$(deploy/pg.sh conninfo $DB | sed 's/user=gridflow /user=gridflow_gateway /')
env GF_DB="$GW_DB" GF_HTTP=127.0.0.1:$((PB + 8)) GF_PUB=tcp://127.0.0.1:$((PB + 9)) GF_CURVE=off \
  "$BIN/gf-gateway" 2>"$OUT/gateway-prog.log" &
GW=$!
trap 'kill -TERM $GW 2>/dev/null || true; wait $GW 2>/dev/null || true' EXIT
URL=http://127.0.0.1:$((PB + 8))
for _ in $(seq 100); do curl -sf "$URL/healthz" >/dev/null && break; sleep 0.1; done
# The staff reads need a session or a kiosk token (issue 16): the root's.
KIOSK=$("$BIN/gridctl" kiosk add --grid QNL --label bench | sed -n 's/^token: //p')
timing dashboard_programmes curl -sf -H "Authorization: Bearer $KIOSK" "$URL/api/programmes.json"
cp "$OUT/last.out" "$OUT/programmes_dash.json"

python3 - "$S" "$t0" "$t_load" "$load_load" "$counts" <<'PY'
import json, sys
s, t0, tl, la, counts = sys.argv[1:]
out = "bench/out"
times = {}
for line in open(out + "/programmes_times.txt"):
    name, first, best, load = line.split()
    times[name] = {"first_ms": int(first), "best_ms": int(best), "load": float(load)}
rep = json.load(open(out + "/programmes_report.json"))["programmes"]
dash = json.load(open(out + "/programmes_dash.json"))
keys = ["patrols_done", "patrols_missed", "visits", "visits_special", "visits_overdue", "things_done"]
r = {"scale": int(s), "load_seconds": round(float(tl) - float(t0), 1), "load_load": float(la),
     "data": json.loads(counts), "times": times,
     "report_2026_11": {k: rep.get(k) for k in keys}, "dashboard": {k: dash.get(k) for k in keys}}
json.dump(r, open(out + "/programmes.json", "w"), indent=2, ensure_ascii=False)
print("figures of November: %s" % json.dumps(r["report_2026_11"]))
for k, v in times.items():
    print("%-22s first %5d ms, best of runs %5d ms, load %.2f" % (k, v["first_ms"], v["best_ms"], v["load"]))
PY
