#!/usr/bin/env python3
"""Drive a generated stretch of a year of the Qingnianlu grid on the simulated clock.

Usage (from tests/e2e/test_escalation_year.sh, with the services already running):
    gen_year.py --bin BIN --psql PSQL --db CONNINFO --grids deploy/sample/qingnianlu.json
                --start 2026-01-05 --end 2026-07-06 --out DIR [--seed S] [--per-day N]

Day by day, on the simulated clock, each step waiting until the system has settled
(events sequenced, router and notifier caught up, every meeting due by now opened,
none left open past its close_within_hours (the safety net lapsed it), every urgent
escalation due now made):

  08:55  only on days with a meeting slot at 09:00 (found with the engine's slot
         functions; a wrong answer shows up as a meeting held late): urgent SLAs that
         ran out overnight are escalated here, before the meetings
  09:00  the slot: weekly L2 meetings and the monthly L1 meeting open (nobody closes
         them: they lapse at the first step 48 h later, usually Wednesday 11:00)
  11:00  complaints arrive (gf-hotline with a JSON Lines file; special groups through
         `gridctl submit --source patrol --groups`), then random staff actions
  16:00  on working days, the same (complaints on about half of them, none urgent)
  20:30  on about a third of the days, a few evening calls and no actions (their
         SLAs run out between steps: they escalate at the next step)

The 09:00 slot steps move the clock with `gridctl clock set`; the others run the
same statement through one psql session (a process per step costs too much time on
a small machine).  Actions are chosen from the cases' current states, read from
PostgreSQL at each step, about --actions-per-step of them (work in progress,
fresh and hard cases first), and sent with `gridctl case ACTION --version V` (each
case's actions in order, cases in parallel).  Anything that may trigger an urgent
escalation at once (classify --urgent/--groups, reopen) or a re-routing (return) is
the last action of its case in a step, and merges go into cases not touched in that
step, so the outcome does not depend on timing.

Writes to DIR: steps.txt (one line per clock step: epoch seconds and local time),
actions.log (every action and its result), summary.txt (key=value).  Exit status 0
when every step settled and every action was accepted, else 1 (details on stderr).
Python 3 standard library only; the output depends only on the seed and the inputs
(case ids come from the database).
"""

import argparse
import concurrent.futures as cf
import datetime as dt
import json
import os
import random
import subprocess
import sys
import threading
import time

TZ = dt.timezone(dt.timedelta(hours=8))
CATEGORIES = ["sanitation", "water", "power", "road", "security", "dispute", "welfare",
              "property", "greening", "other"]
TEXTS = ["楼道灯不亮，晚上上下楼看不见", "垃圾桶满了好几天没人清运", "小区下水道堵塞，污水外溢",
         "路灯坏了，夜里出行不安全", "邻居装修噪音太大，中午也不停", "单元门禁坏了，陌生人随便进出",
         "低保金这个月还没到账", "小区绿化带被人占用种菜", "楼上漏水，天花板发霉",
         "路面塌陷一个坑，电动车容易摔", "有人在楼道里堆放杂物，堵住消防通道", "独居老人家里停电了"]
GROUPS = ["hardship", "petitioner", "bereaved", "left_behind", "dibao", "disabled"]
# Department codes of deploy/sample/departments.json (026: refer names a
# department of the directory): 城管执法中队, 供电所, 水务公司, 民政所, 住建站.
DEPARTMENTS = ["CGZF", "GDS", "SWJ", "MZS", "ZJZ"]
OPEN_WORK = ("signed", "in_progress", "reopened", "replied")

# Settled: the router (and the notifier) at the end of their
# event types, no case waiting for routing, the meetings due by now held ...
SETTLE_SQL = """
SELECT (EXISTS (SELECT 1 FROM escalation_state)
   AND (SELECT last_seq FROM consumer_checkpoints WHERE consumer = 'router')
       >= (SELECT coalesce (max (seq), 0) FROM case_events WHERE type IN ('case.received', 'case.returned'))
   AND (NOT %s OR (SELECT last_seq FROM consumer_checkpoints WHERE consumer = 'notifier')
       >= (SELECT coalesce (max (seq), 0) FROM case_events WHERE type = 'case.routed'))
   AND NOT EXISTS (SELECT 1 FROM cases WHERE state = 'registered'))::text
"""

SETTLE_MEETINGS_SQL = ("SELECT ((SELECT count (*) FROM meetings) >= %d"
                       " AND NOT EXISTS (SELECT 1 FROM gf_due_lapses ()))::text")

# ... and every urgent escalation due now made (the escalator's work).
URGENT_SQL = """
SELECT (NOT EXISTS (SELECT 1 FROM gf_urgent_candidates (gf_now ()) u
                     WHERE NOT EXISTS (SELECT 1 FROM escalations e WHERE e.case_id = u.case_id
                                          AND e.rule = CASE u.to_level WHEN 2 THEN 'urgent_l2' ELSE 'urgent_l1' END)))::text
"""

# The SQL of `gridctl clock set` (forward only), without a process per step.
CLOCK_SQL = """
WITH moved AS (
  INSERT INTO sim_clock (id, at) VALUES (true, '%s'::timestamptz)
  ON CONFLICT (id) DO UPDATE SET at = excluded.at WHERE excluded.at >= sim_clock.at
  RETURNING at)
SELECT count (*), pg_notify ('gf_clock', '') FROM moved
"""

# Is a weekly or monthly slot due in (now, t]?  (Only to skip quiet mornings.)
SLOT_SQL = """
SELECT (SELECT count (*) FROM gf_weekly_slots (gf_now (), '%s'::timestamptz))
     + (SELECT count (*) FROM gf_monthly_slots (gf_now (), '%s'::timestamptz))
"""

CASES_SQL = """
SELECT id, state, grid, level, tier, version, urgent, array_to_string (groups, ','),
       coalesce (satisfied::text, ''), source_ref
  FROM cases WHERE state NOT IN ('closed', 'merged') ORDER BY id
"""


class Psql:
    """One psql process kept open: a query costs a round trip, not a connection."""

    def __init__(self, psql, db):
        self.p = subprocess.Popen([psql, "-X", "-q", "-t", "-A", "-F", "\t", "-d", db],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, bufsize=1)
        # The slot queries are tiny but estimated huge (a calendar walk per
        # day): JIT would compile each for ~40 ms, as the escalator's own
        # session also avoids (SQL_SESSION).
        self.query("SET jit = off")

    def query(self, sql):
        self.p.stdin.write(sql.strip().rstrip(";") + ";\n\\echo __GF_END__\n")
        self.p.stdin.flush()
        rows = []
        while True:
            line = self.p.stdout.readline()
            if line == "":
                raise RuntimeError("psql exited")
            line = line.rstrip("\n")
            if line == "__GF_END__":
                return rows
            if line.startswith("ERROR:") or line.startswith("LINE ") or line.startswith("FATAL"):
                raise RuntimeError("psql: %s (query: %s)" % (line, sql.strip()[:200]))
            rows.append(line.split("\t"))

    def close(self):
        self.p.stdin.close()
        self.p.wait()


class Driver:
    def __init__(self, a):
        self.a = a
        self.rng = random.Random(a.seed)
        self.db = Psql(a.psql, a.db)
        self.gridctl = os.path.join(a.bin, "gridctl")
        self.hotline = os.path.join(a.bin, "gf-hotline")
        d = json.load(open(a.grids, encoding="utf-8"))
        self.l3 = sorted(g["code"] for g in d["grids"] if g["level"] == 3)
        self.parent = {g["code"]: g["parent"] for g in d["grids"]}
        self.leader = {p["grid"]: p["id"] for p in d["people"] if p["role"] == "leader"}
        self.addresses = sorted((x["address"], x["grid"]) for x in d["addresses"])
        # Uneven load: some grids are busy, a few are quiet.
        self.weight = [self.rng.choice([1, 1, 2, 3, 5]) for _ in self.l3]
        self.steps = open(os.path.join(a.out, "steps.txt"), "w")
        self.log = open(os.path.join(a.out, "actions.log"), "w")
        self.log_lock = threading.Lock()
        self.errors = []
        self.counts = {"cases": 0, "actions": 0, "refused": 0, "steps": 0, "settle_timeouts": 0,
                       "settle_s": 0.0, "action_s": 0.0, "intake_s": 0.0, "clock_s": 0.0, "pokes": 0}
        self.meetings = 0   # meetings that must have been held by now
        self.pool = cf.ThreadPoolExecutor(max_workers=a.jobs)

    # --- the clock ---------------------------------------------------------
    def settle(self, what, notifier=True):
        t0 = time.monotonic()
        deadline = t0 + self.a.settle_timeout
        poked = t0
        while True:
            ok = self.db.query(SETTLE_MEETINGS_SQL % self.meetings) == [["true"]]
            if ok and self.db.query(SETTLE_SQL % notifier) == [["true"]]:
                if self.db.query(URGENT_SQL) == [["true"]]:
                    break
                ok = False
            if time.monotonic() > deadline:
                self.counts["settle_timeouts"] += 1
                self.errors.append("did not settle within %ss: %s" % (self.a.settle_timeout, what))
                break
            # Waiting for the escalator: wake it again (the NOTIFY that `gridctl
            # clock set` sends), in case the first one came while it was busy.
            if not ok and time.monotonic() - poked > 0.1:
                self.db.query("SELECT pg_notify ('gf_clock', '')")
                self.counts["pokes"] += 1
                poked = time.monotonic()
            time.sleep(0.01)
        self.counts["settle_s"] += time.monotonic() - t0
        k = "settle_" + what.split()[0] + "_s"
        self.counts[k] = self.counts.get(k, 0.0) + time.monotonic() - t0

    def clock(self, t, tool=False):
        """Moves the simulated clock to t: with `gridctl clock set` when tool is
        true (the meeting slots), else with the same SQL through our psql."""
        iso = t.isoformat()
        t0 = time.monotonic()
        if tool:
            r = subprocess.run([self.gridctl, "clock", "set", iso], capture_output=True, text=True)
            if r.returncode != 0:
                self.errors.append("clock set %s: %s" % (iso, r.stderr.strip()))
        elif self.db.query(CLOCK_SQL % iso)[0][0] != "1":
            self.errors.append("clock set %s: not moved" % iso)
        self.steps.write("%d %s\n" % (int(t.timestamp()), iso))
        self.steps.flush()
        self.counts["steps"] += 1
        self.counts["clock_s"] += time.monotonic() - t0
        self.settle("clock at %s" % iso)

    # --- complaints --------------------------------------------------------
    def pick_grid(self):
        return self.rng.choices(self.l3, weights=self.weight)[0]

    def intake(self, t, n, groups_n, then_actions=False, urgent=True):
        """n hotline calls and groups_n patrol findings of special groups at t;
        urgent calls only if urgent (SLA deadlines fall on the same clock steps
        days later, and each such step waits for the escalator)."""
        t0 = time.monotonic()
        tag = t.strftime("%Y%m%d%H%M")
        lines = []
        for i in range(n):
            r = self.rng.random()
            rec = {"call_id": "Y%s-%03d" % (tag, i), "text": self.rng.choice(TEXTS),
                   "category": self.rng.choice(CATEGORIES), "urgent": urgent and self.rng.random() < 0.08}
            if r < 0.78:
                rec["grid"] = self.pick_grid()
            elif r < 0.96:
                rec["address"] = self.rng.choice(self.addresses)[0]
            else:
                rec["address"] = "青年路街道不存在路%d号" % self.rng.randrange(1000)
            lines.append(json.dumps(rec, ensure_ascii=False))
        path = os.path.join(self.a.out, "calls.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        cmds = []
        if n:
            cmds.append([self.hotline, path, "--quiet"])
        for i in range(groups_n):
            g = self.pick_grid()
            gs = self.rng.sample(GROUPS, self.rng.choice([1, 1, 2]))
            cmd = [self.gridctl, "submit", "--source", "patrol", "--ref", "P%s-%02d" % (tag, i),
                   "--text", "走访发现：" + self.rng.choice(TEXTS), "--grid", g,
                   "--category", self.rng.choice(CATEGORIES), "--reporter", self.leader[g],
                   "--groups", ",".join(gs)]
            if self.rng.random() < 0.2:
                cmd.append("--urgent")
            cmds.append(cmd)
        for r in self.pool.map(lambda c: subprocess.run(c, capture_output=True, text=True), cmds):
            if r.returncode != 0 or "failed 0" not in r.stdout and "registered" not in r.stdout:
                self.errors.append("intake at %s: %s %s" % (t.isoformat(), r.stdout.strip(), r.stderr.strip()))
        self.counts["cases"] += n + groups_n
        self.counts["intake_s"] += time.monotonic() - t0
        # Routed before any action; the notifier may catch up during the actions.
        self.settle("intake at %s" % t.isoformat(), notifier=not then_actions)

    # --- staff actions -----------------------------------------------------
    def actor(self, grid, level=3):
        """The leader of the case's grid (3), its L2 grid (2) or the L1 grid (1)."""
        parts = grid.split(".")
        if len(parts) < level:
            return self.leader[parts[0]]
        return self.leader[".".join(parts[:level])]

    def plan(self, case):
        """A chain of actions for one case: [(action, args)], possibly empty."""
        cid, state, grid, level, tier, version, urgent, groups, satisfied, ref = case
        rng = self.rng
        chain = []
        at_root = "." not in grid
        l3 = (lambda: self.leader["QNL"]) if at_root else (lambda: self.actor(grid, 3))
        l2 = (lambda: self.leader["QNL"]) if at_root else (lambda: self.actor(grid, 2))
        last = None   # an action that must end the chain
        s = state
        # Occasional classification and supervision by the L2 leader, in any open state.
        r = rng.random()
        if r < (0.03 if s not in ("resolved", "called_back") else 0.01) and tier != "hard":
            chain.append(("classify", ["--actor", l2(), "--tier", "hard"]))
        elif r < 0.034 and tier == "hard":
            chain.append(("classify", ["--actor", l2(), "--tier", "pending"]))
        elif r < 0.042:
            chain.append(("supervise", ["--actor", l2()]))
        if s == "unroutable":
            if rng.random() < 0.35:
                chain.append(("assign", ["--actor", self.leader["QNL"], "--grid", self.pick_grid()]))
                s = "routed"
        if s == "routed":
            r = rng.random()
            if r < 0.012 and not at_root:
                last = ("return", ["--actor", l3(), "--note", "不属于本网格"])
            elif r < 0.47:
                chain.append(("sign", ["--actor", l3()]))
                s = "signed"
        if s in OPEN_WORK and rng.random() < (0.5 if chain else 0.3):
            r = rng.random()
            if s == "replied" or r < 0.45:
                chain.append(("resolve", ["--actor", l3(), "--note", "已办结"]))
                s = "resolved"
            elif r < 0.6:
                chain.append(("refer", ["--actor", l3(), "--department", rng.choice(DEPARTMENTS)]))
                s = "referred"
            else:
                chain.append(("progress", ["--actor", l3(), "--note", "正在协调处理"]))
                s = "in_progress"
        if s in ("in_progress",) and rng.random() < 0.25:
            chain.append(("resolve", ["--actor", l3(), "--note", "已办结"]))
            s = "resolved"
        if s == "referred" and state == "referred" and rng.random() < 0.35:
            chain.append(("reply", ["--actor", l3(), "--note", "部门已答复"]))
            s = "replied"
        if s == "resolved" and state == "resolved" and rng.random() < 0.4:
            ok = rng.random() < (0.4 if tier == "hard" else 0.88)
            chain.append(("callback", ["--actor", l3(), "--satisfied", "yes" if ok else "no"]))
            s, satisfied = "called_back", ("true" if ok else "false")
        if s == "called_back" and state == "called_back" and rng.random() < 0.5:
            if satisfied == "true":
                chain.append(("close", ["--actor", l3()]))
                s = "closed"
            else:
                last = ("reopen", ["--actor", l3()])
        if last is None and s not in ("closed",) and rng.random() < 0.012:
            if rng.random() < 0.5:
                last = ("classify", ["--actor", l3(), "--urgent", "yes"])
            else:
                last = ("classify", ["--actor", l3(), "--groups", ",".join(rng.sample(GROUPS, 1))])
        if last:
            chain.append(last)
        return chain

    def run_chain(self, cid, version, chain):
        out = []
        t0 = time.monotonic()
        for action, args in chain:
            cmd = [self.gridctl, "case", action, str(cid)] + args + ["--version", str(version)]
            r = subprocess.run(cmd, capture_output=True, text=True)
            ok = r.returncode == 0
            out.append((ok, " ".join(cmd[2:]), (r.stdout + r.stderr).strip()))
            if not ok:
                break
            version += 1
        return out, time.monotonic() - t0

    def actions(self, t):
        rows = self.db.query(CASES_SQL)
        cases = [(int(r[0]), r[1], r[2], int(r[3]), r[4], int(r[5]), r[6] == "t", r[7], r[8], r[9])
                 for r in rows]
        wanted = []
        newest = cases[-1][0] if cases else 0
        for c in cases:
            chain = self.plan(c)
            if chain:
                # Work in progress and fresh cases first, the backlog now and then.
                w = ((1.0 if c[1] == "routed" else 4.0) * (3.0 if c[0] > newest - 100 else 1.0)
                     * (10.0 if c[4] == "hard" else 1.0))
                wanted.append((self.rng.random() ** (1.0 / w), c, chain))
        wanted.sort(key=lambda x: -x[0])
        budget = max(1, int(self.rng.gauss(self.a.actions_per_step, 2)))
        chains = []
        for _, c, chain in wanted:
            if budget <= 0:
                break
            chains.append((c, chain))
            budget -= len(chain)
        # Merge targets: signed or in-progress cases of the same grid untouched in this step.
        busy = {c[0] for c, _ in chains}
        targets = {}
        for c in cases:
            if c[0] not in busy and c[1] in ("signed", "in_progress"):
                targets.setdefault(c[2], []).append(c[0])
        # Now and then a routed case is merged (by the L2 leader) into such a case.
        if self.rng.random() < 0.4:
            routed = [c for c in cases if c[0] not in busy and c[1] == "routed" and targets.get(c[2])]
            if routed:
                c = self.rng.choice(routed)
                into = self.rng.choice(targets[c[2]])
                chains.append((c, [("merge", ["--actor", self.actor(c[2], 2), "--into", str(into)])]))
        t0 = time.monotonic()
        futures = [self.pool.submit(self.run_chain, c[0], c[5], ch) for c, ch in chains]
        for f in futures:
            results, _ = f.result()
            for ok, what, msg in results:
                self.counts["actions"] += 1
                self.log.write("%s %s %s: %s\n" % (t.isoformat(), "ok" if ok else "REFUSED", what, msg))
                if not ok:
                    self.counts["refused"] += 1
                    self.errors.append("at %s: %s: %s" % (t.isoformat(), what, msg))
        self.counts["action_s"] += time.monotonic() - t0
        self.settle("actions at %s" % t.isoformat())

    # --- the year ----------------------------------------------------------
    def run(self):
        a = self.a
        day = dt.date.fromisoformat(a.start)
        end = dt.date.fromisoformat(a.end)
        at = lambda d, h, m: dt.datetime(d.year, d.month, d.day, h, m, tzinfo=TZ)
        while day <= end:
            nine = at(day, 9, 0)
            due = int(self.db.query(SLOT_SQL % (nine.isoformat(), nine.isoformat()))[0][0])
            if due > 0:
                self.clock(at(day, 8, 55))
                self.meetings += due
                self.clock(nine, tool=True)
            if day == end:
                break
            # Days off: one round of complaints and actions.
            workday = self.db.query("SELECT gf_is_workday ('%s')" % day.isoformat())[0][0] == "t"
            for h in ((11, 16) if workday else (11,)):
                self.clock(at(day, h, 0))
                if h == 11 or self.rng.random() < 0.5:
                    n = max(0, int(self.rng.gauss(a.per_day * (0.55 if h == 11 else 0.5), 2)))
                    groups_n = 1 if h == 11 and self.rng.random() < 0.6 else 0
                    self.intake(at(day, h, 0), n, groups_n, then_actions=True, urgent=h == 11)
                self.actions(at(day, h, 0))
            if self.rng.random() < (0.35 if workday else 0.2):
                self.clock(at(day, 20, 30))
                self.intake(at(day, 20, 30), self.rng.randrange(1, 5), 1 if self.rng.random() < 0.2 else 0)
            if day.day == 1 or day == dt.date.fromisoformat(a.start):
                print("# %s: %d cases, %d actions, %d steps" %
                      (day, self.counts["cases"], self.counts["actions"], self.counts["steps"]),
                      file=sys.stderr, flush=True)
            day += dt.timedelta(days=1)
        self.pool.shutdown()
        self.steps.close()
        self.log.close()
        with open(os.path.join(a.out, "summary.txt"), "w") as f:
            for k, v in sorted(self.counts.items()):
                f.write("%s=%s\n" % (k, round(v, 1) if isinstance(v, float) else v))
        for e in self.errors[:30]:
            print("error: " + e, file=sys.stderr)
        if len(self.errors) > 30:
            print("error: ... %d more" % (len(self.errors) - 30), file=sys.stderr)
        return 0 if not self.errors else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bin", required=True)
    p.add_argument("--psql", required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--grids", required=True)
    p.add_argument("--start", required=True)
    p.add_argument("--end", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--per-day", type=float, default=18)
    p.add_argument("--actions-per-step", type=float, default=4.5)
    p.add_argument("--jobs", type=int, default=4)
    p.add_argument("--settle-timeout", type=float, default=30)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    sys.exit(Driver(a).run())


if __name__ == "__main__":
    main()
