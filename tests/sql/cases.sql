-- pgTAP: deploy/sql/repeatable/cases.sql — open and resolved for every
-- state, overdue (gf_overdue_at and its rule-given form), the masked view
-- cases_public, and the gateway's role: it reads cases only through the
-- view and the dashboard's functions (rolled back).
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (37);

INSERT INTO sim_clock (at) VALUES ('2026-11-04 10:00+08')
    ON CONFLICT (id) DO UPDATE SET at = excluded.at;
-- Known sign-for rules: the default (*) and one of QNL's own.
DELETE FROM escalation_rules WHERE rule = 'sign_reminder';
INSERT INTO escalation_rules (root, rule, params) VALUES
    ('*', 'sign_reminder', '{"hours": 24, "urgent_hours": 1, "l2_factor": 2}');

-- Open and resolved: every state is exactly one of open, resolved, merged.
SELECT is ((SELECT count (*)::int FROM case_state_names), 13,
           'thirteen states are named (a new one must be placed below)');
SELECT bag_eq ('SELECT state FROM case_state_names WHERE gf_case_open (state)',
               ARRAY['registered', 'routed', 'unroutable', 'signed', 'in_progress', 'referred',
                     'replied', 'reopened'],
               'gf_case_open: the open states');
SELECT bag_eq ('SELECT state FROM case_state_names WHERE gf_case_resolved (state)',
               ARRAY['resolved', 'called_back', 'closed'],
               'gf_case_resolved: resolved, called back, closed');
SELECT bag_eq ('SELECT state FROM case_state_names
                 WHERE NOT gf_case_open (state) AND NOT gf_case_resolved (state)',
               ARRAY['merged', 'rejected'], 'merged and rejected are neither open nor resolved');
SELECT is ((SELECT count (*)::int FROM case_state_names
             WHERE gf_case_open (state) AND gf_case_resolved (state)), 0,
           'no state is both open and resolved');
-- The partial indexes on open cases have gf_case_open's predicate (so a
-- query with it can use them).
SELECT ok ((SELECT bool_and (pg_get_expr (i.indpred, i.indrelid)
                             LIKE '%state <> ALL (ARRAY[''resolved''::text, ''called_back''::text, ''closed''::text, ''merged''::text, ''rejected''::text])%')
              FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
             WHERE c.relname IN ('cases_open_grid', 'cases_urgent_open')),
           'the open-case partial indexes use the same list as gf_case_open');

-- Overdue: routed, reopened, urgent, signed and the others.
SELECT is (gf_overdue_at ('routed', 'QNL', false, '2026-11-03 09:00+08', '2026-11-03 08:00+08', NULL),
           timestamptz '2026-11-04 09:00+08', 'routed: 24 h after it was routed');
SELECT is (gf_overdue_at ('routed', 'QNL', true, '2026-11-03 09:00+08', '2026-11-03 08:00+08', NULL),
           timestamptz '2026-11-03 10:00+08', 'routed and urgent: 1 h after it was routed');
SELECT is (gf_overdue_at ('routed', 'QNL', false, NULL, '2026-11-03 08:00+08', NULL),
           timestamptz '2026-11-04 08:00+08', 'routed, no routing time: from its reception');
SELECT is (gf_overdue_at ('reopened', 'QNL', false, '2026-11-01 09:00+08', '2026-11-01 08:00+08',
                          '2026-11-03 15:00+08'),
           timestamptz '2026-11-04 15:00+08', 'reopened: 24 h after the reopening (its last update)');
SELECT is (gf_overdue_at ('reopened', 'QNL', true, '2026-11-01 09:00+08', '2026-11-01 08:00+08',
                          '2026-11-03 15:00+08'),
           timestamptz '2026-11-03 16:00+08', 'reopened and urgent: 1 h after the reopening');
SELECT is (gf_overdue_at ('signed', 'QNL', false, '2026-11-01 09:00+08', '2026-11-01 08:00+08',
                          '2026-11-01 10:00+08'),
           NULL, 'signed for: never overdue (NULL)');
SELECT bag_eq ($$SELECT state FROM case_state_names
                  WHERE gf_overdue_at (state, 'QNL', false, '2026-11-01 09:00+08',
                                       '2026-11-01 08:00+08', '2026-11-01 10:00+08') IS NOT NULL$$,
               ARRAY['routed', 'reopened'], 'only routed and reopened cases wait to be signed for');
INSERT INTO escalation_rules (root, rule, params) VALUES
    ('QNL', 'sign_reminder', '{"hours": 12, "urgent_hours": 2, "l2_factor": 2}');
SELECT is (gf_overdue_at ('routed', 'QNL', false, '2026-11-03 09:00+08', NULL, NULL),
           timestamptz '2026-11-03 21:00+08', 'an L1 grid''s own rule wins over the default');
SELECT is (gf_overdue_at ('routed', 'QNL', true, '2026-11-03 09:00+08', NULL, NULL),
           timestamptz '2026-11-03 11:00+08', 'its urgent_hours too');
UPDATE escalation_rules SET enabled = false WHERE rule = 'sign_reminder';
SELECT is (gf_overdue_at ('routed', 'QNL', true, '2026-11-03 09:00+08', NULL, NULL),
           timestamptz '2026-11-04 09:00+08', 'no rule in force: 24 h, urgent or not');
UPDATE escalation_rules SET enabled = true WHERE rule = 'sign_reminder';
SELECT is_empty ($$
    SELECT s.state, u.urgent FROM case_state_names s, (VALUES (true), (false)) u (urgent)
     WHERE gf_overdue_at (s.state, 'QNL', u.urgent, '2026-11-03 09:00+08', '2026-11-03 08:00+08',
                          '2026-11-03 12:00+08')
           IS DISTINCT FROM
           gf_overdue_at_rule (s.state, u.urgent, '2026-11-03 09:00+08', '2026-11-03 08:00+08',
                               '2026-11-03 12:00+08', gf_rule ('QNL', 'sign_reminder'))$$,
    'gf_overdue_at_rule with the rule read once agrees with gf_overdue_at in every state');

-- The clock start (028): a suggestion-box slip's at its box opening, never
-- later than the time given; every other case's at the time given.
SELECT is (gf_clock_start ('suggestbox', '2026-11-02 09:00+08', '2026-11-04 09:00+08'),
           timestamptz '2026-11-02 09:00+08', 'a slip: its box opening');
SELECT is (gf_clock_start ('hotline', '2026-11-02 09:00+08', '2026-11-04 09:00+08'),
           timestamptz '2026-11-04 09:00+08', 'a call: the time given (its reported_at does not count)');
SELECT is (gf_clock_start ('suggestbox', NULL, '2026-11-04 09:00+08'),
           timestamptz '2026-11-04 09:00+08', 'a slip without an opening time: the time given');
SELECT is (gf_overdue_at ('routed', 'QNL', false,
                          gf_clock_start ('suggestbox', '2026-11-02 09:00+08', '2026-11-04 09:00+08'),
                          '2026-11-04 08:00+08', NULL),
           timestamptz '2026-11-02 21:00+08',
           'a slip routed today from a box opened 2 days ago is overdue already (QNL''s 12 h)');

-- cases_public: no name, no groups, the phone and the address masked, the
-- description redacted.
INSERT INTO cases (id, source, source_ref, root, grid, state, description, name, phone, address,
                   received_at)
VALUES (900001, 'hotline', 'T-MASK', 'QNL', 'QNL.01.001', 'routed', '楼道灯不亮', '张三',
        '13912345678', '青年路街道西街村1组2号', gf_now ());
SELECT hasnt_column ('cases_public', 'name', 'cases_public has no name');
SELECT hasnt_column ('cases_public', 'phone', 'cases_public has no clear phone');
SELECT hasnt_column ('cases_public', 'address', 'cases_public has no clear address');
SELECT hasnt_column ('cases_public', 'groups', 'cases_public has no special groups');
SELECT is ((SELECT phone_masked FROM cases_public WHERE id = 900001), '139****5678',
           'the phone is masked');
SELECT is ((SELECT address_masked FROM cases_public WHERE id = 900001), '青年路街道西街**',
           'the address keeps its first 60 %');
SELECT is ((SELECT description || grid || state FROM cases_public WHERE id = 900001),
           '楼道灯不亮QNL.01.001routed', 'the rest is as in cases');
UPDATE cases SET description = '张三说楼道灯不亮，回电13912345678' WHERE id = 900001;
SELECT is ((SELECT description FROM cases_public WHERE id = 900001), '[姓名]说楼道灯不亮，回电[电话]',
           'the description is redacted (description_redacted: recomputed on every write)');
UPDATE cases SET description = '楼道灯不亮' WHERE id = 900001;

-- The gateway's role: the view and the functions, never cases.
SET LOCAL ROLE gf_gateway;
SELECT throws_ok ('SELECT count (*) FROM cases', '42501', 'permission denied for table cases',
                  'gf_gateway cannot SELECT cases');
SELECT throws_ok ('SELECT phone FROM cases WHERE id = 900001', '42501', NULL,
                  'gf_gateway cannot read a phone from cases');
SELECT is ((SELECT phone_masked FROM cases_public WHERE id = 900001), '139****5678',
           'gf_gateway reads the masked view');
SELECT ok (gf_dash_summary (NULL) IS NOT NULL, 'gf_gateway can call gf_dash_summary');
SELECT ok ((gf_dash_escalations ('QNL')->>'overdue_total') IS NOT NULL,
           'gf_gateway can call gf_dash_escalations');
SELECT ok (gf_dash_ledger ('QNL.01') IS NOT NULL AND gf_dash_trend (7, NULL) IS NOT NULL
           AND gf_dash_directory ('QNL.01') IS NOT NULL AND gf_dash_vocabulary () IS NOT NULL,
           'gf_gateway can call gf_dash_ledger, _trend, _directory and _vocabulary');
SELECT ok (gf_open311_services () IS NOT NULL AND gf_open311_service ('water') IS NOT NULL
           AND gf_open311_request (900001) IS NOT NULL
           AND gf_open311_requests (NULL, NULL, NULL, NULL, NULL) IS NOT NULL
           AND gf_api_key_client ('no such key') IS NULL,
           'gf_gateway can call the Open311 functions');
SELECT ok (NOT (gf_open311_request (900001)::text ~ '张三|13912345678|1组2号'),
           'an Open311 request has no name, no phone, no full address');
RESET ROLE;

SELECT * FROM finish ();
ROLLBACK;
