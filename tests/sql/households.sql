-- pgTAP: deploy/sql/repeatable/households.sql — the household register's
-- messages (gf_household_apply: checks, codes, nothing written on refusal,
-- duplicates, the event without personal data), the operator's import, and
-- the visit deadlines (gf_visit_due over the visits log, patrols.sql).
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (39);

INSERT INTO sim_clock (at) VALUES ('2026-12-01 02:00+00') ON CONFLICT (id) DO UPDATE SET at = excluded.at;

CREATE TEMP TABLE r AS
SELECT * FROM gf_household_apply ('household.register', 'r1', 'P-QNL.01-1', NULL,
    '{"household":"hh-t1","grid":"QNL.01.001","address":"西街村1组7号","head_name":"测试甲","phone":"13900000001",
      "members":"[{\"name\":\"测试乙\",\"relation\":\"配偶\"}]"}');
SELECT is ((SELECT err FROM r), NULL, 'register: an L2 leader creates a household in its subtree');
SELECT is ((SELECT version FROM r), 1, 'its version is 1');
SELECT is ((SELECT change FROM r), 'created', 'the change is created');
SELECT is ((SELECT members->0->>'name' FROM households WHERE id = 'hh-t1'), '测试乙', 'the members are stored');
SELECT is ((SELECT payload FROM case_events WHERE type = 'household.changed' ORDER BY id DESC LIMIT 1),
           '{"change": "created", "version": 1, "household": "hh-t1"}'::jsonb,
           'the event carries the id, the change and the version only');
SELECT is ((SELECT duplicate FROM gf_household_apply ('household.register', 'r1', 'P-QNL.01-1', NULL,
            '{"household":"hh-t1","grid":"QNL.01.001","address":"x","head_name":"y"}')), true,
           'a resend is a duplicate');
SELECT is ((SELECT count (*) FROM household_changes WHERE household = 'hh-t1'), 1::bigint, 'and changes nothing');

CREATE FUNCTION pg_temp.code (p_type text, p_req text, p_actor text, p_args text) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce (err, 'ok') FROM gf_household_apply (p_type, p_req, p_actor, NULL, p_args::jsonb)
$$;
SELECT is (pg_temp.code ('household.register', 'r2', 'P-QNL.01-1',
           '{"household":"hh-t2","grid":"QNL.99.001","address":"a","head_name":"b"}'), 'unknown_grid', 'unknown grid');
SELECT is (pg_temp.code ('household.register', 'r2', 'P-QNL.01-1',
           '{"household":"hh-t2","grid":"QNL.01","address":"a","head_name":"b"}'), 'bad_value', 'a household belongs to an L3 grid');
SELECT is (pg_temp.code ('household.register', 'r2', 'P-QNL.02-1',
           '{"household":"hh-t2","grid":"QNL.01.001","address":"a","head_name":"b"}'), 'forbidden',
           'a grid outside the actor''s subtree is forbidden');
SELECT is (pg_temp.code ('household.register', 'r2', 'P-QNL.02-1',
           '{"household":"hh-t1","version":1,"address":"a"}'), 'forbidden',
           'a household outside the actor''s subtree is forbidden');
SELECT is (pg_temp.code ('household.register', 'r2', 'nobody',
           '{"household":"hh-t2","grid":"QNL.01.001","address":"a","head_name":"b"}'), 'unknown_actor', 'unknown actor');
SELECT is (pg_temp.code ('household.register', 'r2', 'P-QNL.01-1',
           '{"household":"hh-t2","grid":"QNL.01.001"}'), 'missing_field', 'a new household needs its address and head');
SELECT is (pg_temp.code ('household.register', 'r2', 'P-QNL.01-1',
           '{"household":"hh-t2","grid":"QNL.01.001","address":"a","head_name":"b","members":"[{\"name\":\"c\",\"idcard\":\"1\"}]"}'),
           'bad_value', 'members beyond what the work needs are refused');
SELECT is (pg_temp.code ('household.register', 'r2', 'P-QNL.01-1', '{"household":"hh-t1","address":"a"}'), 'conflict',
           'an update without the version is a conflict');
SELECT is (pg_temp.code ('household.register', 'r2', 'P-QNL.01-1', '{"household":"hh-t1","version":7,"address":"a"}'),
           'conflict', 'an update at a stale version is a conflict');
SELECT is (pg_temp.code ('household.register', 'r2', 'P-QNL.01-1', '{"household":"hh-tx","version":1,"address":"a"}'),
           'unknown_household', 'an update of an unknown household');
SELECT is (pg_temp.code ('household.group', 'g0', 'P-QNL.01-1', '{"household":"hh-none","group":"dibao","op":"add"}'),
           'unknown_household', 'a membership of an unknown household');
SELECT is (pg_temp.code ('household.group', 'g0', 'P-QNL.01-1', '{"household":"hh-t1","group":"rich","op":"add"}'),
           'bad_value', 'an unknown group');
SELECT is (pg_temp.code ('household.group', 'g0', 'P-QNL.01-1', '{"household":"hh-t1","group":"dibao","op":"end"}'),
           'bad_value', 'ending a membership the household does not have');
SELECT is ((SELECT count (*) FROM households WHERE id = 'hh-t2') + (SELECT count (*) FROM household_changes WHERE request_id <> 'r1'),
           0::bigint, 'nothing was written by the refused requests');

SELECT is (pg_temp.code ('household.group', 'g1', 'P-QNL.01-1',
           '{"household":"hh-t1","group":"dibao","op":"add","from":"2026-09-01","source":"民政名单"}'), 'ok', 'join dibao');
SELECT is (pg_temp.code ('household.group', 'g2', 'P-QNL.01-1',
           '{"household":"hh-t1","group":"dibao","op":"add"}'), 'conflict', 'joining a group twice is a conflict');
SELECT is (pg_temp.code ('household.group', 'g3', 'P-QNL.01-1',
           '{"household":"hh-t1","group":"dibao","op":"end","to":"2026-08-01"}'), 'bad_value', 'an end before the start');
SELECT is (gf_visit_due ('hh-t1'), '2026-12-01'::date, 'dibao (quarterly), never visited: due a quarter after joining');
INSERT INTO visits (request_id, actor, household, grid, done_at, body, logged_at)
VALUES ('v-t1', 'P-QNL.01-1', 'hh-t1', 'QNL.01.001', '2026-11-20 03:00+00', '{}', '2026-11-20 03:00+00');
SELECT is (gf_visit_due ('hh-t1'), '2027-02-20'::date, 'visited on 20 November: due a quarter later');
SELECT is (pg_temp.code ('household.group', 'g4', 'P-QNL.01-1',
           '{"household":"hh-t1","group":"bereaved","op":"add","from":"2026-11-25"}'), 'ok', 'join bereaved (monthly)');
SELECT is (gf_visit_due ('hh-t1'), '2026-12-25'::date, 'the shortest period counts, from the membership''s start');
SELECT is (pg_temp.code ('household.group', 'g5', 'P-QNL.01-1',
           '{"household":"hh-t1","group":"bereaved","op":"end","to":"2026-11-30"}'), 'ok', 'end bereaved');
SELECT is (gf_visit_due ('hh-t1'), '2027-02-20'::date, 'back to the quarterly period');
-- the rule as of an instant (the monthly report's month end), and set-wise
SELECT is (gf_visit_due_at ('hh-t1', '2026-11-26 12:00+08'), '2026-12-25'::date,
           'as of 26 November: bereaved (monthly) then, from its start');
SELECT is (gf_visit_due_at ('hh-t1', '2026-11-19 12:00+08'), '2026-12-01'::date,
           'as of 19 November: the visit of the 20th not yet made');
SELECT is ((SELECT d.due FROM gf_visit_due_set ('QNL.01', NULL, gf_now ()) d WHERE d.household = 'hh-t1'),
           gf_visit_due ('hh-t1'), 'the set-wise rule over a subtree gives the same day');
SELECT is ((SELECT string_agg (change || coalesce (':' || grp, ''), ',') FROM gf_household_history ('hh-t1')),
           'created,group_added:dibao,group_added:bereaved,group_ended:bereaved', 'the history lists the changes in order');

-- A CurveZMQ sender: its identity must be staff, act as itself, and hold the grid.
INSERT INTO identities (name, public_key, kind, grid, person) VALUES
    ('hh-adapter', repeat ('a', 40), 'adapter', 'QNL', NULL),
    ('hh-l2', repeat ('b', 40), 'staff', 'QNL.01', 'P-QNL.01-1'),
    ('hh-other', repeat ('c', 40), 'staff', 'QNL.02', NULL);
CREATE FUNCTION pg_temp.code_as (p_key text, p_actor text, p_args text) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce (err, 'ok') FROM gf_household_apply ('household.group', 'id-' || p_key, p_actor, p_key, p_args::jsonb)
$$;
SELECT is (pg_temp.code_as (repeat ('a', 40), 'P-QNL.01-1', '{"household":"hh-t1","group":"hardship","op":"add"}'),
           'forbidden', 'an adapter identity may not change the register');
SELECT is (pg_temp.code_as (repeat ('b', 40), 'P-QNL-1', '{"household":"hh-t1","group":"hardship","op":"add"}'),
           'forbidden', 'a staff identity acts only as its own person');
SELECT is (pg_temp.code_as (repeat ('c', 40), 'P-QNL-1', '{"household":"hh-t1","group":"hardship","op":"add"}'),
           'forbidden', 'an identity whose subtree does not hold the household''s grid');
SELECT is (pg_temp.code_as (repeat ('b', 40), 'P-QNL.01-1', '{"household":"hh-t1","group":"hardship","op":"add"}'),
           'ok', 'the L2 leader''s own identity may');
SELECT is ((SELECT row (created, updated, groups_added, groups_ended)::text FROM gf_household_import (
    '{"households":[{"id":"hh-t1","grid":"QNL.01.001","address":"西街村1组7号","head_name":"测试甲","phone":"13900000001",
                     "members":[{"name":"测试乙","relation":"配偶"}],"groups":[{"group":"dibao"}]},
                    {"id":"hh-t3","grid":"QNL.01.002","address":"b","head_name":"c","groups":[{"group":"disabled","from":"2026-10-01"}]}]}',
    'gridctl:test')), '(1,0,1,1)',
           'an import creates the new household, leaves the unchanged one as it is but ends the group the file no longer lists');
SELECT * FROM finish ();
ROLLBACK;
