-- pgTAP: deploy/sql/repeatable/case_actions.sql — gf_case_act applies a step
-- the lifecycle (common/gf_case.c) decided: the case changes and its version
-- goes up, a case_actions row and an event are written, merged cases follow
-- a resolve; an error leaves nothing; the intake's role may call it.  All
-- rolled back.
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (48);

INSERT INTO sim_clock (at) VALUES ('2026-03-02 10:00+08')
    ON CONFLICT (id) DO UPDATE SET at = excluded.at;
-- Three cases routed to QNL.01.001 (as the router leaves them).
CREATE TEMP TABLE c AS
SELECT i, case_id FROM gf_intake_store ('[
  {"i": 0, "rid": "a-0", "source": "hotline", "source_ref": "gft-act-0", "description": "x", "urgent": false},
  {"i": 1, "rid": "a-1", "source": "hotline", "source_ref": "gft-act-1", "description": "x", "urgent": false},
  {"i": 2, "rid": "a-2", "source": "hotline", "source_ref": "gft-act-2", "description": "x", "urgent": false}
]', 'QNL');
UPDATE cases SET state = 'routed', grid = 'QNL.01.001', routed_at = gf_now (), version = 2
 WHERE id IN (SELECT case_id FROM c);
CREATE FUNCTION pg_temp.cid (k int) RETURNS bigint LANGUAGE sql AS $$ SELECT case_id FROM c WHERE i = k $$;
INSERT INTO sim_clock (at) VALUES ('2026-03-02 11:00+08')
    ON CONFLICT (id) DO UPDATE SET at = excluded.at;

-- sign (routed -> signed) by the grid's leader.
SELECT is (gf_case_act (pg_temp.cid (0), 'req-1', 'P-QNL.01.001-1', 'sign', 'routed', 'signed',
                        'case.signed', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
           3, 'sign: returns the new version (2 -> 3)');
SELECT is ((SELECT row (state, version, signed_at, updated_at)::text FROM cases WHERE id = pg_temp.cid (0)),
           row ('signed', 3, gf_now (), gf_now ())::text,
           'sign: state, version, signed_at and updated_at at the simulated clock');
SELECT is ((SELECT row (request_id, actor, action, from_state, to_state, version, note, at)::text
              FROM case_actions WHERE case_id = pg_temp.cid (0)),
           row ('req-1', 'P-QNL.01.001-1', 'sign', 'routed', 'signed', 3, NULL::text, gf_now ())::text,
           'sign: one case_actions row');
SELECT is ((SELECT row (type, topic, grid, at, payload)::text FROM case_events
             WHERE case_id = pg_temp.cid (0) AND type = 'case.signed'),
           row ('case.signed', 'case.signed/QNL.01.001', 'QNL.01.001', gf_now (),
                '{"action": "sign", "actor": "P-QNL.01.001-1", "from": "routed", "to": "signed",
                  "version": 3, "note": null, "l2": "QNL.01"}'::jsonb)::text,
           'sign: its event on the case''s grid, with the L2 grid');

-- classify: tier, urgent, groups; the event carries tier and urgent as after
-- the change, the groups only in its restricted part (never published).
SELECT is (gf_case_act (pg_temp.cid (0), 'req-2', 'P-QNL.01.001-1', 'classify', 'signed', 'signed',
                        'case.classified', NULL, NULL, NULL, 'hard', true, 'dibao,disabled', NULL,
                        NULL, NULL), 4, 'classify: version 4');
SELECT is ((SELECT row (state, tier, urgent, groups)::text FROM cases WHERE id = pg_temp.cid (0)),
           row ('signed', 'hard', true, '{dibao,disabled}'::text[])::text,
           'classify: the state stays, tier/urgent/groups change');
SELECT is ((SELECT payload - 'actor' - 'note' - 'l2' FROM case_events
             WHERE case_id = pg_temp.cid (0) AND type = 'case.classified'),
           '{"action": "classify", "from": "signed", "to": "signed", "version": 4, "tier": "hard",
             "urgent": true, "category": null}'::jsonb,
           'classify: the event''s tier and urgent, no groups');
SELECT is ((SELECT restricted FROM case_events
             WHERE case_id = pg_temp.cid (0) AND type = 'case.classified'),
           '{"groups": ["dibao", "disabled"]}'::jsonb,
           'classify: the groups (an array) in the event''s restricted part');
SELECT is (gf_case_act (pg_temp.cid (0), 'req-3', 'P-QNL.01.001-1', 'classify', 'signed', 'signed',
                    'case.classified', NULL, NULL, NULL, NULL, NULL, '', NULL, NULL, NULL),
           5, 'classify: version 5');
SELECT is ((SELECT row (tier, urgent, groups)::text FROM cases WHERE id = pg_temp.cid (0)),
           row ('hard', true, '{}'::text[])::text,
           'classify with groups '''' only: groups cleared, the rest kept');

-- return (signed -> registered): back to the root, announced to the grid it left.
SELECT is (gf_case_act (pg_temp.cid (1), 'req-4', 'P-QNL.01.001-1', 'return', 'routed', 'registered',
                    'case.returned', 'QNL.01.001', 'not ours', NULL, NULL, NULL, NULL, NULL, NULL, NULL),
           3, 'return: version 3');
SELECT is ((SELECT row (state, grid, returned_from, version)::text FROM cases WHERE id = pg_temp.cid (1)),
           row ('registered', 'QNL', '{QNL.01.001}'::text[], 3)::text,
           'return: registered at the root, the grid it left in returned_from');
SELECT is ((SELECT topic || ' ' || (payload->>'note') FROM case_events
             WHERE case_id = pg_temp.cid (1) AND type = 'case.returned'),
           'case.returned/QNL.01.001 not ours', 'return: the event goes to the grid that returned it');

-- assign (registered -> routed) by the L2 leader.
SELECT is (gf_case_act (pg_temp.cid (1), 'req-5', 'P-QNL.01-1', 'assign', 'registered', 'routed',
                    'case.routed', NULL, NULL, 'QNL.01.002', NULL, NULL, NULL, NULL, NULL, NULL),
           4, 'assign: version 4');
SELECT is ((SELECT row (state, grid, routed_at)::text FROM cases WHERE id = pg_temp.cid (1)),
           row ('routed', 'QNL.01.002', gf_now ())::text, 'assign: the new grid, routed now');
SELECT is ((SELECT topic || ' ' || (payload->>'grid') || ' ' || (payload->>'via') FROM case_events
             WHERE case_id = pg_temp.cid (1) AND type = 'case.routed'),
           'case.routed/QNL.01.002 QNL.01.002 assign', 'assign: the event on the new grid, via assign');

-- merge case 2 into case 0, then resolve case 0: case 2 follows.
SELECT is (gf_case_act (pg_temp.cid (2), 'req-6', 'P-QNL.01-1', 'merge', 'routed', 'merged',
                    'case.merged', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, pg_temp.cid (0)),
           3, 'merge: version 3');
SELECT is ((SELECT row (state, merged_into)::text FROM cases WHERE id = pg_temp.cid (2)),
           row ('merged', pg_temp.cid (0))::text, 'merge: merged into the other case');
SELECT is ((SELECT (payload->>'into')::bigint FROM case_events
             WHERE case_id = pg_temp.cid (2) AND type = 'case.merged'),
           pg_temp.cid (0), 'merge: the event names the case it went into');
-- (the follow step as the intake passes it from common/gf_case.c)
SELECT is (gf_case_act (pg_temp.cid (0), 'req-7', 'P-QNL.01.001-1', 'resolve', 'signed', 'resolved',
                    'case.resolved', NULL, 'fixed', NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                    '{merged}', 'resolved', 'case.resolved'),
           6, 'resolve: version 6');
SELECT is ((SELECT row (state, tier, resolved_at, version)::text FROM cases WHERE id = pg_temp.cid (0)),
           row ('resolved', 'resolved', gf_now (), 6)::text, 'resolve: resolved now, tier resolved');
SELECT is ((SELECT row (state, tier, resolved_at, version)::text FROM cases WHERE id = pg_temp.cid (2)),
           row ('resolved', 'resolved', gf_now (), 4)::text, 'resolve: the merged case follows');
SELECT is ((SELECT payload - 'version' FROM case_events
             WHERE case_id = pg_temp.cid (2) AND type = 'case.resolved'),
           jsonb_build_object ('action', 'resolve', 'actor', 'P-QNL.01.001-1', 'from', 'merged',
                               'to', 'resolved', 'note', 'fixed', 'follows', pg_temp.cid (0)),
           'resolve: the follower''s case.resolved names the case it follows');
-- classify does not touch the tier of a resolved case.
SELECT is (gf_case_act (pg_temp.cid (0), 'req-8', 'P-QNL.01.001-1', 'classify', 'resolved', 'resolved',
                    'case.classified', NULL, NULL, NULL, 'pending', NULL, NULL, NULL, NULL, NULL),
           7, 'classify of a resolved case: version 7');
SELECT is ((SELECT tier FROM cases WHERE id = pg_temp.cid (0)), 'resolved',
           'classify: the tier of a resolved case stays resolved');

-- callback and reopen.
SELECT is (gf_case_act (pg_temp.cid (0), 'req-9', 'P-QNL.01.001-1', 'callback', 'resolved', 'called_back',
                    'case.callback', NULL, NULL, NULL, NULL, NULL, NULL, NULL, false, NULL),
           8, 'callback: version 8');
SELECT is (gf_case_act (pg_temp.cid (0), 'req-10', 'P-QNL.01.001-1', 'reopen', 'called_back', 'reopened',
                    'case.reopened', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
           9, 'reopen: version 9');
SELECT is ((SELECT row (state, tier, satisfied, resolved_at, reopen_count)::text
              FROM cases WHERE id = pg_temp.cid (0)),
           row ('reopened', 'pending', NULL::boolean, NULL::timestamptz, 1)::text,
           'callback then reopen: pending again, satisfied and resolved_at cleared, counted');
SELECT is ((SELECT payload->'satisfied' FROM case_events
             WHERE case_id = pg_temp.cid (0) AND type = 'case.callback'),
           'false'::jsonb, 'callback: the event says whether the resident was satisfied');

-- An error leaves nothing: a request id the actor already used (unique), a
-- case that does not exist.
CREATE TEMP TABLE before AS
SELECT (SELECT row (state, version, updated_at)::text FROM cases WHERE id = pg_temp.cid (1)) AS c1,
       (SELECT count(*) FROM case_actions) AS actions, (SELECT count(*) FROM case_events) AS events;
SELECT throws_ok (format ($$SELECT gf_case_act (%s, 'req-5', 'P-QNL.01-1', 'supervise', 'routed',
                          'routed', 'case.supervised', NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                          NULL, NULL)$$, pg_temp.cid (1)),
                  '23505', NULL, 'a request id used twice by the same actor: unique_violation');
SELECT throws_ok ($$SELECT gf_case_act (-1, 'req-x', 'P-QNL.01-1', 'supervise', 'routed',
                   'routed', 'case.supervised', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)$$,
                  'P0002', NULL, 'no such case: no_data_found');
SELECT is ((SELECT row (c1, actions, events)::text FROM before),
           (SELECT row ((SELECT row (state, version, updated_at)::text FROM cases WHERE id = pg_temp.cid (1)),
                        (SELECT count(*) FROM case_actions), (SELECT count(*) FROM case_events))::text),
           'after the errors: the case, case_actions and case_events are unchanged');

-- The intake's own role may apply actions.
SET LOCAL ROLE gf_intake;
DO $$
BEGIN
    PERFORM set_config ('gft.v', gf_case_act ((SELECT id FROM cases WHERE source_ref = 'gft-act-1'),
        'req-11', 'P-QNL.01-1', 'supervise', 'routed', 'routed', 'case.supervised', NULL, NULL,
        NULL, NULL, NULL, NULL, NULL, NULL, NULL)::text, true);
END
$$;
RESET ROLE;
SELECT is ((SELECT row (current_setting ('gft.v'), supervised, version)::text FROM cases
             WHERE id = pg_temp.cid (1)),
           row ('5', true, 5)::text, 'as gf_intake: supervise applied (supervised, version 5)');

-- The SQL decides no transition: without the lifecycle's follow step, a
-- resolve moves no merged case; with it, only cases in its states move.
INSERT INTO c
SELECT i, case_id FROM gf_intake_store ('[
  {"i": 3, "rid": "a-3", "source": "hotline", "source_ref": "gft-act-3", "description": "x", "urgent": false},
  {"i": 4, "rid": "a-4", "source": "hotline", "source_ref": "gft-act-4", "description": "x", "urgent": false}
]', 'QNL');
UPDATE cases SET state = 'signed', grid = 'QNL.01.001', version = 2 WHERE id = pg_temp.cid (4);
UPDATE cases SET state = 'merged', grid = 'QNL.01.001', version = 2, merged_into = pg_temp.cid (4)
 WHERE id = pg_temp.cid (3);
SELECT is (gf_case_act (pg_temp.cid (4), 'req-12', 'P-QNL.01.001-1', 'resolve', 'signed', 'resolved',
                    'case.resolved', NULL, 'fixed', NULL, NULL, NULL, NULL, NULL, NULL, NULL),
           3, 'resolve without the follow step: version 3');
SELECT is ((SELECT row (state, version)::text FROM cases WHERE id = pg_temp.cid (3)), '(merged,2)',
           'without the follow step the merged case stays merged');
SELECT is (gf_case_act (pg_temp.cid (4), 'req-13', 'P-QNL.01.001-1', 'resolve', 'resolved', 'resolved',
                    'case.resolved', NULL, 'again', NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                    '{registered}', 'resolved', 'case.resolved'),
           4, 'a follow step from other states');
SELECT is ((SELECT state FROM cases WHERE id = pg_temp.cid (3)), 'merged',
           'moves only the merged cases in its states');

-- Merges stay one level deep: C -> A, then A -> B re-points C to B (with
-- the lifecycle's re-point step, p_repoint), so C follows B's resolve.
INSERT INTO c
SELECT i, case_id FROM gf_intake_store ('[
  {"i": 5, "rid": "a-5", "source": "hotline", "source_ref": "gft-act-5", "description": "x", "urgent": false},
  {"i": 6, "rid": "a-6", "source": "hotline", "source_ref": "gft-act-6", "description": "x", "urgent": false},
  {"i": 7, "rid": "a-7", "source": "hotline", "source_ref": "gft-act-7", "description": "x", "urgent": false}
]', 'QNL');
UPDATE cases SET state = 'signed', grid = 'QNL.01.001', version = 2
 WHERE id IN (pg_temp.cid (5), pg_temp.cid (6), pg_temp.cid (7));
SELECT gf_case_act (pg_temp.cid (7), 'req-14', 'P-QNL.01-1', 'merge', 'signed', 'merged',
                    'case.merged', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, pg_temp.cid (5),
                    NULL, NULL, NULL, true);
SELECT is (gf_case_act (pg_temp.cid (5), 'req-15', 'P-QNL.01-1', 'merge', 'signed', 'merged',
                    'case.merged', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, pg_temp.cid (6),
                    NULL, NULL, NULL, true),
           3, 'A merged into B: version 3');
SELECT is ((SELECT row (state, merged_into, version)::text FROM cases WHERE id = pg_temp.cid (7)),
           row ('merged', pg_temp.cid (6), 4)::text, 'C, merged into A, now points at B');
SELECT is ((SELECT payload - 'version' - 'l2' FROM case_events
             WHERE case_id = pg_temp.cid (7) AND type = 'case.merged' AND payload ? 'via'),
           jsonb_build_object ('action', 'merge', 'actor', 'P-QNL.01-1', 'from', 'merged',
                               'to', 'merged', 'note', NULL, 'into', pg_temp.cid (6),
                               'via', pg_temp.cid (5)),
           'the re-pointed case''s case.merged names B (into) and A (via)');
SELECT gf_case_act (pg_temp.cid (6), 'req-16', 'P-QNL.01.001-1', 'resolve', 'signed', 'resolved',
                    'case.resolved', NULL, 'fixed', NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                    '{merged}', 'resolved', 'case.resolved');
SELECT is ((SELECT string_agg (state, ',' ORDER BY id) FROM cases
             WHERE id IN (pg_temp.cid (5), pg_temp.cid (6), pg_temp.cid (7))),
           'resolved,resolved,resolved', 'B resolved: A and C (the old chain) follow it');

-- 028: classify sets the category; reject records the reason and leaves the
-- case not open; unreject clears it and restarts the grid's sign-for clock.
UPDATE cases SET state = 'signed', grid = 'QNL.01.001', version = 2, category = NULL
 WHERE id = pg_temp.cid (1);
SELECT is (gf_case_act (pg_temp.cid (1), 'req-20', 'P-QNL.01.001-1', 'classify', 'signed', 'signed',
                        'case.classified', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                        NULL, NULL, NULL, false, 'water', NULL),
           3, 'classify with a category: version 3');
SELECT is ((SELECT row (category, tier, urgent)::text FROM cases WHERE id = pg_temp.cid (1)),
           row ('water', 'pending', false)::text, 'classify: the category set, the rest unchanged');
SELECT is ((SELECT payload->>'category' FROM case_events
             WHERE case_id = pg_temp.cid (1) AND type = 'case.classified'),
           'water', 'case.classified carries the category');
SELECT is (gf_case_act (pg_temp.cid (1), 'req-21', 'P-QNL.01.001-1', 'reject', 'signed', 'rejected',
                        'case.rejected', NULL, '与 12 号案件重复', NULL, NULL, NULL, NULL, NULL,
                        NULL, NULL, NULL, NULL, NULL, false, NULL, 'duplicate'),
           4, 'reject: version 4');
SELECT is ((SELECT row (state, rejected_reason, gf_case_open (state))::text FROM cases
             WHERE id = pg_temp.cid (1)),
           row ('rejected', 'duplicate', false)::text, 'reject: rejected with its reason, not open');
SELECT is ((SELECT payload->>'reason' FROM case_events
             WHERE case_id = pg_temp.cid (1) AND type = 'case.rejected'),
           'duplicate', 'case.rejected carries the reason');
INSERT INTO sim_clock (at) VALUES ('2026-03-02 15:00+08')
    ON CONFLICT (id) DO UPDATE SET at = excluded.at;
SELECT gf_case_act (pg_temp.cid (1), 'req-22', 'P-QNL.01-1', 'unreject', 'rejected', 'routed',
                    'case.unrejected', NULL, '非重复，恢复办理', NULL, NULL, NULL, NULL, NULL,
                    NULL, NULL, NULL, NULL, NULL, false, NULL, NULL);
SELECT is ((SELECT row (state, rejected_reason, routed_at, version)::text FROM cases
             WHERE id = pg_temp.cid (1)),
           row ('routed', NULL::text, gf_now (), 5)::text,
           'unreject: routed again, the reason cleared, the sign-for clock restarted');

SELECT * FROM finish ();
ROLLBACK;
