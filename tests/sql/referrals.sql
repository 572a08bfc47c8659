-- pgTAP: deploy/sql/repeatable/referrals.sql — departments (upsert, import,
-- usable per L1 grid), the referral record every refer makes (through
-- gf_case_act, the one path of staff actions and meeting decisions), its
-- deadline in working days (the department's, the rule's, explicit), the
-- receipt (once, at a sane time), the reply recorded on it, the lateness
-- reminder (once) and the escalation to L2 (rule parameter, once), and the
-- roles that run it.  On cases of our own (rolled back).
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (25);
\ir fixtures/as_role.sql
\ir fixtures/national_day_2026.sql

INSERT INTO sim_clock (at) VALUES ('2026-09-28 10:00+08')
    ON CONFLICT (id) DO UPDATE SET at = excluded.at;
CREATE FUNCTION pg_temp.c (p_ref text) RETURNS bigint LANGUAGE sql AS $$
    SELECT id FROM cases WHERE source_ref = p_ref
$$;
-- A refer as the intake applies it (gf_case_act), at the clock's time.
CREATE FUNCTION pg_temp.refer (p_ref text, p_dept text) RETURNS integer LANGUAGE sql AS $$
    SELECT gf_case_act (pg_temp.c (p_ref), p_ref || '-refer', 'P-QNL.07.063-1', 'refer',
                        'signed', 'referred', 'case.referred', NULL, '代居民反映：' || p_ref,
                        NULL, NULL, NULL, NULL, p_dept, NULL, NULL)
$$;

INSERT INTO cases (source, source_ref, root, grid, state, description, received_at, routed_at) VALUES
    ('hotline', 'RF-A', 'QNL', 'QNL.07.063', 'signed', '路灯不亮', '2026-09-28 09:00+08', '2026-09-28 09:05+08'),
    ('hotline', 'RF-B', 'QNL', 'QNL.07.063', 'signed', '占道经营', '2026-09-28 09:00+08', '2026-09-28 09:05+08');

SELECT is (gf_department_upsert ('GDS', '供电所', '王工', '0371-1234567', NULL, NULL), 'GDS',
           'a department is added');
SELECT is (gf_department_import ('[{"code": "CGZF", "name": "城管执法中队", "contact": "李队",
                                    "reply_working_days": 2},
                                   {"code": "XQ2", "name": "别区水务", "root": "ZZZ"}]'), 2,
           'departments are imported from JSON');
SELECT throws_ok ($$SELECT gf_department_upsert ('bad code', 'x', NULL, NULL, NULL, NULL)$$,
                  '23514', NULL, 'a code with a space is refused');
SELECT ok (gf_department_usable ('GDS', 'QNL') AND NOT gf_department_usable ('XQ2', 'QNL')
           AND NOT gf_department_usable ('NOPE', 'QNL'),
           'usable: every root''s, not another L1 grid''s, not an unknown one');

-- Deadlines: the rule's 3 working days across the National Day holiday;
-- the department's own 2.
SELECT is (gf_referral_deadline ('GDS', 'QNL', '2026-09-28 10:00+08'),
           timestamptz '2026-10-09 10:00+08',
           'GDS (rule: 3 working days) from Monday 28 September: across the holiday, 9 October');
SELECT is (gf_referral_deadline ('CGZF', 'QNL', '2026-09-28 10:00+08'),
           timestamptz '2026-09-30 10:00+08', 'CGZF''s own 2 working days');

SELECT ok (pg_temp.refer ('RF-A', 'GDS') > 0, 'refer A to GDS through gf_case_act');
SELECT results_eq ($$SELECT department, referred_by, report, deadline, received_at IS NULL, replied_at IS NULL
                       FROM referrals WHERE case_id = pg_temp.c ('RF-A')$$,
                   $$VALUES ('GDS', 'P-QNL.07.063-1', '代居民反映：RF-A',
                             timestamptz '2026-10-09 10:00+08', true, true)$$,
                   'the refer made its referral: department, who, the report, the deadline');
SELECT throws_ok ($$SELECT pg_temp.refer ('RF-B', 'NOPE')$$, '23503', NULL,
                  'an unknown department fails the action (nothing stored)');
SELECT is ((SELECT count (*)::int FROM referrals WHERE case_id = pg_temp.c ('RF-B')), 0,
           'no referral for the refused refer');
SELECT ok (pg_temp.refer ('RF-B', 'CGZF') > 0, 'refer B to CGZF');
SELECT ok (gf_referral_set_deadline (pg_temp.c ('RF-B'), '2026-09-29 10:00+08'),
           'an explicit deadline');

-- The receipt.
SELECT throws_ok ($$SELECT gf_referral_receipt (pg_temp.c ('RF-A'), 'A-r0', 'P-QNL.07.063-1', '王工',
                                                '2026-09-28 09:00+08', 'leader', 'P-QNL.07.063-1')$$,
                  'GF002', NULL, 'a receipt before the referral is refused');
SELECT ok (gf_referral_receipt (pg_temp.c ('RF-A'), 'A-r1', 'P-QNL.07.063-1', '王工',
                                '2026-09-28 10:00+08', 'leader', 'P-QNL.07.063-1') > 0,
           'the leader records the contact''s receipt');
SELECT results_eq ($$SELECT received_by, receipt_via, (SELECT type FROM case_events WHERE case_id = r.case_id ORDER BY id DESC LIMIT 1)
                       FROM referrals r WHERE case_id = pg_temp.c ('RF-A')$$,
                   $$VALUES ('王工', 'leader', 'referral.received')$$,
                   'stored with the contact and how, and a referral.received event');
SELECT throws_ok ($$SELECT gf_referral_receipt (pg_temp.c ('RF-A'), 'A-r2', 'GDS', '张三', NULL,
                                                'department', 'gds-id')$$,
                  'GF001', NULL, 'a second receipt is refused');

-- Late: B's explicit deadline passes.
UPDATE sim_clock SET at = '2026-09-29 10:30+08';
SELECT is (gf_referrals_overdue (ARRAY['XYZ']), 0, 'another root''s escalator: not QNL''s referral');
SELECT is (gf_referrals_overdue (ARRAY['QNL']), 1, 'B past its deadline: one reminder (A is not due)');
SELECT results_eq ($$SELECT n.kind, n.recipient FROM notifications n WHERE n.case_id = pg_temp.c ('RF-B')
                       AND n.kind LIKE 'referral.overdue.%'$$,
                   $$SELECT 'referral.overdue.' || r.action_id, 'P-QNL.07.063-1' FROM referrals r
                       WHERE r.case_id = pg_temp.c ('RF-B')$$,
                   'the reminder goes to the grid''s leader, keyed by the refer');
SELECT is (gf_referrals_overdue (), 0, 'not repeated');
-- Two working days after the deadline (the rule's l2_after_working_days): to L2.
UPDATE sim_clock SET at = '2026-10-09 10:30+08';
SELECT is (gf_referrals_overdue (), 2,
           'B two working days late: escalated; A just past its deadline: reminded, not escalated');
SELECT results_eq ($$SELECT c.level, e.rule FROM cases c JOIN escalations e ON e.case_id = c.id
                      WHERE c.id = pg_temp.c ('RF-B')$$,
                   $$VALUES (2::smallint, 'referral_l2')$$, 'B is at L2 under rule referral_l2');

-- The reply is recorded on the open referral.
SELECT ok (gf_case_act (pg_temp.c ('RF-A'), 'A-reply', 'P-QNL.07.063-1', 'reply', 'referred',
                        'replied', 'case.department_replied', NULL, '供电所：已更换', NULL, NULL,
                        NULL, NULL, NULL, NULL, NULL) > 0, 'A replied');
SELECT results_eq ($$SELECT reply, replied_by FROM referrals WHERE case_id = pg_temp.c ('RF-A')$$,
                   $$VALUES ('供电所：已更换', 'P-QNL.07.063-1')$$, 'the reply is on the referral');

SELECT is (pg_temp.as_role ('gf_escalator', 'SELECT gf_referrals_overdue ()'), '00000',
           'the escalator may run the referral step');
SELECT * FROM finish ();
ROLLBACK;
