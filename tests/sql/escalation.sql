-- pgTAP: deploy/sql/repeatable/escalation.sql — the candidates of the weekly
-- rule (open at L3 past the working-day grace, by the calendar), the monthly
-- rule (L2 cases on a weekly ledger, hard cases) and the urgent rule (24 h to
-- L2, 72 h to L1; urgent cases, special groups only where the rule says so),
-- gf_escalate_many / gf_escalate_urgent moving a case once (automatic where
-- the rules did it), the special groups' own sign-for reminder, and the plan
-- (nothing at a slot, the safety net's candidates at its lapse).  On a
-- calendar of our own (rolled back).
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (50);

\ir fixtures/national_day_2026.sql
INSERT INTO sim_clock (at) VALUES ('2026-10-12 09:00+08') ON CONFLICT (id) DO UPDATE SET at = excluded.at;

INSERT INTO cases (id, source, source_ref, root, grid, state, tier, level, urgent, groups,
                   description, received_at)
VALUES
    -- weekly (QNL.01, slot Monday 12 October 09:00, grace 2 working days)
    (920001, 't', 'e1', 'QNL', 'QNL.01.001', 'signed', 'pending', 3, false, '{}', 'd', '2026-09-30 10:00+08'),   -- due 10 Oct 10:00
    (920002, 't', 'e2', 'QNL', 'QNL.01.001', 'signed', 'pending', 3, false, '{}', 'd', '2026-10-09 10:00+08'),   -- due 12 Oct 10:00
    (920003, 't', 'e3', 'QNL', 'QNL.01.002', 'routed', 'pending', 3, false, '{}', 'd', '2026-10-09 08:00+08'),   -- due 12 Oct 08:00
    (920004, 't', 'e4', 'QNL', 'QNL.01.001', 'resolved', 'resolved', 3, false, '{}', 'd', '2026-09-30 10:00+08'),
    (920005, 't', 'e5', 'QNL', 'QNL.01.001', 'signed', 'pending', 2, false, '{}', 'd', '2026-09-30 10:00+08'),
    (920006, 't', 'e6', 'QNL', 'QNL.01.001', 'signed', 'pending', 3, false, '{}', 'd', '2026-10-10 08:00+08'),   -- make-up Saturday
    (920007, 't', 'e7', 'QNL', 'QNL.02.011', 'signed', 'pending', 3, false, '{}', 'd', '2026-09-30 10:00+08'),   -- another L2 grid
    (920008, 't', 'e8', 'QNL', 'QNL.01.001', 'merged', 'pending', 3, false, '{}', 'd', '2026-09-30 10:00+08'),
    -- monthly (QNL, slot 12 October 09:00)
    (920011, 't', 'e11', 'QNL', 'QNL.03.021', 'signed', 'pending', 2, false, '{}', 'd', '2026-09-01 10:00+08'),  -- on a weekly ledger
    (920012, 't', 'e12', 'QNL', 'QNL.03.021', 'signed', 'hard', 3, false, '{}', 'd', '2026-09-01 10:00+08'),     -- hard
    (920013, 't', 'e13', 'QNL', 'QNL.03.021', 'signed', 'pending', 2, false, '{}', 'd', '2026-09-01 10:00+08'),  -- on no ledger
    (920014, 't', 'e14', 'QNL', 'QNL.03.021', 'signed', 'hard', 1, false, '{}', 'd', '2026-09-01 10:00+08'),     -- at L1 already
    (920015, 't', 'e15', 'QNL', 'QNL.03.021', 'called_back', 'resolved', 2, false, '{}', 'd', '2026-09-01 10:00+08'),
    (920016, 't', 'e16', 'QNL', 'QNL.03.021', 'signed', 'pending', 2, false, '{}', 'd', '2026-09-01 10:00+08'),  -- on a later ledger
    -- urgent (at 12 October 09:00)
    (920021, 't', 'e21', 'QNL', 'QNL.04.031', 'routed', 'pending', 3, true, '{}', 'd', '2026-10-11 08:00+08'),          -- 25 h
    (920022, 't', 'e22', 'QNL', 'QNL.04.031', 'routed', 'pending', 3, false, '{dibao}', 'd', '2026-10-09 08:00+08'),    -- 73 h
    (920023, 't', 'e23', 'QNL', 'QNL.04.031', 'routed', 'pending', 3, true, '{}', 'd', '2026-10-11 10:00+08'),          -- 23 h
    (920024, 't', 'e24', 'QNL', 'QNL.04.031', 'signed', 'pending', 2, true, '{}', 'd', '2026-10-09 08:00+08'),          -- 73 h at L2
    (920025, 't', 'e25', 'QNL', 'QNL.04.031', 'resolved', 'resolved', 3, true, '{}', 'd', '2026-10-01 08:00+08');
INSERT INTO meetings (id, grid, kind, day, slot_at, held_at, period_from) VALUES
    (920901, 'QNL.03', 'weekly', '2026-09-28', '2026-09-28 09:00+08', '2026-09-28 09:00+08', '2026-09-21 09:00+08'),
    (920902, 'QNL.03', 'weekly', '2026-10-19', '2026-10-19 09:00+08', '2026-10-19 09:00+08', '2026-10-12 09:00+08');
INSERT INTO ledger_entries (meeting_id, case_id, tier, state, level, priority, age_days, owner) VALUES
    (920901, 920011, 'pending', 'signed', 2, '', 27, 'QNL.03.021'),
    (920901, 920015, 'pending', 'signed', 2, '', 27, 'QNL.03.021'),
    (920902, 920016, 'pending', 'signed', 2, '', 48, 'QNL.03.021');

-- Weekly -------------------------------------------------------------------
SELECT bag_eq (
    $$SELECT case_id FROM gf_weekly_candidates ('QNL.01', '2026-10-12 09:00+08')$$,
    $$VALUES (920001::bigint), (920003)$$,
    'weekly: open L3 cases of the L2 subtree past 2 working days (the holiday and the make-up Saturday counted right)');
SELECT is ((SELECT reason FROM gf_weekly_candidates ('QNL.01', '2026-10-12 09:00+08') WHERE case_id = 920001),
           'L3 未解决超过 2 个工作日', 'the weekly reason names the grace');
SELECT ok (NOT EXISTS (SELECT 1 FROM gf_weekly_candidates ('QNL.01', '2026-10-12 09:00+08') WHERE case_id = 920002),
           'received Friday 10:00: due Monday 10:00, not yet at the 09:00 slot');
SELECT bag_eq (
    $$SELECT case_id FROM gf_weekly_candidates ('QNL.01', '2026-10-13 10:00+08')$$,
    $$VALUES (920001::bigint), (920002), (920003), (920006)$$,
    'a day later: Friday 10:00 is due, and the make-up Saturday''s case (a working day: due Tuesday 08:00)');
SELECT bag_eq (
    $$SELECT case_id FROM gf_weekly_candidates ('QNL.01', '2026-10-12 09:00+08',
                                                ARRAY[920001, 920002, 920004, 920005, 920007]::bigint[])$$,
    $$VALUES (920001::bigint)$$,
    'given the cases open at L3 at the slot (an agenda''s): the rule still wants the live row open at L3, in the subtree, past the grace');
UPDATE escalation_rules SET params = params || '{"grace_working_days": 1}' WHERE root = '*' AND rule = 'weekly_l2';
SELECT bag_eq (
    $$SELECT case_id FROM gf_weekly_candidates ('QNL.01', '2026-10-12 09:00+08')$$,
    $$VALUES (920001::bigint), (920002), (920003), (920006)$$,
    'the grace is the rule''s: with 1 working day, Friday''s and the make-up Saturday''s cases are due on Monday');
UPDATE escalation_rules SET params = params || '{"grace_working_days": 2}' WHERE root = '*' AND rule = 'weekly_l2';

-- Monthly ------------------------------------------------------------------
SELECT bag_eq (
    $$SELECT case_id, reason FROM gf_monthly_candidates ('QNL', '2026-10-12 09:00+08') WHERE case_id BETWEEN 920011 AND 920016$$,
    $$VALUES (920011::bigint, 'L2 周例会台账上未解决'), (920012, '难解决')$$,
    'monthly: open L2 cases on a weekly ledger by the slot, and hard cases; not at L1, not resolved');
SELECT ok (EXISTS (SELECT 1 FROM gf_monthly_candidates ('QNL', '2026-10-19 09:00+08') WHERE case_id = 920016),
           'a later slot sees the later ledger');

-- Urgent -------------------------------------------------------------------
SELECT bag_eq (
    $$SELECT case_id, to_level FROM gf_urgent_candidates ('2026-10-12 09:00+08') WHERE case_id BETWEEN 920021 AND 920025$$,
    $$VALUES (920021::bigint, 2::smallint), (920024, 1::smallint)$$,
    'urgent: urgent cases open 24 h (to L2) and 72 h (to L1), from below that level; not the special-group case');
SELECT is ((SELECT reason FROM gf_urgent_candidates ('2026-10-12 09:00+08') WHERE case_id = 920021),
           '紧急诉求 24 小时未办结', 'the urgent reason names the hours');
UPDATE escalation_rules SET params = params || '{"special_groups": true}' WHERE root = '*' AND rule = 'urgent';
SELECT bag_eq (
    $$SELECT case_id, to_level FROM gf_urgent_candidates ('2026-10-12 09:00+08') WHERE case_id = 920022$$,
    $$VALUES (920022::bigint, 2::smallint), (920022, 1::smallint)$$,
    'an office whose urgent rule says special_groups: true escalates special-group cases like urgent ones');
SELECT is ((SELECT reason FROM gf_urgent_candidates ('2026-10-12 09:00+08') WHERE case_id = 920022 AND to_level = 1),
           '重点人群诉求 72 小时未办结', 'with its own reason');
UPDATE escalation_rules SET params = params || '{"special_groups": false}' WHERE root = '*' AND rule = 'urgent';
SELECT is ((SELECT (params->>'special_groups')::boolean FROM escalation_rules WHERE root = '*' AND rule = 'urgent'),
           false, 'the default rule: special groups are attention, not escalation');
-- 028: a slip's clock starts at its box opening (gf_clock_start): a
-- urgent slip transcribed 1 h ago from a box opened 25 h ago is due
-- for L2; a call received at the same time with the same reported_at is not.
INSERT INTO cases (id, source, source_ref, root, grid, state, description, groups, urgent,
                   reported_at, received_at, routed_at) VALUES
    (920031, 'suggestbox', 'B-ESC/1/1', 'QNL', 'QNL.01.001', 'signed', 'x', '{}', true,
     '2026-10-11 08:00+08', '2026-10-12 08:00+08', '2026-10-12 08:01+08'),
    (920032, 'hotline', 'H-ESC', 'QNL', 'QNL.01.001', 'signed', 'x', '{}', true,
     '2026-10-11 08:00+08', '2026-10-12 08:00+08', '2026-10-12 08:01+08');
SELECT bag_eq (
    $$SELECT case_id, to_level FROM gf_urgent_candidates ('2026-10-12 09:00+08') WHERE case_id IN (920031, 920032)$$,
    $$VALUES (920031::bigint, 2::smallint)$$,
    'a slip''s escalation clock starts at its box opening (25 h): to L2; the call''s at its receipt (1 h)');
DELETE FROM cases WHERE id IN (920031, 920032);
UPDATE escalation_rules SET enabled = false WHERE root = '*' AND rule = 'urgent';
SELECT is ((SELECT count (*) FROM gf_urgent_candidates ('2026-10-12 09:00+08')), 0::bigint,
           'no urgent rule enabled: no urgent candidate');
UPDATE escalation_rules SET enabled = true WHERE root = '*' AND rule = 'urgent';

-- Moving cases once --------------------------------------------------------
\ir fixtures/function_calls.sql
SET LOCAL track_functions = 'all';
CREATE TEMP TABLE now_calls AS SELECT pg_temp.calls ('gf_now') AS n;
SELECT is (gf_escalate_many ('weekly_l2', NULL, 2::smallint, '{920001,920003,920005}', '{r1,r3,r5}'), 2,
           'gf_escalate_many moves the cases below the level (not the one at L2 already)');
SELECT cmp_ok (pg_temp.calls ('gf_now') - (SELECT n FROM now_calls), '<=', 2::bigint,
               'the business time read once for the escalations and once for their notices, not per case');
SELECT results_eq ($$SELECT id, level, version FROM cases WHERE id IN (920001, 920003, 920005) ORDER BY id$$,
                   $$VALUES (920001::bigint, 2::smallint, 2), (920003, 2::smallint, 2), (920005, 2::smallint, 1)$$,
                   'level and version of the moved cases; the other untouched');
SELECT is ((SELECT payload - 'owner' - 'version' FROM case_events WHERE case_id = 920003 AND type = 'case.escalated'),
           '{"rule": "weekly_l2", "meeting": null, "from_level": 3, "to_level": 2, "reason": "r3", "automatic": false}'::jsonb,
           'the case.escalated event (not automatic unless the caller says so)');
SELECT is ((SELECT payload->>'owner' FROM case_events WHERE case_id = 920003 AND type = 'case.escalated'),
           'QNL.01', 'the new owner is the L2 grid');
SELECT is ((SELECT at FROM escalations WHERE case_id = 920001), timestamptz '2026-10-12 09:00+08',
           'the escalation record at the simulated clock');
SELECT is (gf_escalate_many ('weekly_l2', NULL, 2::smallint, '{920001,920003}', '{r1,r3}'), 0,
           'the same rule again moves nothing');
SELECT is ((SELECT count (*) FROM case_events WHERE case_id IN (920001, 920003) AND type = 'case.escalated'), 2::bigint,
           'one case.escalated event each');
-- Nothing to move (an idle tick's urgent check): not a statement run, nor
-- the notices' (planned per call under force_custom_plan: 7 ms a tick).
CREATE TEMP TABLE notify_calls AS SELECT pg_temp.calls ('gf_notify_many') AS n;
SELECT is (gf_escalate_many ('urgent_l2', NULL, 2::smallint, '{}', '{}', true), 0, 'nothing to move: 0');
SELECT is (gf_escalate_many ('urgent_l2', NULL, 2::smallint, NULL, NULL, true), 0, 'no list: 0');
SELECT is (pg_temp.calls ('gf_notify_many') - (SELECT n FROM notify_calls), 0::bigint,
           'nothing moved: gf_notify_many not called');
SELECT is (gf_notify_many ('escalator', '[]'), 0, 'gf_notify_many of no occasion: 0');
UPDATE cases SET level = 3 WHERE id = 920001;
SELECT is (gf_escalate_many ('weekly_l2', NULL, 2::smallint, '{920001}', '{r1}'), 0,
           'once per case, rule and meeting, even back at L3');
SELECT is (gf_escalate_many ('monthly_l1', NULL, 1::smallint, '{920003}', '{r3}'), 1,
           'another rule moves it on');
SELECT is (gf_escalate_many ('weekly_l2', NULL, 2::smallint, NULL, NULL), 0, 'no candidates: nothing moves');

SELECT is (gf_escalate_many ('weekly_l2', 920901, 2::smallint, '{920006}', '{r6}', true), 1,
           'an escalation the rules made');
SELECT is ((SELECT automatic FROM escalations WHERE case_id = 920006), true, 'is marked automatic');
SELECT is ((SELECT payload->'automatic' FROM case_events WHERE case_id = 920006 AND type = 'case.escalated'),
           'true'::jsonb, 'and so is its case.escalated event');
SELECT is ((SELECT automatic FROM escalations WHERE case_id = 920003 AND rule = 'monthly_l1'), false,
           'one made without saying so is not');

SELECT is (gf_escalate_urgent ('2026-10-12 09:00+08', ARRAY['XYZ']), 0,
           'gf_escalate_urgent for another root: none of QNL''s moves');
SELECT is ((SELECT count (*) FROM gf_urgent_candidates ('2026-10-12 09:00+08', ARRAY['QNL'])),
           (SELECT count (*) FROM gf_urgent_candidates ('2026-10-12 09:00+08')),
           'the candidates of the root QNL are all of them here');
SELECT is (gf_escalate_urgent ('2026-10-12 09:00+08', ARRAY['QNL']), 2,
           'gf_escalate_urgent: one to L2, and one at L2 to L1; the special-group case stays');
SELECT results_eq ($$SELECT id, level FROM cases WHERE id BETWEEN 920021 AND 920025 ORDER BY id$$,
                   $$VALUES (920021::bigint, 2::smallint), (920022, 3::smallint), (920023, 3::smallint),
                            (920024, 1::smallint), (920025, 3::smallint)$$,
                   'the urgent cases'' levels');
SELECT is ((SELECT bool_and (automatic) FROM escalations WHERE rule LIKE 'urgent%'), true,
           'urgent escalations are automatic');
SELECT is (gf_escalate_urgent ('2026-10-12 09:00+08'), 0, 'the next tick moves nothing');
SET LOCAL ROLE gf_escalator;
SELECT is (gf_escalate_urgent ('2026-10-15 09:00+08'), 3,
           'as the escalator, three days later: the 25 h case to L1, the 23 h case to L2 and L1');
RESET ROLE;

-- Special groups: their own, shorter sign-for reminder ------------------------
DELETE FROM deliveries;
DELETE FROM notifications;
INSERT INTO cases (id, source, source_ref, root, grid, state, tier, level, urgent, groups,
                   description, received_at, routed_at)
VALUES (920031, 't', 'e31', 'QNL', 'QNL.05.041', 'routed', 'pending', 3, false, '{petitioner}', 'd',
        '2026-10-15 08:00+08', '2026-10-15 08:00+08'),
       (920032, 't', 'e32', 'QNL', 'QNL.05.041', 'routed', 'pending', 3, false, '{}', 'd',
        '2026-10-15 08:00+08', '2026-10-15 08:00+08');
SELECT lives_ok ($$SELECT gf_sign_reminders ('2026-10-15 19:59+08')$$, 'the reminders just before 12 h');
SELECT is ((SELECT count (*) FROM notifications WHERE case_id IN (920031, 920032)), 0::bigint,
           'nothing before the special hours (12)');
SELECT lives_ok ($$SELECT gf_sign_reminders ('2026-10-15 20:00+08')$$, 'the reminders at 12 h');
SELECT is ((SELECT array_agg (DISTINCT case_id) FROM notifications WHERE kind = 'sign.reminder'
             AND case_id IN (920031, 920032)),
           ARRAY[920031::bigint], 'the special-group case''s leader is reminded at 12 h, the other case not yet');
SELECT lives_ok ($$SELECT gf_sign_reminders ('2026-10-16 08:00+08')$$, 'the reminders at 24 h');
SELECT is ((SELECT count (*) FROM notifications WHERE kind = 'sign.reminder' AND case_id = 920031)
           || ' ' || (SELECT count (*) FROM notifications WHERE kind = 'sign.reminder' AND case_id = 920032),
           '1 1', 'at 24 h the other case too; the special-group case is not reminded twice');

-- Planned for each call's own values (force_custom_plan): a session that
-- ran them five times would otherwise keep a generic plan whose guessed
-- set sizes (an array's unnest, a subtree's bounds) are tiny; at 100,000
-- cases that plan scanned a CTE once per row and the monthly L1 meeting
-- never finished within the escalator's 60 s statement timeout (make chaos,
-- seed 55206).
SELECT set_eq ($$SELECT p.proname::text FROM pg_proc p
                 WHERE p.proname IN ('gf_escalate_each', 'gf_escalate_urgent')
                   AND 'plan_cache_mode=force_custom_plan' = ANY (p.proconfig)$$,
               ARRAY['gf_escalate_each', 'gf_escalate_urgent'], 'the set-wide escalations are planned per call');

-- An escalation changes no indexed column of cases, nor its agenda line's
-- mark of ledger_entries: with room left on their pages (055) both stay on
-- the page, without new index entries (HOT).
SELECT is ((SELECT array_agg (c.relname || ':' || o ORDER BY c.relname) FROM pg_class c, unnest (c.reloptions) o
             WHERE c.relname IN ('cases', 'ledger_entries') AND o LIKE 'fillfactor=%'),
           ARRAY['cases:fillfactor=85', 'ledger_entries:fillfactor=85'], 'cases and ledger lines keep room for updates');

-- A meeting's escalations are read by meeting (the lapse's digest, the
-- ledger, the reports): an index serves it (053), not a scan of every
-- escalation ever made.  (Seq scans off: on this suite's few rows the
-- planner would rightly scan.)
CREATE FUNCTION pg_temp.by_meeting_plan () RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXPLAIN (COSTS OFF) SELECT count (*) FROM escalations WHERE meeting_id = 1;
END
$$;
SET LOCAL enable_seqscan = off;
SELECT ok ((SELECT string_agg (p, ' ') FROM pg_temp.by_meeting_plan () p) LIKE '%escalations_meeting%',
           'escalations by meeting: the escalations_meeting index');
RESET enable_seqscan;

SELECT * FROM finish ();
ROLLBACK;
