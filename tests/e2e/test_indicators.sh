#!/usr/bin/env bash
# The indicators offices are judged by (issue 14, What to build 7): a month
# (October 2026, the real calendar: National Day 1-7 off, Saturday 10 a
# working day) of cases and staff actions driven through the real intake on
# the simulated clock by tests/tools/indicator_month.py (signs early and
# late, resolutions in time and late, callbacks satisfied or not, reopens,
# supervisions, five L3 grids under three L2 grids, one with too few cases to
# be ranked, a September case, a merged twin, actions after the month's end),
# plus an L1 'supervise' decision (meeting_decisions).  Then every indicator
# of every unit is recomputed by tests/tools/indicator_oracle.py from the raw
# records (cases, events, decisions, calendar, rules; never gridflow's SQL)
# and compared value by value with:
#   - `gridctl report indicators --format json` at 31 October 23:30 (as of
#     now) and on 5 November (as of the month's end), and the "indicators" of
#     `gridctl report monthly --format json`;
#   - the dashboard's /api/indicators.json and the gateway's /metrics gauges
#     (equal to the report at the same clock);
# the ranking respects the minimum sample (indicator_rules), the CSV and the
# table carry the same rows, the monthly report's on-time counts are the
# indicators' (one deadline: gf_resolution_due), and the oracle fails on a
# damaged record (it can tell).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/gateway_lib.sh"
G="$BIN/gridctl"
EXP=$ART/export
mkdir -p "$EXP"
new_db
"$G" calendar import >"$ART/calendar.out" 2>&1 || not_ok "calendar import: $(tail -1 "$ART/calendar.out")"
# Deadline rules by category and priority besides the '*' default of 5
# working days: water 3, urgent 2, QNL's urgent sanitation 1, dibao 4.
sql "INSERT INTO resolution_deadlines VALUES ('*', 'water', '*', 3), ('*', '*', 'urgent', 2),
       ('QNL', 'sanitation', 'urgent', 1), ('*', '*', 'dibao', 4)" >/dev/null
clock_set 2026-09-30T08:00:00+08:00
start_stack

drive() {
  python3 "$ROOT/tests/tools/indicator_month.py" --bin "$BIN" --psql "$PSQL_BIN" --db "$GF_DB" \
    --out "$ART" "$@" 2>>"$ART/drive.err"
}
t0=$SECONDS
drive --until 2026-10-31T23:00:00+08:00
check "October driven through the intake: every submit and staff action accepted" 0 $?
[ -s "$ART/drive.err" ] && sed 's/^/# /' "$ART/drive.err" | head -5
note "$(sql "SELECT count(*) || ' cases, ' || (SELECT count(*) FROM case_actions) || ' staff actions' FROM cases") in $((SECONDS - t0)) s"

# An L1 decision 'supervise' at the monthly meeting (the meeting records of
# 023) on a case that no supervise action touched: it counts too.
SUP=$(sql "SELECT min(c.id) FROM cases c WHERE c.grid = 'QNL.08.067' AND NOT c.supervised
             AND c.received_at >= '2026-10-01+08' AND c.merged_into IS NULL")
sql "WITH m AS (INSERT INTO meetings (grid, kind, day, slot_at, held_at, period_from)
                VALUES ('QNL', 'monthly', '2026-10-12', '2026-10-12 09:00+08', '2026-10-12 09:00+08',
                        '2026-09-07 09:00+08') RETURNING id)
     INSERT INTO meeting_decisions (meeting_id, case_id, kind, deadline, actor, request_id, at)
     SELECT m.id, $SUP, 'supervise', '2026-10-20 09:00+08', '$L1', 'ind-sup-1', '2026-10-12 10:00+08'
       FROM m" >/dev/null

# export: the raw records the oracle reads.
export_all() {
  local ep='extract(epoch FROM %s)::numeric'
  x() { sql "COPY ($2) TO STDOUT WITH (FORMAT csv, HEADER)" >"$EXP/$1.csv" || not_ok "export $1"; }
  x cases "SELECT id, root, grid, category, urgent, array_to_string(groups, ',') AS groups,
             $(printf "$ep" received_at) AS received_at, merged_into FROM cases ORDER BY id"
  x events "SELECT id, case_id, type, $(printf "$ep" at) AS at, payload::text AS payload
              FROM case_events WHERE case_id IS NOT NULL ORDER BY id"
  x decisions "SELECT case_id, kind, $(printf "$ep" at) AS at FROM meeting_decisions ORDER BY id"
  x grids "SELECT code, level, parent FROM grids ORDER BY code"
  x people "SELECT id, grid, role, name FROM people ORDER BY id"
  x calendar_days "SELECT day, workday FROM calendar_days ORDER BY day"
  x rules "SELECT root, rule, params::text AS params FROM escalation_rules WHERE enabled ORDER BY 1, 2"
  x deadlines "SELECT root, category, priority, working_days FROM resolution_deadlines ORDER BY 1, 2, 3"
  x assess "SELECT root, min_sample, weights::text AS weights FROM indicator_rules ORDER BY 1"
}
oracle() { python3 "$ROOT/tests/tools/indicator_oracle.py" --dir "$EXP" --month 2026-10 "$@"; }

# --- 31 October 23:30: the report, the dashboard and /metrics, as of now ------------
clock_set 2026-10-31T23:30:00+08:00
export_all
"$G" report indicators --month 2026-10 --format json >"$ART/mid.json" 2>>"$ART/gridctl.err" ||
  not_ok "gridctl report indicators (31 Oct) exited with $?"
oracle --now 2026-10-31T23:30:00+08:00 --json "$ART/mid.json" --name "$TEST_NAME: 31 Oct 23:30, as of now" ||
  not_ok "the indicators as of 31 October 23:30 differ from the oracle's"

start_gateway
gw_kiosk # the staff reads need a session or a kiosk token (issue 16): the root's, all of it
curl -sf -H "$AUTH" "$URL/api/indicators.json" >"$ART/dash.json" || not_ok "GET /api/indicators.json"
curl -sf "$URL/metrics" >"$ART/metrics.txt" || not_ok "GET /metrics"
python3 - "$ART/mid.json" "$ART/dash.json" "$ART/metrics.txt" <<'EOF'
import json, sys
from decimal import Decimal
name = "test_indicators"
rep = json.load(open(sys.argv[1]), parse_float=Decimal)
dash = json.load(open(sys.argv[2]), parse_float=Decimal)
ok = dash["roots"] == [rep]
print(("ok" if ok else "not ok") + " - %s: /api/indicators.json is the report's JSON (%d L2 grids)"
      % (name, len(rep["by_l2"])))
gauges = {}
for line in open(sys.argv[3]):
    if line.startswith("gf_indicator_"):
        m, v = line.split()
        gauges[m] = Decimal(v)
want = {}
for u in [dict(rep["total"], key=rep["grid"])] + rep["by_l2"]:
    for f in ("received", "supervised"):
        want['gf_indicator_%s{grid="%s"}' % (f, u["key"])] = Decimal(u[f])
    for f in ("response", "resolution", "on_time", "satisfaction", "reopen"):
        if u[f + "_rate_pct"] is not None:
            want['gf_indicator_%s_rate{grid="%s"}' % (f, u["key"])] = Decimal(u[f + "_rate_pct"]) / 100
bad = [k for k in set(want) | set(gauges) if want.get(k) != gauges.get(k)]
print(("ok" if not bad and want else "not ok") + " - %s: /metrics: %d indicator gauges equal the report%s"
      % (name, len(want), "" if not bad else ": " + ", ".join(sorted(bad)[:5])))
EOF

# --- November: late resolutions, callbacks; the month as of its end ---------------
drive --from 2026-10-31T23:00:00+08:00
check "November's actions accepted" 0 $?
clock_set 2026-11-05T12:00:00+08:00
export_all
out() { "$G" "${@:2}" >"$ART/$1" 2>>"$ART/gridctl.err" || not_ok "gridctl ${*:2} exited with $?"; }
out oct.json report indicators --month 2026-10 --format json
out oct.csv report indicators --month 2026-10 --format csv
out oct.txt report indicators --month 2026-10
out monthly.json report monthly --month 2026-10 --format json
out monthly.txt report monthly --month 2026-10
oracle --now 2026-11-05T12:00:00+08:00 --json "$ART/oct.json" --name "$TEST_NAME: October as of its end" ||
  not_ok "the October indicators differ from the oracle's"
oracle --now 2026-11-05T12:00:00+08:00 --json "$ART/monthly.json" --path indicators \
  --name "$TEST_NAME: the monthly report's indicators" ||
  not_ok "the monthly report's indicators differ from the oracle's"
oracle --now 2026-11-05T12:00:00+08:00 --json "$ART/oct.json" --damage --name damaged >"$ART/damaged.out"
check "the oracle notices one callback recorded the other way (exit 1)" 1 $?
# The deadline rules by category and priority matter in this month: with
# the '*' default alone the oracle disagrees.
cp -r "$EXP" "$ART/export-default"
head -1 "$EXP/deadlines.csv" >"$ART/export-default/deadlines.csv"
grep '^\*,\*,\*,' "$EXP/deadlines.csv" >>"$ART/export-default/deadlines.csv"
python3 "$ROOT/tests/tools/indicator_oracle.py" --dir "$ART/export-default" --month 2026-10 \
  --now 2026-11-05T12:00:00+08:00 --json "$ART/oct.json" --name default-deadline >"$ART/default-deadline.out"
check "the rules by category and priority change the on-time counts (the oracle with the default alone: exit 1)" \
  1 $?
check "actions after the month's end were made (they must not count as of its end)" t \
  "$(sql "SELECT count(*) >= 5 FROM case_actions WHERE at >= '2026-11-01+08'")"

python3 - "$ART/oct.json" "$ART/monthly.json" "$ART/oct.csv" "$ART/oct.txt" "$ART/monthly.txt" <<'EOF'
import csv, json, sys
from decimal import Decimal
name = "test_indicators"
def check(what, exp, act):
    ok = exp == act
    print(("ok - " if ok else "not ok - ") + f"{name}: {what}" + ("" if ok else f": expected {exp!r}, got {act!r}"))
ind = json.load(open(sys.argv[1]), parse_float=Decimal)
mon = json.load(open(sys.argv[2]), parse_float=Decimal)
check("one deadline: the monthly report's on time / late are the indicators' (gf_resolution_due)",
      (ind["total"]["on_time"], ind["total"]["late"]), (mon["total"]["on_time"], mon["total"]["late"]))
units = [("l3", u) for u in ind["by_l3"]]
ranked = [u for _, u in units if u["ranked"]]
small = [u for _, u in units if u["received"] < ind["min_sample"]]
check("ranking: some L3 grids ranked, those under the minimum sample not (rank empty)",
      (True, True, [None] * len(small)),
      (len(ranked) >= 2, len(small) >= 1, [u["rank"] for u in small]))
check("ranking: rank 1 has the best score, ranks follow the scores",
      sorted(ranked, key=lambda u: -u["score"]) == ranked and ranked[0]["rank"] == 1, True)
rows = list(csv.DictReader(open(sys.argv[3], newline="")))
check("CSV: one row per unit, header with English keys",
      (1 + len(ind["by_l2"]) + len(ind["by_l3"]) + len(ind["by_leader"]), "response_rate_pct"),
      (len(rows), "response_rate_pct" if "response_rate_pct" in rows[0] else None))
l3 = {r["key"]: r for r in rows if r["section"] == "l3"}
check("CSV: the L3 rows' received, rates, score and rank are the JSON's",
      [(u["key"], str(u["received"]), *("" if u[f] is None else str(u[f])
                                         for f in ("resolution_rate_pct", "score", "rank")))
       for u in ind["by_l3"]],
      [(k, l3[k]["received"], l3[k]["resolution_rate_pct"], l3[k]["score"], l3[k]["rank"])
       for k in [u["key"] for u in ind["by_l3"]]])
txt = open(sys.argv[4]).read()
labels = ["考核指标", "响应率", "解决率", "按时办结率", "满意率", "重办率", "督办", "排名", "三级网格", "网格长"]
check("table: the Chinese labels for staff", [], [l for l in labels if l not in txt])
best = ranked[0]
check("table: the best L3 grid's line shows its score", True,
      any(best["key"] in line and str(best["score"]) in line for line in txt.splitlines()))
check("monthly report table: the indicators section", True, "考核指标" in open(sys.argv[5]).read())
EOF

"$G" report indicators --grid QNL.07 >/dev/null 2>"$ART/badgrid.err"
check "indicators of a grid that is not L1: exit 1 and its code" "1 error: unknown_grid:" \
  "$? $(cut -d' ' -f1-2 "$ART/badgrid.err")"
"$G" report indicators --month 2026-13 >/dev/null 2>&1
check "indicators for month 2026-13: usage, exit 2" 2 $?
finish
