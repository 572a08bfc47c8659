-- pgTAP: deploy/sql/repeatable/indicators.sql — the resolution deadline
-- rules (most specific row, shortest priority), and the indicators of a
-- small November 2026 built here: response, resolution, on time,
-- satisfaction, reopen, supervision per unit, the ranking's minimum sample,
-- the JSON, the monthly report's use of the rules, and the gateway's
-- functions as gf_gateway (rolled back).
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (23);

INSERT INTO sim_clock (at) VALUES ('2026-12-10 12:00+08')
ON CONFLICT (id) DO UPDATE SET at = excluded.at;
-- The weekday rule only: no official day in November 2026.
DELETE FROM calendar_days;
DELETE FROM calendar_years;

-- --- the deadline rules -------------------------------------------------------
SELECT is (gf_resolution_days ('QNL', 'water', false, '{}'), 5, 'deadline: the * default, 5 working days');
INSERT INTO resolution_deadlines VALUES ('*', '*', 'urgent', 2), ('*', 'water', '*', 3),
    ('QNL', 'water', 'urgent', 1), ('*', '*', 'petitioner', 4);
SELECT is (gf_resolution_days ('QNL', 'water', false, '{}'), 3, 'deadline: category row before *');
SELECT is (gf_resolution_days ('XYZ', 'water', true, '{}'), 3,
           'deadline: another root: the * rows, the category''s before the priority''s');
SELECT is (gf_resolution_days ('QNL', 'water', true, '{}'), 1, 'deadline: the root''s own row first');
SELECT is (gf_resolution_days ('QNL', 'road', false, '{petitioner}'), 4, 'deadline: a special group''s row');
SELECT is (gf_resolution_days ('QNL', NULL, true, '{petitioner}'), 2,
           'deadline: several priorities: the shortest; no category: * rows only');
SELECT is (gf_resolution_due ('QNL', 'road', false, '{}', '2026-11-06 10:00+08'),
           '2026-11-13 10:00+08'::timestamptz, 'due: 5 working days on the calendar (over a weekend)');

-- --- a small November (QNL); sign-for: 24 h, urgent 1 h (sign_reminder) ---
--   1 QNL.07.063 road: signed after 2 h, resolved 5 Nov (on time), callback satisfied
--   2 QNL.07.063 road: signed after 48 h (late), resolved 20 Nov (late),
--     callback dissatisfied, reopened (open again: late), supervised
--   3 QNL.07.064 water urgent: never signed (due 1 h later), QNL's water
--     urgent row: due in 1 working day: late; an L1 'supervise' decision
--   4 QNL.08.067 road: received 30 Nov 20:00, not signed: neither due yet
--   5 at QNL (L1 triage, never routed): in the total only (late: open
--     past its 5 working days)
UPDATE indicator_rules SET min_sample = 3 WHERE root = '*';
INSERT INTO indicator_rules VALUES ('QNL', 2, '{"response": 0.2, "resolution": 0.3, "on_time": 0.2, "satisfaction": 0.3}');
INSERT INTO cases (id, source, source_ref, root, grid, state, tier, category, description, urgent,
                   groups, received_at, routed_at)
VALUES (910001, 'hotline', 'I-1', 'QNL', 'QNL.07.063', 'closed', 'resolved', 'road', 'x', false, '{}',
        '2026-11-02 10:00+08', '2026-11-02 10:00+08'),
       (910002, 'hotline', 'I-2', 'QNL', 'QNL.07.063', 'reopened', 'pending', 'road', 'x', false, '{}',
        '2026-11-02 10:00+08', '2026-11-02 10:00+08'),
       (910003, 'hotline', 'I-3', 'QNL', 'QNL.07.064', 'routed', 'pending', 'water', 'x', true, '{}',
        '2026-11-02 10:00+08', '2026-11-02 10:00+08'),
       (910004, 'hotline', 'I-4', 'QNL', 'QNL.08.067', 'routed', 'pending', 'road', 'x', false, '{}',
        '2026-11-30 20:00+08', '2026-11-30 20:00+08'),
       (910005, 'hotline', 'I-5', 'QNL', 'QNL', 'unroutable', 'pending', NULL, 'x', false, '{}',
        '2026-11-10 10:00+08', NULL);
INSERT INTO event_stage (type, topic, case_id, grid, at, payload)
SELECT e.type, e.type || '/x', e.case_id, 'QNL.07.063', e.at::timestamptz, e.payload::jsonb
  FROM (VALUES
    ('case.received', 910001, '2026-11-02 10:00+08', '{}'),
    ('case.routed', 910001, '2026-11-02 10:00+08', '{}'),
    ('case.signed', 910001, '2026-11-02 12:00+08', '{"from": "routed", "to": "signed"}'),
    ('case.resolved', 910001, '2026-11-05 10:00+08', '{"from": "signed", "to": "resolved"}'),
    ('case.callback', 910001, '2026-11-06 10:00+08', '{"from": "resolved", "to": "called_back", "satisfied": true}'),
    ('case.closed', 910001, '2026-11-06 10:01+08', '{"from": "called_back", "to": "closed"}'),
    ('case.received', 910002, '2026-11-02 10:00+08', '{}'),
    ('case.routed', 910002, '2026-11-02 10:00+08', '{}'),
    ('case.signed', 910002, '2026-11-04 10:00+08', '{"from": "routed", "to": "signed"}'),
    ('case.resolved', 910002, '2026-11-20 10:00+08', '{"from": "signed", "to": "resolved"}'),
    ('case.callback', 910002, '2026-11-21 10:00+08', '{"from": "resolved", "to": "called_back", "satisfied": false}'),
    ('case.reopened', 910002, '2026-11-21 10:01+08', '{"from": "called_back", "to": "reopened"}'),
    ('case.supervised', 910002, '2026-11-22 10:00+08', '{"from": "reopened", "to": "reopened", "supervised": true}'),
    ('case.received', 910003, '2026-11-02 10:00+08', '{}'),
    ('case.routed', 910003, '2026-11-02 10:00+08', '{}'),
    ('case.received', 910004, '2026-11-30 20:00+08', '{}'),
    ('case.routed', 910004, '2026-11-30 20:00+08', '{}'),
    ('case.received', 910005, '2026-11-10 10:00+08', '{}'),
    ('case.unroutable', 910005, '2026-11-10 10:00+08', '{}')) e (type, case_id, at, payload);
INSERT INTO meetings (id, grid, kind, day, slot_at, held_at, period_from)
VALUES (919001, 'QNL', 'monthly', '2026-11-02', '2026-11-02 09:00+08', '2026-11-02 09:00+08',
        '2026-10-05 09:00+08');
INSERT INTO meeting_decisions (meeting_id, case_id, kind, deadline, actor, request_id, at)
VALUES (919001, 910003, 'supervise', '2026-11-20 10:00+08', 'P-QNL-1', 'r-1', '2026-11-03 10:00+08');

SELECT results_eq (
    $$SELECT case_id, l2, l3, response_due, responded, resolved, on_time, late, callbacks,
             satisfied, resolved_ever, reopened, supervised
        FROM gf_indicator_cases ('QNL', '2026-11') WHERE case_id >= 910001 ORDER BY case_id$$,
    $$VALUES (910001::bigint, 'QNL.07', 'QNL.07.063', true, true, true, true, false, 1::bigint, 1::bigint, true, false, false),
             (910002, 'QNL.07', 'QNL.07.063', true, false, false, false, true, 1, 0, true, true, true),
             (910003, 'QNL.07', 'QNL.07.064', true, false, false, false, true, 0, 0, false, false, true),
             (910004, 'QNL.08', 'QNL.08.067', false, false, false, false, false, 0, 0, false, false, false),
             (910005, NULL, NULL, false, false, false, false, true, 0, 0, false, false, false)$$,
    'each case: response, resolution, on time, callbacks, reopen, supervision (event or decision)');
SELECT is ((SELECT sign_due FROM gf_indicator_cases ('QNL', '2026-11') WHERE case_id = 910003),
           '2026-11-02 11:00+08'::timestamptz, 'sign-for deadline of an urgent case: gf_overdue_at, 1 h');
SELECT is ((SELECT leader FROM gf_indicator_cases ('QNL', '2026-11') WHERE case_id = 910001),
           gf_leader ('QNL.07.063'), 'the leader: the L3 grid''s');
SELECT results_eq (
    $$SELECT received, response_due, responded, response_rate_pct, avg_response_hours, resolved,
             resolution_rate_pct, on_time, late, on_time_rate_pct, callbacks, satisfied,
             satisfaction_rate_pct, resolved_ever, reopened, reopen_rate_pct, supervised, ranked, rank
        FROM gf_indicators ('QNL', '2026-11') WHERE section = 'total'$$,
    $$VALUES (5::bigint, 3::bigint, 1::bigint, 33.3, 25.0, 1::bigint, 20.0, 1::bigint, 3::bigint, 25.0,
              2::bigint, 1::bigint, 50.0, 2::bigint, 1::bigint, 50.0, 2::bigint, false, NULL::bigint)$$,
    'the total: every rate and count');
SELECT results_eq (
    $$SELECT section, key, received, score, ranked, rank, min_sample
        FROM gf_indicators ('QNL', '2026-11') WHERE section <> 'total'$$,
    $$VALUES ('l2', 'QNL.07', 3::bigint, 38.3, true, 1::bigint, 2),
             ('l2', 'QNL.08', 1, 0.0, false, NULL, 2),
             ('l3', 'QNL.07.063', 2, 50.0, true, 1, 2),
             ('l3', 'QNL.07.064', 1, 0.0, false, NULL, 2),
             ('l3', 'QNL.08.067', 1, 0.0, false, NULL, 2),
             ('leader', gf_leader ('QNL.07.063'), 2, 50.0, true, 1, 2),
             ('leader', gf_leader ('QNL.07.064'), 1, 0.0, false, NULL, 2),
             ('leader', gf_leader ('QNL.08.067'), 1, 0.0, false, NULL, 2)$$,
    'units: weighted scores, ranked only from the minimum sample (QNL''s own rule: 2), in rank order');
UPDATE indicator_rules SET min_sample = 1 WHERE root = 'QNL';
SELECT results_eq (
    $$SELECT key, rank FROM gf_indicators ('QNL', '2026-11') WHERE section = 'l3'$$,
    $$VALUES ('QNL.07.063', 1::bigint), ('QNL.07.064', 2), ('QNL.08.067', 2)$$,
    'min_sample 1: every L3 grid ranked, equal scores share a rank');
SELECT is ((SELECT j->'total'->>'satisfaction_rate_pct' || ' ' || json_array_length (j->'by_l3') || ' '
                   || (j->>'min_sample') || ' ' || (j->'by_l2'->0->>'key')
              FROM gf_indicators_json ('QNL', '2026-11') j),
           '50.0 3 1 QNL.07', 'JSON: total, by_l3, min_sample, by_l2 in rank order');
SELECT ok (gf_indicators_json ('QNL.07', '2026-11') IS NULL, 'JSON: NULL for a grid that is not L1');
SELECT is ((SELECT late FROM gf_report_monthly ('QNL', '2026-11', NULL) WHERE section = 'total'),
           3::bigint, 'monthly report: on time by the deadline rules (case 3 late in 1 day)');
SELECT is ((SELECT (j->'indicators'->'total'->>'received') || ' ' || (j->>'deadline_working_days')
              FROM gf_report_monthly_json ('QNL', '2026-11', NULL) j),
           '5 5', 'monthly report JSON: the indicators, and the general deadline');

-- The gateway reads them through the two SECURITY DEFINER functions only
-- (the current month: November).
INSERT INTO sim_clock (at) VALUES ('2026-11-25 12:00+08')
ON CONFLICT (id) DO UPDATE SET at = excluded.at;
SET LOCAL ROLE gf_gateway;
SELECT throws_ok ($$SELECT * FROM gf_indicators ('QNL', '2026-11')$$, '42501', NULL,
                  'gateway: the case-level function is refused (no right on cases)');
SELECT is ((SELECT value FROM gf_indicator_metrics ()
             WHERE metric = 'gf_indicator_received' AND grid = 'QNL')::text || ' '
           || (SELECT value FROM gf_indicator_metrics ()
                WHERE metric = 'gf_indicator_satisfaction_rate' AND grid = 'QNL.07')::text || ' '
           || (gf_dash_indicators (NULL)->'roots'->0->'total'->>'received'),
           '4 0.5 4', 'gateway: /metrics gauges and the dashboard''s JSON');
RESET ROLE;
SET LOCAL ROLE gf_intake;
SELECT throws_ok ($$SELECT gf_dash_indicators ('QNL')$$, '42501', NULL,
                  'another service may not call the SECURITY DEFINER functions');
RESET ROLE;

-- A suggestion-box slip's clocks start at box opening (gf_clock_start), as
-- the sign-for reminders and the escalation count them: transcribed Monday
-- 12 Oct, the box opened Friday 9 Oct.
INSERT INTO cases (id, source, source_ref, root, grid, state, tier, category, description, urgent,
                   groups, received_at, routed_at, reported_at)
VALUES (910009, 'suggestbox', 'I-9', 'QNL', 'QNL.07.063', 'routed', 'pending', 'road', 'x', false, '{}',
        '2026-10-12 10:00+08', '2026-10-12 10:00+08', '2026-10-09 09:00+08');
INSERT INTO event_stage (type, topic, case_id, grid, at)
VALUES ('case.received', 'x', 910009, 'QNL.07.063', '2026-10-12 10:00+08'),
       ('case.routed', 'x', 910009, 'QNL.07.063', '2026-10-12 10:00+08');
SELECT is ((SELECT due FROM gf_indicator_cases ('QNL', '2026-10') WHERE case_id = 910009),
           gf_resolution_due ('QNL', 'road', false, '{}', '2026-10-09 09:00+08'),
           'a slip''s resolution deadline counts from box opening');
SELECT is ((SELECT sign_due FROM gf_indicator_cases ('QNL', '2026-10') WHERE case_id = 910009),
           gf_overdue_at ('routed', 'QNL', false, '2026-10-09 09:00+08', NULL, NULL),
           'and its sign-for deadline too');

-- A case resolved in November and reopened in December: November's
-- figures take its state as of the month's end, rebuilt from its history
-- (it has an event after that); its live row says reopened.
INSERT INTO sim_clock (at) VALUES ('2026-12-10 12:00+08')
ON CONFLICT (id) DO UPDATE SET at = excluded.at;
INSERT INTO cases (id, source, source_ref, root, grid, state, tier, category, description, urgent,
                   groups, received_at, routed_at)
VALUES (910006, 'hotline', 'I-6', 'QNL', 'QNL.07.063', 'reopened', 'pending', 'road', 'x', false, '{}',
        '2026-11-16 10:00+08', '2026-11-16 10:00+08');
INSERT INTO event_stage (type, topic, case_id, grid, at, payload)
VALUES ('case.received', 'x', 910006, 'QNL.07.063', '2026-11-16 10:00+08', '{}'),
       ('case.routed', 'x', 910006, 'QNL.07.063', '2026-11-16 10:00+08', '{}'),
       ('case.signed', 'x', 910006, 'QNL.07.063', '2026-11-16 11:00+08', '{"from": "routed", "to": "signed"}'),
       ('case.resolved', 'x', 910006, 'QNL.07.063', '2026-11-18 10:00+08', '{"from": "signed", "to": "resolved"}'),
       ('case.reopened', 'x', 910006, 'QNL.07.063', '2026-12-03 10:00+08', '{"from": "resolved", "to": "reopened"}');
SELECT is ((SELECT resolved::text || ' ' || on_time::text || ' ' || reopened::text
              FROM gf_indicator_cases ('QNL', '2026-11') WHERE case_id = 910006),
           'true true false', 'a closed month: a case changed after it counts as it was then');

SELECT * FROM finish ();
ROLLBACK;
