#!/usr/bin/env bash
# The benchmark's own tools (make bench, docs/performance.md) on a small
# load, so that they cannot rot: bench_load (open loop and closed loop)
# accounts for every complaint it sent, its acknowledgements match the cases
# stored and its end-to-end count matches the leader notifications; its
# percentiles are ordered; bench_replay reads the whole log dense and in order.
source "$(dirname "$0")/lib.sh"
new_db
start_stack
GRIDS=$(sql "SELECT string_agg(code, ',' ORDER BY code) FROM grids WHERE level = 3")
field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, d))" "$@"; }

# Open loop: 50/s for 2 s = 100 complaints.
"$TOOLS/bench_load" "$GF_INTAKE" "$GF_PUB" "$GRIDS" 50 2 0 open >"$ART/open.json" 2>"$ART/open.err"
check "open loop: exits 0 (every complaint acked and seen)" 0 $?
check "open loop: sent, acked, seen" "100 100 100 0" \
  "$(field "$ART/open.json" "'%d %d %d %d' % (sent, acked, seen, failed)")"
check "open loop: percentiles ordered, ack before end to end" True \
  "$(field "$ART/open.json" "0 < ack_ms['p50'] <= ack_ms['p99'] <= ack_ms['p99_9'] <= ack_ms['max'] and end_to_end_ms['p50'] <= end_to_end_ms['max'] and ack_ms['p50'] <= end_to_end_ms['p50']")"
# Closed loop: 300 complaints, 50 in flight.
"$TOOLS/bench_load" "$GF_INTAKE" "$GF_PUB" "$GRIDS" 0 0.3 50 closed >"$ART/closed.json" 2>"$ART/closed.err"
check "closed loop: exits 0" 0 $?
check "closed loop: sent, acked, seen" "300 300 300" \
  "$(field "$ART/closed.json" "'%d %d %d' % (sent, acked, seen)")"
check "cases stored = complaints acked" 400 "$(sql "SELECT count(*) FROM cases WHERE source_ref LIKE 'BL-%'")"
check "each case has its leader notification" 400 \
  "$(sql "SELECT count(DISTINCT n.case_id) FROM notifications n JOIN people p ON p.id = n.recipient
           WHERE p.role = 'leader'")"

head=$(sql "SELECT max(seq) FROM case_events")
"$TOOLS/bench_replay" "$GF_PUB" "$GF_REPLAY" "$head" 30000 >"$ART/replay.json" 2>"$ART/replay.err"
check "replay: exits 0" 0 $?
check "replay: every event, dense and in order" "$head True" \
  "$(field "$ART/replay.json" "'%d %s' % (events, dense_in_order)")"
finish
