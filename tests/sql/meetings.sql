-- pgTAP: deploy/sql/repeatable/meetings.sql — weekly and monthly slots (the
-- rule's weekday and time, a grid's own schedule, a holiday moving the
-- slot), the previous slot, the meetings due, and holding one: its ledger's
-- tiers on a small built case set, its events, held once per grid, kind and
-- day.  On a calendar of our own (rolled back).
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (79);

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
SELECT results_eq (
    $$SELECT grid, root, slot, day FROM gf_weekly_slots ('2026-09-27 00:00+08', '2026-10-13 00:00+08', 'QNL.02') ORDER BY slot$$,
    $$SELECT grid, root, slot, day FROM gf_weekly_slots ('2026-09-27 00:00+08', '2026-10-13 00:00+08')
       WHERE grid = 'QNL.02' ORDER BY slot$$,
    'weekly slots of one grid (p_grid): that grid''s rows of all of them, its own schedule kept');

-- Monthly slots ------------------------------------------------------------
SELECT results_eq (
    $$SELECT slot, day FROM gf_monthly_slots ('2026-09-01 00:00+08', '2026-12-01 00:00+08')
       WHERE grid = 'QNL' ORDER BY slot$$,
    $$VALUES (timestamptz '2026-09-07 09:00+08', date '2026-09-07'),
             (timestamptz '2026-10-12 09:00+08', date '2026-10-12'),
             (timestamptz '2026-11-02 09:00+08', date '2026-11-02')$$,
    'monthly: the first working Monday; 5 October is a holiday, so 12 October');
SELECT results_eq (
    $$SELECT grid, slot, day FROM gf_monthly_slots ('2026-09-01 00:00+08', '2026-12-01 00:00+08', 'QNL') ORDER BY slot$$,
    $$SELECT grid, slot, day FROM gf_monthly_slots ('2026-09-01 00:00+08', '2026-12-01 00:00+08')
       WHERE grid = 'QNL' ORDER BY slot$$,
    'monthly slots of one grid (p_grid): that grid''s rows of all of them');
SELECT is ((SELECT count (*) FROM gf_weekly_slots ('2026-09-27 00:00+08', '2026-10-13 00:00+08', 'QNL')), 0::bigint,
           'an L1 grid has no weekly slot of its own');
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
-- Only the grid's own slots are computed (a county's round asked for every
-- L2 grid's five weeks of slots, a calendar walk each, 25 times a root).
SET LOCAL track_functions = 'pl';
CREATE TEMP TABLE walks AS
    SELECT coalesce ((SELECT calls FROM pg_stat_xact_user_functions WHERE funcname = 'gf_next_workday_at'), 0) AS n;
SELECT is (gf_previous_slot ('QNL.01', 'weekly', '2026-10-19 09:00+08'), timestamptz '2026-10-12 09:00+08',
           'gf_previous_slot weekly, once more');
SELECT cmp_ok ((SELECT calls FROM pg_stat_xact_user_functions WHERE funcname = 'gf_next_workday_at') - (SELECT n FROM walks),
               '<=', 5::bigint, 'it walks the calendar once for each of its own grid''s weeks in view (5), not for every L2 grid''s');

-- Meetings due -------------------------------------------------------------
DELETE FROM ledger_entries;
DELETE FROM meeting_decisions;
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
SELECT results_eq ($$SELECT grid, kind, slot, root FROM gf_due_meetings (ARRAY['QNL'])$$,
                   $$SELECT grid, kind, slot, 'QNL' FROM gf_due_meetings ()$$,
                   'an escalator holding the root QNL: the same meetings, each with its root');
SELECT is ((SELECT count (*) FROM gf_due_meetings (ARRAY['XYZ'])), 0::bigint,
           'one holding another root: none of QNL''s');
SET LOCAL ROLE gf_escalator;
SELECT isnt ((SELECT count (*) FROM gf_due_meetings ()), 0::bigint, 'the escalator may ask');
RESET ROLE;

-- Opening a meeting: a small case set in QNL.01 ----------------------------
INSERT INTO cases (id, source, source_ref, root, grid, state, tier, description, received_at, updated_at, level, groups)
VALUES
    -- resolved during the period: on the ledger as resolved
    (910001, 't', 'm1', 'QNL', 'QNL.01.001', 'resolved', 'resolved', 'd', '2026-09-20 10:00+08', '2026-10-10 10:00+08', 3, '{}'),
    -- open and pending, received just before the slot (no escalation yet); an undone decision on it
    (910002, 't', 'm2', 'QNL', 'QNL.01.002', 'signed', 'pending', 'd', '2026-10-10 08:00+08', NULL, 3, '{}'),
    -- open and marked hard; reported up by an earlier weekly meeting
    (910003, 't', 'm3', 'QNL', 'QNL.01.001', 'in_progress', 'hard', 'd', '2026-10-10 08:30+08', NULL, 3, '{}'),
    -- resolved long before the period: not on the ledger
    (910004, 't', 'm4', 'QNL', 'QNL.01.001', 'closed', 'resolved', 'd', '2026-08-01 10:00+08', '2026-08-05 10:00+08', 3, '{}'),
    -- merged into another case: never on a ledger
    (910005, 't', 'm5', 'QNL', 'QNL.01.002', 'merged', 'pending', 'd', '2026-10-09 08:00+08', NULL, 3, '{}'),
    -- another L2 grid's case
    (910006, 't', 'm6', 'QNL', 'QNL.02.011', 'signed', 'pending', 'd', '2026-10-09 08:00+08', NULL, 3, '{}'),
    -- received after the slot
    (910007, 't', 'm7', 'QNL', 'QNL.01.001', 'routed', 'pending', 'd', '2026-10-12 09:30+08', NULL, 3, '{}'),
    -- old and open at L3: the weekly rule's candidate
    (910008, 't', 'm8', 'QNL', 'QNL.01.001', 'signed', 'pending', 'd', '2026-09-28 10:00+08', NULL, 3, '{}'),
    -- old and open at L3, but the meeting decides on it
    (910009, 't', 'm9', 'QNL', 'QNL.01.002', 'signed', 'pending', 'd', '2026-09-28 10:00+08', NULL, 3, '{}'),
    -- a special group's case: always on the agenda
    (910010, 't', 'm10', 'QNL', 'QNL.01.002', 'signed', 'pending', 'd', '2026-10-11 10:00+08', NULL, 3, '{petitioner}'),
    -- unroutable: on the L1 agenda for triage
    (910011, 't', 'm11', 'QNL', 'QNL', 'unroutable', 'pending', 'd', '2026-10-11 10:00+08', NULL, 3, '{}');
INSERT INTO event_stage (type, topic, case_id, grid, at, payload)
VALUES ('case.resolved', 'case.resolved/QNL.01.001', 910001, 'QNL.01.001', '2026-10-10 10:00+08',
        '{"action": "resolve", "to": "resolved"}');
-- The earlier weekly meeting of QNL.01 (the holiday-moved 9 October) and its decisions.
INSERT INTO meetings (id, grid, kind, day, slot_at, held_at, period_from, state, closed_at)
VALUES (910900, 'QNL.01', 'weekly', '2026-10-09', '2026-10-09 09:00+08', '2026-10-09 09:00+08',
        '2026-09-28 09:00+08', 'closed', '2026-10-09 11:00+08');
INSERT INTO meeting_decisions (id, meeting_id, case_id, kind, deadline, note, actor, request_id, at, done_at)
VALUES (910950, 910900, 910002, 'keep_l3', '2026-10-20 18:00+08', '本周内办结', 'P-QNL.01-1', 'r1', '2026-10-09 10:00+08', NULL),
       (910951, 910900, 910003, 'report_up', NULL, '涉及多个部门，报一级网格', 'P-QNL.01-1', 'r2', '2026-10-09 10:05+08',
        '2026-10-09 10:05+08'),
       (910952, 910900, 910001, 'keep_l3', '2026-10-10 18:00+08', NULL, 'P-QNL.01-1', 'r3', '2026-10-09 10:10+08',
        '2026-10-10 10:00+08');

SET LOCAL ROLE gf_escalator;
SELECT isnt (gf_open_meeting ('QNL.01', 'weekly', '2026-10-12 09:00+08'), NULL,
             'gf_open_meeting opens the weekly meeting of QNL.01 (as the escalator)');
RESET ROLE;
SELECT is ((SELECT period_from || ' ' || state FROM meetings WHERE grid = 'QNL.01' AND kind = 'weekly' AND day = '2026-10-12'),
           timestamptz '2026-10-09 09:00+08' || ' open', 'it is open; its period starts at the previous slot');
SELECT bag_eq (
    $$SELECT le.case_id, le.tier, le.state, le.reason, le.carried_from
        FROM ledger_entries le JOIN meetings m ON m.id = le.meeting_id
       WHERE m.grid = 'QNL.01' AND m.day = '2026-10-12'$$,
    $$VALUES (910001::bigint, 'resolved', 'resolved', 'ledger', NULL::bigint),
             (910002, 'pending', 'signed', 'carried', 910950),
             (910003, 'hard', 'in_progress', 'ledger', NULL), (910008, 'pending', 'signed', 'ledger', NULL),
             (910009, 'pending', 'signed', 'ledger', NULL), (910010, 'pending', 'signed', 'special', NULL)$$,
    'the agenda: the ledger (resolved in the period, pending, hard; not the old closed case, the merged one, another grid''s or a later one), the undone decision carried, the special group''s case; done decisions are not carried');
SELECT is ((SELECT last_action FROM ledger_entries WHERE case_id = 910001), 'case.resolved',
           'a ledger line carries the case''s last action before the slot');
SELECT is ((SELECT payload - 'meeting' - 'slot_at' - 'period_from' - 'day' FROM case_events
             WHERE type = 'meeting.opened' AND grid = 'QNL.01'),
           '{"kind": "weekly", "entries": 6, "resolved": 1, "pending": 4, "hard": 1, "carried": 1, "special": 1,
             "triage": 0, "reported_up": 0}'::jsonb,
           'meeting.opened counts the agenda by tier and reason');
SELECT is ((SELECT payload->>'slot_at' FROM case_events WHERE type = 'meeting.opened' AND grid = 'QNL.01')::timestamptz,
           timestamptz '2026-10-12 09:00+08', 'meeting.opened names the slot');
SELECT is ((SELECT count (*) FROM escalations) || ' ' || (SELECT count (*) FROM case_events WHERE type = 'meeting.held'),
           '0 0', 'nothing escalates at the slot, and there is no meeting.held any more');
SELECT is (gf_open_meeting ('QNL.01', 'weekly', '2026-10-12 09:00+08'), NULL,
           'opened once: the same grid, kind and day again opens nothing');
SELECT is (gf_open_meeting ('QNL.01', 'weekly', '2026-10-12 15:00+08'), NULL,
           'opened once per day, whatever the slot''s time');
SELECT is ((SELECT count (*) FROM case_events WHERE type = 'meeting.opened' AND grid = 'QNL.01'), 1::bigint,
           'one meeting.opened event');
SELECT isnt (gf_open_meeting ('QNL.01', 'monthly', '2026-10-12 09:00+08'), NULL,
             'another kind on the same day is another meeting');
SELECT ok (NOT EXISTS (SELECT 1 FROM gf_due_meetings () WHERE grid = 'QNL.01' AND slot = '2026-10-12 09:00+08'),
           'an opened meeting is no longer due');
SELECT ok (EXISTS (SELECT 1 FROM gf_due_meetings () WHERE grid = 'QNL.02' AND slot = '2026-10-09 14:30+08'),
           'an older slot not opened is still due');

-- The L1 monthly agenda: reported up, triage, by category and priority ------
SELECT isnt (gf_open_meeting ('QNL', 'monthly', '2026-10-12 09:00+08'), NULL, 'the monthly L1 meeting opens');
SELECT bag_eq (
    $$SELECT le.case_id, le.reason, le.carried_from FROM ledger_entries le JOIN meetings m ON m.id = le.meeting_id
       WHERE m.grid = 'QNL' AND m.kind = 'monthly' AND le.reason <> 'ledger'$$,
    $$VALUES (910003::bigint, 'reported_up', 910951::bigint), (910010, 'special', NULL), (910011, 'triage', NULL)$$,
    'L1''s agenda: the case an L2 decision reported up (with that decision), the special group''s, the unroutable one');
SELECT is ((SELECT decision_kind || ' ' || decision_grid || ' ' || decision_day || ' ' || decision_note
              FROM gf_meeting_agenda ((SELECT id FROM meetings WHERE grid = 'QNL' AND kind = 'monthly'))
             WHERE case_id = 910003),
           'report_up QNL.01 2026-10-09 涉及多个部门，报一级网格',
           'the agenda shows the L2 decision that reported the case up');
SELECT is ((SELECT count (*) FROM escalations), 0::bigint, 'nothing becomes L1''s case at the monthly slot');

-- The safety net -------------------------------------------------------------
-- (people decide on 910009 at the weekly meeting; the monthly one they close)
INSERT INTO meeting_decisions (meeting_id, case_id, kind, deadline, actor, request_id, at)
SELECT id, 910009, 'take_over', NULL, 'P-QNL.01-1', 'r4', '2026-10-12 10:00+08'
  FROM meetings WHERE grid = 'QNL.01' AND kind = 'weekly' AND day = '2026-10-12';
UPDATE meetings SET state = 'closed', closed_at = '2026-10-12 11:00+08', closed_by = 'P-QNL-1'
 WHERE grid = 'QNL' AND kind = 'monthly';
INSERT INTO sim_clock (at) VALUES ('2026-10-14 08:59+08') ON CONFLICT (id) DO UPDATE SET at = excluded.at;
SELECT is ((SELECT count (*) FROM gf_due_lapses () WHERE grid LIKE 'QNL.01%' OR grid = 'QNL'), 0::bigint,
           'nothing lapses before slot + close_within_hours (48)');
INSERT INTO sim_clock (at) VALUES ('2026-10-14 09:00+08') ON CONFLICT (id) DO UPDATE SET at = excluded.at;
SELECT results_eq (
    $$SELECT grid, kind, due FROM gf_due_lapses () WHERE grid LIKE 'QNL.01%' OR grid = 'QNL'$$,
    $$VALUES ('QNL.01', 'weekly', timestamptz '2026-10-14 09:00+08'), ('QNL.01', 'monthly', timestamptz '2026-10-14 09:00+08')$$,
    'at slot + 48 h the open weekly meeting (and the open monthly one) are due; not the closed one');
SELECT results_eq ($$SELECT meeting, root FROM gf_due_lapses (ARRAY['QNL', 'XYZ'])$$,
                   $$SELECT meeting, 'QNL' FROM gf_due_lapses ()$$,
                   'lapses of the roots held (QNL), each with its root');
SELECT is ((SELECT count (*) FROM gf_due_lapses (ARRAY['XYZ'])), 0::bigint,
           'another root''s escalator lapses none of QNL''s');
UPDATE escalation_rules SET params = params || '{"close_within_hours": 72}' WHERE root = '*' AND rule = 'weekly_l2';
SELECT is ((SELECT count (*) FROM gf_due_lapses () WHERE kind = 'weekly'), 0::bigint,
           'close_within_hours is the rule''s');
UPDATE escalation_rules SET params = params || '{"close_within_hours": 48}' WHERE root = '*' AND rule = 'weekly_l2';
SET LOCAL ROLE gf_escalator;
SELECT is (gf_lapse_meeting ((SELECT id FROM meetings WHERE grid = 'QNL.01' AND kind = 'weekly' AND day = '2026-10-12')), 1,
           'the safety net lapses it (as the escalator): one automatic escalation');
RESET ROLE;
SELECT results_eq (
    $$SELECT e.case_id, e.rule, e.to_level, e.automatic, e.at FROM escalations e ORDER BY e.case_id$$,
    $$VALUES (910008::bigint, 'weekly_l2', 2::smallint, true, timestamptz '2026-10-14 09:00+08')$$,
    'the old undecided case goes to L2, automatic, at the lapse; not the one people decided on, not the young ones');
SELECT is ((SELECT state || ' ' || automatic || ' ' || closed_at FROM meetings
             WHERE grid = 'QNL.01' AND kind = 'weekly' AND day = '2026-10-12'),
           'lapsed true ' || timestamptz '2026-10-14 09:00+08', 'the meeting is lapsed, automatic, closed at the lapse');
SELECT is ((SELECT payload->>'automatic' || ' ' || (payload->>'reason') FROM case_events
             WHERE case_id = 910008 AND type = 'case.escalated'),
           'true 例会逾期未结，自动升级：L3 未解决超过 2 个工作日', 'case.escalated says automatic, and why');
SELECT is ((SELECT escalated FROM ledger_entries le JOIN meetings m ON m.id = le.meeting_id
             WHERE m.grid = 'QNL.01' AND m.day = '2026-10-12' AND m.kind = 'weekly' AND le.case_id = 910008),
           true, 'the ledger line is marked escalated');
SELECT is ((SELECT how || ' ' || rule_name FROM gf_meeting_escalations (
              (SELECT id FROM meetings WHERE grid = 'QNL.01' AND kind = 'weekly' AND day = '2026-10-12'))),
           '自动升级 周例会升级至二级网格', 'the ledger says the escalation was automatic');
SELECT is ((SELECT payload - 'meeting' - 'slot_at' FROM case_events WHERE type = 'meeting.lapsed'),
           '{"kind": "weekly", "day": "2026-10-12", "automatic": true, "decided": 1, "escalated": 1, "digest": false}'::jsonb,
           'one meeting.lapsed event');
SELECT is ((SELECT payload - 'meeting' FROM case_events WHERE type = 'ledger.published'),
           '{"kind": "weekly", "entries": 6, "resolved": 1, "pending": 4, "hard": 1, "escalated": 1, "automatic": true}'::jsonb,
           'and ledger.published with the counts');
SELECT results_eq (
    $$SELECT n.case_id IS NULL, n.kind, n.recipient, n.audience, n.text FROM notifications n
       JOIN meetings m ON m.id = n.meeting_id WHERE m.grid = 'QNL.01' AND m.day = '2026-10-12'$$,
    $$SELECT true, 'meeting.lapsed', p.id, 'staff',
             '【例会提醒】网格 QNL.01（' || g.name || '）2026-10-12 周例会逾期未结，已按规则自动升级 1 件。'
        FROM people p JOIN grids g ON g.code = p.grid WHERE p.grid = 'QNL.01' AND p.role = 'leader'$$,
    'the lapse tells the L2 grid''s leader once, in its own transaction: kind, day, count; no case');
SELECT is ((SELECT count (*) FROM case_events WHERE type = 'notification.created' AND case_id IS NULL
               AND payload->>'kind' = 'meeting.lapsed'), 1::bigint, 'with one notification.created');
SELECT bag_eq (
    $$SELECT n.kind, n.recipient FROM notifications n WHERE n.case_id = 910008$$,
    $$VALUES ('escalated.to2', 'P-QNL.01-1'), ('escalated.to2', 'P-QNL.01.001-1')$$,
    'at or below digest_over (10) the escalated case is told as every escalation: the new and the previous owner''s leaders');
SELECT is (gf_lapse_meeting ((SELECT id FROM meetings WHERE grid = 'QNL.01' AND kind = 'weekly' AND day = '2026-10-12')), NULL,
           'lapsed once');
SELECT is (gf_notify_meetings (ARRAY (SELECT id FROM meetings WHERE grid = 'QNL.01' AND kind = 'weekly' AND day = '2026-10-12'), '{1}', '{f}'), 0,
           'told once: a second call (a retried lapse) tells nobody again');
SELECT throws_ok (
    $$INSERT INTO notifications (case_id, meeting_id, kind, recipient, audience, text, created_at)
      SELECT 910008, id, 'x', NULL, 'staff', 'x', now () FROM meetings WHERE grid = 'QNL.01' AND kind = 'weekly' AND day = '2026-10-12'$$,
    '23514', NULL, 'a notification is about exactly one of a case, a field reminder or a meeting');
SELECT is (gf_lapse_meeting ((SELECT id FROM meetings WHERE grid = 'QNL' AND kind = 'monthly')), NULL,
           'a meeting people closed is left alone');
SELECT is ((SELECT count (*) FROM escalations) || ' ' || (SELECT count (*) FROM case_events WHERE type = 'meeting.lapsed'),
           '1 1', 'no escalation for the meeting people closed');
SELECT is ((SELECT count (*) FROM notifications WHERE meeting_id IS NOT NULL), 1::bigint,
           'and no notice for it');

-- A lapse past digest_over (049): one digest per leader of the grids the
-- cases came from, no notice per case; each escalation still on the log.
INSERT INTO cases (id, source, source_ref, root, grid, state, tier, description, received_at, updated_at, level, groups)
VALUES (910012, 't', 'm12', 'QNL', 'QNL.03.021', 'signed', 'pending', 'd', '2026-09-28 10:00+08', NULL, 3, '{}'),
       (910013, 't', 'm13', 'QNL', 'QNL.03.021', 'signed', 'pending', 'd', '2026-09-28 11:00+08', NULL, 3, '{}'),
       (910014, 't', 'm14', 'QNL', 'QNL.03.022', 'signed', 'pending', 'd', '2026-09-29 10:00+08', NULL, 3, '{}');
UPDATE escalation_rules SET params = params || '{"digest_over": 2}' WHERE root = '*' AND rule = 'weekly_l2';
SET LOCAL ROLE gf_escalator;
SELECT is (gf_lapse_meeting (gf_open_meeting ('QNL.03', 'weekly', '2026-10-12 09:00+08')), 3,
           'a lapse of 3 escalations with digest_over 2 (as the escalator)');
RESET ROLE;
SELECT is ((SELECT count (*) FROM notifications WHERE case_id IN (910012, 910013, 910014)), 0::bigint,
           'past digest_over: no notice per case');
SELECT results_eq (
    $$SELECT n.kind, n.recipient, n.text FROM notifications n JOIN meetings m ON m.id = n.meeting_id
       WHERE m.grid = 'QNL.03' ORDER BY n.id$$,
    $$SELECT 'meeting.lapsed', 'P-QNL.03-1',
             '【例会提醒】网格 QNL.03（' || (SELECT name FROM grids WHERE code = 'QNL.03') || '）2026-10-12 周例会逾期未结，已按规则自动升级 3 件。'
      UNION ALL
      SELECT 'escalated.digest', 'P-QNL.03.021-1',
             '【升级汇总】2026-10-12 周例会逾期未结，网格 QNL.03.021（' || (SELECT name FROM grids WHERE code = 'QNL.03.021')
             || '）2 件案件已按规则自动升级至二级网格：910012、910013。详见例会台账。'
      UNION ALL
      SELECT 'escalated.digest', 'P-QNL.03.022-1',
             '【升级汇总】2026-10-12 周例会逾期未结，网格 QNL.03.022（' || (SELECT name FROM grids WHERE code = 'QNL.03.022')
             || '）1 件案件已按规则自动升级至二级网格：910014。详见例会台账。'$$,
    'the meeting grid''s leader gets the lapse notice, each L3 grid''s leader one digest of its own cases');
SELECT is ((SELECT string_agg (grid || ':' || (payload->>'kind'), ' ' ORDER BY seq) FROM case_events
             WHERE type = 'notification.created' AND case_id IS NULL AND grid LIKE 'QNL.03%'),
           'QNL.03:meeting.lapsed QNL.03.021:escalated.digest QNL.03.022:escalated.digest',
           'each with its notification.created, a digest''s on its own grid');
SELECT is ((SELECT count (*) FROM case_events WHERE type = 'case.escalated' AND case_id IN (910012, 910013, 910014)),
           3::bigint, 'each escalation has its case.escalated event');

-- Several grids' meetings at one slot, the window read once: one row per
-- grid in the order given, NULL for a meeting opened already.
INSERT INTO cases (id, source, source_ref, root, grid, state, tier, description, received_at, updated_at, level, groups)
VALUES (910015, 't', 'm15', 'QNL', 'QNL.04.031', 'signed', 'pending', 'd', '2026-10-01 10:00+08', NULL, 3, '{}');
SELECT results_eq (
    $$SELECT grid, meeting IS NOT NULL FROM gf_open_meetings (ARRAY['QNL.04', 'QNL.01', 'QNL.03'], 'weekly', '2026-10-12 09:00+08')$$,
    $$VALUES ('QNL.04', true), ('QNL.01', false), ('QNL.03', false)$$,
    'gf_open_meetings: each grid in order; the ones opened already NULL');
SELECT results_eq (
    $$SELECT le.case_id, le.reason, le.state FROM ledger_entries le JOIN meetings m ON m.id = le.meeting_id
       WHERE m.grid = 'QNL.04' AND m.kind = 'weekly'$$,
    $$VALUES (910015::bigint, 'ledger', 'signed')$$,
    'its agenda: the subtree''s open case, from the shared window');
SELECT throws_ok ($$SELECT * FROM gf_open_meetings (ARRAY['QNL.05', 'DFL.01'], 'weekly', '2026-10-12 09:00+08')$$,
                  '22023', NULL, 'one L1 root''s grids at a time (the window is the root''s)');

-- The root's window shared out to the meetings (grouped by each case's grid
-- at the meetings' depth) gives each meeting what its subtree reads alone
-- (gf_ledger_cases_at): a case closed in the period (from Friday 9 October,
-- the holiday-moved slot before, so touched), one changed
-- after the slot (later), one assigned from QNL.08 to QNL.09 in the period
-- (QNL.09's now), and a case of another root whose events name that root
-- only (nobody's).
INSERT INTO grids (code, level, parent, name) VALUES ('ABC', 1, NULL, '另一街道'),
    ('ABC.01', 2, 'ABC', '另一社区'), ('ABC.01.001', 3, 'ABC.01', '另一网格');
INSERT INTO cases (id, source, source_ref, root, grid, state, tier, description, received_at,
                   updated_at, level, groups)
VALUES (910016, 't', 'm16', 'QNL', 'QNL.08.068', 'closed', 'resolved', 'd', '2026-10-06 10:00+08', NULL, 3, '{}'),
       (910017, 't', 'm17', 'QNL', 'QNL.09.077', 'signed', 'hard', 'd', '2026-10-06 10:00+08', NULL, 3, '{}'),
       (910018, 't', 'm18', 'QNL', 'QNL.09.078', 'resolved', 'resolved', 'd', '2026-10-06 10:00+08', NULL, 3, '{}'),
       (910019, 't', 'm19', 'ABC', 'ABC.01.001', 'closed', 'resolved', 'd', '2026-10-06 10:00+08', NULL, 3, '{}');
INSERT INTO event_stage (type, topic, case_id, grid, at, payload) VALUES
    ('case.routed', 'case.routed/QNL.08.068', 910016, 'QNL.08.068', '2026-10-06 10:00+08', '{}'),
    ('case.closed', 'case.closed/QNL.08.068', 910016, 'QNL.08.068', '2026-10-10 10:00+08', '{"from": "called_back", "to": "closed"}'),
    ('case.routed', 'case.routed/QNL.09.077', 910017, 'QNL.09.077', '2026-10-06 10:00+08', '{}'),
    ('case.signed', 'case.signed/QNL.09.077', 910017, 'QNL.09.077', '2026-10-07 10:00+08', '{"from": "routed", "to": "signed"}'),
    ('case.classified', 'case.classified/QNL.09.077', 910017, 'QNL.09.077', '2026-10-13 10:00+08', '{"from": "signed", "to": "signed", "tier": "hard"}'),
    ('case.routed', 'case.routed/QNL.08.069', 910018, 'QNL.08.069', '2026-10-06 10:00+08', '{}'),
    ('case.assigned', 'case.assigned/QNL.09.078', 910018, 'QNL.09.078', '2026-10-10 10:00+08', '{"from": "routed", "to": "routed", "grid": "QNL.09.078"}'),
    ('case.resolved', 'case.resolved/QNL.09.078', 910018, 'QNL.09.078', '2026-10-11 10:00+08', '{"from": "signed", "to": "resolved"}'),
    ('case.routed', 'case.routed/ABC.01.001', 910019, 'ABC.01.001', '2026-10-06 10:00+08', '{}'),
    ('case.closed', 'case.closed/ABC.01.001', 910019, 'ABC.01.001', '2026-10-10 10:00+08', '{"from": "called_back", "to": "closed"}');
SELECT lives_ok ($$SELECT * FROM gf_open_meetings (ARRAY['QNL.08', 'QNL.09', 'QNL.10'], 'weekly', '2026-10-12 09:00+08')$$,
                 'three meetings opened together');
SELECT set_eq (
    $$SELECT le.case_id, m.grid, le.tier, le.state, le.level
        FROM ledger_entries le JOIN meetings m ON m.id = le.meeting_id
       WHERE m.grid IN ('QNL.08', 'QNL.09', 'QNL.10') AND m.kind = 'weekly'
         AND m.slot_at = '2026-10-12 09:00+08'$$,
    $$SELECT l.id, g, l.tier, l.state, l.level
        FROM unnest (ARRAY['QNL.08', 'QNL.09', 'QNL.10']) g
       CROSS JOIN LATERAL gf_ledger_cases_at (g, gf_meeting_period_from (g, 'weekly', '2026-10-12 09:00+08'),
                                              '2026-10-12 09:00+08') l
       WHERE l.state <> 'merged' AND (NOT gf_case_resolved (l.state) OR l.touched)$$,
    'gf_open_meetings: each meeting''s agenda as its subtree''s own read gives it');
SELECT results_eq (
    $$SELECT le.case_id, m.grid, le.tier, le.state
        FROM ledger_entries le JOIN meetings m ON m.id = le.meeting_id
       WHERE le.case_id BETWEEN 910016 AND 910019 ORDER BY le.case_id$$,
    $$VALUES (910016::bigint, 'QNL.08', 'resolved', 'closed'), (910017, 'QNL.09', 'pending', 'signed'),
             (910018, 'QNL.09', 'resolved', 'resolved')$$,
    'closed in the period: resolved; changed after the slot: as at the slot; assigned in the period: the new grid''s; another root''s: nobody''s');

-- Opened together, a case finds its meeting by the prefix of its grid's
-- code as long as the meetings' codes.  A grid whose code is of another
-- length (QNL.A01) is opened on its own (gf_open_meeting), and
-- gf_open_meetings_in itself takes one length only.
INSERT INTO grids (code, level, parent, name) VALUES ('QNL.A01', 2, 'QNL', '新社区'),
    ('QNL.A01.001', 3, 'QNL.A01', '新网格');
INSERT INTO cases (id, source, source_ref, root, grid, state, tier, description, received_at,
                   updated_at, level, groups)
VALUES (910020, 't', 'm20', 'QNL', 'QNL.A01.001', 'signed', 'pending', 'd', '2026-10-06 10:00+08', NULL, 3, '{}');
SELECT results_eq (
    $$SELECT grid, meeting IS NOT NULL FROM gf_open_meetings (ARRAY['QNL.11', 'QNL.A01'], 'weekly', '2026-10-12 09:00+08')$$,
    $$VALUES ('QNL.11', true), ('QNL.A01', true)$$,
    'gf_open_meetings: grids of two code lengths, each opened');
SELECT results_eq (
    $$SELECT m.grid, le.reason FROM ledger_entries le JOIN meetings m ON m.id = le.meeting_id
       WHERE le.case_id = 910020$$,
    $$VALUES ('QNL.A01', 'ledger')$$,
    'QNL.A01''s case on its own meeting''s agenda');
SELECT throws_ok ($$SELECT * FROM gf_open_meetings_in (ARRAY['QNL.12', 'QNL.A01'], 'weekly',
                      '2026-10-19 09:00+08', '2026-10-12 09:00+08', '{}', '{}')$$,
                  '22023', NULL, 'gf_open_meetings_in: grid codes of one length (its join)');

-- Several meetings lapsed in one call (the escalator's meetings of one root
-- due at one time): a row each in the order given, NULL for one lapsed
-- already; weekly meetings of distinct grids together (gf_lapse_batch), a
-- second meeting of one grid (missed weeks) after the first: a case the
-- first escalated is not the second's.
INSERT INTO cases (id, source, source_ref, root, grid, state, tier, description, received_at, updated_at, level, groups)
VALUES (910021, 't', 'm21', 'QNL', 'QNL.05.041', 'signed', 'pending', 'd', '2026-09-28 10:00+08', NULL, 3, '{}'),
       (910022, 't', 'm22', 'QNL', 'QNL.06.051', 'signed', 'pending', 'd', '2026-09-28 10:00+08', NULL, 3, '{}'),
       (910023, 't', 'm23', 'QNL', 'QNL.06.052', 'signed', 'pending', 'd', '2026-09-28 11:00+08', NULL, 3, '{}'),
       (910024, 't', 'm24', 'QNL', 'QNL.06.052', 'signed', 'pending', 'd', '2026-09-28 12:00+08', NULL, 3, '{}');
CREATE TEMP TABLE lm AS
SELECT gf_open_meeting ('QNL.05', 'weekly', '2026-10-12 09:00+08') AS a,
       gf_open_meeting ('QNL.06', 'weekly', '2026-10-12 09:00+08') AS b,
       gf_open_meeting ('QNL.05', 'weekly', '2026-10-19 09:00+08') AS c,
       (SELECT id FROM meetings WHERE grid = 'QNL.01' AND kind = 'weekly' AND day = '2026-10-12') AS d;
GRANT SELECT ON lm TO gf_escalator;
SET LOCAL ROLE gf_escalator;
SELECT results_eq (
    $$SELECT l.meeting, l.escalated FROM lm, gf_lapse_meetings (ARRAY[lm.a, lm.b, lm.d, lm.c]) l$$,
    $$SELECT lm.a, 1 FROM lm UNION ALL SELECT lm.b, 3 FROM lm UNION ALL SELECT lm.d, NULL FROM lm
      UNION ALL SELECT lm.c, 0 FROM lm$$,
    'gf_lapse_meetings: a row each in order; a lapsed meeting NULL; the later meeting of a grid finds its case moved');
RESET ROLE;
SELECT results_eq (
    $$SELECT e.case_id, e.meeting_id = CASE WHEN e.case_id = 910021 THEN lm.a ELSE lm.b END
        FROM escalations e, lm WHERE e.case_id BETWEEN 910021 AND 910024 ORDER BY e.case_id$$,
    $$VALUES (910021::bigint, true), (910022, true), (910023, true), (910024, true)$$,
    'each case escalated once, by its own grid''s meeting');
SELECT results_eq (
    $$SELECT m.grid || ' ' || m.day, e.payload->>'escalated', e.payload->>'digest'
        FROM case_events e JOIN meetings m ON m.id = (e.payload->>'meeting')::bigint, lm
       WHERE e.type = 'meeting.lapsed' AND m.id IN (lm.a, lm.b, lm.c) ORDER BY e.seq$$,
    $$VALUES ('QNL.05 2026-10-12', '1', 'false'), ('QNL.06 2026-10-12', '3', 'true'),
             ('QNL.05 2026-10-19', '0', 'false')$$,
    'a meeting.lapsed each, with its own count and digest (digest_over 2)');
SELECT bag_eq (
    $$SELECT n.kind, n.recipient FROM notifications n, lm
       WHERE n.meeting_id IN (lm.a, lm.b, lm.c) OR n.case_id BETWEEN 910021 AND 910024$$,
    $$VALUES ('meeting.lapsed', 'P-QNL.05-1'), ('escalated.to2', 'P-QNL.05-1'),
             ('escalated.to2', 'P-QNL.05.041-1'), ('meeting.lapsed', 'P-QNL.06-1'),
             ('escalated.digest', 'P-QNL.06.051-1'), ('escalated.digest', 'P-QNL.06.052-1'),
             ('meeting.lapsed', 'P-QNL.05-1')$$,
    'each meeting told as alone: QNL.05''s case per escalation, QNL.06''s by digest, the later meeting''s lapse too');

-- Planned for each call's own values (force_custom_plan): a session that
-- ran them five times would otherwise keep a generic plan whose guessed
-- set sizes (an array's unnest, a subtree's bounds) are tiny; at 100,000
-- cases that plan scanned a CTE once per row and the monthly L1 meeting
-- never finished within the escalator's 60 s statement timeout (make chaos,
-- seed 55206).
SELECT set_eq ($$SELECT p.proname::text FROM pg_proc p
                 WHERE p.proname IN ('gf_open_meeting', 'gf_open_meetings_in', 'gf_lapse_batch')
                   AND 'plan_cache_mode=force_custom_plan' = ANY (p.proconfig)$$,
               ARRAY['gf_open_meeting', 'gf_open_meetings_in', 'gf_lapse_batch'],
               'opening and lapsing a meeting are planned per call');
-- ... but a function's setting holds for every function and trigger it
-- calls: the lapse's notices (gf_notify_meetings) and their deliveries'
-- fan-out (gf_deliveries_fanout) read by key and say auto for themselves,
-- so that the escalator's session keeps their plans instead of planning
-- them again at every lapse (docs/performance.md, 7 Dec 2026).
SELECT set_eq ($$SELECT p.proname::text FROM pg_proc p
                 WHERE p.proname IN ('gf_notify_meetings', 'gf_deliveries_fanout')
                   AND 'plan_cache_mode=auto' = ANY (p.proconfig)$$,
               ARRAY['gf_notify_meetings', 'gf_deliveries_fanout'],
               'the lapse''s notices keep their plans under the lapse''s per-call planning');

SELECT * FROM finish ();
ROLLBACK;
