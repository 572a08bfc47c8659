#!/usr/bin/env bash
# The benchmark's own tools (make bench, docs/performance.md) on a small
# load, so that they cannot rot: bench_load (open loop and closed loop)
# accounts for every complaint it sent, its acknowledgements match the cases
# stored and its end-to-end count matches the leader notifications; its
# percentiles are ordered; bench_replay reads the whole log dense and in order.
# With ACTORS, bench_load's cases are worked by their leaders (four actions
# each, all answered ok); bench_sinks receives and acknowledges every SMS
# and app message, once.  action_pace paces staff actions on one connection,
# each answered ok at the version the last reply named.
source "$(dirname "$0")/lib.sh"
new_db
# The far ends, as make bench runs them: nothing held by quiet hours or
# the SMS rate limit, every person's app signed in (bench_sinks), the SMS
# gateway on GW_PORT.
sql "DELETE FROM delivery_quiet; UPDATE delivery_policy SET rate_limit = 0" >/dev/null
sql "INSERT INTO app_tokens (person, token_sha256)
     SELECT id, sha256 (convert_to ('bench-' || id, 'UTF8')) FROM people" >/dev/null
sql "SELECT id || ' bench-' || id FROM people ORDER BY id" >"$ART/persons.txt"
export GF_SMS_URL=http://127.0.0.1:$GW_PORT/sms
start_stack
"$TOOLS/bench_sinks" "$GF_APP" "$ART/persons.txt" "$GW_PORT" >"$ART/sinks.json" 2>"$ART/sinks.err" &
SINKS=$!
wait_for "the SMS sink" 30 port_open "$GW_PORT"
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

# The mix: 20/s for 1 s, each case worked by its grid's leader.
MIX_GRIDS=$(sql "SELECT string_agg(g.code, ',' ORDER BY g.code) FROM grids g
                  WHERE g.level = 3 AND EXISTS (SELECT 1 FROM people p WHERE p.grid = g.code AND p.role = 'leader')")
ACTORS=$(sql "SELECT string_agg((SELECT min(p.id) FROM people p WHERE p.grid = g.code AND p.role = 'leader'), ',' ORDER BY g.code)
                FROM grids g
               WHERE g.level = 3 AND EXISTS (SELECT 1 FROM people p WHERE p.grid = g.code AND p.role = 'leader')")
"$TOOLS/bench_load" "$GF_INTAKE" "$GF_PUB" "$MIX_GRIDS" 20 1 0 mix "$ACTORS" >"$ART/mix.json" 2>"$ART/mix.err"
check "mix: exits 0 (every complaint acked and seen, every action answered ok)" 0 $?
check "mix: complaints acked, actions answered, chains done, refused" "20 80 20 0" \
  "$(field "$ART/mix.json" "'%d %d %d %d' % (acked, actions, chains_done, actions_failed)")"
check "mix: action percentiles ordered" True \
  "$(field "$ART/mix.json" "0 < action_ms['p50'] <= action_ms['p99'] <= action_ms['max']")"
check "mix: every case called back, by its grid's leader, four actions each" "20 80" \
  "$(sql "SELECT count(DISTINCT c.id) FILTER (WHERE c.state = 'called_back') || ' ' || count(a.*)
           FROM cases c JOIN case_actions a ON a.case_id = c.id
           JOIN people p ON p.id = a.actor AND p.grid = c.grid AND p.role = 'leader'
          WHERE c.source_ref LIKE 'BL-mix-%'")"

# action_pace (the escalation bench's staff actions): three open-loop cases
# signed for by their leaders, then `progress` on them in turn every 20 ms
# for a second, on one connection, each at the version the last reply named.
sql "SELECT 's' || c.id || ' ' || c.id || ' sign ' || p.id || ' ' || c.version || ' -'
       FROM cases c JOIN people p ON p.grid = c.grid AND p.role = 'leader'
      WHERE c.source_ref LIKE 'BL-open-%' AND c.state = 'routed'
      ORDER BY c.id LIMIT 3" >"$ART/pace_sign.txt"
"$TOOLS/action_burst" "$GF_INTAKE" 10000 <"$ART/pace_sign.txt" >"$ART/pace_sign.out"
check "action_pace: three cases signed for" 3 "$(grep -c ' ok signed ' "$ART/pace_sign.out")"
PACE_IDS=$(awk '{print $2}' "$ART/pace_sign.txt" | paste -sd,)
sql "SELECT c.id || ' ' || p.id || ' ' || c.version FROM cases c
       JOIN people p ON p.grid = c.grid AND p.role = 'leader'
      WHERE c.id IN ($PACE_IDS) ORDER BY c.id" >"$ART/pace_cases.txt"
touch "$ART/pace.mark"
"$TOOLS/action_pace" "$GF_INTAKE" 20 "$ART/pace.mark" 2 "$ART/pace.next" <"$ART/pace_cases.txt" \
  >"$ART/pace.out" 2>"$ART/pace.err" &
PACE=$!
sleep 1
rm -f "$ART/pace.mark"
wait "$PACE"
check "action_pace: exits 0" 0 $?
PACED=$(wc -l <"$ART/pace.out")
check "action_pace: several actions, each answered ok with a reply time in microseconds" "True 0" \
  "$([ "$PACED" -ge 5 ] && echo True || echo "$PACED actions") $(grep -cv '^[0-9][0-9]*$' "$ART/pace.out")"
check "action_pace: each one a progress stored on its case (the version followed)" "$PACED" \
  "$(sql "SELECT count(*) FROM case_actions WHERE action = 'progress' AND case_id IN ($PACE_IDS)")"
check "action_pace: the next line written for a later run (START 2 + actions)" "$((PACED + 2))" \
  "$(cat "$ART/pace.next")"

wait_for "every delivery out (SMS sent, app acknowledged)" 60 sql_eq \
  "SELECT count(*) FROM deliveries WHERE state = 'pending' OR (channel = 'app' AND state = 'sent')" 0
kill -TERM "$SINKS"
wait "$SINKS"
check "sinks: exit 0 (every app signed in)" 0 $?
check "sinks: each SMS sent received once, no duplicate; each app message acknowledged received" \
  "$(sql "SELECT count(*) FILTER (WHERE channel = 'sms' AND state = 'sent') || ' 0 '
                 || count(*) FILTER (WHERE channel = 'app' AND state = 'acked') FROM deliveries")" \
  "$(field "$ART/sinks.json" "'%d %d %d' % (sms_keys, sms_duplicates, app_deliveries)")"
check "sinks: something went through both (SMS, app)" True \
  "$(field "$ART/sinks.json" "sms_keys > 0 and app_deliveries > 0 and sms_bad == 0")"
finish
