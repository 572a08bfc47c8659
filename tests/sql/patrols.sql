-- pgTAP: deploy/sql/repeatable/patrols.sql — patrol, visit and self-check
-- logs (stored once per id, refused with their codes and nothing stored),
-- a visit's follow-up complaint in the same call, visit deadlines from the
-- groups' periods, missed patrols on working days only (a make-up Saturday
-- counts, a holiday and a Sunday do not), reminders once per period to the
-- L3 leader and the L2 leader (an overdue visit's after the grace), each a
-- staff notice without the register, held through quiet hours (033), and
-- the service roles' rights to run them.
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (63);

\ir fixtures/national_day_2026.sql
\ir fixtures/as_role.sql

INSERT INTO sim_clock (at) VALUES ('2026-10-12 10:00+08') ON CONFLICT (id) DO UPDATE SET at = excluded.at;
INSERT INTO households (id, grid, address, head_name, phone, created_at, updated_at) VALUES
    ('H-T-1', 'QNL.07.063', '测试路1号', '王测试', '13912345678', gf_now (), gf_now ()),
    ('H-T-2', 'QNL.07.063', '测试路2号', '李测试', NULL, gf_now (), gf_now ()),
    ('H-T-3', 'QNL.08.067', '别处路3号', '赵测试', NULL, gf_now (), gf_now ());
INSERT INTO household_groups (household, grp, valid_from, source) VALUES
    ('H-T-1', 'bereaved', '2026-08-01', 'test'), ('H-T-1', 'dibao', '2026-08-01', 'test'),
    ('H-T-2', 'hardship', '2026-09-20', 'test');
-- H-T-4: bereaved (monthly) since 9 September, due Friday 9 October: three
-- days overdue on Monday 12 October, within the L2 grace (5 working days).
INSERT INTO households (id, grid, address, head_name, phone, created_at, updated_at) VALUES
    ('H-T-4', 'QNL.07.064', '测试路4号', '周测试', '13698765432', gf_now (), gf_now ());
INSERT INTO household_groups (household, grp, valid_from, source) VALUES ('H-T-4', 'bereaved', '2026-09-09', 'test');

CREATE FUNCTION pg_temp.log (p_type text, p_id text, p_args jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce (err, CASE WHEN duplicate THEN 'duplicate' ELSE 'ok' END)
      FROM gf_field_log (p_type, p_id, NULL, p_args)
$$;
CREATE FUNCTION pg_temp.ms (t timestamptz) RETURNS bigint LANGUAGE sql AS $$
    SELECT (extract (epoch FROM t) * 1000)::bigint
$$;

-- Before any patrol is logged under QNL none is expected: the reminders are
-- the overdue visits (H-T-1 to its L3 leader and, long overdue, to the L2
-- leader; H-T-4 to its L3 leader only; H-T-2 is due in December), no
-- missed patrol.
SELECT is (gf_field_reminders ('2026-10-11 10:00+08'), 0,
           'Sunday 11 October (a day off): nothing reminded, though H-T-1 is overdue');
SELECT is (gf_field_reminders ('2026-10-12 10:00+08', ARRAY['XYZ']), 0,
           'an escalator holding another root: none of QNL''s visits');
SELECT is ((WITH r AS MATERIALIZED (SELECT gf_field_reminders ('2026-10-12 10:00+08', ARRAY['QNL']) AS n) SELECT n FROM r), 3,
           'no patrol logged yet: only the overdue visits are reminded, no grid for missed patrols');
SELECT bag_eq ($$ SELECT subject, recipient, audience FROM field_reminders $$,
               $$ VALUES ('H-T-1', 'P-QNL.07.063-1', 'grid_leader'), ('H-T-1', 'P-QNL.07-1', 'l2_leader'),
                         ('H-T-4', 'P-QNL.07.064-1', 'grid_leader') $$,
               'an overdue visit: its L3 leader at once, the L2 leader once the grace of 5 working days is over');
SELECT bag_eq ($$ SELECT f.subject, n.kind, n.recipient, n.case_id IS NULL FROM notifications n
                    JOIN field_reminders f ON f.id = n.field_reminder $$,
               $$ VALUES ('H-T-1', 'visit.overdue', 'P-QNL.07.063-1', true), ('H-T-1', 'visit.overdue.l2', 'P-QNL.07-1', true),
                         ('H-T-4', 'visit.overdue', 'P-QNL.07.064-1', true) $$,
               'each reminder is one staff notification, without a case, of its rule''s kind');
SELECT is ((SELECT text FROM notifications n JOIN field_reminders f ON f.id = n.field_reminder
             WHERE f.subject = 'H-T-4'),
           '【走访提醒】网格 QNL.07.064（' || (SELECT name FROM grids WHERE code = 'QNL.07.064')
           || '）一户重点户（编号 H-T-4）应于 2026-10-09 走访，现已逾期，请尽快登门走访并记录。',
           'the text names the household by its opaque id, the grid and the due day');
SELECT is ((SELECT count (*)::int FROM notifications WHERE field_reminder IS NOT NULL
               AND text ~ '王测试|周测试|测试路|139|136'), 0, 'no name, address or phone of the register in a text');
SELECT bag_eq ($$ SELECT d.channel, d.address, d.not_before FROM deliveries d JOIN notifications n ON n.id = d.notification
                   JOIN field_reminders f ON f.id = n.field_reminder WHERE f.subject = 'H-T-4' $$,
               $$ SELECT unnest (channels) AS c, unnest (ARRAY[id, phone]) AS a, timestamptz '2026-10-12 10:00+08' AS t
                    FROM people WHERE id = 'P-QNL.07.064-1' $$,
               'its deliveries: the leader''s channels (app, SMS to the leader''s phone), due at once in working hours');
SELECT is ((SELECT count (*)::int FROM case_events e JOIN notifications n ON n.id = (e.payload->>'notification')::bigint
             WHERE e.type = 'notification.created' AND n.field_reminder IS NOT NULL
               AND e.topic = 'notify/' || n.recipient AND e.payload->'case' = 'null' AND e.payload->>'text' = n.text), 3,
           'each with its notification.created on notify/<person>, the payload as a case''s (case null)');

-- Patrols.
SELECT is (pg_temp.log ('patrol.logged', 'p-1', jsonb_build_object ('actor', 'P-QNL.07.063-1', 'grid', 'QNL.07.063',
               'done_at', pg_temp.ms ('2026-10-09 16:00+08'), 'places', '["东街", "菜市场"]'::jsonb,
               'findings', '["井盖破损，电话13812345678"]'::jsonb)), 'ok', 'a patrol with a finding is logged');
SELECT is ((SELECT payload->'findings'->>0 FROM case_events WHERE type = 'patrol.logged'),
           '井盖破损，电话[电话]', 'its event carries the finding redacted');
SELECT is (pg_temp.log ('patrol.logged', 'p-2', jsonb_build_object ('actor', 'P-QNL.07.063-1', 'grid', 'QNL.07.063',
               'done_at', pg_temp.ms ('2026-10-10 09:00+08'))), 'ok', 'a patrol with nothing found is logged');
SELECT is ((SELECT (payload->>'nothing_found')::boolean FROM case_events WHERE type = 'patrol.logged'
             ORDER BY id DESC LIMIT 1), true, 'its event says nothing was found');
SELECT is (pg_temp.log ('patrol.logged', 'p-2', jsonb_build_object ('actor', 'P-QNL.07.063-1', 'grid', 'QNL.07.063',
               'done_at', pg_temp.ms ('2026-10-10 09:00+08'))), 'duplicate', 'the same patrol again is a duplicate');
SELECT is (pg_temp.log ('patrol.logged', 'p-2', jsonb_build_object ('actor', 'P-QNL.07.063-1', 'grid', 'QNL.07.063',
               'done_at', pg_temp.ms ('2026-10-10 10:00+08'))), 'conflict', 'the same id with other keys is refused');
SELECT is (pg_temp.log ('patrol.logged', 'p-3', jsonb_build_object ('actor', 'P-QNL.07.063-1', 'grid', 'QNL.07.999',
               'done_at', pg_temp.ms ('2026-10-10 10:00+08'))), 'unknown_grid', 'an unknown grid is refused');
SELECT is (pg_temp.log ('patrol.logged', 'p-3', jsonb_build_object ('actor', 'P-QNL.08.067-1', 'grid', 'QNL.07.063',
               'done_at', pg_temp.ms ('2026-10-10 10:00+08'))), 'forbidden', 'an actor of another grid is refused');
SELECT is (pg_temp.log ('patrol.logged', 'p-3', jsonb_build_object ('actor', 'P-QNL.07.063-1', 'grid', 'QNL.07.063',
               'members', '["P-QNL.08.067-1"]'::jsonb, 'done_at', pg_temp.ms ('2026-10-10 10:00+08'))), 'forbidden',
           'a member outside the grid is refused');
SELECT is (pg_temp.log ('patrol.logged', 'p-3', jsonb_build_object ('actor', 'P-NOBODY', 'grid', 'QNL.07.063',
               'done_at', pg_temp.ms ('2026-10-10 10:00+08'))), 'unknown_actor', 'an unknown actor is refused');
SELECT is (pg_temp.log ('patrol.logged', 'p-3', jsonb_build_object ('actor', 'P-QNL.07-1', 'grid', 'QNL.07.063',
               'done_at', pg_temp.ms (gf_now () + interval '1 hour'))), 'bad_value', 'a patrol in the future is refused');
SELECT is (pg_temp.log ('patrol.logged', 'p-3', jsonb_build_object ('actor', 'P-QNL.07-1', 'grid', 'QNL.07.063',
               'done_at', pg_temp.ms (gf_now () + interval '5 minutes'))), 'ok',
           'within the clock-skew allowance (10 minutes), the L2 leader''s patrol of an L3 grid is logged');
SELECT is ((SELECT count (*)::int FROM patrols), 3, 'three patrols stored, nothing of the refused');

-- One person, several grids (一岗多责): a current person_roles row counts.
INSERT INTO person_roles (person, grid, role, valid_from) VALUES ('P-QNL.08.067-1', 'QNL.07.064', 'cadre', '2026-01-01');
SELECT is (pg_temp.log ('patrol.logged', 'p-4', jsonb_build_object ('actor', 'P-QNL.08.067-1', 'grid', 'QNL.07.064',
               'done_at', pg_temp.ms ('2026-10-12 09:00+08'))), 'ok', 'a cadre assigned to a second grid patrols it');

-- The sender's identity (CurveZMQ): as for case.action.
INSERT INTO identities (name, public_key, kind, sources, grid, person) VALUES
    ('pv-staff', repeat ('s', 40), 'staff', '{}', 'QNL.07.063', 'P-QNL.07.063-1'),
    ('pv-app', repeat ('a', 40), 'adapter', '{patrol}', 'QNL.07', NULL),
    ('pv-hotline', repeat ('h', 40), 'adapter', '{hotline}', 'QNL', NULL);
CREATE FUNCTION pg_temp.log_as (p_key text, p_id text, p_args jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce (err, 'ok') FROM gf_field_log ('patrol.logged', p_id, repeat (p_key, 40), p_args)
$$;
SELECT is (pg_temp.log_as ('s', 'p-i1', jsonb_build_object ('actor', 'P-QNL.07.063-1', 'grid', 'QNL.07.063',
               'done_at', pg_temp.ms ('2026-10-12 08:00+08'))), 'ok', 'a staff identity logs as its own person');
SELECT is (pg_temp.log_as ('s', 'p-i2', jsonb_build_object ('actor', 'P-QNL.07-1', 'grid', 'QNL.07.063',
               'done_at', pg_temp.ms ('2026-10-12 08:00+08'))), 'forbidden', 'but not as another person');
SELECT is (pg_temp.log_as ('a', 'p-i3', jsonb_build_object ('actor', 'P-QNL.07.064-1', 'grid', 'QNL.07.064',
               'done_at', pg_temp.ms ('2026-10-12 08:00+08'))), 'ok', 'an app adapter allowed patrols logs in its subtree');
SELECT is (pg_temp.log_as ('h', 'p-i4', jsonb_build_object ('actor', 'P-QNL.07.064-1', 'grid', 'QNL.07.064',
               'done_at', pg_temp.ms ('2026-10-12 08:00+08'))), 'forbidden', 'a hotline adapter may not log patrols');
SELECT is (pg_temp.log_as ('z', 'p-i5', jsonb_build_object ('actor', 'P-QNL.07.064-1', 'grid', 'QNL.07.064',
               'done_at', pg_temp.ms ('2026-10-12 08:00+08'))), 'forbidden', 'an unknown key is refused');

-- Visits.
SELECT is (gf_visit_due ('H-T-1'), date '2026-09-01',
           'never visited, bereaved (monthly) and dibao (quarterly): due a month after the membership began');
SELECT is (gf_visit_due ('H-T-3'), NULL, 'no special group: no visit due');
SELECT bag_eq ('SELECT household FROM gf_visits_overdue (''QNL.07'')', ARRAY['H-T-1', 'H-T-4'],
               'L2 is shown the overdue households (H-T-2 is due at the end of December)');
SELECT is (pg_temp.log ('visit.logged', 'v-1', jsonb_build_object ('actor', 'P-QNL.07.063-1', 'household', 'H-NONE',
               'done_at', pg_temp.ms ('2026-10-12 09:00+08'))), 'unknown_household', 'an unknown household is refused');
SELECT is (pg_temp.log ('visit.logged', 'v-1', jsonb_build_object ('actor', 'P-QNL.07.063-1', 'household', 'H-T-3',
               'done_at', pg_temp.ms ('2026-10-12 09:00+08'))), 'forbidden', 'a household outside the actor''s grid is refused');
SELECT is (pg_temp.log ('visit.logged', 'v-1', jsonb_build_object ('actor', 'P-QNL.07.063-1', 'household', 'H-T-1',
               'done_at', pg_temp.ms ('2026-10-13 09:00+08'))), 'bad_value', 'a visit tomorrow is refused');
SELECT is (pg_temp.log ('visit.logged', 'v-1', jsonb_build_object ('actor', 'P-QNL.07.063-1', 'household', 'H-T-1',
               'done_at', pg_temp.ms ('2026-10-12 09:00+08'), 'learned', '王测试说屋顶漏雨',
               'things_done', '["代买药品"]'::jsonb, 'follow_up', '屋顶漏雨，需要维修', 'follow_up_category', 'property')),
           'ok', 'a visit with a follow-up complaint is logged');
SELECT is ((SELECT c.source || ' ' || c.source_ref || ' ' || c.household || ' ' || array_to_string (c.groups, ',')
              FROM visits v JOIN cases c ON c.id = v.case_id WHERE v.request_id = 'v-1'),
           'visit v-1 H-T-1 bereaved,dibao', 'its complaint was opened with it: source visit, the household and its groups');
SELECT is ((SELECT count (*)::int FROM case_events e JOIN visits v ON v.case_id = e.case_id
             WHERE v.request_id = 'v-1' AND e.type IN ('case.received', 'visit.logged')), 2,
           'case.received and visit.logged on the stream');
SELECT is ((SELECT payload->>'learned' FROM case_events WHERE type = 'visit.logged'), '[姓名]说屋顶漏雨',
           'the event names the household by id only: the head''s name is redacted');
SELECT is ((SELECT pg_temp.log ('visit.logged', 'v-1', body) FROM visits WHERE request_id = 'v-1'), 'duplicate',
           'the same visit again is a duplicate');
SELECT is ((SELECT count (*)::int FROM cases WHERE source = 'visit'), 1, 'and opens no second complaint');
SELECT is (gf_visit_due ('H-T-1'), date '2026-11-12', 'visited: due a month after the visit');

-- Missed patrols: 8 October a holiday, 9 October patrolled, Saturday 10
-- October a make-up working day (patrolled), Sunday 11 October off.
SELECT bag_eq ($$ SELECT day FROM gf_patrols_missed ('QNL.07.064', '2026-10-08', '2026-10-12') $$,
               $$ VALUES (date '2026-10-09'), (date '2026-10-10') $$,
               'QNL.07.064 missed Friday 9 and the make-up Saturday 10 October, not the holiday, not Sunday, not today');
SELECT is ((SELECT count (*)::int FROM gf_patrols_missed ('QNL.07.063', '2026-10-08', '2026-10-12')), 0,
           'QNL.07.063 patrolled on both working days');

-- Self-checks.
SELECT is (pg_temp.log ('selfcheck.logged', 's-1', jsonb_build_object ('actor', 'P-QNL.07.063-1', 'grid', 'QNL.07.063',
               'done_at', pg_temp.ms ('2026-10-12 09:30+08'),
               'items', '["safety=ok","disputes=issue","sanitation=ok","special_households=ok","ledger=ok"]'::jsonb)),
           'ok', 'a weekly self-check with every item is logged');
SELECT is (pg_temp.log ('selfcheck.logged', 's-2', jsonb_build_object ('actor', 'P-QNL.07.063-1', 'grid', 'QNL.07.063',
               'done_at', pg_temp.ms ('2026-10-12 09:40+08'),
               'items', '["safety=ok","disputes=ok","sanitation=ok","special_households=ok","ledger=ok"]'::jsonb)),
           'conflict', 'a second self-check in the same week is refused');
SELECT is (pg_temp.log ('selfcheck.logged', 's-3', jsonb_build_object ('actor', 'P-QNL.07.064-1', 'grid', 'QNL.07.064',
               'done_at', pg_temp.ms ('2026-10-12 09:40+08'), 'items', '["safety=ok"]'::jsonb)),
           'missing_field', 'a self-check with items missing is refused');
SELECT is (pg_temp.log ('selfcheck.logged', 's-3', jsonb_build_object ('actor', 'P-QNL.07.064-1', 'grid', 'QNL.07.064',
               'done_at', pg_temp.ms ('2026-10-12 09:40+08'), 'items', '["parking=ok"]'::jsonb)),
           'bad_value', 'an unknown item is refused');

-- Reminders, to the L3 and the L2 leader, once per period, on working days.
SELECT ok (gf_field_reminders ('2026-10-12 10:00+08') > 0, 'Monday 10:00: missed patrols and overdue visits reminded');
SELECT is ((SELECT count (*)::int FROM field_reminders
             WHERE grid LIKE 'QNL.07.%'
               AND recipient IS DISTINCT FROM gf_leader (CASE audience WHEN 'l2_leader' THEN 'QNL.07' ELSE grid END)), 0,
           'QNL.07''s reminders go to the L3 grid''s leader and to QNL.07''s');
SELECT bag_eq ($$ SELECT audience FROM field_reminders WHERE kind = 'patrol.missed' AND subject = 'QNL.07.064' AND period = '2026-10-09' $$,
               $$ VALUES ('grid_leader'), ('l2_leader') $$, 'a missed patrol: both leaders at once');
SELECT is ((SELECT count (*)::int FROM field_reminders f
             WHERE NOT EXISTS (SELECT 1 FROM notifications n WHERE n.field_reminder = f.id)), 0,
           'every reminder has its notification');
SELECT is (gf_field_reminders ('2026-10-12 11:00+08'), 0, 'an hour later: nothing reminded twice');
SELECT is (gf_field_reminders ('2026-10-11 10:00+08'), 0, 'on a Sunday nobody is reminded');
-- H-T-4 was due on Friday 9 October; five working days later (Saturday 10
-- October is a make-up working day) is Thursday 15 October.
CREATE FUNCTION pg_temp.remind_at (t timestamptz) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sim_clock (at) VALUES (t) ON CONFLICT (id) DO UPDATE SET at = excluded.at;
    RETURN gf_field_reminders (t);
END
$$;
DO $$ BEGIN PERFORM pg_temp.remind_at ('2026-10-14 10:00+08'); END $$;
SELECT is ((SELECT count (*)::int FROM field_reminders WHERE subject = 'H-T-4'), 1,
           'Wednesday 14 October is within H-T-4''s grace: the L2 leader is not told yet');
DO $$ BEGIN PERFORM pg_temp.remind_at ('2026-10-15 10:00+08'); END $$;
SELECT is ((SELECT string_agg (recipient || ':' || period, ',') FROM field_reminders
             WHERE subject = 'H-T-4' AND audience = 'l2_leader'), 'P-QNL.07-1:2026-10-09',
           'Thursday 15 October, five working days after the due day: the L2 leader is told');
DO $$ BEGIN PERFORM pg_temp.remind_at ('2026-10-16 10:00+08'); END $$;
SELECT is ((SELECT count (*)::int FROM field_reminders WHERE subject = 'H-T-4'), 2,
           'the next day: not again for that period');
SELECT is ((SELECT count (*)::int FROM field_reminders WHERE kind = 'patrol.missed' AND period = '2026-10-15'
               AND subject = 'QNL.07.063'), 2, 'Thursday''s missed patrol reminded on Friday, to both leaders');
UPDATE notification_rules SET enabled = false WHERE event_type = 'patrol.missed' AND audience = 'l2_leader';
DO $$ BEGIN PERFORM pg_temp.remind_at ('2026-10-19 10:00+08'); END $$;
SELECT is ((SELECT string_agg (DISTINCT audience, ',') FROM field_reminders WHERE period = '2026-10-16'
               AND kind = 'patrol.missed'), 'grid_leader', 'a disabled rule: its audience is not reminded');
UPDATE notification_rules SET enabled = true WHERE event_type = 'patrol.missed' AND audience = 'l2_leader';

-- Quiet hours: reminders made at 21:00 (the escalator late) wait for the
-- next working day's 08:00; a claim at 21:00 leaves them.
SELECT ok (pg_temp.remind_at ('2026-10-20 21:00+08') > 0, 'Tuesday 21:00: Monday''s missed patrols reminded');
SELECT is ((SELECT array_agg (DISTINCT d.not_before) FROM deliveries d JOIN notifications n ON n.id = d.notification
             JOIN field_reminders f ON f.id = n.field_reminder WHERE f.created_at = '2026-10-20 21:00+08'),
           ARRAY[timestamptz '2026-10-21 08:00+08'], 'their deliveries are held until Wednesday 08:00');
SELECT is ((SELECT count (*)::int FROM gf_delivery_claim ('sms', 10000) c
             JOIN deliveries d ON d.id = c.id JOIN notifications n ON n.id = d.notification
            WHERE n.field_reminder IS NOT NULL AND d.created_at = '2026-10-20 21:00+08'), 0,
           'the SMS claim at 21:00 leaves them');
INSERT INTO sim_clock (at) VALUES ('2026-10-12 10:00+08') ON CONFLICT (id) DO UPDATE SET at = excluded.at;

-- The roles.
SELECT is (pg_temp.as_role ('gf_intake', $$ SELECT * FROM gf_field_log ('visit.logged', 'v-r', NULL,
              jsonb_build_object ('actor', 'P-QNL.07.063-1', 'household', 'H-T-2', 'done_at', 1790000000000,
                                  'follow_up', '测试')) $$), '00000', 'the intake may log a visit with its complaint');
INSERT INTO sim_clock (at) VALUES ('2026-10-22 10:00+08') ON CONFLICT (id) DO UPDATE SET at = excluded.at;
SELECT is (pg_temp.as_role ('gf_escalator', $x$ DO $$ BEGIN
               PERFORM gf_field_reminders ('2026-10-22 10:00+08');
               IF NOT EXISTS (SELECT 1 FROM notifications n
                               WHERE n.field_reminder IS NOT NULL AND n.created_at = '2026-10-22 10:00+08') THEN
                   RAISE EXCEPTION 'no notice';
               END IF; END $$ $x$), '00000', 'the escalator may remind, with notices and their deliveries');

SELECT * FROM finish ();
ROLLBACK;
