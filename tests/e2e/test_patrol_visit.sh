#!/usr/bin/env bash
# test: long 23 (seconds on a quiet machine: the long ones start first)
# Issue 15, "patrols and visits as logs", through the intake (gridctl patrol|
# visit|selfcheck log: patrol.logged, visit.logged, selfcheck.logged) on the
# simulated clock and the statutory calendar of 2026: New Year's Day 1-3
# January off (Friday 2 January a weekday off), Sunday 4 January a make-up
# working day (调休).  Patrols with and without findings; a visit that opens
# a complaint in the same transaction, and the intake killed (kill -9) while
# that transaction is half done: neither is kept, the resend stores both; a
# grid that skipped its patrol on the make-up Sunday is shown to L2 and
# reminded once, the holiday Friday (the off day that Sunday makes up for)
# and the Saturday are not; overdue visits to special households shown and
# reminded; each reminder a notice to the L3 and the L2 leader delivered by
# SMS (tests/tools/sms_gateway.py) and the app, once per period, held through
# quiet hours and the weekend, none made on a day off (033); the weekly
# self-check; every refusal with its code and nothing stored; nothing of
# the register on the stream or in a notice.
source "$(dirname "$0")/lib.sh"
G="$BIN/gridctl"
# The crash subtest holds the visit mid-transaction for seconds: the
# intake's own deadline must not end it first.
export GF_INTAKE_DEADLINE_MS=60000
new_db
"$G" calendar import >"$ART/calendar.out" 2>&1 || not_ok "calendar import"
check "2026: Friday 2 January off, Sunday 4 January a working day" "false true" \
  "$(sql "SELECT gf_is_workday('2026-01-02') || ' ' || gf_is_workday('2026-01-04')")"

L3A=P-QNL.07.063-1 # leader of QNL.07.063
L3B=P-QNL.07.064-1 # leader of QNL.07.064
L2X=P-QNL.08-1     # leader of another L2 grid
OUT=P-QNL.08.067-1 # an L3 leader outside QNL.07

# The register (fake): two special households in QNL.07.063, one ordinary,
# one in QNL.08.067.  Planted names, phones and addresses are swept for on
# the stream at the end.
sql "INSERT INTO households (id, grid, address, head_name, phone, created_at, updated_at) VALUES
  ('HH-PV-1', 'QNL.07.063', '青年路测试巷11号', '甄测试', '13711112222', gf_now(), gf_now()),
  ('HH-PV-2', 'QNL.07.063', '青年路测试巷12号', '贾样本', '13733334444', gf_now(), gf_now()),
  ('HH-PV-3', 'QNL.07.063', '青年路测试巷13号', '钱普通', NULL, gf_now(), gf_now()),
  ('HH-PV-4', 'QNL.08.067', '别处测试街4号', '孙外人', NULL, gf_now(), gf_now());
  INSERT INTO household_groups (household, grp, valid_from, source) VALUES
  ('HH-PV-1', 'bereaved', '2025-11-01', 'test'), ('HH-PV-2', 'dibao', '2025-06-01', 'test'),
  ('HH-PV-4', 'bereaved', '2025-11-01', 'test')" >/dev/null

clock_set "2026-01-04T08:00:00+08:00" # the make-up Sunday
trap 'kill ${GW:-} 2>/dev/null; stop_all' EXIT
start_sms_gateway "$ART/gateway.log"
export GF_SMS_URL=http://127.0.0.1:$GW_PORT/sms
start_stack --escalator
wait_for "escalation to start" 10 sql_eq "SELECT count(*) FROM escalation_state" 1

# log ARGS...: gridctl ARGS, which must succeed; prints its output.
log() {
  "$G" "$@" 2>>"$ART/log.err" | tee -a "$ART/log.out" || not_ok "gridctl $*: $(tail -1 "$ART/log.err")"
}
snapshot() {
  sql "SELECT (SELECT count(*) FROM patrols) || ' ' || (SELECT count(*) FROM visits) || ' ' ||
              (SELECT count(*) FROM self_checks) || ' ' || (SELECT count(*) FROM cases) || ' ' ||
              (SELECT count(*) FROM case_events)"
}
# refused CODE DESCRIPTION ARGS...: gridctl ARGS is refused with CODE and
# stores nothing (patrols, visits, self-checks, cases, events).
refused() {
  local code=$1 what=$2 before after got
  wait_for "router and notifier to catch up" 20 quiescent
  before=$(snapshot)
  "$G" "${@:3}" >/dev/null 2>"$ART/refused.err"
  got=$(sed -n 's/^error: \([a-z_]*\):.*/\1/p' "$ART/refused.err")
  after=$(snapshot)
  if [ "$got" == "$code" ] && [ "$before" == "$after" ]; then
    ok "refused: $what ($code, nothing stored)"
  else
    not_ok "refused: $what: got '$got' ($(cat "$ART/refused.err")), want $code; before '$before' after '$after'"
  fi
}

# --- patrols: the make-up Sunday and Monday 5 January
log patrol log --actor $L3A --grid QNL.07.063 --at "2026-01-04T07:30:00+08:00" --place "青年路" \
  --place "菜市场" --finding "井盖松动，联系电话13812345678" --member P-QNL.07.063-2 --request-id pt-1 >/dev/null
clock_set "2026-01-05T17:00:00+08:00"
log patrol log --actor $L3A --grid QNL.07.063 --at "2026-01-05T16:00:00+08:00" --place "青年路" --nothing-found \
  --request-id pt-2 >/dev/null
log patrol log --actor $L3B --grid QNL.07.064 --at "2026-01-05T16:30:00+08:00" --nothing-found --request-id pt-3 >/dev/null
check "three patrols, one with a finding and two with nothing found" "pt-1:1 pt-2:0 pt-3:0" \
  "$(sql "SELECT string_agg(request_id || ':' || cardinality(findings), ' ' ORDER BY request_id) FROM patrols")"
check "patrol.logged events: the finding redacted, nothing found said" \
  "井盖松动，联系电话[电话]|false true true" \
  "$(sql "SELECT (SELECT payload->'findings'->>0 FROM case_events WHERE type = 'patrol.logged' ORDER BY id LIMIT 1) || '|' ||
                 string_agg(payload->>'nothing_found', ' ' ORDER BY id) FROM case_events WHERE type = 'patrol.logged'")"
check "a resend of a patrol is a duplicate" "[already logged]" \
  "$("$G" patrol log --actor $L3B --grid QNL.07.064 --at "2026-01-05T16:30:00+08:00" --nothing-found --request-id pt-3 2>&1 | grep -o '\[already logged\]')"

# --- what L2 is shown on Tuesday 6 January
clock_set "2026-01-06T08:30:00+08:00"
"$G" patrol missed --grid QNL.07 --from 2026-01-01 --to 2026-01-05 >"$ART/missed.out" 2>&1 \
  || not_ok "patrol missed: $(cat "$ART/missed.out")"
check "QNL.07.064 skipped the make-up Sunday: shown to L2" 1 "$(grep -c '^  2026-01-04 QNL.07.064$' "$ART/missed.out")"
check "QNL.07.063 patrolled on both working days: not shown" 0 "$(grep -c 'QNL.07.063$' "$ART/missed.out")"
check "the holiday Friday, the Saturday and New Year's Day: no patrol missed on them" 0 \
  "$(grep -cE '^  2026-01-0[123] ' "$ART/missed.out")"
check "the listing equals an independent count (L3 grids of QNL.07 times working days, less those patrolled)" \
  "$(sql "SELECT count(*) * 2 - 3 FROM grids WHERE level = 3 AND code LIKE 'QNL.07.%'")" \
  "$(grep -cE '^  2026-01-0[45] QNL\.07\.' "$ART/missed.out")"

"$G" visit overdue --grid QNL.07 >"$ART/overdue.out" 2>&1 || not_ok "visit overdue: $(cat "$ART/overdue.out")"
check "overdue visits shown to L2: the two special households (never visited), not the ordinary one or another L2's" \
  "HH-PV-1 HH-PV-2" "$(awk '/^  HH-/ {print $1}' "$ART/overdue.out" | sort | xargs)"

# --- reminders: on a working day from 09:00, once per period, to the L2 leader
sleep 2 # the escalator ticks on the clock's change: give it the chance to remind too early
check "Monday's missed patrols: not reminded before 09:00 on Tuesday" 0 \
  "$(sql "SELECT count(*) FROM field_reminders WHERE period = '2026-01-05'")"
clock_set "2026-01-06T09:05:00+08:00"
wait_for "Monday's missed patrols reminded at 09:05" 30 sql_eq \
  "SELECT count(*) > 0 FROM field_reminders WHERE kind = 'patrol.missed' AND period = '2026-01-05'" t
R1=$(sql "SELECT count(*) FROM field_reminders")
check "the make-up Sunday's missed patrol of QNL.07.064 reminded to its leader and to QNL.07's" "$L3B,$L2" \
  "$(sql "SELECT string_agg(recipient, ',' ORDER BY audience) FROM field_reminders WHERE kind = 'patrol.missed' AND subject = 'QNL.07.064' AND period = '2026-01-04'")"
check "no reminder for the holiday Friday or the Saturday" 0 \
  "$(sql "SELECT count(*) FROM field_reminders WHERE kind = 'patrol.missed' AND period IN ('2026-01-02', '2026-01-03')")"
check "overdue visits of QNL.07 (months overdue: past the L2 grace) reminded to the L3 leader and QNL.07's" \
  "HH-PV-1:$L3A HH-PV-1:$L2 HH-PV-2:$L3A HH-PV-2:$L2" \
  "$(sql "SELECT string_agg(subject || ':' || recipient, ' ' ORDER BY subject, audience) FROM field_reminders WHERE kind = 'visit.overdue' AND grid LIKE 'QNL.07.%'")"
check "reminders go out within working hours" t \
  "$(sql "SELECT bool_and(not_before = created_at) FROM field_reminders")"
check "each reminder an event without the register" 0 \
  "$(sql "SELECT count(*) FROM case_events WHERE type IN ('patrol.missed', 'visit.overdue') AND payload::text ~ '甄测试|贾样本|137|测试巷'")"
# Each reminder is a staff notice (no case), through the outbox as any other.
check "each reminder has its one notice, without a case" "$R1 $R1" \
  "$(sql "SELECT count(DISTINCT n.field_reminder) || ' ' || count(*) FROM notifications n WHERE n.field_reminder IS NOT NULL AND n.case_id IS NULL")"
# field_sms_q SUBJECT PERIOD RECIPIENT [STATE]: the query counting that
# reminder's SMS deliveries (in STATE); field_sms: its answer.
field_sms_q() {
  echo "SELECT count(*) FROM deliveries d JOIN notifications n ON n.id = d.notification
         JOIN field_reminders f ON f.id = n.field_reminder
        WHERE f.subject = '$1' AND f.period = '$2' AND f.recipient = '$3' AND d.channel = 'sms'${4:+ AND d.state = '$4'}"
}
field_sms() { sql "$(field_sms_q "$@")"; }
wait_for "the missed patrol's notice delivered by SMS to QNL.07.064's leader" 30 sql_eq \
  "$(field_sms_q QNL.07.064 2026-01-04 $L3B sent)" 1
wait_for "the overdue visits' notices delivered by SMS to QNL.07.063's leader" 30 sql_eq \
  "SELECT count(*) FROM deliveries d JOIN notifications n ON n.id = d.notification JOIN field_reminders f ON f.id = n.field_reminder
    WHERE f.kind = 'visit.overdue' AND f.recipient = '$L3A' AND d.channel = 'sms' AND d.state = 'sent'" 2
curl -s "http://127.0.0.1:$GW_PORT/keys" >"$ART/sms-keys.txt"
check "the SMS gateway got them (their dedupe keys)" 3 \
  "$(sql "SELECT d.dedupe_key FROM deliveries d JOIN notifications n ON n.id = d.notification
           JOIN field_reminders f ON f.id = n.field_reminder
          WHERE d.channel = 'sms' AND ((f.subject = 'QNL.07.064' AND f.period = '2026-01-04' AND f.recipient = '$L3B')
                                       OR (f.kind = 'visit.overdue' AND f.recipient = '$L3A'))" | grep -c -x -F -f "$ART/sms-keys.txt")"
check "the notices' texts: the grid, the day, the household by its opaque id" "1 2" \
  "$(sql "SELECT count(*) FILTER (WHERE n.kind = 'patrol.missed' AND n.recipient = '$L3B' AND n.text LIKE '【巡查提醒】网格 QNL.07.064（%）2026-01-04（工作日）没有日巡查记录%')
           || ' ' || count(*) FILTER (WHERE n.kind = 'visit.overdue' AND n.recipient = '$L3A' AND n.text ~ '^【走访提醒】网格 QNL.07.063（.*）一户重点户（编号 HH-PV-[12]）应于 20[0-9-]+ 走访')
           FROM notifications n WHERE n.field_reminder IS NOT NULL")"
check "no name, address or phone of the register in any notice" 0 \
  "$(sql "SELECT count(*) FROM notifications WHERE text ~ '甄测试|贾样本|钱普通|13711112222|13733334444|测试巷'")"
TOKEN_A=$("$BIN/gridctl" notify token $L3A)
"$TOOLS/app_client" "$GF_APP" $L3A "$TOKEN_A" ack 2000 >"$ART/app-a.txt"
check "the app pushes QNL.07.063's leader the two visit notices (no case)" "welcome 2 2" \
  "$(head -n 1 "$ART/app-a.txt") $(grep -c '^message [0-9]* 0 normal$' "$ART/app-a.txt") $(grep -c '^message' "$ART/app-a.txt")"
wait_for "the app acknowledged them" 10 sql_eq "SELECT count(*) FROM deliveries WHERE channel = 'app' AND address = '$L3A' AND state = 'acked'" 2
N1=$(sql "SELECT count(*) FROM notifications WHERE field_reminder IS NOT NULL")
clock_set "2026-01-06T11:00:00+08:00"
sleep 2
wait_for "router and notifier to catch up" 20 quiescent
check "two hours later nothing is reminded twice" "$R1" "$(sql "SELECT count(*) FROM field_reminders")"
check "nor noticed twice" "$N1" "$(sql "SELECT count(*) FROM notifications WHERE field_reminder IS NOT NULL")"

# --- a visit that opens a complaint in the same transaction
log visit log --actor $L3A --household HH-PV-2 --at "2026-01-06T10:30:00+08:00" \
  --learned "甄测试的邻居贾样本说厨房漏水，电话13733334444" --done "代缴水费" --done "联系维修" \
  --follow-up "厨房水管漏水，需物业维修" --category property --request-id vs-1 >"$ART/visit1.out"
V1_CASE=$(sed -n 's/.* case \([0-9]*\).*/\1/p' "$ART/visit1.out")
check "the visit and its complaint stored together" "vs-1|visit|HH-PV-2|dibao" \
  "$(sql "SELECT v.request_id || '|' || c.source || '|' || c.household || '|' || array_to_string(c.groups, ',')
           FROM visits v JOIN cases c ON c.id = v.case_id WHERE c.id = ${V1_CASE:-0}")"
wait_for "the follow-up complaint routed" 10 sql_eq "SELECT state FROM cases WHERE id = ${V1_CASE:-0}" routed
check "visit.logged without the register: household by id, the register's names and the phone redacted" \
  "HH-PV-2|[姓名]的邻居[姓名]说厨房漏水，电话[电话]|2" \
  "$(sql "SELECT payload->>'household' || '|' || (payload->>'learned') || '|' || jsonb_array_length(payload->'things_done') FROM case_events WHERE type = 'visit.logged'")"
check "a resend of the visit is a duplicate and opens no second complaint" "[already logged] case ${V1_CASE:-0}|1" \
  "$("$G" visit log --actor $L3A --household HH-PV-2 --at "2026-01-06T10:30:00+08:00" \
       --learned "甄测试的邻居贾样本说厨房漏水，电话13733334444" --done "代缴水费" --done "联系维修" \
       --follow-up "厨房水管漏水，需物业维修" --category property --request-id vs-1 2>&1 | grep -o '\[already logged\]') case $V1_CASE|$(sql "SELECT count(*) FROM cases WHERE source = 'visit'")"
"$G" visit overdue --grid QNL.07 >"$ART/overdue2.out" 2>&1
check "once visited, HH-PV-2 is no longer overdue" "HH-PV-1" "$(awk '/^  HH-/ {print $1}' "$ART/overdue2.out" | xargs)"

# --- refusals, each with its code and nothing stored
refused unknown_household "a visit to a household not in the register" \
  visit log --actor $L3A --household HH-NONE --at "2026-01-06T10:00:00+08:00"
refused bad_value "a visit in the future (beyond the 10-minute allowance)" \
  visit log --actor $L3A --household HH-PV-1 --at "2026-01-06T12:00:00+08:00"
refused conflict "the visit id again with another body" \
  visit log --actor $L3A --household HH-PV-2 --at "2026-01-06T10:30:00+08:00" --learned "另一次" --request-id vs-1
refused forbidden "a visit by a member outside the household's grid" \
  visit log --actor $OUT --household HH-PV-1 --at "2026-01-06T10:00:00+08:00"
refused forbidden "a patrol with a member outside the grid" \
  patrol log --actor $L3A --grid QNL.07.063 --member $OUT --at "2026-01-06T10:00:00+08:00" --nothing-found
refused forbidden "a patrol by another L2's leader" \
  patrol log --actor $L2X --grid QNL.07.063 --at "2026-01-06T10:00:00+08:00" --nothing-found
refused unknown_grid "a patrol of an unknown grid" \
  patrol log --actor $L3A --grid QNL.07.999 --at "2026-01-06T10:00:00+08:00" --nothing-found
refused unknown_actor "a patrol by someone not in the directory" \
  patrol log --actor P-NOBODY --grid QNL.07.063 --at "2026-01-06T10:00:00+08:00" --nothing-found
refused bad_value "a patrol in the future" \
  patrol log --actor $L3A --grid QNL.07.063 --at "2026-01-07T09:00:00+08:00" --nothing-found
refused unknown_category "a visit whose follow-up complaint is refused (unknown category): the visit is not stored either" \
  visit log --actor $L3A --household HH-PV-1 --at "2026-01-06T10:00:00+08:00" --follow-up "x" --category nosuch

# --- the weekly self-check (周自查)
log selfcheck log --actor $L3A --grid QNL.07.063 --at "2026-01-06T10:50:00+08:00" --item safety=ok --item disputes=issue --item sanitation=ok \
  --item special_households=ok --item ledger=ok --note "邻里纠纷一起，已调解" --request-id sc-1 >/dev/null
check "the self-check stored for the week of Monday 5 January" "2026-01-05|issue" \
  "$(sql "SELECT week || '|' || (items->>'disputes') FROM self_checks WHERE request_id = 'sc-1'")"
refused conflict "a second self-check of QNL.07.063 in the same week" \
  selfcheck log --actor $L3A --grid QNL.07.063 --at "2026-01-06T10:55:00+08:00" --item safety=ok --item disputes=ok --item sanitation=ok \
  --item special_households=ok --item ledger=ok
refused missing_field "a self-check without every item" selfcheck log --actor $L3B --grid QNL.07.064 --at "2026-01-06T10:55:00+08:00" --item safety=ok

# --- kill -9 the intake while a visit's transaction is half done: the
# complaint inserted, the visit waiting for a lock held by another session.
PGAPPNAME=pv-lock "$PSQL_BIN" -X -q -d "$GF_DB" -c "BEGIN" -c "LOCK TABLE visits IN EXCLUSIVE MODE" \
  -c "SELECT pg_sleep(120)" >/dev/null 2>&1 &
LOCKER=$!
wait_for "the lock held" 10 sql_eq "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database () AND application_name = 'pv-lock' AND query LIKE '%pg_sleep%'" 1
"$G" visit log --actor $L3A --household HH-PV-1 --at "2026-01-06T10:45:00+08:00" --learned "独居，身体尚可" \
  --follow-up "楼道扶手松动" --category other --request-id vs-crash >"$ART/crash.out" 2>"$ART/crash.err" &
CLIENT=$!
half_done() {
  sql_eq "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
           WHERE a.datname = current_database () AND a.query LIKE '%gf_field_log%' AND a.wait_event_type = 'Lock'
             AND l.relation = 'cases'::regclass AND l.mode = 'RowExclusiveLock' AND l.granted" 1
}
wait_for "the visit's transaction half done (its complaint inserted, the visit waiting)" 10 half_done
check "mid-way: the complaint's case.received written in that transaction (cases_id_seq moved)" t \
  "$(sql "SELECT last_value > ${V1_CASE:-0} FROM cases_id_seq")"
kill9 intake
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database () AND application_name = 'pv-lock'" >/dev/null
wait "$LOCKER" 2>/dev/null
wait_for "the killed intake's transaction to end" 10 sql_eq \
  "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database () AND query LIKE '%gf_field_log%' AND pid <> pg_backend_pid()" 0
check "after kill -9: neither the visit nor its complaint" "0 0 0" \
  "$(sql "SELECT (SELECT count(*) FROM visits WHERE request_id = 'vs-crash') || ' ' ||
                 (SELECT count(*) FROM cases WHERE source_ref = 'vs-crash') || ' ' ||
                 (SELECT count(*) FROM case_events e WHERE e.payload->>'household' = 'HH-PV-1' AND e.type = 'visit.logged')")"
start intake@2
wait "$CLIENT"
check "the client's resend to the restarted intake is acknowledged" 0 $?
check "then both, once: the visit and its complaint" "1 1 true" \
  "$(sql "SELECT (SELECT count(*) FROM visits WHERE request_id = 'vs-crash') || ' ' ||
                 (SELECT count(*) FROM cases WHERE source_ref = 'vs-crash') || ' ' ||
                 (SELECT v.case_id = c.id FROM visits v, cases c WHERE v.request_id = 'vs-crash' AND c.source_ref = 'vs-crash')")"

# --- quiet hours, the weekend, days off: the escalator first sees Friday 9
# January at 21:00 (late): the reminders it makes then (missed patrols of
# Tuesday to Thursday) wait for Monday 08:00; on Saturday nothing is
# reminded; on Monday from 09:00 Friday's missed patrols are, once.
clock_set "2026-01-09T21:00:00+08:00"
wait_for "Thursday's missed patrols reminded at Friday 21:00" 30 sql_eq \
  "SELECT count(*) > 0 FROM field_reminders WHERE kind = 'patrol.missed' AND period = '2026-01-08'" t
wait_for "router and notifier to catch up" 20 quiescent
check "made at 21:00: the notices wait for Monday 08:00 (quiet hours, then the weekend)" "pending 2026-01-12 08:00" \
  "$(sql "SELECT string_agg(DISTINCT d.state || ' ' || to_char(d.not_before AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI'), ',')
           FROM deliveries d JOIN notifications n ON n.id = d.notification JOIN field_reminders f ON f.id = n.field_reminder
          WHERE f.created_at = '2026-01-09 21:00+08'")"
clock_set "2026-01-10T10:00:00+08:00"
sleep 2 # a tick on Saturday: the subject, not a wait
wait_for "router and notifier to catch up" 20 quiescent
check "Saturday (a day off): nothing reminded, Friday's missed patrols not either" "0 0" \
  "$(sql "SELECT count(*) FILTER (WHERE created_at > '2026-01-09 21:00+08') || ' ' || count(*) FILTER (WHERE period = '2026-01-09') FROM field_reminders")"
check "Saturday: the held SMS of QNL.07.064's leader still held" "0" "$(field_sms QNL.07.064 2026-01-08 $L3B sent)"
clock_set "2026-01-12T08:01:00+08:00"
wait_for "Monday 08:01: the held notice delivered by SMS" 30 sql_eq "$(field_sms_q QNL.07.064 2026-01-08 $L3B sent)" 1
check "sent on Monday morning (business time)" "2026-01-12 08:01" \
  "$(sql "SELECT DISTINCT to_char(d.sent_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') FROM deliveries d
           JOIN notifications n ON n.id = d.notification JOIN field_reminders f ON f.id = n.field_reminder
          WHERE f.subject = 'QNL.07.064' AND f.period = '2026-01-08' AND f.recipient = '$L3B' AND d.channel = 'sms'")"
check "Friday's missed patrols: not before 09:00 on Monday" 0 \
  "$(sql "SELECT count(*) FROM field_reminders WHERE period = '2026-01-09'")"
clock_set "2026-01-12T09:05:00+08:00"
wait_for "Monday 09:05: Friday's missed patrol of QNL.07.064 noticed to both leaders" 30 sql_eq \
  "SELECT count(*) FROM notifications n JOIN field_reminders f ON f.id = n.field_reminder
    WHERE f.subject = 'QNL.07.064' AND f.period = '2026-01-09'" 2
wait_for "and delivered by SMS to its leader" 30 sql_eq "$(field_sms_q QNL.07.064 2026-01-09 $L3B sent)" 1
N2=$(sql "SELECT count(*) FROM notifications WHERE field_reminder IS NOT NULL")
clock_set "2026-01-12T11:00:00+08:00"
sleep 2 # a later tick: the subject, not a wait
wait_for "router and notifier to catch up" 20 quiescent
check "later that Monday: no notice twice" "$N2 1" \
  "$(sql "SELECT count(*) FROM notifications WHERE field_reminder IS NOT NULL") $(field_sms QNL.07.064 2026-01-09 $L3B)"

# --- nothing of the register on the stream
wait_for "router and notifier to catch up" 20 quiescent
check "no planted name, phone or address in any event" 0 \
  "$(sql "SELECT count(*) FROM case_events WHERE payload::text ~ '甄测试|贾样本|钱普通|孙外人|13711112222|13733334444|测试巷|别处测试街'")"
check "every field event's type is known (event_types)" 0 \
  "$(sql "SELECT count(*) FROM case_events e WHERE NOT EXISTS (SELECT 1 FROM event_types t WHERE t.type = e.type)")"
check "no planted name, phone or address in any notice" 0 \
  "$(sql "SELECT count(*) FROM notifications WHERE text ~ '甄测试|贾样本|钱普通|孙外人|13711112222|13733334444|测试巷|别处测试街'")"
kill $GW 2>/dev/null
finish
