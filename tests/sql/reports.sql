-- pgTAP: deploy/sql/repeatable/reports.sql — the ledgers (tiers, names from
-- the vocabularies, CSV and JSON forms), the monthly report's counts by
-- category, priority and L2 grid on a small case set built here, the
-- meeting and case lists' subtree scoping, and a case timeline (rolled back).
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (32);

INSERT INTO sim_clock (at) VALUES ('2026-12-10 12:00+08')
ON CONFLICT (id) DO UPDATE SET at = excluded.at;
-- The weekday rule only: no official day in November 2026.
DELETE FROM calendar_days;
DELETE FROM calendar_years;

-- The cases (QNL, November 2026 unless said):
--   1 QNL.07.063 sanitation, received 2 Nov 10:00, resolved 3 Nov 16:00 (on time)
--   2 QNL.07.063 water, urgent, received 2 Nov 10:00, resolved 12 Nov 10:00
--     (late: due 9 Nov 10:00, five working days)
--   3 QNL.07.064 power, dibao, received 2 Nov 10:00, still signed (late)
--   4 QNL.08.067 sanitation, urgent, hardship and petitioner, received
--     27 Nov 10:00, still routed (due 4 Dec: neither on time nor late)
--   5 QNL.08.067 sanitation, received 2 Nov, merged into 1 (not counted)
--   6 QNL.07.063 other, received 30 October (another month)
INSERT INTO cases (id, source, source_ref, root, grid, state, tier, category, description, urgent,
                   groups, received_at, routed_at, merged_into)
VALUES (900001, 'hotline', 'T-1', 'QNL', 'QNL.07.063', 'resolved', 'resolved', 'sanitation',
        '垃圾  清运
不及时', false, '{}', '2026-11-02 10:00+08', '2026-11-02 10:00+08', NULL),
       (900002, 'hotline', 'T-2', 'QNL', 'QNL.07.063', 'resolved', 'resolved', 'water', '停水',
        true, '{}', '2026-11-02 10:00+08', '2026-11-02 10:00+08', NULL),
       (900003, 'visit', 'T-3', 'QNL', 'QNL.07.064', 'signed', 'hard', 'power', '供暖不热', false,
        '{dibao}', '2026-11-02 10:00+08', '2026-11-02 10:00+08', NULL),
       (900004, 'hotline', 'T-4', 'QNL', 'QNL.08.067', 'routed', 'pending', 'sanitation', '垃圾',
        true, '{hardship,petitioner}', '2026-11-27 10:00+08', '2026-11-27 10:00+08', NULL),
       (900006, 'hotline', 'T-6', 'QNL', 'QNL.07.063', 'signed', 'pending', 'other', '杂物', false,
        '{}', '2026-10-30 10:00+08', '2026-10-30 10:00+08', NULL);
INSERT INTO cases (id, source, source_ref, root, grid, state, tier, category, description, urgent,
                   groups, received_at, routed_at, merged_into)
VALUES (900005, 'hotline', 'T-5', 'QNL', 'QNL.08.067', 'merged', 'pending', 'sanitation', '垃圾桶',
        false, '{}', '2026-11-02 10:00+08', '2026-11-02 10:00+08', 900001);
INSERT INTO event_stage (type, topic, case_id, grid, at, payload)
SELECT e.type, e.type || '/x', e.case_id, 'QNL.07.063', e.at::timestamptz, e.payload::jsonb
  FROM (VALUES
    ('case.received', 900001, '2026-11-02 10:00+08', '{}'),
    ('case.routed', 900001, '2026-11-02 10:00+08', '{}'),
    ('case.signed', 900001, '2026-11-02 11:00+08', '{"actor": "P-QNL.07.063-1", "from": "routed", "to": "signed"}'),
    ('case.resolved', 900001, '2026-11-03 16:00+08', '{"actor": "P-QNL.07.063-1", "from": "signed", "to": "resolved", "note": "已清运"}'),
    ('case.received', 900002, '2026-11-02 10:00+08', '{}'),
    ('case.routed', 900002, '2026-11-02 10:00+08', '{}'),
    ('case.resolved', 900002, '2026-11-12 10:00+08', '{"from": "routed", "to": "resolved"}'),
    ('case.received', 900003, '2026-11-02 10:00+08', '{}'),
    ('case.routed', 900003, '2026-11-02 10:00+08', '{}'),
    ('case.signed', 900003, '2026-11-02 11:00+08', '{"from": "routed", "to": "signed"}'),
    ('case.received', 900004, '2026-11-27 10:00+08', '{}'),
    ('case.routed', 900004, '2026-11-27 10:00+08', '{}'),
    ('case.received', 900005, '2026-11-02 10:00+08', '{}'),
    ('case.merged', 900005, '2026-11-02 11:00+08', '{"from": "routed", "to": "merged", "into": 900001}'),
    ('case.received', 900006, '2026-10-30 10:00+08', '{}')) e (type, case_id, at, payload);

-- A weekly meeting of QNL.07 with its ledger as the escalator would store
-- it (priority: '紧急' and/or group codes), and one escalation in November.
INSERT INTO meetings (id, grid, kind, day, slot_at, held_at, period_from)
VALUES (900001, 'QNL.07', 'weekly', '2026-11-30', '2026-11-30 09:00+08', '2026-11-30 09:05+08',
        '2026-11-23 09:00+08'),
       (900002, 'QNL.08', 'weekly', '2026-11-23', '2026-11-23 09:00+08', '2026-11-23 09:00+08',
        '2026-11-16 09:00+08');
INSERT INTO ledger_entries (meeting_id, case_id, tier, state, level, category, priority, age_days,
                            owner, last_action, last_action_at, escalated)
VALUES (900001, 900004, 'pending', 'routed', 3, 'sanitation', '紧急 hardship,petitioner', 3,
        'QNL.08.067', 'case.routed', '2026-11-27 10:00+08', false),
       (900001, 900003, 'hard', 'signed', 3, 'power', 'dibao', 28, 'QNL.07.064',
        'case.classified', '2026-11-04 10:00+08', true),
       (900001, 900002, 'resolved', 'resolved', 3, 'water', '紧急', 28, 'QNL.07.063',
        'case.resolved', '2026-11-12 10:00+08', false),
       (900001, 900001, 'resolved', 'resolved', 3, 'sanitation', '', 28, 'QNL.07.063',
        'case.resolved', '2026-11-03 16:00+08', false);
INSERT INTO escalations (case_id, rule, meeting_id, from_level, to_level, at)
VALUES (900003, 'weekly_l2', 900001, 3, 2, '2026-11-30 09:00+08');

-- Ledgers ------------------------------------------------------------------
SELECT results_eq (
    $$SELECT grid, kind_name, slot_at, period_from, period_to, entries, resolved, pending, hard, escalated
        FROM gf_ledger_meeting (900001)$$,
    $$VALUES ('QNL.07', '周例会', '2026-11-30T09:00:00+08:00', '2026-11-23T09:00:00+08:00',
              '2026-11-30T09:00:00+08:00', 4::bigint, 2::bigint, 1::bigint, 1::bigint, 1::bigint)$$,
    'ledger header: local ISO times, the size per tier and the escalations');
SELECT is_empty ('SELECT * FROM gf_ledger_meeting (999999)', 'no header for an unknown meeting');
SELECT results_eq (
    'SELECT case_id, tier, tier_name FROM gf_ledger_entries (900001)',
    $$VALUES (900001::bigint, 'resolved', '已解决'), (900002, 'resolved', '已解决'),
             (900004, 'pending', '待解决'), (900003, 'hard', '难解决')$$,
    'ledger lines tier by tier (已解决, 待解决, 难解决), then by case');
SELECT results_eq (
    'SELECT case_id, priority, urgent, groups FROM gf_ledger_entries (900001)',
    $$VALUES (900001::bigint, '一般', false, '{}'::text[]), (900002, '紧急', true, '{}'),
             (900004, '紧急、困难户、上访户', true, '{hardship,petitioner}'),
             (900003, '低保', false, '{dibao}')$$,
    'priority: special_groups names in the stored order, 一般 for none; urgent and group codes');
SELECT results_eq (
    $$SELECT state_name, last_action_name, last_action_at FROM gf_ledger_entries (900001)
       WHERE case_id IN (900004, 900003) ORDER BY case_id$$,
    $$VALUES ('已签收', '分类', '2026-11-04T10:00:00+08:00'),
             ('已分派', '分派网格', '2026-11-27T10:00:00+08:00')$$,
    'state and last action named from case_state_names and event_types');
SELECT results_eq (
    'SELECT case_id, groups FROM gf_ledger_csv (900001)',
    $$VALUES (900001::bigint, NULL::text), (900002, NULL), (900004, 'hardship,petitioner'),
             (900003, 'dibao')$$,
    'CSV form: the groups joined by a comma, NULL (an empty field) for none');
SELECT is (
    (SELECT array_agg (e->>'case_id') FROM json_array_elements (gf_ledger_json (900001)->'entries') e),
    ARRAY['900001', '900002', '900004', '900003'],
    'JSON: the entries in ledger order');
SELECT is (
    (SELECT array_agg (k) FROM json_object_keys (gf_ledger_json (900001)->'entries'->0) k),
    ARRAY['tier', 'tier_name', 'case_id', 'category', 'category_name', 'priority', 'urgent', 'groups',
          'age_days', 'owner', 'owner_name', 'state', 'state_name', 'level', 'last_action',
          'last_action_name', 'last_action_at', 'escalated'],
    'JSON: each entry keyed by column, in column order, without meeting_id');
SELECT is (
    (gf_ledger_json (900001)->'entries'->2->'groups')::text || ' ' ||
    (gf_ledger_json (900001)->'entries'->3->'escalated')::text || ' ' ||
    (gf_ledger_json (900001)->'meeting'->'hard')::text,
    '["hardship","petitioner"] true 1',
    'JSON: groups an array, booleans and counts as JSON values');
SELECT ok (strpos (gf_ledger_json (900001)::text, E'\n') = 0
           AND gf_ledger_json (900001)::text LIKE '{"meeting":{"meeting_id":900001,"grid":"QNL.07",%',
           'JSON: one compact object on one line');

-- Meeting and case lists: subtrees -----------------------------------------
SELECT results_eq ($$SELECT id, entries, escalated FROM gf_meeting_list ('QNL.07', NULL, 50)$$,
                   $$VALUES (900001::bigint, 4::bigint, 1::bigint)$$,
                   'meeting list of the subtree QNL.07');
SELECT is_empty ($$SELECT * FROM gf_meeting_list ('QNL.0', NULL, 50)$$,
                 'meeting list: QNL.0 is no subtree of QNL.07 (a code prefix is not a subtree)');
SELECT results_eq ($$SELECT id FROM gf_meeting_list ('QNL', 'weekly', 50)$$,
                   $$VALUES (900001::bigint), (900002)$$,
                   'meeting list of QNL: newest first');
SELECT is (gf_meeting_list_json ('QNL', NULL, 1)::text,
           (SELECT '{"meetings":[' || row_to_json (l)::text || ']}' FROM gf_meeting_list ('QNL', NULL, 1) l),
           'meeting list JSON: {"meetings":[...]}, limited');
SELECT results_eq ($$SELECT id FROM gf_case_list ('QNL.07', NULL, NULL, NULL, NULL, NULL, NULL, NULL, 100)$$,
                   $$VALUES (900001::bigint), (900002), (900003), (900006)$$,
                   'case list of the subtree QNL.07');
SELECT is_empty ($$SELECT id FROM gf_case_list ('QNL.07.06', NULL, NULL, NULL, NULL, NULL, NULL, NULL, 100)$$,
                 'case list: QNL.07.06 is no subtree of QNL.07.063');
SELECT results_eq ($$SELECT id FROM gf_case_list (NULL, NULL, NULL, NULL, 'any', '2026-11-02', '2026-11-27', NULL, 100)$$,
                   $$VALUES (900002::bigint), (900003), (900004)$$,
                   'case list: urgent or a special group, received between two local days inclusive');
SELECT results_eq ($$SELECT id, groups, excerpt, state_name FROM gf_case_list ('QNL', NULL, 'hard', 3, 'dibao', NULL, NULL, NULL, 10)$$,
                   $$VALUES (900003::bigint, 'dibao', '供暖不热', '已签收')$$,
                   'case list: tier, level and group filters');
SELECT is ((SELECT excerpt FROM gf_case_list (NULL, 'resolved', NULL, NULL, NULL, NULL, NULL, NULL, 1)),
           '垃圾 清运 不及时', 'case list: the excerpt on one line');

-- Case timeline ------------------------------------------------------------
SELECT results_eq (
    'SELECT type, at, who, detail FROM gf_case_timeline (900001)',
    $$VALUES ('case.received', '2026-11-02 10:00:00', '', ''),
             ('case.routed', '2026-11-02 10:00:00', '', ''),
             ('case.signed', '2026-11-02 11:00:00', '康梅(P-QNL.07.063-1)', 'routed → signed'),
             ('case.resolved', '2026-11-03 16:00:00', '康梅(P-QNL.07.063-1)',
              'signed → resolved note: 已清运')$$,
    'timeline: local times, the actor by name, the details in words');

-- The monthly report ---------------------------------------------------------
SELECT results_eq (
    $$SELECT month, month_source, period_from, period_to, as_of FROM gf_report_monthly_head ('QNL', '2026-11')$$,
    $$VALUES ('2026-11', 'given', '2026-11-01T00:00:00+08:00', '2026-12-01T00:00:00+08:00',
              '2026-12-01T00:00:00+08:00')$$,
    'report head: the month given, states as of its end');
SELECT results_eq (
    $$SELECT month, month_source FROM gf_report_monthly_head ('QNL', NULL)$$,
    $$VALUES ('2026-12', 'current_month')$$,
    'report head: no month and no monthly meeting: the current month of gf_now ()');
SELECT is_empty ($$SELECT * FROM gf_report_monthly ('QNL.07', '2026-11', 5)$$,
                 'report: no rows for a grid that is not L1');
SELECT results_eq (
    $$SELECT received, resolved, open, resolution_rate_pct, on_time, late, on_time_rate_pct,
             avg_hours_to_resolve
        FROM gf_report_monthly ('QNL', '2026-11', 5) WHERE section = 'total'$$,
    $$VALUES (4::bigint, 2::bigint, 2::bigint, 50.0, 1::bigint, 2::bigint, 33.3, 135.0)$$,
    'report total: merged and other months left out; on time, late (resolved late, open past due)');
SELECT results_eq (
    $$SELECT key, received, resolved, on_time, late FROM gf_report_monthly ('QNL', '2026-11', 5)
       WHERE section = 'category' AND key IN ('sanitation', 'water', 'power', 'greening', 'other')$$,
    $$VALUES ('greening', 0::bigint, 0::bigint, 0::bigint, 0::bigint), ('power', 1, 0, 0, 1),
             ('sanitation', 2, 1, 1, 0), ('water', 1, 1, 0, 1), ('other', 0, 0, 0, 0)$$,
    'report by category: counts per category, every category listed (其他 last)');
SELECT is ((SELECT count (*)::int FROM gf_report_monthly ('QNL', '2026-11', 5) WHERE section = 'category'),
           (SELECT count (*)::int FROM categories), 'report by category: one row per category');
SELECT results_eq (
    $$SELECT key, name, received, resolved, late FROM gf_report_monthly ('QNL', '2026-11', 5)
       WHERE section = 'priority'$$,
    $$VALUES ('urgent', '紧急', 2::bigint, 1::bigint, 1::bigint), ('hardship', '困难户', 1, 0, 0),
             ('petitioner', '上访户', 1, 0, 0), ('bereaved', '失独家庭', 0, 0, 0),
             ('left_behind', '留守儿童家庭', 0, 0, 0), ('dibao', '低保', 1, 0, 1),
             ('disabled', '重残', 0, 0, 0), ('general', '一般', 1, 1, 0)$$,
    'report by priority: 紧急, the special groups in their order, 一般; a case in several rows');
SELECT results_eq (
    $$SELECT key, received, resolved FROM gf_report_monthly ('QNL', '2026-11', 5)
       WHERE section = 'l2' AND key IN ('QNL.07', 'QNL.08', 'QNL.01')$$,
    $$VALUES ('QNL.01', 0::bigint, 0::bigint), ('QNL.07', 3, 2), ('QNL.08', 1, 0)$$,
    'report by L2 grid: each case under its L2 grid');
SELECT results_eq (
    $$SELECT key, escalations FROM gf_report_monthly ('QNL', '2026-11', 5) WHERE section = 'escalation'$$,
    $$VALUES ('weekly_l2', 1::bigint), ('monthly_l1', 0), ('urgent_l2', 0), ('urgent_l1', 0), ('decision_l2', 0), ('decision_l1', 0), ('referral_l2', 0)$$,
    'report escalations by rule in the month');
SELECT is (
    (SELECT (j->'total'->>'received') || ' ' || (j->>'deadline_working_days') || ' ' ||
            json_array_length (j->'by_priority') || ' ' || (j->'by_priority'->7->>'name') || ' ' ||
            (j->'escalations')::text || ' ' || json_array_length (j->'notes')
       FROM gf_report_monthly_json ('QNL', '2026-11', 5) j),
    '4 5 8 一般 {"weekly_l2":1,"monthly_l1":0,"urgent_l2":0,"urgent_l1":0,"decision_l2":0,"decision_l1":0,"referral_l2":0} 6',
    'report JSON: total, deadline, by_priority, escalations by rule (compact), notes');
SELECT ok ((SELECT note LIKE '按时：登记后 3 个工作日内办结%' FROM gf_report_notes (3) WHERE n = 3),
           'report notes state the deadline given');

-- gridctl connects as gf_ctl.
SET LOCAL ROLE gf_ctl;
SELECT ok (gf_report_monthly_json ('QNL', '2026-11', 5) IS NOT NULL
           AND gf_ledger_json (900001) IS NOT NULL
           AND (SELECT count (*) FROM gf_case_list ('QNL', NULL, NULL, NULL, NULL, NULL, NULL, NULL, 10)) > 0,
           'gf_ctl reads the report, the ledger and the case list');
RESET ROLE;

SELECT * FROM finish ();
ROLLBACK;
