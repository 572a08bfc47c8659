#!/usr/bin/env bash
# Issue 14, "What to build" 6 and 8: sorting at L3 (梳理分类) and triage that
# is seen.  Through the intake, on the simulated clock:
#   - L3 staff classify their grid's case by category; an L3 grid rejects a
#     case as a duplicate (不予办理: the resident is told why in Chinese,
#     Open311 shows it closed with the reason); L2 reverses it (unreject)
#     and the grid signs for it again;
#   - refusals, each with its code and nothing changed: classify by the L3
#     of another grid, an unknown category, an unknown reason, no reason,
#     reject twice, unreject by L3, reject a closed case;
#   - a suggestion-box slip's sign-for deadline counts from its box opening
#     (gf-suggestbox, a box opened two days before the transcription): its
#     notice names that deadline and it is reminded at once, a call routed
#     at the same time is not;
#   - an unroutable case notifies the L1 triage staff, is reminded after the
#     triage_reminder rule's hours, the L1 leader after leader_factor times
#     that (a reminder made at night waits for the working day); L1 triage
#     may reject it as out of jurisdiction and L1 put it back in triage.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/gateway_lib.sh"
new_db
"$BIN/gridctl" calendar import >"$ART/calendar.log" 2>&1 || not_ok "calendar import"
# Wednesday 2026-11-04 09:00, a working day: no meeting slot in this test.
"$BIN/gridctl" clock set 2026-11-04T09:00:00+08:00 --force >/dev/null
start_stack --escalator
start_gateway GF_DB="$GF_DB options=-crole=gf_gateway"
G="$BIN/gridctl"
L3X=P-QNL.08.067-1 # an L3 leader of another grid
TRIAGE=P-QNL-2     # the L1 grid's triage staff (role triage)

wait_state() { wait_for "case $1 to be $2" 15 sql_eq "SELECT state FROM cases WHERE id = $1" "$2"; }
row() { sql "SELECT concat_ws('|', state, version, coalesce(category, '-'), coalesce(rejected_reason, '-')) FROM cases WHERE id = $1"; }
# refuse WHAT CODE CASE ACTION ARGS...: the intake refuses with CODE and the
# case, its events and notifications are as before.
refuse() {
  local what=$1 code=$2 c=$3 before after out; shift 3
  before="$(row "$c")/$(counts)"
  out=$("$G" case "$1" "$c" "${@:2}" 2>&1)
  after="$(row "$c")/$(counts)"
  if [[ "$out" == "error: $code:"* ]] && [ "$before" == "$after" ]; then ok "refused: $what ($code), nothing changed"
  else not_ok "refused: $what: expected $code and no change; got '$out' ($before -> $after)"; fi
}

# --- classify and reject at L3, unreject at L2 ---------------------------
A=$(submit --source hotline --ref S-A --text "南关村6组自来水停了两天" --grid QNL.07.063 --phone 13912340011)
wait_state "$A" routed
act "$A" sign --actor $L3
act "$A" classify --actor $L3 --category water
check "L3 classifies its grid's case: category set" "signed|4|water|-" "$(row "$A")"
check "case.classified carries the category" water \
  "$(sql "SELECT payload->>'category' FROM case_events WHERE case_id = $A AND type = 'case.classified'")"
refuse "classify by the L3 of another grid" forbidden "$A" classify --actor $L3X --category road
refuse "classify with an unknown category" unknown_category "$A" classify --actor $L3 --category nosuch
refuse "reject with an unknown reason" bad_value "$A" reject --actor $L3 --reason spam --note x
refuse "reject without a reason" missing_field "$A" reject --actor $L3 --note x
refuse "reject without a note" missing_field "$A" reject --actor $L3 --reason duplicate
act "$A" reject --actor $L3 --reason duplicate --note "与 S-A0 反映的是同一停水"
check "rejected as a duplicate" "rejected|5|water|duplicate" "$(row "$A")"
check "gridctl case show names the reason" 1 "$("$G" case show "$A" | grep -c '不予办理 rejected duplicate 重复诉求')"
wait_for "the resident is told" 15 sql_eq "SELECT count(*) FROM notifications WHERE case_id = $A AND kind = 'resident.rejected'" 1
check "the resident's text says why, in Chinese" 1 \
  "$(sql "SELECT count(*) FROM notifications WHERE case_id = $A AND kind = 'resident.rejected'
           AND text LIKE '%案件 $A（供水排水）经网格核实，属重复诉求，不予办理%'")"
http GET /open311/v2/requests/$A.json
check "Open311: a rejected request is closed, its notes say why" "closed|不予办理：重复诉求" \
  "$(jbody '.[0].status + "|" + .[0].status_notes')"
check "a rejected case is not open (dashboard/watch)" 0 \
  "$(sql "SELECT count(*) FROM gf_watch_cases('', $A)")"
refuse "reject a rejected case" illegal_transition "$A" reject --actor $L3 --reason invalid --note x
refuse "unreject by L3 (only L2/L1 reverse a rejection)" forbidden "$A" unreject --actor $L3 --note x
refuse "unreject by the L2 of another grid" forbidden "$A" unreject --actor P-QNL.08-1 --note x
act "$A" unreject --actor $L2 --note "复核：与 S-A0 不是同一户，恢复办理"
check "L2 reverses it: routed to its grid again, the reason cleared" "routed|6|water|-" "$(row "$A")"
wait_for "the resident is told it is handled again" 15 sql_eq \
  "SELECT count(*) FROM notifications WHERE case_id = $A AND kind = 'resident.unrejected'" 1
http GET /open311/v2/requests/$A.json
check "Open311: open again" "open|已分派" "$(jbody '.[0].status + "|" + .[0].status_notes')"
act "$A" sign --actor $L3
check "the grid signs for it again" signed "$(sql "SELECT state FROM cases WHERE id = $A")"
check "A's timeline" "case.received case.routed case.signed case.classified case.rejected case.unrejected case.signed" \
  "$(sql "SELECT string_agg(type, ' ' ORDER BY id) FROM case_events WHERE case_id = $A AND type <> 'notification.created'")"

# A closed case is archived: no rejection.
B=$(submit --source hotline --ref S-B --text "楼道灯坏" --grid QNL.07.063)
wait_state "$B" routed
act "$B" sign --actor $L3
act "$B" resolve --actor $L3 --note "已修"
act "$B" callback --actor $L3 --satisfied yes
act "$B" close --actor $L3
refuse "reject a closed case" archived "$B" reject --actor $L3 --reason invalid --note x

# --- the suggestion box: the clock starts at box opening --------------------
wait_for "pipeline to drain" 30 quiescent
printf 'box_id,opened_at,slip_no,text,name,address\nX9,2026-11-02T09:00:00+08:00,1,南关村6组下水道堵了,,青年路街道南关村6组14号\n' >"$ART/slips.csv"
"$BIN/gf-suggestbox" "$ART/slips.csv" >"$ART/slips.out" 2>"$ART/slips.err"
check "the slip is imported" "accepted 1, duplicate 0, rejected 0, failed 0" "$(cat "$ART/slips.out")"
C=$(submit --source hotline --ref S-C --text "南关村6组下水道堵了" --address "青年路街道南关村6组19号")
S=$(sql "SELECT id FROM cases WHERE source = 'suggestbox' AND source_ref LIKE 'X9/%'")
wait_state "$S" routed
wait_state "$C" routed
check "the slip's reported_at is its box opening, received (transcribed) today" "2026-11-02 09:00|2026-11-04 09:00" \
  "$(sql "SELECT to_char(reported_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') || '|' ||
                 to_char(received_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') FROM cases WHERE id = $S")"
wait_for "the leader's notices" 15 sql_eq "SELECT count(*) FROM notifications WHERE case_id IN ($S, $C) AND kind = 'case.routed' AND recipient = '$L3'" 2
check "the slip's notice: sign for by box opening + 24 h (11-03 09:00)" 1 \
  "$(sql "SELECT count(*) FROM notifications WHERE case_id = $S AND kind = 'case.routed' AND recipient = '$L3' AND text LIKE '%请于 11-03 09:00 前签收%'")"
check "the call's notice: by its routing + 24 h (11-05 09:00)" 1 \
  "$(sql "SELECT count(*) FROM notifications WHERE case_id = $C AND kind = 'case.routed' AND recipient = '$L3' AND text LIKE '%请于 11-05 09:00 前签收%'")"
wait_for "the slip reminded at once (overdue since 11-03 09:00)" 15 sql_eq \
  "SELECT count(*) FROM notifications WHERE case_id = $S AND kind = 'sign.reminder'" 1
check "the slip waited twice the hours: the L2 leader too" 1 \
  "$(sql "SELECT count(*) FROM notifications WHERE case_id = $S AND kind = 'sign.reminder.l2'")"
check "the call is not overdue: no reminder" 0 \
  "$(sql "SELECT count(*) FROM notifications WHERE case_id = $C AND kind LIKE 'sign.reminder%'")"

# --- triage that is seen ------------------------------------------------------
U=$(submit --source hotline --ref S-U --text "有人在河边倒垃圾" --address "某县某镇不知名的地方")
wait_state "$U" unroutable
wait_for "the triage staff told" 15 sql_eq "SELECT count(*) FROM notifications WHERE case_id = $U AND kind = 'case.unroutable'" 1
check "the notice: to the L1 grid's triage staff, in Chinese" "$TRIAGE|1" \
  "$(sql "SELECT recipient || '|' || (text LIKE '【待分流】案件 $U%请分流专员尽快分派%')::int FROM notifications WHERE case_id = $U AND kind = 'case.unroutable'")"
clock_set 2026-11-04T12:59:00+08:00
sleep 2 # the escalator's tick at 12:59: the subject (no reminder yet), not a wait
check "12:59 (under 4 h in triage): no reminder" 0 \
  "$(sql "SELECT count(*) FROM notifications WHERE case_id = $U AND kind LIKE 'triage.reminder%'")"
clock_set 2026-11-04T13:01:00+08:00
wait_for "13:01: the triage staff reminded" 15 sql_eq \
  "SELECT count(*) FROM notifications WHERE case_id = $U AND kind = 'triage.reminder' AND recipient = '$TRIAGE'" 1
check "not the L1 leader yet" 0 "$(sql "SELECT count(*) FROM notifications WHERE case_id = $U AND kind = 'triage.reminder.l1'")"
check "a reminder by day goes at once (every channel)" t \
  "$(sql "SELECT bool_and(d.not_before = n.created_at) FROM deliveries d JOIN notifications n ON n.id = d.notification
           WHERE n.case_id = $U AND n.kind = 'triage.reminder'")"
clock_set 2026-11-04T21:01:00+08:00
wait_for "21:01 (12 h: leader_factor 3): the L1 leader reminded" 15 sql_eq \
  "SELECT count(*) FROM notifications WHERE case_id = $U AND kind = 'triage.reminder.l1' AND recipient = '$L1'" 1
check "made at 21:01: it waits for the working day (Thursday 08:00)" "2026-11-05 08:00" \
  "$(sql "SELECT DISTINCT to_char(d.not_before AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')
           FROM deliveries d JOIN notifications n ON n.id = d.notification
          WHERE n.case_id = $U AND n.kind = 'triage.reminder.l1'")"
check "reminded once each" 2 "$(sql "SELECT count(*) FROM notifications WHERE case_id = $U AND kind LIKE 'triage.reminder%'")"
act "$U" reject --actor $TRIAGE --reason out_of_jurisdiction --note "地点不在本街道"
check "L1 triage rejects it: out of jurisdiction" "rejected|out_of_jurisdiction" \
  "$(sql "SELECT state || '|' || rejected_reason FROM cases WHERE id = $U")"
act "$U" unreject --actor $L1 --note "经核实属本街道，重新分流"
check "L1 puts it back in triage (its grid is the L1 grid)" "unroutable|QNL" \
  "$(sql "SELECT state || '|' || grid FROM cases WHERE id = $U")"

"$G" case reject "$A" --actor $L3 --reason invalid --note "重发" --request-id S-A-rej >/dev/null 2>&1
v=$(sql "SELECT version FROM cases WHERE id = $A")
out=$("$G" case reject "$A" --actor $L3 --reason invalid --note "重发" --request-id S-A-rej 2>&1)
check "a resent reject (same request id) is a duplicate, not a second effect" "case $A: rejected (version $v) [already done]|$v" \
  "$out|$(sql "SELECT version FROM cases WHERE id = $A")"
finish
