#!/usr/bin/env bash
# Issue 6, acceptance 2: Open311 GeoReport v2 conformance of the HTTP gateway.
# Every endpoint (services.json, services/{code}.json, POST and GET
# requests.json, requests/{id}.json), every filter of GET requests.json
# (service_request_id, service_code, start_date, end_date, status), the
# errors in Open311's [{code, description}] form with the spec's statuses,
# POST going through the intake (idempotent on the client's request id, the
# intake's errors mapped), no personal data in reads; /healthz, /metrics;
# the dashboard's JSON.  The gateway connects as gf_gateway.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/gateway_lib.sh"
new_db
add_api_key testclient "$API_KEY"
start_stack
# The gateway as its own role (docs/security.md): cases only through cases_public.
start_gateway GF_DB="$GF_DB options=-crole=gf_gateway"
gw_kiosk # the dashboard's staff reads need a session or a kiosk token (issue 16)
G="$BIN/gridctl"
V2=/open311/v2

# Open311 error form: [{code: STATUS, description: non-empty}]
err_form() { jbody "type == \"array\" and length == 1 and .[0].code == $STATUS and (.[0].description | length > 0)"; }
expect_error() { # expect_error WHAT STATUS METHOD PATH [CURL ARGS]
  local what=$1 want=$2; shift 2
  http "$@"
  if [ "$STATUS" == "$want" ] && [ "$(err_form)" == true ]; then ok "$what -> $want $(jbody '.[0].description' | head -c 90)"
  else not_ok "$what: expected $want in Open311 error form, got $STATUS $(head -c 300 "$ART/body.json")"; fi
}
post() { http POST $V2/requests.json --data-urlencode "api_key=$API_KEY" "$@"; }

# --- services -------------------------------------------------------------
http GET $V2/services.json
check "services.json status" 200 "$STATUS"
check "services.json lists every category" "$(sql "SELECT count(*) FROM categories")" "$(jbody 'length')"
check "services.json first service" "$(sql "SELECT code || '|' || name FROM categories ORDER BY code LIMIT 1")" \
  "$(jbody '.[0].service_code + "|" + .[0].service_name')"
check "services.json fields" true "$(jbody 'all(.[]; (keys | contains(["service_code","service_name","description","metadata","type","keywords","group"])) and .type == "realtime")')"
http GET $V2/services/water.json
check "services/water.json status" 200 "$STATUS"
check "service definition" "water grid,urgent,groups" "$(jbody '.service_code + " " + ([.attributes[].code] | join(","))')"
expect_error "unknown service definition" 404 GET $V2/services/nosuch.json
expect_error "bad service code in path" 404 GET $V2/services/..%2Fx.json
expect_error "XML format" 400 GET $V2/services.xml
expect_error "unknown resource" 404 GET $V2/discovery.json
expect_error "method on services.json" 405 DELETE $V2/services.json
expect_error "method on requests.json" 405 PUT $V2/requests.json

# --- POST requests.json: errors ------------------------------------------------
expect_error "POST without api_key" 403 POST $V2/requests.json --data-urlencode service_code=water --data-urlencode "description=x" --data-urlencode address_string=a
expect_error "POST with a bad api_key" 403 POST $V2/requests.json --data-urlencode api_key=wrong --data-urlencode service_code=water --data-urlencode "description=x" --data-urlencode address_string=a
sql "UPDATE api_keys SET revoked_at = now () WHERE name = 'testclient'" >/dev/null
expect_error "POST with a revoked api_key" 403 POST $V2/requests.json --data-urlencode "api_key=$API_KEY" --data-urlencode service_code=water --data-urlencode "description=x" --data-urlencode address_string=a
sql "UPDATE api_keys SET revoked_at = NULL WHERE name = 'testclient'" >/dev/null
expect_error "POST without service_code" 400 POST $V2/requests.json --data-urlencode "api_key=$API_KEY" --data-urlencode "description=水管漏水" --data-urlencode address_string=a
expect_error "POST with an unknown service_code (intake: unknown_category)" 404 POST $V2/requests.json --data-urlencode "api_key=$API_KEY" --data-urlencode service_code=nosuch --data-urlencode "description=水管漏水" --data-urlencode "address_string=青年路街道西街村1组2号"
check "unknown service code comes from the intake" true "$(jbody '.[0].description | startswith("unknown_category")')"
expect_error "POST without a location" 400 POST $V2/requests.json --data-urlencode "api_key=$API_KEY" --data-urlencode service_code=water --data-urlencode "description=水管漏水"
expect_error "POST without description (intake: missing_field)" 400 POST $V2/requests.json --data-urlencode "api_key=$API_KEY" --data-urlencode service_code=water --data-urlencode "address_string=青年路街道西街村1组2号"
check "missing description comes from the intake" true "$(jbody '.[0].description | startswith("missing_field")')"
LONG=$(printf '长%.0s' $(seq 4001))
expect_error "POST with a 4001-character description (intake: too_long)" 400 POST $V2/requests.json --data-urlencode "api_key=$API_KEY" --data-urlencode service_code=water --data-urlencode "description=$LONG" --data-urlencode "address_string=青年路街道西街村1组2号"
expect_error "POST with an unknown grid (intake: unknown_grid)" 400 POST $V2/requests.json --data-urlencode "api_key=$API_KEY" --data-urlencode service_code=water --data-urlencode "description=水管漏水" --data-urlencode "attribute[grid]=QNL.99.999"
expect_error "POST with a bad urgent attribute" 400 POST $V2/requests.json --data-urlencode "api_key=$API_KEY" --data-urlencode service_code=water --data-urlencode "description=水管漏水" --data-urlencode "address_string=a" --data-urlencode "attribute[urgent]=maybe"
expect_error "POST as JSON (not a form)" 400 POST $V2/requests.json -H 'Content-Type: application/json' --data '{"api_key":"x"}'
# Urgency and special groups need api_keys.may_set_priority (off by default).
expect_error "POST setting urgent with a key that may not" 403 POST $V2/requests.json --data-urlencode "api_key=$API_KEY" --data-urlencode service_code=water --data-urlencode "description=水管漏水" --data-urlencode "address_string=青年路街道西街村1组2号" --data-urlencode "attribute[urgent]=true"
check "the refusal names the right" true "$(jbody '.[0].description | contains("may_set_priority")')"
expect_error "POST labelling a resident petitioner with a key that may not" 403 POST $V2/requests.json --data-urlencode "api_key=$API_KEY" --data-urlencode service_code=water --data-urlencode "description=水管漏水" --data-urlencode "address_string=青年路街道西街村1组2号" --data-urlencode "attribute[groups]=petitioner"
check "nothing stored by refused POSTs" 0 "$(sql "SELECT count(*) FROM cases")"
sql "UPDATE api_keys SET may_set_priority = true WHERE name = 'testclient'" >/dev/null

# --- POST requests.json: stored through the intake, idempotent ----------------
post --data-urlencode service_code=water --data-urlencode "description=西街村1组2号门前水管漏水" \
  --data-urlencode "address_string=青年路街道西街村1组2号" --data-urlencode first_name=三 --data-urlencode last_name=张 \
  --data-urlencode phone=13912345678 --data-urlencode client_request_id=req-1
check "POST status (created)" 201 "$STATUS"
C1=$(jbody '.[0].service_request_id')
check "POST answer is the stored case" "open311|testclient:req-1|water|张三|13912345678" \
  "$(sql "SELECT source || '|' || source_ref || '|' || category || '|' || name || '|' || phone FROM cases WHERE id = '$C1'")"
post --data-urlencode service_code=water --data-urlencode "description=西街村1组2号门前水管漏水" \
  --data-urlencode "address_string=青年路街道西街村1组2号" --data-urlencode client_request_id=req-1
check "resent POST is a duplicate (200, same id)" "200 $C1" "$STATUS $(jbody '.[0].service_request_id')"
post -H "Idempotency-Key: idem-7" --data-urlencode service_code=road --data-urlencode "description=路灯不亮" \
  --data-urlencode "attribute[grid]=QNL.01.002" --data-urlencode "attribute[urgent]=true"
C2=$(jbody '.[0].service_request_id')
post -H "Idempotency-Key: idem-7" --data-urlencode service_code=road --data-urlencode "description=路灯不亮" \
  --data-urlencode "attribute[grid]=QNL.01.002"
check "Idempotency-Key header is the request id" "200 $C2" "$STATUS $(jbody '.[0].service_request_id')"
check "explicit grid and urgent attributes" "QNL.01.002 true" "$(sql "SELECT grid || ' ' || urgent FROM cases WHERE id = '$C2'")"
post --data-urlencode service_code=sanitation --data-urlencode "description=垃圾没人清运" --data-urlencode lat=39.9 --data-urlencode long=116.4
C3=$(jbody '.[0].service_request_id')
check "POST without a client id is stored (lat/long as location)" "201 经纬度 39.9,116.4" "$STATUS $(sql "SELECT address FROM cases WHERE id = '$C3'")"
post --data-urlencode service_code=water --data-urlencode "description=水压低" --data-urlencode "address_string=青年路街道西街村1组12号" --data-urlencode client_request_id=req-4
C4=$(jbody '.[0].service_request_id')
check "four cases stored, all from open311" "4 4" "$(sql "SELECT count(*) || ' ' || count(*) FILTER (WHERE source = 'open311') FROM cases")"
wait_for "routing" 20 quiescent

# --- GET requests/{id}.json -----------------------------------------------------
http GET "$V2/requests/$C1.json"
check "requests/{id}.json status" 200 "$STATUS"
check "requests/{id}.json fields" "$C1 open water 供水排水" "$(jbody '[.[0].service_request_id, .[0].status, .[0].service_code, .[0].service_name] | join(" ")')"
check "requested_datetime is the received time (UTC)" "$(sql "SELECT to_char (received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM cases WHERE id = $C1")" "$(jbody '.[0].requested_datetime')"
check "no name or phone in the answer, address masked" "false false true" \
  "$(jbody '[(tostring | contains("张三")), (tostring | contains("13912345678")), (.[0].address | endswith("**"))] | map(tostring) | join(" ")')"
check "agency_responsible is the owner grid" "$(sql "SELECT g.name FROM cases c JOIN grids g ON g.code = c.grid WHERE c.id = $C1")" "$(jbody '.[0].agency_responsible')"
expect_error "unknown request id" 404 GET "$V2/requests/999999.json"
expect_error "non-numeric request id" 404 GET "$V2/requests/abc.json"

# --- status mapping: resolve C1 through the intake ---------------------------------
L3=$(sql "SELECT p.id FROM cases c JOIN people p ON p.grid = c.grid AND p.role = 'leader' WHERE c.id = $C1")
"$G" case sign "$C1" --actor "$L3" >>"$ART/actions.out" 2>&1 && "$G" case resolve "$C1" --actor "$L3" --note 已修好 >>"$ART/actions.out" 2>&1 \
  || not_ok "resolving case $C1: $(tail -1 "$ART/actions.out")"
check "case $C1 resolved" resolved "$(sql "SELECT state FROM cases WHERE id = $C1")"

# --- GET requests.json and its filters ------------------------------------------
ids() { jbody '[.[].service_request_id | tonumber] | sort | map(tostring) | join(",")'; }
http GET "$V2/requests.json"
check "requests.json (default: last 90 days) lists all" "$C1,$C2,$C3,$C4" "$(ids)"
check "requests.json newest first" "$C4" "$(jbody '.[0].service_request_id')"
http GET "$V2/requests.json?status=closed"; check "status=closed" "$C1" "$(ids)"
http GET "$V2/requests.json?status=open"; check "status=open" "$C2,$C3,$C4" "$(ids)"
http GET "$V2/requests.json?status=open,closed"; check "status=open,closed" "$C1,$C2,$C3,$C4" "$(ids)"
http GET "$V2/requests.json?service_code=water"; check "service_code=water" "$C1,$C4" "$(ids)"
http GET "$V2/requests.json?service_code=water,road"; check "service_code=water,road" "$C1,$C2,$C4" "$(ids)"
http GET "$V2/requests.json?service_code=water&status=open"; check "service_code and status together" "$C4" "$(ids)"
http GET "$V2/requests.json?service_request_id=$C2,$C4"; check "service_request_id list" "$C2,$C4" "$(ids)"
http GET "$V2/requests.json?service_request_id=$C1&status=open"; check "service_request_id overrides other filters" "$C1" "$(ids)"
TOMORROW=$(sql "SELECT to_char ((gf_now () + interval '1 day') AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+08:00\"')")
YESTERDAY=$(sql "SELECT to_char (gf_now () - interval '1 day', 'YYYY-MM-DD\"T\"HH24:MI:SS')")Z
http GET "$V2/requests.json?start_date=$YESTERDAY&end_date=${TOMORROW/+/%2B}"; check "start_date..end_date around now" "$C1,$C2,$C3,$C4" "$(ids)"
http GET "$V2/requests.json?start_date=${TOMORROW/+/%2B}"; check "start_date tomorrow" "" "$(ids)"
http GET "$V2/requests.json?end_date=$YESTERDAY"; check "end_date yesterday" "" "$(ids)"
# start_date between two cases' received times
MID=$(sql "SELECT to_char ((received_at + interval '1 microsecond') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM cases WHERE id = $C3")
http GET "$V2/requests.json?start_date=$MID"; check "start_date after case $C3's time" "$C4" "$(ids)"
http GET "$V2/requests.json?end_date=$MID"; check "end_date at case $C3's time" "$C1,$C2,$C3" "$(ids)"
expect_error "bad status" 400 GET "$V2/requests.json?status=pending"
expect_error "bad start_date" 400 GET "$V2/requests.json?start_date=yesterday"
expect_error "bad end_date (month 13)" 400 GET "$V2/requests.json?end_date=2026-13-01"
expect_error "bad service_request_id" 400 GET "$V2/requests.json?service_request_id=1,x"
expect_error "bad service_code" 400 GET "$V2/requests.json?service_code=Water"
# Old cases fall out of the default 90-day window but are found with dates.
sql "UPDATE cases SET received_at = received_at - interval '200 days' WHERE id = $C4" >/dev/null
http GET "$V2/requests.json"; check "default window is 90 days" "$C1,$C2,$C3" "$(ids)"
OLD=$(sql "SELECT to_char (gf_now () - interval '300 days', 'YYYY-MM-DD')")
http GET "$V2/requests.json?start_date=$OLD"; check "start_date reaches older cases" "$C1,$C2,$C3,$C4" "$(ids)"

# --- health and metrics -------------------------------------------------------
http GET /healthz
check "/healthz" "200 ok true" "$STATUS $(jbody '.status') $(jbody ".log_head == $(sql "SELECT max(seq) FROM case_events")")"
http GET /metrics
check "/metrics counts created POSTs" 4 "$(sed -n 's/^gf_gateway_open311_posts_total{result="created"} //p' "$ART/body.json")"
check "/metrics counts duplicate POSTs" 2 "$(sed -n 's/^gf_gateway_open311_posts_total{result="duplicate"} //p' "$ART/body.json")"
check "/metrics counts refused POSTs" 13 "$(sed -n 's/^gf_gateway_open311_posts_total{result="refused"} //p' "$ART/body.json")"
check "/metrics has TYPE lines" True "$(python3 -c "
import re; t=open('$ART/body.json').read(); names=set(re.findall(r'^(gf_\w+?)(?:\{| )', t, re.M))
base=lambda n: re.sub(r'_(bucket|sum|count)$', '', n)  # a histogram's series
print(all(('# TYPE ' + n + ' ') in t or ('# TYPE ' + base(n) + ' histogram') in t for n in names)
      and len(names) >= 8)")"

# --- the dashboard's JSON, as gf_gateway --------------------------------------
for q in summary.json escalations.json ledger.json "trend.json?days=7" "directory.json?grid=QNL.01" ratings.json programmes.json vocabulary.json; do
  http GET "/api/$q"; check "/api/$q as gf_gateway" 200 "$STATUS"
done
check "vocabulary.json has the event types' names" "$(sql "SELECT name FROM event_types WHERE type = 'case.routed'")" \
  "$(jbody '.event_types["case.routed"]')"
check "summary.json counts the cases" "$(sql "SELECT count(*) FROM cases WHERE merged_into IS NULL")" "$(http GET /api/summary.json; jbody '.totals.total')"

finish
