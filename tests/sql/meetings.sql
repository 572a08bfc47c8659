-- pgTAP: deploy/sql/repeatable/meetings.sql — weekly and monthly slots (the
-- rule's weekday and time, a grid's own schedule, a holiday moving the
-- slot), the previous slot, the meetings due, and holding one: its ledger's
-- tiers on a small built case set, its events, held once per grid, kind and
-- day.  On a calendar of our own (rolled back).
BEGIN;
SELECT plan (25);

\ir fixtures/national_day_2026.sql
DELETE FROM meeting_schedule;
-- QNL.02 meets on Wednesdays at 14:30 instead of the rule's Monday 09:00.
INSERT INTO meeting_schedule (grid, kind, dow, hour, minute) VALUES ('QNL.02', 'weekly', 3, 14, 30);

-- Weekly slots -------------------------------------------------------------
SELECT results_eq (
    $$SELECT slot, day FROM gf_weekly_slots ('2026-09-27 00:00+08', '2026-10-13 00:00+08')
       WHERE grid = 'QNL.01' ORDER BY slot$$,
    $$VALUES (timestamptz '2026-09-28 09:00+08', date '2026-09-28'),
             (timestamptz '2026-10-09 09:00+08', date '2026-10-09'),
             (timestamptz '2026-10-12 09:00+08', date '2026-10-12')$$,
    'weekly: Mondays at 09:00; Monday 5 October (holiday) moves to Friday 9 October');
SELECT is ((SELECT root FROM gf_weekly_slots ('2026-09-27 00:00+08', '2026-10-13 00:00+08')
             WHERE grid = 'QNL.01' LIMIT 1), 'QNL', 'a weekly slot carries its L1 grid');
SELECT results_eq (
    $$SELECT slot FROM gf_weekly_slots ('2026-09-27 00:00+08', '2026-10-13 00:00+08')
       WHERE grid = 'QNL.02' ORDER BY slot$$,
    $$VALUES (timestamptz '2026-09-30 14:30+08'), (timestamptz '2026-10-09 14:30+08')$$,
    'a grid''s own schedule: Wednesdays 14:30; Wednesday 7 October (holiday) moves to Friday 9 October');
SELECT is ((SELECT count (*) FROM gf_weekly_slots ('2026-09-28 09:00+08', '2026-10-09 09:00+08')
             WHERE grid = 'QNL.01'), 1::bigint,
           'a slot at p_from is excluded, a slot at p_to included');
SELECT is ((SELECT count (DISTINCT grid) FROM gf_weekly_slots ('2026-10-11 00:00+08', '2026-10-18 00:00+08')),
           12::bigint, 'every L2 grid of the sample has a weekly slot');

-- Monthly slots ------------------------------------------------------------
SELECT results_eq (
    $$SELECT slot, day FROM gf_monthly_slots ('2026-09-01 00:00+08', '2026-12-01 00:00+08')
       WHERE grid = 'QNL' ORDER BY slot$$,
    $$VALUES (timestamptz '2026-09-07 09:00+08', date '2026-09-07'),
             (timestamptz '2026-10-12 09:00+08', date '2026-10-12'),
             (timestamptz '2026-11-02 09:00+08', date '2026-11-02')$$,
    'monthly: the first working Monday; 5 October is a holiday, so 12 October');
UPDATE escalation_rules SET params = params || '{"dow": 6}' WHERE root = '*' AND rule = 'monthly_l1';
SELECT is ((SELECT slot FROM gf_monthly_slots ('2026-10-01 00:00+08', '2026-11-01 00:00+08') WHERE grid = 'QNL'),
           timestamptz '2026-10-10 09:00+08', 'a monthly Saturday rule: the make-up working Saturday');
UPDATE escalation_rules SET params = params || '{"dow": 1}' WHERE root = '*' AND rule = 'monthly_l1';

-- Previous slot ------------------------------------------------------------
SELECT is (gf_previous_slot ('QNL.01', 'weekly', '2026-10-12 09:00+08'), timestamptz '2026-10-09 09:00+08',
           'gf_previous_slot weekly: the holiday-moved slot before');
SELECT is (gf_previous_slot ('QNL.01', 'weekly', '2026-10-09 09:00+08'), timestamptz '2026-09-28 09:00+08',
           'gf_previous_slot weekly across the holiday week');
SELECT is (gf_previous_slot ('QNL', 'monthly', '2026-11-02 09:00+08'), timestamptz '2026-10-12 09:00+08',
           'gf_previous_slot monthly');

-- Meetings due -------------------------------------------------------------
DELETE FROM ledger_entries;
DELETE FROM escalations;
DELETE FROM meetings;
DELETE FROM escalation_state;
INSERT INTO escalation_state (root, since) VALUES ('QNL', '2026-10-08 00:00+08');
INSERT INTO sim_clock (at) VALUES ('2026-10-12 10:00+08') ON CONFLICT (id) DO UPDATE SET at = excluded.at;
SELECT is ((SELECT count (*) FROM gf_due_meetings ()), 11::bigint * 2 + 1 + 1,
           'due since the start: two weekly slots of 11 L2 grids, one of QNL.02 (Wednesdays), the monthly one');
SELECT results_eq (
    $$SELECT grid, kind, slot FROM gf_due_meetings () WHERE grid IN ('QNL', 'QNL.01', 'QNL.02')$$,
    $$VALUES ('QNL.01', 'weekly', timestamptz '2026-10-09 09:00+08'),
             ('QNL.02', 'weekly', timestamptz '2026-10-09 14:30+08'),
             ('QNL.01', 'weekly', timestamptz '2026-10-12 09:00+08'),
             ('QNL', 'monthly', timestamptz '2026-10-12 09:00+08')$$,
    'oldest first, weekly before monthly on one day');
SET LOCAL ROLE gf_escalator;
SELECT isnt ((SELECT count (*) FROM gf_due_meetings ()), 0::bigint, 'the escalator may ask');
RESET ROLE;

-- Holding a meeting: a small case set in QNL.01 ----------------------------
INSERT INTO cases (id, source, source_ref, root, grid, state, tier, description, received_at, updated_at, level)
VALUES
    -- resolved during the period: on the ledger as resolved
    (910001, 't', 'm1', 'QNL', 'QNL.01.001', 'resolved', 'resolved', 'd', '2026-09-20 10:00+08', '2026-10-10 10:00+08', 3),
    -- open and pending, received just before the slot (no escalation yet)
    (910002, 't', 'm2', 'QNL', 'QNL.01.002', 'signed', 'pending', 'd', '2026-10-10 08:00+08', NULL, 3),
    -- open and marked hard
    (910003, 't', 'm3', 'QNL', 'QNL.01.001', 'in_progress', 'hard', 'd', '2026-10-10 08:30+08', NULL, 3),
    -- resolved long before the period: not on the ledger
    (910004, 't', 'm4', 'QNL', 'QNL.01.001', 'closed', 'resolved', 'd', '2026-08-01 10:00+08', '2026-08-05 10:00+08', 3),
    -- merged into another case: never on a ledger
    (910005, 't', 'm5', 'QNL', 'QNL.01.002', 'merged', 'pending', 'd', '2026-10-09 08:00+08', NULL, 3),
    -- another L2 grid's case
    (910006, 't', 'm6', 'QNL', 'QNL.02.011', 'signed', 'pending', 'd', '2026-10-09 08:00+08', NULL, 3),
    -- received after the slot
    (910007, 't', 'm7', 'QNL', 'QNL.01.001', 'routed', 'pending', 'd', '2026-10-12 09:30+08', NULL, 3);
INSERT INTO case_events (type, topic, case_id, grid, at, payload)
VALUES ('case.resolved', 'case.resolved/QNL.01.001', 910001, 'QNL.01.001', '2026-10-10 10:00+08',
        '{"action": "resolve", "to": "resolved"}');

SELECT isnt (gf_hold_meeting ('QNL.01', 'weekly', '2026-10-12 09:00+08'), NULL,
             'gf_hold_meeting holds the weekly meeting of QNL.01');
SELECT is ((SELECT period_from FROM meetings WHERE grid = 'QNL.01' AND kind = 'weekly'),
           timestamptz '2026-10-09 09:00+08', 'its period starts at the previous slot');
SELECT bag_eq (
    $$SELECT le.case_id, le.tier, le.state FROM ledger_entries le JOIN meetings m ON m.id = le.meeting_id
       WHERE m.grid = 'QNL.01'$$,
    $$VALUES (910001::bigint, 'resolved', 'resolved'), (910002, 'pending', 'signed'),
             (910003, 'hard', 'in_progress')$$,
    'the ledger: resolved in the period, pending, hard; not the old closed case, the merged one, another grid''s or a later one');
SELECT is ((SELECT last_action FROM ledger_entries WHERE case_id = 910001), 'case.resolved',
           'a ledger line carries the case''s last action before the slot');
SELECT is ((SELECT payload - 'meeting' FROM case_events WHERE type = 'ledger.published' AND grid = 'QNL.01'),
           '{"kind": "weekly", "entries": 3, "resolved": 1, "pending": 1, "hard": 1, "escalated": 0}'::jsonb,
           'ledger.published counts the tiers');
SELECT is ((SELECT payload->>'slot_at' FROM case_events WHERE type = 'meeting.held' AND grid = 'QNL.01')::timestamptz,
           timestamptz '2026-10-12 09:00+08', 'meeting.held names the slot');
SELECT is (gf_hold_meeting ('QNL.01', 'weekly', '2026-10-12 09:00+08'), NULL,
           'held once: the same grid, kind and day again holds nothing');
SELECT is (gf_hold_meeting ('QNL.01', 'weekly', '2026-10-12 15:00+08'), NULL,
           'held once per day, whatever the slot''s time');
SELECT is ((SELECT count (*) FROM case_events WHERE type = 'meeting.held' AND grid = 'QNL.01'), 1::bigint,
           'one meeting.held event');
SELECT isnt (gf_hold_meeting ('QNL.01', 'monthly', '2026-10-12 09:00+08'), NULL,
             'another kind on the same day is another meeting');
SELECT ok (NOT EXISTS (SELECT 1 FROM gf_due_meetings () WHERE grid = 'QNL.01' AND slot = '2026-10-12 09:00+08'),
           'a held meeting is no longer due');
SELECT ok (EXISTS (SELECT 1 FROM gf_due_meetings () WHERE grid = 'QNL.01' AND slot = '2026-10-09 09:00+08'),
           'an older slot not held is still due');

SELECT * FROM finish ();
ROLLBACK;
