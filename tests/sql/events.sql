-- pgTAP: deploy/sql/repeatable/events.sql — the append (events staged in
-- event_stage are numbered after the head and moved into case_events at
-- commit, or at once after gf_events_flush), the relay's read
-- (gf_events_after, as the relay's role), the consumers' (gf_events_of,
-- gf_events_window, as the notifier's), the triggers, and gf_listen (the
-- channel quoted as an identifier).  Density and commit order across
-- concurrent, interleaved and aborted writers need real transactions:
-- tests/e2e/test_event_append.sh.
BEGIN;
SELECT plan (36);
-- As in a new database: the session's first append is planned on an empty
-- event_stage, ANALYZE having seen it empty (rolled back with the rest).
TRUNCATE event_stage;
ANALYZE event_stage;

CREATE TEMP TABLE head AS SELECT coalesce (max (seq), 0) AS h FROM case_events;
GRANT SELECT ON head TO gf_relay;

-- Deferred: staged rows stay out of the log until the append.
INSERT INTO event_stage (type, topic, case_id, grid, at, payload) VALUES
    ('grid.test', 'grid.test/QNL', NULL, 'QNL', '2026-03-02 10:00:00.123+08', '{"n": 1}'),
    ('grid.test', 'grid.test/QNL.01', NULL, 'QNL.01', '2026-03-02 10:00:01+08', '{"n": 2, "text": "网格"}');
CREATE TEMP TABLE ids AS SELECT id FROM event_stage WHERE xid = txid_current () ORDER BY id;
SELECT is ((SELECT count (*) FROM case_events WHERE type = 'grid.test'), 0::bigint,
           'staged events are not in the log before the append');
SELECT is ((SELECT count (*) FROM ids), 2::bigint, 'they wait in event_stage, under this transaction''s xid');
SELECT gf_events_flush ();
SELECT is ((SELECT count (*) FROM event_stage WHERE xid = txid_current ()), 0::bigint,
           'the append takes them out of event_stage');
SELECT results_eq ($$SELECT seq - (SELECT h FROM head), id FROM case_events WHERE type = 'grid.test' ORDER BY seq$$,
                   $$SELECT row_number () OVER (ORDER BY id), id FROM ids ORDER BY id$$,
                   'numbered head+1, head+2 in the order they were staged, ids kept');

-- Immediate (after gf_events_flush): each statement's events at its end.
INSERT INTO event_stage (type, topic, grid, at, payload)
VALUES ('grid.test', 'grid.test/QNL.02', 'QNL.02', '2026-03-02 10:00:02+08', '{"n": 3}');
SELECT is ((SELECT max (seq) FROM case_events), (SELECT h FROM head) + 3, 'the next statement''s event: head+3');

-- An aborted subtransaction takes its staged event and its number with it.
SAVEPOINT s;
INSERT INTO event_stage (type, topic, grid, at) VALUES ('grid.gone', 'grid.gone/QNL', 'QNL', '2026-03-02 11:00+08');
ROLLBACK TO SAVEPOINT s;
INSERT INTO event_stage (type, topic, grid, at) VALUES ('grid.test', 'grid.test/QNL', 'QNL', '2026-03-02 11:00+08');
SELECT is ((SELECT count (*) FROM case_events WHERE type = 'grid.gone'), 0::bigint, 'a rolled back event is not appended');
SELECT is ((SELECT max (seq) FROM case_events), (SELECT h FROM head) + 4, 'and leaves no gap in seq');
SELECT is ((SELECT count (*) - count (DISTINCT seq) FROM case_events), 0::bigint, 'no number given twice');
SELECT col_not_null ('case_events', 'seq', 'every event in the log has its number');

-- The append finds the transaction's staged rows through event_stage_xid:
-- a plan cached while event_stage looked empty scanned every page the table
-- later grew to, at every commit.
CREATE TEMP TABLE stage_scans AS
    SELECT pg_stat_get_xact_numscans ('event_stage'::regclass) AS seq,
           pg_stat_get_xact_numscans ('event_stage_xid'::regclass) AS idx;
INSERT INTO event_stage (type, topic, grid, at) VALUES ('grid.test', 'grid.test/QNL', 'QNL', '2026-03-02 11:01+08');
SELECT is (pg_stat_get_xact_numscans ('event_stage'::regclass) - (SELECT seq FROM stage_scans), 0::bigint,
           'the append scans no table to find its staged rows');
SELECT cmp_ok (pg_stat_get_xact_numscans ('event_stage_xid'::regclass) - (SELECT idx FROM stage_scans), '>=', 1::bigint,
               'it reads them through event_stage_xid');

-- The relay's read.
SET LOCAL ROLE gf_relay;
CREATE TEMP TABLE b1 AS SELECT * FROM gf_events_after ((SELECT h FROM head), 2);
SELECT results_eq ($$SELECT seq - (SELECT h FROM head) FROM b1$$, $$VALUES (1::bigint), (2::bigint)$$,
                   'gf_events_after: at most p_limit events after the given seq, in seq order');
SELECT results_eq ($$SELECT topic, grid, at_ms, payload::jsonb FROM b1 ORDER BY seq LIMIT 1$$,
                   $$VALUES ('grid.test/QNL', 'QNL', (extract (epoch FROM timestamptz '2026-03-02 10:00:00.123+08') * 1000)::bigint,
                             '{"n": 1}'::jsonb)$$,
                   'topic, grid, at in epoch milliseconds, payload');
SELECT is ((SELECT pg_typeof (payload)::text FROM b1 LIMIT 1), 'text', 'the payload as text, ready to send');
SELECT is ((SELECT payload::jsonb->>'text' FROM b1 WHERE payload::jsonb->>'n' = '2'), '网格', 'UTF-8 payloads unharmed');
SELECT is ((SELECT count (*) FROM gf_events_after ((SELECT h FROM head) + 5, 1000)), 0::bigint,
           'nothing after the head: an empty batch');
RESET ROLE;

-- The consumers' batches (gf_consumer.c), as the notifier's role.
CREATE TEMP TABLE head2 AS SELECT max (seq) AS h FROM case_events;
GRANT SELECT ON head2 TO gf_notifier;
INSERT INTO event_stage (type, topic, case_id, grid, at) VALUES
    ('t.a', 't.a/QNL', 10, 'QNL', '2026-03-02 12:00+08'), ('t.b', 't.b/QNL', 11, 'QNL', '2026-03-02 12:01+08'),
    ('t.a', 't.a/QNL', 11, 'QNL', '2026-03-02 12:02+08'), ('t.c', 't.c/QNL', 12, 'QNL', '2026-03-02 12:03+08');
SET LOCAL ROLE gf_notifier;
SELECT results_eq ($$SELECT seq - (SELECT h FROM head2), type, case_id FROM gf_events_of ('t.a,t.b', (SELECT h FROM head2), 10)$$,
                   $$VALUES (1::bigint, 't.a', 10::bigint), (2, 't.b', 11), (3, 't.a', 11)$$,
                   'gf_events_of: the events of the types after the seq, in seq order');
SELECT is ((SELECT count (*) FROM gf_events_of ('t.a,t.b', (SELECT h FROM head2), 2)), 2::bigint, 'at most p_limit');
SELECT results_eq ($$SELECT seq - (SELECT h FROM head2), at_ms FROM gf_events_of ('t.a', (SELECT h FROM head2) + 1, 10)$$,
                   $$VALUES (3::bigint, (extract (epoch FROM timestamptz '2026-03-02 12:02+08') * 1000)::bigint)$$,
                   'after the given seq only; at in epoch milliseconds');
SELECT results_eq ($$SELECT seq - (SELECT h FROM head2), case_id, window_n, window_end - (SELECT h FROM head2)
                       FROM gf_events_window ('t.a,t.b,t.c', (SELECT h FROM head2), 2, 2, 1)$$,
                   $$VALUES (2::bigint, 11::bigint, 4::bigint, 4::bigint), (3, 11, 4, 4)$$,
                   'gf_events_window: of a window of limit x partitions, the partition''s cases, with the window''s size and end');
SELECT results_eq ($$SELECT case_id FROM gf_events_window ('t.a,t.b,t.c', (SELECT h FROM head2), 2, 2, 0)$$,
                   $$VALUES (10::bigint), (12::bigint)$$, 'the other partition: the other cases');
SELECT results_eq ($$SELECT seq, window_n, window_end - (SELECT h FROM head2) FROM gf_events_window ('t.c', (SELECT h FROM head2), 1, 2, 1)$$,
                   $$VALUES (NULL::bigint, 1::bigint, 4::bigint)$$,
                   'none of the partition''s in the window: one row, no event, the window');
RESET ROLE;
SELECT set_eq ($$SELECT p.proname::text FROM pg_proc p
                 WHERE p.proname IN ('gf_events_after', 'gf_events_of', 'gf_events_window')
                   AND p.proconfig @> ARRAY['plan_cache_mode=force_generic_plan', 'enable_seqscan=off']$$,
               ARRAY['gf_events_after', 'gf_events_of', 'gf_events_window'],
               'the log''s reads keep one generic plan for the session, by index (a plan made while the log looked small must not scan the whole log ever after)');

-- One firing of the deferred trigger per append, not one per staged row:
-- the firings after the first ran under the numbering lock, holding every
-- other writer's COMMIT back.  A first row in a savepoint rolled back takes
-- its queued firing with it, and the next staged row queues one again.
SET LOCAL track_functions = 'pl';
SET CONSTRAINTS event_stage_append DEFERRED;
CREATE TEMP TABLE fired AS
    SELECT coalesce ((SELECT calls FROM pg_stat_xact_user_functions WHERE funcname = 'gf_events_commit'), 0) AS n,
           (SELECT max (seq) FROM case_events) AS h;
SAVEPOINT first;
INSERT INTO event_stage (type, topic, grid, at) VALUES ('grid.gone', 'grid.gone/QNL', 'QNL', '2026-03-02 12:00+08');
ROLLBACK TO SAVEPOINT first;
INSERT INTO event_stage (type, topic, grid, at, payload)
    SELECT 'grid.many', 'grid.many/QNL', 'QNL', '2026-03-02 12:00+08', jsonb_build_object ('n', i)
      FROM generate_series (1, 100) i;
SELECT is ((SELECT count (*) FROM event_stage WHERE xid = txid_current ()), 100::bigint,
           'deferred again: 100 rows staged after a rolled back first one');
SET CONSTRAINTS event_stage_append IMMEDIATE;
SELECT is ((SELECT count (*) FROM event_stage WHERE xid = txid_current ()), 0::bigint,
           'the append took all of them');
SELECT results_eq ($$SELECT seq - (SELECT h FROM fired), (payload->>'n')::bigint FROM case_events WHERE type = 'grid.many' ORDER BY seq$$,
                   $$SELECT i, i FROM generate_series (1, 100::bigint) i$$,
                   'numbered densely after the head, in the order staged');
SELECT is ((SELECT calls FROM pg_stat_xact_user_functions WHERE funcname = 'gf_events_commit') - (SELECT n FROM fired),
           1::bigint, 'the deferred trigger fired once for the 100 rows');
SELECT is ((SELECT count (*) FROM case_events WHERE type = 'grid.gone'), 0::bigint,
           'the rolled back first row is not in the log');

-- The triggers.
SELECT trigger_is ('case_events', 'case_events_notify', 'gf_events_notify',
                   'case_events_notify calls gf_events_notify');
SELECT ok ((SELECT tgtype & 1 = 0 AND tgtype & 4 = 4 FROM pg_trigger WHERE tgname = 'case_events_notify'),
           'once per statement, after INSERT');
SELECT trigger_is ('event_stage', 'event_stage_append', 'gf_events_commit',
                   'event_stage_append calls gf_events_commit');
SELECT ok ((SELECT tgdeferrable AND tginitdeferred FROM pg_trigger WHERE tgname = 'event_stage_append'),
           'the append is deferred to COMMIT unless asked for earlier');

-- gf_listen.
SET LOCAL ROLE gf_relay;
SELECT lives_ok ($$SELECT gf_listen ('gf_events')$$, 'gf_listen as the relay');
RESET ROLE;
SELECT lives_ok ($$SELECT gf_listen ('gf_events; DROP TABLE grids')$$, 'a channel name is quoted, not run');
SELECT has_table ('grids', 'and grids is still there');
SELECT throws_ok ($$SELECT gf_listen (NULL)$$, '22004', NULL, 'no channel: an error');

SELECT * FROM finish ();
ROLLBACK;
