#!/usr/bin/env bash
# Issue 17 ("a meeting or a hot case never stalls the intake"): a staff
# action on a case another transaction holds locked (a lapse escalating
# it, a meeting's transaction, another action) is set aside and tried
# again until intake/deadline, while the intake goes on acknowledging
# complaints; once the lock is gone it is applied, once.  Two actions on
# one case keep their order.  Past the deadline the action is answered
# `unavailable`, nothing written, and the client's resend is applied once.
# An attachment.add (a photo from a grid member on patrol) waits the same
# way, in its place behind an action on the same case.
source "$(dirname "$0")/lib.sh"
new_db
export GF_INTAKE_DEADLINE_MS=4000
start_stack
G="$BIN/gridctl"

# hold CASE SECONDS: another session locks the case's row for SECONDS (in
# the background), then returns once the lock is held.
hold() {
  sql "BEGIN; SELECT 1 FROM cases WHERE id = $1 FOR UPDATE; SELECT pg_sleep ($2); COMMIT;" >/dev/null &
  HOLDER=$!
  wait_for "case $1 locked by another session" 10 sql_eq \
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database () AND pid <> pg_backend_pid () AND state = 'active'
        AND query LIKE '%FOR UPDATE; SELECT pg_sleep ($2)%'" 1
}
running() { kill -0 "$1" 2>/dev/null && echo running || echo ended; }
actions_of() { sql "SELECT coalesce (string_agg (action, ',' ORDER BY id), '') FROM case_actions
                     WHERE case_id = $1 AND action <> 'route'"; }

A=$(submit --source hotline --ref BZ-A --text "楼道灯不亮" --grid QNL.07.063)
B=$(submit --source hotline --ref BZ-B --text "垃圾未清运" --grid QNL.07.063)
wait_for "both cases routed" 20 sql_eq "SELECT count(*) FROM cases WHERE id IN ($A, $B) AND state = 'routed'" 2

# --- within the deadline -----------------------------------------------------
hold "$A" 2.5
# The versions say the order: the progress is meant for the case as the
# sign leaves it (version 3), so it conflicts unless applied after the sign.
"$G" case sign "$A" --actor "$L3" --request-id busy-1 --version 2 >"$ART/sign-a.out" 2>&1 &
SIGN=$!
wait_for "the sign set aside (intake log)" 10 grep -q "case.action busy-1 on case $A waits: another transaction holds the case" "$ART/intake.log"
"$G" case progress "$A" --actor "$L3" --request-id busy-2 --version 3 --note "已联系物业" >"$ART/progress-a.out" 2>&1 &
PROGRESS=$!
wait_for "the progress set aside behind it" 10 grep -q "case.action busy-2 on case $A waits: an earlier request on it waits" "$ART/intake.log"
probe=$("$TOOLS/intake_probe" "$GF_INTAKE" BZ-P 3000)
check "a complaint acknowledged while both actions wait for the case" ok "${probe%% *}"
check "the sign was still waiting when the complaint was answered" running "$(running "$SIGN")"
check "nothing of the actions written while the case is locked" "" "$(actions_of "$A")"
wait "$HOLDER"
wait "$SIGN"; rc_sign=$?
wait "$PROGRESS"; rc_progress=$?
check "once the lock is gone both are applied and answered ok" "0 0" "$rc_sign $rc_progress"
check "each once, in the order sent" "sign,progress" "$(actions_of "$A")"

# --- an attachment waits too, behind an action on its case --------------------
printf '\xff\xd8\xff\xe0 a photo of the stairwell' >"$ART/photo.jpg"
attachments_of() { sql "SELECT count(*) FROM attachments WHERE case_id = $1"; }
hold "$A" 2.5
"$G" case progress "$A" --actor "$L3" --request-id busy-4 --version 4 --note "再次现场查看" >"$ART/progress-a2.out" 2>&1 &
PROGRESS=$!
wait_for "the progress set aside" 10 grep -q "case.action busy-4 on case $A waits: another transaction holds the case" "$ART/intake.log"
"$G" case attach "$A" --actor "$L3" --file "$ART/photo.jpg" --request-id busy-att >"$ART/attach-a.out" 2>&1 &
ATTACH=$!
wait_for "the attachment set aside behind it" 10 grep -q "attachment.add busy-att on case $A waits: an earlier request on it waits" "$ART/intake.log"
probe=$("$TOOLS/intake_probe" "$GF_INTAKE" BZ-Q 3000)
check "a complaint acknowledged while the action and the attachment wait" ok "${probe%% *}"
check "the attachment was still waiting when the complaint was answered" running "$(running "$ATTACH")"
check "no attachment stored while the case is locked" 0 "$(attachments_of "$A")"
wait "$HOLDER"
wait "$PROGRESS"; rc_progress=$?
wait "$ATTACH"; rc_attach=$?
check "once the lock is gone both are answered ok" "0 0" "$rc_progress $rc_attach"
check "the attachment stored once, after the progress it came behind (by seq)" "1 true" \
  "$(sql "SELECT (SELECT count(*) FROM attachments WHERE case_id = $A) || ' ' ||
                 ((SELECT max (seq) FROM case_events WHERE case_id = $A AND type = 'attachment.added')
                  > (SELECT max (seq) FROM case_events WHERE case_id = $A AND type = 'case.progress'))")"

# --- past the deadline ---------------------------------------------------------
hold "$B" 7
"$G" case sign "$B" --actor "$L3" --request-id busy-3 >"$ART/sign-b.out" 2>&1 &
SIGN=$!
wait_for "the answer at the deadline (intake log)" 10 grep -q "case.action $B sign by $L3 from (plain): unavailable: case $B is being changed by another transaction" "$ART/intake.log"
check "nothing written when the deadline passed" "" "$(actions_of "$B")"
wait "$HOLDER"
wait "$SIGN"
check "gridctl's resend after the lock: applied and answered ok" 0 "$?"
check "the sign stored once" sign "$(actions_of "$B")"
check "the case signed" signed "$(sql "SELECT state FROM cases WHERE id = $B")"

finish
