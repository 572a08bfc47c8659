#!/usr/bin/env bash
# Ledgers and the monthly report: cases created through the real intake and
# staff actions on the simulated clock (November 2026, no public holiday in
# it), meetings opened with gf_open_meeting and, nobody closing them, lapsed
# by the safety net at once (gf_lapse_meeting: its escalations at the slot's
# time, automatic), then `gridctl ledger show` (table, CSV, JSON),
# `gridctl meeting list` and `gridctl report monthly` checked
# against expectations the test computes itself from the cases it created.
source "$(dirname "$0")/lib.sh"
new_db
start_stack

G="$BIN/gridctl"

# clock LOCAL_TIME: set the simulated clock (+08:00), once the services have
# caught up with everything done at the previous time.
clock() {
  wait_for "router and notifier to catch up" 20 quiescent
  sql "INSERT INTO sim_clock VALUES (true, '$1+08') ON CONFLICT (id) DO UPDATE SET at = excluded.at"
}
submit_routed() { # submit_routed VAR ARGS...: a complaint through the intake; VAR gets its id
  local id
  id=$(submit "${@:2}" 2>>"$ART/gridctl.log")
  [ -n "$id" ] || not_ok "submit ${*:2}"
  wait_for "case $id to be routed" 10 sql_eq "SELECT state FROM cases WHERE id = ${id:-0}" routed
  printf -v "$1" %s "${id:-0}"
}
meeting() { # meeting GRID KIND SLOT: opens it and lapses it; prints its id
  local id
  id=$(sql "SELECT gf_open_meeting('$1', '$2', '$3+08')")
  sql "SELECT gf_lapse_meeting(${id:-0})" >/dev/null
  echo "$id"
}

# --- the cases (see CASES below for what each one is) ------------------------
clock "2026-10-30 10:00"
submit_routed J --source hotline --ref LG-J --text "十月底反映的路边杂物" --grid QNL.07.063 --category other
clock "2026-10-30 11:00"
act "$J" sign --actor $L3
clock "2026-11-02 10:00"
submit_routed A --source hotline --ref LG-A --text "垃圾清运不及时" --grid QNL.07.063 --category sanitation
submit_routed B --source hotline --ref LG-B --text "整栋楼停水" --grid QNL.07.063 --category water --urgent
submit_routed C --source visit --reporter $L3B --ref LG-C --text "低保户家中冬季供暖不热" --grid QNL.07.064 --category power --groups dibao
submit_routed I --source hotline --ref LG-I --text "垃圾桶满了没人清" --grid QNL.07.063 --category sanitation
clock "2026-11-02 11:00"
act "$A" sign --actor $L3
act "$B" sign --actor $L3
act "$C" sign --actor $L3B
act "$I" merge --actor $L2 --into "$A" --note "同一问题"
clock "2026-11-03 16:00"
act "$A" resolve --actor $L3 --note "已清运"
act "$J" resolve --actor $L3 --note "已清理"
clock "2026-11-04 10:00"
act "$C" classify --actor $L3B --tier hard
clock "2026-11-05 10:00"
act "$A" callback --actor $L3 --satisfied yes
act "$A" close --actor $L3
act "$B" progress --actor $L3 --note "已联系自来水公司"
clock "2026-11-09 09:00"
M1=$(meeting QNL.07 weekly "2026-11-09 09:00")
clock "2026-11-09 14:00"
act "$B" resolve --actor $L3 --note "已恢复供水"
clock "2026-11-11 09:00"
submit_routed D --source patrol --ref LG-D --text "困难户门前道路塌陷" --grid QNL.07.063 --category road --groups hardship,petitioner --reporter $L3
submit_routed E --source hotline --ref LG-E --text "小区垃圾堆积" --grid QNL.08.067 --category sanitation
clock "2026-11-11 10:00"
act "$D" sign --actor $L3
act "$E" sign --actor $L3C
clock "2026-11-11 15:00"
act "$E" resolve --actor $L3C --note "已清运"
clock "2026-11-12 21:00"
act "$D" resolve --actor $L3 --note "已修复"
clock "2026-11-16 09:00"
M2=$(meeting QNL.07 weekly "2026-11-16 09:00")
clock "2026-11-23 10:00"
submit_routed F --source hotline --ref LG-F --text "邻居装修噪音纠纷" --grid QNL.07.064 --category dispute
clock "2026-11-23 11:00"
act "$F" sign --actor $L3B
clock "2026-11-27 10:00"
submit_routed Gc --source hotline --ref LG-G --text "留守老人无人照看" --grid QNL.08.067 --category welfare --urgent
clock "2026-12-07 09:00"
M3=$(meeting QNL monthly "2026-12-07 09:00")
check "three meetings held" "3" "$(echo "$M1 $M2 $M3" | wc -w)"

# --- the outputs ---------------------------------------------------------------
out() { # out FILE ARGS...: gridctl ARGS > $ART/FILE, must exit 0
  "$G" "${@:2}" >"$ART/$1" 2>>"$ART/gridctl.log" || not_ok "gridctl ${*:2} exited with $?"
}
for m in 1 2 3; do
  id=$(eval echo "\$M$m")
  out "m$m.json" ledger show --meeting "$id" --format json
  out "m$m.csv" ledger show --meeting "$id" --format csv
  out "m$m.txt" ledger show --meeting "$id"
done
out meetings.json meeting list --grid QNL --format json
out meetings.txt meeting list
out meetings-weekly.json meeting list --kind weekly --format json
out meetings-qnl08.json meeting list --grid QNL.08 --format json
out meetings-limit.json meeting list --limit 1 --format json
out nov.json report monthly --grid QNL --month 2026-11 --format json
out nov.csv report monthly --grid QNL --month 2026-11 --format csv
out nov.txt report monthly --month 2026-11
out default.json report monthly --format json

"$G" ledger show --meeting 999999 >"$ART/unknown.out" 2>"$ART/unknown.err"
rc=$?
check "unknown meeting: exit 1 and its code" "1 error: unknown_meeting:" \
  "$rc $(cut -d' ' -f1-2 "$ART/unknown.err")"
"$G" report monthly --grid QNL.07 >/dev/null 2>"$ART/badgrid.err"
rc=$?
check "report for a grid that is not L1: exit 1 and its code" "1 error: unknown_grid:" \
  "$rc $(cut -d' ' -f1-2 "$ART/badgrid.err")"
"$G" report monthly --month 2026-13 >/dev/null 2>&1
check "report for month 2026-13: usage, exit 2" 2 $?
"$G" ledger show --meeting "$M1" --format xml >/dev/null 2>&1
check "ledger in an unknown format: usage, exit 2" 2 $?

# --- the checks: expectations computed here from the cases above --------------
export ART TEST_NAME J A B C I D E F Gc M1 M2 M3
python3 - >"$ART/checks.tap" <<'EOF'
import csv, datetime as dt, json, os
from decimal import Decimal, ROUND_HALF_UP

art, name = os.environ["ART"], os.environ["TEST_NAME"]
ids = {k: int(os.environ[v]) for k, v in
       dict(J="J", A="A", B="B", C="C", I="I", D="D", E="E", F="F", G="Gc").items()}
TZ = dt.timezone(dt.timedelta(hours=8))
def t(s): return dt.datetime.strptime(s, "%Y-%m-%d %H:%M").replace(tzinfo=TZ)
def iso(s): return t(s).isoformat()

def check(what, expected, actual):
    ok = expected == actual
    print(("ok - " if ok else "not ok - ") + f"{name}: {what}"
          + ("" if ok else f": expected {expected!r}, got {actual!r}"))

CAT = {"other": "其他", "sanitation": "环境卫生", "water": "供水排水", "power": "供电供暖",
       "road": "道路交通", "dispute": "邻里纠纷", "welfare": "社会保障"}
GROUP = {"hardship": "困难户", "petitioner": "上访户", "bereaved": "失独家庭",
         "left_behind": "留守儿童家庭", "dibao": "低保", "disabled": "重残"}
# Each case: grid, category, urgent, groups, received, resolved (last
# resolution, None if open), merged into another.
CASES = {
    "J": ("QNL.07.063", "other", False, [], "2026-10-30 10:00", "2026-11-03 16:00", False),
    "A": ("QNL.07.063", "sanitation", False, [], "2026-11-02 10:00", "2026-11-03 16:00", False),
    "B": ("QNL.07.063", "water", True, [], "2026-11-02 10:00", "2026-11-09 14:00", False),
    "C": ("QNL.07.064", "power", False, ["dibao"], "2026-11-02 10:00", None, False),
    "I": ("QNL.07.063", "sanitation", False, [], "2026-11-02 10:00", "2026-11-03 16:00", True),
    "D": ("QNL.07.063", "road", False, ["hardship", "petitioner"], "2026-11-11 09:00", "2026-11-12 21:00", False),
    "E": ("QNL.08.067", "sanitation", False, [], "2026-11-11 09:00", "2026-11-11 15:00", False),
    "F": ("QNL.07.064", "dispute", False, [], "2026-11-23 10:00", None, False),
    "G": ("QNL.08.067", "welfare", True, [], "2026-11-27 10:00", None, False),
}

# --- ledgers: who is on which tier, in which state and level, and what
# happened last, as worked out from the timeline above.
STATE = {"resolved": "已办结", "closed": "已归档", "signed": "已签收", "in_progress": "办理中",
         "routed": "已分派"}
ACTION = {"case.resolved": "办结", "case.closed": "归档", "case.progress": "办理进展",
          "case.classified": "分类", "case.escalated": "升级", "case.signed": "签收",
          "case.routed": "分派网格"}
# meeting: (grid, kind, slot, period_from, escalated, lines)
# line: case, tier, state, level, last action, its time, escalated here
MEETINGS = {
    "M1": ("QNL.07", "weekly", "2026-11-09 09:00", "2026-11-02 09:00", 2, [
        ("J", "resolved", "resolved", 3, "case.resolved", "2026-11-03 16:00", False),
        ("A", "resolved", "closed", 3, "case.closed", "2026-11-05 10:00", False),
        ("I", "resolved", "resolved", 3, "case.resolved", "2026-11-03 16:00", False),
        ("B", "pending", "in_progress", 3, "case.progress", "2026-11-05 10:00", True),
        ("C", "hard", "signed", 3, "case.classified", "2026-11-04 10:00", True)]),
    "M2": ("QNL.07", "weekly", "2026-11-16 09:00", "2026-11-09 09:00", 0, [
        ("B", "resolved", "resolved", 2, "case.resolved", "2026-11-09 14:00", False),
        ("D", "resolved", "resolved", 3, "case.resolved", "2026-11-12 21:00", False),
        ("C", "hard", "signed", 2, "case.escalated", "2026-11-09 09:00", False)]),
    # The first monthly meeting covers the period since the rule's previous
    # slot, the first working Monday of November.
    "M3": ("QNL", "monthly", "2026-12-07 09:00", "2026-11-02 09:00", 1, [
        ("J", "resolved", "resolved", 3, "case.resolved", "2026-11-03 16:00", False),
        ("A", "resolved", "closed", 3, "case.closed", "2026-11-05 10:00", False),
        ("I", "resolved", "resolved", 3, "case.resolved", "2026-11-03 16:00", False),
        ("B", "resolved", "resolved", 2, "case.resolved", "2026-11-09 14:00", False),
        ("D", "resolved", "resolved", 3, "case.resolved", "2026-11-12 21:00", False),
        ("E", "resolved", "resolved", 3, "case.resolved", "2026-11-11 15:00", False),
        ("F", "pending", "signed", 3, "case.signed", "2026-11-23 11:00", False),
        ("G", "pending", "routed", 3, "case.routed", "2026-11-27 10:00", False),
        ("C", "hard", "signed", 2, "case.escalated", "2026-11-09 09:00", True)]),
}
TIERS = ["resolved", "pending", "hard"]
TIER_NAME = {"resolved": "已解决", "pending": "待解决", "hard": "难解决"}

def expected_entries(m):
    grid, kind, slot, _, _, lines = MEETINGS[m]
    rows = []
    for case, tier, state, level, last, last_at, esc in lines:
        g, cat, urgent, groups, received, _, _ = CASES[case]
        prio = (["紧急"] if urgent else []) + [GROUP[x] for x in groups]
        rows.append({"tier": tier, "tier_name": TIER_NAME[tier], "case_id": ids[case],
                     "category": cat, "category_name": CAT[cat],
                     "priority": "、".join(prio) or "一般", "urgent": urgent, "groups": groups,
                     "age_days": (t(slot) - t(received)).days, "owner": g, "state": state,
                     "state_name": STATE[state], "level": level, "last_action": last,
                     "last_action_name": ACTION[last], "last_action_at": iso(last_at),
                     "escalated": esc})
    return sorted(rows, key=lambda r: (TIERS.index(r["tier"]), r["case_id"]))

for m in ("M1", "M2", "M3"):
    grid, kind, slot, period_from, n_esc, lines = MEETINGS[m]
    doc = json.load(open(f"{art}/{m.lower()}.json"))
    mt = doc["meeting"]
    exp = expected_entries(m)
    check(f"{m} header: grid, kind, slot, period, tier counts, escalations",
          [int(os.environ[m]), grid, kind, {"weekly": "周例会", "monthly": "月例会"}[kind],
           slot[:10], iso(slot), iso(slot), iso(period_from), iso(slot)]
          + [sum(1 for r in exp if r["tier"] == x) for x in TIERS] + [len(exp), n_esc],
          [mt["meeting_id"], mt["grid"], mt["kind"], mt["kind_name"], mt["day"], mt["slot_at"],
           mt["held_at"], mt["period_from"], mt["period_to"]]
          + [mt[x] for x in TIERS] + [mt["entries"], mt["escalated"]])
    got = [{k: r[k] for k in exp[0]} for r in doc["entries"]]
    check(f"{m} JSON ledger: lines in tier order with every field", exp, got)
    with open(f"{art}/{m.lower()}.csv", newline="", encoding="utf-8") as f:
        raw = f.read()
    rows = list(csv.DictReader(raw.splitlines(keepends=True)))
    check(f"{m} CSV: CRLF records, one per line of the ledger", [True, len(exp)],
          [raw.endswith("\r\n") and raw.count("\r\n") == len(exp) + 1, len(rows)])
    def csv_form(r):
        return {k: ("t" if v is True else "f" if v is False else ",".join(v) if isinstance(v, list)
                    else str(v)) for k, v in r.items()}
    check(f"{m} CSV: the same lines and fields as the JSON", [csv_form(r) for r in exp],
          [{k: r[k] for k in exp[0]} for r in rows])
    text = open(f"{art}/{m.lower()}.txt", encoding="utf-8").read().splitlines()
    heads = [i for i, l in enumerate(text) if l.split(" ")[0] in TIER_NAME.values()]
    check(f"{m} table: tiers 已解决 / 待解决 / 难解决 in order, with their counts",
          [f"{TIER_NAME[x]} {x}（{sum(1 for r in exp if r['tier'] == x)} 件）" for x in TIERS],
          [text[i] for i in heads])
    placed = []
    for r in exp:
        line = [l for l in text if l.split()[:1] == [str(r["case_id"])]]
        section = max((i for i in heads if line and i < text.index(line[0])), default=None)
        placed.append((r["case_id"], text[section].split(" ")[0] if section is not None else None,
                       line[0].rstrip().endswith("升级") if line else None,
                       f"L{r['level']}" in line[0].split() if line else None))
    check(f"{m} table: each case under its tier, L-level shown, 升级 marked where escalated",
          [(r["case_id"], r["tier_name"], r["escalated"], True) for r in exp], placed)
    # The safety net's escalations say so (issue 14): in the JSON, and in the table.
    check(f"{m} JSON: the meeting's escalations, each automatic (自动升级)",
          sorted((r["case_id"], True, "自动升级") for r in exp if r["escalated"]),
          [(x["case_id"], x["automatic"], x["how"]) for x in doc["escalations"]])
    check(f"{m} table: the lapsed state, and one 自动升级 line per escalation",
          [True, sorted(r["case_id"] for r in exp if r["escalated"])],
          [any(l.startswith("会议状态 state: 逾期未结，自动关闭 lapsed") for l in text),
           sorted(int(l.split()[0]) for l in text if l.rstrip().endswith("自动升级 automatic"))])

# --- meeting list
ml = json.load(open(f"{art}/meetings.json"))["meetings"]
check("meeting list: newest first, per-tier counts and escalations",
      [(int(os.environ[m]), MEETINGS[m][0], MEETINGS[m][1], MEETINGS[m][2][:10],
        [sum(1 for l in MEETINGS[m][5] if l[1] == x) for x in TIERS], MEETINGS[m][4])
       for m in ("M3", "M2", "M1")],
      [(r["id"], r["grid"], r["kind"], r["day"], [r[x] for x in TIERS], r["escalated"]) for r in ml])
check("meeting list --kind weekly / --grid QNL.08 / --limit 1",
      [[int(os.environ["M2"]), int(os.environ["M1"])], [], [int(os.environ["M3"])]],
      [[r["id"] for r in json.load(open(f"{art}/{f}"))["meetings"]]
       for f in ("meetings-weekly.json", "meetings-qnl08.json", "meetings-limit.json")])
mt = open(f"{art}/meetings.txt", encoding="utf-8").read()
check("meeting list table: one line per meeting, Chinese kinds", [True, True, 3],
      ["周例会" in mt, "月例会" in mt, sum(1 for l in mt.splitlines() if "QNL" in l)])

# --- the monthly report, recomputed from CASES
def add_working_days(start, n):  # weekday rule: nothing official falls in Nov-Dec 2026
    d = start.date()
    while d.weekday() >= 5:
        d += dt.timedelta(days=1)
    for _ in range(n):
        d += dt.timedelta(days=1)
        while d.weekday() >= 5:
            d += dt.timedelta(days=1)
    return dt.datetime.combine(d, start.timetz())

def pct(a, b):
    return None if b == 0 else float(Decimal(100 * a / b).quantize(Decimal("0.1"), ROUND_HALF_UP))

def stats(cases, as_of):
    res = [c for c in cases if c[5] and t(c[5]) <= as_of]
    on_time = [c for c in res if t(c[5]) <= add_working_days(t(c[4]), 5)]
    late = [c for c in cases if c not in on_time and add_working_days(t(c[4]), 5) < as_of]
    hours = [(t(c[5]) - t(c[4])).total_seconds() / 3600 for c in res]
    return {"received": len(cases), "resolved": len(res), "open": len(cases) - len(res),
            "resolution_rate_pct": pct(len(res), len(cases)), "on_time": len(on_time),
            "late": len(late), "on_time_rate_pct": pct(len(on_time), len(on_time) + len(late)),
            "avg_hours_to_resolve": None if not hours else float(
                Decimal(sum(hours) / len(hours)).quantize(Decimal("0.1"), ROUND_HALF_UP))}

def month_expect(month, as_of):
    cohort = [c for c in CASES.values() if c[4].startswith(month) and not c[6]]
    prio = {"urgent": lambda c: c[2], "general": lambda c: not c[2] and not c[3]}
    return {
        "total": stats(cohort, as_of),
        "category": {k: stats([c for c in cohort if c[1] == k], as_of) for k in CAT},
        "priority": {**{k: stats([c for c in cohort if f(c)], as_of) for k, f in prio.items()},
                     **{g: stats([c for c in cohort if g in c[3]], as_of) for g in GROUP}},
        "l2": {k: stats([c for c in cohort if c[0].startswith(k + ".")], as_of)
               for k in ("QNL.07", "QNL.08", "QNL.01")},
    }

nov = json.load(open(f"{art}/nov.json"))
exp = month_expect("2026-11", t("2026-12-01 00:00"))
metrics = list(exp["total"])
def pick(r): return {k: r[k] for k in metrics}
check("November report: month, period, as of the month's end",
      ["QNL", "青年路街道", "2026-11", "given", iso("2026-11-01 00:00"), iso("2026-12-01 00:00"),
       iso("2026-12-01 00:00"), 5],
      [nov["grid"], nov["grid_name"], nov["month"], nov["month_source"], nov["period_from"],
       nov["period_to"], nov["as_of"], nov["deadline_working_days"]])
note = f"(total {exp['total']})"
check(f"November total: received, resolved, open, rates, average hours {note}", exp["total"],
      pick(nov["total"]))
by_cat = {r["key"]: pick(r) for r in nov["by_category"]}
check("November by category: every category, numbers per category",
      {**{k: v for k, v in exp["category"].items()},
       **{k: stats([], None) for k in ("greening", "property", "security")}}, by_cat)
check("November by priority: 紧急, each special group, 一般",
      exp["priority"], {r["key"]: pick(r) for r in nov["by_priority"]})
check("November by priority: names and order",
      ["紧急", "困难户", "上访户", "失独家庭", "留守儿童家庭", "低保", "重残", "一般"],
      [r["name"] for r in nov["by_priority"]])
by_l2 = {r["key"]: r for r in nov["by_l2"]}
check("November by L2 grid: QNL.07, QNL.08 and an empty one, with names",
      [exp["l2"][k] for k in ("QNL.07", "QNL.08", "QNL.01")]
      + ["QNL.07 南关村", "QNL.08 北关村", 12],
      [pick(by_l2[k]) for k in ("QNL.07", "QNL.08", "QNL.01")]
      + [by_l2["QNL.07"]["name"], by_l2["QNL.08"]["name"], len(nov["by_l2"])])
check("November escalations by rule",
      {"weekly_l2": 2, "monthly_l1": 0, "urgent_l2": 0, "urgent_l1": 0,
       "decision_l2": 0, "decision_l1": 0, "referral_l2": 0}, nov["escalations"])

with open(f"{art}/nov.csv", newline="", encoding="utf-8") as f:
    rows = list(csv.DictReader(f))
def num(v): return None if v == "" else float(v) if "." in v else int(v)
check("November CSV: the same numbers as the JSON",
      [("total", "", pick(nov["total"]))]
      + [(s, r["key"], pick(r)) for s, k in (("category", "by_category"), ("priority", "by_priority"),
                                             ("l2", "by_l2")) for r in nov[k]]
      + [("escalation", k, v) for k, v in nov["escalations"].items()],
      [(r["section"], r["key"], num(r["escalations"]) if r["section"] == "escalation"
        else {k: num(r[k]) for k in metrics}) for r in rows])
check("November CSV: grid and month on every row", {("QNL", "2026-11")},
      {(r["grid"], r["month"]) for r in rows})

txt = open(f"{art}/nov.txt", encoding="utf-8").read()
total_line = [l for l in txt.splitlines() if l.strip().startswith("合计")]
tot = exp["total"]
check("November table: 合计 lines carry the totals, footer states the definitions",
      [True, True, True],
      [len(total_line) == 2 and all(
          l.split()[1:] == [str(tot["received"]), str(tot["resolved"]), str(tot["open"]),
                            f"{tot['resolution_rate_pct']}%", str(tot["on_time"]), str(tot["late"]),
                            f"{tot['on_time_rate_pct']}%", str(tot["avg_hours_to_resolve"])]
          for l in total_line),
       "5 个工作日内办结" in txt and "已过期限仍未办结的案件计为逾期" in txt,
       txt.index("分类别") < txt.index("分重点") < txt.index("分网格") < txt.index("升级")])

dflt = json.load(open(f"{art}/default.json"))
check("default month: the month of the latest monthly meeting (2026-12), its escalation",
      ["2026-12", "latest_monthly_meeting", "2026-12-07", 0, None, 1],
      [dflt["month"], dflt["month_source"], dflt["latest_monthly_meeting"],
       dflt["total"]["received"], dflt["total"]["resolution_rate_pct"],
       dflt["escalations"]["monthly_l1"]])
EOF
cat "$ART/checks.tap"
FAILED=$((FAILED + $(grep -c '^not ok' "$ART/checks.tap")))
[ "$(grep -c '^ok' "$ART/checks.tap")" -gt 0 ] || not_ok "the python checks did not run"
finish
