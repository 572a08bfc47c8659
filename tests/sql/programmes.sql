-- pgTAP: deploy/sql/repeatable/programmes.sql — programme.action's checks
-- (unknown household, a cadre outside the household's grid, a day in the
-- future, a score outside its criterion, a round not L2's, a campaign not
-- L1's, a team member not of the team), idempotency, the records and
-- events each action writes (no personal data in the payloads), the
-- counts per link, a round's stars and its public JSON, campaign progress
-- and the monthly figures, on a few households of QNL.01 (rolled back).
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (53);
SET LOCAL gridflow.sim_clock = on;
\ir fixtures/as_role.sql

INSERT INTO sim_clock (at) VALUES ('2026-11-20 10:00+08') ON CONFLICT (id) DO UPDATE SET at = excluded.at;
INSERT INTO households (id, grid, address, head_name, phone, created_at, updated_at) VALUES
    ('T-H1', 'QNL.01.001', '测试路1号', '张测试', '13900000001', now (), now ()),
    ('T-H2', 'QNL.01.001', '测试路2号', '李测试', '13900000002', now (), now ()),
    ('T-H3', 'QNL.01.002', '测试路3号', '王测试', '13900000003', now (), now ());
INSERT INTO person_roles (person, grid, role, team, valid_from)
VALUES ('P-QNL.01.001-3', 'QNL.01', 'team_member', 'mediators', '2026-01-01');
INSERT INTO cases (id, source, source_ref, root, grid, state, tier, description, received_at, updated_at, level)
VALUES (930001, 't', 'pg1', 'QNL', 'QNL.01.001', 'signed', 'pending', 'd', '2026-11-02 10:00+08', '2026-11-02 11:00+08', 3);

CREATE FUNCTION pg_temp.act (p_actor text, p_action text, p_args jsonb, p_request text DEFAULT NULL)
RETURNS text LANGUAGE sql AS $$
    SELECT coalesce (err, CASE WHEN duplicate THEN 'duplicate:' ELSE 'ok:' END || ref)
      FROM gf_programme_apply (coalesce (p_request, md5 (random ()::text)), p_actor, p_action, NULL, p_args)
$$;
CREATE FUNCTION pg_temp.snap () RETURNS text LANGUAGE sql AS $$
    SELECT concat_ws (' ', (SELECT count (*) FROM care_links), (SELECT count (*) FROM things_done),
                      (SELECT count (*) FROM help_pairs), (SELECT count (*) FROM rating_scores),
                      (SELECT count (*) FROM case_events), (SELECT count (*) FROM programme_actions))
$$;
CREATE TEMP TABLE before AS SELECT pg_temp.snap () AS s;

-- refusals: each its code, nothing written
SELECT is (pg_temp.act ('P-QNL.01-1', 'link.open', '{"person":"P-QNL.01.001-2","household":"NOPE"}'),
           'unknown_household', 'an unknown household is refused');
SELECT is (pg_temp.act ('P-QNL.01-1', 'link.open', '{"person":"P-QNL.01.001-2","household":"T-H3"}'),
           'bad_value', 'a cadre who does not serve the household''s grid is refused');
SELECT is (pg_temp.act ('P-QNL.02-1', 'link.open', '{"person":"P-QNL.01.001-2","household":"T-H1"}'),
           'forbidden', 'a household outside the actor''s subtree is refused');
SELECT is (pg_temp.act ('NOBODY', 'link.open', '{"person":"P-QNL.01.001-2","household":"T-H1"}'),
           'unknown_actor', 'an unknown actor is refused');
SELECT is (pg_temp.act ('P-QNL.01-1', 'thing.done', '{"household":"T-H1","kind":"repair","note":"x","date":"2026-11-21"}'),
           'bad_value', 'a thing done tomorrow is refused');
SELECT is (pg_temp.act ('P-QNL.01-1', 'thing.done', '{"household":"T-H1","kind":"magic","note":"x"}'),
           'bad_value', 'an unknown kind of thing done is refused');
SELECT is (pg_temp.act ('P-QNL.01-1', 'thing.done', '{"household":"T-H1","kind":"repair","note":"x","visit":987654}'),
           'bad_value', 'a thing done naming a visit that does not exist is refused');
SELECT is (pg_temp.act ('P-QNL.01-1', 'thing.done', '{"kind":"repair","note":"x"}'),
           'missing_field', 'a thing done for nobody is refused');
SELECT is (pg_temp.act ('P-QNL.01-1', 'levitate', '{}'), 'bad_value', 'an unknown action is refused');
SELECT is (pg_temp.snap (), (SELECT s FROM before), 'refusals wrote nothing');

-- 1+10+N
SELECT is (pg_temp.act ('P-QNL.01-1', 'link.open', '{"person":"P-QNL.01.001-2","household":"T-H1","date":"2026-11-01"}', 'L1'),
           'ok:link:' || currval ('care_links_id_seq'), 'a link opens');
SELECT is (pg_temp.act ('P-QNL.01-1', 'link.open', '{"person":"P-QNL.01.001-2","household":"T-H1","date":"2026-11-01"}', 'L1'),
           'duplicate:link:' || currval ('care_links_id_seq'), 'a resend is a duplicate');
SELECT is ((SELECT count (*) FROM care_links WHERE household = 'T-H1'), 1::bigint, '... and no second link');
SELECT is (pg_temp.act ('P-QNL.01-1', 'link.open', '{"person":"P-QNL.01.001-2","household":"T-H1"}'),
           'conflict', 'a second open link for the same pair is refused');
SELECT alike (pg_temp.act ('P-QNL.01.001-2', 'thing.done',
                          format ('{"link":%s,"kind":"repair","note":"修水管","date":"2026-11-05"}', currval ('care_links_id_seq'))::jsonb),
             'ok:thing:%', 'the cadre records a thing done on the link');
SELECT alike (pg_temp.act ('P-QNL.01.001-2', 'thing.done', '{"household":"T-H1","kind":"errand","note":"代办","date":"2026-11-06"}'),
             'ok:thing:%', '... and one for the household');
SELECT is ((SELECT things FROM gf_link_counts ('QNL.01') WHERE household = 'T-H1'), 2::bigint,
           'both count on the link');
UPDATE programme_settings SET value = '1' WHERE key = 'links_per_cadre';
SELECT is (pg_temp.act ('P-QNL.01-1', 'link.open', '{"person":"P-QNL.01.001-2","household":"T-H2"}'),
           'conflict', 'links per cadre is a setting (here 1)');

-- help pair through its life
SELECT alike (pg_temp.act ('P-QNL.01-1', 'pair.open', '{"person":"P-QNL.01-1","household":"T-H2","goal":"就业","date":"2026-11-02"}'),
             'ok:pair:%', 'a help pair opens');
SELECT alike (pg_temp.act ('P-QNL.01-1', 'pair.review', format ('{"pair":%s,"note":"回访"}', currval ('help_pairs_id_seq'))::jsonb),
             'ok:pair:%', 'a review');
SELECT is (pg_temp.act ('P-QNL.01-1', 'pair.close', format ('{"pair":%s,"outcome":"great"}', currval ('help_pairs_id_seq'))::jsonb),
           'bad_value', 'an unknown outcome is refused');
SELECT alike (pg_temp.act ('P-QNL.01-1', 'pair.close', format ('{"pair":%s,"outcome":"achieved"}', currval ('help_pairs_id_seq'))::jsonb),
             'ok:pair:%', 'the pair closes');
SELECT is (pg_temp.act ('P-QNL.01-1', 'pair.review', format ('{"pair":%s,"note":"x"}', currval ('help_pairs_id_seq'))::jsonb),
           'illegal_transition', 'a closed pair takes no review');

-- star ratings
SELECT is (pg_temp.act ('P-QNL.01.001-1', 'rating.open', '{"grid":"QNL.01","name":"2026-Q4","kind":"grid"}'),
           'forbidden', 'an L3 leader may not open a round');
SELECT alike (pg_temp.act ('P-QNL.01-1', 'rating.open', '{"name":"2026-Q4","kind":"household"}'),
             'ok:round:%', 'L2 opens a household round');
SELECT is (pg_temp.act ('P-QNL.01-1', 'rating.score', format ('{"round":%s,"subject":"T-H1","criterion":"safety","score":21}', currval ('rating_rounds_id_seq'))::jsonb),
           'bad_value', 'a score above the criterion''s points is refused');
SELECT is (pg_temp.act ('P-QNL.01-1', 'rating.score', format ('{"round":%s,"subject":"T-H1","criterion":"beauty","score":1}', currval ('rating_rounds_id_seq'))::jsonb),
           'bad_value', 'a criterion outside the list is refused');
CREATE TEMP TABLE scored AS SELECT pg_temp.act ('P-QNL.01-1', 'rating.score', format ('{"round":%s,"subject":"T-H1","criterion":"%s","score":19}', currval ('rating_rounds_id_seq'), c)::jsonb)
  FROM unnest (ARRAY['participation', 'hygiene', 'safety', 'mediation', 'civility']) c;
SELECT alike (pg_temp.act ('P-QNL.01-1', 'rating.publish', format ('{"round":%s}', currval ('rating_rounds_id_seq'))::jsonb),
             'ok:round:%', 'the round is published');
SELECT is ((SELECT stars FROM gf_rating_results (currval ('rating_rounds_id_seq')) WHERE subject = 'T-H1'), 5::smallint,
           '95 of 100 points: five stars');
SELECT ok (gf_rating_public_json ()::text !~ '(T-H1|张测试|测试路|13900000001)',
           'the public JSON names no household, name, address or phone');

-- a case helper from a team
SELECT is (pg_temp.act ('P-QNL.01-1', 'case.helper', '{"case":930001,"person":"P-QNL.01.001-2","team":"mediators"}'),
           'bad_value', 'a helper who is not a member of the team is refused');
SELECT is (pg_temp.act ('P-QNL.01-1', 'case.helper', '{"case":930001,"person":"P-QNL.01.001-3","team":"mediators"}'),
           'ok:case:930001', 'a mediator helps on the case');

-- visits on a link, the monthly field figures and the dashboard's (patrols.sql's logs;
-- the due rule is households.sql's gf_visit_due_at)
INSERT INTO households (id, grid, address, head_name, phone, created_at, updated_at) VALUES
    ('T-H4', 'QNL.01.001', '测试路4号', '赵测试', '13900000004', now (), now ());
INSERT INTO household_groups (household, grp, valid_from, source) VALUES
    ('T-H1', 'bereaved', '2026-09-01', 't'), ('T-H2', 'dibao', '2026-10-01', 't'),
    ('T-H3', 'hardship', '2026-06-01', 't'), ('T-H3', 'dibao', '2026-06-01', 't'),
    ('T-H4', 'petitioner', '2026-09-01', 't');
INSERT INTO visits (request_id, actor, household, grid, done_at, body, logged_at) VALUES
    ('tv1', 'P-QNL.01.001-2', 'T-H1', 'QNL.01.001', '2026-10-20 10:00+08', '{}', now ()),  -- before the link
    ('tv2', 'P-QNL.01.001-2', 'T-H1', 'QNL.01.001', '2026-11-05 10:00+08', '{}', now ()),  -- on the link
    ('tv3', 'P-QNL.01.001-1', 'T-H1', 'QNL.01.001', '2026-11-12 10:00+08', '{}', now ()),  -- another visitor
    ('tv4', 'P-QNL.01.001-1', 'T-H3', 'QNL.01.002', '2026-11-10 10:00+08', '{}', now ());
INSERT INTO patrols (request_id, actor, grid, done_at, body, logged_at) VALUES
    ('tp1', 'P-QNL.01.001-1', 'QNL.01.001', '2026-11-16 09:00+08', '{}', now ()),
    ('tp2', 'P-QNL.01.001-1', 'QNL.01.001', '2026-11-17 09:00+08', '{}', now ());
SELECT is ((SELECT visits FROM gf_link_counts ('QNL.01') WHERE household = 'T-H1'), 1::bigint,
           'visits per link: the cadre''s, while the link is open');
CREATE TEMP TABLE fig AS SELECT key, value FROM gf_report_programmes ('QNL', '2026-11');
SELECT is ((SELECT string_agg (key || '=' || value, ' ' ORDER BY key COLLATE "C") FROM fig
             WHERE key ~ '^(visits|patrols_done)'),
           'patrols_done=2 visits=3 visits_bereaved=2 visits_dibao=1 visits_disabled=0 visits_hardship=1 '
           'visits_left_behind=0 visits_overdue=1 visits_petitioner=0 visits_special=3',
           'November: patrols, visits by group (a household in two groups counts in both), overdue now');
SELECT is ((SELECT value FROM fig WHERE key = 'visits_overdue'), (SELECT count (*) FROM gf_visits_overdue ('QNL')),
           'overdue in the current month = gf_visits_overdue');
SELECT is ((SELECT value FROM fig WHERE key = 'patrols_missed'),
           (SELECT count (*) * 4 - 2 FROM grids WHERE level = 3 AND code LIKE 'QNL.%'),
           'missed patrols: every L3 grid x working day from the first patrol (16th) to yesterday, less the two done');
SELECT is ((SELECT value FROM gf_report_programmes ('QNL', '2026-10') WHERE key = 'visits_overdue'), 2::bigint,
           'October: overdue at the month''s end (T-H3 never visited, T-H4 due 1 October)');
SELECT is ((SELECT value FROM gf_report_programmes ('QNL', '2026-10') WHERE key = 'patrols_missed'), 0::bigint,
           'October: no patrol expected before the first one');
SELECT is ((gf_report_programmes_json ('QNL', '2026-11')->>'visits_bereaved'), '2', 'the report''s JSON has them');
SELECT is ((SELECT count (*) FROM gf_report_programmes ('QNL.01', '2026-11')), 0::bigint, 'no figure for a grid that is not L1');
SELECT is ((SELECT d->>'month' || ' ' || (d->>'patrols_done') || ' ' || (d->>'visits') || ' ' || (d->>'visits_special')
                   || ' ' || (d->>'visits_overdue') FROM gf_dash_programmes (NULL) d),
           '2026-11 2 3 3 1', 'the dashboard: this month''s patrols and visits, overdue now');
SELECT ok (gf_dash_programmes (NULL)::text !~ '(T-H|测试|1390000)', 'the dashboard names no household, name, address or phone');
SELECT is (pg_temp.as_role ('gf_gateway', 'SELECT gf_dash_programmes (NULL)'), '00000',
           'as gf_gateway: the dashboard figures (SECURITY DEFINER)');
SELECT is (pg_temp.as_role ('gf_gateway', 'SELECT count (*) FROM visits'), '42501', 'as gf_gateway: no visit is readable');
SELECT is (pg_temp.as_role ('gf_gateway', 'SELECT count (*) FROM patrols'), '42501', 'as gf_gateway: no patrol is readable');
SELECT is (pg_temp.as_role ('gf_gateway', 'SELECT * FROM gf_report_field (''QNL'', ''2026-11'')'), '42501',
           'as gf_gateway: the report''s functions are refused (they read the register)');
SELECT is (pg_temp.as_role ('gf_intake', 'SELECT gf_dash_programmes (NULL)'), '42501',
           'as gf_intake: the SECURITY DEFINER dashboard function is refused');
SELECT is (pg_temp.as_role ('gf_ctl', 'SELECT gf_dash_programmes (''QNL''), gf_report_programmes_json (''QNL'', NULL)'), '00000',
           'as gf_ctl: the dashboard and the report');
SELECT is ((SELECT string_agg (r, ',' ORDER BY r) FROM unnest (ARRAY['gf_intake','gf_relay','gf_router','gf_notifier',
                                                                     'gf_escalator','gf_gateway','gf_ctl']) r
             WHERE has_function_privilege (r, 'gf_dash_programmes (text)', 'EXECUTE')),
           'gf_ctl,gf_gateway', 'only the gateway and gridctl may call gf_dash_programmes');

-- the roles that run these statements hold what they need, and no more
SET LOCAL ROLE gf_intake;
SELECT alike (pg_temp.act ('P-QNL.01-1', 'thing.done', '{"household":"T-H3","kind":"health","note":"陪同就医"}'),
              'ok:thing:%', 'as gf_intake: a programme.action applies');
RESET ROLE;
SET LOCAL ROLE gf_gateway;
SELECT lives_ok ('SELECT gf_rating_public_json (), gf_dash_programmes (NULL)',
                 'as gf_gateway: the public ratings and the dashboard figures');
SELECT throws_ok ('SELECT note FROM things_done', '42501', NULL, 'as gf_gateway: no note of a thing done');
SELECT throws_ok ('SELECT household FROM help_pairs', '42501', NULL, 'as gf_gateway: no household of a help pair');
RESET ROLE;
SELECT * FROM finish ();
ROLLBACK;
