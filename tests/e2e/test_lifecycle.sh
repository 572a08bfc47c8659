#!/usr/bin/env bash
# Issue 3, acceptance 1-3: a scripted scenario through every state and branch
# (referral and reply, dissatisfied callback and reopen, return and re-route,
# L1 reassignment, merge, supervision, classification) checked against the
# stored timeline and the events on the bus; a table of illegal transitions
# that must each be refused with their code and change nothing; 50
# concurrent conflicting actions on one case.
source "$(dirname "$0")/lib.sh"
new_db
"$BIN/gridctl" department import "$ROOT/deploy/sample/departments.json" >/dev/null || not_ok "department import"
start_stack
start_capture

G="$BIN/gridctl"

state_of() { sql "SELECT state FROM cases WHERE id = $1"; }
# wait_state CASE STATE: the case reached STATE and the notifier has told
# the grid (as a leader sees the notice before acting on it), so that the
# timelines below have one order.
wait_state() {
  wait_for "case $1 to be $2" 10 sql_eq "SELECT state FROM cases WHERE id = $1" "$2"
  wait_for "the notifier to catch up" 20 quiescent
}
# The case's events; of the notifications only those to a grid leader (members
# and the resident are told too: see test_notify_*).
types_of() { sql "SELECT string_agg(type, ' ' ORDER BY id) FROM case_events WHERE case_id = $1
                   AND (type <> 'notification.created' OR payload->>'role' = 'leader')"; }

# --- A: referral, supervision, dissatisfied callback, reopen, close ----------
A=$(submit --source hotline --ref LC-A --text "南关村6组路灯坏了一个月" --address "青年路街道南关村6组8号" --phone 13912340001)
wait_state "$A" routed
act "$A" sign --actor $L3
act "$A" progress --actor $L3 --note "已联系供电所"
act "$A" refer --actor $L3 --department GDS --note "代居民报修"
act "$A" reply --actor $L3 --note "供电所：本周内更换"
act "$A" supervise --actor $L2
wait_for "the supervision notice" 20 quiescent
act "$A" classify --actor $L2 --tier hard --urgent yes --groups dibao
act "$A" resolve --actor $L3 --note "已更换路灯"
act "$A" callback --actor $L3 --satisfied no --note "仍然不亮"
act "$A" reopen --actor $L3 --note "重新报修"
act "$A" sign --actor $L3
act "$A" resolve --actor $L3 --note "更换线路后已亮"
act "$A" callback --actor $L3 --satisfied yes
act "$A" close --actor $L3
check "A: timeline" "case.received case.routed notification.created case.signed case.progress case.referred case.department_replied case.supervised notification.created case.classified case.resolved case.callback case.reopened case.signed case.resolved case.callback case.closed" "$(types_of "$A")"
check "A: archived, resolved tier, supervised, hard->resolved, urgent, dibao" "closed|resolved|t|t|{dibao}|1" \
  "$(sql "SELECT concat_ws('|', state, tier, supervised, urgent, groups, reopen_count) FROM cases WHERE id = $A")"

# --- B: returned by its grid, L1 triage, reassigned by L1 --------------------
B=$(submit --source hotline --ref LC-B --text "楼道堆放杂物" --grid QNL.07.063)
wait_state "$B" routed
act "$B" return --actor $L3 --note "该楼栋不属于本网格"
wait_state "$B" unroutable
check "B: the router did not send it back to the grid that returned it" "returned|QNL" \
  "$(sql "SELECT (SELECT payload->>'reason' FROM case_events WHERE case_id = $B AND type = 'case.unroutable') || '|' || grid FROM cases WHERE id = $B")"
act "$B" assign --actor $L1 --grid QNL.07.064 --note "改派至第64网格"
wait_for "B's new leader notified" 10 sql_eq "SELECT count(*) FROM notifications WHERE case_id = $B AND recipient = '$L3B'" 1
act "$B" sign --actor $L3B
act "$B" resolve --actor $L3B --note "已清理"
act "$B" callback --actor $L3B --satisfied yes
act "$B" close --actor $L3B
check "B: timeline" "case.received case.routed notification.created case.returned case.unroutable case.routed notification.created case.signed case.resolved case.callback case.closed" "$(types_of "$B")"

# --- C, D, E: one problem through three channels, merged, followed ---------
C=$(submit --source hotline --ref LC-C --text "南关村6组下水道堵塞" --grid QNL.07.063 --phone 13912340003)
D=$(submit --source suggestbox --ref "BOX-7/1793578500000/3" --text "下水道堵了，污水外溢" --grid QNL.07.063)
E=$(submit --source patrol --ref LC-E --text "巡查发现6组下水道堵塞" --grid QNL.07.063 --reporter $L3)
wait_state "$E" routed
act "$D" merge --actor $L2 --into "$C" --note "同一问题"
act "$E" merge --actor $L2 --into "$C" --note "同一问题"
act "$C" sign --actor $L3
act "$C" resolve --actor $L3 --note "已疏通"
check "D and E followed C to resolved" "resolved resolved" "$(state_of "$D") $(state_of "$E")"
for x in "$C" "$D" "$E"; do
  act "$x" callback --actor $L3 --satisfied yes
  act "$x" close --actor $L3
done
check "C: timeline" "case.received case.routed notification.created case.signed case.resolved case.callback case.closed" "$(types_of "$C")"
check "D: timeline" "case.received case.routed notification.created case.merged case.resolved case.callback case.closed" "$(types_of "$D")"
check "E recorded by its patrol reporter" "$L3" "$(sql "SELECT reporter FROM cases WHERE id = $E")"
check "every action stored with who, when and why" 29 "$(sql "SELECT count(*) FROM case_actions WHERE actor IS NOT NULL AND at IS NOT NULL")"
"$G" case show "$A" >"$ART/case_A.txt"
check "case show prints the actors' names" 1 "$(grep -c "重新报修" "$ART/case_A.txt")"
"$G" case list --grid QNL.07 --state closed >"$ART/list.txt"
check "case list filters by grid prefix and state" "(5 cases)" "$(tail -1 "$ART/list.txt")"
"$G" case list --priority dibao >"$ART/list2.txt"
check "case list filters by special group" "(1 cases)" "$(tail -1 "$ART/list2.txt")"

# --- a resent action is answered with its first result, not applied twice ---
R=$(submit --source hotline --ref LC-R --text "R 重发" --grid QNL.07.063)
wait_state "$R" routed
"$G" case sign "$R" --actor $L3 --request-id app-42 >"$ART/resend1.out" 2>&1
"$G" case sign "$R" --actor $L3 --request-id app-42 --version 2 >"$ART/resend2.out" 2>&1
check "first send signs" "case $R: signed (version 3)" "$(cat "$ART/resend1.out")"
check "the resend gets the same answer, marked" "case $R: signed (version 3) [already done]" "$(cat "$ART/resend2.out")"
check "one action stored for both sends" 1 "$(sql "SELECT count(*) FROM case_actions WHERE case_id = $R")"
"$G" case sign "$B" --actor $L3 --request-id app-42 --version 99 >/dev/null 2>"$ART/resend3.err"
check "the same request id on another case is refused" bad_value "$(sed -n 's/^error: \([a-z_]*\):.*/\1/p' "$ART/resend3.err")"

# --- acceptance 2: illegal transitions change nothing ----------------------
F=$(submit --source hotline --ref LC-F --text "F 已分派" --grid QNL.07.063)
Gc=$(submit --source hotline --ref LC-G --text "G 已签收" --grid QNL.07.063)
H=$(submit --source hotline --ref LC-H --text "H 已办结" --grid QNL.07.063)
I=$(submit --source hotline --ref LC-I --text "I 回访不满意" --grid QNL.07.063)
wait_state "$I" routed
act "$Gc" sign --actor $L3
act "$H" sign --actor $L3; act "$H" resolve --actor $L3 --note 办结
act "$I" sign --actor $L3; act "$I" resolve --actor $L3 --note 办结; act "$I" callback --actor $L3 --satisfied no
J=$A # closed
snapshot() { sql "SELECT string_agg(id || ':' || state || ':' || version || ':' || (SELECT count(*) FROM case_events e WHERE e.case_id = c.id), ' ' ORDER BY id) FROM cases c"; }
refused() { # refused CODE CASE ACTION ARGS...
  local code=$1 before after out; shift
  before=$(snapshot)
  out=$("$G" case "$2" "$1" "${@:3}" 2>&1 >/dev/null)
  after=$(snapshot)
  if [[ "$out" == "error: $code:"* ]] && [ "$before" == "$after" ]; then ok "refused $code: $2 ${*:3} on case $1"
  else not_ok "expected $code for $2 on case $1, got '$out' (changed: $([ "$before" == "$after" ] && echo no || echo yes))"; fi
}
refused illegal_transition "$F" resolve --actor $L3 --note "未签收就办结"
refused illegal_transition "$F" progress --actor $L3 --note x
refused illegal_transition "$F" reply --actor $L3 --note x
refused illegal_transition "$F" callback --actor $L3 --satisfied yes
refused illegal_transition "$F" close --actor $L3
refused illegal_transition "$Gc" sign --actor $L3
refused illegal_transition "$Gc" reply --actor $L3 --note x
refused illegal_transition "$H" close --actor $L3
refused illegal_transition "$H" reopen --actor $L3
refused illegal_transition "$I" close --actor $L3
refused illegal_transition "$F" merge --actor $L2 --into "$J"
refused archived "$J" progress --actor $L3 --note x
refused archived "$J" reopen --actor $L1
refused forbidden "$F" sign --actor $L3B
refused forbidden "$F" supervise --actor $L3
refused forbidden "$F" assign --actor $L2 --grid QNL.01.001
refused unknown_actor "$F" sign --actor P-NOBODY
refused conflict "$F" sign --actor $L3 --version 1
refused unknown_case 999999 sign --actor $L3 --version 1
refused bad_value "$F" assign --actor $L2 --grid QNL.07
refused missing_field "$Gc" resolve --actor $L3
refused missing_field "$Gc" refer --actor $L3

# --- acceptance 3: 50 concurrent conflicting actions -----------------------
K=$(submit --source hotline --ref LC-K --text "K 并发" --grid QNL.07.063)
wait_state "$K" routed
wait_for "K notified" 10 sql_eq "SELECT count(*) FROM notifications WHERE case_id = $K AND recipient = '$L3'" 1
v=$(sql "SELECT version FROM cases WHERE id = $K")
# (a supervision also notifies the leader: notification events are not counted)
events_before=$(sql "SELECT count(*) FROM case_events WHERE case_id = $K AND type <> 'notification.created'")
pids=()
for n in $(seq 1 50); do
  if [ $((n % 2)) -eq 0 ]; then args=(sign "$K" --actor $L3 --version "$v")
  else args=(supervise "$K" --actor $L2 --version "$v"); fi
  "$G" case "${args[@]}" >"$ART/race.$n.out" 2>"$ART/race.$n.err" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
wins=$(cat "$ART"/race.*.out | grep -c "^case $K:")
conflicts=$(cat "$ART"/race.*.err | grep -c "^error: conflict:")
check "exactly one of 50 same-version actions wins" 1 "$wins"
check "the other 49 get conflict errors" 49 "$conflicts"
winner=$(sql "SELECT action FROM case_actions WHERE case_id = $K")
expected=$([ "$winner" == sign ] && echo "signed|f|$((v + 1))" || echo "routed|t|$((v + 1))")
check "final state equals the winner ($winner) applied once" "$expected" \
  "$(sql "SELECT concat_ws('|', state, supervised, version) FROM cases WHERE id = $K")"
check "one event for the one winner" $((events_before + 1)) \
  "$(sql "SELECT count(*) FROM case_events WHERE case_id = $K AND type <> 'notification.created'")"

# Round 2: 50 racing classifications that each re-read the version.
v=$(sql "SELECT version FROM cases WHERE id = $K")
pids=()
for n in $(seq 1 50); do
  u=$([ $((n % 2)) -eq 0 ] && echo yes || echo no)
  "$G" case classify "$K" --actor $L2 --urgent $u --note "u=$u" >"$ART/race2.$n.out" 2>"$ART/race2.$n.err" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
wins=$(cat "$ART"/race2.*.out | grep -c "^case $K:")
losers=$(cat "$ART"/race2.*.err | grep -c "^error: conflict:")
check "round 2: every action either won or got a conflict" 50 $((wins + losers))
check "round 2: winners are exactly the stored actions" "$wins" \
  "$(sql "SELECT count(*) FROM case_actions WHERE case_id = $K AND action = 'classify'")"
check "round 2: version moved once per winner" $((v + wins)) "$(sql "SELECT version FROM cases WHERE id = $K")"
last=$(sql "SELECT note FROM case_actions WHERE case_id = $K ORDER BY version DESC LIMIT 1")
check "round 2: final urgent flag is the last winner's" "$([ "$last" == u=yes ] && echo t || echo f)" \
  "$(sql "SELECT urgent FROM cases WHERE id = $K")"

# --- the bus saw exactly the stored timeline ------------------------------
wait_for "pipeline to drain" 30 quiescent
stop_capture
total=$(sql "SELECT count(*) FROM case_events")
check "bus: every event once, dense" "$(seq 1 "$total" | md5sum)" "$(cut -d' ' -f1 "$ART/capture.txt" | md5sum)"
check "bus: topics match the stored events" \
  "$(sql "SELECT seq || ' ' || id || ' ' || topic FROM case_events ORDER BY seq" | md5sum)" \
  "$(md5sum <"$ART/capture.txt")"
finish
