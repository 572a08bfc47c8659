#!/usr/bin/env python3
"""bench/escalation_bench.sh's clock for one escalation round, read from
the PostgreSQL log: the escalator runs with log_min_duration_statement = 0
(its own session only), so every statement it runs is logged with its end
time and duration.  The round starts when the benchmark moved the simulated
clock (or started the escalator), and ends when the escalator's tick that
held the last meeting (gf_open_meeting or gf_lapse_meeting) ran its last
statement (gf_field_reminders).

usage: esc_round.py LOG OFFSET T_START PIDS LOG_TIMEZONE
  LOG        the cluster's log file;  OFFSET  its size before the round
  T_START    epoch seconds when the round started
  PIDS       the escalators' backend pids (pg_stat_activity), comma-separated:
             with several instances (each holding some of the L1 roots) the
             round ends when the last of their ticks holding a meeting ends
Prints one JSON object: round_seconds (null when the tick did not end),
open_ms (each statement opening meetings: one per L1 root, kind and slot,
gf_open_meetings) and lapse_ms (each lapse's statement), urgent_ms (the tick's
urgent escalations), statements (how many the round ran), first_statement_end_s
(when the first of them ended: the wake-up), busy_ms (their durations' sum)."""
import datetime
import json
import re
import sys
import zoneinfo

log, offset, t_start, pids, tz = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4].split(","), sys.argv[5]
zone = zoneinfo.ZoneInfo(tz)
line_re = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) \S+ \[(\d+)\] LOG:  duration: ([0-9.]+) ms  (.*)$")
stmts = {pid: [] for pid in pids}  # per backend: (end epoch, ms, text)
with open(log, "rb") as f:
    f.seek(offset)
    for raw in f:
        m = line_re.match(raw.decode("utf-8", "replace").rstrip("\n"))
        if not m or m.group(2) not in stmts:
            continue
        at = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=zone)
        text = m.group(4)
        if text.startswith("execute") or text.startswith("statement:"):
            stmts[m.group(2)].append((at.timestamp(), float(m.group(3)), text))


def tick_end(own):
    """The end of the tick that held the backend's last meeting statement:
    None when it held none, or False when that tick has not ended yet."""
    last = max((i for i, s in enumerate(own) if "gf_open_meeting" in s[2] or "gf_lapse_meeting" in s[2]),
               default=None)
    if last is None:
        return None
    return next((s[0] for s in own[last:] if "gf_field_reminders" in s[2]), False)


ends = []
inside = []
for pid in pids:
    own = [s for s in stmts[pid] if s[0] >= t_start]
    e = tick_end(own)
    ends.append(e)
    inside += [s for s in own if not e or s[0] <= e]
held = [e for e in ends if e is not None]
end = max(held) if held and False not in held else None
inside.sort()
print(json.dumps({
    "round_seconds": round(end - t_start, 3) if end else None,
    "open_ms": [round(s[1], 1) for s in inside if "gf_open_meeting" in s[2]],
    "lapse_ms": [round(s[1], 1) for s in inside if "gf_lapse_meeting" in s[2]],
    "urgent_ms": [round(s[1], 1) for s in inside if "gf_escalate_urgent" in s[2]],
    "statements": len(inside),
    "first_statement_end_s": round(inside[0][0] - t_start, 3) if inside else None,
    "busy_ms": round(sum(s[1] for s in inside), 1)}))
