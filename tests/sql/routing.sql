-- pgTAP: deploy/sql/repeatable/routing.sql — gf_route_cases routes a batch
-- by the sample directory: the address's L3 grid (normalised, inside a
-- requested L1/L2 subtree), a requested L3 grid, L1 triage for the rest (with
-- its reason), never back to a grid that returned the case; only registered
-- cases, so a replayed batch changes nothing; as the router's role.
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (29);

INSERT INTO sim_clock (at) VALUES ('2026-03-04 10:00+08')
    ON CONFLICT (id) DO UPDATE SET at = excluded.at;

INSERT INTO cases (id, source, source_ref, root, grid, requested_grid, description, address,
                   received_at, returned_from, state)
VALUES
    -- address of QNL.01.001, written with full-width digits and spaces
    (900001, 't', 'r1', 'QNL', 'QNL', NULL, 'd', ' 青年路街道西街村１组 ２号 ', '2026-03-04 09:00+08', '{}', 'registered'),
    -- a requested L3 grid wins over the address
    (900002, 't', 'r2', 'QNL', 'QNL', 'QNL.02.012', 'd', '青年路街道西街村1组2号', '2026-03-04 09:00+08', '{}', 'registered'),
    -- a requested L2 grid holding the address
    (900003, 't', 'r3', 'QNL', 'QNL', 'QNL.02', 'd', '管道三公司社区1号楼1单元', '2026-03-04 09:00+08', '{}', 'registered'),
    -- a requested L2 grid that does not hold the address
    (900004, 't', 'r4', 'QNL', 'QNL', 'QNL.02', 'd', '青年路街道西街村1组2号', '2026-03-04 09:00+08', '{}', 'registered'),
    -- an address the directory does not know
    (900005, 't', 'r5', 'QNL', 'QNL', NULL, 'd', '火星路99号', '2026-03-04 09:00+08', '{}', 'registered'),
    -- neither address nor grid
    (900006, 't', 'r6', 'QNL', 'QNL', NULL, 'd', NULL, '2026-03-04 09:00+08', '{}', 'registered'),
    -- returned by the grid its address maps to
    (900007, 't', 'r7', 'QNL', 'QNL', NULL, 'd', '青年路街道西街村1组2号', '2026-03-04 09:00+08', '{QNL.01.001}', 'registered'),
    -- no longer registered: left alone
    (900008, 't', 'r8', 'QNL', 'QNL.01.001', NULL, 'd', '青年路街道西街村1组2号', '2026-03-04 09:00+08', '{}', 'signed');

\ir fixtures/function_calls.sql
SET LOCAL track_functions = 'all';
CREATE TEMP TABLE route_calls AS
    SELECT pg_temp.calls ('gf_route_payload') + pg_temp.calls ('gf_mask_address') AS n;
SET LOCAL ROLE gf_router;
SELECT results_eq (
    $$SELECT routed, unroutable FROM gf_route_cases ('[900001, 900002, 900003, 900004, 900005, 900006, 900007, 900008, 900001]',
        '{registered}', 'routed', 'case.routed', '{registered}', 'unroutable', 'case.unroutable')$$,
    $$VALUES (3::bigint, 4::bigint)$$,
    'as the router: 3 routed, 4 unroutable, the signed case and the duplicate id skipped');
RESET ROLE;
SELECT is (pg_temp.calls ('gf_route_payload') + pg_temp.calls ('gf_mask_address') - (SELECT n FROM route_calls),
           0::bigint, 'the events'' payloads: gf_route_payload and gf_mask_address inlined, no call per case');

SELECT is ((SELECT state || ' ' || grid FROM cases WHERE id = 900001), 'routed QNL.01.001',
           'full-width digits and spaces in the address: routed to its L3 grid');
SELECT is ((SELECT routed_at FROM cases WHERE id = 900001), timestamptz '2026-03-04 10:00+08',
           'routed_at is the simulated clock');
SELECT is ((SELECT version FROM cases WHERE id = 900001), 2, 'the version moves on');
SELECT is ((SELECT payload FROM case_events WHERE case_id = 900001),
           '{"grid": "QNL.01.001", "via": "address", "l2": "QNL.01"}'::jsonb,
           'case.routed payload: grid, via address, l2');
SELECT is ((SELECT type || ' ' || topic || ' ' || grid FROM case_events WHERE case_id = 900001),
           'case.routed case.routed/QNL.01.001 QNL.01.001', 'case.routed: type, topic and grid');
SELECT is ((SELECT state || ' ' || grid FROM cases WHERE id = 900002), 'routed QNL.02.012',
           'a requested L3 grid is taken as it is');
SELECT is ((SELECT payload->>'via' FROM case_events WHERE case_id = 900002), 'grid',
           'via grid for a requested L3 grid');
SELECT is ((SELECT state || ' ' || grid FROM cases WHERE id = 900003), 'routed QNL.02.011',
           'a requested L2 grid: the address inside it decides');
SELECT is ((SELECT state || ' ' || grid FROM cases WHERE id = 900004), 'unroutable QNL',
           'a requested L2 grid without the address: L1 triage, the grid stays');
SELECT is ((SELECT payload->>'reason' FROM case_events WHERE case_id = 900004), 'not_l3',
           'reason not_l3');
SELECT is ((SELECT state FROM cases WHERE id = 900005), 'unroutable', 'an unknown address: unroutable');
SELECT is ((SELECT payload FROM case_events WHERE case_id = 900005),
           jsonb_build_object ('reason', 'unknown_address', 'address_masked', gf_mask_address ('火星路99号')),
           'reason unknown_address and the masked address, never the address');
SELECT is ((SELECT type || ' ' || topic FROM case_events WHERE case_id = 900005),
           'case.unroutable case.unroutable/QNL', 'case.unroutable: type and topic (the L1 grid)');
SELECT is ((SELECT payload->>'reason' FROM case_events WHERE case_id = 900006), 'no_location',
           'reason no_location');
SELECT ok ((SELECT payload ? 'address_masked' AND payload->'address_masked' = 'null'::jsonb
              FROM case_events WHERE case_id = 900006), 'no address: address_masked is null');
SELECT is ((SELECT state || ' ' || grid FROM cases WHERE id = 900007), 'unroutable QNL',
           'a grid that returned the case is not asked again');
SELECT is ((SELECT payload->>'reason' FROM case_events WHERE case_id = 900007), 'returned',
           'reason returned');
SELECT is ((SELECT state || ' ' || version FROM cases WHERE id = 900008), 'signed 1',
           'a case no longer registered is not touched');
SELECT is ((SELECT count (*) FROM case_events WHERE case_id = 900008), 0::bigint,
           'and gets no event');
SELECT is ((SELECT count (*) FROM case_events WHERE case_id BETWEEN 900001 AND 900008), 7::bigint,
           'one event per routed or unroutable case (a duplicate id routes once)');
SELECT ok ((SELECT bool_and (at = '2026-03-04 10:00+08') AND max (seq) - min (seq) = 6
              FROM case_events WHERE case_id BETWEEN 900001 AND 900008),
           'events at the simulated clock, numbered in one run by the append');
SELECT is ((SELECT array_agg (case_id ORDER BY id) FROM case_events WHERE case_id BETWEEN 900001 AND 900008),
           '{900001,900002,900003,900004,900005,900006,900007}'::bigint[],
           'events are written in case id order');

-- The batch again (a replay): nothing changes.
SELECT results_eq (
    $$SELECT routed, unroutable FROM gf_route_cases ('[900001, 900005]',
        '{registered}', 'routed', 'case.routed', '{registered}', 'unroutable', 'case.unroutable')$$,
    $$VALUES (0::bigint, 0::bigint)$$, 'a replayed batch routes nothing');
SELECT is ((SELECT count (*) FROM case_events WHERE case_id BETWEEN 900001 AND 900008), 7::bigint,
           'and writes no event');

-- The states come from the caller (the transition table), not from here.
UPDATE cases SET state = 'registered', returned_from = '{QNL.01.001}' WHERE id = 900001;
SELECT results_eq (
    $$SELECT routed, unroutable FROM gf_route_cases ('[900001]',
        '{}', 'routed', 'case.routed', '{registered}', 'unroutable', 'case.unroutable')$$,
    $$VALUES (0::bigint, 1::bigint)$$, 'a returned case goes to triage by the unroutable step''s states');
SELECT is ((SELECT state FROM cases WHERE id = 900001), 'unroutable',
           'a re-routed returned case whose only grid returned it: unroutable');

-- Its plan is kept for the session: left to choose, PostgreSQL planned the
-- statement again at every call of the router's (1.2 ms of a 1.3 ms call,
-- docs/performance.md, 7 Dec 2026, third look).
SELECT ok ((SELECT 'plan_cache_mode=force_generic_plan' = ANY (proconfig) FROM pg_proc
             WHERE proname = 'gf_route_cases'), 'gf_route_cases keeps its plan for the session');

SELECT * FROM finish ();
ROLLBACK;
