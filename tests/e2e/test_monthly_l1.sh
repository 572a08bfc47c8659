#!/usr/bin/env bash
# Issue 14, L1 as the article's L1 (the decision side): the monthly L1
# meeting of QNL generated at its slot (Monday 7 December 2026, 09:00, the
# first working Monday), then L1's decisions through the intake: supervise
# (督办: a deadline and a required reply), send_back (to L2 with
# instructions), consult (a consultation meeting, 民情征询会, called with
# `gridctl meeting call`, its attendees and opinions with responses recorded
# through meeting.action), take_over (explicit: the case becomes L1's).  No
# case changes owner without a decision.  Refused: L2 staff at the L1
# meeting, a weekly kind, supervise without its deadline, opinions at a
# meeting that is not a consultation, opinions by L2 staff.
# The monthly report by category and priority and the reported_up agenda
# are the other helpers' (i14-net, i14-ind): see the marked place below.
source "$(dirname "$0")/lib.sh"
G="$BIN/gridctl"
new_db
"$G" calendar import >"$ART/calendar.out" 2>&1 || not_ok "calendar import"
clock_set "2026-12-03T13:00:00+08:00" # a Thursday: no rule is due for these cases at the slots
start_stack --escalator
wait_for "escalation to start" 10 sql_eq "SELECT count(*) FROM escalation_state" 1

L1=P-QNL-1
clock() {
  wait_for "router and notifier to catch up" 20 quiescent
  clock_set "$1"
}
routed() {
  local id
  id=$(submit "${@:2}" 2>>"$ART/gridctl.log")
  [ -n "$id" ] || not_ok "submit ${*:2}"
  wait_for "case $id routed" 10 sql_eq "SELECT state FROM cases WHERE id = ${id:-0}" routed
  printf -v "$1" %s "${id:-0}"
}
on() { # on MEETING ACTION ARGS...: gridctl meeting ACTION MEETING ARGS, which must succeed
  "$G" meeting "$2" "$1" "${@:3}" >>"$ART/meeting.out" 2>>"$ART/meeting.err" \
    || not_ok "meeting $2 $1 ${*:3}: $(tail -1 "$ART/meeting.err")"
}
snapshot() {
  sql "SELECT (SELECT count(*) FROM meeting_decisions) || ' ' || (SELECT count(*) FROM case_events) || ' ' ||
              (SELECT sum(version) FROM cases) || ' ' || (SELECT string_agg(version::text, ',' ORDER BY id) FROM meetings) || ' ' ||
              (SELECT count(*) FROM consultation_opinions) || ' ' || (SELECT count(*) FROM meeting_actions)"
}
refused() { # refused CODE WHAT MEETING ACTION ARGS...
  local before after got
  before=$(snapshot)
  "$G" meeting "$4" "$3" "${@:5}" >/dev/null 2>"$ART/refused.err"
  got=$(sed -n 's/^error: \([a-z_]*\):.*/\1/p' "$ART/refused.err")
  after=$(snapshot)
  if [ "$got" == "$1" ] && [ "$before" == "$after" ]; then ok "refused: $2 ($1, nothing changed)"
  else not_ok "refused: $2: got '$got' ($(cat "$ART/refused.err")), want $1; before '$before' after '$after'"; fi
}

routed S --source hotline --ref ML-S --text "老旧小区加装电梯进度慢" --grid QNL.07.063 --category property
routed T --source hotline --ref ML-T --text "农贸市场占道经营" --grid QNL.07.064 --category road
routed K --source hotline --ref ML-K --text "征地补偿标准有异议" --grid QNL.08.067 --category other
routed O --source hotline --ref ML-O --text "跨村排水渠堵塞" --grid QNL.07.065 --category water
clock "2026-12-03T15:00:00+08:00"
act "$S" sign --actor $L3
act "$T" sign --actor $L3B
act "$O" sign --actor P-QNL.07.065-1

clock "2026-12-07T09:00:00+08:00"
wait_for "the monthly L1 meeting" 30 sql_eq "SELECT count(*) FROM meetings WHERE grid = 'QNL' AND kind = 'monthly' AND day = '2026-12-07'" 1
M=$(sql "SELECT id FROM meetings WHERE grid = 'QNL' AND kind = 'monthly' AND day = '2026-12-07'")
W=$(sql "SELECT id FROM meetings WHERE grid = 'QNL.07' AND kind = 'weekly' AND day = '2026-12-07'")
check "the monthly meeting is open with the four cases on its agenda" "open 4" \
  "$(sql "SELECT state FROM meetings WHERE id = $M") $(sql "SELECT count(*) FROM ledger_entries WHERE meeting_id = $M AND case_id IN ($S,$T,$K,$O)")"
levels() { sql "SELECT string_agg(level::text, ' ' ORDER BY id) FROM cases WHERE id IN ($S,$T,$K,$O)"; }
check "no case changed owner at the slot" "3 3 3 3" "$(levels)"

# --- the consultation meeting (民情征询会)
"$G" meeting call --grid QNL --topic "征地补偿标准征询" >"$ART/call.out" 2>&1 || not_ok "meeting call"
X=$(sql "SELECT id FROM meetings WHERE kind = 'consultation' AND grid = 'QNL'")
on "$X" attend --actor $L1 --person $L1
on "$X" attend --actor $L1 --name "村两委周主任" --role village_committee
on "$X" attend --actor $L1 --name "居民代表吴女士" --role resident
on "$X" opinion --actor $L1 --speaker "吴女士" --opinion "补偿标准低于邻村，电话13700001111" --response "街道将对照邻村标准复核"
on "$X" opinion --actor $L1 --speaker "周主任" --opinion "希望分期公示补偿名单" --response "同意，下月起分批公示"
refused forbidden "an opinion recorded by L2 staff" "$X" opinion --actor $L2 --speaker "某人" --opinion "意见"
refused bad_value "an opinion at a meeting that is not a consultation" "$M" opinion --actor $L1 --speaker "某人" --opinion "意见"
check "two opinions with responses; on the stream the phone is redacted" "2 1" \
  "$(sql "SELECT count(*) FROM consultation_opinions WHERE meeting_id = $X AND response IS NOT NULL") $(sql "SELECT count(*) FROM case_events WHERE type = 'meeting.opinion' AND payload->>'opinion' LIKE '%[电话]%'")"

# --- refusals at the L1 meeting
refused forbidden "L2 staff deciding at the L1 meeting" "$M" decide --actor $L2 --case "$S" --decision supervise --deadline "2026-12-10T18:00:00+08:00"
refused bad_value "a weekly decision kind at the monthly meeting" "$M" decide --actor $L1 --case "$S" --decision keep_l3 --deadline "2026-12-10T18:00:00+08:00"
refused missing_field "supervise without its deadline" "$M" decide --actor $L1 --case "$S" --decision supervise
refused bad_value "consult naming a meeting that is not a consultation" "$M" decide --actor $L1 --case "$K" --decision consult --consultation "$W"
refused bad_value "a monthly decision at a weekly meeting" "$W" decide --actor $L1 --case "$S" --decision supervise --deadline "2026-12-10T18:00:00+08:00"

# --- L1's decisions
on "$M" decide --actor $L1 --case "$S" --decision supervise --deadline "2026-12-10T18:00:00+08:00" --note "限期三天答复加装电梯进度"
check "supervise: the case is supervised through the supervise action" "true|case.supervised|3" \
  "$(sql "SELECT supervised || '|' || (SELECT type FROM case_events WHERE case_id = c.id AND type = 'case.supervised') || '|' || level FROM cases c WHERE id = $S")"
on "$M" decide --actor $L1 --case "$T" --decision send_back --note "请二级网格会同市场监管所处理，下周例会汇报"
on "$M" decide --actor $L1 --case "$K" --decision consult --consultation "$X" --note "提交民情征询会"
on "$M" decide --actor $L1 --case "$O" --decision take_over --note "跨村问题，一级网格统筹"
check "take_over: O is L1's by an explicit decision" "1|decision_l1|false|$M" \
  "$(sql "SELECT c.level || '|' || e.rule || '|' || e.automatic || '|' || e.meeting_id FROM cases c JOIN escalations e ON e.case_id = c.id WHERE c.id = $O")"
check "no case changed owner but by a decision" "3 3 3 1 1" "$(levels) $(sql "SELECT count(*) FROM escalations")"

outcome() { sql "SELECT gf_decision_outcome(id) FROM meeting_decisions WHERE meeting_id = $M AND case_id = $1"; }
check "outcomes: supervise waits for its reply, consult for its meeting" "kept kept" "$(outcome $S) $(outcome $K)"
clock "2026-12-08T10:00:00+08:00"
act "$S" progress --actor $L3 --note "已与电梯公司约定下周进场"
on "$X" close --actor $L1
check "the reply to the supervision and the consultation held: done" "done done" "$(outcome $S) $(outcome $K)"
on "$M" minutes --actor $L1 --text "月例会：督办一件，发回一件，征询一件，一级网格接办一件。"
on "$M" close --actor $L1
check "the monthly meeting closed with its decisions by kind" "closed t" \
  "$(sql "SELECT state FROM meetings WHERE id = $M") $(sql "SELECT payload->'decisions' = '{\"supervise\": 1, \"send_back\": 1, \"consult\": 1, \"take_over\": 1}'::jsonb
           FROM case_events WHERE type = 'ledger.published' AND payload->>'meeting' = '$M' AND payload ? 'decisions'")"
"$G" meeting show "$X" >"$ART/show-consultation.out" 2>&1 || not_ok "meeting show consultation"
check "meeting show lists the consultation's opinions" 2 "$(grep -c '答复' "$ART/show-consultation.out")"

# --- [i14-net / i14-ind: the monthly report by category and priority, with the
# --- L2 decisions (report_up) that put each case on the L1 agenda, goes here]

finish
