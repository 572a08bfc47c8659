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
# The week before, QNL.08's weekly meeting reports a case up (report_up) and
# takes one over: the monthly agenda shows the reported-up case with the L2
# decision behind it, by category and priority (gridctl ledger agenda); the
# monthly report counts the month by category and by priority; a monthly
# meeting closed by people escalates nothing automatically.
source "$(dirname "$0")/lib.sh"
G="$BIN/gridctl"
new_db
"$G" calendar import >"$ART/calendar.out" 2>&1 || not_ok "calendar import"
clock_set "2026-11-26T13:00:00+08:00" # a Thursday, the week before
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

# --- the week before: QNL.08's weekly meeting reports one case up to L1
# --- (report_up) and takes another over at L2, then closes
L2X=P-QNL.08-1
routed U --source hotline --ref ML-U --text "跨街道的污水直排" --grid QNL.08.067 --category water
routed H --source hotline --ref ML-H --text "两村土地边界纠纷" --grid QNL.08.068 --category dispute
clock "2026-11-30T09:00:00+08:00"
wait_for "QNL.08's weekly meeting" 30 sql_eq "SELECT count(*) FROM meetings WHERE grid = 'QNL.08' AND kind = 'weekly' AND day = '2026-11-30'" 1
W8=$(sql "SELECT id FROM meetings WHERE grid = 'QNL.08' AND kind = 'weekly' AND day = '2026-11-30'")
clock "2026-11-30T10:00:00+08:00"
on "$W8" decide --actor $L2X --case "$U" --decision report_up --note "污水来自辖区外，报一级网格协调"
on "$W8" decide --actor $L2X --case "$H" --decision take_over --note "二级网格协调两村"
on "$W8" close --actor $L2X
act "$H" classify --actor $L2X --tier hard
clock "2026-12-03T13:00:00+08:00" # a Thursday: no rule is due for these cases at the slots

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
check "U is on it as reported up by QNL.08's decision; H, at L2 and hard, as on the ledger" \
  "$U:reported_up:report_up:QNL.08 $H:ledger::" \
  "$(sql "SELECT string_agg(case_id || ':' || reason || ':' || coalesce(decision_kind, '') || ':' || coalesce(decision_grid, ''), ' ' ORDER BY case_id)
           FROM gf_meeting_agenda($M) WHERE case_id IN ($U, $H)")"
"$G" ledger agenda --meeting "$M" --format json >"$ART/agenda.json" 2>>"$ART/meeting.err" || not_ok "ledger agenda"
check "gridctl ledger agenda: by category (dispute, other, property, road, water); U with its L2 decision" \
  "dispute other property road water|report_up QNL.08 2026-11-30" \
  "$(python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))["agenda"]
cats = []
for x in a:
    if x["category"] not in cats: cats.append(x["category"])
u = [x for x in a if x["case_id"] == int(sys.argv[2])][0]
print(" ".join(cats) + "|" + u["decision_kind"] + " " + u["decision_grid"] + " " + u["decision_day"])' "$ART/agenda.json" "$U")"
levels() { sql "SELECT string_agg(level::text, ' ' ORDER BY id) FROM cases WHERE id IN ($S,$T,$K,$O)"; }
check "no case changed owner at the slot (nor U, reported up, nor H, hard at L2)" "3 3 3 3|3 2" \
  "$(levels)|$(sql "SELECT string_agg(level::text, ' ' ORDER BY id) FROM cases WHERE id IN ($U, $H)")"

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
check "no case changed owner but by a decision" "3 3 3 1 2" "$(levels) $(sql "SELECT count(*) FROM escalations")"

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

# --- the meeting was closed by people: the monthly rule escalates nothing,
# --- not even the undecided hard case H, days after the lapse time
clock "2026-12-10T10:00:00+08:00"
wait_for "the escalator to catch up" 30 meetings_due_held
check "a closed monthly meeting: the monthly rule escalates nothing (H stays at L2)" "2 0" \
  "$(sql "SELECT level FROM cases WHERE id = $H") $(sql "SELECT count(*) FROM escalations WHERE rule = 'monthly_l1'")"
check "but QNL.08's weekly meeting of 7 December, never closed, lapsed: its rule moved U (no decision that week) to L2, automatically" \
  "$U|weekly_l2|true|2026-12-07" \
  "$(sql "SELECT string_agg(e.case_id || '|' || e.rule || '|' || e.automatic || '|' || m.day, ' ') FROM escalations e JOIN meetings m ON m.id = e.meeting_id WHERE e.automatic")"

# --- L1 receives the month by category and by priority (分类别、分重点)
"$G" report monthly --grid QNL --month 2026-12 --format json >"$ART/report.json" 2>>"$ART/meeting.err" || not_ok "report monthly"
check "the monthly report counts December's cases by category and by priority" "property=1 road=1 water=1 other=1|一般=4 紧急=0" \
  "$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
cat = {x["key"]: x["received"] for x in r["by_category"]}
pri = {x["name"]: x["received"] for x in r["by_priority"]}
print("property=%s road=%s water=%s other=%s|一般=%s 紧急=%s" % (cat.get("property", 0), cat.get("road", 0), cat.get("water", 0),
      cat.get("other", 0), pri.get("一般", 0), pri.get("紧急", 0)))' "$ART/report.json")"

finish
