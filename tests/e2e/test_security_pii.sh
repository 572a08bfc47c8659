#!/usr/bin/env bash
# Issue 13, acceptance 3: personal data minimised by design.  Complaints
# whose text holds a name, an 11-digit mobile, 7- and 8-digit landlines, an
# 18-digit ID number (ending in X), a bank card number, an e-mail address
# and coordinates, with the special group `petitioner`, come in through the
# intake (gridctl submit) and Open311 (the gateway); staff sign for them
# with notes that repeat the numbers, classify them, and a day later the
# escalator moves them up (notices to leaders).  Then every planted value is
# searched, as a fixed string, in: the published stream (a live raw
# subscriber and a replay from seq 0), SSE (/stream?since=0), Open311 reads
# (requests.json, requests/{id}.json), the dashboard's JSON, every service
# log, and every notification text.  Zero hits.  The staff view (privacy.sql
# gf_case_staff, `gridctl case show`) still shows them to staff in scope
# (positive control: the test can see a leak).  docs/security.md,
# "Personal data".
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/gateway_lib.sh"
new_db
G="$BIN/gridctl"
"$G" calendar import >"$ART/calendar.out" 2>&1 || not_ok "calendar import"
clock_set "2026-11-03T10:00:00+08:00" # a Tuesday, no meeting due before the next day
add_api_key pii-app "$API_KEY"
# Its complaint carries special groups: a key may set them only when its row
# allows it (api_keys.may_set_priority, test_gateway_open311).
sql "UPDATE api_keys SET may_set_priority = true WHERE name = 'pii-app'" >/dev/null
# This office escalates special-group cases like urgent ones (issue 14: the
# default is attention, not escalation; urgent.special_groups turns it on),
# so that the escalator's events and notices about them are checked too.
sql "INSERT INTO escalation_rules (root, rule, params)
     SELECT 'QNL', rule, params || '{\"special_groups\": true}' FROM escalation_rules WHERE root = '*' AND rule = 'urgent'" >/dev/null
as_role() { echo "$GF_DB options=-crole=$1"; }
start relay -v --db "$(as_role gf_relay)"
start intake -v --db "$(as_role gf_intake)"
start router -v --db "$(as_role gf_router)"
start notifier -v --db "$(as_role gf_notifier)"
start escalator -v --db "$(as_role gf_escalator)"
wait_for "intake port" 30 port_open $((PORT_BASE + 0))
wait_for "consumers" 10 sql_eq "SELECT count(*) FROM consumer_checkpoints" 2
start_gateway GF_DB="$(as_role gf_gateway)"
gw_kiosk # the staff reads (/api/*, /stream) need a session or a kiosk token (issue 16)
"$TOOLS/capture" "$GF_PUB" "$ART/capture.ready" 600000 "$ART/bodies.bin" >"$ART/capture.txt" 2>"$ART/capture.err" &
CAPTURE=$!
wait_for "subscriber to be connected" 10 test -f "$ART/capture.ready"

# The planted values (secrets.txt: one per line, each searched as a fixed
# string).  No other text of the run contains any of them.
NAME_A=欧阳秘芳 NAME_B=司马秘华
MOBILE=13912348765 LAND7=6543210 LAND8=87651234 LAND_AREA=0571-87654329 ID=11010519491231002X
CARD=6222021234567890123 EMAIL=ouyang.mifang@example.com
ADDR_A=青年路街道西街村1组17号 LAT=39.912345 LONG=116.401234
cat >"$ART/secrets.txt" <<EOF
$NAME_A
$NAME_B
$MOBILE
$LAND7
$LAND8
87654329
$ID
${ID%X}
$CARD
$EMAIL
ouyang.mifang
1组17号
$LAT
$LONG
petitioner
上访
EOF
TEXT_A="我叫${NAME_A}，手机${MOBILE}，家里座机${LAND7}，身份证${ID}，工行卡${CARD}，邮箱${EMAIL}，楼道里垃圾一个月没人清运"
TEXT_B="${NAME_A}的邻居反映：单位电话${LAND_AREA}、${LAND8}，身份证 110105 19491231 002X，卡号 6222 0212 3456 7890 123，路灯坏了"
TEXT_C="我是${NAME_B}，电话${LAND8}，邮箱${EMAIL}，身份证${ID}，门口水管漏水"

# --- complaints: the intake (gridctl submit) and Open311 ----------------------------
A=$(submit --source hotline --ref PII-A --text "$TEXT_A" --name "$NAME_A" --phone "$MOBILE" \
  --address "$ADDR_A" --grid QNL.07.063 --category sanitation --groups petitioner)
B=$(submit --source hotline --ref PII-B --text "$TEXT_B" --name "$NAME_A" --phone "$LAND7" \
  --address "$ADDR_A" --grid QNL.07.063 --groups petitioner,dibao)
http POST /open311/v2/requests.json --data-urlencode "api_key=$API_KEY" --data-urlencode service_code=water \
  --data-urlencode "description=$TEXT_C" --data-urlencode "last_name=${NAME_B:0:2}" \
  --data-urlencode "first_name=${NAME_B:2}" --data-urlencode "phone=$LAND8" \
  --data-urlencode "lat=$LAT" --data-urlencode "long=$LONG" --data-urlencode "attribute[grid]=QNL.07.063" \
  --data-urlencode "attribute[groups]=petitioner" --data-urlencode client_request_id=pii-c
C=$(jbody '.[0].service_request_id')
check "three complaints stored (intake and Open311)" "3" \
  "$(sql "SELECT count(*) FROM cases WHERE id IN (${A:-0}, ${B:-0}, ${C:-0})")"
check "stored as said: names, phones, coordinates, groups" \
  "$NAME_A $MOBILE {petitioner}|$NAME_A $LAND7 {petitioner,dibao}|$NAME_B $LAND8 {petitioner} 经纬度 $LAT,$LONG" \
  "$(sql "SELECT string_agg (name || ' ' || phone || ' ' || groups::text
                             || CASE WHEN source = 'open311' THEN ' ' || address ELSE '' END, '|' ORDER BY id)
            FROM cases WHERE id IN ($A, $B, $C)")"
wait_for "pipeline to drain" 60 quiescent
check "routed to QNL.07.063" "routed routed routed" "$(sql "SELECT string_agg (state, ' ' ORDER BY id) FROM cases WHERE id IN ($A, $B, $C)")"

# --- staff work: notes with the numbers, a classification with groups --------------
act "$A" sign --actor "$L3" --note "已电话联系${NAME_A}（${MOBILE}），并发邮件到${EMAIL}"
act "$B" sign --actor "$L3"
act "$B" classify --actor "$L2" --tier hard --groups petitioner,hardship
act "$C" sign --actor "$L3" --note "回拨${LAND8}无人接听，身份证${ID}已核实"
# A day later: special-group cases not resolved in 24 h go up to L2 (this
# office's rule; the escalator's notices carry the description too).
clock_set "2026-11-04T11:00:00+08:00"
wait_for "urgent escalations of the special-group cases" 60 \
  sql_eq "SELECT count(DISTINCT case_id) FROM escalations WHERE rule = 'urgent_l2' AND case_id IN ($A, $B, $C)" 3
wait_for "pipeline to drain" 60 quiescent
check "notifications were written (leaders, residents, escalations)" t \
  "$(sql "SELECT count(*) FILTER (WHERE kind = 'case.routed') >= 3 AND count(*) FILTER (WHERE audience = 'resident') >= 3
                 AND count(*) FILTER (WHERE kind LIKE 'escalated%') >= 3 FROM notifications WHERE case_id IN ($A, $B, $C)")"

# --- every outside view, collected ---------------------------------------------------
stop_capture
"$G" watch --since 0 --json --idle 1500 >"$ART/replay.jsonl" 2>"$ART/watch-replay.log"
check "the replay from seq 0 got every event" "$(sql "SELECT count(*) FROM case_events")" "$(wc -l <"$ART/replay.jsonl")"
check "the raw subscriber saw these cases' events (received, signed, classified, escalated, notices)" 0 \
  "$(for t in case.received/ case.signed/ case.classified/ case.escalated/ notify/; do grep -q " $t" "$ART/capture.txt" || echo "$t"; done | wc -l)"
curl -s -N -m 6 -H "$AUTH" "$URL/stream?since=0" >"$ART/sse.txt"
check "SSE from 0 replayed the log" "$(sql "SELECT max(seq) FROM case_events")" \
  "$(sed -n 's/^id: //p' "$ART/sse.txt" | sort -n | tail -1)"
{
  for id in $A $B $C; do curl -s "$URL/open311/v2/requests/$id.json"; echo; done
  curl -s "$URL/open311/v2/requests.json?service_request_id=$A,$B,$C"; echo
  curl -s "$URL/open311/v2/requests.json"; echo
} >"$ART/open311.json"
check "Open311 reads return the three requests" 3 \
  "$(curl -s "$URL/open311/v2/requests.json?service_request_id=$A,$B,$C" | jq length)"
# (vocabulary.json is left out: it names every special group, the list a
# form offers, and says nothing about any case.)
for p in summary escalations ledger trend directory; do curl -s -H "$AUTH" "$URL/api/$p.json"; echo; done >"$ART/dashboard.json"
sql "SELECT text FROM notifications ORDER BY id" >"$ART/notifications.txt"

# Positive controls: what the outside views show instead.
check "the stream carries the redacted description" t \
  "$(grep -q -F "我叫[姓名]，手机[电话]，家里座机[电话]，身份证[证件号]，工行卡[卡号]，邮箱[邮箱]" "$ART/replay.jsonl" && echo t || echo f)"
check "notification texts carry the masked phones only" t \
  "$(grep -q -F '来电 139****8765' "$ART/notifications.txt" && grep -q -F '来电 ****10' "$ART/notifications.txt" && echo t || echo f)"
check "Open311 shows the coordinates rounded" t \
  "$(grep -q -F '经纬度 39.91,116.40' "$ART/open311.json" && echo t || echo f)"

# The staff view still shows everything to staff in scope.
check "staff in scope (the grid's leader) see name, phone, address, groups" \
  "$NAME_A|$MOBILE|$ADDR_A|{petitioner}" \
  "$(sql "SELECT name || '|' || phone || '|' || address || '|' || groups::text FROM gf_case_staff ('$L3', $A)")"
check "staff in scope see the description as said" t \
  "$(sql "SELECT description = '$TEXT_A' FROM gf_case_staff ('$L3', $A)")"
check "staff of another grid see nothing" 0 "$(sql "SELECT count(*) FROM gf_case_staff ('$L3C', $A)")"
"$G" case show "$A" >"$ART/case-show.txt" 2>&1
check "gridctl case show (operators) shows the clear text and the clear note" t \
  "$(grep -q -F "$ID" "$ART/case-show.txt" && grep -q -F "$EMAIL" "$ART/case-show.txt" && echo t || echo f)"
check "the classification's groups stay with staff (restricted)" '["petitioner", "hardship"]' \
  "$(sql "SELECT restricted->'groups' FROM case_events WHERE case_id = $B AND type = 'case.classified'")"

# --- the sweep ---------------------------------------------------------------------
stop_all
leaks() { grep -a -F -o -f "$ART/secrets.txt" "$@" 2>/dev/null | sort -u | head -8 | tr '\n' ' '; }
check "no planted value in the raw published stream" "" "$(leaks "$ART/bodies.bin")"
check "none in the replay from seq 0" "" "$(leaks "$ART/replay.jsonl")"
check "none on SSE from 0" "" "$(leaks "$ART/sse.txt")"
check "none in Open311 reads" "" "$(leaks "$ART/open311.json")"
check "none in the dashboard's JSON" "" "$(leaks "$ART/dashboard.json")"
check "none in any notification text" "" "$(leaks "$ART/notifications.txt")"
logs=$(ls "$ART"/*.log "$ART"/*.err "$ART"/*.out 2>/dev/null)
check "none in any service or tool log ($(echo $logs | wc -w) files)" "" "$(leaks $logs)"
check "the logs are not empty (verbose services logged)" t \
  "$([ "$(cat $logs | wc -l)" -gt 30 ] && echo t || echo f)"
finish
