#!/usr/bin/env python3
"""make bench, last step: joins bench/out/throughput.json (bench/bench.sh),
bench/out/escalation.json (bench/escalation_bench.sh: the sub-district,
county and catch-up scenarios), bench/out/programmes.json
(bench/programmes_bench.sh) and bench/out/workbench.json
(bench/workbench_bench.sh) into
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
    mix = t.get("open_mix")
    if mix:
        label = "mixed open loop %.0f complaints/s + 4 staff actions each" % mix["rate"]
        for kind in ("ack", "end_to_end", "action"):
            d = mix[kind + "_ms"]
            for p in ("p50", "p99", "max"):
                row("%s: %s %s" % (label, kind.replace("_", " "), p), d[p], "ms",
                    la=la["open_mix"])
        bad = mix["actions_failed"] + (mix["acked"] - mix["chains_done"])
        row("%s: actions refused or not finished" % label, bad, "cases", "0", bad == 0,
            la["open_mix"])
    for run, d in t.get("drain", {}).items():
        row("deliveries out (SMS sent, app acknowledged) after %s: seconds after the run"
            % run.replace("_", " "), d["seconds"], "s", la=la[run])
        row("deliveries still out after %s (180 s at most)" % run.replace("_", " "), d["left"],
            "deliveries", "0", d["left"] == 0, la[run])
    sk = t.get("sinks")
    if sk:
        dv = t.get("deliveries", {})
        row("SMS sink: distinct messages received", sk["sms_keys"], "messages",
            "= deliveries sms.sent (%s)" % dv.get("sms.sent", 0),
            sk["sms_keys"] == dv.get("sms.sent", 0))
        row("SMS sink: duplicate requests (same Idempotency-Key)", sk["sms_duplicates"], "requests")
        row("app sink: distinct messages received", sk["app_deliveries"], "messages",
            "= deliveries app.acked (%s)" % dv.get("app.acked", 0),
            sk["app_deliveries"] == dv.get("app.acked", 0))
        row("app sink: apps signed in", sk["apps_signed_in"], "of %d" % sk["apps"],
            "all", sk["apps_signed_in"] == sk["apps"])
        row("sinks CPU (all runs)", t["sinks_cpu_s"], "s")
    for svc, kib in t["rss_kib"].items():
        row("peak RSS %s (throughput runs)" % svc, round(kib / 1024, 1), "MiB")
def esc_round(label, r, target=None, limit=None):
    """One round's row: its wall time, or NOT complete."""
    if r is None:
        return None
    la = r.get("load_before")
    if r.get("round_seconds") is None:
        row("%s: NOT complete (meetings held)" % label, r.get("meetings_total"), "meetings",
            target, False if target else None, la)
        return None
    row(label, r["round_seconds"], "s", target, r["round_seconds"] <= limit if target else None, la)
    return r["round_seconds"]


def esc_pair(name, sc, meetings, limit):
    """A scenario's 09:00 round (agendas) and its lapse round 48 h later
    (the escalations), and the two together against the target."""
    o, lp = sc.get("open_round"), sc.get("lapse_round")
    a = esc_round("%s: 09:00 round, %d meetings opened" % (name, meetings), o)
    b = esc_round("%s: lapse round 48 h later, %d escalations" % (name, (lp or {}).get("escalations_total", 0)), lp)
    if a is not None and b is not None:
        row("%s: round (09:00 + lapse)" % name, round(a + b, 3), "s", "<= %g s" % limit,
            a + b <= limit, max(o["load_before"], lp["load_before"]))
    elif o is not None or lp is not None:
        row("%s: round (09:00 + lapse): not complete" % name, None, "s", "<= %g s" % limit, False)


def lat_row(label, value, la, limit=20):
    if value is None:
        row(label + ": no sample", None, "ms", "<= %d ms" % limit, False, la)
    else:
        row(label, round(value, 1), "ms", "<= %d ms" % limit, value <= limit, la)


if e:
    sd = e.get("subdistrict")
    if sd:
        esc_pair("sub-district year (%d closed, %d open)" % (sd["closed"], sd["open"]), sd, 12, 1)
    co = e.get("county")
    if co:
        name = "county (%d L1, %d open, %d closed)" % (co["roots"], co["open"], co["closed"])
        esc_pair(name, co, 12 * co["roots"], 5)
        if co.get("feed_quiet"):
            row("county, no round: intake ack p99 (%g/s)" % co["feed_quiet"]["rate"],
                co["feed_quiet"]["ack_ms"]["p99"], "ms", la=co["load"]["feed_quiet"])
        if (co.get("actions_quiet") or {}).get("n"):
            row("county, no round: staff action reply p50 / p99 (%d actions)" % co["actions_quiet"]["n"],
                "%s / %s" % (co["actions_quiet"]["p50_ms"], co["actions_quiet"]["p99_ms"]), "ms",
                la=co["load"]["feed_quiet"])
        for key, label in (("open", "09:00 round"), ("lapse", "lapse round")):
            la = (co.get(key + "_round") or {}).get("load_before")
            f = co.get("feed_" + key)
            lat_row("county, during the %s: intake ack p99 (%g/s)" % (label, f["rate"] if f else 0),
                    f["ack_ms"]["p99"] if f else None, la)
            a = co.get("actions_" + key) or {}
            lat_row("county, during the %s: staff action reply p99 (%d actions, %d failed)"
                    % (label, a.get("n", 0), a.get("failed", 0)), a.get("p99_ms"), la)
            c = (co.get("cpu_s") or {}).get(key)
            if c:
                # where the round's cores went: the escalator's backend,
                # the other backends (the feed's steps and the round's
                # events), the services
                esc = c.get("backend gf-escalator", 0)
                others = sum(v for k, v in c.items()
                             if k.startswith("backend ") and k != "backend gf-escalator")
                procs = sum(v for k, v in c.items() if k.startswith("process "))
                row("county, during the %s: CPU s of the escalator's backend / the other backends"
                    " / the services" % label, "%.2f / %.2f / %.2f" % (esc, others, procs), "s", la=la)
        rp = co.get("replay")
        if rp:
            row("replay %d events to a subscriber" % rp["events"], rp["events_per_s"], "events/s",
                ">= 500000/s", rp["events_per_s"] >= 500000 and rp["dense_in_order"],
                co["load"]["replay"])
        for svc, kib in co["rss_kib"].items():
            row("peak RSS %s at the county size" % svc, round(kib / 1024, 1), "MiB",
                "< 64 MiB", kib < 64 * 1024)
    cu = e.get("catchup")
    if cu:
        mo = cu.get("monthly_round") or {}
        ms = cu.get("monthly_ms_escalator_log")
        row("monthly L1 meeting over %d open cases in one root" % cu["open"],
            None if ms is None else round(ms / 1000, 2), "s", "<= 5 s",
            ms is not None and ms <= 5000, mo.get("load_before"))
        r = cu.get("catchup_round")
        esc_round("catch-up after a four-week outage (%d open): %d meetings, %d lapsed, %d escalations"
                  % (cu["open"], (r or {}).get("meetings_total", 0) - 13, cu.get("lapsed_meetings", 0),
                     (r or {}).get("escalations_total", 0)), r, "<= 60 s", 60)
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
