-- meetings.sql — the weekly L2 and monthly L1 meetings: their slots (a weekly
-- slot is the L2 grid's weekday and time, moved to the next working day when
-- it falls on a day off; a monthly slot is the first working day of the month
-- on the rule's weekday; local time Asia/Shanghai) and holding one (the
-- meeting record, its ledger as of the slot, its rule's escalations, the
-- meeting.held / ledger.published events).
-- Owns: gf_weekly_slots, gf_monthly_slots, gf_previous_slot, gf_due_meetings,
-- gf_hold_meeting, gf_meeting_call.

-- The weekly slots in (p_from, p_to].  Called by every tick: each slot
-- (gf_next_workday_at (), a calendar walk) and each rule is computed once
-- (MATERIALIZED), not once per use in the caller.
CREATE OR REPLACE FUNCTION gf_weekly_slots (p_from timestamptz, p_to timestamptz)
RETURNS TABLE (grid text, root text, slot timestamptz, day date)
LANGUAGE sql STABLE AS $$
    WITH l2r AS MATERIALIZED (
        SELECT g.code, g.parent AS root, gf_rule (g.parent, 'weekly_l2') AS params
          FROM grids g WHERE g.level = 2
    ), l2 AS (
        SELECT l2r.code, l2r.root,
               coalesce (ms.dow, (l2r.params->>'dow')::int) AS dow,
               coalesce (ms.hour, (l2r.params->>'hour')::int) AS hh,
               coalesce (ms.minute, (l2r.params->>'minute')::int) AS mi
          FROM l2r
          LEFT JOIN meeting_schedule ms ON ms.grid = l2r.code AND ms.kind = 'weekly'
         WHERE l2r.params IS NOT NULL
    ), s AS MATERIALIZED (
        SELECT l2.code, l2.root,
               gf_next_workday_at (((w::date + (l2.dow - 1)) + make_time (l2.hh, l2.mi, 0))
                                   AT TIME ZONE 'Asia/Shanghai', l2.hh, l2.mi) AS slot
          FROM l2, generate_series (date_trunc ('week', p_from AT TIME ZONE 'Asia/Shanghai') - interval '7 days',
                                    p_to AT TIME ZONE 'Asia/Shanghai', interval '7 days') w
    )
    SELECT DISTINCT code, root, slot, (slot AT TIME ZONE 'Asia/Shanghai')::date
      FROM s WHERE slot > p_from AND slot <= p_to
$$;

CREATE OR REPLACE FUNCTION gf_monthly_slots (p_from timestamptz, p_to timestamptz)
RETURNS TABLE (grid text, slot timestamptz, day date)
LANGUAGE sql STABLE AS $$
    WITH l1r AS MATERIALIZED (
        SELECT g.code, gf_rule (g.code, 'monthly_l1') AS params FROM grids g WHERE g.level = 1
    ), l1 AS (
        SELECT l1r.code,
               coalesce (ms.dow, (l1r.params->>'dow')::int) AS dow,
               coalesce (ms.hour, (l1r.params->>'hour')::int) AS hh,
               coalesce (ms.minute, (l1r.params->>'minute')::int) AS mi
          FROM l1r
          LEFT JOIN meeting_schedule ms ON ms.grid = l1r.code AND ms.kind = 'monthly'
         WHERE l1r.params IS NOT NULL
    ), s AS MATERIALIZED (
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

-- The slot before p_slot of a grid's weekly or monthly rule.
CREATE OR REPLACE FUNCTION gf_previous_slot (p_grid text, p_kind text, p_slot timestamptz)
RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_kind = 'weekly' THEN
        RETURN (SELECT max (w.slot)
                  FROM (SELECT * FROM gf_weekly_slots (p_slot - interval '15 days',
                                                       p_slot - interval '1 microsecond')
                        OFFSET 0) w  -- no pushdown of the grid filter into the function
                 WHERE w.grid = p_grid);
    END IF;
    RETURN (SELECT max (m.slot)
              FROM (SELECT * FROM gf_monthly_slots (p_slot - interval '70 days',
                                                    p_slot - interval '1 microsecond')
                    OFFSET 0) m
             WHERE m.grid = p_grid);
END
$$;

-- The escalator's every tick: the meetings due by gf_now () and not held
-- yet, oldest first (weekly before monthly on one day), each after its L1
-- grid's escalation started (escalation_state.since).  Meetings are held
-- oldest first, so nothing before the latest held slot (less a margin for a
-- meeting moved by holidays) can still be due: the scan does not grow with
-- history.
CREATE OR REPLACE FUNCTION gf_due_meetings ()
RETURNS TABLE (grid text, kind text, slot timestamptz)
LANGUAGE sql STABLE AS $$
    WITH es AS (SELECT greatest (min (since), (SELECT max (slot_at) - interval '40 days'
                                                 FROM meetings WHERE kind <> 'consultation'))
                       AS since FROM escalation_state),
         due AS (
        SELECT w.grid, 'weekly' AS kind, w.slot, w.day, w.root
          FROM es, gf_weekly_slots (es.since, gf_now ()) w
        UNION ALL
        SELECT m.grid, 'monthly', m.slot, m.day, m.grid
          FROM es, gf_monthly_slots (es.since, gf_now ()) m
    )
    SELECT due.grid, due.kind, due.slot FROM due
      JOIN escalation_state s ON s.root = due.root AND due.slot > s.since
     WHERE NOT EXISTS (SELECT 1 FROM meetings m
                        WHERE m.grid = due.grid AND m.kind = due.kind AND m.day = due.day)
     ORDER BY due.slot, due.kind DESC, due.grid
$$;

-- Holds one meeting: the meeting record (once per grid, kind and day), its
-- ledger as of the slot (gf_ledger_cases_at), the escalations its rule
-- makes, and the meeting.held / ledger.published events.  A grid's first
-- meeting covers the period since the previous slot of its rule.  Returns
-- the meeting id, or NULL when that meeting was already held.  work_mem: the
-- candidates, the escalations' joins and the deliveries trigger of a big
-- meeting hash tens of thousands of rows; 4 MB made them spill to disk.
CREATE OR REPLACE FUNCTION gf_hold_meeting (p_grid text, p_kind text, p_slot timestamptz) RETURNS bigint
LANGUAGE plpgsql SET work_mem = '64MB' AS $$
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
    m_from := coalesce (m_from, gf_previous_slot (p_grid, p_kind, p_slot),
                        p_slot - CASE p_kind WHEN 'weekly' THEN interval '7 days'
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
      FROM gf_ledger_cases_at (p_grid, m_from, p_slot) st
      JOIN cases c ON c.id = st.id
      LEFT JOIN LATERAL (SELECT e.type, e.at FROM case_events e
                          WHERE e.case_id = c.id AND e.at <= p_slot AND e.type LIKE 'case.%'
                          ORDER BY e.id DESC LIMIT 1) la ON true
     WHERE st.state <> 'merged'
       AND (NOT gf_case_resolved (st.state) OR st.touched);
    IF p_kind = 'weekly' THEN
        SELECT gf_escalate_many ('weekly_l2', m_id, 2::smallint, array_agg (w.case_id ORDER BY w.case_id),
                                 array_agg (w.reason ORDER BY w.case_id))
          INTO n_esc FROM gf_weekly_candidates (p_grid, p_slot) w;
    ELSIF p_kind = 'monthly' THEN
        SELECT gf_escalate_many ('monthly_l1', m_id, 1::smallint, array_agg (mc.case_id ORDER BY mc.case_id),
                                 array_agg (mc.reason ORDER BY mc.case_id))
          INTO n_esc FROM gf_monthly_candidates (p_grid, p_slot) mc;
    END IF;
    n_esc := coalesce (n_esc, 0);
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

-- A consultation meeting (民情征询会) that an L1 grid calls on a big issue
-- (demolition, land compensation, ...) at p_at (NULL: now): the meeting
-- record and its meeting.held event.  l1 is 0 when p_grid is not an L1
-- grid; meeting is NULL when the grid already has a consultation meeting
-- that day (`gridctl meeting call`).
CREATE OR REPLACE FUNCTION gf_meeting_call (p_grid text, p_topic text, p_at timestamptz)
RETURNS TABLE (l1 bigint, meeting bigint) LANGUAGE sql AS $$
    WITH g AS (
        SELECT code FROM grids WHERE code = p_grid AND level = 1
    ), t AS (
        SELECT coalesce (p_at, gf_now ()) AS at
    ), m AS (
        INSERT INTO meetings (grid, kind, day, slot_at, held_at, period_from, topic)
        SELECT g.code, 'consultation', (t.at AT TIME ZONE 'Asia/Shanghai')::date, t.at, gf_now (),
               t.at, p_topic
          FROM g, t
        ON CONFLICT (grid, kind, day) DO NOTHING
        RETURNING id, grid, day, slot_at
    ), ev AS (
        INSERT INTO case_events (type, topic, grid, at, payload)
        SELECT 'meeting.held', 'meeting.held/' || grid, grid, gf_now (),
               jsonb_build_object ('meeting', id, 'kind', 'consultation', 'day', day,
                                   'slot_at', slot_at, 'topic', gf_redact_text (p_topic))
          FROM m
    )
    SELECT (SELECT count (*) FROM g), (SELECT id FROM m)
$$;
