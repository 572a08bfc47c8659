-- pgTAP: deploy/sql/repeatable/case_history.sql — gf_case_at rebuilds a
-- case's state, tier and level at a past instant from its events, and
-- gf_ledger_cases_at uses it for a case changed after the instant;
-- gf_window_cases reads a window's cases once for many subtrees
-- (gf_ledger_cases_in).
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (19);

INSERT INTO cases (id, source, source_ref, root, grid, state, tier, level, description, received_at)
VALUES (930001, 't', 'h1', 'QNL', 'QNL.01.001', 'reopened', 'pending', 2, 'd', '2026-03-02 10:00+08'),
       (930002, 't', 'h2', 'QNL', 'QNL', 'unroutable', 'pending', 3, 'd', '2026-03-02 10:00+08');
INSERT INTO event_stage (type, topic, case_id, grid, at, payload) VALUES
    ('case.received', 'case.received/QNL', 930001, 'QNL', '2026-03-02 10:00+08', '{}'),
    ('case.routed', 'case.routed/QNL.01.001', 930001, 'QNL.01.001', '2026-03-02 11:00+08', '{"grid": "QNL.01.001", "via": "address"}'),
    ('case.signed', 'case.signed/QNL.01.001', 930001, 'QNL.01.001', '2026-03-02 12:00+08', '{"from": "routed", "to": "signed"}'),
    ('case.classified', 'case.classified/QNL.01.001', 930001, 'QNL.01.001', '2026-03-02 13:00+08', '{"from": "signed", "to": "signed", "tier": "hard"}'),
    ('case.classified', 'case.classified/QNL.01.001', 930001, 'QNL.01.001', '2026-03-02 13:30+08', '{"from": "signed", "to": "signed", "tier": null, "urgent": true}'),
    ('case.escalated', 'case.escalated/QNL.01.001', 930001, 'QNL.01.001', '2026-03-02 14:00+08', '{"from_level": 3, "to_level": 2}'),
    ('notification.created', 'notify/P-QNL.01-1', 930001, 'QNL.01.001', '2026-03-02 14:00+08', '{"kind": "escalated.to2"}'),
    ('case.resolved', 'case.resolved/QNL.01.001', 930001, 'QNL.01.001', '2026-03-02 15:00+08', '{"from": "signed", "to": "resolved"}'),
    ('case.callback', 'case.callback/QNL.01.001', 930001, 'QNL.01.001', '2026-03-02 16:00+08', '{"from": "resolved", "to": "called_back", "satisfied": false}'),
    ('case.reopened', 'case.reopened/QNL.01.001', 930001, 'QNL.01.001', '2026-03-02 17:00+08', '{"from": "called_back", "to": "reopened"}'),
    ('case.received', 'case.received/QNL', 930002, 'QNL', '2026-03-02 10:00+08', '{}'),
    ('case.unroutable', 'case.unroutable/QNL', 930002, 'QNL', '2026-03-02 10:00:01+08', '{"reason": "unknown_address"}');

SELECT is ((SELECT row (s.*)::text FROM gf_case_at (930001, '2026-03-02 09:00+08') s), '(registered,pending,3)',
           'before any event: registered, pending, L3');
SELECT is ((SELECT row (s.*)::text FROM gf_case_at (930001, '2026-03-02 10:30+08') s), '(registered,pending,3)',
           'received');
SELECT is ((SELECT row (s.*)::text FROM gf_case_at (930001, '2026-03-02 11:00+08') s), '(routed,pending,3)',
           'case.routed (no "to" key): routed, at the event''s instant included');
SELECT is ((SELECT row (s.*)::text FROM gf_case_at (930001, '2026-03-02 12:30+08') s), '(signed,pending,3)',
           'an action event: its "to" state');
SELECT is ((SELECT row (s.*)::text FROM gf_case_at (930001, '2026-03-02 13:10+08') s), '(signed,hard,3)',
           'classified hard');
SELECT is ((SELECT row (s.*)::text FROM gf_case_at (930001, '2026-03-02 13:40+08') s), '(signed,hard,3)',
           'a classify without a tier keeps the tier');
SELECT is ((SELECT row (s.*)::text FROM gf_case_at (930001, '2026-03-02 14:30+08') s), '(signed,hard,2)',
           'escalated to L2 (a notification event changes nothing)');
SELECT is ((SELECT row (s.*)::text FROM gf_case_at (930001, '2026-03-02 15:30+08') s), '(resolved,resolved,2)',
           'resolved: tier resolved');
SELECT is ((SELECT row (s.*)::text FROM gf_case_at (930001, '2026-03-02 16:30+08') s), '(called_back,resolved,2)',
           'called back: still resolved');
SELECT is ((SELECT row (s.*)::text FROM gf_case_at (930001, '2026-03-02 17:30+08') s), '(reopened,pending,2)',
           'reopened: the tier is pending again, the level stays');
SELECT is ((SELECT row (s.*)::text FROM gf_case_at (930002, '2026-03-02 11:00+08') s), '(unroutable,pending,3)',
           'case.unroutable: unroutable');

-- gf_ledger_cases_at: the live row when nothing happened after t, else rebuilt.
SELECT is ((SELECT row (l.state, l.tier, l.level)::text FROM gf_ledger_cases_at ('QNL.01', NULL, '2026-03-02 14:30+08') l
             WHERE l.id = 930001), '(signed,hard,2)', 'the ledger at 14:30 sees the case as it was');
SELECT is ((SELECT row (l.state, l.tier, l.level, l.open_now)::text FROM gf_ledger_cases_at ('QNL.01', NULL, '2026-03-02 18:00+08') l
             WHERE l.id = 930001), '(reopened,pending,2,t)', 'after its last event: the live row');
SELECT ok ((SELECT touched FROM gf_ledger_cases_at ('QNL.01', '2026-03-02 14:30+08', '2026-03-02 15:30+08') l
             WHERE l.id = 930001), 'an event in [from, t): touched');

-- gf_window_cases: the subtree's cases with an event after t, and with one
-- in [from, t); an event at t itself is in neither.
SELECT is ((SELECT row (w.*)::text FROM gf_window_cases ('QNL', '2026-03-02 10:00:01+08', '2026-03-02 15:00+08') w),
           '({930001},{QNL.01.001},{930001},{QNL.01.001})',
           'gf_window_cases: later, and touched in [from, t) (the resolve at t itself in neither); the L1 grid''s own case is not in its subtree');
SELECT is ((SELECT row (w.*)::text FROM gf_window_cases ('QNL', '2026-03-02 16:00:01+08', '2026-03-02 17:30+08') w),
           '({},{},{930001},{QNL.01.001})', 'nothing after t: no later case');
SELECT is ((SELECT row (w.*)::text FROM gf_window_cases ('QNL', NULL, '2026-03-02 14:00+08') w),
           '({930001},{QNL.01.001},,)', 'without a period start: the cases changed after t only');
-- A window of a wider subtree gives each subtree what its own read gives.
SELECT set_eq (
    $$SELECT l.* FROM gf_window_cases ('QNL', '2026-03-02 15:30+08', '2026-03-02 16:30+08') w
       CROSS JOIN LATERAL gf_ledger_cases_in ('QNL.01', '2026-03-02 16:30+08', w.later_ids, w.later_grids,
                                              w.touched_ids, w.touched_grids) l$$,
    $$SELECT * FROM gf_ledger_cases_at ('QNL.01', '2026-03-02 15:30+08', '2026-03-02 16:30+08')$$,
    'gf_ledger_cases_in over the root''s window: what gf_ledger_cases_at reads for the subtree');

-- Planned for each call's own values (force_custom_plan): a session that
-- ran it five times would otherwise keep a generic plan whose guessed
-- set sizes (an array's unnest, a subtree's bounds) are tiny; at 100,000
-- cases that plan scanned a CTE once per row and the monthly L1 meeting
-- never finished within the escalator's 60 s statement timeout (make chaos,
-- seed 55206).
SELECT set_eq ($$SELECT p.proname::text FROM pg_proc p
                 WHERE p.proname IN ('gf_window_cases', 'gf_ledger_cases_in')
                   AND 'plan_cache_mode=force_custom_plan' = ANY (p.proconfig)$$,
               ARRAY['gf_window_cases', 'gf_ledger_cases_in'], 'the window and the ledger''s cases are planned per call');

SELECT * FROM finish ();
ROLLBACK;
