#!/usr/bin/env python3
"""Drives a month of cases for tests/e2e/test_indicators.sh on the simulated
clock and the real calendar (October 2026: National Day off 1-7 October,
Saturday 10 October a working day): complaints through the real intake
(`gridctl submit`) and staff actions (`gridctl case ACTION`): signs early and
late (urgent cases against their 1-hour sign-for rule), resolutions in time
and late (working days, over the holiday), callbacks satisfied or not,
dissatisfied cases reopened, signed and resolved again, supervisions by the
L2 leader, cases never signed or never resolved, a case merged into another,
a case of September and actions after the month's end (November: one
case resolved, called back and reopened then), over
several grids and leaders, one grid with too few cases to be ranked.

Each step moves the clock (`gridctl clock set`), waits until the router and
the notifier caught up, then runs the step's actions.  --until stops before
the first step after that time (the test checks the dashboard and /metrics
there and runs the rest with --from).  Prints nothing on success; errors on
stderr, exit 1.  The case ids go to OUT/cases.txt (key id), appended.

Usage: indicator_month.py --bin BIN --psql PSQL --db CONNINFO --out DIR
                          [--seed N] [--from ISO] [--until ISO]
"""
import argparse
import datetime as dt
import os
import random
import subprocess
import sys
import time

TZ = dt.timezone(dt.timedelta(hours=8))
GRIDS = {  # L3 grid: weight (QNL.01.001 gets two cases: below the minimum sample)
    "QNL.07.063": 5, "QNL.07.064": 3, "QNL.08.067": 3, "QNL.08.068": 2,
}
CATEGORIES = ["sanitation", "water", "power", "road", "dispute", "other"]


def leader(grid):
    return "P-%s-1" % grid


def plan(seed):
    """[(time, seq, key, action, args)], sorted: seq keeps each case's order."""
    rng = random.Random(seed)
    steps = []
    n = 0

    def add(t, key, action, args):
        nonlocal n
        n += 1
        # half-hour steps, so that many actions share a clock step
        t = t.replace(minute=0 if t.minute < 30 else 30, second=0, microsecond=0)
        steps.append((t, n, key, action, args))
        return t

    cases = []
    for g, w in GRIDS.items():
        cases += [g] * (w * 3)
    cases += ["QNL.01.001"] * 2
    rng.shuffle(cases)
    month0 = dt.datetime(2026, 10, 1, tzinfo=TZ)
    for i, grid in enumerate(cases):
        key = "C%02d" % i
        l2 = grid.rsplit(".", 1)[0]
        urgent = rng.random() < 0.2
        groups = "dibao" if rng.random() < 0.1 else None
        received = month0 + dt.timedelta(days=rng.randrange(0, 31), hours=rng.randrange(7, 21))
        if received >= dt.datetime(2026, 10, 31, 21, tzinfo=TZ):
            received -= dt.timedelta(days=1)
        args = ["--source", "hotline", "--ref", "IND-" + key, "--text", "指标测试诉求 " + key,
                "--grid", grid, "--category", rng.choice(CATEGORIES)]
        if urgent:
            args.append("--urgent")
        if groups:
            args += ["--groups", groups]
        t = add(received, key, "submit", args)
        if rng.random() < 0.1:
            continue  # never signed for
        sign_h = rng.choice([0.5, 1.5, 3]) if urgent else rng.choice([1, 5, 20, 30, 60])
        t = add(t + dt.timedelta(hours=sign_h, minutes=30), key, "sign", ["--actor", leader(grid)])
        if rng.random() < 0.15:
            add(t + dt.timedelta(hours=rng.randrange(1, 30)), key, "supervise", ["--actor", leader(l2)])
            t += dt.timedelta(hours=31)
        if rng.random() < 0.15:
            continue  # never resolved
        t = add(t + dt.timedelta(hours=rng.choice([3, 20, 50, 100, 170, 260])), key, "resolve",
                ["--actor", leader(grid), "--note", "已处理"])
        if rng.random() < 0.2:
            continue  # not called back
        satisfied = rng.random() < 0.7
        t = add(t + dt.timedelta(hours=rng.randrange(2, 40)), key, "callback",
                ["--actor", leader(grid), "--satisfied", "yes" if satisfied else "no"])
        if satisfied:
            add(t + dt.timedelta(hours=1), key, "close", ["--actor", leader(grid)])
            continue
        t = add(t + dt.timedelta(hours=1), key, "reopen", ["--actor", leader(grid)])
        t = add(t + dt.timedelta(hours=rng.choice([1, 30])), key, "sign", ["--actor", leader(grid)])
        if rng.random() < 0.7:
            t = add(t + dt.timedelta(hours=rng.choice([5, 60])), key, "resolve",
                    ["--actor", leader(grid), "--note", "再次处理"])
            add(t + dt.timedelta(hours=5), key, "callback",
                ["--actor", leader(grid), "--satisfied", "yes"])
    # A September case (not in the month) and a twin merged into a case.
    add(dt.datetime(2026, 9, 30, 15, tzinfo=TZ), "SEP", "submit",
        ["--source", "hotline", "--ref", "IND-SEP", "--text", "九月诉求", "--grid", "QNL.07.063",
         "--category", "road"])
    add(dt.datetime(2026, 10, 12, 9, tzinfo=TZ), "TWIN", "submit",
        ["--source", "hotline", "--ref", "IND-TWIN", "--text", "重复诉求", "--grid", "QNL.07.063",
         "--category", "road"])
    add(dt.datetime(2026, 10, 12, 8, tzinfo=TZ), "HOST", "submit",
        ["--source", "hotline", "--ref", "IND-HOST", "--text", "路灯不亮", "--grid", "QNL.07.063",
         "--category", "road"])
    add(dt.datetime(2026, 10, 12, 10, tzinfo=TZ), "TWIN", "merge",
        ["--actor", leader("QNL.07"), "--into", "@HOST"])
    # An urgent water case: (*, water, *) 3 working days beats (*, *, urgent)
    # 2 (the category's row is more specific): on time, resolved after 2.
    lp = ["--actor", leader("QNL.07.064")]
    add(dt.datetime(2026, 10, 12, 9, tzinfo=TZ), "PREC", "submit",
        ["--source", "hotline", "--ref", "IND-PREC", "--text", "水管爆裂", "--grid", "QNL.07.064",
         "--category", "water", "--urgent"])
    add(dt.datetime(2026, 10, 12, 9, 30, tzinfo=TZ), "PREC", "sign", lp)
    add(dt.datetime(2026, 10, 14, 15, tzinfo=TZ), "PREC", "resolve", lp + ["--note", "已抢修"])
    # Resolved after the month's end: open as of 31 October (its 3 working
    # days, water, run to 3 November: neither on time nor late then).
    lg = ["--actor", leader("QNL.08.068")]
    add(dt.datetime(2026, 10, 29, 10, tzinfo=TZ), "AFTER", "submit",
        ["--source", "hotline", "--ref", "IND-AFTER", "--text", "水管漏水", "--grid", "QNL.08.068",
         "--category", "water"])
    add(dt.datetime(2026, 10, 29, 11, tzinfo=TZ), "AFTER", "sign", lg)
    add(dt.datetime(2026, 11, 2, 10, tzinfo=TZ), "AFTER", "resolve", lg + ["--note", "已修复"])
    add(dt.datetime(2026, 11, 3, 10, tzinfo=TZ), "AFTER", "callback", lg + ["--satisfied", "no"])
    add(dt.datetime(2026, 11, 3, 11, tzinfo=TZ), "AFTER", "reopen", lg)
    steps.sort(key=lambda s: (s[0], s[1]))
    end = dt.datetime(2026, 11, 4, 18, tzinfo=TZ)
    return [s for s in steps if s[0] <= end]


class Driver:
    def __init__(self, a):
        self.a = a
        self.gridctl = os.path.join(a.bin, "gridctl")
        self.ids = {}
        path = os.path.join(a.out, "cases.txt")
        if os.path.exists(path):
            for line in open(path):
                k, v = line.split()
                self.ids[k] = v
        self.cases = open(path, "a")

    def sql(self, q):
        r = subprocess.run([self.a.psql, "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d",
                            self.a.db, "-c", q], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("psql: " + r.stderr.strip())
        return r.stdout.strip()

    def wait(self, q, what, timeout=30):
        t0 = time.monotonic()
        while self.sql(q) != "t":
            if time.monotonic() - t0 > timeout:
                raise RuntimeError("timed out waiting for " + what)
            time.sleep(0.05)

    def settle(self):
        self.wait("""SELECT (SELECT last_seq FROM consumer_checkpoints WHERE consumer = 'router')
               >= (SELECT coalesce(max(seq), 0) FROM case_events WHERE type = 'case.received')
             AND (SELECT last_seq FROM consumer_checkpoints WHERE consumer = 'notifier')
               >= (SELECT coalesce(max(seq), 0) FROM case_events WHERE type IN (
                     SELECT event_type FROM notification_rules WHERE enabled))""", "quiescence")

    def run(self, cmd):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr.strip()))
        return r.stdout

    def step(self, key, action, args):
        args = [self.ids[x[1:]] if x.startswith("@") else x for x in args]
        if action == "submit":
            out = self.run([self.gridctl, "submit"] + args)
            cid = out.split()[1]
            self.ids[key] = cid
            self.cases.write("%s %s\n" % (key, cid))
            self.cases.flush()
            self.wait("SELECT state = 'routed' FROM cases WHERE id = %s" % cid, "routing of " + key)
        else:
            self.run([self.gridctl, "case", action, self.ids[key]] + args)

    def drive(self):
        lo = dt.datetime.fromisoformat(self.a.from_) if self.a.from_ else None
        hi = dt.datetime.fromisoformat(self.a.until) if self.a.until else None
        now = None
        for t, _, key, action, args in plan(self.a.seed):
            if (lo and t <= lo) or (hi and t > hi):
                continue
            if t != now:
                self.settle()
                self.run([self.gridctl, "clock", "set", t.isoformat()])
                now = t
            self.step(key, action, args)
        self.settle()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--psql", required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=14)
    p.add_argument("--from", dest="from_")
    p.add_argument("--until")
    a = p.parse_args()
    try:
        Driver(a).drive()
    except RuntimeError as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
