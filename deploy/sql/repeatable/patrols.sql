-- patrols.sql — field work as logs (issue 15, 031): patrol.logged,
-- visit.logged (with an optional follow-up complaint opened in the same
-- transaction through gf_intake_store) and selfcheck.logged through the
-- intake (services/intake/gf_intake_field.c); what L2 is shown (grids that
-- skipped their patrol on a working day, overdue visits to special
-- households) and reminded of with the L3 leaders, once per period
-- (gf_field_reminders, called by the escalator; each reminder a notice
-- without a case, 033).  Events name a household by its opaque id only; free
-- text goes on the stream through gf_redact_text.
-- Owns: gf_field_rule, gf_field_redact, gf_field_authorise, gf_field_log, gf_patrol_log,
-- gf_visit_log, gf_selfcheck_log, gf_patrols_missed, gf_patrols_from,
-- gf_visits_overdue, gf_field_reminders.

-- The field-work parameters in force for a grid's L1 root (field_rules).
CREATE OR REPLACE FUNCTION gf_field_rule (p_grid text) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT params FROM field_rules WHERE root IN (split_part (p_grid, '.', 1), '*')
     ORDER BY root = '*' LIMIT 1
$$;

-- A field log's free text as it may go on the stream: the names of the
-- grid's households (heads and members, as the register knows them, the
-- longest first) replaced by [姓名], then gf_redact_text (phones, ids ...).
-- A name the register does not know is not recognised.
CREATE OR REPLACE FUNCTION gf_field_redact (p_text text, p_grid text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_name text;
BEGIN
    IF p_text IS NULL THEN
        RETURN NULL;
    END IF;
    FOR v_name IN
        SELECT n FROM (SELECT btrim (h.head_name) AS n FROM households h WHERE gf_in_subtree (h.grid, p_grid)
                       UNION
                       SELECT btrim (m->>'name') FROM households h, jsonb_array_elements (h.members) m
                        WHERE gf_in_subtree (h.grid, p_grid)) x
         WHERE char_length (n) >= 2 AND strpos (p_text, n) > 0
         ORDER BY char_length (n) DESC, n
    LOOP
        p_text := replace (p_text, v_name, '[姓名]');
    END LOOP;
    RETURN gf_redact_text (p_text);
END
$$;

-- May p_actor (through the sender p_identity: NULL on a plain loopback
-- endpoint) log field work of p_grid?  The sender: a known, unrevoked staff
-- identity (bound to p_actor if bound to a person) whose subtree holds the
-- grid, or an adapter allowed the source p_source.  The actor and each of
-- p_members: in the directory (unknown_actor), and serving (people.grid or
-- a current person_roles row, 一岗多责) a grid whose subtree holds p_grid
-- (forbidden).  err NULL: allowed.
CREATE OR REPLACE FUNCTION gf_field_authorise (p_identity text, p_actor text, p_members text[],
                                               p_grid text, p_source text,
                                               OUT err text, OUT message text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    idn record;
    who text;
BEGIN
    IF p_identity IS NOT NULL THEN
        SELECT i.name, i.kind, i.grid, i.person, i.sources, i.revoked_at IS NOT NULL AS revoked INTO idn
          FROM identities i WHERE i.public_key = p_identity;
        IF NOT FOUND THEN
            err := 'forbidden'; message := 'this client''s key is not a known identity'; RETURN;
        ELSIF idn.revoked THEN
            err := 'forbidden'; message := format ('identity %s is revoked', idn.name); RETURN;
        ELSIF idn.kind NOT IN ('staff', 'workbench') AND NOT p_source = ANY (idn.sources) THEN
            err := 'forbidden'; message := format ('identity %s may not log %s', idn.name, p_source); RETURN;
        ELSIF idn.person IS NOT NULL AND idn.person <> p_actor THEN
            err := 'forbidden'; message := format ('identity %s may act only as %s', idn.name, idn.person); RETURN;
        ELSIF NOT gf_in_subtree (p_grid, idn.grid) THEN
            err := 'forbidden'; message := format ('grid %s is outside identity %s''s subtree %s',
                                                    p_grid, idn.name, idn.grid); RETURN;
        END IF;
    END IF;
    FOREACH who IN ARRAY array_prepend (p_actor, coalesce (p_members, '{}')) LOOP
        IF NOT EXISTS (SELECT 1 FROM people WHERE id = who) THEN
            err := 'unknown_actor'; message := format ('person ''%s'' is not in the directory', who); RETURN;
        END IF;
        IF NOT EXISTS (SELECT 1 FROM people p WHERE p.id = who AND gf_in_subtree (p_grid, p.grid)
                       UNION ALL
                       SELECT 1 FROM person_roles r
                        WHERE r.person = who AND r.valid_from <= gf_now ()
                          AND (r.valid_to IS NULL OR r.valid_to > gf_now ())
                          AND gf_in_subtree (p_grid, r.grid)) THEN
            err := 'forbidden';
            message := format ('%s serves no grid whose subtree holds %s', who, p_grid); RETURN;
        END IF;
    END LOOP;
END
$$;

-- One field log from the intake: p_type patrol.logged | visit.logged |
-- selfcheck.logged, p_request its id (unique per kind), p_identity the
-- sender's key (NULL: plain), p_args the request's keys (JSON; done_at in
-- ms since the epoch).  err NULL and duplicate false: stored now (id, and
-- case_id a visit's follow-up complaint); duplicate true: stored before
-- under this id with the same keys (id, case_id as then).  err set: nothing
-- stored (a code name of proto/gf_proto.h and a message).
CREATE OR REPLACE FUNCTION gf_field_log (p_type text, p_request text, p_identity text, p_args jsonb,
                                         OUT err text, OUT message text, OUT duplicate boolean,
                                         OUT id bigint, OUT case_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_done timestamptz;
    v_skew interval;
BEGIN
    duplicate := false;
    IF p_args->>'done_at' IS NOT NULL THEN
        v_done := to_timestamp ((p_args->>'done_at')::bigint / 1000.0);
        v_skew := make_interval (mins => coalesce ((gf_field_rule (coalesce (p_args->>'grid', ''))
                                                    ->>'clock_skew_minutes')::int, 10));
        IF v_done > gf_now () + v_skew THEN
            err := 'bad_value';
            message := format ('done_at %s is in the future (now %s, allowance %s)', v_done, gf_now (), v_skew);
            RETURN;
        END IF;
    END IF;
    IF p_type = 'patrol.logged' THEN
        SELECT * INTO err, message, duplicate, id FROM gf_patrol_log (p_request, p_identity, p_args);
    ELSIF p_type = 'visit.logged' THEN
        SELECT * INTO err, message, duplicate, id, case_id FROM gf_visit_log (p_request, p_identity, p_args);
    ELSIF p_type = 'selfcheck.logged' THEN
        SELECT * INTO err, message, duplicate, id FROM gf_selfcheck_log (p_request, p_identity, p_args);
    ELSE
        err := 'unknown_type'; message := format ('type %s is not a field log', p_type);
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION gf_patrol_log (p_request text, p_identity text, p_args jsonb,
                                          OUT err text, OUT message text, OUT duplicate boolean,
                                          OUT id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_grid text := p_args->>'grid';
    v_members text[] := ARRAY (SELECT jsonb_array_elements_text (coalesce (p_args->'members', '[]')));
    v_findings text[] := ARRAY (SELECT jsonb_array_elements_text (coalesce (p_args->'findings', '[]')));
    v_places text[] := ARRAY (SELECT jsonb_array_elements_text (coalesce (p_args->'places', '[]')));
    old record;
BEGIN
    duplicate := false;
    IF NOT EXISTS (SELECT 1 FROM grids WHERE code = v_grid) THEN
        err := 'unknown_grid'; message := format ('grid ''%s'' is not in the directory', v_grid); RETURN;
    END IF;
    SELECT * INTO err, message FROM gf_field_authorise (p_identity, p_args->>'actor', v_members, v_grid, 'patrol');
    IF err IS NOT NULL THEN
        RETURN;
    END IF;
    SELECT p.id, p.body INTO old FROM patrols p WHERE p.request_id = p_request;
    IF FOUND THEN
        IF old.body = p_args THEN
            duplicate := true; id := old.id;
        ELSE
            err := 'conflict';
            message := format ('patrol ''%s'' was logged before with other contents', p_request);
        END IF;
        RETURN;
    END IF;
    INSERT INTO patrols (request_id, actor, grid, done_at, members, places, findings, note, body, logged_at)
    VALUES (p_request, p_args->>'actor', v_grid, to_timestamp ((p_args->>'done_at')::bigint / 1000.0),
            v_members, v_places, v_findings, p_args->>'note', p_args, gf_now ())
    RETURNING patrols.id INTO id;
    INSERT INTO event_stage (type, topic, grid, at, payload)
    VALUES ('patrol.logged', 'patrol.logged/' || v_grid, v_grid, gf_now (),
            jsonb_build_object ('patrol', id, 'grid', v_grid, 'actor', p_args->>'actor',
                                'members', cardinality (v_members),
                                'done_at', (p_args->>'done_at')::bigint,
                                'places', (SELECT coalesce (jsonb_agg (gf_field_redact (x, v_grid)), '[]')
                                             FROM unnest (v_places) x),
                                'findings', (SELECT coalesce (jsonb_agg (gf_field_redact (x, v_grid)), '[]')
                                               FROM unnest (v_findings) x),
                                'nothing_found', cardinality (v_findings) = 0));
END
$$;

CREATE OR REPLACE FUNCTION gf_visit_log (p_request text, p_identity text, p_args jsonb,
                                         OUT err text, OUT message text, OUT duplicate boolean,
                                         OUT id bigint, OUT case_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    h record;
    old record;
    stored record;
    v_things text[] := ARRAY (SELECT jsonb_array_elements_text (coalesce (p_args->'things_done', '[]')));
    v_groups text;
BEGIN
    duplicate := false;
    SELECT hh.id, hh.grid, hh.address, hh.head_name INTO h FROM households hh WHERE hh.id = p_args->>'household';
    IF NOT FOUND THEN
        err := 'unknown_household';
        message := format ('household ''%s'' is not in the register', p_args->>'household'); RETURN;
    END IF;
    SELECT * INTO err, message FROM gf_field_authorise (p_identity, p_args->>'actor', NULL, h.grid, 'visit');
    IF err IS NOT NULL THEN
        RETURN;
    END IF;
    SELECT v.id, v.body, v.case_id INTO old FROM visits v WHERE v.request_id = p_request;
    IF FOUND THEN
        IF old.body = p_args THEN
            duplicate := true; id := old.id; case_id := old.case_id;
        ELSE
            err := 'conflict';
            message := format ('visit ''%s'' was logged before with other contents', p_request);
        END IF;
        RETURN;
    END IF;
    IF coalesce (p_args->>'follow_up', '') <> '' THEN
        -- The follow-up complaint, as the intake stores any (rights already
        -- checked above): source visit, source_ref the visit's id.
        SELECT string_agg (g.grp, ',' ORDER BY g.grp) INTO v_groups FROM household_groups g
         WHERE g.household = h.id AND g.valid_to IS NULL;
        SELECT s.err, s.case_id INTO stored
          FROM gf_intake_store (jsonb_build_array (jsonb_build_object (
                   'i', 1, 'rid', p_request, 'source', 'visit', 'source_ref', p_request,
                   'description', p_args->>'follow_up', 'category', p_args->>'follow_up_category',
                   'grid', h.grid, 'address', h.address, 'urgent', coalesce ((p_args->>'follow_up_urgent')::boolean, false),
                   'reported_at', (p_args->>'done_at')::bigint, 'reporter', p_args->>'actor',
                   'household', h.id, 'groups', v_groups)), split_part (h.grid, '.', 1)) s;
        IF stored.err IS NOT NULL THEN
            err := stored.err; message := format ('the follow-up complaint was refused (%s)', stored.err); RETURN;
        END IF;
        case_id := stored.case_id;
    END IF;
    INSERT INTO visits (request_id, actor, household, grid, done_at, learned, things_done, case_id, body, logged_at)
    VALUES (p_request, p_args->>'actor', h.id, h.grid, to_timestamp ((p_args->>'done_at')::bigint / 1000.0),
            p_args->>'learned', v_things, case_id, p_args, gf_now ())
    RETURNING visits.id INTO id;
    INSERT INTO event_stage (type, topic, case_id, grid, at, payload)
    VALUES ('visit.logged', 'visit.logged/' || h.grid, case_id, h.grid, gf_now (),
            jsonb_build_object ('visit', id, 'household', h.id, 'grid', h.grid, 'actor', p_args->>'actor',
                                'done_at', (p_args->>'done_at')::bigint,
                                'learned', gf_field_redact (p_args->>'learned', h.grid),
                                'things_done', (SELECT coalesce (jsonb_agg (gf_field_redact (x, h.grid)), '[]')
                                                  FROM unnest (v_things) x),
                                'case', case_id));
END
$$;

-- A weekly self-check (周自查) of an L3 grid: items {code: ok|issue} for
-- every active self_check_items row, once per grid and week (the Monday of
-- done_at's local day).
CREATE OR REPLACE FUNCTION gf_selfcheck_log (p_request text, p_identity text, p_args jsonb,
                                             OUT err text, OUT message text, OUT duplicate boolean,
                                             OUT id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_grid text := p_args->>'grid';
    v_items jsonb := '{}';
    v_week date;
    v_line text;
    v_code text;
    old record;
BEGIN
    duplicate := false;
    IF NOT EXISTS (SELECT 1 FROM grids WHERE code = v_grid) THEN
        err := 'unknown_grid'; message := format ('grid ''%s'' is not in the directory', v_grid); RETURN;
    ELSIF (SELECT level FROM grids WHERE code = v_grid) <> 3 THEN
        err := 'bad_value'; message := format ('a self-check is an L3 grid''s; %s is not L3', v_grid); RETURN;
    END IF;
    SELECT * INTO err, message FROM gf_field_authorise (p_identity, p_args->>'actor', NULL, v_grid, 'patrol');
    IF err IS NOT NULL THEN
        RETURN;
    END IF;
    SELECT s.id, s.body INTO old FROM self_checks s WHERE s.request_id = p_request;
    IF FOUND THEN
        IF old.body = p_args THEN
            duplicate := true; id := old.id;
        ELSE
            err := 'conflict';
            message := format ('self-check ''%s'' was logged before with other contents', p_request);
        END IF;
        RETURN;
    END IF;
    FOR v_line IN SELECT jsonb_array_elements_text (coalesce (p_args->'items', '[]')) LOOP
        v_code := split_part (v_line, '=', 1);
        IF NOT EXISTS (SELECT 1 FROM self_check_items WHERE code = v_code AND active) THEN
            err := 'bad_value'; message := format ('unknown self-check item ''%s''', v_code); RETURN;
        ELSIF NOT split_part (v_line, '=', 2) = ANY (ARRAY['ok', 'issue']) THEN
            err := 'bad_value'; message := format ('item ''%s'': say ok or issue', v_line); RETURN;
        END IF;
        v_items := v_items || jsonb_build_object (v_code, split_part (v_line, '=', 2));
    END LOOP;
    SELECT string_agg (code, ', ' ORDER BY ord) INTO v_code FROM self_check_items
     WHERE active AND NOT v_items ? code;
    IF v_code IS NOT NULL THEN
        err := 'missing_field'; message := format ('self-check items not answered: %s', v_code); RETURN;
    END IF;
    v_week := date_trunc ('week', to_timestamp ((p_args->>'done_at')::bigint / 1000.0) AT TIME ZONE 'Asia/Shanghai')::date;
    IF EXISTS (SELECT 1 FROM self_checks WHERE grid = v_grid AND week = v_week) THEN
        err := 'conflict'; message := format ('%s has its self-check for the week of %s already', v_grid, v_week);
        RETURN;
    END IF;
    INSERT INTO self_checks (request_id, actor, grid, week, items, note, body, logged_at)
    VALUES (p_request, p_args->>'actor', v_grid, v_week, v_items, p_args->>'note', p_args, gf_now ())
    RETURNING self_checks.id INTO id;
    INSERT INTO event_stage (type, topic, grid, at, payload)
    VALUES ('selfcheck.logged', 'selfcheck.logged/' || v_grid, v_grid, gf_now (),
            jsonb_build_object ('self_check', id, 'grid', v_grid, 'actor', p_args->>'actor',
                                'week', v_week, 'items', v_items,
                                'note', gf_field_redact (p_args->>'note', v_grid)));
END
$$;

-- L3 grids of p_grid's subtree with no patrol on a working day from p_from to
-- p_to (local days, Asia/Shanghai; a day counts once it is over): a
-- holiday's weekday is no working day, a make-up Sunday (调休) is one.
CREATE OR REPLACE FUNCTION gf_patrols_missed (p_grid text, p_from date, p_to date)
RETURNS TABLE (grid text, day date)
LANGUAGE sql STABLE AS $$
    SELECT g.code, d::date
      FROM grids g
     CROSS JOIN generate_series (p_from, least (p_to, (gf_now () AT TIME ZONE 'Asia/Shanghai')::date - 1),
                                 interval '1 day') d
     WHERE g.level = 3 AND gf_in_subtree (g.code, p_grid) AND gf_is_workday (d::date)
       AND NOT EXISTS (SELECT 1 FROM patrols p
                        WHERE p.grid = g.code
                          AND p.done_at >= d::date::timestamp AT TIME ZONE 'Asia/Shanghai'
                          AND p.done_at < (d::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai')
     ORDER BY 2, 1
$$;

-- The first day patrols are expected under an L1 root: field_rules
-- patrols_from, else the day of the first patrol logged in its subtree;
-- NULL: none logged, none expected (the monthly report's missed patrols).
CREATE OR REPLACE FUNCTION gf_patrols_from (p_root text) RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT coalesce ((gf_field_rule (p_root)->>'patrols_from')::date,
                     (SELECT (min (x.first) AT TIME ZONE 'Asia/Shanghai')::date
                        FROM grids g
                       CROSS JOIN LATERAL (SELECT min (p.done_at) AS first FROM patrols p WHERE p.grid = g.code) x
                       WHERE gf_in_subtree (g.code, p_root)))
$$;

-- Special households of p_grid's subtree whose visit is due (the due day
-- has come): opaque id, grid, current groups, last visit, the due day's start.
CREATE OR REPLACE FUNCTION gf_visits_overdue (p_grid text)
RETURNS TABLE (household text, grid text, groups text, last_visit timestamptz, due_at timestamptz)
LANGUAGE sql STABLE AS $$
    -- the one rule of when a visit is due: gf_visit_due (households.sql)
    SELECT d.household, d.grid, array_to_string (d.groups, ','), d.last_visit,
           d.due::timestamp AT TIME ZONE 'Asia/Shanghai'
      FROM gf_visits_due (p_grid) d
     WHERE d.overdue
     ORDER BY d.due, d.household
$$;

-- Reminders (escalator, each tick): missed patrols of the last
-- lookback_days working days (not before patrols_from, by default the
-- root's first patrol: none logged, none expected) and overdue visits, once
-- per (subject, period, recipient), made only on a working day from
-- remind_hour:remind_minute on and released after quiet hours
-- (gf_quiet_release).  Who is reminded: the enabled notification_rules
-- raised by the escalator for the kind (033): grid_leader the L3 grid's
-- leader, l2_leader its L2 grid's leader — for an overdue visit only once
-- visit_l2_grace_working_days (default 5) working days have passed since
-- the due day.  One person in both roles is reminded once (as the L3
-- leader).  Each new reminder is an event (patrol.missed, visit.overdue)
-- without personal data and a staff notification (gf_notify_field, in the
-- same transaction).  Returns how many reminders were made.
-- p_roots: only these L1 roots (an escalator instance's share; NULL: every
-- root).
DROP FUNCTION IF EXISTS gf_field_reminders (timestamptz);
CREATE OR REPLACE FUNCTION gf_field_reminders (p_at timestamptz, p_roots text[] DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_local timestamp := p_at AT TIME ZONE 'Asia/Shanghai';
    v_made bigint[];
BEGIN
    IF NOT gf_is_workday (v_local::date) THEN
        RETURN 0;
    END IF;
    WITH roots AS (
        -- Patrols are expected from patrols_from, by default from the first
        -- patrol logged under the root (a sub-district that does not log
        -- patrols yet is not told every grid missed every day).
        -- (greatest ignores NULL: no start, no row of gf_patrols_missed)
        SELECT r.code AS root, p.params,
               CASE WHEN f.first IS NOT NULL
                    THEN greatest (v_local::date - coalesce ((p.params->>'lookback_days')::int, 3), f.first) END AS since
          FROM grids r
         CROSS JOIN LATERAL (SELECT gf_field_rule (r.code) AS params) p
         CROSS JOIN LATERAL (SELECT coalesce ((p.params->>'patrols_from')::date,
                                              (SELECT min (x.done_at AT TIME ZONE 'Asia/Shanghai')::date FROM patrols x
                                                WHERE split_part (x.grid, '.', 1) = r.code)) AS first) f
         WHERE r.level = 1 AND (p_roots IS NULL OR r.code = ANY (p_roots))
           AND v_local::time >= make_time (coalesce ((p.params->>'remind_hour')::int, 9),
                                           coalesce ((p.params->>'remind_minute')::int, 0), 0)
    ), due AS (
        SELECT 'patrol.missed' AS kind, m.grid AS subject, m.day AS period, m.grid, roots.params
          FROM roots
         CROSS JOIN LATERAL gf_patrols_missed (roots.root, roots.since, v_local::date - 1) m
        UNION ALL
        SELECT 'visit.overdue', o.household, (o.due_at AT TIME ZONE 'Asia/Shanghai')::date, o.grid, roots.params
          FROM roots
         CROSS JOIN LATERAL gf_visits_overdue (roots.root) o
    ), graced AS MATERIALIZED (
        -- the overdue visits' due days whose L2 grace is over (once per
        -- distinct day and grace, not per household)
        SELECT x.period, x.grace
          FROM (SELECT DISTINCT due.period,
                       coalesce ((due.params->>'visit_l2_grace_working_days')::int, 5) AS grace
                  FROM due WHERE due.kind = 'visit.overdue') x
         WHERE (gf_add_working_days (x.period::timestamp AT TIME ZONE 'Asia/Shanghai', x.grace)
                AT TIME ZONE 'Asia/Shanghai')::date <= v_local::date
    ), whom AS (
        SELECT DISTINCT ON (due.kind, due.subject, due.period, l.leader)
               due.kind, due.subject, due.period, due.grid, r.audience, l.leader
          FROM due
          JOIN notification_rules r ON r.event_type = due.kind AND r.raised_by = 'escalator' AND r.enabled
                                   AND r.audience IN ('grid_leader', 'l2_leader')
         CROSS JOIN LATERAL (SELECT gf_leader (CASE r.audience WHEN 'grid_leader' THEN due.grid
                                                  ELSE gf_owner_grid (due.grid, 2) END) AS leader) l
         WHERE l.leader IS NOT NULL
           AND (r.audience = 'grid_leader' OR due.kind = 'patrol.missed'
                OR EXISTS (SELECT 1 FROM graced g
                            WHERE g.period = due.period
                              AND g.grace = coalesce ((due.params->>'visit_l2_grace_working_days')::int, 5)))
         ORDER BY due.kind, due.subject, due.period, l.leader, r.audience = 'grid_leader' DESC
    ), made AS (
        INSERT INTO field_reminders (kind, subject, period, grid, recipient, audience, created_at, not_before)
        SELECT whom.kind, whom.subject, whom.period, whom.grid, whom.leader, whom.audience, p_at,
               gf_quiet_release (p_at, false, 'staff')
          FROM whom
        ON CONFLICT (kind, subject, period, recipient) DO NOTHING
        RETURNING field_reminders.*
    ), ev AS (
        INSERT INTO event_stage (type, topic, grid, at, payload)
        SELECT made.kind, made.kind || '/' || made.grid, made.grid, p_at,
               CASE made.kind WHEN 'patrol.missed'
                    THEN jsonb_build_object ('grid', made.grid, 'day', made.period, 'to', made.recipient)
                    ELSE jsonb_build_object ('household', made.subject, 'grid', made.grid, 'due', made.period,
                                             'to', made.recipient) END
          FROM made ORDER BY made.id
    )
    SELECT array_agg (made.id ORDER BY made.id) INTO v_made FROM made;
    IF v_made IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM gf_notify_field (v_made);
    RETURN cardinality (v_made);
END
$$;
