#!/usr/bin/env bash
# test: long 59 (seconds on a quiet machine: the long ones start first)
# Issue 4, acceptance 3-5, as issue 14 has it, on the simulated clock and the
# real calendar: weekly L2 and monthly L1 meetings opened at their slot with
# their ledgers, nothing escalated at the slot; nobody closes them, so the
# safety net lapses each 48 h (close_within_hours) after its slot and the
# rule-based escalations happen then, automatic; urgent cases escalating
# after 24 h and 72 h without a meeting, special-group cases not (they get
# their own, earlier sign-for reminder); an escalator stopped across two
# weekly slots and a monthly slot opens each missed meeting once, with the
# ledger of its slot, and lapses the overdue one at once; and the same
# scenario run with two escalators at once produces exactly the same
# escalations as with one.
source "$(dirname "$0")/lib.sh"
G="$BIN/gridctl"

settled() { plan_empty && meetings_due_held; }
# clock_and_settle TIME: move the simulated clock, then wait until nothing is due any more.
clock_and_settle() { clock_set "$1"; wait_for "escalator to settle at $1" 30 settled; }
case_id() { sql "SELECT id FROM cases WHERE source_ref = '$1'"; }

# run_scenario N: the whole story with N escalators; leaves its escalations
# in $ART/escalations.N.txt.
run_scenario() {
  local n=$1
  new_db "_$n"
  "$G" calendar import >"$ART/calendar.$n.out" 2>&1 || not_ok "calendar import"
  clock_set "2026-11-02T08:00:00+08:00"   # a Monday
  start_stack
  for e in $(seq 1 "$n"); do start "escalator@$e"; done
  wait_for "escalation to start" 10 sql_eq "SELECT count(*) FROM escalation_state" 1

  P1=$(submit --source hotline --ref P1 --text "楼道灯不亮" --grid QNL.07.063)
  P2=$(submit --source hotline --ref P2 --text "垃圾未清运" --grid QNL.07.063)
  U1=$(submit --source hotline --ref U1 --text "独居老人摔倒" --grid QNL.07.064 --urgent)
  S1=$(submit --source hotline --ref S1 --text "低保金未到账" --grid QNL.07.064 --groups dibao)
  H1=$(submit --source hotline --ref H1 --text "违建拆除纠纷" --grid QNL.07.065)
  wait_for "cases routed" 10 sql_eq "SELECT count(*) FROM cases WHERE state = 'routed'" 5
  act "$P2" sign --actor $L3
  act "$P2" resolve --actor $L3 --note "已清运"

  clock_and_settle "2026-11-02T09:00:00+08:00"     # weekly (12 L2) and the monthly L1 meeting open
  sql "SELECT count(*) || ' ' || count(*) FILTER (WHERE state = 'open') FROM meetings" >"$ART/open.$n.txt"
  sql "SELECT count(*) FROM escalations" >"$ART/at-slot.$n.txt"
  clock_and_settle "2026-11-02T20:00:00+08:00"     # 12 h: the special-group case's leader is reminded
  sql "SELECT string_agg(c.source_ref, ',' ORDER BY c.source_ref) FROM cases c
        WHERE EXISTS (SELECT 1 FROM notifications n WHERE n.case_id = c.id AND n.kind = 'sign.reminder')" \
    >"$ART/reminded.$n.txt"
  clock_and_settle "2026-11-03T08:00:00+08:00"     # 24 h: the urgent case → L2
  act "$H1" classify --actor $L2 --tier hard
  clock_and_settle "2026-11-04T09:00:00+08:00"     # Nov 2 meetings lapse: nothing past its grace at their slot
  clock_and_settle "2026-11-05T08:00:00+08:00"     # 72 h → L1
  clock_and_settle "2026-11-09T09:00:00+08:00"     # weekly opens: P1, H1 older than 2 working days, not moved
  sql "SELECT string_agg(source_ref || ':' || level, ',' ORDER BY source_ref) FROM cases
        WHERE source_ref IN ('P1', 'H1')" >"$ART/nov9.$n.txt"
  clock_and_settle "2026-11-11T09:00:00+08:00"     # it lapses: P1, H1 → L2, automatic
  clock_and_settle "2026-11-16T09:00:00+08:00"
  clock_and_settle "2026-11-24T10:00:00+08:00"

  # Down across the weekly slots of Nov 30 and Dec 7 and the monthly of Dec 7.
  for e in $(seq 1 "$n"); do kill -TERM "${PIDS[escalator@$e]}"; wait "${PIDS[escalator@$e]}"; unset "PIDS[escalator@$e]"; done
  clock_set "2026-12-01T12:00:00+08:00"
  act "$P1" sign --actor $L3
  act "$P1" resolve --actor $L3 --note "已修复"
  clock_set "2026-12-08T08:00:00+08:00"
  for e in $(seq 1 "$n"); do start "escalator@$e"; done
  wait_for "missed meetings to be opened (and the overdue ones lapsed)" 30 settled
  clock_and_settle "2026-12-09T09:00:00+08:00"     # the Dec 7 meetings lapse: H1 → L1

  sql "SELECT c.source_ref, e.rule, coalesce(m.grid, '-'), coalesce(m.day::text, '-'), e.from_level,
              e.to_level, to_char(e.at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI'), e.automatic
         FROM escalations e JOIN cases c ON c.id = e.case_id LEFT JOIN meetings m ON m.id = e.meeting_id
        ORDER BY 1, 2" >"$ART/escalations.$n.txt"
}

run_scenario 1
check "at the slot the meetings open (12 weekly, 1 monthly) and nothing escalates" "13 13|0" \
  "$(cat "$ART/open.1.txt")|$(cat "$ART/at-slot.1.txt")"
check "12 h after routing the special-group case's leader was reminded to sign for it (and the urgent case's after 1 h), not the others' (24 h)" "S1,U1" \
  "$(cat "$ART/reminded.1.txt")"
check "urgent case: to L2 after 24 h, to L1 after 72 h, no meeting; automatic" \
  "$(printf 'U1|urgent_l1|-|-|2|1|2026-11-05 08:00|t\nU1|urgent_l2|-|-|3|2|2026-11-03 08:00|t')" \
  "$(grep '^U1|' "$ART/escalations.1.txt")"
check "special-group case: no urgent SLA (24 h / 72 h); only the safety net's rules, like any case" \
  "$(printf 'S1|monthly_l1|QNL|2026-12-07|2|1|2026-12-09 09:00|t\nS1|weekly_l2|QNL.07|2026-11-09|3|2|2026-11-11 09:00|t')" \
  "$(grep '^S1|' "$ART/escalations.1.txt")"
check "at the Nov 9 slot P1 and H1 are still at L3" "H1:3,P1:3" "$(cat "$ART/nov9.1.txt")"
check "the Nov 9 weekly meeting, never closed, lapses at slot + 48 h and moves the old unresolved L3 case to L2, automatic" \
  "P1|weekly_l2|QNL.07|2026-11-09|3|2|2026-11-11 09:00|t" \
  "$(grep '^P1|' "$ART/escalations.1.txt")"
check "a hard case goes to L2 at the weekly lapse, then to L1 at the lapse of the monthly meeting (opened late)" \
  "$(printf 'H1|monthly_l1|QNL|2026-12-07|2|1|2026-12-09 09:00|t\nH1|weekly_l2|QNL.07|2026-11-09|3|2|2026-11-11 09:00|t')" \
  "$(grep '^H1|' "$ART/escalations.1.txt")"
check "a resolved case never escalates" "" "$(grep '^P2|' "$ART/escalations.1.txt")"
check "every meeting held once per grid, kind and day" 0 \
  "$(sql "SELECT count(*) FROM (SELECT grid, kind, day FROM meetings GROUP BY 1, 2, 3 HAVING count(*) > 1) d")"
check "weekly meetings: 12 L2 grids x 6 Mondays (Nov 2 .. Dec 7)" 72 "$(sql "SELECT count(*) FROM meetings WHERE kind = 'weekly'")"
check "monthly meetings: Nov 2 and Dec 7" "2026-11-02 2026-12-07" \
  "$(sql "SELECT string_agg(day::text, ' ' ORDER BY day) FROM meetings WHERE kind = 'monthly'")"
check "missed meetings were opened late, once, after the restart; the overdue one lapsed at once" \
  "2026-11-30|2026-12-08 08:00|lapsed 2026-12-08 08:00 2026-12-07|2026-12-08 08:00|lapsed 2026-12-09 09:00" \
  "$(sql "SELECT string_agg(day || '|' || to_char(held_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') || '|' || state
                             || ' ' || to_char(closed_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI'), ' ' ORDER BY day)
           FROM meetings WHERE grid = 'QNL.07' AND kind = 'weekly' AND day >= '2026-11-30'")"
check "every meeting lapsed, automatic, once" "74 lapsed automatic" \
  "$(sql "SELECT count(*) || ' ' || string_agg(DISTINCT state, ',') || ' ' || CASE WHEN bool_and(automatic) THEN 'automatic' ELSE 'not' END FROM meetings")"
check "the missed Nov 30 ledger shows P1 as it was then: pending at L2" "pending|2" \
  "$(sql "SELECT le.tier || '|' || le.level FROM ledger_entries le JOIN meetings m ON m.id = le.meeting_id
           WHERE m.grid = 'QNL.07' AND m.day = '2026-11-30' AND le.case_id = $(case_id P1)")"
check "the Dec 7 ledger shows P1 resolved (touched that week)" "resolved" \
  "$(sql "SELECT le.tier FROM ledger_entries le JOIN meetings m ON m.id = le.meeting_id
           WHERE m.grid = 'QNL.07' AND m.kind = 'weekly' AND m.day = '2026-12-07' AND le.case_id = $(case_id P1)")"
check "Nov 2 ledger: P2 resolved that week; the rest pending" "resolved:P2 pending:H1,P1,S1,U1" \
  "$(sql "SELECT string_agg(tier || ':' || refs, ' ' ORDER BY array_position(ARRAY['resolved','pending','hard'], tier))
           FROM (SELECT le.tier, string_agg(c.source_ref, ',' ORDER BY c.source_ref) refs
                   FROM ledger_entries le JOIN meetings m ON m.id = le.meeting_id JOIN cases c ON c.id = le.case_id
                  WHERE m.grid = 'QNL.07' AND m.kind = 'weekly' AND m.day = '2026-11-02' GROUP BY le.tier) t")"
check "Nov 9 ledger: P2 (resolved, untouched since) gone, H1 hard" "pending:P1,S1,U1 hard:H1" \
  "$(sql "SELECT string_agg(tier || ':' || refs, ' ' ORDER BY array_position(ARRAY['resolved','pending','hard'], tier))
           FROM (SELECT le.tier, string_agg(c.source_ref, ',' ORDER BY c.source_ref) refs
                   FROM ledger_entries le JOIN meetings m ON m.id = le.meeting_id JOIN cases c ON c.id = le.case_id
                  WHERE m.grid = 'QNL.07' AND m.kind = 'weekly' AND m.day = '2026-11-09' GROUP BY le.tier) t")"
check "escalations notified the new owner and the previous one" 0 \
  "$(sql "SELECT count(*) FROM escalations e JOIN cases c ON c.id = e.case_id
           WHERE (SELECT count(*) FROM notifications n WHERE n.case_id = e.case_id AND n.kind = 'escalated.to' || e.to_level) <> 2")"
check "one case.escalated event per escalation" "$(sql "SELECT count(*) FROM escalations")" \
  "$(sql "SELECT count(*) FROM case_events WHERE type = 'case.escalated'")"
check "meeting.opened, meeting.lapsed and ledger.published events, no meeting.held" "74 74 74 0" \
  "$(sql "SELECT count(*) FILTER (WHERE type = 'meeting.opened') || ' ' || count(*) FILTER (WHERE type = 'meeting.lapsed') || ' '
                 || count(*) FILTER (WHERE type = 'ledger.published') || ' ' || count(*) FILTER (WHERE type = 'meeting.held')
            FROM case_events")"
"$G" ledger show --meeting "$(sql "SELECT id FROM meetings WHERE grid = 'QNL.07' AND day = '2026-11-09'")" >"$ART/ledger-nov9.txt" 2>&1
check "the ledger of the lapsed meeting says its escalations (H1, P1, S1) were automatic" 3 \
  "$(grep -c '自动升级 automatic' "$ART/ledger-nov9.txt")"
"$G" meeting call --grid QNL --topic "西街村征地补偿方案征询" >"$ART/call.out" 2>&1
check "L1 calls a consultation meeting" 1 "$(sql "SELECT count(*) FROM meetings WHERE kind = 'consultation' AND topic LIKE '%征地补偿%'")"
"$G" meeting call --grid QNL.07 --topic x >/dev/null 2>"$ART/call2.err"
check "only an L1 grid calls consultation meetings" unknown_grid "$(sed -n 's/^error: \([a-z_]*\):.*/\1/p' "$ART/call2.err")"
clock_and_settle "2027-01-04T10:00:00+08:00"
wait_for "a year without calendar data to be reported" 20 grep -q "no working calendar for 2027" "$ART/escalator@1.log"
check "the escalator keeps working on the weekday rule in a year without data" 1 \
  "$(sql "SELECT count(*) FROM meetings WHERE kind = 'weekly' AND grid = 'QNL.07' AND day = '2027-01-04'")"
stop_all

run_scenario 2
check "two escalators at once produce exactly the escalations of one" \
  "$(md5sum <"$ART/escalations.1.txt")" "$(md5sum <"$ART/escalations.2.txt")"
check "two escalators: still one meeting per grid, kind and day" 74 "$(sql "SELECT count(*) FROM meetings")"
finish
