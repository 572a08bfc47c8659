-- pgTAP: deploy/sql/repeatable/events.sql — the relay's sequencing step
-- (gf_sequence_events: the oldest unsequenced events numbered after the
-- head, in order, a batch at a time, as the relay's role), the commit
-- trigger, and gf_listen (the channel quoted as an identifier).
BEGIN;
SELECT plan (16);

CREATE TEMP TABLE head AS SELECT coalesce (max (seq), 0) AS h FROM case_events;
UPDATE case_events SET seq = (SELECT h FROM head) + id WHERE seq IS NULL;  -- older test rows, if any
TRUNCATE head;
INSERT INTO head SELECT coalesce (max (seq), 0) FROM case_events;
GRANT SELECT ON head TO gf_relay;

INSERT INTO case_events (type, topic, case_id, grid, at, payload) VALUES
    ('grid.test', 'grid.test/QNL', NULL, 'QNL', '2026-03-02 10:00:00.123+08', '{"n": 1}'),
    ('grid.test', 'grid.test/QNL.01', NULL, 'QNL.01', '2026-03-02 10:00:01+08', '{"n": 2, "text": "网格"}'),
    ('grid.test', 'grid.test/QNL.02', NULL, 'QNL.02', '2026-03-02 10:00:02+08', '{"n": 3}');
CREATE TEMP TABLE ids AS SELECT id FROM case_events WHERE type = 'grid.test' ORDER BY id;
GRANT SELECT ON ids TO gf_relay;

SET LOCAL ROLE gf_relay;
CREATE TEMP TABLE b1 AS SELECT * FROM gf_sequence_events (2);
SELECT is ((SELECT count (*) FROM b1), 2::bigint, 'a batch of at most p_limit events');
SELECT results_eq ($$SELECT seq - (SELECT h FROM head), id FROM b1$$,
                   $$SELECT row_number () OVER (ORDER BY id), id FROM ids ORDER BY id LIMIT 2$$,
                   'the oldest events, numbered head+1, head+2 in id order');
SELECT results_eq ($$SELECT topic, grid, at_ms, payload::jsonb FROM b1 ORDER BY seq LIMIT 1$$,
                   $$VALUES ('grid.test/QNL', 'QNL', (extract (epoch FROM timestamptz '2026-03-02 10:00:00.123+08') * 1000)::bigint,
                             '{"n": 1}'::jsonb)$$,
                   'topic, grid, at in epoch milliseconds, payload');
SELECT is ((SELECT pg_typeof (payload)::text FROM b1 LIMIT 1), 'text', 'the payload as text, ready to send');
SELECT is ((SELECT payload::jsonb->>'text' FROM b1 WHERE payload::jsonb->>'n' = '2'), '网格', 'UTF-8 payloads unharmed');
CREATE TEMP TABLE b2 AS SELECT * FROM gf_sequence_events (1000);
SELECT results_eq ($$SELECT seq - (SELECT h FROM head), id FROM b2$$,
                   $$SELECT 3::bigint, id FROM ids ORDER BY id OFFSET 2$$,
                   'the next batch: the rest, after the new head');
SELECT is ((SELECT count (*) FROM gf_sequence_events (1000)), 0::bigint, 'nothing left: an empty batch');
RESET ROLE;
SELECT is ((SELECT count (*) FROM case_events WHERE id IN (SELECT id FROM ids) AND seq IS NULL), 0::bigint,
           'every event numbered once');
SELECT is ((SELECT count (DISTINCT seq) FROM case_events WHERE id IN (SELECT id FROM ids)), 3::bigint,
           'no number given twice');

-- A gap in ids (a rolled back writer) is no gap in seq.
INSERT INTO case_events (type, topic, grid, at) VALUES ('grid.test', 'grid.test/QNL', 'QNL', '2026-03-02 11:00+08');
DELETE FROM case_events WHERE id = (SELECT max (id) FROM case_events);
INSERT INTO case_events (type, topic, grid, at) VALUES ('grid.test', 'grid.test/QNL', 'QNL', '2026-03-02 11:00+08');
SELECT is ((SELECT seq FROM gf_sequence_events (10)), (SELECT h FROM head) + 4, 'seq has no gaps where ids do');

-- Waking the relay at commit.
SELECT trigger_is ('case_events', 'case_events_notify', 'gf_events_notify',
                   'case_events_notify calls gf_events_notify');
SELECT ok ((SELECT tgtype & 1 = 0 AND tgtype & 4 = 4 FROM pg_trigger WHERE tgname = 'case_events_notify'),
           'once per statement, after INSERT');

-- gf_listen.
SET LOCAL ROLE gf_relay;
SELECT lives_ok ($$SELECT gf_listen ('gf_events')$$, 'gf_listen as the relay');
RESET ROLE;
SELECT lives_ok ($$SELECT gf_listen ('gf_events; DROP TABLE grids')$$, 'a channel name is quoted, not run');
SELECT has_table ('grids', 'and grids is still there');
SELECT throws_ok ($$SELECT gf_listen (NULL)$$, '22004', NULL, 'no channel: an error');

SELECT * FROM finish ();
ROLLBACK;
