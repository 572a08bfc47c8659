#!/usr/bin/env bash
# Issue 7, acceptance 2: PostgreSQL least privilege.  Each service's role
# (deploy/sql/repeatable/grants.sql) is refused the writes it must not make and
# allowed the ones it needs, against the real database.  Every attempt runs
# in a transaction that is rolled back, as the role (SET LOCAL ROLE).
source "$(dirname "$0")/lib.sh"
new_db
"$ROOT/deploy/pg.sh" psql -X -q -d "$(sql "SELECT current_database()")" -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || not_ok "fixture"
INSERT INTO cases (source, source_ref, root, grid, description, name, phone, address, received_at, state)
VALUES ('hotline', 'R-1', 'QNL', 'QNL.07.063', '路灯坏了', '测试', '13900000000', '青年路1号', now (), 'routed');
INSERT INTO case_events (type, topic, case_id, grid, at, payload)
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

# relay: numbers events, nothing else.
refused gf_relay "update cases" "UPDATE cases SET state = 'closed'"
refused gf_relay "read cases (personal data)" "SELECT name FROM cases"
refused gf_relay "rewrite an event's payload" "UPDATE case_events SET payload = '{}'"
refused gf_relay "insert events" "INSERT INTO case_events (type, topic, at, payload) VALUES ('x', 'x', now (), '{}')"
refused gf_relay "delete events" "DELETE FROM case_events"
allowed gf_relay "lock and number events" "SELECT id FROM case_events WHERE seq IS NULL FOR UPDATE; UPDATE case_events SET seq = 1 WHERE seq IS NULL"

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
allowed gf_intake "store a case and its event" "WITH c AS (INSERT INTO cases (source, source_ref, root, grid, description, received_at) VALUES ('web', 'x', 'QNL', 'QNL', 'x', gf_now ()) RETURNING id) INSERT INTO case_events (type, topic, case_id, at, payload) SELECT 'case.received', 't', id, gf_now (), '{}' FROM c"
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
finish
