-- notify.sql — notifications: who is told what (notification_rules), the text
-- (notification_templates, rendered by gf_notification_text) and the
-- notification.created event — for every notification: the notifier's
-- events and the escalation engine's occasions (escalations, sign-for
-- reminders, overdue referrals) alike; and the notices of field reminders
-- (033: missed patrols, overdue visits) and of lapsed meetings (036), which
-- have no case.
-- Owns: gf_notification_text, gf_notification_payload, gf_notify_many, gf_notifier_batch,
-- gf_notify_field, gf_notify_meetings.

-- The payload of a notification.created event: the one shape for every
-- notice, a case's, a field reminder's or a lapsed meeting's (case null
-- for those); p_role is the recipient's people.role, NULL for a text to the
-- resident (no recipient): role 'resident'.  A single expression: inlined
-- into the caller's query (the callers join people once; a lookup in here
-- ran once per notice, a fifth of the notifier's batch).  STABLE, as
-- jsonb_build_object is: declared IMMUTABLE, it was not inlined but called
-- once per notice (tests/sql/notify.sql).
DROP FUNCTION IF EXISTS gf_notification_payload (bigint, bigint, text, text, text);
CREATE OR REPLACE FUNCTION gf_notification_payload (p_id bigint, p_case bigint, p_kind text,
                                                    p_recipient text, p_role text, p_text text)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object ('notification', p_id, 'case', p_case, 'kind', p_kind,
                               'recipient', p_recipient, 'role', coalesce (p_role, 'resident'),
                               'text', p_text)
$$;

-- The one rendering of a notification's text.  A template's format()
-- positions: %1$s case id, %2$s category name ('未分类' without one), %3$s
-- grid code, %4$s grid name, %5$s the first 60 characters of the
-- description as redacted (cases.description_redacted: gf_redact_text of
-- the whole description, then cut, so no number is cut in half unredacted),
-- %6$s the occasion's extra (the level escalated to, the department),
-- %7$s the sign-for deadline (local time, MM-DD HH24:MI; its clock starts as
-- gf_clock_start says), %8$s the
-- caller's masked phone (gf_mask_phone: 138****1234, ****32 for a 7- or
-- 8-digit landline; '无' without one).  No full phone number, name or ID
-- number ever reaches a text: texts travel on the stream
-- (notification.created) and reach staff's phones.  A single expression: inlined into the
-- caller's query, no call per row.
CREATE OR REPLACE FUNCTION gf_notification_text (p_body text, p_case bigint, p_category text,
                                                 p_grid text, p_grid_name text, p_description text,
                                                 p_extra text, p_deadline timestamptz,
                                                 p_phone text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT format (p_body, p_case, coalesce (p_category, '未分类'), p_grid, p_grid_name,
                   left (p_description, 60), p_extra,
                   to_char (p_deadline AT TIME ZONE 'Asia/Shanghai', 'MM-DD HH24:MI'),
                   coalesce (gf_mask_phone (p_phone), '无'))
$$;

-- Notifications for a set of occasions, as the enabled notification_rules
-- raised by p_by ('notifier' or 'escalator') decide, each with its
-- notification.created event; returns how many were created.  p_items is a
-- JSON array of occasions:
--   case_id   the case
--   type      the rules' event_type (an event type, or the escalator's
--             case.escalated, sign.reminder, referral.overdue)
--   grid      the grid of grid_leader and grid_members (and of l2_leader:
--             its L2 grid)
--   owner, previous   the grids of owner_leader and previous_owner_leader
--   key       fills the %s of the rule's kind (escalated.to%s: the level)
--   extra     the text's %6$s
--   audience  when set, only the rule of that audience (a sign-for reminder
--             is due for the L3 leader before the L2 leader)
-- Audiences: grid_leader, grid_members, l2_leader (the L2 grid's leader),
-- owner_leader, previous_owner_leader, l1_triage (the triage staff, role
-- 'triage', of the grid's L1 grid), resident.  Without an extra, %6$s is
-- the reason of a rejected case (reject_reasons.name).
-- Residents (audience 'resident') are told by SMS when the case has a phone.
-- Once per (case, kind, recipient), residents once per (case, kind): those
-- already told are left out before the insert, and the unique indexes
-- decide between concurrent callers.  Nothing to create: no insert at all
-- (so no deliveries trigger and no NOTIFY on an escalator's idle tick).
-- Every notification.created has the same payload: notification, case,
-- kind, recipient (null for a resident), role (people.role, or 'resident'),
-- text; topic notify/<person> (notify/resident).
CREATE OR REPLACE FUNCTION gf_notify_many (p_by text, p_items jsonb) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_now timestamptz := gf_now ();
    v_cases bigint[];
    v_kinds text[];
    v_recipients text[];
    v_texts text[];
    v_roles text[];
    v_grids text[];
    created integer;
BEGIN
    -- No occasion (a tick's reminders when none is due): nothing planned.
    -- A caller that plans per call (force_custom_plan) would plan the
    -- statement below for nothing, 5 ms.
    IF p_items IS NULL OR p_items = '[]'::jsonb THEN
        RETURN 0;
    END IF;
    WITH it AS (
        SELECT x.* FROM jsonb_to_recordset (p_items) AS x (case_id bigint, type text, grid text,
                                                           owner text, previous text, key text,
                                                           extra text, audience text)
    ), ruled AS (
        -- each rule's recipients: the people of role to_role in grid to_grid
        -- (computed here, so that people is joined by its index on (grid,
        -- role): joined on these CASE expressions it was read whole and
        -- hashed at every call, 1.5 ms of a notifier's step for one event
        -- with 6,000 people)
        SELECT it.case_id, it.extra, r.audience, format (r.kind, it.key) AS kind, r.template,
               CASE r.audience WHEN 'owner_leader' THEN it.owner
                               WHEN 'previous_owner_leader' THEN it.previous
                               WHEN 'l2_leader' THEN gf_owner_grid (it.grid, 2)
                               WHEN 'l1_triage' THEN gf_owner_grid (it.grid, 1)
                               ELSE it.grid END AS to_grid,
               CASE r.audience WHEN 'grid_members' THEN 'member'
                               WHEN 'l1_triage' THEN 'triage' ELSE 'leader' END AS to_role
          FROM it JOIN notification_rules r
            ON r.event_type = it.type AND r.enabled AND r.raised_by = p_by
           AND (it.audience IS NULL OR it.audience = r.audience)
    ), tgt AS (
        SELECT u.case_id, u.kind, u.template, u.extra, p.id AS recipient, p.role
          FROM ruled u JOIN people p ON p.grid = u.to_grid AND p.role = u.to_role
         WHERE u.audience <> 'resident'
        UNION ALL
        SELECT u.case_id, u.kind, u.template, u.extra, NULL, NULL FROM ruled u WHERE u.audience = 'resident'
    ), todo AS (
        SELECT t.* FROM tgt t
         WHERE NOT EXISTS (SELECT 1 FROM notifications n
                            WHERE n.case_id = t.case_id AND n.kind = t.kind
                              AND (n.recipient = t.recipient
                                   OR (n.recipient IS NULL AND t.recipient IS NULL)))
    ), hours AS MATERIALIZED (
        -- the sign-for deadline of a routed case is when it becomes overdue
        -- (gf_overdue_at: the one rule): its clock start (gf_clock_start:
        -- the routing time, a slip's box opening) plus the rule's
        -- hours, read once per L1 grid and urgency (gf_overdue_at's time
        -- for a case routed at the epoch), not once per message
        SELECT r.root, r.urgent,
               gf_overdue_at ('routed', r.root, r.urgent, 'epoch', NULL, NULL)
                 - timestamptz 'epoch' AS hours
          -- (of the notices to make: every occasion's case looked up, when
          -- nearly all were told before, was most of an escalator's tick)
          FROM (SELECT DISTINCT c.root, c.urgent FROM todo t JOIN cases c ON c.id = t.case_id) r
    ), msg AS (
        SELECT t.case_id, t.kind, t.recipient, t.role, c.grid,
               gf_notification_text (tp.body, c.id, cat.name, g.code, g.name,
                                     c.description_redacted,
                                     coalesce (t.extra, rr.name),
                                     gf_clock_start (c.source, c.reported_at,
                                                     coalesce (c.routed_at, v_now)) + h.hours,
                                     c.phone) AS text
          FROM todo t JOIN cases c ON c.id = t.case_id
          JOIN grids g ON g.code = c.grid
          LEFT JOIN reject_reasons rr ON rr.code = c.rejected_reason
          JOIN notification_templates tp ON tp.kind = t.template AND tp.lang = 'zh'
          LEFT JOIN categories cat ON cat.code = c.category
          JOIN hours h ON h.root = c.root AND h.urgent = c.urgent
         WHERE t.recipient IS NOT NULL OR c.phone IS NOT NULL
    )
    SELECT array_agg (m.case_id ORDER BY m.case_id, m.kind, m.recipient),
           array_agg (m.kind ORDER BY m.case_id, m.kind, m.recipient),
           array_agg (m.recipient ORDER BY m.case_id, m.kind, m.recipient),
           array_agg (m.text ORDER BY m.case_id, m.kind, m.recipient),
           array_agg (m.role ORDER BY m.case_id, m.kind, m.recipient),
           array_agg (m.grid ORDER BY m.case_id, m.kind, m.recipient)
      INTO v_cases, v_kinds, v_recipients, v_texts, v_roles, v_grids
      FROM msg m;
    IF v_cases IS NULL THEN
        RETURN 0;
    END IF;
    WITH m AS (
        SELECT * FROM unnest (v_cases, v_kinds, v_recipients, v_texts, v_roles, v_grids)
                      WITH ORDINALITY AS m (case_id, kind, recipient, text, role, grid, ord)
    ), ins AS (
        INSERT INTO notifications (case_id, kind, recipient, audience, text, created_at)
        SELECT m.case_id, m.kind, m.recipient,
               CASE WHEN m.recipient IS NULL THEN 'resident' ELSE 'staff' END, m.text, v_now
          FROM m ORDER BY m.ord
        ON CONFLICT DO NOTHING
        RETURNING id, case_id, kind, recipient, text
    ), ev AS (
        INSERT INTO event_stage (type, topic, case_id, grid, at, payload)
        SELECT 'notification.created', 'notify/' || coalesce (i.recipient, 'resident'), i.case_id,
               m.grid, v_now,
               gf_notification_payload (i.id, i.case_id, i.kind, i.recipient, m.role, i.text)
          FROM ins i
          -- an occasion twice in a batch (its notice inserted once): once
          JOIN (SELECT DISTINCT ON (m.case_id, m.kind, m.recipient) * FROM m) m
            ON m.case_id = i.case_id AND m.kind = i.kind
           AND coalesce (m.recipient, '') = coalesce (i.recipient, '')
         ORDER BY i.id
        RETURNING 1
    )
    SELECT count (*) INTO created FROM ev;
    RETURN created;
END
$$;

-- The notifier's batch: its events ([{case_id, type, grid}], in log order)
-- are the occasions of the rules it raises; also counts the routed cases
-- whose grid has no leader (the notifier warns).
CREATE OR REPLACE FUNCTION gf_notifier_batch (p_events jsonb)
RETURNS TABLE (created integer, no_leader bigint) LANGUAGE plpgsql AS $$
BEGIN
    -- plpgsql, not sql: its plan is kept for the session (a sql function
    -- is planned again at every call).  Each routed case's grid is probed
    -- for its leader by people_one_leader (OFFSET 0 keeps the probe a
    -- probe): the leaders' grids hashed whole at every call took 1.7 ms of
    -- a step of one or two events (pg_stat_user_functions in the county
    -- benchmark, 7 Dec 2026); probed one by one through a function call
    -- per event they took 10 ms for 250 routed cases.
    RETURN QUERY
    SELECT gf_notify_many ('notifier', p_events),
           (SELECT count (*) FROM jsonb_to_recordset (p_events) AS ev (type text, grid text)
              LEFT JOIN LATERAL (SELECT true AS found FROM people p
                                  WHERE p.grid = ev.grid AND p.role = 'leader' OFFSET 0) l ON true
             WHERE ev.type = 'case.routed' AND l.found IS NULL);
END
$$;

-- The notices of field reminders (patrols.sql gf_field_reminders, 033): one
-- staff notification per field_reminders row of p_ids (the row is the
-- dedupe key: notifications.field_reminder is unique, and a row already
-- told is left out), kind and template from the notification_rules row of
-- the reminder's kind and audience, created at the reminder's time (its
-- deliveries are held through quiet hours and days off as every staff
-- notice's), each with its notification.created event: the same payload as
-- a case's (case null), topic notify/<person>.  Template positions: %1$s
-- the subject (the household's opaque id; the grid for a patrol), %2$s the
-- period (YYYY-MM-DD), %3$s the L3 grid's code, %4$s its name, %5$s the L2
-- grace (visit_l2_grace_working_days).  Nothing of the register: no name,
-- address or phone.  Returns how many were created.
CREATE OR REPLACE FUNCTION gf_notify_field (p_ids bigint[]) RETURNS integer
LANGUAGE sql AS $$
    WITH msg AS (
        SELECT f.id, f.recipient, f.grid, f.created_at, r.kind,
               format (tp.body, f.subject, to_char (f.period, 'YYYY-MM-DD'), g.code, g.name,
                       coalesce (gf_field_rule (f.grid)->>'visit_l2_grace_working_days', '5')) AS text
          FROM field_reminders f
          JOIN notification_rules r ON r.event_type = f.kind AND r.audience = f.audience
                                   AND r.raised_by = 'escalator'
          JOIN notification_templates tp ON tp.kind = r.template AND tp.lang = 'zh'
          JOIN grids g ON g.code = f.grid
         WHERE f.id = ANY (p_ids)
           AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.field_reminder = f.id)
    ), ins AS (
        INSERT INTO notifications (case_id, field_reminder, kind, recipient, audience, text, created_at)
        SELECT NULL, m.id, m.kind, m.recipient, 'staff', m.text, m.created_at FROM msg m ORDER BY m.id
        ON CONFLICT DO NOTHING
        RETURNING id, field_reminder, kind, recipient, text, created_at
    ), ev AS (
        INSERT INTO event_stage (type, topic, case_id, grid, at, payload)
        SELECT 'notification.created', 'notify/' || i.recipient, NULL, f.grid, i.created_at,
               gf_notification_payload (i.id, NULL, i.kind, i.recipient, p.role, i.text)
          FROM ins i JOIN field_reminders f ON f.id = i.field_reminder
          LEFT JOIN people p ON p.id = i.recipient
         ORDER BY i.id
        RETURNING 1
    )
    SELECT count (*)::integer FROM ev
$$;

-- The notices of the meetings the safety net lapsed (036; meetings.sql
-- gf_lapse_batch calls it in the lapse's own transaction, for a batch of
-- meetings at once: p_escalated and p_digest are each meeting's, in the
-- same order; the notices in the meetings' order): one staff notification
-- per leader of a meeting's grid (the L2 grid of a weekly meeting, the L1
-- grid of a monthly one) as the enabled notification_rules row of
-- meeting.lapsed, audience grid_leader, says; and with p_digest (a lapse of
-- more than digest_over escalations, 049) one digest per leader of each
-- grid whose cases the lapse escalated (the grid the case was owned by
-- before: audience previous_owner_leader), instead of a notice per case.
-- Unique per (meeting, recipient): a leader who is both gets the lapse
-- notice.  Created now (deliveries held through quiet hours and days off as
-- every staff notice's), each with its notification.created event (case
-- null; grid: the meeting's, a digest's the recipient's), topic
-- notify/<person>.  Template positions, lapse notice: %1$s 周
-- or 月, %2$s the day (YYYY-MM-DD), %3$s the automatic escalations, %4$s
-- the grid's code, %5$s its name; digest: the same for the recipient's
-- grid and its own escalations, %6$s the level they went to, %7$s the
-- first ten case numbers.  Returns how many were created.
-- PL/pgSQL, so that the escalator's session plans its statement once, not
-- at every lapse as an SQL function's (2-3 ms of a county lapse's 25-30;
-- docs/performance.md), and plan_cache_mode = auto of its own: its caller
-- gf_lapse_batch plans per call (force_custom_plan), and a function's
-- setting holds for every function it calls, so this statement was planned
-- again at every lapse all the same.  It reads by key (the meetings'
-- escalations by escalations_meeting, their cases by id): a plan kept for
-- the session serves a lapse of 10 cases and one of 100,000 alike.
CREATE OR REPLACE FUNCTION gf_notify_meetings (p_meetings bigint[], p_escalated integer[],
                                               p_digest boolean[])
RETURNS integer LANGUAGE plpgsql SET plan_cache_mode = auto AS $$
DECLARE
    n integer;
BEGIN
    WITH mt AS (
        SELECT m.id, m.grid, m.day, CASE m.kind WHEN 'weekly' THEN '周' ELSE '月' END AS k,
               a.escalated
          FROM unnest (p_meetings, p_escalated) AS a (id, escalated)
          JOIN meetings m ON m.id = a.id AND m.kind IN ('weekly', 'monthly')
    ), went AS (
        -- the digests' grids: who owned each escalated case before
        SELECT e.meeting_id AS id, gf_owner_grid (c.grid, e.from_level) AS grid, count (*) AS n,
               max (e.to_level) AS to_level,
               (array_agg (e.case_id ORDER BY e.case_id))[1:10] AS first_ten
          FROM escalations e JOIN cases c ON c.id = e.case_id
         WHERE e.meeting_id = ANY (ARRAY (SELECT a.id FROM unnest (p_meetings, p_digest) AS a (id, digest)
                                           WHERE a.digest))
         GROUP BY 1, 2
    ), msg AS (
        SELECT 1 AS ord, mt.id, mt.grid, p.id AS recipient, r.kind,
               format (tp.body, mt.k, to_char (mt.day, 'YYYY-MM-DD'), coalesce (mt.escalated, 0),
                       g.code, g.name) AS text
          FROM mt
          JOIN notification_rules r ON r.event_type = 'meeting.lapsed' AND r.audience = 'grid_leader'
                                   AND r.raised_by = 'escalator' AND r.enabled
          JOIN notification_templates tp ON tp.kind = r.template AND tp.lang = 'zh'
          JOIN grids g ON g.code = mt.grid
          JOIN people p ON p.grid = mt.grid AND p.role = 'leader'
        UNION ALL
        SELECT 2, mt.id, w.grid, p.id, r.kind,
               format (tp.body, mt.k, to_char (mt.day, 'YYYY-MM-DD'), w.n, g.code, g.name,
                       CASE w.to_level WHEN 2 THEN '二级网格' ELSE '一级网格' END,
                       array_to_string (w.first_ten, '、') || CASE WHEN w.n > 10 THEN ' 等' ELSE '' END)
          FROM mt JOIN went w ON w.id = mt.id
          JOIN notification_rules r ON r.event_type = 'meeting.lapsed'
                                   AND r.audience = 'previous_owner_leader'
                                   AND r.raised_by = 'escalator' AND r.enabled
          JOIN notification_templates tp ON tp.kind = r.template AND tp.lang = 'zh'
          JOIN grids g ON g.code = w.grid
          JOIN people p ON p.grid = w.grid AND p.role = 'leader'
    ), todo AS (
        SELECT DISTINCT ON (m.id, m.recipient) m.* FROM msg m
         WHERE NOT EXISTS (SELECT 1 FROM notifications n
                            WHERE n.meeting_id = m.id AND n.recipient = m.recipient)
         ORDER BY m.id, m.recipient, m.ord
    ), ins AS (
        INSERT INTO notifications (meeting_id, kind, recipient, audience, text, created_at)
        SELECT t.id, t.kind, t.recipient, 'staff', t.text, (SELECT gf_now ()) FROM todo t
         ORDER BY t.id, t.ord, t.recipient
        ON CONFLICT DO NOTHING
        RETURNING id, meeting_id, kind, recipient, text, created_at
    ), ev AS (
        INSERT INTO event_stage (type, topic, case_id, grid, at, payload)
        SELECT 'notification.created', 'notify/' || i.recipient, NULL, t.grid, i.created_at,
               gf_notification_payload (i.id, NULL, i.kind, i.recipient, p.role, i.text)
          FROM ins i JOIN todo t ON t.id = i.meeting_id AND t.recipient = i.recipient
          LEFT JOIN people p ON p.id = i.recipient
         ORDER BY i.id
        RETURNING 1
    )
    SELECT count (*)::integer INTO n FROM ev;
    RETURN n;
END
$$;
