#!/usr/bin/env bash
# make bench, part 2: escalation rounds held by the real escalator on the
# simulated clock, in three scenarios (issue 17), each on its own database:
#
#   subdistrict  the sample sub-district (12 L2, 111 L3 grids) after a year:
#                BENCH_SUB_CLOSED (1,000,000) closed cases of history and
#                BENCH_SUB_OPEN (2,250) open at the Monday slot, of which
#                BENCH_SUB_ESC_SHARE (0.3) past the weekly rule's grace.
#   county       BENCH_COUNTY_ROOTS (15) sub-districts shaped like the sample
#                (bench/county_directory.py, imported with gridctl: 180 L2
#                meetings at 09:00), BENCH_COUNTY_OPEN (2,000) open cases per
#                sub-district, BENCH_COUNTY_ESC_SHARE (0.4) past the grace,
#                BENCH_COUNTY_CLOSED (1,000,000) closed cases in all.  The
#                relay, intake, router and notifier run beside the escalator:
#                a subscriber replays BENCH_REPLAY (1,000,000) events from seq
#                0; a light open-loop feed through the intake (BENCH_FEED_RATE
#                200/s, in chunks of 5 s: bench_load) and staff actions
#                (`gridctl case progress`, one every 0.25 s) run for as long
#                as each round runs (and the feed 5 s before, without a
#                round); every service's peak RSS is read at the end.
#                BENCH_COUNTY_ESCALATORS (1) escalator instances share the
#                15 roots by lease (2: an HA pair, both working).
#   catchup      BENCH_CATCHUP_OPEN (100,000) open cases in the sample's one
#                root: first the Monday 2 Nov round (12 weekly meetings and
#                the monthly L1 meeting over all of them: its own figure),
#                then the escalator is stopped for four weeks and started at
#                Monday 30 Nov 09:00: it opens the missed meetings and lapses
#                those past close_within_hours, with their escalations.
#
# Meetings open at their slot (the agenda; nothing moves then) and escalate
# only when nobody closes them (the safety net, close_within_hours = 48 after
# the slot): the weekly figures are the 09:00 round (open) and the round 48 h
# later (lapse, with the escalations); the round is both together.
# Each round's wall time is read from the PostgreSQL log (the escalator's
# session logs every statement: bench/esc_round.py): from the moment the
# clock moved (or the escalator started, catch-up) to the end of the tick
# that held the last meeting.
#
# BENCH_SCALE (default 1) multiplies every case count (0.01: a run of a
# minute or two); the per-scenario variables above override it.
# BENCH_SCENARIOS (default "subdistrict county catchup") selects.
# BENCH_ROUND_TIMEOUT (default 600 s) bounds each round: past it the round
# is recorded as not complete.  Writes bench/out/escalation.json
# (bench/report.py builds the table).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BIN=$ROOT/bin
OUT=$ROOT/bench/out
mkdir -p "$OUT"
PSQL=/usr/lib/postgresql/15/bin/psql
source "$ROOT/bench/lib.sh"
SCALE=${BENCH_SCALE:-1}
sized() { awk -v n="$1" -v s="$SCALE" 'BEGIN { v = int(n * s + 0.5); print (v < 1 ? 1 : v) }'; }
SUB_CLOSED=${BENCH_SUB_CLOSED:-$(sized 1000000)}
SUB_OPEN=${BENCH_SUB_OPEN:-$(sized 2250)}
SUB_ESC=${BENCH_SUB_ESC_SHARE:-0.3}
COUNTY_ROOTS=${BENCH_COUNTY_ROOTS:-15}
COUNTY_OPEN=${BENCH_COUNTY_OPEN:-$(sized 2000)}
COUNTY_ESC=${BENCH_COUNTY_ESC_SHARE:-0.4}
COUNTY_CLOSED=${BENCH_COUNTY_CLOSED:-$(sized 1000000)}
COUNTY_ESCALATORS=${BENCH_COUNTY_ESCALATORS:-1}
CATCHUP_OPEN=${BENCH_CATCHUP_OPEN:-$(sized 100000)}
REPLAY=${BENCH_REPLAY:-1000000}
FEED_RATE=${BENCH_FEED_RATE:-200}
SCENARIOS=${BENCH_SCENARIOS:-subdistrict county catchup}
TIMEOUT=${BENCH_ROUND_TIMEOUT:-600}
TOOLS=${GF_TEST_TOOLS:-$ROOT/build/tools}
# The benchmark drives the simulated clock (clock/simulated), and its own
# psql sessions follow it as the services do.
export GF_SIM_CLOCK=on GF_CLOCK_MAX_JUMP=8784 PGOPTIONS="${PGOPTIONS:-} -c gridflow.sim_clock=on"
PB=${BENCH_PORT_BASE:-16570}
export GF_CURVE=${GF_CURVE:-off} # loopback, plain TCP (docs/security.md)
export GF_INTAKE=tcp://127.0.0.1:$((PB + 3)) GF_PUB=tcp://127.0.0.1:$((PB + 4)) GF_REPLAY=tcp://127.0.0.1:$((PB + 5))
export GF_APP=tcp://127.0.0.1:$((PB + 7)) # the notifier's app push

deploy/pg.sh start
PGLOG=${GF_VAR:-$ROOT/var}/log/postgresql.log
PIDS=()
stop_all() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
}
trap stop_all EXIT
loadavg() { cut -d' ' -f1 /proc/loadavg; }
sql() { "$PSQL" -X -q -t -A -v ON_ERROR_STOP=1 -d "$GF_DB" -c "$1"; }

# A fresh database with directory FILE, the calendar, the clock at AT.
new_db() {
  local db=$1 dir=$2 at=$3
  PGOPTIONS="-c client_min_messages=warning" deploy/pg.sh psql -X -q -d postgres \
    -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  GF_DB=$(deploy/pg.sh conninfo "$db")
  export GF_DB
  "$BIN/gridctl" db migrate >/dev/null 2>&1
  "$BIN/gridctl" grids import "$dir" >/dev/null
  "$BIN/gridctl" calendar import >/dev/null 2>&1
  "$BIN/gridctl" clock set "$at" >/dev/null
  # Only the rounds are measured: sign-for reminders (which would fire for
  # every routed case here) are switched off for this database.
  sql "UPDATE notification_rules SET enabled = false WHERE event_type = 'sign.reminder'"
}

# load_cases SLOT CLOSED OPEN_PER_ROOT ESC_SHARE SPREAD_MIN: cases over every
# L3 grid of the directory, by SQL, each with its events (sequenced, in time
# order).  CLOSED cases received during the year before SLOT, each closed
# 1-6 days later (before the slot).  OPEN_PER_ROOT open cases per L1 grid
# (one in five signed, the rest routed), at L3: a share ESC_SHARE received
# 5 days to SPREAD_MIN minutes before the slot (past the weekly rule's grace
# of 2 working days), the rest during the 60 hours before it (within).
load_cases() {
  local slot=$1 closed=$2 open=$3 share=$4 spread=$5
  sql "CREATE TEMP TABLE l3 AS SELECT array_agg (code ORDER BY code) AS codes FROM grids WHERE level = 3;
       INSERT INTO cases (id, source, source_ref, root, grid, state, tier, description, received_at,
                          routed_at, closed_at, category)
       SELECT i, 'hotline', 'BENCH-' || i, split_part (g, '.', 1), g, 'closed', 'resolved',
              '小区路灯不亮，晚上出行不便', r, r + interval '1 minute',
              r + least (make_interval (days => (1 + i % 6)::int), ('$slot'::timestamptz - r) / 2), 'power'
         FROM generate_series (1, $closed) i, l3,
              LATERAL (SELECT l3.codes[1 + i % array_length (l3.codes, 1)] AS g,
                              '$slot'::timestamptz - interval '1 hour'
                                - make_interval (secs => i::float8 * 31536000 / $closed) AS r) x
        WHERE $closed > 0;
       INSERT INTO cases (id, source, source_ref, root, grid, state, description, received_at,
                          routed_at, signed_at, category)
       SELECT $closed + i, 'hotline', 'BENCH-' || ($closed + i), split_part (g, '.', 1), g,
              CASE WHEN i % 5 = 0 THEN 'signed' ELSE 'routed' END, '小区路灯不亮，晚上出行不便', r,
              r + interval '1 minute', CASE WHEN i % 5 = 0 THEN r + interval '2 minutes' END, 'power'
         FROM generate_series (1, $open * (SELECT count (*) FROM grids WHERE level = 1)) i, l3,
              LATERAL (SELECT l3.codes[1 + i % array_length (l3.codes, 1)] AS g,
                              CASE WHEN (i * 7919) % 1000 < 1000 * $share
                                   THEN '$slot'::timestamptz - interval '5 days'
                                          - make_interval (mins => (i % greatest (1, $spread - 7200))::int)
                                   ELSE '$slot'::timestamptz - make_interval (mins => (1 + i % 3600)::int)
                              END AS r) x;
       SELECT setval ('cases_id_seq', (SELECT max (id) FROM cases));
       INSERT INTO case_events (seq, type, topic, case_id, grid, at, payload)
       SELECT row_number () OVER (ORDER BY at, case_id, k), type, type || '/' || grid, case_id, grid, at, payload
         FROM (SELECT id AS case_id, 1 AS k, 'case.received' AS type, root AS grid, received_at AS at,
                      '{}'::jsonb AS payload FROM cases
               UNION ALL
               SELECT id, 2, 'case.routed', grid, routed_at, '{}' FROM cases
               UNION ALL
               SELECT id, 3, 'case.signed', grid, signed_at, '{\"from\": \"routed\", \"to\": \"signed\"}'
                 FROM cases WHERE signed_at IS NOT NULL
               UNION ALL
               SELECT id, 4, 'case.closed', grid, closed_at, '{\"from\": \"called_back\", \"to\": \"closed\"}'
                 FROM cases WHERE closed_at IS NOT NULL) e
        ORDER BY 1;
       ANALYZE" >/dev/null
  # The history is old on a real server: its pages are on disk long before
  # the round.  Without this, the load's last gigabyte of WAL set off
  # checkpoints (11-15 s apart) whose writes and fsyncs fell into the rounds.
  sql "CHECKPOINT" >/dev/null
}

ESCS=()
# start_escalator NAME [N]: N instances (default 1), sharing the L1 roots by
# lease as a deployment of N escalators does (docs/operations.md, "Adding an
# escalator instance").
start_escalator() {
  local i
  for ((i = 0; i < ${2:-1}; i++)); do
    # Its own session logs every statement (bench/esc_round.py reads them).
    PGOPTIONS="$PGOPTIONS -c log_min_duration_statement=0" "$BIN/gf-escalator" 2>>"$OUT/escalator-$1.log" &
    ESCS+=($!)
    PIDS+=($!)
  done
}
stop_escalator() {
  local kept=() p e
  kill -TERM "${ESCS[@]}" 2>/dev/null || true
  for e in "${ESCS[@]}"; do wait "$e" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do [[ " ${ESCS[*]} " == *" $p "* ]] || kept+=("$p"); done
  PIDS=("${kept[@]}")
  ESCS=()
}
# The escalators' backend pids, comma-separated (one per instance).
esc_backend() {
  local pids=
  until [ "$(tr ',' '\n' <<<"$pids" | grep -c .)" -ge "${#ESCS[@]}" ]; do
    pids=$(sql "SELECT string_agg (pid::text, ',' ORDER BY pid) FROM pg_stat_activity
                 WHERE application_name = 'gf-escalator' AND datname = current_database ()")
    [ -n "$pids" ] || sleep 0.1
  done
  echo "$pids"
}
# Waits until the escalators' first ticks have recorded every L1 grid, and
# every instance holds its share of the roots' leases.
esc_ready() {
  until [ "$(sql "SELECT count (*) = (SELECT count (*) FROM grids WHERE level = 1) FROM escalation_state")" = t ]; do
    sleep 0.1
  done
  until [ "$(sql "SELECT count (DISTINCT holder) FROM leases
                   WHERE name LIKE 'escalator.root.%' AND holder <> '' AND expires_at > clock_timestamp ()")" -ge "${#ESCS[@]}" ]; do
    sleep 0.1
  done
}

# round NAME CLOCK_AT DONE_SQL: moves the clock to CLOCK_AT (empty: the
# escalator was just started, at T_START) and waits until DONE_SQL is true;
# writes bench/out/round_NAME.json.
round() {
  local name=$1 at=$2 done_sql=$3 la t1 off
  la=$(loadavg)
  off=$(stat -c %s "$PGLOG")
  if [ -n "$at" ]; then
    t1=$(date +%s.%N)
    "$BIN/gridctl" clock set "$at" >/dev/null
  else
    t1=$T_START
  fi
  local deadline=$((SECONDS + TIMEOUT)) complete=true
  until [ "$(sql "SELECT ($done_sql)")" = t ]; do
    if [ $SECONDS -ge $deadline ]; then complete=false; break; fi
    sleep 0.2
  done
  # The rest of the tick (urgent, reminders): until its last statement is
  # in the log (at most 60 s more).
  local pid tz tries=0
  pid=$(esc_backend)
  tz=$(sql "SHOW log_timezone")
  while :; do
    sleep 0.5
    python3 bench/esc_round.py "$PGLOG" "$off" "$t1" "$pid" "$tz" >"$OUT/round_$name.tmp"
    tries=$((tries + 1))
    grep -q '"round_seconds": null' "$OUT/round_$name.tmp" && [ $tries -lt 120 ] && [ $complete = true ] || break
  done
  python3 - "$OUT/round_$name.tmp" "$la" "$(loadavg)" "$complete" \
    "$(sql "SELECT count (*) FROM escalations")" "$(sql "SELECT count (*) FROM meetings")" \
    >"$OUT/round_$name.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r.update({"load_before": float(sys.argv[2]), "load_after": float(sys.argv[3]),
          "complete": sys.argv[4] == "true", "escalations_total": int(sys.argv[5]),
          "meetings_total": int(sys.argv[6])})
if not r["complete"]:
    r["round_seconds"] = None
print(json.dumps(r))
PY
  rm -f "$OUT/round_$name.tmp"
  printf '%s: %s\n' "$name" "$(cat "$OUT/round_$name.json")" >&2
}

# settle: what the 48 hours between the 09:00 round and its lapse do to
# the tables the round wrote: autovacuum's ANALYZE (in production within
# minutes of the round; here the clock moves a second later, and the lapse's
# statements were planned on statistics of an empty ledger_entries).  Not
# timed.
settle() { sql "ANALYZE meetings, ledger_entries, notifications, deliveries" >/dev/null; }

MON=2026-11-16T09:00:00+08:00 # a weekly slot (not a monthly one)
WED=2026-11-18T09:00:00+08:00 # its meetings lapse: slot + 48 h
weekly_open() { echo "(SELECT count (*) FROM meetings WHERE kind = 'weekly' AND slot_at = '$MON') = $1"; }
weekly_lapsed() { echo "(SELECT count (*) FROM meetings WHERE kind = 'weekly' AND slot_at = '$MON' AND state = 'lapsed') = $1"; }

# --- sub-district year ---------------------------------------------------------
if [[ " $SCENARIOS " == *" subdistrict "* ]]; then
  rm -f "$OUT"/escalator-sub.log "$OUT"/round_sub_*.json "$OUT"/esc_subdistrict.json
  new_db gf_bench_sub deploy/sample/qingnianlu.json 2026-11-16T08:00:00+08:00
  la=$(loadavg)
  t0=$(date +%s.%N)
  load_cases "$MON" "$SUB_CLOSED" "$SUB_OPEN" "$SUB_ESC" 43200
  echo "sub-district: $(sql "SELECT count (*) FILTER (WHERE state = 'closed') || ' closed, ' || count (*) FILTER (WHERE state <> 'closed') || ' open'
        FROM cases") loaded in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }') s (load $la)" >&2
  start_escalator sub
  esc_ready
  round sub_open "$MON" "$(weekly_open 12)"
  settle
  round sub_lapse "$WED" "$(weekly_lapsed 12)"
  stop_escalator
  python3 - "$SUB_CLOSED" "$SUB_OPEN" "$(sql "SELECT count (*) FROM ledger_entries")" >"$OUT/esc_subdistrict.json" <<'PY'
import json, sys
print(json.dumps({"closed": int(sys.argv[1]), "open": int(sys.argv[2]), "ledger_entries": int(sys.argv[3]),
                  "open_round": json.load(open("bench/out/round_sub_open.json")),
                  "lapse_round": json.load(open("bench/out/round_sub_lapse.json"))}))
PY
fi

# --- county ------------------------------------------------------------------------
if [[ " $SCENARIOS " == *" county "* ]]; then
  rm -f "$OUT"/esc_county.json "$OUT"/escalator-county.log "$OUT"/round_county_*.json "$OUT"/county_* "$OUT"/replay.json
  python3 bench/county_directory.py deploy/sample/qingnianlu.json "$COUNTY_ROOTS" >"$OUT/county.json"
  new_db gf_bench_county "$OUT/county.json" 2026-11-16T08:00:00+08:00
  t0=$(date +%s.%N)
  load_cases "$MON" "$COUNTY_CLOSED" "$COUNTY_OPEN" "$COUNTY_ESC" 43200
  echo "county: $(sql "SELECT count (*) FILTER (WHERE state = 'closed') || ' closed, ' || count (*) FILTER (WHERE state <> 'closed') || ' open'
        FROM cases") loaded in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }') s" >&2
  # The other services on the same database.  Router and notifier start at
  # the head: they are here to hold the cases, not to re-route them.
  HEAD=$(sql "SELECT coalesce (max (seq), 0) FROM case_events")
  [ "$REPLAY" -le "$HEAD" ] || REPLAY=$HEAD
  sql "INSERT INTO consumer_checkpoints (consumer, last_seq) VALUES ('router', $HEAD), ('notifier', $HEAD)
       ON CONFLICT (consumer) DO UPDATE SET last_seq = EXCLUDED.last_seq"
  SVCS=(relay intake router notifier)
  declare -A SVC_PID
  for svc in "${SVCS[@]}"; do
    "$BIN/gf-$svc" 2>"$OUT/$svc-county.log" &
    SVC_PID[$svc]=$!
    PIDS+=($!)
  done
  sleep 1
  la_replay=$(loadavg)
  "$TOOLS/bench_replay" "$GF_PUB" "$GF_REPLAY" "$REPLAY" 600000 >"$OUT/replay.json" || true
  cat "$OUT/replay.json" >&2
  GRIDS=$(sql "SELECT string_agg (code, ',' ORDER BY code) FROM grids WHERE level = 3")
  # Staff actions: open signed cases within the grace (no round moves them),
  # each acted on by its L3 grid's leader.
  sql "SELECT c.id || ' ' || p.id || ' ' || c.version FROM cases c
         JOIN people p ON p.grid = c.grid AND p.role = 'leader'
        WHERE c.state = 'signed' AND c.received_at > '$MON'::timestamptz - interval '60 hours'
        ORDER BY c.id LIMIT 400" >"$OUT/county_actions.txt"
  # While a round runs (until MARK goes): the feed, in chunks of 5 s, and a
  # staff action every 0.25 s (its reply time on one connection, as the
  # workbench's gateway sends it: tests/tools/action_pace; until 6 Dec this
  # was `gridctl case progress`'s wall time, which adds a process start, a
  # database connection and a query to each).
  ACT_LINE=1
  ACT_TOTAL=$(wc -l <"$OUT/county_actions.txt")
  MARK=$OUT/county_round_running
  busy() {
    local name=$1
    touch "$MARK"
    (
      k=1
      while [ -e "$MARK" ]; do
        "$TOOLS/bench_load" "$GF_INTAKE" "$GF_PUB" "$GRIDS" "$FEED_RATE" 5 0 "c$name$k$$" \
          >"$OUT/county_feed_${name}_$k.json" 2>/dev/null || true
        k=$((k + 1))
      done
    ) &
    FEED=$!
    # What the bench database's backends wait for, sampled every 50 ms
    # while the feed runs (and a "tick" row each time: a gap between them is
    # PostgreSQL, or the machine, not answering): where a stall of the acks
    # came from (waits in esc_county.json).
    "$PSQL" -X -q -t -A -F'|' -d "$GF_DB" >"$OUT/county_waits_$name.txt" 2>/dev/null <<'SQL' &
SELECT (extract (epoch FROM clock_timestamp ()) * 1000)::bigint, '-', 'tick', 0, ''
UNION ALL
SELECT (extract (epoch FROM clock_timestamp ()) * 1000)::bigint,
       coalesce (nullif (application_name, ''), backend_type),
       wait_event_type || ':' || wait_event, pid, state_change::text
  FROM pg_stat_activity
 WHERE datname = current_database () AND state = 'active' AND pid <> pg_backend_pid ()
   AND wait_event_type NOT IN ('Activity', 'Client') \watch 0.05
SQL
    WAITS=$!
    echo "$ACT_LINE" >"$OUT/county_actions_next"
    if [ "$ACT_TOTAL" -gt 0 ]; then
      "$TOOLS/action_pace" "$GF_INTAKE" 250 "$MARK" "$ACT_LINE" "$OUT/county_actions_next" \
        <"$OUT/county_actions.txt" >>"$OUT/county_actions_$name.txt" 2>>"$OUT/county_actions_$name.err" &
    else
      true &
    fi
    ACTS=$!
  }
  unbusy() {
    rm -f "$MARK"
    kill "$WAITS" 2>/dev/null || true
    wait "$WAITS" 2>/dev/null || true
    wait "$FEED" || true
    wait "$ACTS" || true
    ACT_LINE=$(cat "$OUT/county_actions_next")
  }
  # The same without a round (the escalator not started yet): 5 s.
  la_feed=$(loadavg)
  busy quiet
  sleep 5
  unbusy
  # The CPU seconds of every backend and service (bench/lib.sh), taken
  # before and after each round: where the round's two cores went
  # (docs/performance.md).
  round_cpu() {
    local args=() svc e
    for e in "${ESCS[@]}"; do args+=(gf-escalator "$e"); done
    for svc in "${SVCS[@]}"; do args+=("gf-$svc" "${SVC_PID[$svc]}"); done
    cpu_snap "$1" "${args[@]}"
  }
  start_escalator county "$COUNTY_ESCALATORS"
  esc_ready
  busy open
  sleep 1
  round_cpu "$OUT/county_cpu_open_0.txt"
  round county_open "$MON" "$(weekly_open $((12 * COUNTY_ROOTS)))"
  round_cpu "$OUT/county_cpu_open_1.txt"
  unbusy
  settle
  busy lapse
  sleep 1
  round_cpu "$OUT/county_cpu_lapse_0.txt"
  round county_lapse "$WED" "$(weekly_lapsed $((12 * COUNTY_ROOTS)))"
  round_cpu "$OUT/county_cpu_lapse_1.txt"
  unbusy
  {
    printf 'escalator %s\n' "$(for e in "${ESCS[@]}"; do awk '/VmHWM/ {print $2}' "/proc/$e/status"; done | sort -n | tail -1)"
    for svc in "${SVCS[@]}"; do
      printf '%s %s\n' "$svc" "$(awk '/VmHWM/ {print $2}' "/proc/${SVC_PID[$svc]}/status")"
    done
  } >"$OUT/county_rss.txt"
  stop_all
  python3 - "$COUNTY_ROOTS" "$COUNTY_CLOSED" "$COUNTY_OPEN" "$la_replay" "$la_feed" \
    "$(sql "SELECT count (*) FROM ledger_entries")" "$COUNTY_ESCALATORS" >"$OUT/esc_county.json" <<'PY'
import collections, json, sys, time
out = "bench/out/"
def acts(name):
    xs = [l.strip() for l in open(out + "county_actions_%s.txt" % name) if l.strip()] \
        if __import__("os").path.exists(out + "county_actions_%s.txt" % name) else []
    ok = sorted(int(x) / 1000 for x in xs if x != "failed")
    pick = lambda q: round(ok[min(len(ok) - 1, int(q * len(ok)))], 1) if ok else None
    return {"n": len(ok), "failed": len(xs) - len(ok), "p50_ms": pick(0.5), "p99_ms": pick(0.99),
            "max_ms": ok[-1] if ok else None}
def load(p):
    try:
        return json.load(open(out + p))
    except Exception:
        return None
def cpu(name):
    # CPU seconds during the round, by backend (application_name) and process
    def snap(k):
        t = {}
        for l in open(out + "county_cpu_%s_%d.txt" % (name, k)):
            f = l.split()
            if len(f) < 3:
                continue
            who = " ".join(f[:-1])
            t[who] = t.get(who, 0) + float(f[-1])
        return t
    try:
        a, b = snap(0), snap(1)
    except Exception:
        return None
    return {k: round(b[k] - a.get(k, 0), 2) for k in sorted(b)}
def feed(name):
    # the 5 s chunks of the feed during the round: the worst chunk's p99
    # (percentiles of chunks do not merge; the worst is the honest bound)
    import glob
    chunks = [json.load(open(p)) for p in sorted(glob.glob(out + "county_feed_%s_*.json" % name))
              if __import__("os").path.getsize(p) > 0]
    if not chunks:
        return None
    worst = max(chunks, key=lambda c: c["ack_ms"]["max"])
    return {"rate": chunks[0]["rate"], "chunks": len(chunks),
            "sent": sum(c["sent"] for c in chunks), "acked": sum(c["acked"] for c in chunks),
            "failed": sum(c["failed"] for c in chunks), "seen": sum(c["seen"] for c in chunks),
            "ack_ms": {"p50_chunks": [c["ack_ms"]["p50"] for c in chunks],
                       "p99": max(c["ack_ms"]["p99"] for c in chunks),
                       "p99_chunks": [c["ack_ms"]["p99"] for c in chunks],
                       "max": worst["ack_ms"]["max"],
                       # when the slowest ack's request was due (epoch ms; waits)
                       "max_at_ms": worst.get("ack_worst_at_ms")},
            "end_to_end_ms": {"p99": max(c["end_to_end_ms"]["p99"] for c in chunks)}}
def waits(name, fed):
    # The samples (every 50 ms) of the backends waiting while the feed ran:
    # by who and what for, the ten most frequent; the longest single wait
    # seen (one backend, one statement, the same wait in consecutive
    # samples); the longest gap between the sampler's own ticks; and what
    # was sampled while the feed's slowest acknowledgement was pending
    # (fed: feed (name)).
    try:
        rows = [l.rstrip("\n").split("|") for l in open(out + "county_waits_%s.txt" % name)]
    except OSError:
        return None
    rows = [r for r in rows if len(r) == 5 and r[0].isdigit()]
    ticks = sorted(int(r[0]) for r in rows if r[1] == "-")
    rows = [r for r in rows if r[1] != "-"]
    top = lambda rs: collections.Counter(r[1] + " " + r[2] for r in rs).most_common(10)
    first, worst = {}, None
    for t, who, what, pid, since in rows:
        if what.startswith("Timeout:") or who == "autovacuum worker":
            # a sleep it chose (the cost delay), or a vacuum's many short
            # reads in one long statement, which would look like one wait
            continue
        one = (pid, since, what)
        first.setdefault(one, int(t))
        if not worst or int(t) - first[one] > worst[1]:
            worst = (who + " " + what, int(t) - first[one], int(t))
    hhmmss = lambda ms: time.strftime("%H:%M:%S", time.gmtime(ms / 1000)) + ".%03d" % (ms % 1000)
    gap = max(((b - a, b) for a, b in zip(ticks, ticks[1:])), default=(0, 0))
    during = None
    if fed and fed["ack_ms"]["max_at_ms"]:
        lo = fed["ack_ms"]["max_at_ms"]
        hi = lo + fed["ack_ms"]["max"]
        inside = [t for t in ticks if lo <= t <= hi]
        during = {"from": hhmmss(lo), "ms": fed["ack_ms"]["max"],
                  "sampler_gap_ms": max((b - a for a, b in zip([lo] + inside, inside + [hi]))),
                  "top": top([r for r in rows if lo <= int(r[0]) <= hi])}
    return {"every_ms": 50, "ticks": len(ticks), "samples": len(rows), "top": top(rows),
            "longest": {"who_what": worst[0], "at_least_ms": worst[1], "ending": hhmmss(worst[2])}
            if worst else None,
            "sampler_gap_ms": gap[0], "sampler_gap_ending": hhmmss(gap[1]) if gap[1] else None,
            "during_slowest_ack": during}
roots, closed, open_, la_replay, la_feed, entries, escalators = sys.argv[1:]
fed = {k: feed(k) for k in ("quiet", "open", "lapse")}
print(json.dumps({"roots": int(roots), "escalators": int(escalators), "closed": int(closed),
                  "open_per_root": int(open_),
                  "open": int(open_) * int(roots), "ledger_entries": int(entries),
                  "open_round": load("round_county_open.json"),
                  "lapse_round": load("round_county_lapse.json"),
                  "feed_quiet": fed["quiet"], "actions_quiet": acts("quiet"),
                  "feed_open": fed["open"], "feed_lapse": fed["lapse"],
                  "actions_open": acts("open"), "actions_lapse": acts("lapse"),
                  "replay": load("replay.json"),
                  "cpu_s": {"open": cpu("open"), "lapse": cpu("lapse")},
                  "waits": {k: waits(k, fed[k]) for k in fed},
                  "rss_kib": {l.split()[0]: int(l.split()[1]) for l in open(out + "county_rss.txt")},
                  "load": {"replay": float(la_replay), "feed_quiet": float(la_feed)}}))
PY
fi

# --- catch-up (and the monthly L1 meeting over 100,000 open cases) --------------
if [[ " $SCENARIOS " == *" catchup "* ]]; then
  rm -f "$OUT"/esc_catchup.json "$OUT"/escalator-catchup*.log "$OUT"/round_catchup*.json "$OUT"/round_monthly.json
  M1=2026-11-02T09:00:00+08:00 # weekly and monthly slot
  new_db gf_bench_catchup deploy/sample/qingnianlu.json 2026-11-02T08:00:00+08:00
  # open cases received during the 60 days before the slot
  load_cases "$M1" 0 "$CATCHUP_OPEN" 0.93 86400
  start_escalator catchup
  esc_ready
  round monthly "$M1" "(SELECT count (*) FROM meetings WHERE slot_at = '$M1') = 13"
  # the root's monthly meetings of the slot (one: its L1 grid's), one transaction
  monthly_ms=$(grep -o '1 monthly meetings of .* opened in [0-9]* ms' "$OUT/escalator-catchup.log" \
    | sed 's/.* in \([0-9]*\) ms/\1/' | head -1)
  stop_escalator
  # Four weeks without an escalator: Monday 30 Nov 09:00.
  "$BIN/gridctl" clock set 2026-11-30T09:00:00+08:00 >/dev/null
  T_START=$(date +%s.%N)
  start_escalator catchup2
  round catchup "" "(SELECT count (*) FROM gf_due_meetings ()) = 0 AND (SELECT count (*) FROM gf_due_lapses ()) = 0
                    AND (SELECT count (*) FROM meetings) > 13"
  stop_escalator
  python3 - "$CATCHUP_OPEN" "${monthly_ms:-}" "$(sql "SELECT count (*) FROM meetings WHERE state = 'lapsed'")" \
    >"$OUT/esc_catchup.json" <<'PY'
import json, sys
print(json.dumps({"open": int(sys.argv[1]),
                  "monthly_ms_escalator_log": int(sys.argv[2]) if sys.argv[2] else None,
                  "monthly_round": json.load(open("bench/out/round_monthly.json")),
                  "lapsed_meetings": int(sys.argv[3]),
                  "catchup_round": json.load(open("bench/out/round_catchup.json"))}))
PY
fi

python3 - <<'PY'
import json, os
out = "bench/out/"
r = {}
for k in ("subdistrict", "county", "catchup"):
    if os.path.exists(out + "esc_%s.json" % k):
        r[k] = json.load(open(out + "esc_%s.json" % k))
json.dump(r, open(out + "escalation.json", "w"), indent=2)
PY
echo "written: bench/out/escalation.json" >&2
