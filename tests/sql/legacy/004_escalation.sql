-- 004_escalation: the simulated clock, escalation rules as data, meetings,
-- ledgers and escalations.  Weekly L2 meetings, monthly L1 meetings, urgent
-- SLAs and sign-for reminders (DESIGN.md, "Escalation rules").

-- The one clock for everything durable: the simulated time when set
-- (frozen until `gridctl clock set/advance` moves it), else now().
CREATE TABLE sim_clock (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    at timestamptz NOT NULL
);
CREATE FUNCTION gf_now () RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT coalesce ((SELECT at FROM sim_clock), now ())
$$;

-- Rules per L1 grid; the row with root '*' holds the defaults.
CREATE TABLE escalation_rules (
    root    text NOT NULL,
    rule    text NOT NULL CHECK (rule IN ('sign_reminder', 'weekly_l2', 'monthly_l1', 'urgent')),
    params  jsonb NOT NULL,
    enabled boolean NOT NULL DEFAULT true,
    PRIMARY KEY (root, rule)
);
INSERT INTO escalation_rules (root, rule, params) VALUES
    ('*', 'sign_reminder', '{"hours": 24, "urgent_hours": 1, "l2_factor": 2}'),
    ('*', 'weekly_l2', '{"dow": 1, "hour": 9, "minute": 0, "grace_working_days": 2}'),
    ('*', 'monthly_l1', '{"dow": 1, "hour": 9, "minute": 0}'),
    ('*', 'urgent', '{"to_l2_hours": 24, "to_l1_hours": 72}');

-- The rule in force for an L1 grid.
CREATE FUNCTION gf_rule (p_root text, p_rule text) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT params FROM escalation_rules
     WHERE rule = p_rule AND root IN (p_root, '*') AND enabled
     ORDER BY root = '*' LIMIT 1
$$;

-- A grid's own meeting slot, overriding its L1 grid's rule.
CREATE TABLE meeting_schedule (
    grid   text NOT NULL REFERENCES grids (code),
    kind   text NOT NULL CHECK (kind IN ('weekly', 'monthly')),
    dow    smallint NOT NULL CHECK (dow BETWEEN 1 AND 7),   -- ISO: 1 = Monday
    hour   smallint NOT NULL CHECK (hour BETWEEN 0 AND 23),
    minute smallint NOT NULL CHECK (minute BETWEEN 0 AND 59),
    PRIMARY KEY (grid, kind)
);

-- Where the escalator starts holding meetings for an L1 grid (its first run
-- on the clock); missed slots after this are caught up.
CREATE TABLE escalation_state (
    root  text PRIMARY KEY REFERENCES grids (code),
    since timestamptz NOT NULL
);

CREATE TABLE meetings (
    id          bigserial PRIMARY KEY,
    grid        text NOT NULL REFERENCES grids (code),
    kind        text NOT NULL CHECK (kind IN ('weekly', 'monthly', 'consultation')),
    day         date NOT NULL,           -- local date: two slots on one day are one meeting
    slot_at     timestamptz NOT NULL,    -- when it was due
    held_at     timestamptz NOT NULL,    -- when the escalator held it (catch-up: later)
    period_from timestamptz NOT NULL,    -- the ledger covers [period_from, slot_at)
    topic       text,                    -- consultation meetings (民情征询会)
    UNIQUE (grid, kind, day)
);

CREATE TABLE ledger_entries (
    meeting_id     bigint NOT NULL REFERENCES meetings (id),
    case_id        bigint NOT NULL REFERENCES cases (id),
    tier           text NOT NULL CHECK (tier IN ('resolved', 'pending', 'hard')),
    state          text NOT NULL,
    level          smallint NOT NULL,
    category       text,
    priority       text NOT NULL,        -- '紧急', special groups, or ''
    age_days       integer NOT NULL,
    owner          text NOT NULL,        -- grid code
    last_action    text,
    last_action_at timestamptz,
    escalated      boolean NOT NULL DEFAULT false,
    PRIMARY KEY (meeting_id, case_id)
);

CREATE TABLE escalations (
    id         bigserial PRIMARY KEY,
    case_id    bigint NOT NULL REFERENCES cases (id),
    rule       text NOT NULL,
    meeting_id bigint REFERENCES meetings (id),
    from_level smallint NOT NULL,
    to_level   smallint NOT NULL,
    at         timestamptz NOT NULL
);
-- At most once per (case, rule, meeting).
CREATE UNIQUE INDEX escalations_once ON escalations (case_id, rule, coalesce (meeting_id, 0));

-- A case's lifecycle state, tier and level as they were at time t, from its
-- events (a meeting held late still builds the ledger of its slot).
CREATE FUNCTION gf_case_at (p_case bigint, t timestamptz,
                            OUT state text, OUT tier text, OUT level smallint)
LANGUAGE sql STABLE AS $$
    SELECT s.state,
           CASE WHEN s.state IN ('resolved', 'called_back', 'closed') THEN 'resolved'
                ELSE coalesce ((SELECT e.payload->>'tier' FROM case_events e
                                 WHERE e.case_id = p_case AND e.at <= t AND e.type = 'case.classified'
                                   AND e.payload->>'tier' IN ('pending', 'hard')
                                 ORDER BY e.id DESC LIMIT 1), 'pending') END,
           coalesce ((SELECT (e.payload->>'to_level')::smallint FROM case_events e
                       WHERE e.case_id = p_case AND e.at <= t AND e.type = 'case.escalated'
                       ORDER BY e.id DESC LIMIT 1), 3)
      FROM (SELECT coalesce ((
              SELECT CASE e.type WHEN 'case.received' THEN 'registered'
                                 WHEN 'case.routed' THEN 'routed'
                                 WHEN 'case.unroutable' THEN 'unroutable'
                                 ELSE e.payload->>'to' END
                FROM case_events e
               WHERE e.case_id = p_case AND e.at <= t
                 AND (e.type IN ('case.received', 'case.routed', 'case.unroutable')
                      OR e.payload ? 'to')
               ORDER BY e.id DESC LIMIT 1), 'registered') AS state) s
$$;

-- The leader of the grid that owns a case at a level (3: its own grid).
CREATE FUNCTION gf_owner_grid (grid text, lvl integer) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT array_to_string ((string_to_array (grid, '.'))[1:lvl], '.')
$$;

INSERT INTO notification_templates (kind, lang, body) VALUES
    ('case.escalated', 'zh', '【升级通知】案件 %1$s（%2$s，网格 %3$s %4$s）已按规则升级至%6$s处理。内容：%5$s。'),
    ('case.escalated', 'en', '[Escalation] Case %1$s (%2$s, grid %3$s %4$s) escalated to %6$s. %5$s'),
    ('sign.reminder', 'zh', '【签收提醒】案件 %1$s（%2$s，网格 %3$s %4$s）已分派但尚未签收，请尽快签收。内容：%5$s。'),
    ('sign.reminder', 'en', '[Reminder] Case %1$s (%2$s, grid %3$s %4$s) is not signed for yet. %5$s');

-- ---------------------------------------------------------------------------
-- Slots.  A weekly slot is the L2 grid's weekday and time in each week,
-- moved to the next working day when it falls on a day off; a monthly slot
-- is the first Monday (by the rule's weekday) of the month that is a
-- working day.  Times are local (Asia/Shanghai).

CREATE FUNCTION gf_weekly_slots (p_from timestamptz, p_to timestamptz)
RETURNS TABLE (grid text, root text, slot timestamptz, day date)
LANGUAGE sql STABLE AS $$
    WITH l2 AS (
        SELECT g.code, g.parent AS root,
               coalesce (ms.dow, (gf_rule (g.parent, 'weekly_l2')->>'dow')::int) AS dow,
               coalesce (ms.hour, (gf_rule (g.parent, 'weekly_l2')->>'hour')::int) AS hh,
               coalesce (ms.minute, (gf_rule (g.parent, 'weekly_l2')->>'minute')::int) AS mi
          FROM grids g
          LEFT JOIN meeting_schedule ms ON ms.grid = g.code AND ms.kind = 'weekly'
         WHERE g.level = 2 AND gf_rule (g.parent, 'weekly_l2') IS NOT NULL
    ), s AS (
        SELECT l2.code, l2.root,
               gf_next_workday_at (((w::date + (l2.dow - 1)) + make_time (l2.hh, l2.mi, 0))
                                   AT TIME ZONE 'Asia/Shanghai', l2.hh, l2.mi) AS slot
          FROM l2, generate_series (date_trunc ('week', p_from AT TIME ZONE 'Asia/Shanghai') - interval '7 days',
                                    p_to AT TIME ZONE 'Asia/Shanghai', interval '7 days') w
    )
    SELECT DISTINCT code, root, slot, (slot AT TIME ZONE 'Asia/Shanghai')::date
      FROM s WHERE slot > p_from AND slot <= p_to
$$;

CREATE FUNCTION gf_monthly_slots (p_from timestamptz, p_to timestamptz)
RETURNS TABLE (grid text, slot timestamptz, day date)
LANGUAGE sql STABLE AS $$
    WITH l1 AS (
        SELECT g.code,
               coalesce (ms.dow, (gf_rule (g.code, 'monthly_l1')->>'dow')::int) AS dow,
               coalesce (ms.hour, (gf_rule (g.code, 'monthly_l1')->>'hour')::int) AS hh,
               coalesce (ms.minute, (gf_rule (g.code, 'monthly_l1')->>'minute')::int) AS mi
          FROM grids g
          LEFT JOIN meeting_schedule ms ON ms.grid = g.code AND ms.kind = 'monthly'
         WHERE g.level = 1 AND gf_rule (g.code, 'monthly_l1') IS NOT NULL
    ), s AS (
        SELECT l1.code,
               (SELECT (d::date + make_time (l1.hh, l1.mi, 0)) AT TIME ZONE 'Asia/Shanghai'
                  FROM generate_series (m, m + interval '1 month' - interval '1 day', interval '1 day') d
                 WHERE extract (isodow FROM d) = l1.dow AND gf_is_workday (d::date)
                 ORDER BY d LIMIT 1) AS slot
          FROM l1, generate_series (date_trunc ('month', p_from AT TIME ZONE 'Asia/Shanghai'),
                                    p_to AT TIME ZONE 'Asia/Shanghai', interval '1 month') m
    )
    SELECT code, slot, (slot AT TIME ZONE 'Asia/Shanghai')::date
      FROM s WHERE slot IS NOT NULL AND slot > p_from AND slot <= p_to
$$;

-- ---------------------------------------------------------------------------
-- Candidates: what a rule would escalate.  Shared by the escalator and
-- `gridctl escalation plan` (which only reads).

-- Weekly: unresolved cases of the L2 grid's L3 grids, at L3 at the slot and
-- now, received at least the grace period (working days) before the slot.
CREATE FUNCTION gf_weekly_candidates (p_l2 text, p_slot timestamptz)
RETURNS TABLE (case_id bigint, reason text)
LANGUAGE sql STABLE AS $$
    SELECT c.id, format ('L3 未解决超过 %s 个工作日', (gf_rule (c.root, 'weekly_l2')->>'grace_working_days'))
      FROM cases c CROSS JOIN LATERAL gf_case_at (c.id, p_slot) st
     WHERE starts_with (c.grid, p_l2 || '.') AND c.level = 3 AND st.level = 3
       AND c.state NOT IN ('resolved', 'called_back', 'closed', 'merged')
       AND st.state NOT IN ('resolved', 'called_back', 'closed', 'merged')
       AND c.received_at <= p_slot
       AND gf_add_working_days (c.received_at,
               (gf_rule (c.root, 'weekly_l2')->>'grace_working_days')::int) <= p_slot
$$;

-- Monthly: unresolved L2 cases that were on at least one weekly ledger, and
-- every open case marked hard.
CREATE FUNCTION gf_monthly_candidates (p_root text, p_slot timestamptz)
RETURNS TABLE (case_id bigint, reason text)
LANGUAGE sql STABLE AS $$
    SELECT c.id, CASE WHEN c.tier = 'hard' THEN '难解决' ELSE 'L2 周例会台账上未解决' END
      FROM cases c
     WHERE c.root = p_root AND c.level > 1 AND c.received_at <= p_slot
       AND c.state NOT IN ('resolved', 'called_back', 'closed', 'merged')
       AND (c.tier = 'hard'
            OR (c.level = 2 AND EXISTS (SELECT 1 FROM ledger_entries le JOIN meetings m ON m.id = le.meeting_id
                                         WHERE le.case_id = c.id AND m.kind = 'weekly'
                                           AND m.slot_at <= p_slot)))
$$;

-- Urgent: urgent or special-group cases not resolved in time, at once.
CREATE FUNCTION gf_urgent_candidates (p_at timestamptz)
RETURNS TABLE (case_id bigint, to_level smallint, reason text)
LANGUAGE sql STABLE AS $$
    SELECT c.id, x.lvl, format ('紧急/重点人群诉求 %s 小时未办结', x.hours)
      FROM cases c
     CROSS JOIN LATERAL (VALUES (2::smallint, (gf_rule (c.root, 'urgent')->>'to_l2_hours')::int),
                                (1::smallint, (gf_rule (c.root, 'urgent')->>'to_l1_hours')::int)) x (lvl, hours)
     WHERE (c.urgent OR c.groups <> '{}') AND c.level > x.lvl
       AND c.state NOT IN ('resolved', 'called_back', 'closed', 'merged')
       AND gf_rule (c.root, 'urgent') IS NOT NULL
       AND c.received_at + make_interval (hours => x.hours) <= p_at
$$;

-- ---------------------------------------------------------------------------
-- Effects.  Each runs inside the caller's transaction, together with the
-- events and notifications it produces; the unique indexes make them
-- happen at most once however many escalators run.

-- One notification (from a template) and its notification.created event.
CREATE FUNCTION gf_notify (p_case bigint, p_kind text, p_template text, p_person text,
                           p_extra text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n_id bigint;
    n_text text;
    c record;
BEGIN
    IF p_person IS NULL THEN
        RETURN 0;
    END IF;
    SELECT c2.id, c2.grid, coalesce (cat.name, '未分类') AS category, g.name AS grid_name,
           left (c2.description, 60) AS excerpt
      INTO c FROM cases c2 JOIN grids g ON g.code = c2.grid
      LEFT JOIN categories cat ON cat.code = c2.category WHERE c2.id = p_case;
    SELECT format (t.body, c.id, c.category, c.grid, c.grid_name, c.excerpt, p_extra)
      INTO n_text FROM notification_templates t WHERE t.kind = p_template AND t.lang = 'zh';
    INSERT INTO notifications (case_id, kind, recipient, channel, text, created_at)
    VALUES (p_case, p_kind, p_person, 'app', n_text, gf_now ())
    ON CONFLICT (case_id, kind, recipient) DO NOTHING
    RETURNING id INTO n_id;
    IF n_id IS NULL THEN
        RETURN 0;
    END IF;
    INSERT INTO case_events (type, topic, case_id, grid, at, payload)
    VALUES ('notification.created', 'notify/' || p_person, p_case, c.grid, gf_now (),
            jsonb_build_object ('notification', n_id, 'recipient', p_person, 'kind', p_kind,
                                'channel', 'app', 'text', n_text, 'case', p_case));
    RETURN 1;
END
$$;

CREATE FUNCTION gf_leader (p_grid text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT id FROM people WHERE grid = p_grid AND role = 'leader'
$$;

-- Moves a case up to p_to, once per (case, rule, meeting): the escalation
-- record, the case, its case.escalated event, and notifications to the new
-- owner's leader with a copy to the previous one.  Returns 1 if it moved.
CREATE FUNCTION gf_escalate (p_case bigint, p_rule text, p_meeting bigint, p_to smallint,
                             p_reason text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    c record;
    e_id bigint;
    level_name text := CASE p_to WHEN 2 THEN '二级网格' ELSE '一级网格' END;
BEGIN
    SELECT id, grid, level, version INTO c FROM cases WHERE id = p_case FOR UPDATE;
    IF c.level <= p_to THEN
        RETURN 0;
    END IF;
    INSERT INTO escalations (case_id, rule, meeting_id, from_level, to_level, at)
    VALUES (p_case, p_rule, p_meeting, c.level, p_to, gf_now ())
    ON CONFLICT DO NOTHING RETURNING id INTO e_id;
    IF e_id IS NULL THEN
        RETURN 0;
    END IF;
    UPDATE cases SET level = p_to, version = version + 1, updated_at = gf_now () WHERE id = p_case;
    INSERT INTO case_events (type, topic, case_id, grid, at, payload)
    VALUES ('case.escalated', 'case.escalated/' || c.grid, p_case, c.grid, gf_now (),
            jsonb_build_object ('rule', p_rule, 'meeting', p_meeting, 'from_level', c.level,
                                'to_level', p_to, 'reason', p_reason, 'version', c.version + 1,
                                'owner', gf_owner_grid (c.grid, p_to)));
    PERFORM gf_notify (p_case, 'escalated.to' || p_to, 'case.escalated',
                       gf_leader (gf_owner_grid (c.grid, p_to)), level_name);
    PERFORM gf_notify (p_case, 'escalated.to' || p_to, 'case.escalated',
                       gf_leader (gf_owner_grid (c.grid, c.level)), level_name);
    IF p_meeting IS NOT NULL THEN
        UPDATE ledger_entries SET escalated = true WHERE meeting_id = p_meeting AND case_id = p_case;
    END IF;
    RETURN 1;
END
$$;

-- Holds one meeting: the meeting record (once per grid, kind and day), its
-- ledger as of the slot, the escalations its rule makes, and the
-- meeting.held / ledger.published events.  Returns the meeting id, or NULL
-- when that meeting was already held.
CREATE FUNCTION gf_hold_meeting (p_grid text, p_kind text, p_slot timestamptz) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    m_id bigint;
    m_from timestamptz;
    m_day date := (p_slot AT TIME ZONE 'Asia/Shanghai')::date;
    n_esc integer := 0;
    counts record;
BEGIN
    PERFORM pg_advisory_xact_lock (hashtext ('gridflow.meeting:' || p_grid));
    SELECT max (slot_at) INTO m_from FROM meetings
     WHERE grid = p_grid AND kind = p_kind AND slot_at < p_slot;
    m_from := coalesce (m_from, p_slot - CASE p_kind WHEN 'weekly' THEN interval '7 days'
                                                     ELSE interval '1 month' END);
    INSERT INTO meetings (grid, kind, day, slot_at, held_at, period_from)
    VALUES (p_grid, p_kind, m_day, p_slot, gf_now (), m_from)
    ON CONFLICT (grid, kind, day) DO NOTHING RETURNING id INTO m_id;
    IF m_id IS NULL THEN
        RETURN NULL;
    END IF;
    -- The ledger: every case of the subtree open at the slot or touched in
    -- the period, as it was at the slot.
    INSERT INTO ledger_entries (meeting_id, case_id, tier, state, level, category, priority,
                                age_days, owner, last_action, last_action_at)
    SELECT m_id, c.id, st.tier, st.state, st.level, c.category,
           concat_ws (' ', CASE WHEN c.urgent THEN '紧急' END,
                      nullif (array_to_string (c.groups, ','), '')),
           greatest (0, floor (extract (epoch FROM (p_slot - c.received_at)) / 86400))::int,
           c.grid, la.type, la.at
      FROM cases c
     CROSS JOIN LATERAL gf_case_at (c.id, p_slot) st
      LEFT JOIN LATERAL (SELECT e.type, e.at FROM case_events e
                          WHERE e.case_id = c.id AND e.at <= p_slot AND e.type LIKE 'case.%'
                          ORDER BY e.id DESC LIMIT 1) la ON true
     WHERE starts_with (c.grid, p_grid || '.') AND c.received_at <= p_slot
       AND st.state <> 'merged'
       AND (st.state NOT IN ('resolved', 'called_back', 'closed')
            OR EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = c.id
                          AND e.at >= m_from AND e.at < p_slot));
    IF p_kind = 'weekly' THEN
        SELECT coalesce (sum (gf_escalate (w.case_id, 'weekly_l2', m_id, 2::smallint, w.reason)), 0)
          INTO n_esc FROM gf_weekly_candidates (p_grid, p_slot) w;
    ELSIF p_kind = 'monthly' THEN
        SELECT coalesce (sum (gf_escalate (mc.case_id, 'monthly_l1', m_id, 1::smallint, mc.reason)), 0)
          INTO n_esc FROM gf_monthly_candidates (p_grid, p_slot) mc;
    END IF;
    SELECT count (*) AS entries, count (*) FILTER (WHERE tier = 'resolved') AS resolved,
           count (*) FILTER (WHERE tier = 'pending') AS pending,
           count (*) FILTER (WHERE tier = 'hard') AS hard
      INTO counts FROM ledger_entries WHERE meeting_id = m_id;
    INSERT INTO case_events (type, topic, grid, at, payload) VALUES
        ('meeting.held', 'meeting.held/' || p_grid, p_grid, gf_now (),
         jsonb_build_object ('meeting', m_id, 'kind', p_kind, 'day', m_day, 'slot_at', p_slot,
                             'period_from', m_from)),
        ('ledger.published', 'ledger.published/' || p_grid, p_grid, gf_now (),
         jsonb_build_object ('meeting', m_id, 'kind', p_kind, 'entries', counts.entries,
                             'resolved', counts.resolved, 'pending', counts.pending,
                             'hard', counts.hard, 'escalated', n_esc));
    RETURN m_id;
END
$$;

-- Sign-for reminders: routed and not signed within the rule's hours (urgent:
-- urgent_hours) → the L3 leader; at l2_factor times that → also the L2 leader.
CREATE FUNCTION gf_sign_reminders (p_at timestamptz) RETURNS integer
LANGUAGE sql AS $$
    WITH r AS (
        SELECT c.id, c.grid,
               make_interval (hours => CASE WHEN c.urgent THEN (gf_rule (c.root, 'sign_reminder')->>'urgent_hours')::int
                                            ELSE (gf_rule (c.root, 'sign_reminder')->>'hours')::int END) AS limit_,
               (gf_rule (c.root, 'sign_reminder')->>'l2_factor')::int AS factor, c.routed_at
          FROM cases c
         WHERE c.state = 'routed' AND gf_rule (c.root, 'sign_reminder') IS NOT NULL
    )
    SELECT coalesce (sum (gf_notify (id, 'sign.reminder', 'sign.reminder', gf_leader (grid), NULL)), 0)::int
         + coalesce (sum (CASE WHEN routed_at + limit_ * factor <= p_at
                          THEN gf_notify (id, 'sign.reminder.l2', 'sign.reminder',
                                          gf_leader (gf_owner_grid (grid, 2)), NULL) ELSE 0 END), 0)::int
      FROM r WHERE routed_at + limit_ <= p_at
$$;
