-- pgTAP: deploy/sql/repeatable/intake.sql — gf_intake_store: a batch of
-- complaints becomes cases and case.received events; duplicates (earlier, in
-- the same batch) answer with the first case; refused complaints store
-- nothing; the intake's role may call it.  All rolled back.
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (36);

INSERT INTO sim_clock (at) VALUES ('2026-03-02 10:00+08')
    ON CONFLICT (id) DO UPDATE SET at = excluded.at;
-- An adapter identity allowed the hotline in QNL.01 only.
INSERT INTO identities (name, public_key, kind, sources, grid)
VALUES ('gft-hotline', repeat ('k', 40), 'adapter', '{hotline}', 'QNL.01');

\ir fixtures/function_calls.sql
SET LOCAL track_functions = 'all';
CREATE TEMP TABLE now_calls AS SELECT pg_temp.calls ('gf_now') AS n;
CREATE TEMP TABLE r1 AS
SELECT * FROM gf_intake_store ('[
  {"i": 0, "rid": "q-0", "source": "hotline", "source_ref": "gft-a", "description": "路灯坏了",
   "category": "sanitation", "grid": "QNL.01.001", "address": "青年路 1 号 2 单元",
   "name": "张三", "phone": "13812345678", "urgent": true, "reported_at": 1772416800000,
   "groups": "dibao,disabled"},
  {"i": 1, "rid": "q-1", "source": "hotline", "source_ref": "gft-b", "description": "噪音",
   "urgent": false}
]', 'QNL');

SELECT is (pg_temp.calls ('gf_now') - (SELECT n FROM now_calls), 1::bigint,
           'the business time is read once for the batch, not once per case and event');
SELECT is ((SELECT count(*) FROM r1 WHERE err IS NULL AND NOT duplicate AND case_id IS NOT NULL),
           2::bigint, 'two new complaints: two new cases, no error, not duplicates');
SELECT results_eq ('SELECT i FROM r1', ARRAY[0, 1], 'one row per input, in input order');
SELECT is ((SELECT row (root, grid, requested_grid, state, category, urgent, groups, request_id)::text
              FROM cases WHERE id = (SELECT case_id FROM r1 WHERE i = 0)),
           row ('QNL', 'QNL', 'QNL.01.001', 'registered', 'sanitation', true,
                '{dibao,disabled}'::text[], 'q-0')::text,
           'the case: registered at its root, the requested grid kept, groups as an array');
SELECT is ((SELECT received_at FROM cases WHERE id = (SELECT case_id FROM r1 WHERE i = 0)),
           gf_now (), 'received at the simulated clock');
SELECT is ((SELECT reported_at FROM cases WHERE id = (SELECT case_id FROM r1 WHERE i = 0)),
           timestamptz '2026-03-02 10:00+08', 'reported_at from milliseconds');
SELECT is ((SELECT root || ' ' || grid FROM cases WHERE id = (SELECT case_id FROM r1 WHERE i = 1)),
           'QNL QNL', 'without a grid: the given root');
SELECT is ((SELECT count(*) FROM case_events WHERE type = 'case.received'
               AND case_id IN (SELECT case_id FROM r1)), 2::bigint, 'one case.received per new case');
SELECT is ((SELECT topic || ' ' || grid FROM case_events
             WHERE type = 'case.received' AND case_id = (SELECT case_id FROM r1 WHERE i = 0)),
           'case.received/QNL QNL', 'the event is on the root''s topic');
-- The payload is the stream view (privacy.sql): no phone (not even
-- masked), no name, no special groups; those stay with staff (restricted).
SELECT is ((SELECT payload - 'address_masked' FROM case_events
             WHERE type = 'case.received' AND case_id = (SELECT case_id FROM r1 WHERE i = 0)),
           '{"source": "hotline", "source_ref": "gft-a", "description": "路灯坏了",
             "category": "sanitation", "urgent": true,
             "reporter": null, "reported_at": 1772416800000}'::jsonb,
           'the event payload: the stream view, without phone and groups');
SELECT is ((SELECT payload->>'address_masked' = gf_mask_address ('青年路 1 号 2 单元')
                   AND payload::text NOT LIKE '%13812345678%' AND payload::text NOT LIKE '%张三%'
                   AND payload::text NOT LIKE '%5678%' AND payload::text NOT LIKE '%dibao%'
              FROM case_events
             WHERE type = 'case.received' AND case_id = (SELECT case_id FROM r1 WHERE i = 0)),
           true, 'address coarse, no phone, name or group in the event');
SELECT is ((SELECT restricted FROM case_events
             WHERE type = 'case.received' AND case_id = (SELECT case_id FROM r1 WHERE i = 0)),
           '{"groups": ["dibao", "disabled"]}'::jsonb,
           'the groups are in the event''s restricted part (staff only)');

-- Resent: the same (source, source_ref) answers with the first case.
CREATE TEMP TABLE r2 AS
SELECT * FROM gf_intake_store ('[
  {"i": 0, "rid": "q-9", "source": "hotline", "source_ref": "gft-new", "description": "新的", "urgent": false},
  {"i": 1, "rid": "q-0", "source": "hotline", "source_ref": "gft-a", "description": "路灯坏了", "urgent": false},
  {"i": 2, "rid": "q-10", "source": "hotline", "source_ref": "gft-new", "description": "新的", "urgent": false}
]', 'QNL');
SELECT is ((SELECT row (case_id, duplicate, err)::text FROM r2 WHERE i = 1),
           row ((SELECT case_id FROM r1 WHERE i = 0), true, NULL::text)::text,
           'a duplicate of an earlier batch: the first case, duplicate');
SELECT is ((SELECT duplicate FROM r2 WHERE i = 0), false, 'the first of two twins in a batch is new');
SELECT is ((SELECT row (case_id, duplicate)::text FROM r2 WHERE i = 2),
           (SELECT row (case_id, true)::text FROM r2 WHERE i = 0),
           'its twin later in the same batch: the same case, duplicate');
SELECT is ((SELECT count(*) FROM cases WHERE source = 'hotline' AND source_ref IN ('gft-a', 'gft-new')),
           2::bigint, 'duplicates add no case');
SELECT is ((SELECT count(*) FROM case_events WHERE type = 'case.received'
               AND case_id IN (SELECT case_id FROM r2)), 2::bigint,
           'duplicates add no event (one per case)');

-- Refusals: the error's code name, no case, no event.
CREATE TEMP TABLE r3 AS
SELECT * FROM gf_intake_store (jsonb_build_array (
  '{"i": 0, "rid": "e-0", "source": "hotline", "source_ref": "gft-e0", "description": "x", "urgent": false, "grid": "QNL.99.999"}'::jsonb,
  '{"i": 1, "rid": "e-1", "source": "hotline", "source_ref": "gft-e1", "description": "x", "urgent": false, "category": "no-such"}'::jsonb,
  '{"i": 2, "rid": "e-2", "source": "hotline", "source_ref": "gft-e2", "description": "x", "urgent": false, "reporter": "P-nobody"}'::jsonb,
  '{"i": 3, "rid": "e-3", "source": "hotline", "source_ref": "gft-e3", "description": "x", "urgent": false, "uid": "unknown-key"}'::jsonb,
  jsonb_build_object ('i', 4, 'rid', 'e-4', 'source', 'hotline', 'source_ref', 'gft-e4',
                      'description', 'x', 'urgent', false, 'grid', 'QNL.02.001', 'uid', repeat ('k', 40)),
  jsonb_build_object ('i', 5, 'rid', 'e-5', 'source', 'web', 'source_ref', 'gft-e5',
                      'description', 'x', 'urgent', false, 'grid', 'QNL.01.001', 'uid', repeat ('k', 40)),
  jsonb_build_object ('i', 6, 'rid', 'e-6', 'source', 'hotline', 'source_ref', 'gft-e6',
                      'description', 'x', 'urgent', false, 'grid', 'QNL.01.001', 'uid', repeat ('k', 40))), 'QNL');
SELECT results_eq ('SELECT i, err FROM r3 ORDER BY i',
                   $$VALUES (0, 'unknown_grid'), (1, 'unknown_category'), (2, 'unknown_actor'),
                            (3, 'forbidden'), (4, 'forbidden'), (5, 'forbidden'), (6, NULL)$$,
                   'unknown grid, category, reporter; an unknown key, a grid outside the '
                   'identity''s subtree, a source it may not use: refused; inside: stored');
SELECT is ((SELECT count(*) FROM r3 WHERE err IS NOT NULL AND case_id IS NOT NULL), 0::bigint,
           'a refused complaint has no case');
SELECT is ((SELECT count(*) FROM cases WHERE source_ref LIKE 'gft-e%'), 1::bigint,
           'refused complaints store no case');
SELECT is ((SELECT count(*) FROM case_events WHERE payload->>'source_ref' LIKE 'gft-e%'), 1::bigint,
           'refused complaints write no event');
SELECT is ((SELECT err FROM gf_intake_store ('[{"i": 0, "rid": "n", "source": "hotline",
              "source_ref": "gft-n", "description": "x", "urgent": false}]', 'NOPE')),
           'unknown_grid', 'a root that is not an L1 grid: unknown_grid');

-- Whole-batch failures: the caller isolates the complaints one by one.
SELECT throws_ok ($$SELECT * FROM gf_intake_store ('[
  {"i": 0, "rid": "t-0", "source": "hotline", "source_ref": "gft-t", "description": "x", "urgent": false, "grid": "QNL.99"},
  {"i": 1, "rid": "t-1", "source": "hotline", "source_ref": "gft-t", "description": "x", "urgent": false}]', 'QNL')$$,
                  'P0002', NULL, 'the twin of a refused complaint: the batch fails (no_data_found)');
SELECT throws_ok ($$SELECT * FROM gf_intake_store ('[
  {"i": 0, "rid": "g-0", "source": "hotline", "source_ref": "gft-g0", "description": "x", "urgent": false},
  {"i": 1, "rid": "g-1", "source": "hotline", "source_ref": "gft-g1", "description": "x", "urgent": false, "groups": "vip"}]', 'QNL')$$,
                  '23514', NULL, 'an unknown group: the batch fails (check_violation)');
SELECT is ((SELECT count(*) FROM cases WHERE source_ref IN ('gft-t', 'gft-g0', 'gft-g1')), 0::bigint,
           'a failed batch stores nothing');
SELECT is ((SELECT count(*) FROM gf_intake_store ('[]', 'QNL')), 0::bigint,
           'an empty batch: no rows');

-- The intake's own role may store (grants.sql gives it what the function needs).
SET LOCAL ROLE gf_intake;
DO $$
BEGIN
    PERFORM set_config ('gft.r', (SELECT string_agg (coalesce (err, 'ok') || ' ' || duplicate, ',')
                                    FROM gf_intake_store ('[
      {"i": 0, "rid": "r-0", "source": "hotline", "source_ref": "gft-role", "description": "x", "urgent": false},
      {"i": 1, "rid": "r-0", "source": "hotline", "source_ref": "gft-a", "description": "x", "urgent": false}]', 'QNL')),
                        true);
END
$$;
RESET ROLE;
SELECT is (current_setting ('gft.r'), 'ok false,ok true', 'as gf_intake: a new case and a duplicate');
SELECT is ((SELECT count(*) FROM case_events e JOIN cases c ON c.id = e.case_id
             WHERE c.source_ref = 'gft-role' AND e.type = 'case.received'), 1::bigint,
           'as gf_intake: the case and its event are written');

-- Routed as inserted (intake/route: the transition table's steps given):
-- the cases and events gf_route_cases makes of the same complaints stored
-- without them, in one row per case and no update.  x*: routed as
-- inserted; y*: stored, then routed by the router's statement.
CREATE TEMP TABLE rx AS SELECT * FROM gf_intake_store ('[
  {"i": 0, "rid": "x-0", "source": "hotline", "source_ref": "gft-x0", "description": "路灯", "address": "青年路街道西街村1组2号", "urgent": false},
  {"i": 1, "rid": "x-1", "source": "hotline", "source_ref": "gft-x1", "description": "路灯", "grid": "QNL.02.012", "urgent": false},
  {"i": 2, "rid": "x-2", "source": "hotline", "source_ref": "gft-x2", "description": "路灯", "address": "火星路99号", "urgent": false},
  {"i": 3, "rid": "x-3", "source": "hotline", "source_ref": "gft-x3", "description": "路灯", "urgent": false},
  {"i": 4, "rid": "x-4", "source": "hotline", "source_ref": "gft-x0", "description": "路灯", "urgent": false}]', 'QNL',
  '{registered}', 'routed', 'case.routed', '{registered}', 'unroutable', 'case.unroutable');
CREATE TEMP TABLE ry AS SELECT * FROM gf_intake_store ('[
  {"i": 0, "rid": "y-0", "source": "hotline", "source_ref": "gft-y0", "description": "路灯", "address": "青年路街道西街村1组2号", "urgent": false},
  {"i": 1, "rid": "y-1", "source": "hotline", "source_ref": "gft-y1", "description": "路灯", "grid": "QNL.02.012", "urgent": false},
  {"i": 2, "rid": "y-2", "source": "hotline", "source_ref": "gft-y2", "description": "路灯", "address": "火星路99号", "urgent": false},
  {"i": 3, "rid": "y-3", "source": "hotline", "source_ref": "gft-y3", "description": "路灯", "urgent": false}]', 'QNL');
SELECT results_eq ($$SELECT routed FROM rx ORDER BY i$$, ARRAY[true, true, false, false, NULL],
                   'routed as inserted: two to their L3 grids, two to L1 triage, the duplicate not');
SELECT results_eq ($$SELECT routed FROM ry ORDER BY i$$, ARRAY[NULL, NULL, NULL, NULL]::boolean[],
                   'without the steps: not routed');
SELECT is ((SELECT routed::text || '/' || unroutable FROM gf_route_cases (
                (SELECT jsonb_agg (case_id) FROM ry), '{registered}', 'routed', 'case.routed',
                '{registered}', 'unroutable', 'case.unroutable')),
           '2/2', 'the router routes the others');
SELECT results_eq (
    $$SELECT state, grid, version, routed_at FROM cases WHERE source_ref LIKE 'gft-x_' ORDER BY source_ref$$,
    $$SELECT state, grid, version, routed_at FROM cases WHERE source_ref LIKE 'gft-y_' ORDER BY source_ref$$,
    'the cases as the router leaves them: state, grid, version 2, routed_at');
SELECT results_eq (
    $$SELECT string_agg (e.type || ' ' || e.topic || ' ' || (e.payload - 'source_ref')::text, ' | ' ORDER BY e.seq)
        FROM cases c JOIN case_events e ON e.case_id = c.id
       WHERE c.source_ref LIKE 'gft-x_' GROUP BY c.source_ref ORDER BY c.source_ref$$,
    $$SELECT string_agg (e.type || ' ' || e.topic || ' ' || (e.payload - 'source_ref')::text, ' | ' ORDER BY e.seq)
        FROM cases c JOIN case_events e ON e.case_id = c.id
       WHERE c.source_ref LIKE 'gft-y_' GROUP BY c.source_ref ORDER BY c.source_ref$$,
    'each case''s events as the router writes them: case.received, then case.routed or case.unroutable');
SELECT is ((SELECT string_agg (e.type, ' ' ORDER BY e.seq) FROM case_events e
             WHERE e.case_id IN (SELECT case_id FROM rx)),
           'case.received case.received case.received case.received case.routed case.routed case.unroutable case.unroutable',
           'the batch''s case.received events first, then the routing ones, each by case');
SELECT is ((SELECT string_agg (c.state || ' ' || c.grid, ', ' ORDER BY c.source_ref) FROM cases c
             WHERE c.source_ref LIKE 'gft-x_'),
           'routed QNL.01.001, routed QNL.02.012, unroutable QNL, unroutable QNL',
           'by the address, by the requested L3 grid; an unknown address and none at the root (triage)');
-- As the intake's own role (it reads the address book: grants.sql).
SET LOCAL ROLE gf_intake;
DO $$
BEGIN
    PERFORM set_config ('gft.rr', (SELECT string_agg (coalesce (err, 'ok') || ' ' || routed, ',')
                                     FROM gf_intake_store ('[
      {"i": 0, "rid": "z-0", "source": "hotline", "source_ref": "gft-z0", "description": "x", "address": "青年路街道西街村1组2号", "urgent": false}]',
      'QNL', '{registered}', 'routed', 'case.routed', '{registered}', 'unroutable', 'case.unroutable')),
                        true);
END
$$;
RESET ROLE;
SELECT is (current_setting ('gft.rr'), 'ok true', 'as gf_intake: routed as inserted');

SELECT * FROM finish ();
ROLLBACK;
