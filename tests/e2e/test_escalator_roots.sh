#!/usr/bin/env bash
# Issue 18, what to build 3 (the escalator's part): escalators that share the
# work by L1 root.  A directory of two L1 roots (the sample's QNL and a copy
# of it, DFL), a lease of 2 s (GF_LEASE_MS):
#   - two escalator instances: each holds one root's lease
#     (escalator.root.QNL, escalator.root.DFL) and runs that root's rounds
#     only; the weekly meetings of both roots open once each, the lapses and
#     their automatic escalations happen once;
#   - the holder of one root killed with kill -9: the other takes its root at
#     its next look (its session is gone), and the next round of both roots
#     happens once; a third instance joins: the roots are shared again, one
#     each;
#   - one holder frozen with SIGSTOP: the other takes its root within the
#     lease time; the round runs once; resumed (SIGCONT), the old holder
#     writes nothing (its counters do not move), logs "lease lost" and
#     takes its share again; a round, every meeting once;
#   - QNL's holder frozen inside an effect transaction (opening a meeting,
#     after its fence): the server ends its session, the other takes QNL and
#     opens that meeting; resumed, the old holder commits nothing.
source "$(dirname "$0")/lib.sh"
G="$BIN/gridctl"
export GF_LEASE_MS=2000
LOOK_MS=$((GF_LEASE_MS / 3))
declare -A MP=([escalator@1]=$((PORT_BASE + 15)) [escalator@2]=$((PORT_BASE + 16))
               [escalator@3]=$((PORT_BASE + 17)))
now_ms() { date +%s%3N; }
# holder ROOT: the instance (escalator@N) whose process holds the root's lease.
holder() {
  local pid n; pid=$(sql "SELECT holder FROM leases WHERE name = 'escalator.root.$1'" | sed 's/^.*:\([0-9]*\)\..*$/\1/')
  for n in "${!PIDS[@]}"; do [ "${PIDS[$n]}" == "$pid" ] && echo "$n"; done
}
epoch() { sql "SELECT epoch FROM leases WHERE name = 'escalator.root.$1'"; }
# shared N: N escalator instances hold the two roots, no instance both
shared() {
  sql_eq "SELECT count(*) || '/' || count(DISTINCT holder) FROM leases
           WHERE name LIKE 'escalator.root.%' AND holder <> '' AND expires_at > clock_timestamp ()" 2/2
}
opened() { local v; v=$(metric "${MP[$1]}" "gf_escalator_meetings_total{kind=\"$2\"}"); echo "${v:-0}"; }
lapsed() { local v; v=$(metric "${MP[$1]}" "gf_escalator_lapsed_total{kind=\"$2\"}"); echo "${v:-0}"; }
settled() { meetings_due_held; }
# round DAY: the weekly meetings of DAY, per root, "QNL:n DFL:n", and
# the meeting.opened events of that day's meetings.
round() {
  sql "SELECT string_agg(r || ':' || n, ' ' ORDER BY r DESC) FROM (SELECT split_part(grid, '.', 1) AS r, count(*) AS n
         FROM meetings WHERE kind = 'weekly' AND day = '$1' GROUP BY 1) x"
}
opened_once() {
  local n; n=$(sql "SELECT count(*) FROM meetings")
  check "$1: one meeting.opened per meeting ($n meetings), none twice" "$n $n" \
    "$(sql "SELECT count(DISTINCT payload->>'meeting') || ' ' || count(*) FROM case_events WHERE type = 'meeting.opened'")"
}

new_db
# The second root: the sample directory again, QNL renamed DFL (its people and
# addresses too).
python3 - "$SAMPLE" >"$ART/dfl.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
s = json.dumps({k: d[k] for k in ("grids", "people", "addresses")}, ensure_ascii=False)
s = s.replace("QNL", "DFL").replace("青年路", "东风路").replace('"1380000', '"1390000')
print(s)
EOF
"$G" grids import "$ART/dfl.json" >>"$ART/migrate.log" 2>&1 || not_ok "grids import of DFL"
check "two L1 roots in the directory" "DFL QNL" "$(sql "SELECT string_agg(code, ' ' ORDER BY code) FROM grids WHERE level = 1")"
"$G" calendar import >"$ART/calendar.out" 2>&1 || not_ok "calendar import"
clock_set "2026-11-04T10:00:00+08:00" # a Wednesday
start_stack
for i in 1 2; do start "escalator@$i" --metrics "${MP[escalator@$i]}"; done
wait_for "the two roots shared, one per instance" 15 shared
check "escalator@1 and escalator@2 hold one root each" "escalator@1 escalator@2" \
  "$(printf '%s\n' "$(holder QNL)" "$(holder DFL)" | sort | xargs)"
wait_for "both roots' escalation started" 10 sql_eq "SELECT count(*) FROM escalation_state" 2
for r in QNL DFL; do
  for i in 1 2; do submit --source hotline --ref "$r$i" --text "楼道灯不亮 $r$i" --grid "$r.07.06$((2 + i))" >/dev/null; done
done
wait_for "cases routed" 15 sql_eq "SELECT count(*) FROM cases WHERE state = 'routed'" 4
check "two cases in each root" "DFL:2 QNL:2" "$(sql "SELECT string_agg(root || ':' || n, ' ' ORDER BY root) FROM (SELECT root, count(*) AS n FROM cases GROUP BY root) x")"

# --- round 1: Monday's weekly meetings, each root by its holder ---------------
clock_set "2026-11-09T09:00:00+08:00"
wait_for "the weekly round of both roots" 30 settled
check "the weekly meetings of both roots, once" "QNL:12 DFL:12" "$(round 2026-11-09)"
H_QNL=$(holder QNL); H_DFL=$(holder DFL)
check "each instance opened its own root's meetings only (12 each)" "12 12" \
  "$(opened "$H_QNL" weekly) $(opened "$H_DFL" weekly)"
check "$H_QNL's log names QNL's meetings only, $H_DFL's DFL's only" "12 0 12 0" \
  "$(grep -c 'opened weekly meeting .* of QNL\.' "$ART/$H_QNL.log") $(grep -c 'opened weekly meeting .* of DFL\.' "$ART/$H_QNL.log") $(grep -c 'opened weekly meeting .* of DFL\.' "$ART/$H_DFL.log") $(grep -c 'opened weekly meeting .* of QNL\.' "$ART/$H_DFL.log")"
opened_once "round 1"

# --- round 2: the lapses 48 h later, with their automatic escalations ---------
clock_set "2026-11-11T09:00:00+08:00"
wait_for "the lapses of both roots" 30 settled
check "every weekly meeting lapsed, once per meeting" "24 24" \
  "$(sql "SELECT count(*) FROM meetings WHERE state = 'lapsed'") $(sql "SELECT count(*) FROM case_events WHERE type = 'meeting.lapsed'")"
check "each instance lapsed its own root's meetings (12 each)" "12 12" "$(lapsed "$H_QNL" weekly) $(lapsed "$H_DFL" weekly)"
check "the old cases of both roots escalated at the lapse, once each, automatic" "DFL1:1 DFL2:1 QNL1:1 QNL2:1 t" \
  "$(sql "SELECT string_agg(c.source_ref || ':' || n, ' ' ORDER BY c.source_ref) FROM cases c
           JOIN (SELECT case_id, count(*) AS n FROM escalations GROUP BY case_id) e ON e.case_id = c.id") $(sql "SELECT bool_and(automatic) FROM escalations")"
check "one case.escalated per escalation" "$(sql "SELECT count(*) FROM escalations")" \
  "$(sql "SELECT count(*) FROM case_events WHERE type = 'case.escalated'")"

# --- kill -9 of DFL's holder: the other takes its root at its next look ------
DEAD=$H_DFL; LIVE=$H_QNL
E=$(epoch DFL); T0=$(now_ms)
kill9 "$DEAD"
wait_for "DFL's lease taken by $LIVE" 10 sql_eq "SELECT epoch FROM leases WHERE name = 'escalator.root.DFL'" $((E + 1))
T_MS=$(($(now_ms) - T0))
check "kill -9: $LIVE holds both roots now" "$LIVE $LIVE" "$(holder QNL) $(holder DFL)"
check "taken over at once, before the lease would lapse (+ 1 s for a loaded machine)" 1 \
  "$([ "$T_MS" -le $((GF_LEASE_MS + 1000)) ] && echo 1 || echo "$T_MS ms")"
note "kill -9: $DEAD's root DFL taken by $LIVE after $T_MS ms (lease $GF_LEASE_MS ms)"
clock_set "2026-11-16T09:00:00+08:00"
wait_for "the next weekly round, both roots by $LIVE" 30 settled
check "round 3: the weekly meetings of both roots, once" "QNL:12 DFL:12" "$(round 2026-11-16)"
check "$LIVE opened both roots' meetings (12 + 24)" 36 "$(opened "$LIVE" weekly)"
opened_once "round 3"

# --- a third instance joins: the roots are shared again ------------------------
start escalator@3 --metrics "${MP[escalator@3]}"
wait_for "the roots shared again, one per instance" 15 shared
check "escalator@3 took one root, $LIVE kept the other" "1 1" \
  "$(metric "${MP[escalator@3]}" gf_escalator_roots_held) $(metric "${MP[$LIVE]}" gf_escalator_roots_held)"
grep -q "giving escalator.root.* back (a share is 1)" "$ART/$LIVE.log" &&
  ok "$LIVE gave a root back when escalator@3 joined" || not_ok "$LIVE: no 'giving ... back' in its log"

# --- SIGSTOP of one holder: the other takes its root; resumed, it writes nothing
OLD=$(holder QNL); NEW=$(holder DFL)
E=$(epoch QNL); T0=$(now_ms)
BEFORE="$(opened "$OLD" weekly) $(lapsed "$OLD" weekly)"
kill -STOP "${PIDS[$OLD]}"
wait_for "QNL's lease taken over from the frozen $OLD" 20 sql_eq "SELECT epoch FROM leases WHERE name = 'escalator.root.QNL'" $((E + 1))
T_MS=$(($(now_ms) - T0))
check "SIGSTOP: $NEW holds both roots" "$NEW $NEW" "$(holder QNL) $(holder DFL)"
check "taken over within lease + one look (+ 2 s for a loaded machine)" 1 \
  "$([ "$T_MS" -le $((GF_LEASE_MS + LOOK_MS + 2000)) ] && echo 1 || echo "$T_MS ms")"
note "SIGSTOP: $OLD's root QNL taken by $NEW after $T_MS ms (lease $GF_LEASE_MS ms)"
clock_set "2026-11-18T09:00:00+08:00" # the lapses of round 3, with the old holder frozen
wait_for "round 3's lapses, both roots by $NEW" 30 settled
kill -CONT "${PIDS[$OLD]}"
wait_for "$OLD to say it lost QNL's lease" 10 grep -q "escalator.root.QNL: lease lost at epoch $E" "$ART/$OLD.log"
check "resumed, $OLD opened and lapsed nothing (its counters as before the freeze)" "$BEFORE" \
  "$(opened "$OLD" weekly) $(lapsed "$OLD" weekly)"
# Resumed with no root, $OLD may take QNL back at once ($NEW holds two, a
# share is one): its holder gauge is 0, or 1 only with the table naming it
# at a later epoch than the one taken from it.
LOST=$(metric "${MP[$OLD]}" 'gf_lease_lost_total{lease="escalator.root.QNL"}')
HELD=$(metric "${MP[$OLD]}" 'gf_lease_holder{lease="escalator.root.QNL"}')
if [ "$HELD" == 1 ] && [ "$(holder QNL)" == "$OLD" ] && [ "$(epoch QNL)" -gt $((E + 1)) ]; then
  note "$OLD took QNL back at epoch $(epoch QNL)"
  HELD=0
fi
check "$OLD: gf_lease_lost_total 1 and gf_lease_holder 0 for QNL (or taken back later)" "1 0" "$LOST $HELD"
check "every meeting of round 3 lapsed once" "24 48" \
  "$(sql "SELECT count(*) FROM meetings WHERE state = 'lapsed' AND day = '2026-11-16'") $(sql "SELECT count(*) FROM case_events WHERE type = 'meeting.lapsed'")"
wait_for "the roots shared by the three, one each at most" 15 shared

# --- the last round: every meeting once, every escalation once ----------------
clock_set "2026-11-23T09:00:00+08:00"
wait_for "the last weekly round" 30 settled
check "round 4: the weekly meetings of both roots, once" "QNL:12 DFL:12" "$(round 2026-11-23)"

# --- frozen inside an effect transaction: opening QNL.07's meeting ------------
# A session holds QNL.07's meeting lock (gf_open_meeting's advisory lock), so
# QNL's holder waits inside that meeting's transaction, after its fence; it is
# frozen there and the lock released: its transaction sits idle until the
# server ends the session (idle_in_transaction_session_timeout, capped at the
# lease), the lease lapses, the other takes QNL and opens the meeting; resumed,
# the old holder commits nothing.
OLD=$(holder QNL)
( echo "SELECT pg_advisory_lock (hashtext ('gridflow.meeting:QNL.07'));"
  while [ ! -e "$ART/release" ]; do sleep 0.1; done; echo "SELECT 1;" ) |
  "$PSQL_BIN" -X -q -d "$GF_DB" >/dev/null 2>&1 &
LOCKER=$!
wait_for "QNL.07's meeting lock held" 10 sql_eq "SELECT count(*) FROM pg_locks WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database ()) AND locktype = 'advisory' AND granted" 1
clock_set "2026-11-30T09:00:00+08:00"
# Waiting for that very lock (not any lock: a commit may wait a moment for
# the log's numbering lock, and the holder then still commits a meeting).
wait_for "$OLD to wait inside the opening of QNL.07's meeting" 20 sql_eq "SELECT count(*) FROM pg_locks w
    JOIN pg_stat_activity a ON a.pid = w.pid
    WHERE a.datname = current_database () AND a.application_name = 'gf-escalator' AND w.locktype = 'advisory' AND NOT w.granted
      AND ((w.classid::bigint << 32) | w.objid::bigint) = hashtext ('gridflow.meeting:QNL.07')::bigint" 1
BEFORE=$(opened "$OLD" weekly)
E=$(epoch QNL); T0=$(now_ms)
kill -STOP "${PIDS[$OLD]}"
touch "$ART/release"
wait "$LOCKER"
wait_for "QNL's lease taken over from $OLD frozen in its transaction" 20 \
  sql_eq "SELECT epoch FROM leases WHERE name = 'escalator.root.QNL'" $((E + 1))
T_MS=$(($(now_ms) - T0))
NEW=$(holder QNL)
note "frozen inside a transaction: QNL taken by $NEW after $T_MS ms (lease $GF_LEASE_MS ms)"
wait_for "round 5 opened by $NEW" 30 settled
kill -CONT "${PIDS[$OLD]}"
wait_for "$OLD to stand by for QNL" 10 grep -q "escalator.root.QNL: lease lost at epoch $E" "$ART/$OLD.log"
check "frozen in a transaction, resumed: $OLD committed no meeting more" "$BEFORE" "$(opened "$OLD" weekly)"
grep -q "terminating connection due to idle-in-transaction timeout\|server closed the connection" "$ART/$OLD.log" &&
  ok "$OLD's session was ended by the server while frozen (its transaction rolled back)" ||
  not_ok "no sign in $OLD.log that its transaction was ended"
check "round 5: QNL.07's meeting once, opened by $NEW; every weekly meeting of the day once" "1 QNL:12 DFL:12" \
  "$(sql "SELECT count(*) FROM meetings WHERE grid = 'QNL.07' AND day = '2026-11-30'") $(round 2026-11-30)"
opened_once "in all"
check "one meeting per grid, kind and day; one escalation per case and rule" "0 0" \
  "$(sql "SELECT count(*) FROM (SELECT 1 FROM meetings GROUP BY grid, kind, day HAVING count(*) > 1) x") $(sql "SELECT count(*) FROM (SELECT 1 FROM escalations GROUP BY case_id, rule, meeting_id HAVING count(*) > 1) x")"
finish
