#!/usr/bin/env bash
# gf_stream across a relay restart (docs/streams.md): two live `gridctl watch
# --json` subscribers, one to everything and one by grid prefix, while the
# relay stops, events are written, and a new relay sequences and publishes
# them, maybe before the subscribers have reconnected (then they recover the
# missed ones by replay; whether that happens depends on timing).  Each must
# end with exactly the events after its start, once.
source "$(dirname "$0")/lib.sh"
new_db
seqs() { python3 -c 'import json,sys; [print(json.loads(l)["seq"]) for l in sys.stdin]' <"$1" | sort -n; }
insert_events 10
start relay
wait_for "relay ports" 30 port_open $((PORT_BASE + 2))
"$BIN/gridctl" watch --json --idle 8000 >"$ART/all.jsonl" 2>"$ART/all.err" &
ALL=$!
"$BIN/gridctl" watch case.routed/QNL.08 --json --idle 8000 >"$ART/grid.jsonl" 2>"$ART/grid.err" &
GRID=$!
# A heartbeat anchors both at seq 10; gridctl watch shows no sign of it (it
# prints events only), so this waits two heartbeat periods.
sleep 2
insert_events 20
wait_for "live events" 10 test -s "$ART/grid.jsonl"
kill -TERM "${PIDS[relay]}"; wait "${PIDS[relay]}"; unset "PIDS[relay]"
insert_events 30
start relay@2
# Live or by replay, both get the 30 before the next 40 are written.
distinct_seqs() { jq -r .seq "$1" 2>/dev/null | sort -nu | wc -l; }
caught_up() {
  [ "$(distinct_seqs "$ART/all.jsonl")" == 50 ] && [ "$(distinct_seqs "$ART/grid.jsonl")" == \
    "$(sql "SELECT count(*) FROM case_events WHERE seq > 10 AND starts_with(topic, 'case.routed/QNL.08')")" ]
}
wait_for "both subscribers to have the events written while the relay was down" 20 caught_up
insert_events 40
wait "$ALL"; check "unfiltered watch exits 0" 0 $?
wait "$GRID"; check "filtered watch exits 0" 0 $?
check "unfiltered: every event after the start once, in order" "$(seq 11 100 | md5sum)" \
  "$(python3 -c 'import json,sys; [print(json.loads(l)["seq"]) for l in sys.stdin]' <"$ART/all.jsonl" | md5sum)"
check "filtered: every matching event after the start once" \
  "$(sql "SELECT seq FROM case_events WHERE seq > 10 AND starts_with(topic, 'case.routed/QNL.08') ORDER BY seq" | md5sum) $(sql "SELECT count(*) FROM case_events WHERE seq > 10 AND starts_with(topic, 'case.routed/QNL.08')")" \
  "$(seqs "$ART/grid.jsonl" | uniq | md5sum) $(wc -l <"$ART/grid.jsonl")"
note "recovered: $(cat "$ART/all.err" "$ART/grid.err" | tr '\n' ' ')"
check "no sanitizer report from gridctl" 0 \
  "$(cat "$ART"/*.err | grep -c -E "$SANITIZER_RE")"
finish
