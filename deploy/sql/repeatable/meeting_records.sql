-- meeting_records.sql — meetings as records people make (issue 14): the
-- staff's meeting.action through the intake (services/intake/
-- gf_intake_meeting.c) — attendees, a decision per agenda case, minutes,
-- closing, opinions at a consultation meeting — and what a decision became
-- (gf_decision_outcome: kept / late / done, read by the next agenda).
-- A decision's effect on its case goes through the case-action path: the
-- intake asks common/gf_case.c for the step (resolve, refer, supervise) and
-- gf_meeting_apply applies it with gf_case_act; take_over moves the case's
-- level as an explicit (automatic = false) escalation.
-- Owns: gf_meeting_check, gf_meeting_apply, gf_decision_done_at,
-- gf_decision_outcome.

-- Everything a meeting.action needs checked before anything changes, under
-- a lock on the meeting (and on the decision's case).  p_args: the
-- request's keys (case, decision, deadline (ms since the epoch),
-- department, owner, note, consultation, person, name, role, text,
-- speaker, opinion, response).  p_identity: the sender's public key on a
-- CURVE endpoint, NULL on a plain one.  err is NULL when the action may go
-- on, else the error code's name (proto/gf_proto.h) with message; duplicate:
-- the request was already applied (version, case_id as then).  For decide:
-- the case as locked and the actor's grid, and case_action, the staff
-- action the decision takes on the case (resolve, refer, supervise; NULL:
-- none), for the lifecycle (common/gf_case.c) to decide.
CREATE OR REPLACE FUNCTION gf_meeting_check (p_meeting bigint, p_request text, p_actor text,
                                             p_action text, p_identity text, p_args jsonb,
                                             OUT err text, OUT message text,
                                             OUT duplicate boolean, OUT version integer,
                                             OUT case_id bigint, OUT case_action text,
                                             OUT case_state text, OUT case_grid text,
                                             OUT case_satisfied boolean, OUT case_version integer,
                                             OUT actor_grid text, OUT actor_level integer)
LANGUAGE plpgsql AS $$
DECLARE
    m record;
    idn record;
    who record;
    done record;
    k record;
    c record;
    v_l1 text;
    v_deadline timestamptz;
    v_case bigint := (p_args->>'case')::bigint;
BEGIN
    duplicate := false;
    SELECT * INTO m FROM meetings WHERE id = p_meeting FOR UPDATE;
    IF NOT FOUND THEN
        err := 'bad_value'; message := format ('no meeting %s', p_meeting); RETURN;
    END IF;
    version := m.version;
    IF p_identity IS NOT NULL THEN
        SELECT i.name, i.kind, i.grid, i.person, i.revoked_at IS NOT NULL AS revoked INTO idn
          FROM identities i WHERE i.public_key = p_identity;
        IF NOT FOUND THEN
            err := 'forbidden'; message := 'this client''s key is not a known identity'; RETURN;
        ELSIF idn.revoked THEN
            err := 'forbidden'; message := format ('identity %s is revoked', idn.name); RETURN;
        ELSIF idn.kind NOT IN ('staff', 'workbench') THEN
            err := 'forbidden'; message := format ('identity %s (%s) may not act on meetings', idn.name, idn.kind); RETURN;
        ELSIF idn.person IS NOT NULL AND idn.person <> p_actor THEN
            err := 'forbidden'; message := format ('identity %s may act only as %s', idn.name, idn.person); RETURN;
        ELSIF NOT gf_in_subtree (m.grid, idn.grid) THEN
            err := 'forbidden'; message := format ('meeting %s of %s is outside identity %s''s subtree %s',
                                                    m.id, m.grid, idn.name, idn.grid); RETURN;
        END IF;
    END IF;
    SELECT p.grid, g.level, g.parent INTO who FROM people p JOIN grids g ON g.code = p.grid
     WHERE p.id = p_actor;
    IF NOT FOUND THEN
        err := 'unknown_actor'; message := format ('actor ''%s'' is not in the directory', p_actor); RETURN;
    END IF;
    actor_grid := who.grid;
    actor_level := who.level;
    -- Who holds the meeting: a weekly one the L2 grid's staff or its L1's;
    -- a monthly or consultation one the L1 grid's staff.
    v_l1 := CASE WHEN m.kind = 'weekly' THEN (SELECT parent FROM grids WHERE code = m.grid) ELSE m.grid END;
    IF NOT (who.grid = m.grid OR who.grid = v_l1) THEN
        err := 'forbidden';
        message := format ('%s (grid %s) is not staff of %s, which holds meeting %s', p_actor, who.grid,
                           m.grid, m.id);
        RETURN;
    END IF;
    -- A resend answers as the first time.
    SELECT a.meeting_id, a.case_id, a.version INTO done FROM meeting_actions a
     WHERE a.actor = p_actor AND a.request_id = p_request;
    IF FOUND THEN
        IF done.meeting_id <> p_meeting THEN
            err := 'bad_value';
            message := format ('request id ''%s'' of %s was already used for meeting %s', p_request, p_actor,
                               done.meeting_id);
            RETURN;
        END IF;
        duplicate := true; version := done.version; case_id := done.case_id; RETURN;
    END IF;
    IF m.state <> 'open' THEN
        err := 'illegal_transition';
        message := format ('meeting %s is %s: it takes no more actions', m.id, m.state); RETURN;
    END IF;
    IF p_action = 'attend' THEN
        IF p_args ? 'person' THEN
            IF NOT EXISTS (SELECT 1 FROM people WHERE id = p_args->>'person') THEN
                err := 'unknown_actor'; message := format ('person ''%s'' is not in the directory', p_args->>'person'); RETURN;
            END IF;
        ELSIF coalesce (p_args->>'name', '') = '' OR coalesce (p_args->>'role', '') = '' THEN
            err := 'missing_field'; message := 'attend needs a ''person'', or a ''name'' and a ''role'''; RETURN;
        ELSIF NOT (p_args->>'role' = ANY (ARRAY['cadre', 'three_heads', 'household_rep', 'property',
                                                'village_committee', 'owners_committee', 'department',
                                                'resident', 'other'])) THEN
            err := 'bad_value'; message := format ('unknown attendee role ''%s''', p_args->>'role'); RETURN;
        END IF;
        IF EXISTS (SELECT 1 FROM meeting_attendees a
                    WHERE a.meeting_id = p_meeting
                      AND (a.person = p_args->>'person'
                           OR (p_args->>'person' IS NULL AND a.role = p_args->>'role'
                               AND a.name = p_args->>'name'))) THEN
            err := 'conflict'; message := format ('already recorded as an attendee of meeting %s', m.id); RETURN;
        END IF;
    ELSIF p_action = 'minutes' THEN
        IF coalesce (p_args->>'text', '') = '' THEN
            err := 'missing_field'; message := 'minutes need a ''text'''; RETURN;
        END IF;
    ELSIF p_action = 'opinion' THEN
        IF m.kind <> 'consultation' THEN
            err := 'bad_value'; message := format ('opinions are collected at consultation meetings; %s is %s', m.id, m.kind); RETURN;
        ELSIF coalesce (p_args->>'speaker', '') = '' OR coalesce (p_args->>'opinion', '') = '' THEN
            err := 'missing_field'; message := 'an opinion needs a ''speaker'' and the ''opinion'''; RETURN;
        END IF;
    ELSIF p_action = 'decide' THEN
        IF m.kind = 'consultation' THEN
            err := 'bad_value'; message := 'a consultation meeting collects opinions; it decides no case'; RETURN;
        ELSIF v_case IS NULL OR coalesce (p_args->>'decision', '') = '' THEN
            err := 'missing_field'; message := 'decide needs a ''case'' and a ''decision'''; RETURN;
        END IF;
        SELECT * INTO k FROM meeting_decision_kinds dk WHERE dk.meeting_kind = m.kind AND dk.kind = p_args->>'decision';
        IF NOT FOUND THEN
            err := 'bad_value';
            message := format ('''%s'' is not a decision of a %s meeting (%s)', p_args->>'decision', m.kind,
                               (SELECT string_agg (dk.kind, ', ' ORDER BY dk.ord) FROM meeting_decision_kinds dk
                                 WHERE dk.meeting_kind = m.kind));
            RETURN;
        END IF;
        IF NOT EXISTS (SELECT 1 FROM ledger_entries le WHERE le.meeting_id = p_meeting AND le.case_id = v_case) THEN
            err := 'bad_value'; message := format ('case %s is not on the agenda of meeting %s', v_case, m.id); RETURN;
        END IF;
        IF EXISTS (SELECT 1 FROM meeting_decisions d WHERE d.meeting_id = p_meeting AND d.case_id = v_case) THEN
            err := 'conflict';
            message := format ('meeting %s already decided case %s: one decision per agenda case', m.id, v_case);
            RETURN;
        END IF;
        v_deadline := to_timestamp ((p_args->>'deadline')::double precision / 1000);
        IF k.deadline = 'required' AND v_deadline IS NULL THEN
            err := 'missing_field'; message := format ('decision ''%s'' needs a ''deadline''', k.kind); RETURN;
        ELSIF k.deadline = 'none' AND v_deadline IS NOT NULL THEN
            err := 'bad_value'; message := format ('decision ''%s'' takes no deadline', k.kind); RETURN;
        ELSIF v_deadline <= gf_now () THEN
            err := 'bad_value'; message := format ('the deadline %s has passed', v_deadline); RETURN;
        END IF;
        IF 'department' = ANY (k.needs) AND coalesce (p_args->>'department', '') = '' THEN
            err := 'missing_field'; message := format ('decision ''%s'' needs a ''department''', k.kind); RETURN;
        ELSIF 'note' = ANY (k.needs) AND coalesce (p_args->>'note', '') = '' THEN
            err := 'missing_field'; message := format ('decision ''%s'' needs a ''note''', k.kind); RETURN;
        ELSIF 'owner' = ANY (k.needs) AND coalesce (p_args->>'owner', '') = '' THEN
            err := 'missing_field'; message := format ('decision ''%s'' needs an ''owner''', k.kind); RETURN;
        ELSIF 'consultation' = ANY (k.needs) AND p_args->>'consultation' IS NULL THEN
            err := 'missing_field'; message := format ('decision ''%s'' needs a ''consultation'' meeting', k.kind); RETURN;
        END IF;
        IF 'department' = ANY (k.needs) AND NOT gf_department_usable (p_args->>'department', v_l1) THEN
            err := 'unknown_department';
            message := format ('department ''%s'' is not a department of %s', p_args->>'department', v_l1);
            RETURN;
        END IF;
        IF 'owner' = ANY (k.needs) AND NOT EXISTS (SELECT 1 FROM people p WHERE p.id = p_args->>'owner'
                                                      AND gf_in_subtree (p.grid, v_l1)) THEN
            err := 'bad_value'; message := format ('owner ''%s'' is not a person of %s', p_args->>'owner', v_l1); RETURN;
        END IF;
        IF 'consultation' = ANY (k.needs) AND NOT EXISTS (
               SELECT 1 FROM meetings x WHERE x.id = (p_args->>'consultation')::bigint
                  AND x.kind = 'consultation' AND x.grid = v_l1) THEN
            err := 'bad_value';
            message := format ('meeting %s is not a consultation meeting of %s', p_args->>'consultation', v_l1);
            RETURN;
        END IF;
        SELECT x.id, x.state, x.grid, x.satisfied, x.version, x.level INTO c FROM cases x WHERE x.id = v_case FOR UPDATE;
        case_id := c.id; case_state := c.state; case_grid := c.grid;
        case_satisfied := c.satisfied; case_version := c.version;
        IF c.state = 'closed' THEN
            err := 'archived'; message := format ('case %s is closed and archived', c.id); RETURN;
        ELSIF k.kind = 'take_over' AND c.level <= (m.kind = 'weekly')::int + 1 THEN
            err := 'illegal_transition';
            message := format ('case %s is already at L%s', c.id, c.level); RETURN;
        END IF;
        -- (a case resolved before the meeting: the meeting confirms it)
        case_action := CASE WHEN k.kind = 'resolved' AND NOT gf_case_resolved (c.state) THEN 'resolve'
                            WHEN k.kind IN ('refer', 'supervise') THEN k.kind END;
    ELSIF p_action <> 'close' THEN
        err := 'bad_value'; message := format ('unknown meeting action ''%s''', p_action); RETURN;
    END IF;
END
$$;

-- Applies a meeting.action gf_meeting_check allowed, in the caller's
-- transaction: its record (attendee, decision, minutes, closing, opinion),
-- the meeting's version, its meeting_actions row and its event.  For a
-- decision, p_step is the lifecycle's step for the case (common/gf_case.c:
-- {action, from, to, event, follow_from (a text[] literal), follow_to,
-- follow_event}; NULL:
-- the decision takes no staff action), applied with gf_case_act under the
-- request id 'meeting.' || p_request; take_over moves the case one level up
-- (escalations rule decision_l2 / decision_l1, automatic = false, its
-- case.escalated event naming the decision).  Closing publishes the ledger's
-- counts (ledger.published).  Free text travels redacted (gf_redact_text).
-- Returns the meeting's new version and the decision's id.
CREATE OR REPLACE FUNCTION gf_meeting_apply (p_meeting bigint, p_request text, p_actor text,
                                             p_action text, p_args jsonb, p_step jsonb,
                                             OUT version integer, OUT decision bigint)
LANGUAGE plpgsql AS $$
DECLARE
    m record;
    c record;
    v_case bigint := (p_args->>'case')::bigint;
    v_to smallint;
    v_counts jsonb;
    v_version integer;
BEGIN
    UPDATE meetings x SET version = x.version + 1,
           minutes = CASE WHEN p_action = 'minutes' THEN p_args->>'text' ELSE x.minutes END,
           state = CASE WHEN p_action = 'close' THEN 'closed' ELSE x.state END,
           closed_at = CASE WHEN p_action = 'close' THEN gf_now () ELSE x.closed_at END,
           closed_by = CASE WHEN p_action = 'close' THEN p_actor ELSE x.closed_by END
     WHERE x.id = p_meeting RETURNING x.* INTO m;
    version := m.version;
    IF p_action = 'attend' THEN
        INSERT INTO meeting_attendees (meeting_id, person, name, role, request_id, actor, at)
        SELECT p_meeting, p.id, coalesce (p.name, p_args->>'name'),
               coalesce (p_args->>'role', 'staff'), p_request, p_actor, gf_now ()
          FROM (SELECT 1) one LEFT JOIN people p ON p.id = p_args->>'person';
        INSERT INTO event_stage (type, topic, grid, at, payload)
        VALUES ('meeting.attended', 'meeting.attended/' || m.grid, m.grid, gf_now (),
                jsonb_build_object ('meeting', m.id, 'kind', m.kind, 'actor', p_actor,
                                    'person', p_args->>'person', 'role', coalesce (p_args->>'role', 'staff'),
                                    'version', m.version));
    ELSIF p_action = 'minutes' THEN
        INSERT INTO event_stage (type, topic, grid, at, payload)
        VALUES ('meeting.minutes', 'meeting.minutes/' || m.grid, m.grid, gf_now (),
                jsonb_build_object ('meeting', m.id, 'kind', m.kind, 'actor', p_actor,
                                    'text', gf_redact_text (p_args->>'text'), 'version', m.version));
    ELSIF p_action = 'opinion' THEN
        INSERT INTO consultation_opinions (meeting_id, speaker, opinion, response, request_id, actor, at)
        VALUES (p_meeting, p_args->>'speaker', p_args->>'opinion', p_args->>'response', p_request,
                p_actor, gf_now ());
        INSERT INTO event_stage (type, topic, grid, at, payload)
        VALUES ('meeting.opinion', 'meeting.opinion/' || m.grid, m.grid, gf_now (),
                jsonb_build_object ('meeting', m.id, 'kind', m.kind, 'actor', p_actor,
                                    'opinion', gf_redact_text (p_args->>'opinion', p_args->>'speaker'),
                                    'response', gf_redact_text (p_args->>'response', p_args->>'speaker'),
                                    'version', m.version));
    ELSIF p_action = 'close' THEN
        SELECT jsonb_build_object (
                   'meeting', m.id, 'kind', m.kind,
                   'entries', count (*), 'resolved', count (*) FILTER (WHERE le.tier = 'resolved'),
                   'pending', count (*) FILTER (WHERE le.tier = 'pending'),
                   'hard', count (*) FILTER (WHERE le.tier = 'hard'),
                   'undecided', count (*) FILTER (WHERE NOT EXISTS (
                       SELECT 1 FROM meeting_decisions d WHERE d.meeting_id = m.id AND d.case_id = le.case_id)),
                   'decisions', (SELECT coalesce (jsonb_object_agg (x.kind, x.n), '{}'::jsonb)
                                   FROM (SELECT d.kind, count (*) AS n FROM meeting_decisions d
                                          WHERE d.meeting_id = m.id GROUP BY d.kind) x),
                   'attendees', (SELECT count (*) FROM meeting_attendees a WHERE a.meeting_id = m.id),
                   'automatic', false)
          INTO v_counts FROM ledger_entries le WHERE le.meeting_id = m.id;
        INSERT INTO event_stage (type, topic, grid, at, payload) VALUES
            ('meeting.closed', 'meeting.closed/' || m.grid, m.grid, gf_now (),
             jsonb_build_object ('meeting', m.id, 'kind', m.kind, 'actor', p_actor, 'automatic', false,
                                 'version', m.version)),
            ('ledger.published', 'ledger.published/' || m.grid, m.grid, gf_now (), v_counts);
    ELSIF p_action = 'decide' THEN
        INSERT INTO meeting_decisions (meeting_id, case_id, kind, deadline, department, owner,
                                       consultation, note, actor, request_id, at)
        VALUES (p_meeting, v_case, p_args->>'decision',
                to_timestamp ((p_args->>'deadline')::double precision / 1000),
                p_args->>'department', p_args->>'owner', (p_args->>'consultation')::bigint,
                p_args->>'note', p_actor, p_request, gf_now ())
        RETURNING id INTO decision;
        IF p_step IS NOT NULL THEN
            PERFORM gf_case_act (v_case, 'meeting.' || p_request, p_actor, p_step->>'action',
                                 p_step->>'from', p_step->>'to', p_step->>'event', NULL,
                                 coalesce (p_args->>'note', format ('例会决定 meeting %s', m.id)),
                                 NULL, NULL, NULL, NULL, p_args->>'department', NULL, NULL,
                                 (p_step->>'follow_from')::text[],
                                 p_step->>'follow_to', p_step->>'follow_event', false);
            -- a refer decision's deadline is the referral's (referrals.sql)
            IF p_step->>'action' = 'refer' AND p_args->>'deadline' IS NOT NULL THEN
                PERFORM gf_referral_set_deadline (v_case, to_timestamp ((p_args->>'deadline')::double precision / 1000));
            END IF;
        ELSIF p_args->>'decision' = 'take_over' THEN
            v_to := CASE m.kind WHEN 'weekly' THEN 2 ELSE 1 END;
            SELECT x.id, x.grid, x.level INTO c FROM cases x WHERE x.id = v_case;
            INSERT INTO escalations (case_id, rule, meeting_id, from_level, to_level, at, automatic)
            VALUES (v_case, CASE v_to WHEN 2 THEN 'decision_l2' ELSE 'decision_l1' END, m.id,
                    c.level, v_to, gf_now (), false);
            UPDATE cases x SET level = v_to, version = x.version + 1, updated_at = gf_now ()
             WHERE x.id = v_case RETURNING x.version INTO v_version;
            INSERT INTO event_stage (type, topic, case_id, grid, at, payload)
            VALUES ('case.escalated', 'case.escalated/' || c.grid, v_case, c.grid, gf_now (),
                    jsonb_build_object ('rule', CASE v_to WHEN 2 THEN 'decision_l2' ELSE 'decision_l1' END,
                                        'meeting', m.id, 'decision', decision, 'from_level', c.level,
                                        'to_level', v_to, 'reason', '例会决定接办', 'automatic', false,
                                        'version', v_version, 'owner', gf_owner_grid (c.grid, v_to)));
            UPDATE ledger_entries le SET escalated = true WHERE le.meeting_id = m.id AND le.case_id = v_case;
        END IF;
        INSERT INTO event_stage (type, topic, case_id, grid, at, payload)
        SELECT 'meeting.decided', 'meeting.decided/' || x.grid, v_case, x.grid, gf_now (),
               jsonb_strip_nulls (jsonb_build_object (
                   'meeting', m.id, 'kind', m.kind, 'decision', decision, 'decision_kind', p_args->>'decision',
                   'actor', p_actor, 'deadline', to_timestamp ((p_args->>'deadline')::double precision / 1000),
                   'department', p_args->>'department', 'owner', p_args->>'owner',
                   'consultation', (p_args->>'consultation')::bigint,
                   'note', gf_redact_text (p_args->>'note', x.name), 'version', m.version))
          FROM cases x WHERE x.id = v_case;
    END IF;
    INSERT INTO meeting_actions (meeting_id, request_id, actor, action, case_id, decision_id, version, at)
    VALUES (p_meeting, p_request, p_actor, p_action, v_case, decision, m.version, gf_now ());
END
$$;

-- When what a decision asked for happened (NULL: not yet): the case
-- resolved after it (every kind; 'resolved': the meeting itself); besides, for refer the department's
-- reply, for supervise the reply to the supervision (a progress note, a
-- department reply), for report_up a monthly decision on the case, for
-- send_back a weekly one, for consult the consultation meeting closed.
-- meeting_decisions.done_at, when set, wins.
CREATE OR REPLACE FUNCTION gf_decision_done_at (p_decision bigint) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT coalesce (d.done_at, least (
        CASE WHEN d.kind = 'resolved' THEN d.at END,  -- resolved (or confirmed) at the meeting
        (SELECT min (a.at) FROM case_actions a
          WHERE a.case_id = d.case_id AND a.at >= d.at
            AND (a.action = 'resolve'
                 OR (d.kind = 'refer' AND a.action = 'reply')
                 OR (d.kind = 'supervise' AND a.action IN ('progress', 'reply')))),
        (SELECT min (x.at) FROM meeting_decisions x JOIN meetings xm ON xm.id = x.meeting_id
          WHERE x.case_id = d.case_id AND x.at > d.at
            AND ((d.kind = 'report_up' AND xm.kind = 'monthly')
                 OR (d.kind = 'send_back' AND xm.kind = 'weekly'))),
        (SELECT cm.closed_at FROM meetings cm WHERE d.kind = 'consult' AND cm.id = d.consultation
            AND cm.state = 'closed')))
      FROM meeting_decisions d WHERE d.id = p_decision
$$;

-- A decision's outcome for the next agenda: 'done' when what it asked for
-- happened (gf_decision_done_at), 'late' when its deadline passed without
-- it, 'kept' otherwise.  NULL for an unknown decision.
CREATE OR REPLACE FUNCTION gf_decision_outcome (p_decision bigint) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN gf_decision_done_at (d.id) IS NOT NULL THEN 'done'
                WHEN d.deadline IS NOT NULL AND d.deadline < gf_now () THEN 'late'
                ELSE 'kept' END
      FROM meeting_decisions d WHERE d.id = p_decision
$$;

