#!/usr/bin/env bash
# Issue 12: the baseline (deploy/sql/migrations/016_baseline.sql) and the
# repeatable concept files replace migrations 001-015.  A database made by
# the old migrations (kept for this test in tests/sql/legacy/) with data in
# every table is migrated by the new runner: it is recognised and carried
# over, ends with the same schema as a fresh install (pg_dump
# --schema-only), keeps every row, and the services work on it.  A
# database that stopped before 015 is refused and left as it was; a second
# run changes nothing; a changed versioned migration is refused; a
# function removed from its file, or an old overload, is dropped.
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
PGDUMP=/usr/lib/postgresql/15/bin/pg_dump

# legacy_db NAME LAST: a database made by the old runner up to LAST (the
# files as scripts, each recorded in schema_migrations as the old runner did).
legacy_db() {
  local db=gft_${TEST_NAME}_$1 f v
  PGOPTIONS="-c client_min_messages=warning" deploy/pg.sh psql -X -q -d postgres \
    -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
  deploy/pg.sh psql -X -q -d "$db" -c "CREATE TABLE schema_migrations (version text PRIMARY KEY,
    checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now ())" >/dev/null
  for f in tests/sql/legacy/0*.sql; do
    v=$(basename "$f" .sql)
    [[ "$v" > "$2" ]] && break
    deploy/pg.sh psql -X -q -1 -v ON_ERROR_STOP=1 -d "$db" -f "$f" >>"$ART/legacy.log" 2>&1 \
      || { not_ok "legacy migration $v"; return 1; }
    deploy/pg.sh psql -X -q -d "$db" -c "INSERT INTO schema_migrations VALUES ('$v',
      '$(md5sum <"$f" | cut -d' ' -f1)')" >/dev/null
  done
  deploy/pg.sh conninfo "$db"
}

# fingerprint: per table, its row count and an md5 of its rows (the
# columns it had before the migration: $ART/columns.txt).
fingerprint() {
  local t cols
  while IFS='|' read -r t cols; do
    echo "$t $(sql "SELECT count (*) || ' ' || md5 (coalesce (string_agg (r::text, E'\n' ORDER BY r::text), ''))
                     FROM (SELECT $cols FROM $t) r")"
  done <"$ART/columns.txt"
}

# 1. A database stopped at 010 is refused and not touched.
export GF_DB=$(legacy_db at010 010_gateway)
before=$(sql "SELECT count (*) FROM pg_class WHERE relnamespace = 'public'::regnamespace")
"$BIN/gridctl" db migrate >"$ART/at010.out" 2>&1
check "a database stopped at 010 is refused" 1 $?
grep -q "stopped at migration 010_gateway" "$ART/at010.out" \
  && ok "the refusal names the migration it stopped at" || not_ok "refusal message: $(cat "$ART/at010.out")"
check "nothing changed in it" "$before" "$(sql "SELECT count (*) FROM pg_class WHERE relnamespace = 'public'::regnamespace")"

# 2. A database at 015 with data in every table.
export GF_DB=$(legacy_db at015 015_ledger_subtree)
"$BIN/gridctl" grids import deploy/sample/qingnianlu.json >>"$ART/legacy.log" 2>&1 || not_ok "grids import (legacy)"
sql "
INSERT INTO sim_clock (at) VALUES ('2026-11-02 09:30+08');
INSERT INTO calendar_years (year, papers) VALUES (2026, 'https://www.gov.cn/');
INSERT INTO calendar_days VALUES ('2026-10-01', false, '国庆节'), ('2026-10-11', true, '国庆节调休');
INSERT INTO cases (source, source_ref, request_id, root, grid, state, level, tier, category, description,
                   address, name, phone, urgent, groups, received_at, routed_at, signed_at, resolved_at, updated_at)
SELECT 'hotline', 'L-' || i, 'req-' || i, 'QNL', 'QNL.01.00' || (1 + i % 3),
       (ARRAY['routed', 'signed', 'in_progress', 'resolved', 'closed'])[1 + i % 5], 3,
       CASE WHEN i % 7 = 0 THEN 'hard' ELSE 'pending' END, 'sanitation', '垃圾未清运 ' || i,
       '青年路街道西街村1组' || i || '号', '张三', '1380000' || lpad (i::text, 4, '0'), i % 4 = 0,
       CASE WHEN i % 6 = 0 THEN ARRAY['dibao'] ELSE '{}' END,
       timestamptz '2026-10-20 10:00+08' + i * interval '3 hours', timestamptz '2026-10-20 10:01+08' + i * interval '3 hours',
       CASE WHEN i % 5 > 0 THEN timestamptz '2026-10-20 11:00+08' + i * interval '3 hours' END,
       CASE WHEN i % 5 > 2 THEN timestamptz '2026-10-21 11:00+08' + i * interval '3 hours' END,
       timestamptz '2026-10-21 11:00+08'
  FROM generate_series (1, 40) i;
INSERT INTO case_events (seq, type, topic, case_id, grid, at, payload)
SELECT row_number () OVER (ORDER BY c.id, x.t), x.t, x.t || '/' || c.grid, c.id, c.grid, c.received_at, '{}'
  FROM cases c CROSS JOIN (VALUES ('case.received'), ('case.routed')) x (t);
INSERT INTO case_actions (case_id, request_id, actor, action, from_state, to_state, version, note, at)
SELECT id, 'a-' || id, 'P-QNL.01.001-1', 'sign', 'routed', 'signed', 2, '已签收', signed_at FROM cases WHERE signed_at IS NOT NULL;
INSERT INTO consumer_checkpoints (consumer, last_seq) VALUES ('router', 80), ('notifier', 80);
INSERT INTO identities (name, public_key, kind, sources, grid) VALUES ('hotline-1', repeat ('a', 40), 'adapter', '{hotline}', 'QNL');
INSERT INTO api_keys (name, key_sha256) VALUES ('city-app', repeat ('0', 64));
INSERT INTO app_tokens (person, token_sha256) VALUES ('P-QNL.01.001-1', '\\x00');
INSERT INTO meeting_schedule VALUES ('QNL.01', 'weekly', 2, 10, 0);
INSERT INTO escalation_state VALUES ('QNL', '2026-10-01 00:00+08');
INSERT INTO service_status (service, instance, host, pid, version, started_at, seen_at, interval_ms, ready)
VALUES ('gf-intake', 'h:1', 'h', 1, '0.1', now (), now (), 5000, true);
SELECT gf_hold_meeting ('QNL.01', 'weekly', '2026-10-27 10:00+08');
SELECT gf_hold_meeting ('QNL', 'monthly', '2026-11-02 09:00+08');
UPDATE case_events SET seq = (SELECT max (seq) FROM case_events) + id WHERE seq IS NULL;
" >"$ART/data.log" 2>&1 || not_ok "legacy data (see $ART/data.log)"
sql "ANALYZE" >/dev/null
empty=$(sql "SELECT string_agg (c.relname, ' ' ORDER BY c.relname) FROM pg_class c
              WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND c.reltuples = 0")
check "the legacy database has rows in every table" "" "$empty"
sql "SELECT c.relname || '|' || string_agg (quote_ident (a.attname), ', ' ORDER BY a.attnum)
       FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND c.relname <> 'schema_migrations'
      GROUP BY c.relname ORDER BY c.relname" >"$ART/columns.txt"
fingerprint >"$ART/rows.before"

"$BIN/gridctl" db migrate >"$ART/migrate.out" 2>&1
check "the new runner migrates the 015 database" 0 $?
grep -q "^carried over 016_baseline" "$ART/migrate.out" \
  && ok "the baseline is recognised and carried over, not run" || not_ok "no carry-over: $(head -3 "$ART/migrate.out")"
fingerprint >"$ART/rows.after"
LEGACY_DB=$GF_DB
# A table whose rows changed must be one the later migrations (017 on)
# update, and then equal a fresh install's (the rules and vocabularies they
# seed); every other table keeps its rows exactly.
new_db _fresh
FRESH_DB=$GF_DB
fingerprint >"$ART/rows.fresh"
export GF_DB=$LEGACY_DB
changed=$(diff "$ART/rows.before" "$ART/rows.after" | awk '/^>/ {print $2}')
bad=""
for t in $changed; do
  [ "$(grep "^$t " "$ART/rows.after")" == "$(grep "^$t " "$ART/rows.fresh")" ] || bad="$bad $t"
done
if [ -z "$bad" ]; then
  ok "every row of every table is kept ($(wc -l <"$ART/rows.before") tables, $(awk '{s += $2} END {print s}' "$ART/rows.before") rows)$([ -n "$changed" ] && echo ", but the rule and vocabulary rows later migrations update, now as on a fresh install:" $changed)"
else
  not_ok "rows changed in:$bad ($(diff "$ART/rows.before" "$ART/rows.after" | head -4 | tr '\n' ' '))"
fi

"$BIN/gridctl" db migrate >"$ART/migrate2.out" 2>&1
check "a second run applies nothing" "database is up to date (0 applied now)" "$(tail -n 1 "$ART/migrate2.out")"

# An extension's functions and views (pgTAP's, say, in a database an
# operator tests in) are not the migrator's to sweep.
sql "CREATE EXTENSION IF NOT EXISTS pgtap" >/dev/null
"$BIN/gridctl" db migrate >"$ART/migrate3.out" 2>&1
check "with pgTAP installed, migrate still runs and sweeps none of its objects" \
  "database is up to date (0 applied now) t" "$(tail -n 1 "$ART/migrate3.out") $(sql "SELECT count (*) > 0 FROM pg_views WHERE viewname = 'tap_funky'")"
sql "DROP EXTENSION pgtap" >/dev/null

# 3. The same schema as a fresh install.
schema() { "$PGDUMP" --schema-only "$1" | grep -v '^\\\(un\)\?restrict '; }
schema "$LEGACY_DB" >"$ART/schema.legacy"
schema "$FRESH_DB" >"$ART/schema.fresh"
if diff "$ART/schema.fresh" "$ART/schema.legacy" >"$ART/schema.diff"; then
  ok "pg_dump --schema-only: the carried-over database equals a fresh install ($(grep -c '^CREATE' "$ART/schema.fresh") objects)"
else
  not_ok "schemas differ ($(wc -l <"$ART/schema.diff") diff lines in $ART/schema.diff)"
fi

# 4. A versioned migration changed after it was applied is refused.
tmp=$ART/sql; mkdir -p "$tmp" && cp -r deploy/sql/migrations deploy/sql/repeatable "$tmp"/
echo "-- edited" >>"$tmp/migrations/017_vocabulary.sql"
"$BIN/gridctl" db migrate --dir "$tmp" >"$ART/changed.out" 2>&1
check "a changed migration is refused" 1 $?
grep -q "017_vocabulary was changed after it was applied" "$ART/changed.out" \
  && ok "the refusal names the migration" || not_ok "message: $(cat "$ART/changed.out")"

# 5. A function no repeatable file creates any more is dropped.
cp deploy/sql/migrations/017_vocabulary.sql "$tmp/migrations/"
sed -i '/^CREATE OR REPLACE FUNCTION gf_api_key_client/,/^\$\$;/d' "$tmp/repeatable/gateway.sql"
"$BIN/gridctl" db migrate --dir "$tmp" >"$ART/removed.out" 2>&1
check "a function removed from its file is dropped" "" "$(sql "SELECT to_regproc ('gf_api_key_client')")"
"$BIN/gridctl" db migrate >>"$ART/removed.out" 2>&1
check "and comes back with the file" "gf_api_key_client" "$(sql "SELECT to_regproc ('gf_api_key_client')")"

# 6. A function whose argument list changed: the old overload goes.
cp deploy/sql/repeatable/gateway.sql "$tmp/repeatable/"
sed -i 's/gf_api_key_client (p_key text)/gf_api_key_client (p_key text, p_extra integer DEFAULT 0)/' \
  "$tmp/repeatable/gateway.sql"
"$BIN/gridctl" db migrate --dir "$tmp" >"$ART/overload.out" 2>&1
check "a changed argument list leaves one function, the new one" "gf_api_key_client(text,integer)" \
  "$(sql "SELECT string_agg (oid::regprocedure::text, ' ') FROM pg_proc WHERE proname = 'gf_api_key_client'")"
"$BIN/gridctl" db migrate >>"$ART/overload.out" 2>&1
check "and back" "gf_api_key_client(text)" \
  "$(sql "SELECT string_agg (oid::regprocedure::text, ' ') FROM pg_proc WHERE proname = 'gf_api_key_client'")"

# 7. The services work on the carried-over database.
export GF_DB=$LEGACY_DB
sql "DELETE FROM sim_clock; DELETE FROM consumer_checkpoints; UPDATE cases SET state = 'closed'" >/dev/null
start_stack
python3 "$ROOT/tests/tools/gen_hotline.py" --grids "$ROOT/deploy/sample/qingnianlu.json" \
  --count 20 --seed 12 --prefix MG >"$ART/feed.jsonl" 2>/dev/null
"$BIN/gf-hotline" --quiet "$ART/feed.jsonl" >"$ART/feed.out" 2>&1 || not_ok "feed"
wait_for "the feed routed" 60 quiescent
check "complaints stored on the carried-over database" 20 "$(sql "SELECT count (*) FROM cases WHERE source_ref LIKE 'MG%'")"
check "and routed" 20 "$(sql "SELECT count (*) FROM cases WHERE source_ref LIKE 'MG%' AND state IN ('routed', 'unroutable')")"
finish
