#!/usr/bin/env bash
# Issue 5, acceptance 3: a non-urgent message to staff created on Friday 20:00
# before a make-up working Sunday (2026-09-20, 国庆调休) waits for that Sunday
# morning; an urgent one goes at once; residents' receipts are not held.
# Also the other rules (supervision, referral overdue, resolved → resident),
# the e-mail channel through SMTP, and the message contents.
source "$(dirname "$0")/lib.sh"
new_db
SMTP_PORT=$((PORT_BASE + 6))
python3 "$ROOT/tests/tools/smtp_sink.py" $SMTP_PORT "$ART/mail" >"$ART/smtp.log" 2>&1 &
SMTP=$!
trap 'kill ${GW:-} $SMTP 2>/dev/null; stop_all' EXIT
start_sms_gateway "$ART/gateway.log"
wait_for "SMTP sink" 30 port_open $SMTP_PORT
export GF_SMS_URL=http://127.0.0.1:$GW_PORT/sms GF_SMTP_URL=smtp://127.0.0.1:$SMTP_PORT \
  GF_SMTP_FROM=notice@gridflow.example
LEADER=$L3
sql "UPDATE people SET channels = '{app,sms,email}', email = 'leader063@example.org' WHERE id = '$LEADER'" >/dev/null
"$BIN/gridctl" calendar import >"$ART/calendar.log" 2>&1 || not_ok "calendar import"
"$BIN/gridctl" department import "$ROOT/deploy/sample/departments.json" >/dev/null || not_ok "department import"
"$BIN/gridctl" clock set 2026-09-18T20:00:00+08:00 --force >/dev/null
start_stack
start escalator

A=$("$BIN/gridctl" submit --source hotline --ref Q-A --text "楼道堆放杂物" --grid QNL.07.063 --phone 13912345678 | grep -o '[0-9]*' | head -1)
B=$("$BIN/gridctl" submit --source hotline --ref Q-B --text "燃气泄漏气味" --grid QNL.07.063 --phone 13987654321 --urgent | grep -o '[0-9]*' | head -1)
note "case A (normal) $A, case B (urgent) $B"
staff_sms() { # CASE STATE: the case's staff SMS in that state
  sql "SELECT count(*) FROM deliveries d JOIN notifications n ON n.id = d.notification
        WHERE n.case_id = $1 AND n.kind = 'case.routed' AND d.channel = 'sms' AND d.state = '$2'"
}
wait_for "routed and fanned out" 20 sql_eq "SELECT count(DISTINCT n.case_id) FROM deliveries d
   JOIN notifications n ON n.id = d.notification WHERE n.kind = 'case.routed'" 2
nstaff=$(sql "SELECT count(*) FROM people WHERE grid = 'QNL.07.063' AND phone IS NOT NULL")
wait_for "urgent B: staff SMS sent at once" 15 eval "[ \"\$(staff_sms $B sent)\" == $nstaff ]"
ok "urgent B: $nstaff staff SMS sent at Friday 20:00"
wait_for "urgent B: e-mail to the leader sent at once" 15 eval "grep -lq 'n[0-9]*.email@gridflow' \"$ART\"/mail/*.eml 2>/dev/null"
check "resident receipts are not held (A and B)" 2 \
  "$(sql "SELECT count(*) FROM deliveries d JOIN notifications n ON n.id = d.notification
           WHERE n.recipient IS NULL AND n.case_id IN ($A, $B) AND d.state = 'sent'")"
check "non-urgent A: every staff message held until Sunday 2026-09-20 08:00" "$(sql "SELECT count(*) FROM deliveries d
   JOIN notifications n ON n.id = d.notification WHERE n.case_id = $A AND n.recipient IS NOT NULL")" \
  "$(sql "SELECT count(*) FROM deliveries d JOIN notifications n ON n.id = d.notification
           WHERE n.case_id = $A AND n.recipient IS NOT NULL AND d.state = 'pending'
             AND d.not_before = '2026-09-20 08:00:00+08'")"
"$BIN/gridctl" clock set 2026-09-19T12:00:00+08:00 >/dev/null
sleep 2 # time for a wrong early send to happen: the subject, not a wait
check "Saturday noon (a day off): A's staff SMS still held" 0 "$(staff_sms $A sent)"
"$BIN/gridctl" clock set 2026-09-20T08:01:00+08:00 >/dev/null
wait_for "Sunday 08:01 (make-up working day): A's staff SMS sent" 15 eval "[ \"\$(staff_sms $A sent)\" == $nstaff ]"
check "A's messages went out on Sunday morning (business time)" "2026-09-20 08:01" \
  "$(sql "SELECT DISTINCT to_char(d.sent_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') FROM deliveries d
           JOIN notifications n ON n.id = d.notification WHERE n.case_id = $A AND n.recipient IS NOT NULL AND d.channel = 'sms'")"
wait_for "A's e-mail delivered" 15 eval "[ \$(ls \"$ART\"/mail | wc -l) -ge 2 ]"
mailA=$(grep -l "案件 $A，" "$ART"/mail/*.eml | head -1)
check "A's e-mail: to the leader, UTF-8, the dedupe key as Message-ID" yes \
  "$(grep -q 'leader063@example.org' "$mailA" && grep -q 'charset=UTF-8' "$mailA" \
     && grep -q "Message-ID: <n[0-9]*.email@gridflow>" "$mailA" && echo yes || echo no)"
check "the message names case, category, grid, deadline and a masked phone" yes \
  "$(grep -q "网格 QNL.07.063" "$mailA" && grep -q '139\*\*\*\*5678' "$mailA" && grep -q '前签收办理' "$mailA" \
     && echo yes || echo no)"
check "no full phone number in any message" 0 \
  "$(sql "SELECT count(*) FROM notifications WHERE text ~ '1[3-9][0-9]{9}'")"

# The other rules.
"$BIN/gridctl" case supervise $A --actor $L2 >/dev/null
wait_for "supervision → the owner's leader" 15 sql_eq "SELECT count(*) FROM notifications
   WHERE case_id = $A AND kind = 'case.supervised' AND recipient = '$LEADER'" 1
"$BIN/gridctl" case sign $A --actor $LEADER >/dev/null
# CGZF: 3 working days from Sunday 20 September 08:01 (a make-up working day)
"$BIN/gridctl" case refer $A --actor $LEADER --department CGZF >/dev/null
wait_for "A referred" 10 sql_eq "SELECT state FROM cases WHERE id = $A" referred
"$BIN/gridctl" clock advance '71 hours' >/dev/null
sleep 2 # time for a wrong early reminder to appear: the subject, not a wait
check "no referral reminder before 72 hours" 0 \
  "$(sql "SELECT count(*) FROM notifications WHERE case_id = $A AND kind LIKE 'referral.overdue.%'")"
"$BIN/gridctl" clock advance '2 hours' >/dev/null
wait_for "referral with no department reply after 72 h → the leader" 15 sql_eq "SELECT count(*) FROM notifications
   WHERE case_id = $A AND kind LIKE 'referral.overdue.%' AND recipient = '$LEADER' AND text LIKE '%城管执法中队%'" 1
"$BIN/gridctl" clock advance '2 hours' >/dev/null
sleep 2 # time for a wrong second reminder to appear: the subject, not a wait
check "the referral reminder is not repeated" 1 \
  "$(sql "SELECT count(*) FROM notifications WHERE case_id = $A AND kind LIKE 'referral.overdue.%'")"
"$BIN/gridctl" case sign $B --actor $LEADER >/dev/null
"$BIN/gridctl" case resolve $B --actor $LEADER --note 已关闭阀门 >/dev/null
wait_for "resolved → the resident is told, with the callback request, by SMS" 15 sql_eq "SELECT count(*)
   FROM deliveries d JOIN notifications n ON n.id = d.notification
  WHERE n.case_id = $B AND n.kind = 'resident.resolved' AND d.address = '13987654321' AND d.state = 'sent'" 1
kill $GW $SMTP 2>/dev/null
finish
