#!/usr/bin/env python3
"""The indicators of a month recomputed from the raw records, never calling
gridflow's SQL: the cases, their events (case_events as stored), the L1
'supervise' decisions (meeting_decisions), the grids, the leaders, the
working calendar (calendar_days), the sign_reminder rule (escalation_rules),
the resolution deadline rules (resolution_deadlines) and the assessment rule
(indicator_rules), exported as CSV into DIR by tests/e2e/test_indicators.sh.
Then compares, value by value, with gridflow's JSON (`gridctl report
indicators --format json`, or the "indicators" of the monthly report, or one
root of the dashboard's /api/indicators.json).

Definitions (docs/indicators.md): the cases of the L1 grid received in the
month (local time), not merged, as of AS_OF = min(month end, now);
response: first signed within the sign-for hours of the first routing;
resolution: resolved, called back or closed as of AS_OF; on time: last
resolution by received + N working days (N: the most specific deadline row
per priority, the least over the case's priorities), late: after it, or
open past it; satisfaction: satisfied callbacks of all callbacks; reopen:
reopened of resolved at least once; supervised: a case.supervised event or a
'supervise' decision.  Rates in percent, rounded half up to one decimal;
score: the weighted mean of the rounded rates (those with cases), rounded;
ranked with received >= min_sample, rank 1 best, ties share.

Prints TAP lines "ok - NAME: ..." / "not ok - NAME: ..."; exit 1 on any
difference.
Usage: indicator_oracle.py --dir DIR --month YYYY-MM --now ISO --json FILE
       [--root-index N] [--name NAME] [--damage]
"""
import argparse
import csv
import datetime as dt
import json
import math
import sys
from decimal import Decimal, ROUND_HALF_UP
from fractions import Fraction

TZ = dt.timezone(dt.timedelta(hours=8))


def ts(text):
    return dt.datetime.fromtimestamp(float(text), TZ) if text else None


def rows(d, name):
    with open("%s/%s.csv" % (d, name), newline="") as f:
        return list(csv.DictReader(f))


def r1(frac):
    """A Fraction rounded half up to one decimal, as a Decimal."""
    return Decimal(math.floor(frac * 10 + Fraction(1, 2))) / 10


def pct(a, b):
    return None if b == 0 else r1(Fraction(100 * a, b))


class Month:
    def __init__(self, d, month, now):
        self.grids = {g["code"]: g for g in rows(d, "grids")}
        self.leaders = {p["grid"]: p["id"] for p in rows(d, "people") if p["role"] == "leader"}
        self.names = {p["id"]: p["name"] for p in rows(d, "people")}
        self.cal = {dt.date.fromisoformat(c["day"]): c["workday"] == "t" for c in rows(d, "calendar_days")}
        rules = {(r["root"], r["rule"]): json.loads(r["params"]) for r in rows(d, "rules")}
        self.rules = rules
        self.deadlines = [(r["root"], r["category"], r["priority"], int(r["working_days"]))
                          for r in rows(d, "deadlines")]
        self.assess = {r["root"]: (int(r["min_sample"]), json.loads(r["weights"], parse_float=Decimal))
                       for r in rows(d, "assess")}
        self.events = {}
        for e in rows(d, "events"):
            self.events.setdefault(int(e["case_id"]), []).append(
                (int(e["id"]), e["type"], ts(e["at"]), json.loads(e["payload"])))
        self.decisions = [(int(x["case_id"]), x["kind"], ts(x["at"])) for x in rows(d, "decisions")]
        y, m = map(int, month.split("-"))
        self.t0 = dt.datetime(y, m, 1, tzinfo=TZ)
        self.t1 = dt.datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=TZ)
        self.as_of = min(self.t1, dt.datetime.fromisoformat(now))
        self.cases = rows(d, "cases")

    def workday(self, day):
        return self.cal.get(day, day.weekday() < 5)

    def next_workday(self, day):
        day += dt.timedelta(days=1)
        while not self.workday(day):
            day += dt.timedelta(days=1)
        return day

    def add_working_days(self, t, n):
        local = t.astimezone(TZ)
        day = local.date()
        if n <= 0:
            return t
        if not self.workday(day):
            day = self.next_workday(day)
        for _ in range(n):
            day = self.next_workday(day)
        return dt.datetime.combine(day, local.timetz())

    def rule(self, root, name):
        return self.rules.get((root, name)) or self.rules.get(("*", name))

    def deadline_days(self, root, category, urgent, groups):
        prios = (["urgent"] if urgent else []) + groups + ([] if urgent or groups else ["general"])
        best = None
        for p in prios:
            cands = [r for r in self.deadlines if r[0] in (root, "*") and r[1] in (category, "*")
                     and r[2] in (p, "*")]
            if not cands:
                continue
            cands.sort(key=lambda r: (r[0] == "*", r[1] == "*", r[2] == "*"))
            best = cands[0][3] if best is None else min(best, cands[0][3])
        return best

    def case(self, c):
        cid = int(c["id"])
        ev = sorted((e for e in self.events.get(cid, []) if e[2] <= self.as_of), key=lambda e: e[0])
        first = lambda t: next((e[2] for e in ev if e[1] == t), None)
        routed, signed = first("case.routed"), first("case.signed")
        urgent = c["urgent"] == "t"
        hours = self.rule(c["root"], "sign_reminder").get("urgent_hours" if urgent else "hours", 24)
        sign_due = routed + dt.timedelta(hours=hours) if routed else None
        state = None
        for e in ev:
            if "to" in e[3]:
                state = e[3]["to"]
        resolved = state in ("resolved", "called_back", "closed")
        if state == "merged":  # neither open nor resolved: not counted
            return None
        res_at = max((e[2] for e in ev if e[1] == "case.resolved"), default=None)
        groups = [g for g in c["groups"].split(",") if g]
        received = ts(c["received_at"])
        due = self.add_working_days(received, self.deadline_days(c["root"], c["category"] or None,
                                                                 urgent, groups))
        callbacks = [e for e in ev if e[1] == "case.callback"]
        grid = self.grids[c["grid"]]
        level = int(grid["level"])
        l3 = c["grid"] if level == 3 else None
        return {
            "l3": l3, "l2": ".".join(c["grid"].split(".")[:2]) if level >= 2 else None,
            "leader": self.leaders.get(l3) if l3 else None,
            "response_due": routed is not None and (signed is not None or sign_due <= self.as_of),
            "responded": routed is not None and signed is not None and signed <= sign_due,
            "response_s": (signed - routed).total_seconds() if signed and routed else None,
            "resolved": resolved,
            "on_time": resolved and res_at <= due,
            "late": (resolved and res_at > due) or (not resolved and due < self.as_of),
            "callbacks": len(callbacks),
            "satisfied": sum(1 for e in callbacks if e[3].get("satisfied") is True),
            "resolved_ever": any(e[1] == "case.resolved" for e in ev),
            "reopened": any(e[1] == "case.reopened" for e in ev),
            "supervised": any(e[1] == "case.supervised" for e in ev)
            or any(d[0] == cid and d[1] == "supervise" and d[2] <= self.as_of for d in self.decisions),
        }

    def indicators(self, root):
        pop = [self.case(c) for c in self.cases
               if c["root"] == root and not c["merged_into"]
               and self.t0 <= ts(c["received_at"]) < self.t1 and ts(c["received_at"]) <= self.as_of]
        pop = [x for x in pop if x is not None]
        min_sample, weights = self.assess.get(root) or self.assess["*"]
        units = {}
        for x in pop:
            for section, key in (("total", ""), ("l2", x["l2"]), ("l3", x["l3"]), ("leader", x["leader"])):
                if key is not None:
                    units.setdefault((section, key), []).append(x)
        out = {}
        for (section, key), xs in units.items():
            n = lambda f: sum(1 for x in xs if x[f])
            secs = [x["response_s"] for x in xs if x["response_s"] is not None]
            u = {"key": key, "received": len(xs), "response_due": n("response_due"),
                 "responded": sum(1 for x in xs if x["response_due"] and x["responded"]),
                 "resolved": n("resolved"), "on_time": n("on_time"), "late": n("late"),
                 "callbacks": sum(x["callbacks"] for x in xs),
                 "satisfied": sum(x["satisfied"] for x in xs),
                 "resolved_ever": n("resolved_ever"),
                 "reopened": sum(1 for x in xs if x["resolved_ever"] and x["reopened"]),
                 "supervised": n("supervised"),
                 "avg_response_hours": r1(Fraction(Decimal(str(sum(secs)))) / len(secs) / 3600)
                 if secs else None}
            u["response_rate_pct"] = pct(u["responded"], u["response_due"])
            u["resolution_rate_pct"] = pct(u["resolved"], u["received"])
            u["on_time_rate_pct"] = pct(u["on_time"], u["on_time"] + u["late"])
            u["satisfaction_rate_pct"] = pct(u["satisfied"], u["callbacks"])
            u["reopen_rate_pct"] = pct(u["reopened"], u["resolved_ever"])
            rates = {"response": u["response_rate_pct"], "resolution": u["resolution_rate_pct"],
                     "on_time": u["on_time_rate_pct"], "satisfaction": u["satisfaction_rate_pct"]}
            num = den = Fraction(0)
            for k, w in weights.items():
                if rates.get(k) is not None:
                    num += Fraction(w) * Fraction(rates[k])
                    den += Fraction(w)
            u["score"] = r1(num / den) if den else None
            u["ranked"] = section != "total" and len(xs) >= min_sample
            u["section"] = section
            out[(section, key)] = u
        for section in ("l2", "l3", "leader"):
            ranked = [u for u in out.values() if u["section"] == section and u["ranked"]]
            for u in ranked:
                u["rank"] = 1 + sum(1 for v in ranked if v["score"] is not None
                                    and (u["score"] is None or v["score"] > u["score"]))
        for u in out.values():
            u.setdefault("rank", None)
        return out, min_sample, len(pop)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--month", required=True)
    p.add_argument("--now", required=True)
    p.add_argument("--json", required=True)
    p.add_argument("--path", default="", help="dotted key of the indicators in the JSON")
    p.add_argument("--name", default="indicators")
    p.add_argument("--damage", action="store_true", help="flip one satisfied callback first")
    a = p.parse_args()
    m = Month(a.dir, a.month, a.now)
    if a.damage:  # the oracle must notice one wrong raw fact
        for evs in m.events.values():
            hit = [e for e in evs if e[1] == "case.callback" and e[3].get("satisfied") is True]
            if hit:
                hit[0][3]["satisfied"] = False
                break
    got = json.load(open(a.json), parse_float=Decimal)
    for k in filter(None, a.path.split(".")):
        got = got[int(k)] if k.isdigit() else got[k]
    want, min_sample, n = m.indicators(got["grid"])
    failed = 0

    def check(what, exp, act):
        nonlocal failed
        if exp == act:
            return
        failed += 1
        print("not ok - %s: %s: expected %r, got %r" % (a.name, what, exp, act))

    check("month", a.month, got["month"])
    check("min_sample", min_sample, got["min_sample"])
    have = {("total", ""): got["total"]}
    order_ok = True
    for section in ("l2", "l3", "leader"):
        lst = got["by_" + section]
        for u in lst:
            have[(section, u["key"])] = u
        keys = [u["key"] for u in lst]
        exp_order = [u["key"] for u in sorted((u for u in want.values() if u["section"] == section),
                                              key=lambda u: (not u["ranked"], -(u["score"] or 0), u["key"]))]
        if keys != exp_order:
            order_ok = False
            check("order of by_" + section, exp_order, keys)
    check("units", sorted(want), sorted(have))
    fields = ["received", "response_due", "responded", "response_rate_pct", "avg_response_hours",
              "resolved", "resolution_rate_pct", "on_time", "late", "on_time_rate_pct", "callbacks",
              "satisfied", "satisfaction_rate_pct", "resolved_ever", "reopened", "reopen_rate_pct",
              "supervised", "score", "ranked", "rank"]
    compared = 0
    for key in sorted(set(want) & set(have)):
        for f in fields:
            e, g = want[key][f], have[key].get(f)
            if isinstance(e, Decimal) and g is not None:
                g = Decimal(g)
            check("%s %s %s" % (key[0], key[1] or "(total)", f), e, g)
            compared += 1
    for key in have:
        if key[0] == "leader" and key[1] and have[key].get("name") != m.names.get(key[1]):
            check("leader name %s" % key[1], m.names.get(key[1]), have[key].get("name"))
    ranked = sum(1 for u in want.values() if u["ranked"])
    unranked = sum(1 for u in want.values() if u["section"] != "total" and not u["ranked"])
    if failed == 0:
        print("ok - %s: %d cases, %d units, %d values equal the oracle's (%d ranked, %d under the "
              "minimum sample of %d, unranked)%s" % (a.name, n, len(want), compared, ranked, unranked,
                                                     min_sample, ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
