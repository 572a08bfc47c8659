#!/usr/bin/env python3
"""An independent oracle for gridflow's escalation engine.

Usage:
    escalation_oracle.py --dir EXPORT --since 2026-01-05T08:00:00+08:00

EXPORT holds what tests/e2e/test_escalation_year.sh exported from PostgreSQL (CSV with
a header; times as epoch seconds): cases, events (case_events), meetings, ledger
(ledger_entries), escalations, calendar_days, grids, rules (escalation_rules),
schedule (meeting_schedule), and steps.txt (every clock step of the run: epoch
seconds, ISO time).  --since is when the escalator started (the clock at its start).

The semantics are issue 14's: a meeting is opened at its slot with its agenda and
nothing moves then; nobody closes meetings in this run, so each is lapsed by the
safety net at the first clock step at or after slot + close_within_hours (the rule's,
default 48), and the rule-based escalations happen then, all automatic.

From the calendar, the rules, the cases and their *action* events only (what the
intake and the router stored; never case.escalated, and never the engine's SQL
functions), it replays the run and computes what the engine must have produced:

  meetings   per L2 grid, the rule's weekday and time in each week, moved to the
             next working day (holidays off, make-up days worked, else Mon-Fri) when
             it falls on a day off; two slots on one day are one meeting.  Per L1
             grid, the first Monday (the rule's weekday) of each month that is a
             working day.  Held at the first clock step at or after the slot.  The
             ledger period starts at the previous slot of that grid and kind.  Lapsed
             (state lapsed, automatic, closed at that step) at the first step at or
             after slot + close_within_hours; still open when the run ends before.
  ledgers    every case of the meeting grid's subtree (its grid below the meeting
             grid) received by the slot, not merged, and open at the slot or touched
             (any event) in [previous slot, slot); with its state, tier (resolved for
             resolved / called back / closed, else the last classification, reset to
             pending by a reopen), level, owner grid, priority (紧急 and special
             groups), age in days, last case event and time, as of the slot; and
             whether this meeting escalated it; why it is on the agenda (special: an
             open case of a special group; triage: on the monthly agenda, an
             unroutable case of the L1 grid; else ledger).
  escalations at the lapse of a meeting, for the cases on its agenda:
             weekly_l2: unresolved at L3 at the slot and still at the lapse, in the
             L2 grid's subtree, whose grace (2 working days; from a day off counting
             starts at the next working day, as documented in 003_calendar.sql)
             ended by the slot.
             monthly_l1: at L2 or hard at the slot, and at the lapse unresolved above
             L1 and marked hard, or at L2 and on at least one weekly ledger by the
             slot.
             urgent_l2 / urgent_l1: urgent cases (special-group ones only where the
             urgent rule says special_groups: true) not resolved 24 h /
             72 h after they were received, at the first clock step where that holds
             (before the step's actions, or right after them when an action made it
             so); L2 first, then L1.  Effects apply in order: meetings opened, then
             lapses (by due time, weekly before monthly), then urgent SLAs, then the
             step's actions.  Each at most once per (case, rule, meeting); at the
             time of the step, from the case's level then, to the rule's level;
             every one automatic.

Prints "count ..." lines, one "mismatch KIND ..." line per difference, and for each
KIND (meetings, periods, ledgers, escalations, urgent_times, final_levels) a line
"result KIND N" with the number of differences.  Exit status 0 when it could compute
(whatever the differences), 2 on bad input.  Python 3 standard library only.
"""

import argparse
import bisect
import collections
import csv
import datetime as dt
import json
import os
import sys

TZ = dt.timezone(dt.timedelta(hours=8))
US = 1000000
DONE = ("resolved", "called_back", "closed")
CLOSEDISH = DONE + ("merged",)


def us(text):
    """Epoch seconds (text, maybe fractional) -> integer microseconds."""
    if text is None or text == "":
        return None
    whole, _, frac = text.partition(".")
    neg = whole.startswith("-")
    v = abs(int(whole)) * US + int((frac + "000000")[:6])
    return -v if neg else v


def local(t):
    return dt.datetime.fromtimestamp(t / US, TZ)


def at_local(day, hh, mm):
    return int(dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=TZ).timestamp()) * US


def fmt(t):
    return "-" if t is None else local(t).strftime("%Y-%m-%d %H:%M")


def read(d, name):
    with open(os.path.join(d, name + ".csv"), newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


class Calendar:
    def __init__(self, rows):
        self.days = {dt.date.fromisoformat(r["day"]): r["workday"] == "t" for r in rows}

    def workday(self, d):
        return self.days.get(d, d.isoweekday() < 6)

    def next_workday(self, d):
        d += dt.timedelta(days=1)
        while not self.workday(d):
            d += dt.timedelta(days=1)
        return d

    def add_working_days(self, t, n):
        if n <= 0:
            return t
        lt = local(t)
        d = lt.date()
        if not self.workday(d):
            d = self.next_workday(d)
        for _ in range(n):
            d = self.next_workday(d)
        return int(dt.datetime.combine(d, lt.timetz()).timestamp() * US)


class Case:
    __slots__ = ("id", "root", "received", "category", "ref", "state", "grid", "level", "tier",
                 "urgent", "groups", "last", "touched", "final_level", "first_weekly")

    def __init__(self, r):
        self.id = int(r["id"])
        self.root = r["root"]
        self.received = us(r["received_at"])
        self.category = r["category"]
        self.ref = r["source_ref"]
        self.final_level = int(r["level"])
        self.state = None          # not received yet
        self.grid = self.root
        self.level = 3
        self.tier = "pending"      # cases.tier: the last classification, resolve, reopen
        self.urgent = False
        self.groups = []
        self.last = None           # (type, at) of the last case.* event
        self.touched = []          # times of every event, ascending
        self.first_weekly = None   # the slot of the first weekly ledger it was on

    def ledger_tier(self):
        if self.state in DONE:
            return "resolved"
        return self.tier if self.tier in ("pending", "hard") else "pending"

    def priority(self):
        parts = []
        if self.urgent:
            parts.append("紧急")
        if self.groups:
            parts.append(",".join(self.groups))
        return " ".join(parts)

    def apply(self, typ, at, payload):
        if typ == "case.received":
            self.state = "registered"
            self.grid = self.root
            self.urgent = bool(payload.get("urgent"))
            self.groups = list(payload.get("groups") or [])
        elif typ == "case.routed":
            self.state = "routed"
            self.grid = payload["grid"]
        elif typ == "case.unroutable":
            self.state = "unroutable"
        elif "to" in payload:
            self.state = payload["to"]
            if typ == "case.returned":
                self.grid = self.root
            if typ == "case.resolved":
                self.tier = "resolved"
            elif typ == "case.reopened":
                self.tier = "pending"
            elif typ == "case.classified":
                self.tier = payload.get("tier", self.tier)
                self.urgent = bool(payload.get("urgent"))
                self.groups = list(payload.get("groups") or [])
        self.last = (typ, at)
        self.touched.append(at)

    def touched_in(self, lo, hi):
        i = bisect.bisect_left(self.touched, lo)
        return i < len(self.touched) and self.touched[i] < hi


def rule_params(rules, root, rule):
    for r in (root, "*"):
        row = rules.get((r, rule))
        if row is not None:
            return row
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--since", required=True)
    ap.add_argument("--show", type=int, default=1000000, help="mismatch lines printed per kind")
    a = ap.parse_args()
    D = a.dir
    since = int(dt.datetime.fromisoformat(a.since).timestamp()) * US

    cal = Calendar(read(D, "calendar_days"))
    grids = {r["code"]: (int(r["level"]), r["parent"] or None) for r in read(D, "grids")}
    rules = {(r["root"], r["rule"]): json.loads(r["params"])
             for r in read(D, "rules") if r["enabled"] == "t"}
    schedule = {(r["grid"], r["kind"]): (int(r["dow"]), int(r["hour"]), int(r["minute"]))
                for r in read(D, "schedule")}
    with open(os.path.join(D, "steps.txt")) as f:
        steps = sorted({int(line.split()[0]) * US for line in f if line.strip()})
    if not steps:
        print("no steps", file=sys.stderr)
        return 2
    end = steps[-1]
    step_set = set(steps)

    def first_step(t):
        i = bisect.bisect_left(steps, t)
        return steps[i] if i < len(steps) else None

    # --- the meetings ------------------------------------------------------------
    def weekly_slots(grid, root, lo, hi):
        p = rule_params(rules, root, "weekly_l2")
        if p is None:
            return []
        dow, hh, mm = schedule.get((grid, "weekly"), (p["dow"], p["hour"], p["minute"]))
        d0 = local(lo).date()
        monday = d0 - dt.timedelta(days=d0.isoweekday() - 1) - dt.timedelta(days=7)
        days = set()
        while monday <= local(hi).date():
            day = monday + dt.timedelta(days=dow - 1)
            if not cal.workday(day):
                day = cal.next_workday(day)
            t = at_local(day, hh, mm)
            if lo < t <= hi:
                days.add(t)
            monday += dt.timedelta(days=7)
        return sorted(days)

    def monthly_slots(grid, lo, hi):
        p = rule_params(rules, grid, "monthly_l1")
        if p is None:
            return []
        dow, hh, mm = schedule.get((grid, "monthly"), (p["dow"], p["hour"], p["minute"]))
        out = []
        m = local(lo).date().replace(day=1)
        while m <= local(hi).date():
            d = m
            while d.month == m.month and not (d.isoweekday() == dow and cal.workday(d)):
                d += dt.timedelta(days=1)
            if d.month == m.month:
                t = at_local(d, hh, mm)
                if lo < t <= hi:
                    out.append(t)
            m = (m + dt.timedelta(days=32)).replace(day=1)
        return out

    expected_meetings = {}   # (grid, kind, day) -> dict(slot, held, period_from)
    for code, (level, parent) in sorted(grids.items()):
        if level == 2:
            slots = weekly_slots(code, parent, since - 60 * 86400 * US, end)
            kind = "weekly"
        elif level == 1:
            slots = monthly_slots(code, since - 70 * 86400 * US, end)
            kind = "monthly"
        else:
            continue
        root = code if level == 1 else parent
        lp = rule_params(rules, root, "weekly_l2" if kind == "weekly" else "monthly_l1") or {}
        hours = lp.get("close_within_hours", 48)
        prev = None
        for t in slots:
            if t > since:
                held = first_step(t)
                lapse = first_step(max(t + hours * 3600 * US, held)) if held is not None else None
                expected_meetings[(code, kind, local(t).date().isoformat())] = {
                    "slot": t, "held": held, "from": prev, "due": t + hours * 3600 * US,
                    "lapsed": lapse}
            prev = t

    # --- the cases and their action events ----------------------------------------
    cases = {}
    for r in read(D, "cases"):
        c = Case(r)
        cases[c.id] = c
    by_time = collections.defaultdict(list)   # at -> [(event id, case, type, payload)]
    for r in read(D, "events"):
        if not r["case_id"] or not r["type"].startswith("case.") or r["type"] == "case.escalated":
            continue
        by_time[us(r["at"])].append((int(r["id"]), int(r["case_id"]), r["type"], json.loads(r["payload"])))
    event_times = sorted(by_time)
    for t in event_times:
        by_time[t].sort()

    # --- replay ----------------------------------------------------------------------
    meetings_at = collections.defaultdict(list)
    lapses_at = collections.defaultdict(list)
    for key, m in expected_meetings.items():
        meetings_at[m["slot"]].append(key)
        if m["lapsed"] is not None:
            lapses_at[m["lapsed"]].append(key)
    times = sorted(set(steps) | set(meetings_at))
    exp_ledgers = {}        # meeting key -> {case id: entry}
    exp_esc = {}            # (case, rule, meeting key or None) -> (from, to, at)
    first_chance = {}       # (case, level) -> (first step at/after the deadline, eligible then)
    urgent_p = {}
    ei = 0                  # next event time to apply

    def escalate(c, rule, mkey, to, at):
        key = (c.id, rule, mkey)
        if c.level <= to or key in exp_esc:
            return False
        exp_esc[key] = (c.level, to, at, True)
        c.level = to
        c.last = ("case.escalated", at)
        c.touched.append(at)
        return True

    def apply_events_until(t, inclusive):
        nonlocal ei
        while ei < len(event_times) and (event_times[ei] < t or (inclusive and event_times[ei] == t)):
            for _, cid, typ, payload in by_time[event_times[ei]]:
                cases[cid].apply(typ, event_times[ei], payload)
            ei += 1

    # Cases that are ever urgent or of a special group (the only ones urgent SLAs concern).
    ever_urgent = sorted({cid for t in event_times for _, cid, typ, p in by_time[t]
                          if typ in ("case.received", "case.classified") and (p.get("urgent") or p.get("groups"))})

    def urgent_phase(t):
        for cid in ever_urgent:
            c = cases[cid]
            if c.state is None or not (c.urgent or c.groups):
                continue
            p = urgent_p.setdefault(c.root, rule_params(rules, c.root, "urgent"))
            if p is None or not (c.urgent or p.get("special_groups", False)):
                continue
            for lvl, hours, rule in ((2, p["to_l2_hours"], "urgent_l2"), (1, p["to_l1_hours"], "urgent_l1")):
                deadline = c.received + hours * 3600 * US
                if deadline > t:
                    continue
                eligible = c.state not in CLOSEDISH and c.level > lvl
                # Was it eligible at the first step at or after its deadline?
                fc = first_chance.get((cid, lvl))
                if fc is None:
                    s = first_step(deadline)
                    first_chance[(cid, lvl)] = (s, eligible and s == t)
                elif fc[0] == t and eligible:
                    first_chance[(cid, lvl)] = (t, True)
                if eligible:
                    escalate(c, rule, None, lvl, t)

    for t in times:
        apply_events_until(t, inclusive=False)
        keys = sorted(meetings_at.get(t, []), key=lambda k: (k[1] != "weekly", k[0]))
        for key in keys:
            grid, kind, _ = key
            m = expected_meetings[key]
            slot = m["slot"]
            lo = m["from"] if m["from"] is not None else slot - 7 * 86400 * US
            ledger = {}
            prefix = grid + "."
            for cid in sorted(cases):
                c = cases[cid]
                if c.state is None or c.received > slot or c.state == "merged":
                    continue
                triage = kind == "monthly" and c.state == "unroutable" and c.root == grid
                if not c.grid.startswith(prefix) and not triage:
                    continue
                if c.state in DONE and not c.touched_in(lo, slot):
                    continue
                reason = ("triage" if triage else
                          "special" if c.groups and c.state not in CLOSEDISH else "ledger")
                ledger[cid] = {
                    "tier": c.ledger_tier(), "state": c.state, "level": c.level, "category": c.category,
                    "priority": c.priority(), "age_days": (slot - c.received) // (86400 * US),
                    "owner": c.grid, "last_action": c.last[0], "last_action_at": c.last[1],
                    "escalated": False, "reason": reason}
                if kind == "weekly" and c.first_weekly is None:
                    c.first_weekly = slot
            exp_ledgers[key] = ledger
        if t in step_set:
            # The safety net: meetings nobody closed lapse, in the order they became due.
            for key in sorted(lapses_at.get(t, []),
                              key=lambda k: (expected_meetings[k]["due"], k[1] != "weekly", k[0])):
                grid, kind, _ = key
                slot = expected_meetings[key]["slot"]
                ledger = exp_ledgers[key]
                if kind == "weekly":
                    grace = rule_params(rules, grids[grid][1], "weekly_l2")["grace_working_days"]
                    for cid in sorted(ledger):
                        c, e = cases[cid], ledger[cid]
                        if (e["level"] == 3 and e["state"] not in CLOSEDISH and c.grid.startswith(grid + ".")
                                and c.level == 3 and c.state not in CLOSEDISH
                                and cal.add_working_days(c.received, grace) <= slot):
                            if escalate(c, "weekly_l2", key, 2, t):
                                e["escalated"] = True
                else:
                    for cid in sorted(ledger):
                        c, e = cases[cid], ledger[cid]
                        if not (e["level"] == 2 or e["tier"] == "hard"):
                            continue
                        if c.root != grid or c.level <= 1 or c.received > slot or c.state in CLOSEDISH:
                            continue
                        if c.tier == "hard" or (c.level == 2 and c.first_weekly is not None
                                                and c.first_weekly <= slot):
                            if escalate(c, "monthly_l1", key, 1, t):
                                e["escalated"] = True
            urgent_phase(t)
            if ei < len(event_times) and event_times[ei] == t:
                apply_events_until(t, inclusive=True)
                urgent_phase(t)
    apply_events_until(end + 1, inclusive=True)

    # --- compare ----------------------------------------------------------------------
    results = collections.OrderedDict((k, 0) for k in
                                      ("meetings", "periods", "ledgers", "escalations", "urgent_times",
                                       "final_levels"))
    shown = collections.Counter()

    def mismatch(kind, text):
        results[kind] += 1
        shown[kind] += 1
        if shown[kind] <= a.show:
            print("mismatch %s %s" % (kind, text))

    actual_meetings = {}
    mkey_of = {}
    for r in read(D, "meetings"):
        key = (r["grid"], r["kind"], r["day"])
        mkey_of[r["id"]] = key
        if key in actual_meetings:
            mismatch("meetings", "duplicate %s %s %s" % key)
        actual_meetings[key] = {"id": r["id"], "slot": us(r["slot_at"]), "held": us(r["held_at"]),
                                "from": us(r["period_from"]), "state": r["state"],
                                "closed": us(r["closed_at"]), "automatic": r["automatic"] == "t"}
    for key in sorted(set(expected_meetings) | set(actual_meetings)):
        e, g = expected_meetings.get(key), actual_meetings.get(key)
        name = "%s %s %s" % key
        if g is None:
            mismatch("meetings", "missing: %s meeting at %s (held %s) was not held" % (name, fmt(e["slot"]), fmt(e["held"])))
        elif e is None:
            mismatch("meetings", "unexpected: %s meeting (meeting_id=%s, slot %s, held %s); no slot of that grid and kind on that day"
                     % (name, g["id"], fmt(g["slot"]), fmt(g["held"])))
        else:
            if (e["slot"], e["held"]) != (g["slot"], g["held"]):
                mismatch("meetings", "different: %s (meeting_id=%s): expected slot %s held %s, got slot %s held %s"
                         % (name, g["id"], fmt(e["slot"]), fmt(e["held"]), fmt(g["slot"]), fmt(g["held"])))
            want = (("lapsed", e["lapsed"], True) if e["lapsed"] is not None else ("open", None, False))
            if want != (g["state"], g["closed"], g["automatic"]):
                mismatch("meetings", "different: %s (meeting_id=%s): expected %s closed %s automatic %s, got %s closed %s automatic %s"
                         % (name, g["id"], want[0], fmt(want[1]), want[2], g["state"], fmt(g["closed"]), g["automatic"]))
            if e["from"] != g["from"]:
                mismatch("periods", "%s (meeting_id=%s): ledger period should start at the previous slot %s, starts at %s"
                         % (name, g["id"], fmt(e["from"]), fmt(g["from"])))

    actual_ledgers = collections.defaultdict(dict)
    for r in read(D, "ledger"):
        key = mkey_of.get(r["meeting_id"])
        actual_ledgers[key][int(r["case_id"])] = {
            "tier": r["tier"], "state": r["state"], "level": int(r["level"]), "category": r["category"],
            "priority": r["priority"], "age_days": int(r["age_days"]), "owner": r["owner"],
            "last_action": r["last_action"], "last_action_at": us(r["last_action_at"]),
            "escalated": r["escalated"] == "t", "reason": r["reason"]}

    def show_entry(x):
        return " ".join("%s=%s" % (k, fmt(v) if k == "last_action_at" else v) for k, v in x.items())

    for key in sorted(set(exp_ledgers) | set(actual_ledgers), key=lambda k: (k is None, k or ())):
        e, g = exp_ledgers.get(key, {}), actual_ledgers.get(key, {})
        if key is None:
            for cid in sorted(g):
                mismatch("ledgers", "unexpected: ledger row of an unknown meeting, case=%d" % cid)
            continue
        mid = actual_meetings.get(key, {}).get("id", "?")
        name = "%s %s %s (meeting_id=%s)" % (key + (mid,))
        for cid in sorted(set(e) | set(g)):
            c = cases[cid]
            if cid not in g:
                mismatch("ledgers", "missing: %s meeting_id=%s case=%d (%s) should be on the ledger: %s"
                         % (name, mid, cid, c.ref, show_entry(e[cid])))
            elif cid not in e:
                mismatch("ledgers", "unexpected: %s meeting_id=%s case=%d (%s) should not be on the ledger (neither open at the slot nor touched in the period): got %s"
                         % (name, mid, cid, c.ref, show_entry(g[cid])))
            else:
                diff = ["%s: expected %s, got %s" % (k, fmt(e[cid][k]) if k == "last_action_at" else e[cid][k],
                                                     fmt(g[cid][k]) if k == "last_action_at" else g[cid][k])
                        for k in e[cid] if e[cid][k] != g[cid][k]]
                if diff:
                    mismatch("ledgers", "different: %s meeting_id=%s case=%d (%s): %s"
                             % (name, mid, cid, c.ref, "; ".join(diff)))

    actual_esc = {}
    for r in read(D, "escalations"):
        mkey = mkey_of.get(r["meeting_id"]) if r["meeting_id"] else None
        key = (int(r["case_id"]), r["rule"], mkey)
        if key in actual_esc:
            mismatch("escalations", "duplicate case=%d rule=%s meeting=%s" % (key[0], key[1], mkey))
        actual_esc[key] = (int(r["from_level"]), int(r["to_level"]), us(r["at"]), r["automatic"] == "t")

    def mname(m):
        return "-" if m is None else "%s/%s/%s" % m

    for key in sorted(set(exp_esc) | set(actual_esc), key=lambda k: (k[0], k[1], mname(k[2]))):
        cid, rule, mkey = key
        e, g = exp_esc.get(key), actual_esc.get(key)
        ref = cases[cid].ref if cid in cases else "?"
        if g is None:
            mismatch("escalations", "missing: case=%d (%s) rule=%s meeting=%s: expected L%d -> L%d at %s, not escalated"
                     % (cid, ref, rule, mname(mkey), e[0], e[1], fmt(e[2])))
        elif e is None:
            mismatch("escalations", "unexpected: case=%d (%s) rule=%s meeting=%s: L%d -> L%d at %s should not have happened"
                     % (cid, ref, rule, mname(mkey), g[0], g[1], fmt(g[2])))
        elif e != g:
            mismatch("escalations", "different: case=%d (%s) rule=%s meeting=%s: expected L%d -> L%d at %s%s, got L%d -> L%d at %s%s"
                     % (cid, ref, rule, mname(mkey), e[0], e[1], fmt(e[2]), " automatic" if e[3] else "",
                        g[0], g[1], fmt(g[2]), " automatic" if g[3] else ""))

    for (cid, rule, mkey), (fl, tl, at, _) in sorted(actual_esc.items(), key=lambda x: (x[0][0], x[0][1])):
        if not rule.startswith("urgent_") or cid not in cases:
            continue
        lvl = 2 if rule == "urgent_l2" else 1
        p = rule_params(rules, cases[cid].root, "urgent")
        deadline = cases[cid].received + p["to_l%d_hours" % lvl] * 3600 * US
        s = first_step(deadline)
        fc = first_chance.get((cid, lvl))
        if at < deadline:
            mismatch("urgent_times", "case=%d %s at %s, before its deadline %s" % (cid, rule, fmt(at), fmt(deadline)))
        elif at not in step_set:
            mismatch("urgent_times", "case=%d %s at %s, which is no clock step" % (cid, rule, fmt(at)))
        elif at != s and fc is not None and fc[1]:
            mismatch("urgent_times", "case=%d %s at %s, but it was due (deadline %s) and eligible at the step %s"
                     % (cid, rule, fmt(at), fmt(deadline), fmt(s)))

    for cid in sorted(cases):
        c = cases[cid]
        if c.level != c.final_level:
            mismatch("final_levels", "case=%d (%s): the oracle's escalations leave it at L%d, it is at L%d"
                     % (cid, c.ref, c.level, c.final_level))

    kinds = collections.Counter(k[1] for k in expected_meetings)
    rules_n = collections.Counter(k[1] for k in exp_esc)
    print("count cases=%d steps=%d" % (len(cases), len(steps)))
    print("count meetings=%d (weekly %d, monthly %d)" % (len(expected_meetings), kinds["weekly"], kinds["monthly"]))
    print("count ledger_entries=%d (resolved %d, pending %d, hard %d)" % (
        sum(len(x) for x in exp_ledgers.values()),
        *(sum(1 for x in exp_ledgers.values() for y in x.values() if y["tier"] == t)
          for t in ("resolved", "pending", "hard"))))
    print("count escalations=%d (%s)" % (len(exp_esc), ", ".join("%s %d" % kv for kv in sorted(rules_n.items()))))
    for k, n in results.items():
        print("result %s %d" % (k, n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
