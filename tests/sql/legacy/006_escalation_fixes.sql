-- 006_escalation_fixes: found by the half-year oracle test
-- (tests/e2e/test_escalation_year.sh).
--  1. A resolved, called-back or closed case is tier resolved on a ledger
--     even if someone classified it afterwards (the live-row branch of
--     gf_cases_at took cases.tier as it was).
--  2. A grid's first meeting covers the period since the previous slot of
--     its rule, not "slot minus a week / a month".

CREATE OR REPLACE FUNCTION gf_cases_at (p_grid text, t timestamptz)
RETURNS TABLE (id bigint, state text, tier text, level smallint)
LANGUAGE sql STABLE AS $$
    WITH sub AS (
        SELECT c.id, c.state, c.tier, c.level FROM cases c
         WHERE starts_with (c.grid, p_grid || '.') AND c.received_at <= t
    ), later AS (
        SELECT DISTINCT e.case_id FROM case_events e
         WHERE e.at > t AND e.case_id IS NOT NULL
    )
    SELECT sub.id, sub.state,
           CASE WHEN sub.state IN ('resolved', 'called_back', 'closed') THEN 'resolved'
                ELSE sub.tier END,
           sub.level
      FROM sub
     WHERE NOT EXISTS (SELECT 1 FROM later WHERE later.case_id = sub.id)
    UNION ALL
    SELECT sub.id, h.state, h.tier, h.level
      FROM sub JOIN later ON later.case_id = sub.id
     CROSS JOIN LATERAL gf_case_at (sub.id, t) h
$$;

-- The slot before p_slot of a grid's weekly or monthly rule.
CREATE FUNCTION gf_previous_slot (p_grid text, p_kind text, p_slot timestamptz)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT max (slot) FROM (
        SELECT w.slot FROM gf_weekly_slots (p_slot - interval '15 days', p_slot - interval '1 microsecond') w
         WHERE p_kind = 'weekly' AND w.grid = p_grid
        UNION ALL
        SELECT m.slot FROM gf_monthly_slots (p_slot - interval '70 days', p_slot - interval '1 microsecond') m
         WHERE p_kind = 'monthly' AND m.grid = p_grid) s
$$;

CREATE OR REPLACE FUNCTION gf_hold_meeting (p_grid text, p_kind text, p_slot timestamptz) RETURNS bigint
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
    m_from := coalesce (m_from, gf_previous_slot (p_grid, p_kind, p_slot),
                        p_slot - CASE p_kind WHEN 'weekly' THEN interval '7 days'
                                             ELSE interval '1 month' END);
    INSERT INTO meetings (grid, kind, day, slot_at, held_at, period_from)
    VALUES (p_grid, p_kind, m_day, p_slot, gf_now (), m_from)
    ON CONFLICT (grid, kind, day) DO NOTHING RETURNING id INTO m_id;
    IF m_id IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO ledger_entries (meeting_id, case_id, tier, state, level, category, priority,
                                age_days, owner, last_action, last_action_at)
    SELECT m_id, c.id, st.tier, st.state, st.level, c.category,
           concat_ws (' ', CASE WHEN c.urgent THEN '紧急' END,
                      nullif (array_to_string (c.groups, ','), '')),
           greatest (0, floor (extract (epoch FROM (p_slot - c.received_at)) / 86400))::int,
           c.grid, la.type, la.at
      FROM gf_cases_at (p_grid, p_slot) st
      JOIN cases c ON c.id = st.id
      LEFT JOIN LATERAL (SELECT e.type, e.at FROM case_events e
                          WHERE e.case_id = c.id AND e.at <= p_slot AND e.type LIKE 'case.%'
                          ORDER BY e.id DESC LIMIT 1) la ON true
     WHERE st.state <> 'merged'
       AND (st.state NOT IN ('resolved', 'called_back', 'closed')
            OR c.id IN (SELECT e.case_id FROM case_events e
                         WHERE e.at >= m_from AND e.at < p_slot AND e.case_id IS NOT NULL));
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
