-- 013_escalation_scale: the weekly round at 1,000,000 open cases.  Each L2
-- meeting read the whole case table (gf_cases_at over every case of the
-- subtree, closed ones included, joined to a full scan of cases and a hash
-- of every case with a later event; starts_with () on a parameter is not
-- indexable in a generic plan), so the round cost 12 x the table, with hash
-- joins spilling to disk.  Now a meeting starts from its own subtree's open
-- cases (a partial index), plus the few cases that changed after the slot
-- or were touched in the period (the event log by time), so its cost
-- follows the cases of its L2 grid.  Same results: the ledger is still
-- "every case of the subtree received by the slot, not merged, open at the
-- slot or touched in the period, as it was at the slot", and the candidate
-- rules are unchanged (tests/e2e/test_escalation_year.sh checks both
-- against the oracle).

-- The open cases of a subtree.  text_pattern_ops: a grid prefix is a range
-- (see gf_subtree_lo/hi).
CREATE INDEX cases_open_grid ON cases (grid text_pattern_ops)
    WHERE state NOT IN ('resolved', 'called_back', 'closed', 'merged');

-- Urgent and special-group cases still open: the urgent SLA check runs every
-- tick and scanned the whole table.
CREATE INDEX cases_urgent_open ON cases (id)
    WHERE (urgent OR groups <> '{}') AND state NOT IN ('resolved', 'called_back', 'closed', 'merged');

-- The event log by time with its case: the cases touched in a period or
-- changed after a slot come from the index alone.  Replaces case_events_at
-- (same leading column), so case_events keeps its number of indexes.
DROP INDEX case_events_at;
CREATE INDEX case_events_at ON case_events (at, case_id);

-- A subtree as a range of grid codes: the codes that start with 'X.' are
-- exactly those from 'X.' (inclusive) to 'X/' (exclusive) byte-wise, since
-- '/' follows '.'.  Written with ~>=~ / ~<~ the range matches the
-- text_pattern_ops indexes whether the plan is custom or generic.
CREATE FUNCTION gf_subtree_lo (p_grid text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT p_grid || '.' $$;
CREATE FUNCTION gf_subtree_hi (p_grid text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT p_grid || '/' $$;

-- The subtree's cases that can be on a ledger of a meeting at t whose
-- period starts at p_from (NULL: open cases only), as they were at t: the
-- live row when nothing happened to the case after t, else rebuilt from its
-- events (as gf_cases_at, 006).  A case closed now without a later event was
-- closed at t too, so it matters only if touched in [p_from, t): only open
-- cases, cases with later events and touched cases are read.
--   open_now: the live row is open (what the weekly rule also requires).
--   touched:  an event of the case in [p_from, t).
CREATE FUNCTION gf_ledger_cases_at (p_grid text, p_from timestamptz, t timestamptz)
RETURNS TABLE (id bigint, state text, tier text, level smallint, open_now boolean, touched boolean)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
    lo text := gf_subtree_lo (p_grid);
    hi text := gf_subtree_hi (p_grid);
    v_later bigint[];
    v_touched bigint[];
BEGIN
    -- Both from case_events_at alone (index-only); usually few or none
    -- after the slot, the period's events otherwise.
    v_later := ARRAY (SELECT DISTINCT e.case_id FROM case_events e
                     WHERE e.at > t AND e.case_id IS NOT NULL);
    IF p_from IS NOT NULL THEN
        v_touched := ARRAY (SELECT DISTINCT e.case_id FROM case_events e
                           WHERE e.at >= p_from AND e.at < t AND e.case_id IS NOT NULL);
    END IF;
    RETURN QUERY
    WITH later_ids AS MATERIALIZED (SELECT DISTINCT x AS id FROM unnest (v_later) x),
         touched_ids AS MATERIALIZED (SELECT DISTINCT x AS id FROM unnest (v_touched) x),
         sub AS MATERIALIZED (
        -- open now: the partial index on the subtree
        SELECT c.id, c.state, c.tier, c.level, true AS open_now FROM cases c
         WHERE c.grid ~>=~ lo AND c.grid ~<~ hi AND starts_with (c.grid, lo)
           AND c.state NOT IN ('resolved', 'called_back', 'closed', 'merged')
           AND c.received_at <= t
        UNION ALL
        -- closed now: only those changed after t or touched in the period
        SELECT c.id, c.state, c.tier, c.level, false FROM cases c
         WHERE c.id IN (SELECT l.id FROM later_ids l UNION SELECT w.id FROM touched_ids w)
           AND c.grid ~>=~ lo AND c.grid ~<~ hi AND starts_with (c.grid, lo)
           AND c.state IN ('resolved', 'called_back', 'closed', 'merged')
           AND c.received_at <= t
    )
    SELECT sub.id, sub.state,
           CASE WHEN sub.state IN ('resolved', 'called_back', 'closed') THEN 'resolved'
                ELSE sub.tier END,
           sub.level, sub.open_now,
           EXISTS (SELECT 1 FROM touched_ids w WHERE w.id = sub.id)
      FROM sub
     WHERE NOT EXISTS (SELECT 1 FROM later_ids l WHERE l.id = sub.id)
    UNION ALL
    SELECT sub.id, h.state, h.tier, h.level, sub.open_now,
           EXISTS (SELECT 1 FROM touched_ids w WHERE w.id = sub.id)
      FROM sub JOIN later_ids l ON l.id = sub.id
     CROSS JOIN LATERAL gf_case_at (sub.id, t) h;
END
$$;

-- As in 005, from the subtree's open cases (the rule needs the live row
-- open and at L3, and the case open and at L3 at the slot).
CREATE OR REPLACE FUNCTION gf_weekly_candidates (p_l2 text, p_slot timestamptz)
RETURNS TABLE (case_id bigint, reason text)
LANGUAGE sql STABLE AS $$
    WITH rule AS (
        SELECT (gf_rule (g.parent, 'weekly_l2')->>'grace_working_days')::int AS grace
          FROM grids g WHERE g.code = p_l2
    ), st AS MATERIALIZED (
        SELECT s.id FROM gf_ledger_cases_at (p_l2, NULL, p_slot) s
         WHERE s.level = 3 AND s.state NOT IN ('resolved', 'called_back', 'closed', 'merged')
    ), c AS MATERIALIZED (
        SELECT x.id, x.received_at, (x.received_at AT TIME ZONE 'Asia/Shanghai') AS local_received
          FROM st JOIN cases x ON x.id = st.id
         WHERE x.level = 3 AND x.state NOT IN ('resolved', 'called_back', 'closed', 'merged')
    ), days AS (
        SELECT d.* FROM rule, gf_due_days ((SELECT min (local_received)::date FROM c),
                                           (p_slot AT TIME ZONE 'Asia/Shanghai')::date, rule.grace) d
    )
    SELECT c.id, format ('L3 未解决超过 %s 个工作日', rule.grace)
      FROM c JOIN days ON days.day = c.local_received::date, rule
     WHERE (days.due_day + c.local_received::time) AT TIME ZONE 'Asia/Shanghai' <= p_slot
$$;

-- As in 006, with the ledger read by gf_ledger_cases_at.  work_mem: the
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
       AND (st.state NOT IN ('resolved', 'called_back', 'closed') OR st.touched);
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

-- ---------------------------------------------------------------------------
-- The escalator's every-tick statements.  A tick (at most a second apart,
-- and every step of the simulated clock waits for one) called gf_notify ()
-- for every routed case past its reminder time and every overdue referral,
-- every time: an INSERT ... ON CONFLICT DO NOTHING, the deliveries trigger
-- and a NOTIFY each, to find out that the reminder had been sent at an
-- earlier tick (1.1 s per tick with 900 routed cases).  Same results now:
-- only reminders not sent yet are tried (the unique index still decides),
-- and the rule is read once per L1 grid instead of four times per case.

CREATE OR REPLACE FUNCTION gf_sign_reminders (p_at timestamptz) RETURNS integer
LANGUAGE sql AS $$
    WITH rules AS (
        SELECT g.code AS root, gf_rule (g.code, 'sign_reminder') AS params FROM grids g
    ), r AS (
        SELECT c.id, c.grid,
               make_interval (hours => CASE WHEN c.urgent THEN (rules.params->>'urgent_hours')::int
                                            ELSE (rules.params->>'hours')::int END) AS limit_,
               (rules.params->>'l2_factor')::int AS factor, c.routed_at
          FROM cases c JOIN rules ON rules.root = c.root
         WHERE c.state = 'routed' AND rules.params IS NOT NULL
    ), due AS (
        -- the leaders as gf_leader () finds them (at most one per grid:
        -- people_one_leader), joined instead of a query per case
        SELECT r.id, r.routed_at + r.limit_ * r.factor <= p_at AS l2_due,
               l3.id AS l3_leader, l2.id AS l2_leader
          FROM r
          LEFT JOIN people l3 ON l3.grid = r.grid AND l3.role = 'leader'
          LEFT JOIN people l2 ON l2.grid = gf_owner_grid (r.grid, 2) AND l2.role = 'leader'
         WHERE r.routed_at + r.limit_ <= p_at
    )
    SELECT coalesce (sum (CASE WHEN NOT EXISTS (SELECT 1 FROM notifications n
                                                 WHERE n.case_id = due.id AND n.kind = 'sign.reminder'
                                                   AND n.recipient = due.l3_leader)
                          THEN gf_notify (due.id, 'sign.reminder', 'sign.reminder', due.l3_leader, NULL)
                          ELSE 0 END), 0)::int
         + coalesce (sum (CASE WHEN due.l2_due
                                AND NOT EXISTS (SELECT 1 FROM notifications n
                                                 WHERE n.case_id = due.id AND n.kind = 'sign.reminder.l2'
                                                   AND n.recipient = due.l2_leader)
                          THEN gf_notify (due.id, 'sign.reminder.l2', 'sign.reminder', due.l2_leader, NULL)
                          ELSE 0 END), 0)::int
      FROM due
$$;

CREATE OR REPLACE FUNCTION gf_referrals_overdue () RETURNS integer LANGUAGE sql AS $$
    WITH due AS (
        SELECT c.id, c.grid, c.department, a.id AS action
          FROM cases c
          JOIN LATERAL (SELECT id, at FROM case_actions
                         WHERE case_id = c.id AND action = 'refer' ORDER BY id DESC LIMIT 1) a ON true
         WHERE c.state = 'referred'
           AND a.at + make_interval (hours => (gf_rule (c.root, 'referral_reply')->>'hours')::int) <= gf_now ()
    )
    SELECT coalesce (sum (gf_notify (id, 'referral.overdue.' || action, 'referral.overdue',
                                     gf_leader (grid), coalesce (department, '相关部门'))), 0)::int
      FROM due
     WHERE NOT EXISTS (SELECT 1 FROM notifications n
                        WHERE n.case_id = due.id AND n.kind = 'referral.overdue.' || due.action
                          AND n.recipient = gf_leader (due.grid))
$$;

-- Urgent SLAs (005): the rule read once per L1 grid that has urgent or
-- special-group cases open, not twice per case (gf_rule () is a query).
CREATE OR REPLACE FUNCTION gf_urgent_candidates (p_at timestamptz)
RETURNS TABLE (case_id bigint, to_level smallint, reason text)
LANGUAGE sql STABLE AS $$
    WITH open AS MATERIALIZED (
        SELECT c.id, c.root, c.level, c.received_at FROM cases c
         WHERE (c.urgent OR c.groups <> '{}')
           AND c.state NOT IN ('resolved', 'called_back', 'closed', 'merged')
    ), rules AS MATERIALIZED (
        SELECT r.root, gf_rule (r.root, 'urgent') AS params FROM (SELECT DISTINCT root FROM open) r
    )
    SELECT o.id, x.lvl, format ('紧急/重点人群诉求 %s 小时未办结', x.hours)
      FROM open o
      JOIN rules r ON r.root = o.root AND r.params IS NOT NULL
     CROSS JOIN LATERAL (VALUES (2::smallint, (r.params->>'to_l2_hours')::int),
                                (1::smallint, (r.params->>'to_l1_hours')::int)) x (lvl, hours)
     WHERE o.level > x.lvl
       AND o.received_at + make_interval (hours => x.hours) <= p_at
$$;

-- The slot functions (004) are called by every tick.  Inlined into the
-- caller, each slot (gf_next_workday_at (), a calendar walk) was computed
-- three or four times per row and the rule four times per grid: the slots
-- and the rules are now computed once (MATERIALIZED), same rows.
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

-- ---------------------------------------------------------------------------
-- The deliveries fan-out (008) of a big escalation statement: one
-- notification per escalated case and leader, and gf_quiet_release () (a
-- plpgsql function with a query) ran once per delivery row, 1.8 s of 12 s
-- for 5,000 escalated cases (auto_explain).  Its inputs are the same for
-- nearly every row of a statement (one created_at, urgent or not, staff or
-- resident): it now runs once per distinct input.  Same rows.
CREATE OR REPLACE FUNCTION gf_deliveries_fanout () RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH n AS MATERIALIZED (
        SELECT n.id, n.recipient, n.created_at, n.audience, c.urgent, c.phone
          FROM new_rows n JOIN cases c ON c.id = n.case_id
    ), release AS MATERIALIZED (
        SELECT r.created_at, r.urgent, r.audience,
               gf_quiet_release (r.created_at, r.urgent, r.audience) AS not_before
          FROM (SELECT DISTINCT n.created_at, n.urgent, n.audience FROM n) r
    )
    INSERT INTO deliveries (notification, channel, address, dedupe_key, urgent, not_before, created_at)
    SELECT n.id, ch.channel, ch.address, 'n' || n.id || '.' || ch.channel, n.urgent,
           release.not_before, n.created_at
      FROM n
      JOIN release ON release.created_at = n.created_at AND release.urgent = n.urgent
                  AND release.audience = n.audience
      LEFT JOIN people p ON p.id = n.recipient
      CROSS JOIN LATERAL (
          SELECT x.channel, CASE x.channel WHEN 'app' THEN p.id WHEN 'sms' THEN p.phone
                                            ELSE p.email END AS address
            FROM unnest (p.channels) AS x (channel)
          UNION ALL
          SELECT 'sms', n.phone WHERE n.recipient IS NULL
      ) ch
     WHERE ch.address IS NOT NULL
     ORDER BY n.id, ch.channel;
    PERFORM pg_notify ('gf_deliveries', '');
    RETURN NULL;
END
$$;
