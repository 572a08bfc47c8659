-- pgTAP: deploy/sql/repeatable/triage.sql — cases waiting in L1 triage are
-- seen: the unroutable notice goes to the L1 grid's triage staff
-- (notification_rules audience l1_triage), the reminders come after the
-- triage_reminder rule's hours (urgent_hours; a slip's clock from its box
-- opening), the L1 leader after leader_factor times that, once each; the
-- deliveries keep the quiet hours; the escalator's role can run it.  On
-- cases of our own (rolled back).
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (16);

INSERT INTO sim_clock (at) VALUES ('2026-11-04 13:59+08')
    ON CONFLICT (id) DO UPDATE SET at = excluded.at;
CREATE FUNCTION pg_temp.c (p_ref text) RETURNS bigint LANGUAGE sql AS $$
    SELECT id FROM cases WHERE source_ref = p_ref
$$;
CREATE FUNCTION pg_temp.told (p_kind text) RETURNS SETOF text LANGUAGE sql AS $$
    SELECT c.source_ref || ' ' || n.recipient FROM notifications n JOIN cases c ON c.id = n.case_id
     WHERE n.kind = p_kind
$$;
-- Nothing else waits in triage in this database.
UPDATE cases SET state = 'closed' WHERE state = 'unroutable';

INSERT INTO cases (source, source_ref, root, grid, state, description, urgent, reported_at,
                   received_at, routed_at) VALUES
    ('hotline', 'U-A', 'QNL', 'QNL', 'unroutable', '地址不详', false, NULL,
     '2026-11-04 09:55+08', '2026-11-04 10:00+08'),
    ('hotline', 'U-URG', 'QNL', 'QNL', 'unroutable', '燃气味', true, NULL,
     '2026-11-04 12:50+08', '2026-11-04 12:58+08'),
    -- a slip transcribed today from a box opened two days ago
    ('suggestbox', 'B1/1762000000000/1', 'QNL', 'QNL', 'unroutable', '路灯不亮', false,
     '2026-11-02 09:00+08', '2026-11-04 13:30+08', '2026-11-04 13:31+08'),
    ('hotline', 'U-ROUTED', 'QNL', 'QNL.01.001', 'routed', 'x', false, NULL,
     '2026-11-01 09:00+08', '2026-11-01 09:01+08');

SELECT is (gf_triage_due ('unroutable', false, '2026-11-04 10:00+08', gf_rule ('QNL', 'triage_reminder')),
           '2026-11-04 14:00+08'::timestamptz, 'due: the rule''s hours (4) after it went to triage');
SELECT is (gf_triage_due ('unroutable', true, '2026-11-04 10:00+08', gf_rule ('QNL', 'triage_reminder')),
           '2026-11-04 11:00+08'::timestamptz, 'urgent: urgent_hours (1)');
SELECT is (gf_triage_due ('routed', false, '2026-11-04 10:00+08', gf_rule ('QNL', 'triage_reminder')),
           NULL, 'a case not in triage is never due');
SELECT is (gf_triage_due ('unroutable', false, '2026-11-04 10:00+08', NULL),
           '2026-11-04 14:00+08'::timestamptz, 'no rule: 4 hours');

-- The first notice: the notifier's case.unroutable, to the triage staff.
SELECT is (gf_notify_many ('notifier', jsonb_build_array (jsonb_build_object (
               'case_id', pg_temp.c ('U-A'), 'type', 'case.unroutable', 'grid', 'QNL'))), 1,
           'case.unroutable: one notification');
SELECT results_eq ($$SELECT recipient, text FROM notifications WHERE kind = 'case.unroutable'$$,
                   $$VALUES ('P-QNL-2', '【待分流】案件 ' || pg_temp.c ('U-A')
                             || '（未分类）（QNL 青年路街道）未能按地址分派到三级网格，请分流专员尽快分派。内容：地址不详。')$$,
                   'to the L1 grid''s triage staff (role triage), in Chinese');

-- 13:59: the urgent case (1 h) and the slip (from its box opening) are due.
SELECT is (gf_triage_reminders (gf_now (), ARRAY['XYZ']), 0,
           'an escalator holding another root reminds of none of QNL''s');
SELECT is (gf_triage_reminders (gf_now (), ARRAY['QNL']), 3,
           '13:59: the urgent case and the slip remind the triage staff; the slip (2 days) the L1 leader too');
SELECT bag_eq ($$SELECT * FROM pg_temp.told ('triage.reminder')$$,
               $$VALUES ('U-URG P-QNL-2'), ('B1/1762000000000/1 P-QNL-2')$$,
               'reminded: the urgent case after 1 h, the slip counted from its box opening');
SELECT is ((SELECT count (*)::int FROM notifications WHERE kind = 'triage.reminder.l1'
              AND case_id = pg_temp.c ('B1/1762000000000/1')), 1,
           'the slip waited 2 days: the L1 leader is told too');
SELECT is ((SELECT count (*)::int FROM notifications WHERE kind = 'triage.reminder.l1'
              AND case_id = pg_temp.c ('U-URG')), 0,
           'the urgent case waited 61 minutes, less than 3 hours: not the leader yet');
SELECT is (gf_triage_reminders (gf_now ()), 0, 'once per case, kind and recipient');

-- 14:00: U-A is 4 h in triage.
UPDATE sim_clock SET at = '2026-11-04 14:00+08';
SELECT is (gf_triage_reminders (gf_now ()), 1, '14:00: U-A (4 h) reminds the triage staff');
-- 22:00 (12 h: leader_factor 3 x 4 h): the L1 leader, at night.
UPDATE sim_clock SET at = '2026-11-04 22:00+08';
SELECT is (gf_triage_reminders (gf_now ()), 2,
           '22:00: U-A (12 h) and the urgent case (9 h) reach the L1 leader');
SELECT is ((SELECT min (d.not_before) FROM deliveries d JOIN notifications n ON n.id = d.notification
             WHERE n.kind = 'triage.reminder.l1' AND n.case_id = pg_temp.c ('U-A')),
           '2026-11-05 08:00+08'::timestamptz,
           'a reminder made at 22:00 waits for the working day (quiet hours)');

-- The escalator's role runs it (SECURITY INVOKER).
UPDATE sim_clock SET at = '2026-11-06 22:00+08';
INSERT INTO cases (source, source_ref, root, grid, state, description, urgent, received_at, routed_at)
VALUES ('hotline', 'U-LATE', 'QNL', 'QNL', 'unroutable', 'x', false, '2026-11-05 09:00+08',
        '2026-11-05 09:00+08');
SET LOCAL ROLE gf_escalator;
SELECT is (gf_triage_reminders (gf_now ()), 2, 'as gf_escalator: U-LATE to the triage staff and the L1 leader');
RESET ROLE;

SELECT * FROM finish ();
ROLLBACK;
