#!/usr/bin/env bash
# test: long 30 (seconds on a quiet machine: the long ones start first)
# Issue 7, acceptance 2: PostgreSQL least privilege.  Each service's role
# (deploy/sql/repeatable/grants.sql) is refused the writes it must not make and
# allowed the ones it needs, against the real database.  Every attempt runs
# in a transaction that is rolled back, as the role (SET LOCAL ROLE).
# Issue 13, roles that hold: every service started from its sample config
# (deploy/config/*.cfg, only the cluster, database and ports changed) as its
# own LOGIN user runs the whole pipeline, the escalator's meetings and every
# gateway endpoint, with no statement refused; a service given another
# service's user (or an operator's options=-crole=...) is refused and says
# not ready (/healthz 503, `gridctl status`); an operator's
# options=-c statement_timeout=... wins over the config's.
source "$(dirname "$0")/lib.sh"
new_db
"$ROOT/deploy/pg.sh" psql -X -q -d "$(sql "SELECT current_database()")" -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || not_ok "fixture"
INSERT INTO cases (source, source_ref, root, grid, description, name, phone, address, received_at, state)
VALUES ('hotline', 'R-1', 'QNL', 'QNL.07.063', '路灯坏了', '测试', '13900000000', '青年路1号', now (), 'routed');
INSERT INTO event_stage (type, topic, case_id, grid, at, payload)
SELECT 'case.received', 'case.received/QNL', id, 'QNL', now (), '{}' FROM cases;
SQL

# try ROLE SQL: "ok", "denied" (permission denied, must be owner), or the error.
try() {
  local out
  out=$(printf 'BEGIN;\nSET LOCAL ROLE %s;\n%s;\nROLLBACK;\n' "$1" "$2" |
    "$PSQL_BIN" -X -q -t -A -v ON_ERROR_STOP=1 -d "$GF_DB" 2>&1 >/dev/null)
  if [ $? -eq 0 ]; then echo ok
  elif echo "$out" | grep -q -E "permission denied|must be owner"; then echo denied
  else echo "$out" | head -1; fi
}
# refused ROLE WHAT SQL / allowed ROLE WHAT SQL
refused() { check "$1 may not $2" denied "$(try "$1" "$3")"; }
allowed() { check "$1 may $2" ok "$(try "$1" "$3")"; }

ROLES="gf_intake gf_relay gf_router gf_notifier gf_escalator gf_gateway gf_ctl"
check "every service role exists and cannot log in" 7 \
  "$(sql "SELECT count(*) FROM pg_roles WHERE rolname = ANY (string_to_array ('$ROLES', ' ')) AND NOT rolcanlogin AND NOT rolsuper")"

# relay: reads the numbered log, nothing else (the writers number it, 040).
refused gf_relay "update cases" "UPDATE cases SET state = 'closed'"
refused gf_relay "read cases (personal data)" "SELECT name FROM cases"
refused gf_relay "rewrite an event's payload" "UPDATE case_events SET payload = '{}'"
refused gf_relay "insert events" "INSERT INTO case_events (type, topic, at, payload) VALUES ('x', 'x', now (), '{}')"
refused gf_relay "delete events" "DELETE FROM case_events"
refused gf_relay "renumber events" "UPDATE case_events SET seq = seq"
allowed gf_relay "read the log after a seq" "SELECT * FROM gf_events_after (0, 10)"

# gateway: reads, never writes; cannot delete anything.
for t in $(sql "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"); do
  r=$(try gf_gateway "DELETE FROM $t")
  [ "$r" == denied ] || not_ok "gf_gateway may not delete from $t: got '$r'"
done
ok "gf_gateway may not delete from any of the $(sql "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") tables"
refused gf_gateway "insert cases" "INSERT INTO cases (source, source_ref, root, grid, description, received_at) VALUES ('web', 'x', 'QNL', 'QNL', 'x', now ())"
refused gf_gateway "update cases" "UPDATE cases SET tier = 'hard'"
refused gf_gateway "read phones" "SELECT phone FROM cases"
allowed gf_gateway "read the masked view and the log" "SELECT phone_masked, address_masked FROM cases_public; SELECT payload FROM case_events"

# intake: stores and acts; cannot delete, cannot grant itself rights.
refused gf_intake "delete cases" "DELETE FROM cases"
refused gf_intake "rewrite events" "UPDATE case_events SET payload = '{}'"
refused gf_intake "change the directory" "UPDATE grids SET name = 'x'"
refused gf_intake "add identities" "INSERT INTO identities (name, public_key, kind, grid) VALUES ('x', repeat ('x', 40), 'adapter', 'QNL')"
refused gf_intake "un-revoke identities" "UPDATE identities SET revoked_at = NULL"
refused gf_intake "write the log around the append" "INSERT INTO case_events (seq, type, topic, at, payload) VALUES (1000000, 'x', 'x', now (), '{}')"
allowed gf_intake "store a case and its event, appended at once" "SET CONSTRAINTS event_stage_append IMMEDIATE; WITH c AS (INSERT INTO cases (source, source_ref, root, grid, description, received_at) VALUES ('web', 'x', 'QNL', 'QNL', 'x', gf_now ()) RETURNING id) INSERT INTO event_stage (type, topic, case_id, at, payload) SELECT 'case.received', 't', id, gf_now (), '{}' FROM c"
allowed gf_intake "apply an action" "UPDATE cases SET state = 'signed', version = version + 1 WHERE id = 1"

# router: routes; no personal data beyond the address, no other column.
refused gf_router "change a case's description" "UPDATE cases SET description = 'x'"
refused gf_router "read names or phones" "SELECT name, phone FROM cases"
refused gf_router "delete cases" "DELETE FROM cases"
refused gf_router "create notifications" "INSERT INTO notifications (case_id, kind, recipient, channel, text, created_at) VALUES (1, 'k', 'P-QNL-1', 'app', 't', now ())"
allowed gf_router "route a case" "SELECT id, address FROM cases WHERE state = 'routed' FOR UPDATE; UPDATE cases SET state = 'routed', grid = 'QNL.07.063', routed_at = gf_now (), version = version + 1 WHERE id = 1"

# notifier: notifications only.
refused gf_notifier "update cases" "UPDATE cases SET state = 'closed'"
refused gf_notifier "read names" "SELECT name FROM cases"
refused gf_notifier "read exact addresses" "SELECT address FROM cases"
refused gf_notifier "delete notifications" "DELETE FROM notifications"
allowed gf_notifier "create a notification" "INSERT INTO notifications (case_id, kind, recipient, channel, text, created_at) VALUES (1, 'k', 'P-QNL-1', 'app', 't', gf_now ())"

# escalator: meetings and escalations; no deleting, no identities, no actions.
refused gf_escalator "delete cases" "DELETE FROM cases"
refused gf_escalator "forge staff actions" "INSERT INTO case_actions (case_id, request_id, actor, action, from_state, to_state, version, at) VALUES (1, 'r', 'P-QNL-1', 'sign', 'routed', 'signed', 2, now ())"
refused gf_escalator "change identities" "UPDATE identities SET revoked_at = NULL"
refused gf_escalator "rewrite events" "UPDATE case_events SET payload = '{}'"
allowed gf_escalator "escalate a case" "UPDATE cases SET level = 2, version = version + 1 WHERE id = 1"

# gridctl (operators): directory, clock, identities; never the log or a case.
refused gf_ctl "rewrite events" "UPDATE case_events SET payload = '{}'"
refused gf_ctl "delete events" "DELETE FROM case_events"
refused gf_ctl "delete the action record" "DELETE FROM case_actions"
refused gf_ctl "change a case directly (actions go through the intake)" "UPDATE cases SET state = 'closed'"
allowed gf_ctl "set the clock and register an identity" "INSERT INTO sim_clock (at) VALUES (now ()) ON CONFLICT (id) DO UPDATE SET at = excluded.at; INSERT INTO identities (name, public_key, kind, grid) VALUES ('x', repeat ('x', 40), 'adapter', 'QNL')"

# The operators' tool works as gf_ctl, command by command.
CTL_DB="$GF_DB options=-crole=gf_ctl"
mkdir -p "$ART/certs"
for c in "clock set 2026-11-02T08:00:00+08:00 --force" "clock real --force" "grids import $ROOT/deploy/sample/qingnianlu.json" \
         "calendar import" "case show 1" "case list --grid QNL" "meeting list" \
         "escalation plan --at 2026-11-09T09:00:00+08:00" "report monthly --month 2026-11" \
         "--certs $ART/certs cert new desk --kind staff --grid QNL --out $ART/desk.cert" \
         "--certs $ART/certs cert revoke desk" "--certs $ART/certs cert list"; do
  # shellcheck disable=SC2086
  "$BIN/gridctl" --db "$CTL_DB" $c >>"$ART/ctl.out" 2>>"$ART/ctl.err" || not_ok "gridctl $c as gf_ctl: $(tail -1 "$ART/ctl.err")"
done
ok "gridctl's commands work as gf_ctl (clock, grids, calendar, cases, meetings, plan, report, cert)"

# Nobody but the owner changes the schema.
for r in $ROLES; do
  res=$(try "$r" "CREATE TABLE gf_probe (i int)")
  [ "$res" == denied ] || not_ok "$r may not create tables: got '$res'"
done
ok "no service role may create a table"
refused gf_escalator "drop a table" "DROP TABLE cases"

# --- Issue 13: the services as their own LOGIN users, from the sample configs ---
"$ROOT/deploy/pg.sh" users || not_ok "deploy/pg.sh users"
check "a LOGIN user per service (gridflow_*), in its own role only, no superuser or bypass" 7 \
  "$(sql "SELECT count(*) FROM unnest (string_to_array ('$ROLES', ' ')) r JOIN pg_roles u ON u.rolname = 'gridflow_' || substr (r, 4)
           WHERE u.rolcanlogin AND NOT u.rolsuper AND NOT u.rolbypassrls AND NOT u.rolcreaterole
             AND (SELECT array_agg (g.rolname::text) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                   WHERE m.member = u.oid) = ARRAY[r]")"
new_db _live
OWNER_DB=$GF_DB
export SQL_DB=$OWNER_DB # the checks read as the owner; the programs do not
DB_WHERE=$(sed -E 's/(^| )user=[^ ]*//' <<<"$OWNER_DB") # host, port and dbname of the test database
# sample_db NAME: db/conninfo of deploy/config/NAME.cfg on the test's cluster and database.
sample_db() {
  local c; c=$(sed -n 's/^    conninfo = "\(.*\)"$/\1/p' "$ROOT/deploy/config/$1.cfg")
  echo "$DB_WHERE $(sed -E 's/(^| )(host|port|dbname)=[^ ]*//g' <<<"$c")"
}
for s in intake relay router notifier escalator gateway; do
  grep -q " user=gridflow_$s\( \|$\)" <<<"$(sample_db $s)" || not_ok "deploy/config/$s.cfg connects as gridflow_$s: $(sample_db $s)"
done
grep -q " user=gridflow_ctl\( \|$\)" <<<"$(sample_db gridflow)" || not_ok "gridflow.cfg (gridctl) connects as gridflow_ctl"
ok "each sample config connects as its own LOGIN user (gridflow_<service>, gridctl gridflow_ctl)"
# gridctl as the operators' user, from gridflow.cfg, for everything below
# (the lib's submit, act and clock_set included).
export GF_DB=$(sample_db gridflow) GF_CONFIG=$ROOT/deploy/config/gridflow.cfg
G="$BIN/gridctl"
"$G" calendar import >"$ART/calendar.out" 2>&1 || not_ok "calendar import as gridflow_ctl: $(tail -1 "$ART/calendar.out")"
clock_set "2026-11-02T08:00:00+08:00" # a Monday, before the 09:00 meetings

# from_sample NAME SERVICE [ARGS...]: bin/gf-SERVICE with deploy/config/SERVICE.cfg, its
# conninfo on the test database; the bus endpoints come from the harness's GF_* (environment
# over file), GF_CURVE=off too (plain loopback; CurveZMQ is test_security_auth's).
from_sample() {
  local name=$1 svc=$2; shift 2
  start "$name" --config "$ROOT/deploy/config/$svc.cfg" --db "$(sample_db "$svc")" "$@"
}
GW_PORT=$((PORT_BASE + 10)) # the test SMS gateway, clear of the metrics ports
start_sms_gateway "$ART/sms-gateway.txt" --token t0k
trap 'kill $GW 2>/dev/null; stop_all' EXIT
export GF_SMS_URL=http://127.0.0.1:$GW_PORT/sms GF_SMS_TOKEN=t0k
HTTP=$((PORT_BASE + 8))
URL=http://127.0.0.1:$HTTP
for s in relay intake router notifier escalator; do from_sample "$s" "$s" --metrics "${MPORT[$s]}"; done
from_sample gateway gateway --http "127.0.0.1:$HTTP"
wait_for "intake port" 30 port_open $((PORT_BASE + 0))
wait_for "consumers" 20 sql_eq "SELECT count(*) FROM consumer_checkpoints" 2
wait_for "escalation to start" 20 sql_eq "SELECT count(*) FROM escalation_state" 1
wait_for "gateway /healthz" 20 curl -sf "$URL/healthz"
# Every connection of a gf-* program (application_name gf-<service>[...]) is
# made as gridflow_<service>: six services, six users.
own_users() {
  sql_eq "SELECT count(*) FILTER (WHERE usename <> 'gridflow_' || substring (application_name FROM '^gf-([a-z]+)'))
                 || ' ' || count(DISTINCT usename)
            FROM pg_stat_activity WHERE datname = current_database () AND application_name ~ '^gf-'" "0 6"
}
wait_for "every service's connections" 20 own_users && ok "each program connected as its own LOGIN user (pg_stat_activity)"

# The pipeline: complaints in (the hotline adapter and Open311 through the
# gateway), routed, notified (app and SMS), worked by staff through the intake.
gen_hotline 40 13 --start 2026-11-02T07:00:00+08:00 >"$ART/feed.jsonl" 2>/dev/null
run_feed
check "feed stored by the intake as gridflow_intake" "accepted 40, duplicate 0, rejected 0, failed 0" "$(cat "$ART/feed.out")"
API_KEY=k-roles-$$-secret
sql "INSERT INTO api_keys (name, key_sha256) VALUES ('roles', encode (sha256 (convert_to ('$API_KEY', 'UTF8')), 'hex'))" >/dev/null
code=$(curl -s -o "$ART/post.json" -w '%{http_code}' -X POST "$URL/open311/v2/requests.json" --data-urlencode "api_key=$API_KEY" \
  --data-urlencode service_code=water --data-urlencode "description=水管漏水" --data-urlencode "address_string=青年路街道西街村1组2号")
check "Open311 POST through the gateway (as gridflow_gateway) and the intake" 201 "$code"
wait_for "pipeline to drain" 60 quiescent
check "every case routed or unroutable, by the router as gridflow_router" "41 0" \
  "$(sql "SELECT count(*) || ' ' || count(*) FILTER (WHERE state = 'registered') FROM cases")"
check "every routed case's leader notified, by the notifier as gridflow_notifier" 0 \
  "$(sql "SELECT count(*) FROM cases c WHERE c.state = 'routed' AND NOT EXISTS (SELECT 1 FROM notifications n
           JOIN people p ON p.id = n.recipient WHERE n.case_id = c.id AND p.role = 'leader')")"
wait_for "SMS deliveries sent" 60 sql_eq "SELECT count(*) FROM deliveries WHERE channel = 'sms' AND state = 'pending'" 0
check "SMS went out through the SMS gateway" t \
  "$(sql "SELECT count(*) > 0 AND count(*) = count(*) FILTER (WHERE state = 'sent') FROM deliveries WHERE channel = 'sms'")"
first=$(sql "SELECT id FROM cases WHERE state = 'routed' ORDER BY id LIMIT 1")
leader=$(sql "SELECT p.id FROM cases c JOIN people p ON p.grid = c.grid AND p.role = 'leader' WHERE c.id = $first")
act "$first" sign --actor "$leader"
act "$first" resolve --actor "$leader" --note "已处理"
wait_for "staff actions applied by the intake" 10 sql_eq "SELECT state FROM cases WHERE id = $first" resolved
# The staff app: sign-in, push and receipts (the notifier's app push as gridflow_notifier).
TOKEN=$("$G" notify token "$leader" 2>>"$ART/ctl.err")
"$TOOLS/app_client" "$GF_APP" "$leader" "$TOKEN" ack 2500 >"$ART/app.txt" 2>&1
check "the leader's app signed in and got messages" t \
  "$(grep -q '^welcome' "$ART/app.txt" && grep -q '^message' "$ART/app.txt" && echo t || echo f)"
wait_for "app receipts recorded" 10 sql_eq "SELECT count(*) > 0 FROM deliveries WHERE channel = 'app' AND address = '$leader' AND state = 'acked'" t

# The escalator's meetings and escalations, time moved by gridctl as gridflow_ctl.
clock_set "2026-11-02T09:00:00+08:00"
wait_for "the meetings of 2 November" 60 sql_eq "SELECT count(*) >= 13 FROM meetings" t
clock_set "2026-11-09T09:00:00+08:00"
wait_for "the next weekly meetings and their escalations" 60 \
  sql_eq "SELECT count(*) >= 25 AND (SELECT count(*) FROM escalations) > 0 FROM meetings" t
check "meetings held and cases escalated by the escalator as gridflow_escalator" t \
  "$(sql "SELECT count(*) >= 25 AND (SELECT count(*) FROM escalations) > 0 AND (SELECT count(*) FROM ledger_entries) > 0 FROM meetings")"
# Issues 14 and 15: the staff's records through the intake as gridflow_intake,
# the operator's imports as gridflow_ctl (each must succeed; the log check
# below finds any refusal).
staff() { "$G" "$@" >>"$ART/staff.out" 2>>"$ART/staff.err" || not_ok "gridctl $* (as the LOGIN users): $(tail -1 "$ART/staff.err")"; }
staff department import "$ROOT/deploy/sample/departments.json"
M07=$(sql "SELECT id FROM meetings WHERE grid = 'QNL.07' AND kind = 'weekly' AND day = '2026-11-09'")
staff meeting attend "$M07" --actor P-QNL.07-1 --name "赵干部" --role cadre
staff meeting minutes "$M07" --actor P-QNL.07-1 --text "本周无议题"
staff meeting close "$M07" --actor P-QNL.07-1
second=$(sql "SELECT id FROM cases WHERE state = 'routed' AND id <> $first ORDER BY id LIMIT 1")
lead2=$(sql "SELECT p.id FROM cases c JOIN people p ON p.grid = c.grid AND p.role = 'leader' WHERE c.id = $second")
grid2=$(sql "SELECT grid FROM cases WHERE id = $second")
staff case sign "$second" --actor "$lead2"
staff case refer "$second" --actor "$lead2" --department GDS --note "代居民报修"
staff case receipt "$second" --actor "$lead2" --contact "王建国"
python3 -c 'import sys; open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + bytes(64))' "$ART/evidence.png"
staff case attach "$second" --actor "$lead2" --file "$ART/evidence.png"
third=$(sql "SELECT id FROM cases WHERE state = 'routed' AND id NOT IN ($first, $second) ORDER BY id LIMIT 1")
lead3=$(sql "SELECT p.id FROM cases c JOIN people p ON p.grid = c.grid AND p.role = 'leader' WHERE c.id = $third")
staff case reject "$third" --actor "$lead3" --reason out_of_jurisdiction --note "不属本辖区"
staff case unreject "$third" --actor P-QNL-1 --note "复核后属本辖区"
staff household register HH-ROLES-1 --actor "$lead2" --grid "$grid2" --address "测试路1号" --head-name "测试户主" --phone 19700000001
staff household group HH-ROLES-1 --actor "$lead2" --add dibao --from 2026-10-01 --source "民政名单"
staff patrol log --actor "$lead2" --grid "$grid2" --at 2026-11-09T08:30:00+08:00 --nothing-found
staff visit log --actor "$lead2" --household HH-ROLES-1 --at 2026-11-09T08:45:00+08:00 --learned "一切正常" \
  --follow-up "楼道灯不亮" --category other
staff thing done --actor "$lead2" --household HH-ROLES-1 --kind repair --note "更换灯泡" --date 2026-11-09
check "meetings, 代访, attachments, rejections, the register and field logs stored through the intake as gridflow_intake" \
  "closed|received|1|routed|1|1|1|1" \
  "$(sql "SELECT (SELECT state FROM meetings WHERE id = $M07) || '|' ||
                 (SELECT CASE WHEN received_at IS NOT NULL THEN 'received' END FROM referrals WHERE case_id = $second) || '|' ||
                 (SELECT count(*) FROM attachments WHERE case_id = $second) || '|' ||
                 (SELECT state FROM cases WHERE id = $third) || '|' ||
                 (SELECT count(*) FROM household_groups WHERE household = 'HH-ROLES-1') || '|' ||
                 (SELECT count(*) FROM visits WHERE household = 'HH-ROLES-1' AND case_id IS NOT NULL) || '|' ||
                 (SELECT count(*) FROM patrols) || '|' || (SELECT count(*) FROM things_done)")"

# gridctl's read and operator commands as gridflow_ctl (gridflow.cfg).
meeting=$(sql "SELECT min(id) FROM meetings")
fails=""
for c in "case show $first" "case list --grid QNL.07" "watch --once" "watch --since 0 --json --count 5 --idle 1500" \
         "calendar show 2026-11" "clock show" "escalation plan --at 2026-11-16T09:00:00+08:00" "meeting list --limit 5" \
         "meeting call --grid QNL --topic 征询" "ledger show --meeting $meeting" "report monthly --month 2026-11" \
         "notify stats" "notify dead" "notify redrive --all" "status --bus-wait 500" \
         "meeting show $M07" "ledger agenda --meeting $M07" "report indicators --month 2026-11" \
         "household show HH-ROLES-1" "visit overdue --grid QNL" "patrol missed --grid QNL" "programmes"; do
  # shellcheck disable=SC2086
  "$G" $c >>"$ART/ctl.out" 2>>"$ART/ctl.err" || fails="$fails [$c]"
done
check "gridctl's commands as gridflow_ctl" "" "$fails"
wait_for "pipeline to drain" 60 quiescent

# The gateway's every endpoint, as gridflow_gateway (the staff reads with a
# kiosk token of the root made by gridctl as gridflow_ctl: issue 16).
id=$(sql "SELECT id FROM cases ORDER BY id LIMIT 1")
KIOSK=$("$G" kiosk add --grid QNL --label roles | sed -n 's/^token: //p')
AUTH="Authorization: Bearer $KIOSK"
bad=""
for path in /api/summary.json /api/escalations.json /api/ledger.json /api/vocabulary.json "/api/trend.json?days=7" \
            /api/directory.json "/api/directory.json?grid=QNL.07" /open311/v2/services.json /open311/v2/services/water.json \
            /open311/v2/requests.json "/open311/v2/requests.json?status=open&service_code=water" \
            "/open311/v2/requests/$id.json" /healthz /metrics /api/ratings.json /api/programmes.json; do
  code=$(curl -s -o "$ART/body" -w '%{http_code}' -H "$AUTH" "$URL$path")
  [ "$code" == 200 ] || bad="$bad $path:$code"
done
check "every gateway endpoint answers 200 as gridflow_gateway" "" "$bad"
curl -s -N -m 3 -H "$AUTH" "$URL/stream?since=0" >"$ART/stream.txt" 2>/dev/null
check "/stream replays the log as gridflow_gateway" t \
  "$([ "$(grep -c '^id: ' "$ART/stream.txt")" -ge 10 ] && echo t || echo f)"

# Nothing refused anywhere: no 42501 in any log, every /healthz 200, and
# `gridctl status` (as gridflow_ctl) shows every service ready.
check "no statement refused in any service's log" "" \
  "$(grep -l -E "42501|permission denied" "$ART"/{relay,intake,router,notifier,escalator,gateway}.log 2>/dev/null | xargs -r -n1 basename | tr '\n' ' ')"
bad=""
for s in relay intake router notifier escalator; do [ "$(health "${MPORT[$s]}")" == 200 ] || bad="$bad $s:$(health "${MPORT[$s]}")"; done
check "every service's /healthz is 200" "" "$bad"
all_ready() { [ "$("$G" status --bus-wait 0 | grep -c -E '^  gf-(relay|intake|router|notifier|escalator|gateway) .* ready ')" -ge 6 ]; }
wait_for "gridctl status: six services ready" 20 all_ready
"$G" status --bus-wait 0 >"$ART/status.txt" 2>&1
check "gridctl status as gridflow_ctl: every service ready, none NOT READY" 0 "$(grep -c 'NOT READY' "$ART/status.txt")"

# --- Another service's user: refused, not ready ---------------------------------
WRONG_EP=tcp://127.0.0.1:$((PORT_BASE + 11)) WRONG_M=$((PORT_BASE + 12))
# wrong_intake NAME CONNINFO: an intake on its own endpoint connected with CONNINFO;
# a complaint sent to it is refused and stored nowhere, /healthz says 503
# (db-privileges), the log names the refusal, `gridctl status` NOT READY.
wrong_intake() {
  local name=$1
  GF_INTAKE=$WRONG_EP start "$name" --config "$ROOT/deploy/config/intake.cfg" --db "$2" --metrics "$WRONG_M" --status 500
  wait_for "$name port" 20 port_open $((PORT_BASE + 11))
  wait_for "$name /healthz 503 from the start" 10 health_is "$WRONG_M" 503
  check "$name: not ready from the start: its user is not a member of gf_intake" "not ready: db-role" \
    "$(curl -s "http://127.0.0.1:$WRONG_M/healthz" | tr -d '\n')"
  GF_INTAKE=$WRONG_EP timeout 15 "$G" submit --source hotline --ref "WRONG-$name" --text "路灯坏了" --grid QNL.07.063 \
    >"$ART/$name.submit" 2>&1
  local rc=$?
  check "$name: the complaint is refused (gridctl exits non-zero)" t "$([ $rc -ne 0 ] && echo t || echo "f: $rc")"
  check "$name: stored nowhere" 0 "$(sql "SELECT count(*) FROM cases WHERE source_ref = 'WRONG-$name'")"
  check "$name: /healthz says why" "not ready: db-role, db-privileges" \
    "$(curl -s "http://127.0.0.1:$WRONG_M/healthz" | tr -d '\n')"
  check "$name: the log names the role and the refusal" "1 1" \
    "$(grep -c -m1 "which is not a member of gf_intake: not ready" "$ART/$name.log") $(grep -c -m1 "permission denied (SQLSTATE 42501) for gf-intake connected as user" "$ART/$name.log")"
  local pid=${PIDS[$name]}
  st() { "$G" status --bus-wait 0 | grep -q -E "^  gf-intake +[^ ]*:$pid .* NOT READY "; }
  wait_for "$name: gridctl status NOT READY" 15 st && ok "$name: gridctl status shows the instance NOT READY"
  kill -TERM "$pid"; wait "$pid"; check "$name stops cleanly" 0 $?
  unset "PIDS[$name]"
}
wrong_intake intake@as-relay "$DB_WHERE user=gridflow_relay"
# The issue's reproduction: the owner with an operator's -c role in options
# (before the fix, gridflow's own options came later and dropped it).
wrong_intake intake@owner-crole "$DB_WHERE user=gridflow options=-crole=gf_relay"
# The gateway as the router's user: its reads are refused, and /healthz says so.
GWW=$((PORT_BASE + 13))
from_sample gateway@as-router gateway --db "$DB_WHERE user=gridflow_router" --http "127.0.0.1:$GWW"
wait_for "gateway@as-router /healthz" 20 port_open "$GWW"
wait_for "gateway@as-router: not ready from the start (db-role)" 10 \
  sh -c "curl -s 'http://127.0.0.1:$GWW/healthz' | jq -e '.privileges == false'"
check "gateway as gridflow_router: /api/summary.json refused" 503 \
  "$(curl -s -o /dev/null -w '%{http_code}' -H "$AUTH" "http://127.0.0.1:$GWW/api/summary.json")"
check "gateway as gridflow_router: /healthz 503, privileges false" "503 false" \
  "$(curl -s -o "$ART/gww.json" -w '%{http_code}' "http://127.0.0.1:$GWW/healthz") $(jq -r .privileges "$ART/gww.json")"

# A grant missing from the service's own role: not ready while the statement
# is refused, ready again once it succeeds (the grant restored; grants are
# per database, so this changes nothing outside the test's).
sql "REVOKE SELECT ON escalations FROM gf_gateway" >/dev/null
check "gateway without SELECT on escalations: /api/escalations.json refused, /healthz 503" "503 503" \
  "$(curl -s -o /dev/null -w '%{http_code}' -H "$AUTH" "$URL/api/escalations.json") $(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")"
sql "GRANT SELECT ON escalations TO gf_gateway" >/dev/null
check "the grant restored: the same statement succeeds and the gateway is ready again" "200 200" \
  "$(curl -s -o /dev/null -w '%{http_code}' -H "$AUTH" "$URL/api/escalations.json") $(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")"
check "the gateway's log names the refusal and the recovery" "1 1" \
  "$(grep -c -m1 "permission denied (SQLSTATE 42501) for gf-gateway connected as user 'gridflow_gateway'" "$ART/gateway.log") $(grep -c -m1 'every statement refused before now succeeds; ready again' "$ART/gateway.log")"

# --- The operator's options win: -c statement_timeout ----------------------------
# Two gateways from gateway.cfg (statement_timeout 10000, lock_timeout 2000);
# the second's conninfo adds options='-c statement_timeout=700 -c lock_timeout=0'.
# While the owner holds a lock on escalations, /api/escalations.json fails on
# the first after the config's lock_timeout (55P03, ~2 s) and on the second
# after the operator's statement_timeout (57014, ~0.7 s).
GWT=$((PORT_BASE + 14))
from_sample gateway@optioned gateway --db "$(sample_db gateway) options='-c statement_timeout=700 -c lock_timeout=0'" --http "127.0.0.1:$GWT"
wait_for "gateway@optioned /healthz" 20 curl -sf "http://127.0.0.1:$GWT/healthz"
"$PSQL_BIN" -X -q -d "$OWNER_DB" -c "BEGIN" -c "LOCK TABLE escalations IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep (8)" -c "COMMIT" >/dev/null 2>&1 &
LOCKER=$!
wait_for "the owner's lock" 10 sql_eq "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                                       WHERE l.database = (SELECT oid FROM pg_database WHERE datname = current_database ()) AND c.relname = 'escalations' AND l.mode = 'AccessExclusiveLock' AND l.granted" 1
timed() { local t0=$EPOCHREALTIME code; code=$(curl -s -o /dev/null -w '%{http_code}' -m 7 -H "$AUTH" "$1/api/escalations.json")
          echo "$code $(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 ))"; }
read -r code_cfg ms_cfg <<<"$(timed "$URL")"
read -r code_opt ms_opt <<<"$(timed "http://127.0.0.1:$GWT")"
wait "$LOCKER"
note "config's settings: $code_cfg in $ms_cfg ms; operator's options: $code_opt in $ms_opt ms"
check "sample config's lock_timeout (2000 ms) takes effect: 503 after ~2 s, 55P03" "503 t t" \
  "$code_cfg $([ "$ms_cfg" -ge 1900 ] && [ "$ms_cfg" -lt 6000 ] && echo t || echo f) $(grep -q '(55P03)' "$ART/gateway.log" && echo t || echo f)"
check "operator's options=-c statement_timeout=700 wins: 503 within ~0.7 s, 57014, no lock timeout" "503 t t f" \
  "$code_opt $([ "$ms_opt" -ge 600 ] && [ "$ms_opt" -lt 1900 ] && echo t || echo f) $(grep -q '(57014)' "$ART/gateway@optioned.log" && echo t || echo f) $(grep -q '(55P03)' "$ART/gateway@optioned.log" && echo t || echo f)"
finish kill "$GW"
