#!/usr/bin/env python3
"""make bench, last step: joins bench/out/throughput.json (bench/bench.sh),
bench/out/escalation.json (bench/escalation_bench.sh),
bench/out/programmes.json (bench/programmes_bench.sh) and
bench/out/workbench.json (bench/workbench_bench.sh) into
bench/results.json, with each figure's target and whether it was met, and
prints the table.  docs/performance.md explains the figures."""
import json
import os
import sys

OUT = "bench/out"


def load(name):
    path = os.path.join(OUT, name)
    return json.load(open(path)) if os.path.exists(path) else None


t = load("throughput.json")
e = load("escalation.json")
pg = load("programmes.json")
wb = load("workbench.json")
rows = []  # (name, value, unit, target text, met or None, load average)


def row(name, value, unit, target=None, ok=None, la=None):
    rows.append({"figure": name, "value": value, "unit": unit, "target": target,
                 "met": ok, "load_average": la})


if t:
    sat, o1, oh = t["saturation"], t["open_1000"], t["open_half"]
    ceiling = t["pgbench_batched_rows_per_s"]
    la = t["load"]
    e2e = sat["end_to_end_per_s"]
    ratio = e2e / ceiling if ceiling else 0
    row("saturation: intake acknowledged", sat["ack_per_s"], "/s", la=la["saturation"])
    row("saturation: end to end (seen by a subscriber)", e2e, "/s", ">= 20% of pgbench",
        ratio >= 0.20, la["saturation"])
    row("pgbench ceiling (same rows, 500 per txn)", ceiling, "rows/s", la=la["pgbench"])
    ll = t.get("pgbench_like_for_like_rows_per_s")
    if ll:
        row("pgbench like-for-like ceiling (same tables, indexes, constraints)", ll, "rows/s",
            la=la["pgbench"])
        row("end to end / like-for-like ceiling", round(100 * e2e / ll, 2), "%", la=la["saturation"])
    if t.get("fsync_floor_us"):
        row("ack floor: one fdatasync of the WAL disk (pg_test_fsync)", t["fsync_floor_us"], "us")
    for run, cpu in t.get("generator_cpu_s", {}).items():
        row("load generator CPU (%s)" % run.replace("_", " "), cpu, "s", la=la[run])
    row("end to end / pgbench ceiling", round(100 * ratio, 2), "%", ">= 20 %", ratio >= 0.20,
        la["saturation"])
    for key, label, la_key in (("open_1000", "open loop 1,000/s", "open_1000"),
                               ("open_half", "open loop %.0f/s (50%% of saturation)"
                                % oh["rate"], "open_half")):
        r = t[key]
        lost = r["sent"] - r["seen"]
        for kind in ("ack", "end_to_end"):
            d = r[kind + "_ms"]
            limit = {"ack": 10, "end_to_end": 50}[kind] if key == "open_1000" else None
            for p in ("p50", "p99", "p99_9", "max"):
                ok = None
                if limit is not None and p == "p99":
                    ok = d[p] <= limit and lost == 0
                row("%s: %s %s" % (label, kind.replace("_", " "), p.replace("_", ".")),
                    d[p], "ms", ("<= %d ms" % limit) if ok is not None else None, ok, la[la_key])
        if lost:
            row("%s: not seen end to end" % label, lost, "complaints", "0", False, la[la_key])
    for svc, kib in t["rss_kib"].items():
        row("peak RSS %s (throughput runs)" % svc, round(kib / 1024, 1), "MiB")
if e:
    la = e["load"]
    if e["weekly_round_seconds"] is not None:
        row("weekly round, %d open cases" % e["open_cases"], e["weekly_round_seconds"], "s",
            la=la["round"])
    else:
        row("weekly round, %d open cases: NOT complete, meetings held" % e["open_cases"],
            e["meetings_held"], "of 12", la=la["round"])
    for i, ms in enumerate(e.get("meeting_ms", [])):
        row("  weekly meeting %d" % (i + 1), round(ms / 1000, 1), "s", la=la["round"])
    rp = e["replay"]
    row("replay %d events to a subscriber" % rp["events"], rp["events_per_s"], "events/s",
        ">= 200000/s", rp["events_per_s"] >= 200000 and rp["dense_in_order"], la["replay"])
    for svc, kib in e["rss_kib"].items():
        row("peak RSS %s at %d open cases" % (svc, e["open_cases"]), round(kib / 1024, 1), "MiB",
            "< 64 MiB", kib < 64 * 1024)
if pg:
    d = pg["data"]
    row("programmes: load a year (%d visits, %d patrols, x%d)" % (d["visits"], d["patrols"], pg["scale"]),
        pg["load_seconds"], "s", la=pg["load_load"])
    for key, label in (("report_json_current", "monthly report JSON, current month"),
                       ("report_table_current", "monthly report table, current month"),
                       ("report_json_closed", "monthly report JSON, a closed month"),
                       ("dashboard_programmes", "dashboard /api/programmes.json")):
        tm = pg["times"].get(key)
        if tm:
            target = "< 1000 ms" if key.startswith("report") else None
            row("programmes: %s (first run)" % label, tm["first_ms"], "ms", target,
                tm["first_ms"] < 1000 if target else None, tm["load"])
            row("programmes: %s (best)" % label, tm["best_ms"], "ms", la=tm["load"])

if wb:
    for page, ms in wb["first_render_ms"].items():
        row("workbench: first render, %s, %d open cases" % (page, wb["open_cases"]), ms, "ms",
            "< 1000 ms", ms < 1000, wb["load"])

result = {"machine": {"cpus": os.cpu_count()}, "figures": rows,
          "throughput": t, "escalation": e, "programmes": pg, "workbench": wb}
json.dump(result, open("bench/results.json", "w"), indent=2, ensure_ascii=False)
print()
print("%-58s %12s %-9s %-18s %-5s %s" % ("figure", "value", "unit", "target", "met", "load"))
for r in rows:
    met = "" if r["met"] is None else ("yes" if r["met"] else "NO")
    v = r["value"]
    vs = ("%.0f" % v) if isinstance(v, float) and v >= 1000 else str(v)
    print("%-58s %12s %-9s %-18s %-5s %s" % (r["figure"], vs, r["unit"], r["target"] or "", met,
                                            "" if r["load_average"] is None else r["load_average"]))
print("\nwritten: bench/results.json (load = 1-minute load average when the figure was taken)")
sys.exit(0)
