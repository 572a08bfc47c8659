-- pgTAP: deploy/sql/repeatable/notify.sql — notification_rules decide who is
-- told what for every occasion (the notifier's events, escalations, sign-for
-- reminders, overdue referrals), a disabled rule sends nothing, the texts
-- (one renderer, masked phone, the sign-for deadline of the one overdue
-- rule), one notification.created payload shape, once per (case, kind,
-- recipient), and the services' roles can run it.  On cases of our own
-- (rolled back).
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (56);

INSERT INTO sim_clock (at) VALUES ('2026-11-04 10:00+08')
    ON CONFLICT (id) DO UPDATE SET at = excluded.at;
CREATE FUNCTION pg_temp.c (p_ref text) RETURNS bigint LANGUAGE sql AS $$
    SELECT id FROM cases WHERE source_ref = p_ref
$$;
-- The one payload shape of notification.created (gf_notification_payload).
SELECT is (gf_notification_payload (7, 3, 'case.routed', 'P-QNL.07.063-1', 'leader', '新案件'),
           '{"notification": 7, "case": 3, "kind": "case.routed", "recipient": "P-QNL.07.063-1",
             "role": "leader", "text": "新案件"}'::jsonb, 'the payload: the recipient''s role as the caller read it');
SELECT is (gf_notification_payload (8, NULL, 'case.received', NULL, NULL, '回执'),
           '{"notification": 8, "case": null, "kind": "case.received", "recipient": null,
             "role": "resident", "text": "回执"}'::jsonb, 'a text to the resident: role resident, a notice without a case: case null');
-- One occasion as the callers pass it.
CREATE FUNCTION pg_temp.occ (p_ref text, p_type text, p_extra jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE sql AS $$
    SELECT jsonb_build_array (jsonb_build_object ('case_id', c.id, 'type', p_type, 'grid', c.grid)
                              || p_extra)
      FROM cases c WHERE c.source_ref = p_ref
$$;
CREATE FUNCTION pg_temp.recipients (p_ref text, p_kind text) RETURNS SETOF text LANGUAGE sql AS $$
    SELECT coalesce (recipient, 'resident') FROM notifications
     WHERE case_id = pg_temp.c (p_ref) AND kind LIKE p_kind
$$;

INSERT INTO cases (source, source_ref, root, grid, state, category, description, phone, urgent,
                   received_at, routed_at, updated_at) VALUES
    ('hotline', 'T-A', 'QNL', 'QNL.07.063', 'signed', 'sanitation', '楼道堆放杂物' || repeat ('很久', 40),
     '13912345678', false, '2026-11-04 09:00+08', '2026-11-04 09:30+08', NULL),
    ('hotline', 'T-B', 'QNL', 'QNL.07.063', 'signed', NULL, '燃气泄漏气味', NULL, true,
     '2026-11-04 09:20+08', '2026-11-04 09:30+08', NULL),
    ('hotline', 'T-C', 'QNL', 'QNL.07.064', 'signed', NULL, '路灯不亮', NULL, false,
     '2026-11-04 08:00+08', '2026-11-04 08:10+08', NULL),
    -- sign-for reminders at 2026-11-04 10:00 (24 h, urgent 1 h, L2 at twice that)
    ('hotline', 'R-23H', 'QNL', 'QNL.07.063', 'routed', NULL, 'x', NULL, false,
     '2026-11-03 10:30+08', '2026-11-03 11:00+08', NULL),
    ('hotline', 'R-25H', 'QNL', 'QNL.07.063', 'routed', NULL, 'x', NULL, false,
     '2026-11-03 08:30+08', '2026-11-03 09:00+08', NULL),
    ('hotline', 'R-49H', 'QNL', 'QNL.01.001', 'routed', NULL, 'x', NULL, false,
     '2026-11-02 08:30+08', '2026-11-02 09:00+08', NULL),
    ('hotline', 'R-URG', 'QNL', 'QNL.01.001', 'routed', NULL, 'x', NULL, true,
     '2026-11-04 08:50+08', '2026-11-04 09:00+08', NULL),
    ('hotline', 'R-REOPEN', 'QNL', 'QNL.01.002', 'reopened', NULL, 'x', NULL, false,
     '2026-10-01 09:00+08', '2026-10-01 09:10+08', '2026-11-03 09:00+08'),
    ('hotline', 'R-SIGNED', 'QNL', 'QNL.01.002', 'signed', NULL, 'x', NULL, false,
     '2026-10-01 09:00+08', '2026-10-01 09:10+08', '2026-10-01 10:00+08'),
    -- a referral with no department reply for 73 hours
    ('hotline', 'F', 'QNL', 'QNL.07.063', 'referred', NULL, '占道经营', NULL, false,
     '2026-10-30 09:00+08', '2026-10-30 09:10+08', NULL);
-- (026: a known department, due one working day after the referral)
INSERT INTO departments (code, name, reply_working_days) VALUES ('CGZF', '城管执法中队', 1);
UPDATE cases SET department = 'CGZF' WHERE source_ref = 'F';
INSERT INTO case_actions (case_id, request_id, actor, action, from_state, to_state, version, at)
VALUES (pg_temp.c ('F'), 'F-refer', 'P-QNL.07.063-1', 'refer', 'signed', 'referred', 3,
        '2026-11-01 09:00+08');

-- The notifier's events: rules × events.
SELECT is (gf_notify_many ('notifier', pg_temp.occ ('T-A', 'case.routed')), 3,
           'case.routed: one notification each to the grid''s leader and members');
SELECT bag_eq ($$SELECT * FROM pg_temp.recipients ('T-A', 'case.routed')$$,
               $$VALUES ('P-QNL.07.063-1'), ('P-QNL.07.063-2'), ('P-QNL.07.063-3')$$,
               'case.routed: the leader and the members of the event''s grid');
SELECT is (gf_notify_many ('notifier', pg_temp.occ ('T-A', 'case.received')
                                       || pg_temp.occ ('T-B', 'case.received')), 1,
           'case.received: a receipt to the resident with a phone, none without');
SELECT is (gf_notify_many ('notifier', pg_temp.occ ('T-A', 'case.signed')), 0,
           'an event type without a rule tells nobody');
SELECT is (gf_notify_many ('notifier', pg_temp.occ ('T-A', 'case.escalated',
                                       '{"owner": "QNL.07", "previous": "QNL.07.063", "key": "2"}')), 0,
           'the notifier does not apply the rules the escalator raises');
SELECT is (gf_notify_many ('notifier', pg_temp.occ ('T-A', 'case.routed')), 0,
           'once per (case, kind, recipient): the same event again creates nothing');
SELECT is (gf_notify_many ('notifier', pg_temp.occ ('T-C', 'case.routed') || pg_temp.occ ('T-C', 'case.routed')),
           (SELECT count (*)::int FROM people WHERE grid = 'QNL.07.064' AND role IN ('leader', 'member')),
           'the same occasion twice in one batch: each notice once');
SELECT is ((SELECT count (*) FROM case_events WHERE type = 'notification.created'
              AND case_id = pg_temp.c ('T-C')),
           (SELECT count (*) FROM notifications WHERE case_id = pg_temp.c ('T-C')),
           'and one notification.created per notice');

-- A disabled rule sends nothing.
UPDATE notification_rules SET enabled = false WHERE event_type = 'case.supervised';
SELECT is (gf_notify_many ('notifier', pg_temp.occ ('T-A', 'case.supervised')), 0,
           'case.supervised disabled: nothing');
UPDATE notification_rules SET enabled = true WHERE event_type = 'case.supervised';
SELECT is (gf_notify_many ('notifier', pg_temp.occ ('T-A', 'case.supervised')), 1,
           'case.supervised enabled again: the leader');

-- Escalations: the new owner's leader and the previous owner's.
SELECT is (gf_escalate_many ('weekly_l2', NULL, 2::smallint, ARRAY[pg_temp.c ('T-A')], ARRAY['r']), 1,
           'T-A escalated to L2');
SELECT bag_eq ($$SELECT * FROM pg_temp.recipients ('T-A', 'escalated.to2')$$,
               $$VALUES ('P-QNL.07-1'), ('P-QNL.07.063-1')$$,
               'escalated.to2: the new owner''s (L2) leader and the previous owner''s (L3) leader');
SELECT ok ((SELECT bool_and (text LIKE '%已按规则升级至二级网格处理%') FROM notifications
             WHERE case_id = pg_temp.c ('T-A') AND kind = 'escalated.to2'),
           'the escalation text names the level');
UPDATE notification_rules SET enabled = false
 WHERE event_type = 'case.escalated' AND audience = 'previous_owner_leader';
SELECT is (gf_escalate_many ('weekly_l2', NULL, 2::smallint, ARRAY[pg_temp.c ('T-C')], ARRAY['r']), 1,
           'T-C escalated to L2');
SELECT bag_eq ($$SELECT * FROM pg_temp.recipients ('T-C', 'escalated.to%')$$,
               $$VALUES ('P-QNL.07-1')$$,
               'the previous owner''s rule disabled: only the new owner''s leader is told');
UPDATE notification_rules SET enabled = false WHERE event_type = 'case.escalated';
SELECT is (gf_escalate_many ('monthly_l1', NULL, 1::smallint, ARRAY[pg_temp.c ('T-C')], ARRAY['m']), 1,
           'T-C escalated to L1');
SELECT is ((SELECT count (*)::int FROM notifications WHERE case_id = pg_temp.c ('T-C') AND kind = 'escalated.to1'), 0,
           'every case.escalated rule disabled: the case moves, nobody is told');
UPDATE notification_rules SET enabled = true WHERE event_type = 'case.escalated';

-- Sign-for reminders: gf_overdue_at decides when, the rules whom.
SELECT is (gf_sign_reminders (gf_now (), ARRAY['XYZ']), 0,
           'an escalator holding another root: no reminder of QNL''s cases');
SELECT is (gf_sign_reminders (gf_now (), ARRAY['QNL']), 5,
           'sign-for reminders: 25 h (L3), 49 h (L3 and L2), urgent 1 h (L3), reopened 25 h ago (L3)');
SELECT bag_eq ($$SELECT c.source_ref, n.kind, n.recipient FROM notifications n JOIN cases c ON c.id = n.case_id
                  WHERE n.kind LIKE 'sign.reminder%'$$,
               $$VALUES ('R-25H', 'sign.reminder', 'P-QNL.07.063-1'),
                        ('R-49H', 'sign.reminder', 'P-QNL.01.001-1'),
                        ('R-49H', 'sign.reminder.l2', 'P-QNL.01-1'),
                        ('R-URG', 'sign.reminder', 'P-QNL.01.001-1'),
                        ('R-REOPEN', 'sign.reminder', 'P-QNL.01.002-1')$$,
               'the L3 leader once overdue, the L2 leader at l2_factor times the hours');
SELECT set_eq ($$SELECT DISTINCT case_id FROM notifications WHERE kind = 'sign.reminder'$$,
               $$SELECT id FROM cases c
                  WHERE gf_overdue_at (c.state, c.root, c.urgent, c.routed_at, c.received_at,
                                       c.updated_at) <= gf_now ()$$,
               'reminded: exactly the cases gf_overdue_at calls overdue');
SELECT is (gf_sign_reminders (gf_now ()), 0, 'reminders once per case, kind and recipient');
UPDATE sim_clock SET at = '2026-11-04 11:30+08';
UPDATE notification_rules SET enabled = false WHERE event_type = 'sign.reminder';
SELECT is (gf_sign_reminders (gf_now ()), 0, 'sign.reminder rules disabled: no reminder');
UPDATE notification_rules SET enabled = true WHERE event_type = 'sign.reminder' AND audience = 'grid_leader';
SELECT is (gf_sign_reminders (gf_now ()), 1,
           '11:30, only the L3 rule enabled: the 23 h case is overdue now; the urgent case''s L2 copy stays off');
UPDATE notification_rules SET enabled = true WHERE event_type = 'sign.reminder';
UPDATE escalation_rules SET params = params - 'l2_factor' WHERE root = '*' AND rule = 'sign_reminder';
UPDATE sim_clock SET at = '2026-11-05 12:00+08';
SELECT is ((SELECT count (*)::int FROM notifications WHERE kind = 'sign.reminder.l2'), 1,
           'no new L2 copy before the tick');
SELECT is (gf_sign_reminders (gf_now ()), 0, 'no l2_factor in the rule: no L2 copy');
UPDATE escalation_rules SET params = params || '{"l2_factor": 2}' WHERE root = '*' AND rule = 'sign_reminder';
SELECT is (gf_sign_reminders (gf_now ()), 4,
           'l2_factor back: the L2 copies now due (25 h, 23 h, urgent, reopened cases)');
-- A reminder is an occasion of its case: told once, to whoever leads the
-- grid then; a grid without a leader at that moment is offered again.
UPDATE people SET role = 'member' WHERE id = 'P-QNL.07.063-1';
INSERT INTO people (id, grid, role, name) VALUES ('P-QNL.07.063-NEW', 'QNL.07.063', 'leader', '新组长');
SELECT is (gf_sign_reminders (gf_now ()), 0,
           'a leader appointed after the reminders is not reminded of those cases again');
INSERT INTO cases (source, source_ref, root, grid, state, description, urgent, received_at, routed_at)
VALUES ('hotline', 'R-NOLEAD', 'QNL', 'QNL.07.064', 'routed', 'x', false,
        '2026-11-04 09:00+08', '2026-11-04 09:30+08');
UPDATE people SET role = 'member' WHERE id = 'P-QNL.07.064-1';
UPDATE sim_clock SET at = '2026-11-05 10:00+08';
SELECT is (gf_sign_reminders (gf_now ()), 0, 'overdue in a grid without a leader: nobody to remind');
UPDATE people SET role = 'leader' WHERE id = 'P-QNL.07.064-1';
SELECT is (gf_sign_reminders (gf_now ()), 1, 'a leader appointed: the case is offered again and reminded');
SELECT bag_eq ($$SELECT * FROM pg_temp.recipients ('R-NOLEAD', 'sign.reminder%')$$,
               $$VALUES ('P-QNL.07.064-1')$$, 'to that leader, once');
DELETE FROM people WHERE id = 'P-QNL.07.063-NEW';
UPDATE people SET role = 'leader' WHERE id = 'P-QNL.07.063-1';
UPDATE sim_clock SET at = '2026-11-04 10:00+08';

-- Overdue referrals: the grid's leader, once per referral, the department named.
SELECT is (gf_referrals_overdue (), 1, 'a referral without reply past its deadline: one notice');
SELECT results_eq ($$SELECT kind, recipient, text LIKE '%转办至城管执法中队后逾期未获部门回复%'
                       FROM notifications WHERE case_id = pg_temp.c ('F')$$,
                   $$SELECT 'referral.overdue.' || a.id, 'P-QNL.07.063-1', true
                       FROM case_actions a WHERE a.request_id = 'F-refer'$$,
                   'referral.overdue.<action>: to the grid''s leader, naming the department');
SELECT is (gf_referrals_overdue (), 0, 'the referral notice is not repeated');

-- The one renderer.
SELECT is (gf_notification_text ('%1$s|%2$s|%3$s|%4$s|%5$s|%6$s|%7$s|%8$s', 7, NULL, 'QNL.07.063',
                                 '南关村第六网格', repeat ('字', 70), '二级网格',
                                 '2026-11-04 02:30+00', '13912345678'),
           '7|未分类|QNL.07.063|南关村第六网格|' || repeat ('字', 60) || '|二级网格|11-04 10:30|139****5678',
           'the text: case, category (未分类 without one), grid, name, 60 characters, extra, local deadline, masked phone');
SELECT is (gf_notification_text ('%2$s %8$s', 7, '环境卫生', 'g', 'n', 'd', NULL, NULL, NULL),
           '环境卫生 无', 'no phone: 无');
SELECT ok ((SELECT bool_and (text LIKE '%来电 139****5678%' AND text LIKE '%请于 11-05 09:30 前签收办理%'
                             AND text !~ '1[3-9][0-9]{9}')
              FROM notifications WHERE case_id = pg_temp.c ('T-A') AND kind = 'case.routed'),
           'case.routed text: the masked phone, the deadline 24 h after routing, no full number');
UPDATE escalation_rules SET params = params || '{"urgent_hours": 2}' WHERE root = '*' AND rule = 'sign_reminder';
SELECT is (gf_notify_many ('notifier', pg_temp.occ ('T-B', 'case.routed')), 3, 'T-B routed');
SELECT ok ((SELECT bool_and (text LIKE '%来电 无%' AND text LIKE '%请于 11-04 11:30 前签收办理%')
              FROM notifications WHERE case_id = pg_temp.c ('T-B') AND kind = 'case.routed'),
           'urgent case.routed text: the deadline is the rule''s urgent hours (as gf_overdue_at), no phone: 无');

-- One payload shape, consistent with the notification it announces.
SELECT results_eq ($$SELECT DISTINCT array (SELECT jsonb_object_keys (payload) ORDER BY 1)
                      FROM case_events WHERE type = 'notification.created'$$,
                   $$VALUES (ARRAY['case', 'kind', 'notification', 'recipient', 'role', 'text'])$$,
                   'one notification.created payload shape for routing, receipts, escalations, reminders, referrals');
SELECT is ((SELECT count (DISTINCT regexp_replace (payload->>'kind', '\.[0-9]+$', ''))::int
              FROM case_events WHERE type = 'notification.created'), 7,
           'the events cover seven kinds of notice');
SELECT is ((SELECT count (*)::int FROM notifications n
              LEFT JOIN case_events e ON e.type = 'notification.created'
                                     AND (e.payload->>'notification')::bigint = n.id
              LEFT JOIN people p ON p.id = n.recipient
             WHERE e.id IS NULL OR e.case_id <> n.case_id OR (e.payload->>'case')::bigint <> n.case_id
                OR e.payload->>'kind' <> n.kind OR e.payload->>'text' <> n.text
                OR e.payload->>'recipient' IS DISTINCT FROM n.recipient
                OR e.payload->>'role' <> coalesce (p.role, 'resident')
                OR e.topic <> 'notify/' || coalesce (n.recipient, 'resident')), 0,
           'every notification has its event: case, kind, recipient, role, text and topic agree');
SELECT is ((SELECT count (*)::int FROM case_events WHERE type = 'notification.created'),
           (SELECT count (*)::int FROM notifications), 'one notification.created per notification');

-- The services' roles run their paths (column grants: the notifier reads few case columns).
INSERT INTO cases (source, source_ref, root, grid, state, description, phone, received_at, routed_at)
VALUES ('hotline', 'T-ROLE', 'QNL', 'QNL.07.064', 'routed', 'x', '13700001111',
        '2026-11-04 09:00+08', '2026-11-04 09:05+08');
SELECT pg_temp.occ ('T-ROLE', 'case.routed') || pg_temp.occ ('T-ROLE', 'case.received')
       || '[{"case_id": 0, "type": "case.routed", "grid": "QNL.99.999"}]' AS role_events \gset
\ir fixtures/function_calls.sql
SET LOCAL track_functions = 'all';
CREATE TEMP TABLE payload_calls AS SELECT pg_temp.calls ('gf_notification_payload') AS n;
SET LOCAL ROLE gf_notifier;
SELECT is ((SELECT row (created, no_leader)::text FROM gf_notifier_batch (:'role_events')), '(5,1)',
           'as gf_notifier: the batch (leader, 3 members, the resident; a grid without leader counted)');
RESET ROLE;
SELECT is (pg_temp.calls ('gf_notification_payload') - (SELECT n FROM payload_calls), 0::bigint,
           'the batch''s payloads: gf_notification_payload inlined, not called once per notice');
UPDATE sim_clock SET at = '2026-11-05 10:00+08';
SET LOCAL ROLE gf_escalator;
SELECT lives_ok ('SELECT gf_sign_reminders (gf_now ())', 'as gf_escalator: the reminders');
RESET ROLE;
SELECT bag_eq ($$SELECT * FROM pg_temp.recipients ('T-ROLE', 'sign.reminder')$$, $$VALUES ('P-QNL.07.064-1')$$,
               'T-ROLE, overdue at 10:00 the next day: its leader reminded');

-- 028: a rejected case tells the resident why (%6$s: the reason's name),
-- as the notifier's role reads it; a slip's deadline counts from its box
-- opening (gf_clock_start).
INSERT INTO cases (source, source_ref, root, grid, state, category, description, phone, urgent,
                   received_at, routed_at, rejected_reason) VALUES
    ('hotline', 'T-REJ', 'QNL', 'QNL.07.063', 'rejected', 'water', 'x', '13912340099', false,
     '2026-11-05 09:00+08', '2026-11-05 09:10+08', 'out_of_jurisdiction');
INSERT INTO cases (source, source_ref, root, grid, state, description, urgent, reported_at,
                   received_at, routed_at) VALUES
    ('suggestbox', 'B9/1/1', 'QNL', 'QNL.07.063', 'routed', 'x', false, '2026-11-03 09:00+08',
     '2026-11-05 09:00+08', '2026-11-05 09:05+08');
SELECT pg_temp.occ ('T-REJ', 'case.rejected') || pg_temp.occ ('B9/1/1', 'case.routed') AS sort_events \gset
SET LOCAL ROLE gf_notifier;
SELECT gf_notifier_batch (:'sort_events');
RESET ROLE;
SELECT is ((SELECT text FROM notifications WHERE case_id = pg_temp.c ('T-REJ') AND kind = 'resident.rejected'),
           '【受理告知】您反映的案件 ' || pg_temp.c ('T-REJ') || '（供水排水）经网格核实，属非本辖区或职责范围，不予办理。如有异议，请致电热线，上级网格将复核。',
           'resident.rejected: the reason in Chinese');
SELECT ok ((SELECT text LIKE '%请于 11-04 09:00 前签收%' FROM notifications
             WHERE case_id = pg_temp.c ('B9/1/1') AND kind = 'case.routed' AND recipient = 'P-QNL.07.063-1'),
           'a slip''s notice: the deadline from its box opening (11-03 09:00 + 24 h)');

-- Field reminders' notices (033): one per reminder row, no case; a
-- notification is about a case or a reminder, never both or neither.
INSERT INTO field_reminders (kind, subject, period, grid, recipient, audience, created_at, not_before)
VALUES ('visit.overdue', 'H-N-1', '2026-11-02', 'QNL.07.063', 'P-QNL.07.063-1', 'grid_leader',
        '2026-11-05 09:00+08', '2026-11-05 09:00+08'),
       ('visit.overdue', 'H-N-1', '2026-11-02', 'QNL.07.063', 'P-QNL.07-1', 'l2_leader',
        '2026-11-05 09:00+08', '2026-11-05 09:00+08');
SELECT is (gf_notify_field (ARRAY (SELECT id FROM field_reminders WHERE subject = 'H-N-1')), 2,
           'gf_notify_field: one notice per reminder');
SELECT is (gf_notify_field (ARRAY (SELECT id FROM field_reminders WHERE subject = 'H-N-1')), 0,
           'the reminder is the dedupe key: not twice');
SELECT bag_eq ($$SELECT n.kind, n.recipient, n.case_id, e.topic FROM notifications n
                  JOIN field_reminders f ON f.id = n.field_reminder
                  JOIN case_events e ON e.type = 'notification.created' AND (e.payload->>'notification')::bigint = n.id
                 WHERE f.subject = 'H-N-1'$$,
               $$VALUES ('visit.overdue', 'P-QNL.07.063-1', NULL::bigint, 'notify/P-QNL.07.063-1'),
                        ('visit.overdue.l2', 'P-QNL.07-1', NULL::bigint, 'notify/P-QNL.07-1')$$,
               'kinds from the rules, no case, notification.created on notify/<person>');
SELECT ok ((SELECT bool_and (text LIKE '%一户重点户（编号 H-N-1）应于 2026-11-02 走访%') FROM notifications n
              JOIN field_reminders f ON f.id = n.field_reminder WHERE f.subject = 'H-N-1'),
           'the texts: the household by its opaque id and the due day');
SELECT throws_ok ($$INSERT INTO notifications (kind, recipient, audience, text, created_at)
                    VALUES ('x', 'P-QNL.07-1', 'staff', 'x', now ())$$, '23514', NULL,
                  'a notification about neither a case nor a reminder is refused');

SELECT * FROM finish ();
ROLLBACK;
