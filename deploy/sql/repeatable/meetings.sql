-- meetings.sql — the weekly L2 and monthly L1 meetings: their slots (a weekly
-- slot is the L2 grid's weekday and time, moved to the next working day when
-- it falls on a day off; a monthly slot is the first working day of the month
-- on the rule's weekday; local time Asia/Shanghai) and holding one (the
-- meeting record and its agenda as of the slot: meeting.opened), the safety
-- net (a meeting nobody closed in time lapses and its rule escalates:
-- meeting.lapsed), and how the ledger shows a meeting's agenda and
-- escalations.
-- Owns: gf_weekly_slots, gf_monthly_slots, gf_previous_slot, gf_due_meetings,
-- gf_meeting_period_from, gf_open_meetings, gf_open_meeting, gf_open_meetings_in,
-- gf_due_lapses, gf_lapse_meeting, gf_lapse_meetings, gf_lapse_batch, gf_meeting_escalations, gf_meeting_agenda,
-- gf_meeting_agenda_json, gf_meeting_call.

-- The weekly slots in (p_from, p_to], of every L2 grid or of p_grid only.
-- Called by every tick: each slot (gf_next_workday_at (), a calendar walk)
-- and each rule is computed once (MATERIALIZED), not once per use in the
-- caller.  gf_previous_slot names its grid: it computed every L2 grid's
-- slots to keep one grid's (a county's 180 grids, five weeks each, 25
-- times for each root's round: most of the first 09:00 round's time).
DROP FUNCTION IF EXISTS gf_weekly_slots (timestamptz, timestamptz);
CREATE OR REPLACE FUNCTION gf_weekly_slots (p_from timestamptz, p_to timestamptz,
                                            p_grid text DEFAULT NULL)
RETURNS TABLE (grid text, root text, slot timestamptz, day date)
LANGUAGE sql STABLE AS $$
    WITH l2r AS MATERIALIZED (
        SELECT g.code, g.parent AS root, gf_rule (g.parent, 'weekly_l2') AS params
          FROM grids g WHERE g.level = 2 AND (p_grid IS NULL OR g.code = p_grid)
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

-- The monthly slots in (p_from, p_to], of every L1 grid or of p_grid only.
DROP FUNCTION IF EXISTS gf_monthly_slots (timestamptz, timestamptz);
CREATE OR REPLACE FUNCTION gf_monthly_slots (p_from timestamptz, p_to timestamptz,
                                             p_grid text DEFAULT NULL)
RETURNS TABLE (grid text, slot timestamptz, day date)
LANGUAGE sql STABLE AS $$
    WITH l1r AS MATERIALIZED (
        SELECT g.code, gf_rule (g.code, 'monthly_l1') AS params FROM grids g
         WHERE g.level = 1 AND (p_grid IS NULL OR g.code = p_grid)
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
                  FROM gf_weekly_slots (p_slot - interval '15 days',
                                        p_slot - interval '1 microsecond', p_grid) w);
    END IF;
    RETURN (SELECT max (m.slot)
              FROM gf_monthly_slots (p_slot - interval '70 days',
                                     p_slot - interval '1 microsecond', p_grid) m);
END
$$;

-- The escalator's every tick: the meetings due by gf_now () and not opened
-- yet, oldest first (weekly before monthly on one day), each after its L1
-- grid's escalation started (escalation_state.since).  Meetings are held
-- oldest first, so nothing before the latest held slot (less a margin for a
-- meeting moved by holidays) can still be due, root by root (the roots'
-- rounds may be held by different instances): the scan does not grow with
-- history.  p_roots: the L1 roots of the escalator instance asking (its
-- share of the roots, gf_escalator.c; NULL: every root); root is the
-- meeting's L1 root, whose lease fences the meeting's opening.
DROP FUNCTION IF EXISTS gf_due_meetings ();
CREATE OR REPLACE FUNCTION gf_due_meetings (p_roots text[] DEFAULT NULL)
RETURNS TABLE (grid text, kind text, slot timestamptz, root text)
LANGUAGE sql STABLE AS $$
    WITH es AS MATERIALIZED (
        SELECT s.root, s.since,
               greatest (s.since, (SELECT max (m.slot_at) - interval '40 days' FROM meetings m
                                    WHERE m.kind <> 'consultation'
                                      AND split_part (m.grid, '.', 1) = s.root)) AS scan_from
          FROM escalation_state s WHERE p_roots IS NULL OR s.root = ANY (p_roots)
    ), lo AS (SELECT min (scan_from) AS since FROM es),
         due AS (
        SELECT w.grid, 'weekly' AS kind, w.slot, w.day, w.root
          FROM lo, gf_weekly_slots (lo.since, gf_now ()) w
        UNION ALL
        SELECT m.grid, 'monthly', m.slot, m.day, m.grid
          FROM lo, gf_monthly_slots (lo.since, gf_now ()) m
    )
    SELECT due.grid, due.kind, due.slot, due.root FROM due
      JOIN es s ON s.root = due.root AND due.slot > s.since AND due.slot > s.scan_from
     WHERE NOT EXISTS (SELECT 1 FROM meetings m
                        WHERE m.grid = due.grid AND m.kind = due.kind AND m.day = due.day)
     ORDER BY due.slot, due.kind DESC, due.grid
$$;

-- Where a meeting's period starts (its ledger's "touched" window): the
-- previous meeting of its grid and kind, else the previous slot of its
-- rule, else a week (a month) before.
CREATE OR REPLACE FUNCTION gf_meeting_period_from (p_grid text, p_kind text, p_slot timestamptz)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT coalesce ((SELECT max (m.slot_at) FROM meetings m
                       WHERE m.grid = p_grid AND m.kind = p_kind AND m.slot_at < p_slot),
                     gf_previous_slot (p_grid, p_kind, p_slot),
                     p_slot - CASE p_kind WHEN 'weekly' THEN interval '7 days'
                                          ELSE interval '1 month' END)
$$;

-- Opens the meetings of several grids of one L1 root at one slot (the
-- escalator: a root's meetings of one kind and slot, in one transaction
-- under that root's lease), reading the root's event window once for all of
-- them: each meeting read the week's events for its own subtree, 180 times
-- in a county's round.  The grids whose period starts where the first
-- grid's does (all of them, but for a first meeting or a changed schedule)
-- and whose codes are as long as its (gf_open_meetings_in's join) are
-- opened together by gf_open_meetings_in; the others one by one
-- (gf_open_meeting).  One row per grid, in the order given: the meeting id,
-- or NULL when it was already opened.
CREATE OR REPLACE FUNCTION gf_open_meetings (p_grids text[], p_kind text, p_slot timestamptz)
RETURNS TABLE (grid text, meeting bigint)
LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
    v_from timestamptz;
    v_shared text[];
    v_alone text[];
    v_ids bigint[] := '{}';
    v_grids text[] := '{}';
    w record;
    g text;
BEGIN
    IF (SELECT count (DISTINCT split_part (x, '.', 1)) FROM unnest (p_grids) x) > 1 THEN
        RAISE EXCEPTION 'gf_open_meetings: grids of more than one L1 root: %', p_grids
            USING ERRCODE = '22023';
    END IF;
    v_from := gf_meeting_period_from (p_grids[1], p_kind, p_slot);
    SELECT array_agg (u.g ORDER BY u.ord) FILTER (WHERE u.together),
           array_agg (u.g ORDER BY u.ord) FILTER (WHERE NOT u.together)
      INTO v_shared, v_alone
      FROM (SELECT x.g, x.ord,
                   gf_meeting_period_from (x.g, p_kind, p_slot) IS NOT DISTINCT FROM v_from
                   AND length (x.g) = length (p_grids[1]) AS together
              FROM unnest (p_grids) WITH ORDINALITY AS x (g, ord)) u;
    IF v_shared IS NOT NULL THEN
        -- the window of the grids' L1 root (their common subtree)
        SELECT * INTO w FROM gf_window_ids (split_part (p_grids[1], '.', 1), v_from, p_slot);
        SELECT array_agg (o.meeting), array_agg (o.grid) INTO v_ids, v_grids
          FROM gf_open_meetings_in (v_shared, p_kind, p_slot, v_from, w.later_ids,
                                    w.touched_ids) o;
    END IF;
    FOREACH g IN ARRAY coalesce (v_alone, '{}') LOOP
        v_ids := v_ids || gf_open_meeting (g, p_kind, p_slot);
        v_grids := v_grids || g;
    END LOOP;
    RETURN QUERY
    SELECT u.g, o.id
      FROM unnest (p_grids) WITH ORDINALITY AS u (g, ord)
      LEFT JOIN unnest (v_ids, v_grids) AS o (id, g) ON o.g = u.g
     ORDER BY u.ord;
END
$$;

-- Opens one meeting at its slot (gf_open_meetings_in for one grid, reading
-- its own subtree's window).  Returns the meeting id, or NULL when that
-- meeting was already opened.
DROP FUNCTION IF EXISTS gf_open_meeting (text, text, timestamptz, bigint[], text[], bigint[], text[]);
CREATE OR REPLACE FUNCTION gf_open_meeting (p_grid text, p_kind text, p_slot timestamptz)
RETURNS bigint
LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    v_from timestamptz;
    w record;
BEGIN
    PERFORM pg_advisory_xact_lock (hashtext ('gridflow.meeting:' || p_grid));
    v_from := gf_meeting_period_from (p_grid, p_kind, p_slot);
    SELECT * INTO w FROM gf_window_ids (p_grid, v_from, p_slot);
    RETURN (SELECT o.meeting
              FROM gf_open_meetings_in (ARRAY[p_grid], p_kind, p_slot, v_from, w.later_ids,
                                        w.touched_ids) o);
END
$$;

-- Opens the meetings of p_grids (one L1 root, one kind, one slot, one
-- period start p_from) in one pass: each meeting record (state 'open', once
-- per grid, kind and day) and its agenda, the ledger_entries as of the
-- slot, each with why it is there (reason):
--   ledger       every case of the grid's subtree open at the slot or
--                touched in the period (the rules of gf_ledger_cases_in,
--                which tests/sql/meetings.sql holds these agendas to);
--   carried      the last decision on the case at an earlier meeting of
--                this grid and kind is not done yet (carried_from: that
--                decision);
--   special      an open case of a special group: always on the agenda;
--   triage       monthly only: an unroutable case of the L1 grid (待分流);
--   reported_up  monthly only: an L2 weekly meeting of the subtree decided
--                to report it up since the previous monthly slot
--                (carried_from: that decision).
-- One line per case; when several reasons hold, the first of reported_up,
-- carried, triage, special, ledger names it (carried_from is kept whenever a
-- decision is carried).  No case moves at the slot: what the rules would
-- do happens only when nobody closes the meeting (gf_lapse_meeting).  Emits
-- meeting.opened per meeting with the agenda's size per tier and reason.
-- p_later_ids, p_touched_ids: the window's cases (gf_window_ids for the
-- slot and p_from, of a subtree holding every grid's).  One row per grid
-- that was opened: a grid whose meeting of that kind and day exists is left
-- out.  Each case of the window and each open case is read once for all
-- the meetings, and its row gives the agenda line; opened one by one, a
-- line's case was read three times and each meeting's statements ran once
-- per meeting (docs/performance.md).
CREATE OR REPLACE FUNCTION gf_open_meetings_in (p_grids text[], p_kind text, p_slot timestamptz,
                                                p_from timestamptz, p_later_ids bigint[],
                                                p_touched_ids bigint[])
RETURNS TABLE (grid text, meeting bigint)
LANGUAGE plpgsql SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
    v_day date := (p_slot AT TIME ZONE 'Asia/Shanghai')::date;
    v_now timestamptz := gf_now ();
    v_ids bigint[];
    v_grids text[];
    v_lo text;
    v_hi text;
    v_len int;
    v_len_max int;
    g text;
BEGIN
    FOREACH g IN ARRAY p_grids LOOP
        PERFORM pg_advisory_xact_lock (hashtext ('gridflow.meeting:' || g));
    END LOOP;
    SELECT min (gf_subtree_lo (x) COLLATE "C"), max (gf_subtree_hi (x) COLLATE "C"),
           min (length (x)), max (length (x))
      INTO v_lo, v_hi, v_len, v_len_max FROM unnest (p_grids) x;
    IF v_len <> v_len_max THEN
        RAISE EXCEPTION 'gf_open_meetings_in: grid codes of more than one length: %', p_grids
            USING ERRCODE = '22023';
    END IF;
    WITH ins AS (
        INSERT INTO meetings (grid, kind, day, slot_at, held_at, period_from, state)
        SELECT u.g, p_kind, v_day, p_slot, v_now, p_from, 'open'
          FROM unnest (p_grids) WITH ORDINALITY AS u (g, ord)
         ORDER BY u.ord
        ON CONFLICT (grid, kind, day) DO NOTHING
        RETURNING meetings.id, meetings.grid
    )
    SELECT array_agg (ins.id ORDER BY ins.id), array_agg (ins.grid ORDER BY ins.id)
      INTO v_ids, v_grids FROM ins;
    IF v_ids IS NULL THEN
        RETURN;
    END IF;
    -- later, touched: = ANY of a constant array is a hash lookup per case.
    -- A case is in a meeting's subtree by its grid now (the window's ids
    -- may name cases that left it).
    WITH mt AS MATERIALIZED (
        SELECT m.id, m.grid, gf_subtree_lo (m.grid) AS lo
          FROM unnest (v_ids, v_grids) AS m (id, grid)
    ), sub AS MATERIALIZED (
        -- each case to its meeting by its grid's code: a hash join on the
        -- meetings' code length (starts_with against each meeting was
        -- 370,000 calls for a sub-district's week)
        SELECT mt.id AS meeting_id, c.id, c.state, c.tier, c.level, c.grid, c.category,
               c.urgent, c.groups, c.received_at,
               coalesce (c.id = ANY (p_later_ids), false) AS later,
               coalesce (c.id = ANY (p_touched_ids), false) AS touched
          FROM (-- open now: the partial index on the meetings' span of
                -- subtrees (v_lo, v_hi: constants, so that the plan reads
                -- the range, not every open case)
                SELECT c.id, c.state, c.tier, c.level, c.grid, c.category, c.urgent, c.groups,
                       c.received_at
                  FROM cases c
                 WHERE c.grid ~>=~ v_lo AND c.grid ~<~ v_hi
                   AND gf_case_open (c.state) AND c.received_at <= p_slot
                UNION ALL
                -- closed now: only those changed after the slot or touched
                -- in the period (= ANY of the array: its size is known to
                -- the plan, which probes the primary key)
                SELECT c.id, c.state, c.tier, c.level, c.grid, c.category, c.urgent, c.groups,
                       c.received_at
                  FROM cases c
                 WHERE c.id = ANY (p_later_ids || p_touched_ids)
                   AND NOT gf_case_open (c.state) AND c.received_at <= p_slot) c
          JOIN mt ON mt.grid = left (c.grid, v_len) AND starts_with (c.grid, mt.lo)
    ), st AS (
        -- as at the slot: the live row when nothing happened after it, else
        -- rebuilt from the events
        SELECT s.meeting_id, s.id, s.state,
               CASE WHEN gf_case_resolved (s.state) THEN 'resolved' ELSE s.tier END AS tier,
               s.level, s.grid, s.category, s.urgent, s.groups, s.received_at, s.touched
          FROM sub s
         WHERE NOT s.later
        UNION ALL
        SELECT s.meeting_id, s.id, h.state, h.tier, h.level, s.grid, s.category, s.urgent,
               s.groups, s.received_at, s.touched
          FROM sub s CROSS JOIN LATERAL gf_case_at (s.id, p_slot) h
         WHERE s.later
    ), led AS MATERIALIZED (
        SELECT st.meeting_id, st.id, st.state, st.tier, st.level, st.grid, st.category,
               st.urgent, st.groups, st.received_at
          FROM st
         WHERE st.state <> 'merged' AND (NOT gf_case_resolved (st.state) OR st.touched)
    ), carried AS MATERIALIZED (
        -- the last decision on each case at an earlier meeting of the grid
        -- and kind, while what it asked has not happened
        -- (gf_decision_done_at, meeting_records.sql)
        SELECT l.meeting_id, l.case_id, l.id FROM (
            SELECT DISTINCT ON (mt.id, d.case_id) mt.id AS meeting_id, d.case_id, d.id
              FROM mt JOIN meetings pm ON pm.grid = mt.grid AND pm.kind = p_kind
                                      AND pm.slot_at < p_slot
              JOIN meeting_decisions d ON d.meeting_id = pm.id
             ORDER BY mt.id, d.case_id, d.at DESC, d.id DESC) l
         WHERE gf_decision_done_at (l.id) IS NULL
    ), reported AS MATERIALIZED (
        SELECT DISTINCT ON (mt.id, d.case_id) mt.id AS meeting_id, d.case_id, d.id
          FROM mt JOIN meetings wm ON wm.kind = 'weekly' AND gf_in_subtree (wm.grid, mt.grid)
          JOIN meeting_decisions d ON d.meeting_id = wm.id
         WHERE p_kind = 'monthly' AND d.kind = 'report_up' AND d.at > p_from AND d.at <= p_slot
         ORDER BY mt.id, d.case_id, d.at DESC, d.id DESC
    ), triage AS MATERIALIZED (
        SELECT mt.id AS meeting_id, c.id FROM mt JOIN cases c ON c.root = mt.grid
         WHERE p_kind = 'monthly' AND c.state = 'unroutable' AND c.received_at <= p_slot
    ), agenda AS (
        SELECT led.* FROM led
        UNION ALL
        SELECT x.meeting_id, x.id, h.state, h.tier, h.level, c.grid, c.category, c.urgent,
               c.groups, c.received_at
          FROM (SELECT meeting_id, case_id AS id FROM carried
                UNION SELECT meeting_id, case_id FROM reported
                UNION SELECT meeting_id, id FROM triage
                EXCEPT SELECT meeting_id, id FROM led) x
          JOIN cases c ON c.id = x.id
         CROSS JOIN LATERAL gf_case_at (x.id, p_slot) h
    ), lines AS (
        INSERT INTO ledger_entries (meeting_id, case_id, tier, state, level, category, priority,
                                    age_days, owner, last_action, last_action_at, reason,
                                    carried_from)
        SELECT a.meeting_id, a.id, a.tier, a.state, a.level, a.category,
               concat_ws (' ', CASE WHEN a.urgent THEN '紧急' END,
                          nullif (array_to_string (a.groups, ','), '')),
               greatest (0, floor (extract (epoch FROM (p_slot - a.received_at)) / 86400))::int,
               a.grid, la.type, la.at,
               CASE WHEN r.id IS NOT NULL THEN 'reported_up'
                    WHEN k.id IS NOT NULL THEN 'carried'
                    WHEN t.id IS NOT NULL THEN 'triage'
                    WHEN a.groups <> '{}' AND gf_case_open (a.state) THEN 'special'
                    ELSE 'ledger' END,
               coalesce (r.id, k.id)
          FROM agenda a
          LEFT JOIN reported r ON r.meeting_id = a.meeting_id AND r.case_id = a.id
          LEFT JOIN carried k ON k.meeting_id = a.meeting_id AND k.case_id = a.id
          LEFT JOIN triage t ON t.meeting_id = a.meeting_id AND t.id = a.id
          LEFT JOIN LATERAL (SELECT e.type, e.at FROM case_events e
                              WHERE e.case_id = a.id AND e.at <= p_slot AND e.type LIKE 'case.%'
                              ORDER BY e.id DESC LIMIT 1) la ON true
         WHERE a.state <> 'merged'
         -- a meeting's lines together in the heap (the lapse and the
         -- ledger read them by meeting), in the primary key's order
         ORDER BY a.meeting_id, a.id
        RETURNING ledger_entries.meeting_id, ledger_entries.tier, ledger_entries.reason
    ), counts AS (
        SELECT l.meeting_id, count (*) AS entries,
               count (*) FILTER (WHERE l.tier = 'resolved') AS resolved,
               count (*) FILTER (WHERE l.tier = 'pending') AS pending,
               count (*) FILTER (WHERE l.tier = 'hard') AS hard,
               count (*) FILTER (WHERE l.reason = 'carried') AS carried,
               count (*) FILTER (WHERE l.reason = 'special') AS special,
               count (*) FILTER (WHERE l.reason = 'triage') AS triage,
               count (*) FILTER (WHERE l.reason = 'reported_up') AS reported_up
          FROM lines l GROUP BY l.meeting_id
    )
    INSERT INTO event_stage (type, topic, grid, at, payload)
    SELECT 'meeting.opened', 'meeting.opened/' || mt.grid, mt.grid, v_now,
           jsonb_build_object ('meeting', mt.id, 'kind', p_kind, 'day', v_day, 'slot_at', p_slot,
                               'period_from', p_from, 'entries', coalesce (n.entries, 0),
                               'resolved', coalesce (n.resolved, 0),
                               'pending', coalesce (n.pending, 0), 'hard', coalesce (n.hard, 0),
                               'carried', coalesce (n.carried, 0),
                               'special', coalesce (n.special, 0),
                               'triage', coalesce (n.triage, 0),
                               'reported_up', coalesce (n.reported_up, 0))
      FROM mt LEFT JOIN counts n ON n.meeting_id = mt.id
     ORDER BY mt.id;
    RETURN QUERY SELECT m.grid, m.id FROM unnest (v_grids, v_ids) AS m (grid, id);
END
$$;

-- The safety net's every tick: weekly and monthly meetings still open
-- close_within_hours (the weekly_l2 / monthly_l1 rule of the L1 grid,
-- default 48) after their slot, in the order they became due (weekly
-- before monthly at one time).  due is when the meeting lapsed.  p_roots:
-- the L1 roots of the escalator instance asking (NULL: every root); root is
-- the meeting's, whose lease fences the lapse.
DROP FUNCTION IF EXISTS gf_due_lapses ();
CREATE OR REPLACE FUNCTION gf_due_lapses (p_roots text[] DEFAULT NULL)
RETURNS TABLE (meeting bigint, grid text, kind text, due timestamptz, root text)
LANGUAGE sql STABLE AS $$
    SELECT x.id, x.grid, x.kind, x.due, x.root
      FROM (SELECT m.id, m.grid, m.kind, split_part (m.grid, '.', 1) AS root,
                   m.slot_at + make_interval (hours => coalesce ((gf_rule (
                       split_part (m.grid, '.', 1),
                       CASE m.kind WHEN 'weekly' THEN 'weekly_l2' ELSE 'monthly_l1' END)
                       ->>'close_within_hours')::int, 48)) AS due
              FROM meetings m
             WHERE m.state = 'open' AND m.kind IN ('weekly', 'monthly')
               AND (p_roots IS NULL OR split_part (m.grid, '.', 1) = ANY (p_roots))) x
     WHERE x.due <= gf_now ()
     ORDER BY x.due, x.kind DESC, x.grid
$$;

-- The safety net closes one meeting nobody closed: state 'lapsed',
-- automatic, and the escalation its rule makes (weekly: gf_weekly_candidates,
-- monthly: gf_monthly_candidates, both for the slot) for the cases on its
-- agenda that have no decision, each escalation automatic.  A case must have
-- been the rule's at the slot (the agenda line: open at L3 past the grace;
-- at L2 or hard for the monthly rule) and still be so now: a case moved up
-- between the slot and the lapse waits for the next meeting.  The weekly
-- rule takes the states at the slot from the agenda lines (built as of the
-- slot when the meeting opened), not from the events again.  Then the
-- meeting.lapsed (digest: how the escalations were told) and
-- ledger.published events and the notices
-- (gf_notify_meetings: the meeting grid's leader, 036): up to the rule's
-- digest_over (default 10) escalations each case is told as every
-- escalation is (its new and previous owners' leaders); past it one digest
-- per leader of the grids the cases came from instead (049).  Under the
-- meeting row's lock: a meeting closed by people (or lapsed already) is
-- left alone and NULL is returned; else the number of escalations.
-- (One meeting: gf_lapse_meetings of one.)
CREATE OR REPLACE FUNCTION gf_lapse_meeting (p_meeting bigint) RETURNS integer
LANGUAGE sql AS $$
    SELECT l.escalated FROM gf_lapse_meetings (ARRAY[p_meeting]) l
$$;

-- Several meetings' lapses in one call, each as gf_lapse_meeting, in the
-- order given (the safety net's meetings of one root due at one time:
-- the escalator's s_lapses, which bounds a call by its agenda lines,
-- escalator/lapse_lines): one row per meeting, its escalations or NULL
-- (left alone).  Run together (gf_lapse_batch) where their lapses cannot
-- touch each other's cases: consecutive weekly meetings of distinct L2
-- grids (disjoint subtrees).  A monthly meeting, or a second weekly meeting
-- of one grid (missed weeks: a case the first one escalates is no longer a
-- candidate of the second), starts a new batch.
DROP FUNCTION IF EXISTS gf_lapse_meetings (bigint[], integer);
CREATE OR REPLACE FUNCTION gf_lapse_meetings (p_meetings bigint[])
RETURNS TABLE (meeting bigint, escalated integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint;
    v_kind text;
    v_grid text;
    v_batch bigint[] := '{}';
    v_grids text[] := '{}';
BEGIN
    FOREACH v_id IN ARRAY coalesce (p_meetings, '{}') LOOP
        SELECT m.kind, m.grid INTO v_kind, v_grid FROM meetings m WHERE m.id = v_id;
        IF v_kind IS DISTINCT FROM 'weekly' OR v_grid = ANY (v_grids) THEN
            RETURN QUERY SELECT * FROM gf_lapse_batch (v_batch);
            v_batch := '{}';
            v_grids := '{}';
        END IF;
        v_batch := v_batch || v_id;
        v_grids := v_grids || v_grid;
        IF v_kind IS DISTINCT FROM 'weekly' THEN
            RETURN QUERY SELECT * FROM gf_lapse_batch (v_batch);
            v_batch := '{}';
            v_grids := '{}';
        END IF;
    END LOOP;
    RETURN QUERY SELECT * FROM gf_lapse_batch (v_batch);
END
$$;

-- The lapses of meetings that touch disjoint cases (gf_lapse_meetings), in
-- one statement each step instead of one per meeting: the meetings locked
-- and lapsed together, each one's candidates, every escalation in one
-- gf_escalate_each, their meeting.lapsed and ledger.published events
-- together, then their notices (gf_notify_meetings).  A county root's 12
-- weekly lapses took about a quarter less CPU this way than one call each
-- (docs/performance.md, 8 Dec 2026).
CREATE OR REPLACE FUNCTION gf_lapse_batch (p_meetings bigint[])
RETURNS TABLE (meeting bigint, escalated integer)
LANGUAGE plpgsql SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
    m meetings%ROWTYPE;
    v_open bigint[];
    v_rule text;
    v_to smallint;
    v_cases bigint[];
    v_reasons text[];
    v_n integer;
    v_digest boolean;
    v_digests bigint[] := '{}';
    b_cases bigint[] := '{}';
    b_meetings bigint[] := '{}';
    b_reasons text[] := '{}';
    b_notify boolean[] := '{}';
    e_meetings bigint[];
    e_moved integer[];
BEGIN
    IF coalesce (cardinality (p_meetings), 0) = 0 THEN
        RETURN;
    END IF;
    -- Under the meetings' row locks: one closed by people (or lapsed
    -- already) is left alone.
    SELECT array_agg (l.id ORDER BY l.id) INTO v_open
      FROM (SELECT x.id FROM meetings x
             WHERE x.id = ANY (p_meetings) AND x.kind IN ('weekly', 'monthly') AND x.state = 'open'
             ORDER BY x.id FOR UPDATE) l;
    UPDATE meetings x SET state = 'lapsed', closed_at = gf_now (), automatic = true,
                          version = x.version + 1
     WHERE x.id = ANY (v_open);
    FOR m IN SELECT * FROM meetings x WHERE x.id = ANY (v_open) ORDER BY x.id LOOP
        v_rule := CASE m.kind WHEN 'weekly' THEN 'weekly_l2' ELSE 'monthly_l1' END;
        v_to := CASE m.kind WHEN 'weekly' THEN 2 ELSE 1 END;
        -- The rule's candidates first, then those on the agenda without a
        -- decision, from the arrays: the planner guesses a few candidates
        -- from the functions, and joined to the agenda in one statement it
        -- compared every agenda line with every candidate (9,009 x 8,371 in
        -- the catch-up bench: 10 s of one lapse); unnest of a known array
        -- is estimated at its length.
        SELECT array_agg (cand.case_id ORDER BY cand.case_id),
               array_agg ('例会逾期未结，自动升级：' || cand.reason ORDER BY cand.case_id)
          INTO v_cases, v_reasons
          FROM (SELECT w.case_id, w.reason
                  FROM gf_weekly_candidates (m.grid, m.slot_at,
                                             ARRAY (SELECT le.case_id FROM ledger_entries le
                                                     WHERE le.meeting_id = m.id AND le.level = 3
                                                       AND gf_case_open (le.state))) w
                 WHERE m.kind = 'weekly'
                UNION ALL
                SELECT mc.case_id, mc.reason FROM gf_monthly_candidates (m.grid, m.slot_at) mc
                 WHERE m.kind = 'monthly') cand;
        SELECT array_agg (x.case_id ORDER BY x.case_id), array_agg (x.reason ORDER BY x.case_id)
          INTO v_cases, v_reasons
          FROM unnest (v_cases, v_reasons) AS x (case_id, reason)
         WHERE x.case_id IN (SELECT le.case_id FROM ledger_entries le
                              WHERE le.meeting_id = m.id
                                AND (m.kind = 'weekly' OR le.level = 2 OR le.tier = 'hard'))
           AND x.case_id NOT IN (SELECT d.case_id FROM meeting_decisions d WHERE d.meeting_id = m.id);
        v_n := coalesce (cardinality (v_cases), 0);
        v_digest := v_n > coalesce ((gf_rule (split_part (m.grid, '.', 1), v_rule)->>'digest_over')::int, 10);
        IF v_digest THEN
            v_digests := v_digests || m.id;
        END IF;
        b_cases := b_cases || v_cases;
        b_reasons := b_reasons || v_reasons;
        b_meetings := b_meetings || array_fill (m.id, ARRAY[v_n]);
        b_notify := b_notify || array_fill (NOT v_digest, ARRAY[v_n]);
    END LOOP;
    -- One rule for the batch (weekly meetings, or one monthly meeting).
    SELECT array_agg (e.meeting), array_agg (e.moved) INTO e_meetings, e_moved
      FROM gf_escalate_each (v_rule, v_to, b_cases, b_meetings, b_reasons, b_notify, true) e;
    INSERT INTO event_stage (type, topic, grid, at, payload)
    SELECT ev.type, ev.type || '/' || x.grid, x.grid, gf_now (), ev.payload
      FROM meetings x
      LEFT JOIN unnest (e_meetings, e_moved) AS n (id, moved) ON n.id = x.id
     CROSS JOIN LATERAL (
           SELECT count (*) AS entries, count (*) FILTER (WHERE le.tier = 'resolved') AS resolved,
                  count (*) FILTER (WHERE le.tier = 'pending') AS pending,
                  count (*) FILTER (WHERE le.tier = 'hard') AS hard
             FROM ledger_entries le WHERE le.meeting_id = x.id) c
     CROSS JOIN LATERAL (VALUES
           (1, 'meeting.lapsed',
            jsonb_build_object ('meeting', x.id, 'kind', x.kind, 'day', x.day, 'slot_at', x.slot_at,
                                'automatic', true,
                                'decided', (SELECT count (*) FROM meeting_decisions d
                                             WHERE d.meeting_id = x.id),
                                'escalated', coalesce (n.moved, 0),
                                'digest', x.id = ANY (v_digests))),
           (2, 'ledger.published',
            jsonb_build_object ('meeting', x.id, 'kind', x.kind, 'entries', c.entries,
                                'resolved', c.resolved, 'pending', c.pending, 'hard', c.hard,
                                'escalated', coalesce (n.moved, 0), 'automatic', true))) ev (ord, type, payload)
     WHERE x.id = ANY (v_open)
     ORDER BY x.id, ev.ord;
    PERFORM gf_notify_meetings (array_agg (x.id ORDER BY x.id),
                                array_agg (coalesce (n.moved, 0) ORDER BY x.id),
                                array_agg (x.id = ANY (v_digests) ORDER BY x.id))
       FROM unnest (v_open) AS x (id)
       LEFT JOIN unnest (e_meetings, e_moved) AS n (id, moved) ON n.id = x.id;
    RETURN QUERY
    SELECT p.id, CASE WHEN p.id = ANY (v_open) THEN coalesce (n.moved, 0) END
      FROM unnest (p_meetings) WITH ORDINALITY AS p (id, i)
      LEFT JOIN unnest (e_meetings, e_moved) AS n (id, moved) ON n.id = p.id
     ORDER BY p.i;
END
$$;

-- A meeting's escalations as its ledger shows them (`gridctl ledger show`,
-- gf_ledger_json): which rule, from and to which level, when, and whether
-- the safety net made it (自动升级) or people did.
CREATE OR REPLACE FUNCTION gf_meeting_escalations (p_meeting bigint)
RETURNS TABLE (case_id bigint, rule text, rule_name text, from_level smallint, to_level smallint,
               at text, automatic boolean, how text, how_en text)
LANGUAGE sql STABLE AS $$
    SELECT e.case_id, e.rule, coalesce (n.name, e.rule), e.from_level, e.to_level,
           to_char (e.at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"'),
           e.automatic, CASE WHEN e.automatic THEN '自动升级' ELSE '会议决定' END,
           CASE WHEN e.automatic THEN 'automatic' ELSE 'decided' END
      FROM escalations e LEFT JOIN escalation_rule_names n ON n.rule = e.rule
     WHERE e.meeting_id = p_meeting
     ORDER BY e.case_id
$$;

-- A meeting's agenda by category and by priority (分类别、分重点: the L1
-- monthly agenda as the article has it): per case why it is on the agenda;
-- for a carried or reported-up case, the decision behind it (decision*:
-- kind, the meeting's grid and day, deadline, note, and what became of it:
-- decision_outcome); and this meeting's own decision on it (this_*: kind,
-- deadline, detail, outcome; meeting_records.sql).  Category by category
-- (by code, unclassified last); within one, urgent cases first, then special
-- groups, then the rest.  The one agenda `gridctl meeting show` and
-- `gridctl ledger agenda` print.
CREATE OR REPLACE FUNCTION gf_meeting_agenda (p_meeting bigint)
RETURNS TABLE (case_id bigint, category text, category_name text, priority text, urgent boolean,
               special boolean, reason text, reason_name text, tier text, state text,
               level smallint, owner text, decision bigint, decision_kind text,
               decision_grid text, decision_day text, decision_deadline text, decision_note text,
               decision_outcome text, this_decision bigint, this_kind text, this_deadline text,
               this_detail text, this_outcome text)
LANGUAGE sql STABLE AS $$
    SELECT le.case_id, le.category, coalesce (cat.name, '未分类'),
           coalesce (nullif (le.priority, ''), '一般'),
           starts_with (le.priority, '紧急'), le.priority <> '' AND le.priority <> '紧急',
           le.reason,
           CASE le.reason WHEN 'ledger' THEN '台账' WHEN 'carried' THEN '上次决定延续'
                          WHEN 'special' THEN '重点人群' WHEN 'triage' THEN '待分流'
                          ELSE '二级网格上报' END,
           le.tier, le.state, le.level, le.owner, d.id, d.kind, dm.grid, dm.day::text,
           to_char (d.deadline AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"'),
           d.note, gf_decision_outcome (d.id),
           t.id, t.kind, to_char (t.deadline AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI'),
           concat_ws (' ', t.department, t.owner, 'consultation:' || t.consultation, t.note),
           gf_decision_outcome (t.id)
      FROM ledger_entries le
      LEFT JOIN categories cat ON cat.code = le.category
      LEFT JOIN meeting_decisions d ON d.id = le.carried_from
      LEFT JOIN meetings dm ON dm.id = d.meeting_id
      LEFT JOIN meeting_decisions t ON t.meeting_id = le.meeting_id AND t.case_id = le.case_id
     WHERE le.meeting_id = p_meeting
     ORDER BY le.category NULLS LAST,
              CASE WHEN starts_with (le.priority, '紧急') THEN 0 WHEN le.priority <> '' THEN 1 ELSE 2 END,
              le.case_id
$$;

-- The same as {"meeting":ID,"kind":K,"state":S,"agenda":[lines in order]};
-- NULL for an unknown meeting (`gridctl ledger agenda --format json`).
CREATE OR REPLACE FUNCTION gf_meeting_agenda_json (p_meeting bigint)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object ('meeting', m.id, 'grid', m.grid, 'kind', m.kind, 'day', m.day,
                              'state', m.state,
                              'agenda', (SELECT coalesce (json_agg (a ORDER BY a.n), '[]')
                                           FROM (SELECT row_number () OVER () AS n, x.*
                                                   FROM gf_meeting_agenda (m.id) x) a))
      FROM meetings m WHERE m.id = p_meeting
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
        INSERT INTO event_stage (type, topic, grid, at, payload)
        SELECT 'meeting.held', 'meeting.held/' || grid, grid, gf_now (),
               jsonb_build_object ('meeting', id, 'kind', 'consultation', 'day', day,
                                   'slot_at', slot_at, 'topic', gf_redact_text (p_topic))
          FROM m
    )
    SELECT (SELECT count (*) FROM g), (SELECT id FROM m)
$$;
