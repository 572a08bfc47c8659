-- workbench.sql — what the staff workbench reads (issue 16; docs/gateway.md
-- "Workbench"): a signed-in person's queue, a case page and a meeting page,
-- each limited to the person's grid subtree (gf_in_subtree, the one owner)
-- and NULL when the thing is outside it.  The gateway's role reads no
-- resident's personal data (cases_public only), so these are SECURITY
-- DEFINER with their own scope check: the person is the session's, named by
-- the gateway after gf_session_check (accounts.sql); the resident's contact
-- is returned for staff in scope only (gf_case_staff, privacy.sql).
-- Overdue and the sign-for deadline are gf_overdue_at's (cases.sql).
-- Owns: gf_wb_scope, gf_wb_queue, gf_wb_case, gf_wb_meeting, gf_wb_households,
-- gf_wb_attachment.
-- (The person's notices are the app inbox: gf_app_inbox, gf_app_ack in
-- delivery.sql, read by GET /notices.)

-- The person's grid and its level, when the person is in the directory.
CREATE OR REPLACE FUNCTION gf_wb_scope (p_person text)
RETURNS TABLE (grid text, level smallint, name text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT p.grid, g.level, p.name FROM people p JOIN grids g ON g.code = p.grid WHERE p.id = p_person
$$;

-- My queue: {now, grid, sign: cases waiting to be signed for (deadline: the
-- sign-for deadline), mine: the other open cases of the subtree (deadline:
-- an open referral's or the latest meeting decision's), referrals: open
-- referrals waiting on a department (deadline: the reply's)}; each list
-- overdue first, then by deadline, at most p_limit rows, with its count.
-- Times in ms since the epoch.  NULL: no such person.
-- JIT off: compiling the plan cost 0.9 s of the 1 s this took with 10,000
-- open cases in the subtree (70 ms without).
CREATE OR REPLACE FUNCTION gf_wb_queue (p_person text, p_limit integer)
RETURNS json LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp SET jit = off AS $$
    WITH s AS (SELECT * FROM gf_wb_scope (p_person)),
    -- The sign_reminder rule read once per L1 grid (gf_overdue_at_rule).
    rules AS MATERIALIZED (SELECT g.code AS root, gf_rule (g.code, 'sign_reminder') AS rule FROM grids g WHERE g.level = 1),
    refs AS (SELECT DISTINCT ON (r.case_id) r.case_id, r.deadline FROM referrals r
              WHERE r.replied_at IS NULL ORDER BY r.case_id, r.id DESC),
    decs AS (SELECT DISTINCT ON (d.case_id) d.case_id, d.deadline FROM meeting_decisions d
              WHERE d.done_at IS NULL AND d.deadline IS NOT NULL ORDER BY d.case_id, d.id DESC),
    open AS (
        SELECT c.id, c.grid, c.state, c.category, c.urgent, c.description_redacted AS description,
               c.version, c.received_at, c.supervised,
               gf_overdue_at_rule (c.state, c.urgent, gf_clock_start (c.source, c.reported_at, c.routed_at),
                                   c.received_at, c.updated_at, ru.rule) AS sign_by,
               refs.deadline AS refer_by, decs.deadline AS decided_by
          FROM s CROSS JOIN cases c
          LEFT JOIN rules ru ON ru.root = c.root
          LEFT JOIN refs ON refs.case_id = c.id
          LEFT JOIN decs ON decs.case_id = c.id
         WHERE gf_case_open (c.state)
           AND (c.grid = s.grid OR (c.grid ~>=~ gf_subtree_lo (s.grid) AND c.grid ~<~ gf_subtree_hi (s.grid)))),
    q AS (
        SELECT CASE WHEN o.sign_by IS NOT NULL THEN 'sign' WHEN o.state = 'referred' THEN 'referrals'
                    ELSE 'mine' END AS list,
               o.*, coalesce (o.sign_by, o.refer_by, o.decided_by) AS deadline
          FROM open o),
    r AS (
        SELECT q.*, q.deadline <= gf_now () AS overdue,
               row_number () OVER (PARTITION BY q.list
                                   ORDER BY q.deadline <= gf_now () DESC NULLS LAST, q.deadline NULLS LAST, q.id) AS n,
               count (*) OVER (PARTITION BY q.list) AS total
          FROM q)
    SELECT json_build_object (
        'now', (extract (epoch FROM gf_now ()) * 1000)::bigint,
        'grid', (SELECT grid FROM s), 'level', (SELECT level FROM s),
        'counts', (SELECT coalesce (json_object_agg (list, total), '{}')
                     FROM (SELECT DISTINCT list, total FROM r) t),
        'sign', coalesce ((SELECT json_agg (x ORDER BY x.n) FROM (SELECT * FROM r WHERE list = 'sign') x0
                             CROSS JOIN LATERAL (SELECT x0.n, x0.id, x0.grid, x0.state, x0.category,
                                 x0.urgent, x0.description, x0.version, x0.overdue, x0.supervised,
                                 (extract (epoch FROM x0.deadline) * 1000)::bigint AS deadline) x
                            WHERE x0.n <= p_limit), '[]'),
        'mine', coalesce ((SELECT json_agg (x ORDER BY x.n) FROM (SELECT * FROM r WHERE list = 'mine') x0
                             CROSS JOIN LATERAL (SELECT x0.n, x0.id, x0.grid, x0.state, x0.category,
                                 x0.urgent, x0.description, x0.version, x0.overdue, x0.supervised,
                                 (extract (epoch FROM x0.deadline) * 1000)::bigint AS deadline) x
                            WHERE x0.n <= p_limit), '[]'),
        'referrals', coalesce ((SELECT json_agg (x ORDER BY x.n) FROM (SELECT * FROM r WHERE list = 'referrals') x0
                             CROSS JOIN LATERAL (SELECT x0.n, x0.id, x0.grid, x0.state, x0.category,
                                 x0.urgent, x0.description, x0.version, x0.overdue, x0.supervised,
                                 (extract (epoch FROM x0.deadline) * 1000)::bigint AS deadline) x
                            WHERE x0.n <= p_limit), '[]'))
     WHERE EXISTS (SELECT 1 FROM s)
$$;

-- A case page for staff in scope: the case as stored (the resident's
-- name, phone and address included), its timeline (every action: who with
-- the name, when, what, why), open referral, attachments, and what the
-- gateway needs to list the actions the state allows (common/gf_case.c
-- decides: actor_grid, actor_level, grid_level, satisfied).  NULL: no such
-- case, or outside the person's subtree.
CREATE OR REPLACE FUNCTION gf_wb_case (p_person text, p_case bigint)
RETURNS json LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT json_build_object (
        'id', c.id, 'state', c.state, 'state_name', (SELECT name FROM case_state_names WHERE state = c.state),
        'version', c.version, 'grid', c.grid, 'root', c.root, 'category', c.category,
        'category_name', (SELECT name FROM categories WHERE code = c.category),
        'description', c.description, 'name', c.name, 'phone', c.phone, 'address', c.address,
        'urgent', c.urgent, 'groups', c.groups, 'tier', c.tier, 'source', c.source,
        'satisfied', c.satisfied, 'supervised', c.supervised, 'department', c.department,
        'received_at', (extract (epoch FROM c.received_at) * 1000)::bigint,
        'sign_by', (extract (epoch FROM gf_overdue_at (c.state, c.root, c.urgent,
                        gf_clock_start (c.source, c.reported_at, c.routed_at), c.received_at,
                        c.updated_at)) * 1000)::bigint,
        'grid_level', (SELECT level FROM grids WHERE code = c.grid),
        'actor_grid', s.grid, 'actor_level', s.level,
        'timeline', (SELECT coalesce (json_agg (json_build_object (
                         'at', (extract (epoch FROM a.at) * 1000)::bigint, 'actor', a.actor,
                         'actor_name', coalesce ((SELECT name FROM people WHERE id = a.actor),
                                                 (SELECT name FROM departments WHERE code = a.actor), a.actor),
                         'action', a.action, 'from', a.from_state, 'to', a.to_state,
                         'to_name', (SELECT name FROM case_state_names WHERE state = a.to_state),
                         'note', a.note, 'version', a.version) ORDER BY a.at, a.id), '[]')
                       FROM case_actions a WHERE a.case_id = c.id),
        'referral', (SELECT json_build_object ('department', r.department,
                         'deadline', (extract (epoch FROM r.deadline) * 1000)::bigint,
                         'received_at', (extract (epoch FROM r.received_at) * 1000)::bigint)
                       FROM referrals r WHERE r.case_id = c.id AND r.replied_at IS NULL
                      ORDER BY r.id DESC LIMIT 1),
        'attachments', (SELECT coalesce (json_agg (json_build_object ('id', l.id, 'filename', l.filename,
                            'content_type', l.content_type, 'size', l.size, 'actor', l.actor,
                            'note', l.note, 'at', l.at)), '[]')
                          FROM gf_attachment_list (c.id) l))
      FROM gf_case_staff (p_person, p_case) c, gf_wb_scope (p_person) s
$$;

-- The meeting page for an L1/L2 person: the meeting (p_meeting, or NULL:
-- the latest weekly or monthly meeting of the person's own grid), its
-- agenda with a decision per case (gf_meeting_agenda_json, meetings.sql),
-- attendees and minutes.  NULL: no such meeting, or its grid outside the
-- person's subtree.
CREATE OR REPLACE FUNCTION gf_wb_meeting (p_person text, p_meeting bigint)
RETURNS json LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT (gf_meeting_agenda_json (m.id)::jsonb
            || jsonb_build_object ('version', m.version, 'minutes', m.minutes,
                   'attendees', (SELECT coalesce (jsonb_agg (jsonb_build_object ('person', t.person,
                                     'name', t.name, 'role', t.role) ORDER BY t.id), '[]')
                                   FROM meeting_attendees t WHERE t.meeting_id = m.id)))::json
      FROM gf_wb_scope (p_person) s
      JOIN LATERAL (SELECT * FROM meetings m
                     WHERE CASE WHEN p_meeting IS NULL THEN m.grid = s.grid AND m.kind <> 'consultation'
                                ELSE m.id = p_meeting END
                     ORDER BY m.day DESC, m.id DESC LIMIT 1) m ON gf_in_subtree (m.grid, s.grid)
     WHERE s.level <= 2
$$;

-- A photo or document of a case, for the case page of staff in scope:
-- gf_attachment_get's answer for the person (attachments.sql owns the
-- scope rule: err 'forbidden' and no bytes outside the person's subtree,
-- 'unknown' for no such attachment).
CREATE OR REPLACE FUNCTION gf_wb_attachment (p_person text, p_id bigint)
RETURNS TABLE (err text, filename text, content_type text, data bytea)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT g.err, g.filename, g.content_type, g.data FROM gf_attachment_get (p_id, p_person) g
$$;

-- The household picker of the complaint form (the register, issue 12):
-- households of the person's subtree whose address or head's name holds
-- p_text, at most 20: [{id, grid, address, head_name}] (no phone).
CREATE OR REPLACE FUNCTION gf_wb_households (p_person text, p_text text)
RETURNS json LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT coalesce (json_agg (json_build_object ('id', h.id, 'grid', h.grid, 'address', h.address,
                                                  'head_name', h.head_name) ORDER BY h.address, h.id), '[]')
      FROM (SELECT h.* FROM households h, gf_wb_scope (p_person) s
             WHERE gf_in_subtree (h.grid, s.grid)
               AND (strpos (h.address, p_text) > 0 OR strpos (h.head_name, p_text) > 0)
             ORDER BY h.address, h.id LIMIT 20) h
$$;
