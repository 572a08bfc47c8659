#!/usr/bin/env bash
# test: long 20 (seconds on a quiet machine: the long ones start first)
# Issue 14, what to build 2, 3 (agenda side), 4 and 8 (agenda side): the
# meetings people hold and the safety net behind them, on the simulated clock
# and the real 2026 calendar (November: no holiday).
#   - The weekly L2 meetings open at their slot, Monday 09:00, with their
#     agenda (the ledger, special-group cases marked 'special'); nothing
#     escalates at the slot (the old rule moved every case past its grace).
#   - People close QNL.08's meeting in time and decide on one case of
#     QNL.07's (through the intake, gridctl meeting): the closed meeting
#     triggers no escalation, the decided case stays.
#   - QNL.07's meeting is not closed: 48 h after its slot (close_within_hours)
#     the safety net lapses it, with kill -9 of the escalator inside the
#     lapse's transaction (held there by a row lock): the lapses of QNL's
#     meetings share that transaction (escalator/lapse_group, long here), so
#     the six lapsed before QNL.07's are not seen while it waits, and roll
#     back with it; each meeting lapses once, its undecided old cases go to
#     L2 once, each escalation automatic, and `gridctl ledger show` says
#     自动升级.
#   - close_within_hours is the rule's: QNL set to 24 h lapses the next
#     week's meetings on Tuesday 09:00.
#   - The monthly L1 meeting (Monday 7 December) opens with L1's agenda by
#     category and priority: the case an L2 decision reported up (with that
#     decision), the unroutable case for triage, the special-group cases;
#     no case becomes L1's at the slot; the case the L1 meeting decides on
#     stays where it is when the meeting lapses, the others move.
source "$(dirname "$0")/lib.sh"
G="$BIN/gridctl"

settled() { plan_empty && meetings_due_held; }
clock_and_settle() { clock_set "$1"; wait_for "escalator to settle at $1" 30 settled; }
meeting_id() { sql "SELECT id FROM meetings WHERE grid = '$1' AND kind = '$2' AND day = '$3'"; }
esc() { # esc REF [RULE]: the case's escalations (by RULE), "rule|meeting grid|day|from|to|at|automatic" each
  sql "SELECT string_agg(e.rule || '|' || coalesce(m.grid, '-') || '|' || coalesce(m.day::text, '-') || '|'
                         || e.from_level || '|' || e.to_level || '|'
                         || to_char(e.at AT TIME ZONE 'Asia/Shanghai', 'MM-DD HH24:MI') || '|' || e.automatic, ' '
                         ORDER BY e.id)
         FROM escalations e JOIN cases c ON c.id = e.case_id LEFT JOIN meetings m ON m.id = e.meeting_id
        WHERE c.source_ref = '$1' AND e.rule LIKE '${2:-%}'"
}
decide() { # decide MEETING ACTOR REF KIND NOTE [DEADLINE]: a decision through the intake
  "$G" meeting decide "$1" --actor "$2" --case "$(sql "SELECT id FROM cases WHERE source_ref = '$3'")" \
    --decision "$4" --note "$5" ${6:+--deadline "$6"} >>"$ART/meeting.out" 2>>"$ART/meeting.err" \
    || not_ok "meeting decide $*: $(tail -1 "$ART/meeting.err")"
}

new_db
"$G" calendar import >"$ART/calendar.out" 2>&1 || not_ok "calendar import"
clock_set "2026-11-04T10:00:00+08:00"   # a Wednesday
trap 'kill ${GW:-} 2>/dev/null; stop_all' EXIT
start_sms_gateway "$ART/gateway.log"
export GF_SMS_URL=http://127.0.0.1:$GW_PORT/sms
start_stack
export GF_LAPSE_GROUP_MS=10000 # a root's lapses in one transaction, however slow the machine
start escalator
wait_for "escalation to start" 10 sql_eq "SELECT count(*) FROM escalation_state" 1

P1=$(submit --source hotline --ref P1 --text "楼道灯不亮" --grid QNL.07.063 --category power)
P2=$(submit --source hotline --ref P2 --text "路面塌陷" --grid QNL.07.063 --category road)
S1=$(submit --source hotline --ref S1 --text "上访户反映邻里纠纷" --grid QNL.07.064 --groups petitioner --category dispute)
Q1=$(submit --source hotline --ref Q1 --text "垃圾未清运" --grid QNL.08.067 --category sanitation)
wait_for "cases routed" 10 sql_eq "SELECT count(*) FROM cases WHERE state = 'routed'" 4
act "$P1" sign --actor $L3
act "$P2" sign --actor $L3
act "$S1" sign --actor $L3B

# --- the slot: Monday 9 November 09:00 ----------------------------------------
clock_and_settle "2026-11-09T08:59:00+08:00"
check "no meeting before the slot" 0 "$(sql "SELECT count(*) FROM meetings")"
clock_and_settle "2026-11-09T09:00:00+08:00"
M7=$(meeting_id QNL.07 weekly 2026-11-09)
M8=$(meeting_id QNL.08 weekly 2026-11-09)
check "at 09:00 every L2 grid's weekly meeting opens, state open" "12 open 2026-11-09 09:00" \
  "$(sql "SELECT count(*) || ' ' || string_agg(DISTINCT state, ',') || ' '
                 || string_agg(DISTINCT to_char(held_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI'), ',')
            FROM meetings WHERE kind = 'weekly'")"
check "nothing escalates at the slot: P1, P2, S1 past their grace stay at L3" "P1:3 P2:3 S1:3 0" \
  "$(sql "SELECT string_agg(source_ref || ':' || level, ' ' ORDER BY source_ref) FROM cases
           WHERE source_ref IN ('P1', 'P2', 'S1')") $(sql "SELECT count(*) FROM escalations")"
check "QNL.07's agenda: its cases, the special group's marked special" "P1:ledger P2:ledger S1:special" \
  "$(sql "SELECT string_agg(c.source_ref || ':' || le.reason, ' ' ORDER BY c.source_ref)
            FROM ledger_entries le JOIN cases c ON c.id = le.case_id WHERE le.meeting_id = $M7")"
check "one meeting.opened per meeting, with the agenda's counts; no meeting.held" "12 0 3 1" \
  "$(sql "SELECT count(*) FILTER (WHERE type = 'meeting.opened') || ' ' || count(*) FILTER (WHERE type = 'meeting.held')
            FROM case_events") $(sql "SELECT (payload->>'entries') || ' ' || (payload->>'special') FROM case_events
                                        WHERE type = 'meeting.opened' AND (payload->>'meeting')::bigint = $M7")"
check "the plan at the slot is empty; at the lapse it names the old cases (P1, P2, S1; Q1 of QNL.08)" "0 4" \
  "$("$G" escalation plan --at "$(sql "SELECT gf_now()")" | grep -c '^weekly') $("$G" escalation plan --at 2026-11-11T09:00:00+08:00 | grep -c '^weekly')"

# --- people: QNL.07 decides on P2 (kept at L3 with a deadline); QNL.08 closes its meeting
clock_and_settle "2026-11-09T11:00:00+08:00"
decide "$M7" "$L2" P2 keep_l3 "本周五前修复" "2026-11-13T18:00:00+08:00"
"$G" meeting close "$M8" --actor P-QNL.08-1 >>"$ART/meeting.out" 2>>"$ART/meeting.err" || not_ok "meeting close"
clock_and_settle "2026-11-11T08:59:00+08:00"
check "47 h 59 min after the slot nothing has lapsed" "11 open 0" \
  "$(sql "SELECT count(*) || ' ' || string_agg(DISTINCT state, ',') FROM meetings WHERE state = 'open'") $(sql "SELECT count(*) FROM escalations")"

# --- the safety net, with kill -9 of the escalator in the middle of a lapse ---
# A session holds P1's row, so the escalator's lapse of QNL.07's meeting
# (meeting marked lapsed, its escalations under way) waits inside its
# transaction; the escalator is killed there, a new one started, the row
# released: the killed transaction rolls back, the new escalator lapses the
# meeting once.
( echo "BEGIN; SELECT id FROM cases WHERE source_ref = 'P1' FOR UPDATE;"
  while [ ! -e "$ART/release" ]; do sleep 0.1; done; echo "COMMIT;" ) |
  "$PSQL_BIN" -X -q -d "$GF_DB" -v application_name=holder >/dev/null 2>&1 &
HOLDER=$!
wait_for "P1's row held" 10 sql_eq "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
                                     AND state = 'idle in transaction' AND query LIKE '%FOR UPDATE%'" 1
clock_set "2026-11-11T09:00:00+08:00"
wait_for "the escalator to wait inside the lapse of QNL.07's meeting" 20 \
  sql_eq "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'gf-escalator' AND wait_event_type = 'Lock' AND wait_event IN ('transactionid', 'tuple')" 1
check "the lapses of one root share a transaction: QNL.01-06's, lapsed in it before QNL.07's, are not seen while it waits" \
  "0 $(sql "SELECT count(*) FROM meetings WHERE kind = 'weekly' AND grid < 'QNL.07'")" \
  "$(sql "SELECT count(*) FILTER (WHERE state = 'lapsed') || ' ' || count(*) FILTER (WHERE state = 'open' AND grid < 'QNL.07')
            FROM meetings WHERE kind = 'weekly'")"
kill9 escalator
start escalator
touch "$ART/release"
wait "$HOLDER"
wait_for "escalator to settle at the lapse" 30 settled
check "48 h after the slot the open meetings lapse, automatic, at 09:00; the closed one stays closed" \
  "11 lapsed 2026-11-11 09:00 true|closed" \
  "$(sql "SELECT count(*) || ' ' || string_agg(DISTINCT state, ',') || ' '
                 || string_agg(DISTINCT to_char(closed_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI'), ',')
                 || ' ' || bool_and(automatic) FROM meetings WHERE kind = 'weekly' AND id <> $M8")|$(sql "SELECT state FROM meetings WHERE id = $M8")"
check "kill -9 inside a lapse: one meeting.lapsed and one ledger.published per lapsed meeting (and one for the meeting people closed)" "11 11 1" \
  "$(sql "SELECT count(*) FILTER (WHERE type = 'meeting.lapsed') || ' ' || count(*) FILTER (WHERE type = 'ledger.published' AND (payload->>'automatic')::boolean)
                 || ' ' || count(*) FILTER (WHERE type = 'ledger.published' AND NOT (payload->>'automatic')::boolean) FROM case_events")"
# The lapse is told (036): one notice to the meeting grid's leader, app and
# SMS, in the lapse's transaction, so the kill -9 above leaves no second one.
lapse_sms_q="SELECT count(*) FROM deliveries d JOIN notifications n ON n.id = d.notification
              WHERE n.meeting_id = $M7 AND n.recipient = '$L2' AND d.channel = 'sms' AND d.state = 'sent'"
wait_for "the lapse's notice delivered by SMS to QNL.07's leader" 30 sql_eq "$lapse_sms_q" 1
check "one notice per lapsed meeting, to its L2 grid's leader; none for the meeting people closed; one (not two) for QNL.07's after kill -9" \
  "11 11 0 1" \
  "$(sql "SELECT count(*) || ' ' || count(DISTINCT meeting_id) || ' ' || count(*) FILTER (WHERE meeting_id = $M8)
                 || ' ' || count(*) FILTER (WHERE meeting_id = $M7 AND recipient = '$L2')
            FROM notifications WHERE meeting_id IS NOT NULL")"
check "its text: the kind, the day and the count of automatic escalations; no case" \
  "true|【例会提醒】网格 QNL.07（$(sql "SELECT name FROM grids WHERE code = 'QNL.07'")）2026-11-09 周例会逾期未结，已按规则自动升级 2 件。" \
  "$(sql "SELECT (case_id IS NULL) || '|' || text FROM notifications WHERE meeting_id = $M7")"
check "delivered once by the app and once by SMS, and the SMS gateway got it" "1 1 1" \
  "$(sql "SELECT count(*) FILTER (WHERE d.channel = 'app') || ' ' || count(*) FILTER (WHERE d.channel = 'sms')
            FROM deliveries d JOIN notifications n ON n.id = d.notification WHERE n.meeting_id = $M7") $(curl -s "http://127.0.0.1:$GW_PORT/keys" | grep -c -x -F "$(sql "SELECT d.dedupe_key FROM deliveries d JOIN notifications n ON n.id = d.notification WHERE n.meeting_id = $M7 AND d.channel = 'sms'")")"
check "the undecided old case goes to L2 at the lapse, automatic" "weekly_l2|QNL.07|2026-11-09|3|2|11-11 09:00|true" "$(esc P1)"
check "the special-group case likewise (no urgent SLA; the meeting's rule like any case)" \
  "weekly_l2|QNL.07|2026-11-09|3|2|11-11 09:00|true" "$(esc S1)"
check "the case people decided on stays at L3" "|3" "$(esc P2)|$(sql "SELECT level FROM cases WHERE source_ref = 'P2'")"
check "the closed meeting's case: no escalation" "|3" "$(esc Q1)|$(sql "SELECT level FROM cases WHERE source_ref = 'Q1'")"
check "each escalation once, one case.escalated each, automatic in its payload" "2 2 2" \
  "$(sql "SELECT count(*) FROM escalations") $(sql "SELECT count(*) FROM case_events WHERE type = 'case.escalated'") $(sql "SELECT count(*) FROM case_events WHERE type = 'case.escalated' AND (payload->>'automatic')::boolean")"
"$G" ledger show --meeting "$M7" >"$ART/ledger-m7.txt" 2>&1 || not_ok "ledger show"
"$G" ledger show --meeting "$M7" --format json >"$ART/ledger-m7.json" 2>&1 || not_ok "ledger show json"
check "gridctl ledger show: the meeting lapsed and each escalation 自动升级" "1 $P1 $S1" \
  "$(grep -c '^会议状态 state: 逾期未结，自动关闭 lapsed 2026-11-11 09:00' "$ART/ledger-m7.txt") $(grep '自动升级 automatic$' "$ART/ledger-m7.txt" | awk '{print $1}' | sort -n | paste -sd' ')"
check "gridctl ledger show --format json: escalations automatic" "[[$P1,true,\"自动升级\"],[$S1,true,\"自动升级\"]]" \
  "$(jq -c '[.escalations[] | [.case_id, .automatic, .how]]' "$ART/ledger-m7.json")"
check "the dashboard's ledger counts them as automatic" "2 lapsed" \
  "$(sql "SELECT (x->>'automatic') || ' ' || (x->>'state') FROM json_array_elements(gf_dash_ledger('QNL')->'weekly') x WHERE x->>'grid' = 'QNL.07'")"
"$G" ledger show --meeting "$M8" >"$ART/ledger-m8.txt" 2>&1
check "the closed meeting's ledger: closed, no escalation" "1 1" \
  "$(grep -c '^会议状态 state: 已结束 closed' "$ART/ledger-m8.txt") $(grep -c '（0 件，其中自动升级 0 件）' "$ART/ledger-m8.txt")"

# --- the next week: the undone decision is carried; close_within_hours is the rule's
sql "INSERT INTO escalation_rules (root, rule, params)
     SELECT 'QNL', rule, params || '{\"close_within_hours\": 24}' FROM escalation_rules WHERE root = '*' AND rule = 'weekly_l2'" >/dev/null
clock_and_settle "2026-11-16T09:00:00+08:00"
M7b=$(meeting_id QNL.07 weekly 2026-11-16)
check "the next agenda carries the undone decision on P2 (carried_from: that decision)" \
  "P2:carried:$(sql "SELECT id FROM meeting_decisions WHERE meeting_id = $M7")" \
  "$(sql "SELECT c.source_ref || ':' || le.reason || ':' || le.carried_from FROM ledger_entries le JOIN cases c ON c.id = le.case_id
           WHERE le.meeting_id = $M7b AND c.source_ref = 'P2'")"
clock_and_settle "2026-11-17T08:59:00+08:00"
check "with QNL's close_within_hours 24, still open at 23 h 59 min" open "$(sql "SELECT state FROM meetings WHERE id = $M7b")"
# Each call of the lapse in its own transaction from here (lapse_group 0),
# so that a meeting row's xmin tells which call lapsed it.
restart_escalator() { kill "${PIDS[escalator]}"; wait "${PIDS[escalator]}" 2>/dev/null; start escalator "$@"; }
lapse_calls() { # lapse_calls DAY: "lapsed meetings, transactions that lapsed them" of the weekly slot DAY
  sql "SELECT count(*) || ' ' || count(DISTINCT xmin::text) FROM meetings
        WHERE kind = 'weekly' AND day = '$1' AND state = 'lapsed'"
}
restart_escalator --lapse-group 0
clock_and_settle "2026-11-17T09:00:00+08:00"
check "and lapsed at 24 h: P2, its decision carried but undone and none taken, goes to L2" \
  "lapsed weekly_l2|QNL.07|2026-11-16|3|2|11-17 09:00|true" \
  "$(sql "SELECT state FROM meetings WHERE id = $M7b") $(esc P2)"
check "a root's meetings due at one time lapse by one call (gf_lapse_meetings), one transaction without lapse_group" \
  "12 1" "$(lapse_calls 2026-11-16)"
restart_escalator --lapse-group 0 --lapse-lines 0

# --- the monthly L1 meeting: Monday 7 December ---------------------------------
T1=$(submit --source hotline --ref T1 --text "地址不清的求助电话" --address "不存在的路999号")
wait_for "T1 unroutable" 10 sql_eq "SELECT state FROM cases WHERE source_ref = 'T1'" unroutable
clock_and_settle "2026-11-30T09:00:00+08:00"
check "escalator/lapse_lines 0: the missed week's meetings lapse each by its own call" \
  "12 12" "$(lapse_calls 2026-11-23)"
restart_escalator
decide "$(meeting_id QNL.07 weekly 2026-11-30)" "$L2" P1 report_up "涉及供电公司，报一级网格协调"
clock_and_settle "2026-12-07T09:00:00+08:00"
M1=$(meeting_id QNL monthly 2026-12-07)
check "the monthly L1 meeting opens; nothing becomes L1's at the slot" "open 0" \
  "$(sql "SELECT state FROM meetings WHERE id = $M1") $(sql "SELECT count(*) FROM escalations WHERE to_level = 1")"
check "L1's agenda: the reported-up case with its L2 decision, the unroutable one for triage, the special group's" \
  "P1:reported_up S1:special T1:triage" \
  "$(sql "SELECT string_agg(c.source_ref || ':' || le.reason, ' ' ORDER BY c.source_ref)
            FROM ledger_entries le JOIN cases c ON c.id = le.case_id WHERE le.meeting_id = $M1 AND le.reason <> 'ledger'")"
"$G" ledger agenda --meeting "$M1" >"$ART/agenda.txt" 2>&1 || not_ok "ledger agenda"
"$G" ledger agenda --meeting "$M1" --format json >"$ART/agenda.json" 2>&1 || not_ok "ledger agenda json"
check "gridctl ledger agenda: by category (分类别), the reported-up case shows the L2 decision" \
  "1 1" \
  "$(grep -c '^供电供暖（1 件）' "$ART/agenda.txt") $(grep -c "^ *$P1 .*reported_up  决定 decision .* report_up QNL.07 2026-11-30：涉及供电公司，报一级网格协调" "$ART/agenda.txt")"
check "gridctl ledger agenda --format json: every case, each category in one run (分类别), unclassified last" \
  "5 true 未分类" \
  "$(jq -r '[(.agenda | length), ((reduce .agenda[].category_name as $x ([]; if length > 0 and .[-1] == $x then . else . + [$x] end) | length)
             == ([.agenda[].category_name] | unique | length)), .agenda[-1].category_name] | map(tostring) | join(" ")' "$ART/agenda.json")"
"$G" ledger agenda --meeting 999999 >/dev/null 2>"$ART/agenda-unknown.err"
rc=$?
"$G" ledger agenda --meeting "$M1" --format csv >/dev/null 2>&1
rc2=$?
check "gridctl ledger agenda: an unknown meeting is exit 1 and its code; CSV is a usage error" "1 error: unknown_meeting: 2" \
  "$rc $(cut -d' ' -f1-2 "$ART/agenda-unknown.err") $rc2"
decide "$M1" "$L1" P2 supervise "限期十日办结并回复" "2026-12-17T18:00:00+08:00"
clock_and_settle "2026-12-09T09:00:00+08:00"
check "the L1 meeting lapses: the undecided L2 cases on a weekly ledger go to L1, automatic; the supervised one stays" \
  "lapsed P1:1 P2:2 S1:1" \
  "$(sql "SELECT state FROM meetings WHERE id = $M1") $(sql "SELECT string_agg(source_ref || ':' || level, ' ' ORDER BY source_ref) FROM cases WHERE source_ref IN ('P1', 'P2', 'S1')")"
check "... marked automatic on the L1 ledger" "monthly_l1|QNL|2026-12-07|2|1|12-09 09:00|true" \
  "$(esc P1 monthly_l1)"
check "every escalation of this test is automatic (the safety net's); exactly once per case, rule and meeting" "t 0" \
  "$(sql "SELECT bool_and(automatic) FROM escalations") $(sql "SELECT count(*) FROM (SELECT 1 FROM escalations GROUP BY case_id, rule, coalesce(meeting_id, 0) HAVING count(*) > 1) d")"
check "the lapsed monthly meeting is told to the L1 grid's leader, once: 月例会, its automatic escalations" \
  "1 $L1 月例会逾期未结，已按规则自动升级 $(sql "SELECT count(*) FROM escalations WHERE meeting_id = $M1") 件" \
  "$(sql "SELECT count(*) || ' ' || min(recipient) || ' ' || substring(min(text) from '月例会逾期未结，已按规则自动升级 [0-9]+ 件') FROM notifications WHERE meeting_id = $M1")"
kill $GW 2>/dev/null
finish
