#!/usr/bin/env bash
# Issue 13, item 7: the audit trail of administration.  gridctl run by an
# operator's LOGIN user (a member of gf_ctl, not the owner) with --actor:
# a directory import, identities made and revoked, clock moves, a
# notification redrive, and rule edits and an API key by plain SQL each
# leave audit_log rows naming the database user, the OS user, the actor,
# the command, and the row before and after.  `gridctl audit` lists them for
# a member of gf_auditor only; the trail is append-only for everyone.
source "$(dirname "$0")/lib.sh"
new_db
G="$BIN/gridctl"
DB=$(sql "SELECT current_database()")
# LOGIN users (cluster-wide: made once), members of the roles only.
sql "DO \$\$ BEGIN
       IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gft_operator') THEN
           CREATE ROLE gft_operator LOGIN; END IF;
       IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gft_auditor') THEN
           CREATE ROLE gft_auditor LOGIN; END IF;
     END \$\$; GRANT gf_ctl TO gft_operator; GRANT gf_auditor TO gft_auditor" >/dev/null
OPS_DB="$("$ROOT/deploy/pg.sh" conninfo "$DB" | sed 's/user=[^ ]*/user=gft_operator/')"
AUD_DB="$("$ROOT/deploy/pg.sh" conninfo "$DB" | sed 's/user=[^ ]*/user=gft_auditor/')"
ops() { "$G" --db "$OPS_DB" --actor 张主任 "$@"; }
OS_USER=$(id -un)
# trail WHERE: "tab|op|object|db_user|os_user|actor|command" of the rows matching WHERE.
trail() {
  sql "SELECT string_agg (concat_ws ('|', tab, op, object, db_user, coalesce (os_user, '-'),
                          coalesce (actor, '-'), coalesce (command, '-')), ' ' ORDER BY id)
         FROM audit_log WHERE $1"
}
mark() { sql "SELECT coalesce (max (id), 0) FROM audit_log"; }

check "the test set-up's import is in the trail (the owner, no --actor)" "people|insert|P-QNL-1|gridflow|$OS_USER|-|grids import" \
  "$(trail "tab = 'people' AND object = 'P-QNL-1'")"

# --- a directory import by an operator --------------------------------------
m=$(mark)
jq '(.people[] | select(.id == "P-QNL.07.063-1") | .phone) = "13700000063"' "$SAMPLE" >"$ART/dir.json"
ops grids import "$ART/dir.json" >"$ART/import.out" 2>&1
check "import as the operator's login" 0 "$?"
check "the import: one changed row, who and what" \
  "people|update|P-QNL.07.063-1|gft_operator|$OS_USER|张主任|grids import" "$(trail "id > $m")"
check "... with the phone before and after" "$(jq -r '.people[] | select(.id == "P-QNL.07.063-1") | .phone' "$SAMPLE") 13700000063" \
  "$(sql "SELECT (before->>'phone') || ' ' || (after->>'phone') FROM audit_log WHERE id > $m")"
m=$(mark)
ops grids import "$ART/dir.json" >>"$ART/import.out" 2>&1
check "the same import again changes nothing and adds nothing" "" "$(trail "id > $m")"

# --- identities ----------------------------------------------------------------
m=$(mark)
mkdir -p "$ART/certs"
ops --certs "$ART/certs" cert new desk-9 --kind staff --grid QNL.07 --out "$ART/desk-9.cert" >>"$ART/ops.out" 2>&1
ops --certs "$ART/certs" cert revoke desk-9 >>"$ART/ops.out" 2>&1
check "cert new and revoke" \
  "identities|insert|desk-9|gft_operator|$OS_USER|张主任|cert new identities|update|desk-9|gft_operator|$OS_USER|张主任|cert revoke" \
  "$(trail "id > $m")"
check "... the revocation's change" t \
  "$(sql "SELECT before->'revoked_at' = 'null' AND after ? 'revoked_at' FROM audit_log WHERE id > $m AND op = 'update'")"

# --- the clock ---------------------------------------------------------------------
m=$(mark)
ops clock set 2026-11-02T08:00:00+08:00 >>"$ART/ops.out" 2>&1
ops clock advance '2 days' >>"$ART/ops.out" 2>&1
ops clock set 2026-11-01T08:00:00+08:00 >>"$ART/ops.out" 2>&1    # refused: backwards
check "clock set and advance recorded, the refused move not" \
  "sim_clock|insert|true|gft_operator|$OS_USER|张主任|clock set sim_clock|update|true|gft_operator|$OS_USER|张主任|clock advance" \
  "$(trail "id > $m")"
check "... from and to" "2026-11-02 08:00 2026-11-04 08:00" \
  "$(sql "SELECT to_char ((before->>'at')::timestamptz AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') || ' ' ||
              to_char ((after->>'at')::timestamptz AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')
         FROM audit_log WHERE id > $m AND op = 'update'")"

# --- a redrive -----------------------------------------------------------------------
sql "INSERT INTO cases (source, source_ref, root, grid, description, received_at)
     VALUES ('hotline', 'AU-1', 'QNL', 'QNL.07.063', '测试', gf_now ());
     INSERT INTO notifications (case_id, kind, recipient, channel, text, created_at)
     SELECT id, 'audit', 'P-QNL.07.063-1', 'sms', '测试', gf_now () FROM cases WHERE source_ref = 'AU-1';
     UPDATE deliveries SET state = 'dead', attempts = 5, last_error = 'gateway down'" >/dev/null
DEAD=$(sql "SELECT min (id) FROM deliveries WHERE state = 'dead'")
m=$(mark)
ops notify redrive "$DEAD" >>"$ART/ops.out" 2>&1
check "notify redrive recorded (the sender's own updates were not)" \
  "deliveries|update|$DEAD|gft_operator|$OS_USER|张主任|notify redrive" "$(trail "id > $m")"

# --- rule edits and keys by plain SQL ---------------------------------------------
m=$(mark)
"$PSQL_BIN" -X -q -d "$OPS_DB" -c "UPDATE escalation_rules SET enabled = false WHERE root = '*' AND rule = 'urgent';
  UPDATE notification_templates SET body = body || '。' WHERE kind = 'case.routed' AND lang = 'zh'" >/dev/null 2>>"$ART/ops.out"
sql "INSERT INTO api_keys (name, key_sha256) VALUES ('city-app', repeat ('c', 64))" >/dev/null
check "rule and template edits by psql as the operator, a key by the owner" \
  "escalation_rules|update|*/urgent|gft_operator|-|-|- notification_templates|update|case.routed/zh|gft_operator|-|-|- api_keys|insert|city-app|gridflow|-|-|-" \
  "$(trail "id > $m")"
check "the key's hash is not copied into the trail" 0 "$(sql "SELECT count(*) FROM audit_log WHERE after::text LIKE '%cccccccc%'")"

# --- gridctl audit: gf_auditor only ------------------------------------------------
"$G" --db "$OPS_DB" audit >"$ART/audit-ops.out" 2>"$ART/audit-ops.err"
check "gridctl audit as the operator: forbidden" "1 1 0" \
  "$? $(grep -c "^error: forbidden" "$ART/audit-ops.err") $(wc -l <"$ART/audit-ops.out")"
"$G" --db "$AUD_DB" audit >"$ART/audit.out" 2>"$ART/audit.err"
check "gridctl audit as an auditor lists every entry" "0 $(sql "SELECT count(*) FROM audit_log")" \
  "$? $(grep -c '^[0-9]' "$ART/audit.out")"
check "... who, what, before -> after" 1 \
  "$(grep -c "gft_operator os=$OS_USER actor=张主任 update people P-QNL.07.063-1 .*13700000063" "$ART/audit.out")"
SINCE=$(sql "SELECT to_char (at, 'YYYY-MM-DD\"T\"HH24:MI:SS.USOF') FROM audit_log WHERE tab = 'deliveries'")
"$G" --db "$AUD_DB" audit --since "$SINCE" --json >"$ART/audit.json" 2>>"$ART/audit.err"
check "--since and --json: one JSON object per entry from then on" \
  "0 deliveries escalation_rules notification_templates api_keys" \
  "$? $(jq -r .tab "$ART/audit.json" | paste -sd' ')"
check "... each with who and the change" "gft_operator $OS_USER 张主任 dead pending" \
  "$(jq -r 'select(.tab == "deliveries") | [.db_user, .os_user, .actor, .before.state, .after.state] | join(" ")' "$ART/audit.json")"
"$G" --db "$AUD_DB" audit --since yesterday-ish >/dev/null 2>"$ART/audit.err"
check "a bad --since: bad_value" "1 1" "$? $(grep -c '^error: bad_value' "$ART/audit.err")"

# --- append-only ------------------------------------------------------------------------
n=$(sql "SELECT count(*) FROM audit_log")
for who in "$GF_DB" "$AUD_DB" "$OPS_DB"; do
  for stmt in "DELETE FROM audit_log" "UPDATE audit_log SET actor = 'x'" "TRUNCATE audit_log"; do
    "$PSQL_BIN" -X -q -d "$who" -c "$stmt" >/dev/null 2>>"$ART/append.err" \
      && not_ok "$stmt as $(echo "$who" | grep -o 'user=[^ ]*') was allowed"
  done
done
check "nobody, the owner included, may delete, change or truncate the trail" "$n 9" \
  "$(sql "SELECT count(*) FROM audit_log") $(grep -c -E 'append-only|permission denied' "$ART/append.err")"
finish
