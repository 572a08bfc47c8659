-- pgTAP: deploy/sql/repeatable/dashboard.sql — the dashboard's summary
-- counts on a small case set, its overdue list against gf_overdue_at,
-- subtree scoping (a grid that is a prefix of another's code is not its
-- parent), the trend, the directory, the vocabulary and `gridctl watch`'s
-- cases (rolled back).
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (36);

INSERT INTO sim_clock (at) VALUES ('2026-11-04 10:00+08')
    ON CONFLICT (id) DO UPDATE SET at = excluded.at;
DELETE FROM escalation_rules WHERE rule = 'sign_reminder';
INSERT INTO escalation_rules (root, rule, params) VALUES
    ('*', 'sign_reminder', '{"hours": 24, "urgent_hours": 1, "l2_factor": 2}');
-- QNL.1 is a string prefix of QNL.10's codes, not their parent.  The
-- directory refuses such a code (directory.sql, gf_grid_code_check); the
-- dashboard must not depend on that, so the guard is off in this rolled-back
-- transaction.
ALTER TABLE grids DISABLE TRIGGER grids_code_prefix;
INSERT INTO grids (code, level, parent, name) VALUES ('QNL.1', 2, 'QNL', '前缀测试网格');

-- The case set: five in QNL.01 (four open and waiting or worked on, one
-- signed and hard), three in QNL.10 (resolved, in progress and supervised,
-- and one merged into it), one unroutable at the root, one closed in QNL.02.
INSERT INTO cases (id, source, source_ref, root, grid, state, tier, urgent, supervised,
                   description, received_at, routed_at, updated_at, merged_into, category)
VALUES (910001, 'web', 'D1', 'QNL', 'QNL.01.001', 'routed', 'pending', false, false, 'd',
        '2026-11-03 08:50+08', '2026-11-03 09:00+08', '2026-11-03 09:00+08', NULL, 'water'),
       (910002, 'web', 'D2', 'QNL', 'QNL.01.001', 'routed', 'pending', true, false, 'd',
        '2026-11-04 09:20+08', '2026-11-04 09:30+08', '2026-11-04 09:30+08', NULL, 'water'),
       (910003, 'web', 'D3', 'QNL', 'QNL.01.002', 'routed', 'pending', true, false, 'd',
        '2026-11-04 07:50+08', '2026-11-04 08:00+08', '2026-11-04 08:00+08', NULL, 'road'),
       (910004, 'web', 'D4', 'QNL', 'QNL.01.002', 'reopened', 'pending', false, false, 'd',
        '2026-10-20 08:00+08', '2026-10-20 08:10+08', '2026-11-03 08:00+08', NULL, 'road'),
       (910005, 'web', 'D5', 'QNL', 'QNL.01.002', 'signed', 'hard', false, false, 'd',
        '2026-10-01 08:00+08', '2026-10-01 08:10+08', '2026-10-01 09:00+08', NULL, NULL),
       (910006, 'web', 'D6', 'QNL', 'QNL.10.085', 'resolved', 'resolved', false, false, 'd',
        '2026-11-02 08:00+08', '2026-11-02 08:10+08', '2026-11-03 12:00+08', NULL, NULL),
       (910007, 'web', 'D7', 'QNL', 'QNL.10.085', 'in_progress', 'pending', false, true, 'd',
        '2026-11-04 08:00+08', '2026-11-04 08:10+08', '2026-11-04 09:00+08', NULL, NULL),
       (910008, 'web', 'D8', 'QNL', 'QNL.10.085', 'merged', 'pending', true, false, 'd',
        '2026-11-04 08:05+08', '2026-11-04 08:15+08', '2026-11-04 09:00+08', 910007, NULL),
       (910009, 'web', 'D9', 'QNL', 'QNL', 'unroutable', 'pending', false, false, 'd',
        '2026-11-04 09:00+08', NULL, NULL, NULL, NULL),
       (910010, 'web', 'D10', 'QNL', 'QNL.02.013', 'closed', 'resolved', false, false, 'd',
        '2026-10-10 08:00+08', '2026-10-10 08:10+08', '2026-10-12 08:00+08', NULL, NULL);
INSERT INTO case_events (seq, type, topic, case_id, grid, at) VALUES
    (1, 'case.resolved', 'case.resolved/QNL.10.085', 910006, 'QNL.10.085', '2026-11-03 12:00+08'),
    (2, 'case.closed', 'case.closed/QNL.02.013', 910010, 'QNL.02.013', '2026-10-12 08:00+08');
INSERT INTO escalations (case_id, rule, from_level, to_level, at) VALUES
    (910005, 'weekly_l2', 3, 2, '2026-11-02 09:00+08'),
    (910004, 'urgent_l2', 3, 2, '2026-11-03 09:00+08');

SELECT is ((SELECT count (*)::int FROM cases), 10, 'the case set is the only one');

-- summary.json
CREATE TEMP TABLE s ON COMMIT DROP AS SELECT gf_dash_summary (NULL) AS j;
CREATE TEMP TABLE sg ON COMMIT DROP AS
    SELECT g->>'code' AS code, (g->>'total')::int AS total, (g->>'open')::int AS open,
           (g->>'resolved')::int AS resolved, (g->>'pending')::int AS pending,
           (g->>'hard')::int AS hard, (g->>'urgent')::int AS urgent
      FROM s, json_array_elements (s.j->'grids') g;
SELECT is ((SELECT (j->>'head')::int FROM s), 2, 'summary: the log head');
SELECT is ((SELECT j->>'at' FROM s), '2026-11-04 10:00:00', 'summary: the clock, Asia/Shanghai');
SELECT is ((SELECT ARRAY[(j->'totals'->>'total')::int, (j->'totals'->>'open')::int,
                         (j->'totals'->>'resolved')::int, (j->'totals'->>'pending')::int,
                         (j->'totals'->>'hard')::int]
              FROM s),
           ARRAY[9, 7, 2, 6, 1], 'totals: 9 cases (the merged one left out), 7 open, 2/6/1 by tier');
SELECT is ((SELECT ARRAY[(j->'totals'->>'unroutable')::int, (j->'totals'->>'urgent')::int,
                         (j->'totals'->>'supervised')::int]
              FROM s),
           ARRAY[1, 2, 1], 'totals: 1 unroutable, 2 urgent open, 1 supervised open');
SELECT is ((SELECT count (*)::int FROM sg), (SELECT count (*)::int FROM grids),
           'summary lists every grid');
SELECT results_eq ($$SELECT total, open, resolved, pending, hard, urgent FROM sg WHERE code = 'QNL.01'$$,
                   $$VALUES (5, 5, 0, 4, 1, 2)$$, 'an L2 grid counts its subtree (QNL.01)');
SELECT results_eq ($$SELECT total, open, hard, urgent FROM sg WHERE code = 'QNL.01.002'$$,
                   $$VALUES (3, 3, 1, 1)$$, 'an L3 grid counts its own cases (QNL.01.002)');
SELECT results_eq ($$SELECT total, open, resolved FROM sg WHERE code = 'QNL.10'$$,
                   $$VALUES (2, 1, 1)$$, 'QNL.10: the merged case is not counted');
SELECT results_eq ($$SELECT total, open FROM sg WHERE code = 'QNL.1'$$,
                   $$VALUES (0, 0)$$, 'QNL.1 does not hold QNL.10''s cases (a subtree, not a prefix)');
SELECT results_eq ($$SELECT total, open FROM sg WHERE code = 'QNL'$$,
                   $$VALUES (9, 7)$$, 'the root holds every case, its own unroutable one too');

-- escalations.json: overdue = gf_overdue_at <= gf_now
CREATE TEMP TABLE e ON COMMIT DROP AS SELECT gf_dash_escalations (NULL) AS j;
SELECT results_eq ($$SELECT (o->>'case_id')::bigint FROM e, json_array_elements (e.j->'overdue') o$$,
                   ARRAY[910004::bigint, 910001, 910003],
                   'overdue: reopened and routed past the rule, longest waiting first');
SELECT set_eq ($$SELECT (o->>'case_id')::bigint FROM e, json_array_elements (e.j->'overdue') o$$,
               $$SELECT id FROM cases
                  WHERE gf_overdue_at (state, root, urgent, routed_at, received_at, updated_at)
                        <= gf_now ()$$,
               'the overdue list is the cases gf_overdue_at says are overdue');
SELECT is ((SELECT (j->>'overdue_total')::int FROM e), 3, 'overdue_total');
SELECT is ((SELECT o->>'hours' FROM e, json_array_elements (e.j->'overdue') o
             WHERE o->>'case_id' = '910001'), '25', 'hours since it reached the grid');
SELECT is ((SELECT o->>'category' || ' ' || (o->>'grid_name') FROM e, json_array_elements (e.j->'overdue') o
             WHERE o->>'case_id' = '910001'),
           (SELECT c.name || ' ' || g.name FROM categories c, grids g
             WHERE c.code = 'water' AND g.code = 'QNL.01.001'),
           'an overdue case has its category''s and grid''s names');
SELECT is ((SELECT (j->>'escalations_total')::int FROM e), 2, 'escalations_total');
SELECT results_eq ($$SELECT x->>'case_id', x->>'rule', x->>'state', x->>'at'
                      FROM e, json_array_elements (e.j->'escalations') x$$,
                   $$VALUES ('910004', 'urgent_l2', '重办', '2026-11-03 09:00'),
                            ('910005', 'weekly_l2', '已签收', '2026-11-02 09:00')$$,
                   'escalations: newest first, with the case''s state name');
-- One more overdue in an hour: the urgent case routed at 09:30.
UPDATE sim_clock SET at = '2026-11-04 11:00+08';
SELECT is ((gf_dash_escalations (NULL)->>'overdue_total')::int, 4, 'overdue moves with the clock');
UPDATE sim_clock SET at = '2026-11-04 10:00+08';

-- trend.json
SELECT results_eq ($$SELECT d->>'day', (d->>'received')::int, (d->>'resolved')::int
                      FROM json_array_elements (gf_dash_trend (3, NULL)) d$$,
                   $$VALUES ('11-02', 1, 0), ('11-03', 1, 1), ('11-04', 5, 0)$$,
                   'trend: received and resolved per day, the last 3 days');

-- directory.json
SELECT is (json_array_length (gf_dash_directory ('QNL.1')), 1, 'directory of QNL.1: itself only');
SELECT is (json_array_length (gf_dash_directory ('QNL.10')),
           (SELECT count (*)::int FROM grids WHERE code = 'QNL.10' OR parent = 'QNL.10'),
           'directory of QNL.10: it and its L3 grids');
SELECT is (json_array_length (gf_dash_directory (NULL)), (SELECT count (*)::int FROM grids),
           'directory: every grid');

-- vocabulary.json: the tables, not copies
SELECT is ((SELECT count (*)::int FROM json_object_keys (gf_dash_vocabulary ()->'event_types')),
           (SELECT count (*)::int FROM event_types), 'vocabulary: every event type');
UPDATE event_types SET name = '派单' WHERE type = 'case.routed';
SELECT is (gf_dash_vocabulary ()->'event_types'->>'case.routed', '派单',
           'vocabulary: an event type''s name is read from event_types');
SELECT is (gf_dash_vocabulary ()->'escalation_rules'->>'weekly_l2',
           (SELECT name FROM escalation_rule_names WHERE rule = 'weekly_l2'),
           'vocabulary: escalation rule names from escalation_rule_names');

-- The viewer's subtree (issue 16): only what lies inside it.
SELECT is ((SELECT string_agg (g->>'code', ',' ORDER BY g->>'code') FROM json_array_elements (gf_dash_summary ('QNL.10')->'grids') g),
           (SELECT string_agg (code, ',' ORDER BY code) FROM grids WHERE gf_in_subtree (code, 'QNL.10')),
           'summary of QNL.10: its grids only');
SELECT is ((SELECT ARRAY[(j->'totals'->>'total')::int, (j->'totals'->>'open')::int,
                         (j->'totals'->>'unroutable')::int]
              FROM gf_dash_summary ('QNL.01') j),
           ARRAY[5, 5, 0], 'summary of QNL.01: its five cases, not the root''s unroutable one');
SELECT is ((gf_dash_summary ('QNL.1')->'totals'->>'total')::int, 0,
           'summary of QNL.1: not QNL.10''s cases (a subtree, not a prefix)');
SELECT results_eq ($$SELECT (o->>'case_id')::bigint FROM json_array_elements (gf_dash_escalations ('QNL.01.001')->'overdue') o$$,
                   ARRAY[910001::bigint], 'escalations of QNL.01.001: its overdue case only');
SELECT is ((SELECT (j->>'escalations_total')::int || ' ' || (j->>'overdue_total')::int
              FROM gf_dash_escalations ('QNL.10') j), '0 0',
           'escalations of QNL.10: none of QNL.01''s');
SELECT results_eq ($$SELECT d->>'day', (d->>'received')::int, (d->>'resolved')::int
                      FROM json_array_elements (gf_dash_trend (3, 'QNL.10')) d$$,
                   $$VALUES ('11-02', 1, 0), ('11-03', 0, 1), ('11-04', 2, 0)$$,
                   'trend of QNL.10: its cases only');

-- gridctl watch
SELECT bag_eq ($$SELECT id FROM gf_watch_cases ('QNL.01', NULL)$$,
               ARRAY[910001::bigint, 910002, 910003, 910004, 910005], 'watch: the open cases of QNL.01');
SELECT is_empty ($$SELECT id FROM gf_watch_cases ('QNL.1', NULL)$$,
                 'watch: QNL.1 does not hold QNL.10''s cases');
SELECT results_eq ($$SELECT count (*)::int, count (*) FILTER (WHERE overdue_at <= extract (epoch FROM gf_now ()) * 1000)::int
                      FROM gf_watch_cases ('', NULL)$$,
                   $$VALUES (7, 3)$$, 'watch: every open case, 3 of them overdue by gf_overdue_at');
SELECT results_eq ($$SELECT id, overdue_at FROM gf_watch_cases ('QNL.01', 910003)$$,
                   $$VALUES (910003::bigint, (extract (epoch FROM timestamptz '2026-11-04 09:00+08') * 1000)::bigint)$$,
                   'watch: one case, when it becomes overdue (epoch ms)');

SELECT * FROM finish ();
ROLLBACK;
