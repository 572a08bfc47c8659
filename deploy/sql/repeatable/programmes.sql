-- programmes.sql — the programmes of grid work (issue 15, 4-9; tables in
-- migration 032): the staff's programme.action through the intake
-- (services/intake/gf_intake_programme.c) — 1+10+N links, things done
-- (办实事), help pairs (结对帮扶) and relief cases (救助), star-rating
-- rounds (星级评定), campaigns (专项行动) and team members helping on a
-- case — and what reads them: counts per link, a round's results and its
-- public JSON (no personal data), campaign progress, the monthly report's
-- programme figures and the dashboard's.
-- Owns: gf_programme_apply, gf_programme_day, gf_link_visits, gf_link_counts,
-- gf_rating_results, gf_rating_public_json, gf_campaign_progress,
-- gf_campaign_progress_json, gf_report_field, gf_report_programmes, gf_report_programmes_json,
-- gf_dash_programmes.

-- A request's day ('date': YYYY-MM-DD, local), else today (gf_now, Asia/
-- Shanghai).  NULL when the text is not a date.
CREATE OR REPLACE FUNCTION gf_programme_day (p_args jsonb) RETURNS date
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_args->>'date' IS NULL THEN
        RETURN (gf_now () AT TIME ZONE 'Asia/Shanghai')::date;
    ELSIF p_args->>'date' !~ '^\d{4}-\d{2}-\d{2}$' THEN
        RETURN NULL;
    END IF;
    RETURN (p_args->>'date')::date;
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$$;

-- Applies one programme.action in the caller's transaction, or refuses it
-- with nothing written.  p_args: the request's keys (household, person,
-- grid, kind, note, goal, outcome, criterion, campaign, team, subject,
-- name, date; link, pair, case, visit, round, score, qty, target).
-- p_identity: the sender's public key on a CURVE endpoint, NULL on a plain
-- one.  err NULL: applied (or duplicate: applied before, ref as then);
-- else the error code's name (proto/gf_proto.h) and a message.  ref: the
-- record made or changed ('link:12', 'pair:3' ...).
-- Who may: the actor is staff (people) whose grid holds the record's grid
-- in its subtree; rating rounds are L2's (or L1's), campaigns L1's.
CREATE OR REPLACE FUNCTION gf_programme_apply (p_request text, p_actor text, p_action text,
                                               p_identity text, p_args jsonb,
                                               OUT err text, OUT message text,
                                               OUT duplicate boolean, OUT ref text)
LANGUAGE plpgsql AS $$
DECLARE
    idn record;
    who record;
    h record;
    r record;
    v_day date := gf_programme_day (p_args);
    v_grid text;
    v_id bigint;
    v_n bigint;
    v_type text;
    v_payload jsonb;
    v_person text := p_args->>'person';
    v_household text := p_args->>'household';
    v_idgrid text;
    v_hgrid text;
BEGIN
    duplicate := false;
    IF p_identity IS NOT NULL THEN
        SELECT i.name, i.kind, i.grid, i.person, i.revoked_at IS NOT NULL AS revoked INTO idn
          FROM identities i WHERE i.public_key = p_identity;
        IF NOT FOUND THEN
            err := 'forbidden'; message := 'this client''s key is not a known identity'; RETURN;
        ELSIF idn.revoked THEN
            err := 'forbidden'; message := format ('identity %s is revoked', idn.name); RETURN;
        ELSIF idn.kind NOT IN ('staff', 'workbench') THEN
            err := 'forbidden'; message := format ('identity %s (%s) may not record programmes', idn.name, idn.kind); RETURN;
        ELSIF idn.person IS NOT NULL AND idn.person <> p_actor THEN
            err := 'forbidden'; message := format ('identity %s may act only as %s', idn.name, idn.person); RETURN;
        END IF;
        v_idgrid := idn.grid;
    END IF;
    SELECT p.grid, g.level INTO who FROM people p JOIN grids g ON g.code = p.grid WHERE p.id = p_actor;
    IF NOT FOUND THEN
        err := 'unknown_actor'; message := format ('actor ''%s'' is not in the directory', p_actor); RETURN;
    END IF;
    IF v_idgrid IS NOT NULL AND NOT gf_in_subtree (who.grid, v_idgrid) THEN
        err := 'forbidden'; message := format ('actor %s (%s) is outside identity %s''s subtree %s', p_actor,
                                               who.grid, idn.name, v_idgrid); RETURN;
    END IF;
    -- A resend answers as the first time.
    SELECT a.action, a.ref INTO r FROM programme_actions a WHERE a.actor = p_actor AND a.request_id = p_request;
    IF FOUND THEN
        IF r.action <> p_action THEN
            err := 'bad_value'; message := format ('request id ''%s'' of %s was already used for %s', p_request,
                                                   p_actor, r.action); RETURN;
        END IF;
        duplicate := true; ref := r.ref; RETURN;
    END IF;
    IF v_day IS NULL THEN
        err := 'bad_value'; message := format ('''%s'' is not a date (YYYY-MM-DD)', p_args->>'date'); RETURN;
    ELSIF v_day > (gf_now () AT TIME ZONE 'Asia/Shanghai')::date THEN
        err := 'bad_value'; message := format ('%s is in the future', v_day); RETURN;
    END IF;
    -- The household, when the action names one: known, and in the actor's subtree.
    IF v_household IS NOT NULL THEN
        SELECT x.id, x.grid INTO h FROM households x WHERE x.id = v_household;
        v_hgrid := h.grid;
        IF NOT FOUND THEN
            err := 'unknown_household'; message := format ('no household ''%s'' in the register', v_household); RETURN;
        ELSIF NOT gf_in_subtree (v_hgrid, who.grid) THEN
            err := 'forbidden'; message := format ('household %s (%s) is outside %s''s grid %s', h.id, v_hgrid,
                                                   p_actor, who.grid); RETURN;
        END IF;
    END IF;
    -- A person the action names (a cadre, a helper, a team member):
    -- known, and serving (people or a current person_roles row) a grid
    -- whose subtree holds the record's grid.
    IF v_person IS NOT NULL THEN
        IF NOT EXISTS (SELECT 1 FROM people WHERE id = v_person) THEN
            err := 'unknown_actor'; message := format ('person ''%s'' is not in the directory', v_person); RETURN;
        END IF;
        v_grid := coalesce (v_hgrid, (SELECT c.grid FROM cases c WHERE c.id = (p_args->>'case')::bigint),
                            p_args->>'grid');
        -- (a case's helper: a current member of the team, in the case's grid or above)
        IF v_grid IS NOT NULL AND NOT EXISTS (
               SELECT 1 FROM people p WHERE p.id = v_person AND gf_in_subtree (v_grid, p.grid)
                  AND p_action <> 'case.helper'
               UNION ALL
               SELECT 1 FROM person_roles pr WHERE pr.person = v_person AND pr.valid_to IS NULL
                  AND gf_in_subtree (v_grid, pr.grid)
                  AND (p_action <> 'case.helper' OR pr.team = p_args->>'team')) THEN
            err := 'bad_value'; message := format ('%s does not serve grid %s%s', v_person, v_grid,
                                                   CASE WHEN p_action = 'case.helper'
                                                        THEN format (' in team %s', p_args->>'team') END);
            RETURN;
        END IF;
    END IF;

    IF p_action = 'link.open' THEN
        IF v_household IS NULL OR v_person IS NULL THEN
            err := 'missing_field'; message := 'link.open needs a ''person'' (the cadre) and a ''household'''; RETURN;
        END IF;
        -- one link.open per cadre at a time: the count below holds until commit
        PERFORM pg_advisory_xact_lock (hashtext ('care_links/' || v_person));
        IF EXISTS (SELECT 1 FROM care_links l WHERE l.cadre = v_person AND l.household = v_household
                         AND l.valid_to IS NULL) THEN
            err := 'conflict'; message := format ('%s already keeps a link with %s', v_person, v_household); RETURN;
        ELSIF (SELECT count (*) FROM care_links l WHERE l.cadre = v_person AND l.valid_to IS NULL)
              >= (SELECT value::int FROM programme_settings WHERE key = 'links_per_cadre') THEN
            err := 'conflict'; message := format ('%s already keeps %s links (programme_settings links_per_cadre)',
                                                  v_person, (SELECT value FROM programme_settings
                                                              WHERE key = 'links_per_cadre')); RETURN;
        END IF;
        INSERT INTO care_links (cadre, household, grid, valid_from, opened_by)
        VALUES (v_person, v_household, v_hgrid, v_day, p_actor) RETURNING id INTO v_id;
        ref := 'link:' || v_id; v_grid := v_hgrid; v_type := 'link.opened';
        v_payload := jsonb_build_object ('link', v_id, 'cadre', v_person, 'household', v_household);
    ELSIF p_action = 'link.close' THEN
        SELECT l.* INTO r FROM care_links l WHERE l.id = (p_args->>'link')::bigint FOR UPDATE;
        IF p_args->>'link' IS NULL THEN
            err := 'missing_field'; message := 'link.close needs a ''link'''; RETURN;
        ELSIF NOT FOUND THEN
            err := 'bad_value'; message := format ('no link %s', p_args->>'link'); RETURN;
        ELSIF NOT gf_in_subtree (r.grid, who.grid) THEN
            err := 'forbidden'; message := format ('link %s (%s) is outside %s''s grid', r.id, r.grid, p_actor); RETURN;
        ELSIF r.valid_to IS NOT NULL THEN
            err := 'illegal_transition'; message := format ('link %s ended on %s', r.id, r.valid_to); RETURN;
        ELSIF v_day < r.valid_from THEN
            err := 'bad_value'; message := format ('link %s started on %s', r.id, r.valid_from); RETURN;
        END IF;
        UPDATE care_links SET valid_to = v_day WHERE id = r.id;
        ref := 'link:' || r.id; v_grid := r.grid; v_type := 'link.closed';
        v_payload := jsonb_build_object ('link', r.id, 'cadre', r.cadre, 'household', r.household);
    ELSIF p_action = 'thing.done' THEN
        IF p_args->>'link' IS NOT NULL THEN
            SELECT l.* INTO r FROM care_links l WHERE l.id = (p_args->>'link')::bigint;
            IF NOT FOUND THEN
                err := 'bad_value'; message := format ('no link %s', p_args->>'link'); RETURN;
            ELSIF v_household IS NOT NULL AND v_household <> r.household THEN
                err := 'bad_value'; message := format ('link %s is with household %s', r.id, r.household); RETURN;
            ELSIF NOT gf_in_subtree (r.grid, who.grid) THEN
                err := 'forbidden'; message := format ('link %s (%s) is outside %s''s grid', r.id, r.grid, p_actor); RETURN;
            END IF;
            v_household := r.household; v_grid := r.grid;
        END IF;
        IF p_args->>'case' IS NOT NULL THEN
            SELECT c.id, c.grid INTO r FROM cases c WHERE c.id = (p_args->>'case')::bigint;
            IF NOT FOUND THEN
                err := 'unknown_case'; message := format ('no case %s', p_args->>'case'); RETURN;
            ELSIF NOT gf_in_subtree (r.grid, who.grid) THEN
                err := 'forbidden'; message := format ('case %s (%s) is outside %s''s grid', r.id, r.grid, p_actor); RETURN;
            END IF;
            v_grid := coalesce (v_grid, v_hgrid, r.grid);
        END IF;
        v_grid := coalesce (v_grid, v_hgrid);
        IF v_household IS NULL AND p_args->>'case' IS NULL THEN
            err := 'missing_field'; message := 'thing.done needs a ''household'', a ''link'' or a ''case'''; RETURN;
        ELSIF coalesce (p_args->>'kind', '') = '' OR coalesce (p_args->>'note', '') = '' THEN
            err := 'missing_field'; message := 'thing.done needs a ''kind'' and a ''note'''; RETURN;
        ELSIF NOT EXISTS (SELECT 1 FROM thing_kinds WHERE code = p_args->>'kind') THEN
            err := 'bad_value'; message := format ('unknown kind of thing done ''%s'' (%s)', p_args->>'kind',
                                                   (SELECT string_agg (code, ', ' ORDER BY ord) FROM thing_kinds)); RETURN;
        ELSIF p_args->>'visit' IS NOT NULL AND NOT EXISTS (
                  SELECT 1 FROM visits v WHERE v.id = (p_args->>'visit')::bigint
                     AND v.household IS NOT DISTINCT FROM coalesce (v_household, v.household)) THEN
            err := 'bad_value';
            message := format ('no visit %s (of this household) carries this thing done', p_args->>'visit'); RETURN;
        END IF;
        INSERT INTO things_done (kind, note, day, actor, household, link_id, visit_id, case_id, grid, at)
        VALUES (p_args->>'kind', p_args->>'note', v_day, p_actor, v_household, (p_args->>'link')::bigint,
                (p_args->>'visit')::bigint, (p_args->>'case')::bigint, v_grid, gf_now ())
        RETURNING id INTO v_id;
        ref := 'thing:' || v_id; v_type := 'thing.done';
        v_payload := jsonb_strip_nulls (jsonb_build_object (
            'thing', v_id, 'kind', p_args->>'kind', 'household', v_household, 'link', (p_args->>'link')::bigint,
            'visit', (p_args->>'visit')::bigint, 'day', v_day));
    ELSIF p_action = 'pair.open' THEN
        IF v_household IS NULL OR v_person IS NULL OR coalesce (p_args->>'goal', '') = '' THEN
            err := 'missing_field'; message := 'pair.open needs a ''person'' (the helper), a ''household'' and a ''goal'''; RETURN;
        ELSIF EXISTS (SELECT 1 FROM help_pairs x WHERE x.helper = v_person AND x.household = v_household
                         AND x.state = 'active') THEN
            err := 'conflict'; message := format ('%s already helps %s', v_person, v_household); RETURN;
        END IF;
        INSERT INTO help_pairs (helper, household, grid, goal, started, opened_by)
        VALUES (v_person, v_household, v_hgrid, p_args->>'goal', v_day, p_actor) RETURNING id INTO v_id;
        ref := 'pair:' || v_id; v_grid := v_hgrid; v_type := 'pair.opened';
        v_payload := jsonb_build_object ('pair', v_id, 'helper', v_person, 'household', v_household, 'started', v_day);
    ELSIF p_action IN ('pair.review', 'pair.close') THEN
        SELECT x.* INTO r FROM help_pairs x WHERE x.id = (p_args->>'pair')::bigint FOR UPDATE;
        IF p_args->>'pair' IS NULL THEN
            err := 'missing_field'; message := format ('%s needs a ''pair''', p_action); RETURN;
        ELSIF NOT FOUND THEN
            err := 'bad_value'; message := format ('no help pair %s', p_args->>'pair'); RETURN;
        ELSIF NOT gf_in_subtree (r.grid, who.grid) THEN
            err := 'forbidden'; message := format ('help pair %s (%s) is outside %s''s grid', r.id, r.grid, p_actor); RETURN;
        ELSIF r.state <> 'active' THEN
            err := 'illegal_transition'; message := format ('help pair %s is closed (%s)', r.id, r.outcome); RETURN;
        ELSIF v_day < r.started THEN
            err := 'bad_value'; message := format ('help pair %s started on %s', r.id, r.started); RETURN;
        END IF;
        v_grid := r.grid; ref := 'pair:' || r.id;
        IF p_action = 'pair.review' THEN
            IF coalesce (p_args->>'note', '') = '' THEN
                err := 'missing_field'; message := 'pair.review needs a ''note'''; RETURN;
            END IF;
            INSERT INTO help_pair_reviews (pair_id, day, note, actor, at)
            VALUES (r.id, v_day, p_args->>'note', p_actor, gf_now ());
            v_type := 'pair.reviewed';
            v_payload := jsonb_build_object ('pair', r.id, 'household', r.household, 'day', v_day,
                                             'reviews', (SELECT count (*) FROM help_pair_reviews WHERE pair_id = r.id));
        ELSE
            IF p_args->>'outcome' IS NULL THEN
                err := 'missing_field'; message := 'pair.close needs an ''outcome'''; RETURN;
            ELSIF NOT (p_args->>'outcome' = ANY (ARRAY['achieved', 'partly', 'not_achieved', 'moved_away'])) THEN
                err := 'bad_value'; message := format ('unknown outcome ''%s'' (achieved, partly, not_achieved, moved_away)',
                                                       p_args->>'outcome'); RETURN;
            END IF;
            UPDATE help_pairs SET state = 'closed', outcome = p_args->>'outcome', closed_on = v_day WHERE id = r.id;
            v_type := 'pair.closed';
            v_payload := jsonb_build_object ('pair', r.id, 'household', r.household, 'outcome', p_args->>'outcome',
                                             'closed_on', v_day);
        END IF;
    ELSIF p_action = 'relief.record' THEN
        v_grid := coalesce (p_args->>'grid', who.grid);
        v_n := coalesce ((p_args->>'qty')::bigint, 1);
        IF coalesce (p_args->>'kind', '') = '' OR coalesce (p_args->>'note', '') = '' THEN
            err := 'missing_field'; message := 'relief.record needs a ''kind'' and a ''note'''; RETURN;
        ELSIF NOT EXISTS (SELECT 1 FROM relief_kinds WHERE code = p_args->>'kind') THEN
            err := 'bad_value'; message := format ('unknown relief kind ''%s'' (%s)', p_args->>'kind',
                                                   (SELECT string_agg (code, ', ' ORDER BY code) FROM relief_kinds)); RETURN;
        ELSIF NOT EXISTS (SELECT 1 FROM grids WHERE code = v_grid) THEN
            err := 'unknown_grid'; message := format ('no grid ''%s''', v_grid); RETURN;
        ELSIF NOT gf_in_subtree (v_grid, who.grid) THEN
            err := 'forbidden'; message := format ('grid %s is outside %s''s grid %s', v_grid, p_actor, who.grid); RETURN;
        ELSIF v_n NOT BETWEEN 1 AND 1000 THEN
            err := 'bad_value'; message := 'relief ''qty'' (people aided) is 1 to 1000'; RETURN;
        END IF;
        INSERT INTO relief_cases (kind, grid, people, day, note, actor, at)
        VALUES (p_args->>'kind', v_grid, v_n, v_day, p_args->>'note', p_actor, gf_now ()) RETURNING id INTO v_id;
        ref := 'relief:' || v_id; v_type := 'relief.recorded';
        v_payload := jsonb_build_object ('relief', v_id, 'kind', p_args->>'kind', 'people', v_n, 'day', v_day);
    ELSIF p_action = 'rating.open' THEN
        v_grid := coalesce (p_args->>'grid', who.grid);
        IF coalesce (p_args->>'name', '') = '' OR p_args->>'kind' IS NULL THEN
            err := 'missing_field'; message := 'rating.open needs a ''name'' (the period, e.g. 2026-Q4) and a ''kind'' (grid or household)'; RETURN;
        ELSIF NOT (p_args->>'kind' = ANY (ARRAY['grid', 'household'])) THEN
            err := 'bad_value'; message := format ('a round rates ''grid'' (self-governance groups) or ''household'', not ''%s''',
                                                   p_args->>'kind'); RETURN;
        ELSIF NOT EXISTS (SELECT 1 FROM grids WHERE code = v_grid AND level = 2) THEN
            err := 'unknown_grid'; message := format ('%s is not an L2 grid', v_grid); RETURN;
        ELSIF who.level > 2 OR NOT gf_in_subtree (v_grid, who.grid) THEN
            err := 'forbidden'; message := format ('rating rounds of %s are L2''s: %s (%s) may not open one', v_grid,
                                                   p_actor, who.grid); RETURN;
        ELSIF EXISTS (SELECT 1 FROM rating_rounds x WHERE x.grid = v_grid AND x.period = p_args->>'name'
                         AND x.subject_kind = p_args->>'kind') THEN
            err := 'conflict'; message := format ('%s already has a %s round for %s', v_grid, p_args->>'kind',
                                                  p_args->>'name'); RETURN;
        END IF;
        INSERT INTO rating_rounds (grid, period, subject_kind, opened_by, opened_at)
        VALUES (v_grid, p_args->>'name', p_args->>'kind', p_actor, gf_now ()) RETURNING id INTO v_id;
        ref := 'round:' || v_id; v_type := 'rating.opened';
        v_payload := jsonb_build_object ('round', v_id, 'period', p_args->>'name', 'subject_kind', p_args->>'kind');
    ELSIF p_action IN ('rating.score', 'rating.publish') THEN
        SELECT x.* INTO r FROM rating_rounds x WHERE x.id = (p_args->>'round')::bigint FOR UPDATE;
        IF p_args->>'round' IS NULL THEN
            err := 'missing_field'; message := format ('%s needs a ''round''', p_action); RETURN;
        ELSIF NOT FOUND THEN
            err := 'bad_value'; message := format ('no rating round %s', p_args->>'round'); RETURN;
        ELSIF who.level > 2 OR NOT gf_in_subtree (r.grid, who.grid) THEN
            err := 'forbidden'; message := format ('round %s of %s is L2''s: %s (%s) may not act on it', r.id, r.grid,
                                                   p_actor, who.grid); RETURN;
        ELSIF r.state <> 'open' THEN
            err := 'illegal_transition'; message := format ('round %s is published', r.id); RETURN;
        END IF;
        v_grid := r.grid; ref := 'round:' || r.id;
        IF p_action = 'rating.score' THEN
            IF p_args->>'subject' IS NULL OR p_args->>'criterion' IS NULL OR p_args->>'score' IS NULL THEN
                err := 'missing_field'; message := 'rating.score needs a ''subject'', a ''criterion'' and a ''score'''; RETURN;
            ELSIF NOT EXISTS (SELECT 1 FROM rating_criteria WHERE code = p_args->>'criterion' AND active) THEN
                err := 'bad_value'; message := format ('''%s'' is not a rating criterion (%s)', p_args->>'criterion',
                                                       (SELECT string_agg (code, ', ' ORDER BY ord) FROM rating_criteria
                                                         WHERE active)); RETURN;
            ELSIF (p_args->>'score')::bigint NOT BETWEEN 0
                  AND (SELECT max_points FROM rating_criteria WHERE code = p_args->>'criterion') THEN
                err := 'bad_value'; message := format ('score %s is outside 0..%s for %s', p_args->>'score',
                                                       (SELECT max_points FROM rating_criteria
                                                         WHERE code = p_args->>'criterion'), p_args->>'criterion'); RETURN;
            ELSIF r.subject_kind = 'grid' AND NOT EXISTS (SELECT 1 FROM grids g WHERE g.code = p_args->>'subject'
                                                             AND g.parent = r.grid) THEN
                err := 'unknown_grid'; message := format ('%s is not a self-governance group (L3 grid) of %s',
                                                          p_args->>'subject', r.grid); RETURN;
            ELSIF r.subject_kind = 'household' AND NOT EXISTS (
                      SELECT 1 FROM households x WHERE x.id = p_args->>'subject') THEN
                err := 'unknown_household'; message := format ('no household ''%s'' in the register', p_args->>'subject'); RETURN;
            ELSIF r.subject_kind = 'household' AND NOT EXISTS (
                      SELECT 1 FROM households x WHERE x.id = p_args->>'subject' AND gf_in_subtree (x.grid, r.grid)) THEN
                err := 'forbidden'; message := format ('household %s is outside %s', p_args->>'subject', r.grid); RETURN;
            END IF;
            INSERT INTO rating_scores (round_id, subject, grid, criterion, points, actor, at)
            VALUES (r.id, p_args->>'subject',
                    coalesce ((SELECT x.grid FROM households x WHERE x.id = p_args->>'subject'), p_args->>'subject'),
                    p_args->>'criterion', (p_args->>'score')::int, p_actor, gf_now ())
            ON CONFLICT (round_id, subject, criterion)
            DO UPDATE SET points = EXCLUDED.points, actor = EXCLUDED.actor, at = EXCLUDED.at;
            v_type := 'rating.scored';
            -- a household subject is named by its opaque id (staff stream only; never public)
            v_payload := jsonb_build_object ('round', r.id, 'subject', p_args->>'subject',
                                             'criterion', p_args->>'criterion', 'score', (p_args->>'score')::int);
        ELSE
            IF NOT EXISTS (SELECT 1 FROM rating_scores WHERE round_id = r.id) THEN
                err := 'bad_value'; message := format ('round %s has no scores to publish', r.id); RETURN;
            END IF;
            UPDATE rating_rounds SET state = 'published', published_at = gf_now () WHERE id = r.id;
            v_type := 'rating.published';
            v_payload := jsonb_build_object ('round', r.id, 'period', r.period, 'subject_kind', r.subject_kind,
                                             'subjects', (SELECT count (DISTINCT subject) FROM rating_scores
                                                           WHERE round_id = r.id));
        END IF;
    ELSIF p_action = 'campaign.open' THEN
        v_grid := coalesce (p_args->>'grid', who.grid);
        IF p_args->>'campaign' IS NULL OR coalesce (p_args->>'name', '') = '' THEN
            err := 'missing_field'; message := 'campaign.open needs a ''campaign'' (code) and a ''name'''; RETURN;
        ELSIF p_args->>'campaign' !~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' THEN
            err := 'bad_value'; message := format ('''%s'' is not a campaign code', p_args->>'campaign'); RETURN;
        ELSIF NOT EXISTS (SELECT 1 FROM grids WHERE code = v_grid AND level = 1) THEN
            err := 'unknown_grid'; message := format ('%s is not an L1 grid', v_grid); RETURN;
        ELSIF who.level <> 1 OR who.grid <> v_grid THEN
            err := 'forbidden'; message := format ('campaigns of %s are L1''s: %s (%s) may not open one', v_grid,
                                                   p_actor, who.grid); RETURN;
        ELSIF EXISTS (SELECT 1 FROM campaigns WHERE code = p_args->>'campaign') THEN
            err := 'conflict'; message := format ('campaign %s exists', p_args->>'campaign'); RETURN;
        END IF;
        INSERT INTO campaigns (code, name, grid, unit, opened_by, opened_at)
        VALUES (p_args->>'campaign', p_args->>'name', v_grid, coalesce (p_args->>'kind', '件'), p_actor, gf_now ());
        ref := 'campaign:' || (p_args->>'campaign'); v_type := 'campaign.opened';
        v_payload := jsonb_build_object ('campaign', p_args->>'campaign', 'name', p_args->>'name');
    ELSIF p_action IN ('campaign.target', 'campaign.item') THEN
        SELECT x.* INTO r FROM campaigns x WHERE x.code = p_args->>'campaign' FOR UPDATE;
        IF p_args->>'campaign' IS NULL THEN
            err := 'missing_field'; message := format ('%s needs a ''campaign''', p_action); RETURN;
        ELSIF NOT FOUND THEN
            err := 'bad_value'; message := format ('no campaign ''%s''', p_args->>'campaign'); RETURN;
        ELSIF r.state <> 'open' THEN
            err := 'illegal_transition'; message := format ('campaign %s is closed', r.code); RETURN;
        END IF;
        v_grid := coalesce (p_args->>'grid', (SELECT p.grid FROM people p WHERE p.id = v_person));
        ref := 'campaign:' || r.code;
        IF v_grid IS NOT NULL AND NOT EXISTS (SELECT 1 FROM grids WHERE code = v_grid) THEN
            err := 'unknown_grid'; message := format ('no grid ''%s''', v_grid); RETURN;
        ELSIF v_grid IS NOT NULL AND NOT gf_in_subtree (v_grid, r.grid) THEN
            err := 'bad_value'; message := format ('%s is outside campaign %s''s grid %s', v_grid, r.code, r.grid); RETURN;
        END IF;
        IF p_action = 'campaign.target' THEN
            IF (p_args->>'grid' IS NULL) = (v_person IS NULL) OR p_args->>'target' IS NULL THEN
                err := 'missing_field'; message := 'campaign.target needs a ''target'' and either a ''grid'' or a ''person'''; RETURN;
            ELSIF (p_args->>'target')::bigint NOT BETWEEN 1 AND 1000000 THEN
                err := 'bad_value'; message := 'a campaign ''target'' is 1 to 1000000'; RETURN;
            ELSIF who.level <> 1 OR who.grid <> r.grid THEN
                err := 'forbidden'; message := format ('targets of campaign %s are set by %s''s staff', r.code, r.grid); RETURN;
            END IF;
            INSERT INTO campaign_targets (campaign, grid, person, target)
            VALUES (r.code, p_args->>'grid', v_person, (p_args->>'target')::int)
            ON CONFLICT (campaign, coalesce (grid, ''), coalesce (person, '')) DO UPDATE SET target = EXCLUDED.target;
            v_type := 'campaign.targeted';
            v_payload := jsonb_strip_nulls (jsonb_build_object ('campaign', r.code, 'target_grid', p_args->>'grid',
                                                                'person', v_person,
                                                                'target', (p_args->>'target')::int));
        ELSE
            v_grid := coalesce (v_grid, who.grid);
            v_n := coalesce ((p_args->>'qty')::bigint, 1);
            IF coalesce (p_args->>'note', '') = '' THEN
                err := 'missing_field'; message := 'campaign.item needs a ''note'''; RETURN;
            ELSIF NOT gf_in_subtree (v_grid, who.grid) THEN
                err := 'forbidden'; message := format ('grid %s is outside %s''s grid %s', v_grid, p_actor, who.grid); RETURN;
            ELSIF NOT gf_in_subtree (v_grid, r.grid) THEN
                err := 'bad_value'; message := format ('%s is outside campaign %s''s grid %s', v_grid, r.code, r.grid); RETURN;
            ELSIF v_n NOT BETWEEN 1 AND 100000 THEN
                err := 'bad_value'; message := 'a campaign item''s ''qty'' is 1 to 100000'; RETURN;
            END IF;
            INSERT INTO campaign_items (campaign, grid, person, qty, day, note, actor, at)
            VALUES (r.code, v_grid, v_person, v_n, v_day, p_args->>'note', p_actor, gf_now ()) RETURNING id INTO v_id;
            v_type := 'campaign.item';
            v_payload := jsonb_strip_nulls (jsonb_build_object ('campaign', r.code, 'item', v_id, 'qty', v_n,
                                                                'person', v_person, 'day', v_day));
        END IF;
    ELSIF p_action = 'case.helper' THEN
        IF p_args->>'case' IS NULL OR v_person IS NULL OR p_args->>'team' IS NULL THEN
            err := 'missing_field'; message := 'case.helper needs a ''case'', a ''person'' and a ''team'''; RETURN;
        END IF;
        SELECT c.id, c.grid, c.state INTO r FROM cases c WHERE c.id = (p_args->>'case')::bigint FOR UPDATE;
        IF NOT FOUND THEN
            err := 'unknown_case'; message := format ('no case %s', p_args->>'case'); RETURN;
        ELSIF NOT gf_in_subtree (r.grid, who.grid) THEN
            err := 'forbidden'; message := format ('case %s (%s) is outside %s''s grid %s', r.id, r.grid, p_actor,
                                                   who.grid); RETURN;
        ELSIF r.state = 'closed' THEN
            err := 'archived'; message := format ('case %s is closed and archived', r.id); RETURN;
        ELSIF NOT EXISTS (SELECT 1 FROM teams WHERE code = p_args->>'team') THEN
            err := 'bad_value'; message := format ('no team ''%s''', p_args->>'team'); RETURN;
        ELSIF EXISTS (SELECT 1 FROM case_helpers x WHERE x.case_id = r.id AND x.person = v_person) THEN
            err := 'conflict'; message := format ('%s already helps on case %s', v_person, r.id); RETURN;
        END IF;
        INSERT INTO case_helpers (case_id, person, team, assigned_by, at)
        VALUES (r.id, v_person, p_args->>'team', p_actor, gf_now ()) RETURNING id INTO v_id;
        ref := 'case:' || r.id;
        -- a case-timeline event (case_id set): the owner grid is unchanged
        INSERT INTO event_stage (type, topic, case_id, grid, at, payload)
        VALUES ('case.helper', 'case.helper/' || r.grid, r.id, r.grid, gf_now (),
                jsonb_build_object ('actor', p_actor, 'helper', v_person, 'team', p_args->>'team'));
    ELSE
        err := 'bad_value'; message := format ('unknown programme action ''%s''', p_action); RETURN;
    END IF;
    IF v_type IS NOT NULL THEN
        INSERT INTO event_stage (type, topic, grid, at, payload)
        VALUES (v_type, v_type || '/' || v_grid, v_grid, gf_now (), v_payload || jsonb_build_object ('actor', p_actor));
    END IF;
    INSERT INTO programme_actions (request_id, actor, action, ref, at)
    VALUES (p_request, p_actor, p_action, ref, gf_now ());
END
$$;

-- Visits on a link: the visits (patrols.sql's visit.logged, migration 031)
-- the cadre paid the household while the link was open (local days).
CREATE OR REPLACE FUNCTION gf_link_visits (p_link bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT count (*) FROM care_links l JOIN visits v ON v.household = l.household AND v.actor = l.cadre
     WHERE l.id = p_link
       AND (v.done_at AT TIME ZONE 'Asia/Shanghai')::date >= l.valid_from
       AND (l.valid_to IS NULL OR (v.done_at AT TIME ZONE 'Asia/Shanghai')::date <= l.valid_to)
$$;

-- `gridctl link list`: each link of a subtree with its visits and things
-- done (the thing's link, or the household's things by the cadre while
-- the link was open).
CREATE OR REPLACE FUNCTION gf_link_counts (p_grid text)
RETURNS TABLE (link bigint, cadre text, household text, grid text, valid_from date, valid_to date,
               visits bigint, things bigint)
LANGUAGE sql STABLE AS $$
    SELECT l.id, l.cadre, l.household, l.grid, l.valid_from, l.valid_to, gf_link_visits (l.id),
           (SELECT count (*) FROM things_done t
             WHERE t.link_id = l.id
                OR (t.link_id IS NULL AND t.household = l.household AND t.actor = l.cadre
                    AND t.day >= l.valid_from AND (l.valid_to IS NULL OR t.day <= l.valid_to)))
      FROM care_links l WHERE gf_in_subtree (l.grid, p_grid)
     ORDER BY l.cadre, l.id
$$;

-- A round's results: per subject, its points, the points possible (every
-- active criterion's max) and its stars (rating_star_levels).
CREATE OR REPLACE FUNCTION gf_rating_results (p_round bigint)
RETURNS TABLE (subject text, grid text, points bigint, max_points bigint, stars smallint)
LANGUAGE sql STABLE AS $$
    WITH m AS (SELECT sum (max_points) AS mx FROM rating_criteria WHERE active),
    s AS (SELECT rs.subject, min (rs.grid) AS grid, sum (rs.points) AS pts FROM rating_scores rs
           WHERE rs.round_id = p_round GROUP BY rs.subject)
    SELECT s.subject, s.grid, s.pts, m.mx,
           (SELECT max (l.stars) FROM rating_star_levels l WHERE s.pts >= l.min_share * m.mx)
      FROM s, m ORDER BY s.pts DESC, s.subject
$$;

-- The public star ratings (gateway /api/public/ratings.json): published
-- rounds, newest first, with their history.  A grid round lists each
-- self-governance group (L3 grid code and name) with its stars; a
-- household round only how many households got how many stars, per L3
-- grid: no household id, name, address or phone.
CREATE OR REPLACE FUNCTION gf_rating_public_json () RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT coalesce (json_agg (x ORDER BY x.published_at DESC, x.round DESC), '[]')
      FROM (SELECT r.id AS round, r.grid, g.name AS grid_name, r.period, r.subject_kind,
                   to_char (r.published_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"')
                     AS published_at,
                   (SELECT json_agg (json_build_object ('code', c.code, 'name', c.name, 'max_points', c.max_points)
                                     ORDER BY c.ord) FROM rating_criteria c WHERE c.active) AS criteria,
                   CASE WHEN r.subject_kind = 'grid' THEN
                       (SELECT json_agg (json_build_object ('grid', res.subject, 'name', sg.name,
                                                            'points', res.points, 'stars', res.stars)
                                         ORDER BY res.subject)
                          FROM gf_rating_results (r.id) res JOIN grids sg ON sg.code = res.subject)
                   ELSE
                       (SELECT json_agg (json_build_object ('grid', q.grid, 'stars', q.stars, 'households', q.n)
                                         ORDER BY q.grid, q.stars DESC)
                          FROM (SELECT res.grid, res.stars, count (*) AS n
                                  FROM gf_rating_results (r.id) res GROUP BY res.grid, res.stars) q)
                   END AS results
              FROM rating_rounds r JOIN grids g ON g.code = r.grid
             WHERE r.state = 'published') x
$$;

-- A campaign's progress: per target (grid or person) the target, what its
-- ledger holds (items' qty in the target's grid subtree, or by the
-- person) and the share done.
CREATE OR REPLACE FUNCTION gf_campaign_progress (p_campaign text)
RETURNS TABLE (campaign text, target_grid text, person text, target integer, done bigint, pct numeric)
LANGUAGE sql STABLE AS $$
    SELECT t.campaign, t.grid, t.person, t.target, d.done, round (100.0 * d.done / t.target, 1)
      FROM campaign_targets t
     CROSS JOIN LATERAL (SELECT coalesce (sum (i.qty), 0) AS done FROM campaign_items i
                          WHERE i.campaign = t.campaign
                            AND (gf_in_subtree (i.grid, t.grid) OR i.person = t.person)) d
     WHERE t.campaign = p_campaign
     ORDER BY t.grid NULLS LAST, t.person
$$;

-- Every open campaign of an L1 grid (NULL: all) with its progress, for
-- `gridctl campaign show --format json` and the dashboard.
CREATE OR REPLACE FUNCTION gf_campaign_progress_json (p_grid text) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT coalesce (json_agg (json_build_object (
               'campaign', c.code, 'name', c.name, 'grid', c.grid, 'unit', c.unit, 'state', c.state,
               'items', (SELECT count (*) FROM campaign_items i WHERE i.campaign = c.code),
               'done', (SELECT coalesce (sum (i.qty), 0) FROM campaign_items i WHERE i.campaign = c.code),
               'targets', (SELECT coalesce (json_agg (row_to_json (p)), '[]') FROM gf_campaign_progress (c.code) p))
               ORDER BY c.code), '[]')
      FROM campaigns c WHERE p_grid IS NULL OR c.grid = p_grid
$$;

-- The monthly report's field-work figures for an L1 grid and a month
-- (gf_report_period; patrols.sql's logs): patrols logged; missed patrols
-- (gf_patrols_missed: L3 grid x working day without one, from the day
-- patrols are expected, gf_patrols_from, up to yesterday); visits, those to
-- special households, and per special group (the household's groups on
-- the visit's day; a household in two groups counts in both); special
-- households whose visit is overdue (the due day has come, gf_visit_due_set)
-- at the period's as_of (the month's end, or now).  Counts only; no row
-- when p_grid is not an L1 grid.
CREATE OR REPLACE FUNCTION gf_report_field (p_grid text, p_month text)
RETURNS TABLE (ord integer, key text, name text, value bigint)
LANGUAGE sql STABLE AS $$
    WITH p AS MATERIALIZED (
        SELECT p.root, p.m, (p.m + interval '1 month')::date AS m1, p.t0, p.t1,
               p.as_of - interval '1 microsecond' AS at, gf_patrols_from (p.root) AS since
          FROM gf_report_period (p_grid, p_month) p
    ), g AS MATERIALIZED (
        SELECT g.code FROM p, grids g WHERE gf_in_subtree (g.code, p.root)
    ), v AS MATERIALIZED (
        SELECT v.id, v.household, (v.done_at AT TIME ZONE 'Asia/Shanghai')::date AS day
          FROM p, g JOIN visits v ON v.grid = g.code WHERE v.done_at >= p.t0 AND v.done_at < p.t1
    ), vg AS MATERIALIZED (
        SELECT v.id, hg.grp FROM v JOIN household_groups hg ON hg.household = v.household
         WHERE hg.valid_from <= v.day AND (hg.valid_to IS NULL OR hg.valid_to > v.day)
    )
    SELECT 12, 'patrols_done', '日巡查（次）',
           (SELECT count (*) FROM g JOIN patrols x ON x.grid = g.code WHERE x.done_at >= p.t0 AND x.done_at < p.t1)
      FROM p
    UNION ALL
    SELECT 13, 'patrols_missed', '未巡查（网格·工作日）',
           CASE WHEN p.since IS NOT NULL
                THEN (SELECT count (*) FROM gf_patrols_missed (p.root, greatest (p.m, p.since), p.m1 - 1)) ELSE 0 END
      FROM p
    UNION ALL
    SELECT 14, 'visits', '走访（次）', (SELECT count (*) FROM v) FROM p
    UNION ALL
    SELECT 15, 'visits_special', '走访特殊群体（次）', (SELECT count (DISTINCT vg.id) FROM vg) FROM p
    UNION ALL
    SELECT 20 + sg.ord, 'visits_' || sg.code, '走访 ' || sg.name, (SELECT count (*) FROM vg WHERE vg.grp = sg.code)
      FROM p, special_groups sg
    UNION ALL
    SELECT 40, 'visits_overdue', '走访逾期（户）',
           (SELECT count (*) FROM gf_visit_due_set (p.root, NULL, p.at) d
             WHERE d.due <= (p.at AT TIME ZONE 'Asia/Shanghai')::date)
      FROM p
$$;

-- The monthly report's programme figures for an L1 grid and a month
-- (gf_report_period): one row per figure, in report order; the field-work
-- figures (patrols, visits) are gf_report_field's.
CREATE OR REPLACE FUNCTION gf_report_programmes (p_grid text, p_month text)
RETURNS TABLE (ord integer, key text, name text, value bigint)
LANGUAGE sql STABLE AS $$
    WITH p AS MATERIALIZED (
        SELECT p.root, p.m, (p.m + interval '1 month')::date AS m1, p.t0, p.t1
          FROM gf_report_period (p_grid, p_month) p
    )
    SELECT u.ord, u.key, u.name, u.value FROM p CROSS JOIN LATERAL (VALUES
        (1, 'links_open', '1+10+N 联户（月末在册）',
         (SELECT count (*) FROM care_links l WHERE gf_in_subtree (l.grid, p.root) AND l.valid_from < p.m1
             AND (l.valid_to IS NULL OR l.valid_to >= p.m1))),
        (2, 'things_done', '办实事（件）',
         (SELECT count (*) FROM things_done t WHERE gf_in_subtree (t.grid, p.root) AND t.day >= p.m AND t.day < p.m1)),
        (3, 'pairs_opened', '结对帮扶 新结对',
         (SELECT count (*) FROM help_pairs x WHERE gf_in_subtree (x.grid, p.root) AND x.started >= p.m AND x.started < p.m1)),
        (4, 'pairs_active', '结对帮扶 月末在帮',
         (SELECT count (*) FROM help_pairs x WHERE gf_in_subtree (x.grid, p.root) AND x.started < p.m1
             AND (x.closed_on IS NULL OR x.closed_on >= p.m1))),
        (5, 'pairs_closed', '结对帮扶 本月结束',
         (SELECT count (*) FROM help_pairs x WHERE gf_in_subtree (x.grid, p.root) AND x.closed_on >= p.m AND x.closed_on < p.m1)),
        (6, 'pair_reviews', '帮扶回访（次）',
         (SELECT count (*) FROM help_pair_reviews v JOIN help_pairs x ON x.id = v.pair_id
           WHERE gf_in_subtree (x.grid, p.root) AND v.day >= p.m AND v.day < p.m1)),
        (7, 'relief_cases', '救助（起）',
         (SELECT count (*) FROM relief_cases rc WHERE gf_in_subtree (rc.grid, p.root) AND rc.day >= p.m AND rc.day < p.m1)),
        (8, 'people_aided', '救助人数',
         (SELECT coalesce (sum (rc.people), 0) FROM relief_cases rc WHERE gf_in_subtree (rc.grid, p.root)
             AND rc.day >= p.m AND rc.day < p.m1)),
        (9, 'ratings_published', '星级评定公布（轮）',
         (SELECT count (*) FROM rating_rounds r WHERE gf_in_subtree (r.grid, p.root) AND r.state = 'published'
             AND r.published_at >= p.t0 AND r.published_at < p.t1)),
        (10, 'campaign_items', '专项行动台账（件数）',
         (SELECT coalesce (sum (i.qty), 0) FROM campaign_items i JOIN campaigns c ON c.code = i.campaign
           WHERE c.grid = p.root AND i.day >= p.m AND i.day < p.m1)),
        (11, 'helpers_assigned', '队伍协办案件',
         (SELECT count (*) FROM case_helpers ch JOIN cases c ON c.id = ch.case_id
           WHERE c.root = p.root AND ch.at >= p.t0 AND ch.at < p.t1))
    ) u (ord, key, name, value)
    UNION ALL
    SELECT f.ord, f.key, f.name, f.value FROM gf_report_field (p_grid, p_month) f
     ORDER BY 1
$$;

-- The programme figures as one JSON object {key: value, ...,
-- campaigns: gf_campaign_progress_json}, for the monthly report's JSON.
CREATE OR REPLACE FUNCTION gf_report_programmes_json (p_grid text, p_month text) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT (coalesce (jsonb_object_agg (r.key, r.value), '{}'::jsonb)
            || jsonb_build_object ('campaigns', gf_campaign_progress_json (p_grid)::jsonb))::json
      FROM gf_report_programmes (p_grid, p_month) r
$$;

-- The dashboard's programme figures (all time, every L1 grid): things
-- done, help pairs active / closed, people aided, star ratings published,
-- campaign progress; and the current month's field work (gf_report_field
-- of every L1 grid, summed: 'month', patrols done / missed, visits, by
-- group, overdue).  p_grid: the viewer's subtree (issue 16; NULL: all):
-- the rows of grids inside it, the field work of the L1 grids inside it
-- (none below L1: the field report is an L1 grid's).  Counts only: no
-- personal data.  SECURITY DEFINER: the
-- gateway may not read the register (households, visits ...); only it and
-- gridctl may call this (grants.sql).
CREATE OR REPLACE FUNCTION gf_dash_programmes (p_grid text) RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    WITH mo AS (SELECT to_char (gf_now () AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') AS m),
    f AS (SELECT x.key, min (x.ord) AS ord, sum (x.value)::bigint AS value
            FROM mo, grids g CROSS JOIN LATERAL gf_report_field (g.code, mo.m) x
           WHERE g.level = 1 AND (p_grid IS NULL OR gf_in_subtree (g.code, p_grid))
           GROUP BY x.key)
    SELECT (jsonb_build_object (
        'links_open', (SELECT count (*) FROM care_links
                        WHERE valid_to IS NULL AND (p_grid IS NULL OR gf_in_subtree (grid, p_grid))),
        'things_done', (SELECT count (*) FROM things_done
                         WHERE p_grid IS NULL OR gf_in_subtree (grid, p_grid)),
        'pairs_active', (SELECT count (*) FROM help_pairs
                          WHERE state = 'active' AND (p_grid IS NULL OR gf_in_subtree (grid, p_grid))),
        'pairs_closed', (SELECT count (*) FROM help_pairs
                          WHERE state = 'closed' AND (p_grid IS NULL OR gf_in_subtree (grid, p_grid))),
        'people_aided', (SELECT coalesce (sum (people), 0) FROM relief_cases
                          WHERE p_grid IS NULL OR gf_in_subtree (grid, p_grid)),
        'ratings_published', (SELECT count (*) FROM rating_rounds
                               WHERE state = 'published'
                                 AND (p_grid IS NULL OR gf_in_subtree (grid, p_grid))),
        'campaigns', gf_campaign_progress_json (p_grid))
        || jsonb_build_object ('month', (SELECT m FROM mo))
        || coalesce ((SELECT jsonb_object_agg (f.key, f.value) FROM f), '{}'))::json
$$;
