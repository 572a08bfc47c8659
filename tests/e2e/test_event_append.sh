#!/usr/bin/env bash
# Issue 17, "sequence at insert": writers number their own events at COMMIT
# (deploy/sql/repeatable/events.sql).  The log must stay dense and in commit
# order with concurrent writers whose transactions interleave, commit in
# another order than they wrote, abort, and roll back savepoints; the relay
# only reads and publishes.
#  1. A fixed interleaving, driven through dblink: exact numbers expected.
#  2. pgbench: 6 writers as the intake's role, a quarter of their
#     transactions rolled back, each with a rolled back savepoint; beside
#     them a reader that checks every snapshot it takes for a gap, and a live
#     subscriber on the relay.
source "$(dirname "$0")/lib.sh"
new_db
DB=$(sql "SELECT current_database()")
PGBENCH=${GF_PGBIN:-/usr/lib/postgresql/15/bin}/pgbench
sql "CREATE EXTENSION IF NOT EXISTS dblink" >/dev/null

start relay
wait_for "relay ports" 30 port_open $((PORT_BASE + 2))
start_capture
HEAD0=$(sql "SELECT coalesce(max(seq), 0) FROM case_events")

# --- 1. a fixed interleaving -------------------------------------------------
# Four connections a..d; pg_temp.x (c, q) runs q on connection c.
sql "CREATE FUNCTION pg_temp.x (c text, q text) RETURNS void LANGUAGE sql AS \$\$ SELECT dblink_exec (c, q) \$\$;
     SELECT dblink_connect_u (c, '$GF_DB') FROM unnest (ARRAY['a','b','c','d']) c;
     SELECT pg_temp.x ('a', 'BEGIN');
     SELECT pg_temp.x ('a', \$q\$INSERT INTO event_stage (type, topic, at) VALUES ('test.fixed', 'A1', now ()), ('test.fixed', 'A2', now ())\$q\$);
     SELECT pg_temp.x ('b', 'BEGIN');
     SELECT pg_temp.x ('b', \$q\$INSERT INTO event_stage (type, topic, at) VALUES ('test.fixed', 'B1', now ())\$q\$);
     SELECT pg_temp.x ('c', 'BEGIN');
     SELECT pg_temp.x ('c', \$q\$INSERT INTO event_stage (type, topic, at) VALUES ('test.fixed', 'C1', now ())\$q\$);
     SELECT pg_temp.x ('b', 'COMMIT');
     SELECT pg_temp.x ('c', 'ROLLBACK');
     SELECT pg_temp.x ('a', 'SAVEPOINT s');
     SELECT pg_temp.x ('a', \$q\$INSERT INTO event_stage (type, topic, at) VALUES ('test.fixed', 'A3', now ())\$q\$);
     SELECT pg_temp.x ('a', 'ROLLBACK TO SAVEPOINT s');
     SELECT pg_temp.x ('a', \$q\$INSERT INTO event_stage (type, topic, at) VALUES ('test.fixed', 'A4', now ())\$q\$);
     SELECT pg_temp.x ('d', \$q\$INSERT INTO event_stage (type, topic, at) VALUES ('test.fixed', 'D1', now ())\$q\$);
     SELECT pg_temp.x ('a', 'COMMIT');" \
  >"$ART/fixed.out" 2>&1 || true
check "interleaved writers: B (committed first), D (autocommit), then A; C and A's savepoint rolled back" \
  "B1:1 D1:2 A1:3 A2:4 A4:5" \
  "$(sql "SELECT string_agg (topic || ':' || (seq - $HEAD0), ' ' ORDER BY seq) FROM case_events WHERE type = 'test.fixed'")"
check "A staged first (lower id) and was numbered last" t \
  "$(sql "SELECT (SELECT id FROM case_events WHERE topic = 'A1') < (SELECT id FROM case_events WHERE topic = 'B1')")"
check "nothing left in event_stage after the commits and aborts" 0 "$(sql "SELECT count(*) FROM event_stage")"

# --- 2. concurrent writers, aborts, a gap-seeking reader ---------------------
sql "CREATE TABLE test_commits (client int, txn bigint, events int, PRIMARY KEY (client, txn));
     GRANT SELECT, INSERT ON test_commits TO gf_intake" >/dev/null
cat >"$ART/writer.sql" <<'SQL'
\set abort random(0, 3)
\set n random(1, 4)
\set t random(1, 1000000000000)
BEGIN;
INSERT INTO event_stage (type, topic, at, payload)
SELECT 'test.append', 'test.append/' || :client_id, now (),
       jsonb_build_object ('c', :client_id, 't', :t, 'k', k) FROM generate_series (1, :n) k;
SELECT pg_sleep (random () * 0.004);
SAVEPOINT s;
INSERT INTO event_stage (type, topic, at) VALUES ('test.gone', 'test.gone', now ());
ROLLBACK TO SAVEPOINT s;
INSERT INTO test_commits VALUES (:client_id, :t, :n);
\if :abort = 0
ROLLBACK;
\else
COMMIT;
\endif
SQL
# The reader: snapshots (a statement each: READ COMMITTED) until the writers
# are done; a snapshot whose events are not exactly seq 1..max had a gap.
"$PSQL_BIN" -X -q -t -A -d "$GF_DB" >"$ART/reader.out" 2>&1 <<'SQL' &
CREATE TEMP TABLE r (gaps int, looks int);
DO $$
DECLARE
    gaps int := 0;
    looks int := 0;
    dense boolean;
BEGIN
    LOOP
        SELECT count (*) = coalesce (max (seq), 0) INTO dense FROM case_events;
        looks := looks + 1;
        IF NOT dense THEN gaps := gaps + 1; END IF;
        EXIT WHEN EXISTS (SELECT 1 FROM case_events WHERE type = 'test.done') OR looks > 2000000;
        PERFORM pg_sleep (0.0005);
    END LOOP;
    RAISE NOTICE 'reader: % snapshots, % with a gap', looks, gaps;
END $$;
SQL
READER=$!
PGOPTIONS="-c role=gf_intake" timeout 120 "$PGBENCH" -n -c 6 -j 2 -t 150 -f "$ART/writer.sql" "$GF_DB" \
  >"$ART/pgbench.out" 2>&1
rc=$?
sql "INSERT INTO event_stage (type, topic, at) VALUES ('test.done', 'test.done', now ())"
wait "$READER"
check "pgbench: 6 writers x 150 transactions ran" "0 900" \
  "$rc $(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$ART/pgbench.out")"
committed=$(sql "SELECT count(*) FROM test_commits")
if [ "$committed" -gt 0 ] && [ "$committed" -lt 900 ]; then ok "$committed committed, $((900 - committed)) rolled back"
else not_ok "committed $committed of 900: the mix of commits and aborts did not happen"; fi
check "each committed transaction's events are all in the log, none of a rolled back one" \
  "$(sql "SELECT sum(events) || ' ' || sum(events) FROM test_commits")" \
  "$(sql "SELECT count(*) FROM case_events e JOIN test_commits t
           ON t.client = (e.payload->>'c')::int AND t.txn = (e.payload->>'t')::bigint
          WHERE e.type = 'test.append'") $(sql "SELECT count(*) FROM case_events WHERE type = 'test.append'")"
check "no event of a rolled back savepoint" 0 "$(sql "SELECT count(*) FROM case_events WHERE type = 'test.gone'")"
check "each transaction's events are consecutive, in the order it wrote them" 0 \
  "$(sql "SELECT count(*) FROM (SELECT payload->>'c', payload->>'t',
                 max(seq) - min(seq) + 1 = count(*) AND
                 array_agg ((payload->>'k')::int ORDER BY seq) = array_agg ((payload->>'k')::int ORDER BY (payload->>'k')::int) AS good
            FROM case_events WHERE type = 'test.append' GROUP BY 1, 2) x WHERE NOT good")"
check "the log is dense: seq 1..N, none twice" t \
  "$(sql "SELECT count(*) = max(seq) AND min(seq) = 1 AND count(*) = count(DISTINCT seq) FROM case_events")"
looks=$(sed -n 's/.*reader: \([0-9]*\) snapshots, \([0-9]*\) with a gap.*/\1 \2/p' "$ART/reader.out")
if [ "${looks% *}" -ge 100 ] 2>/dev/null && [ "${looks#* }" = 0 ]; then
  ok "no snapshot of the reader showed a gap (${looks% *} snapshots while the writers ran)"
else not_ok "reader: '$looks' (snapshots, with a gap): see $ART/reader.out"; fi
check "the staging table is empty" 0 "$(sql "SELECT count(*) FROM event_stage")"

stop_capture
check_capture_is_log
finish
