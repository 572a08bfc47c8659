-- escalation.sql — the escalation rules (escalation_rules, per L1 grid with
-- '*' defaults) and what they do: the candidates of the weekly, monthly and
-- urgent rules (shared by the escalator and `gridctl escalation plan`), the
-- set-based escalation effect, sign-for reminders and overdue referrals.
-- Owns: gf_rule, gf_weekly_candidates, gf_monthly_candidates,
-- gf_urgent_candidates, gf_escalate_each, gf_escalate_many, gf_escalate_urgent,
-- gf_sign_reminders, gf_escalation_plan.

-- The rule in force for an L1 grid.
CREATE OR REPLACE FUNCTION gf_rule (p_root text, p_rule text) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT params FROM escalation_rules
     WHERE rule = p_rule AND root IN (p_root, '*') AND enabled
     ORDER BY root = '*' LIMIT 1
$$;

-- As in 005, from the subtree's open cases (the rule needs the live row
-- open and at L3, and the case open and at L3 at the slot).  p_at_slot:
-- the cases known open at L3 at the slot (a meeting's agenda lines say so:
-- gf_lapse_meeting), so that the states at the slot are not rebuilt from
-- the events after it (every lapse of a county's round read them all);
-- NULL: rebuilt (gf_ledger_cases_at).
DROP FUNCTION IF EXISTS gf_weekly_candidates (text, timestamptz);
CREATE OR REPLACE FUNCTION gf_weekly_candidates (p_l2 text, p_slot timestamptz,
                                                 p_at_slot bigint[] DEFAULT NULL)
RETURNS TABLE (case_id bigint, reason text)
LANGUAGE sql STABLE AS $$
    WITH rule AS (
        SELECT (gf_rule (g.parent, 'weekly_l2')->>'grace_working_days')::int AS grace
          FROM grids g WHERE g.code = p_l2
    ), st AS MATERIALIZED (
        SELECT s.id FROM gf_ledger_cases_at (p_l2, NULL, p_slot) s
         WHERE p_at_slot IS NULL AND s.level = 3 AND gf_case_open (s.state)
        UNION ALL
        SELECT a.id FROM unnest (p_at_slot) AS a (id)
    ), c AS MATERIALIZED (
        SELECT x.id, gf_clock_start (x.source, x.reported_at, x.received_at) AS received_at,
               (gf_clock_start (x.source, x.reported_at, x.received_at) AT TIME ZONE 'Asia/Shanghai')
                 AS local_received
          FROM st JOIN cases x ON x.id = st.id
         WHERE x.level = 3 AND gf_case_open (x.state)
           AND starts_with (x.grid, gf_subtree_lo (p_l2))
    ), days AS (
        SELECT d.* FROM rule, gf_due_days ((SELECT min (local_received)::date FROM c),
                                           (p_slot AT TIME ZONE 'Asia/Shanghai')::date, rule.grace) d
    )
    SELECT c.id, format ('L3 未解决超过 %s 个工作日', rule.grace)
      FROM c JOIN days ON days.day = c.local_received::date, rule
     WHERE (days.due_day + c.local_received::time) AT TIME ZONE 'Asia/Shanghai' <= p_slot
$$;

-- Monthly: unresolved L2 cases that were on at least one weekly ledger, and
-- every open case marked hard.
CREATE OR REPLACE FUNCTION gf_monthly_candidates (p_root text, p_slot timestamptz)
RETURNS TABLE (case_id bigint, reason text)
LANGUAGE sql STABLE AS $$
    SELECT c.id, CASE WHEN c.tier = 'hard' THEN '难解决' ELSE 'L2 周例会台账上未解决' END
      FROM cases c
     WHERE c.root = p_root AND c.level > 1 AND c.received_at <= p_slot
       AND gf_case_open (c.state)
       AND (c.tier = 'hard'
            OR (c.level = 2 AND EXISTS (SELECT 1 FROM ledger_entries le JOIN meetings m ON m.id = le.meeting_id
                                         WHERE le.case_id = c.id AND m.kind = 'weekly'
                                           AND m.slot_at <= p_slot)))
$$;

-- Urgent SLAs (005): urgent cases only.  Special groups are attention, not
-- urgency (issue 14): their cases escalate by these SLAs only where the
-- L1 grid's urgent rule says special_groups: true (default false).  The
-- rule is read once per L1 grid that has such cases open, not twice per
-- case (gf_rule () is a query).  p_roots: only the cases of these L1 roots
-- (an escalator instance's share; NULL: every root).
DROP FUNCTION IF EXISTS gf_urgent_candidates (timestamptz);
CREATE OR REPLACE FUNCTION gf_urgent_candidates (p_at timestamptz, p_roots text[] DEFAULT NULL)
RETURNS TABLE (case_id bigint, to_level smallint, reason text)
LANGUAGE sql STABLE AS $$
    WITH open AS MATERIALIZED (
        SELECT c.id, c.root, c.level, c.urgent,
               gf_clock_start (c.source, c.reported_at, c.received_at) AS received_at FROM cases c
         WHERE (c.urgent OR c.groups <> '{}')
           AND gf_case_open (c.state) AND (p_roots IS NULL OR c.root = ANY (p_roots))
    ), rules AS MATERIALIZED (
        SELECT r.root, gf_rule (r.root, 'urgent') AS params FROM (SELECT DISTINCT root FROM open) r
    )
    SELECT o.id, x.lvl,
           format (CASE WHEN o.urgent THEN '紧急诉求 %s 小时未办结' ELSE '重点人群诉求 %s 小时未办结' END,
                   x.hours)
      FROM open o
      JOIN rules r ON r.root = o.root AND r.params IS NOT NULL
     CROSS JOIN LATERAL (VALUES (2::smallint, (r.params->>'to_l2_hours')::int),
                                (1::smallint, (r.params->>'to_l1_hours')::int)) x (lvl, hours)
     WHERE o.level > x.lvl
       AND (o.urgent OR coalesce ((r.params->>'special_groups')::boolean, false))
       AND o.received_at + make_interval (hours => x.hours) <= p_at
$$;

-- Moves many cases up at once (the effects of gf_escalate in 004, set-based):
-- escalation records under the once-only index, the cases, their
-- case.escalated events, and the notices notification_rules give for
-- case.escalated (the new owner's leader, a copy to the previous one).
-- Each case (given once) with its own meeting (NULL: none, an urgent SLA),
-- reason and p_notify: false, no notice for it (a lapse told as a digest,
-- gf_notify_meetings).  p_automatic: made by the rules (the safety net, the
-- urgent SLAs), not by a decision; on the escalation row and in the event's
-- payload.  Returns how many moved, per meeting (one statement for the
-- lapses of several meetings: gf_lapse_batch).
CREATE OR REPLACE FUNCTION gf_escalate_each (p_rule text, p_to smallint, p_cases bigint[],
                                             p_meetings bigint[], p_reasons text[],
                                             p_notify boolean[], p_automatic boolean)
RETURNS TABLE (meeting bigint, moved integer)
LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
    notices jsonb;
    -- the meetings, each once: the ledger lines are found by them (an index
    -- scan of each meeting's lines; joined to the escalated cases alone, the
    -- planner hashed every line of every meeting: 20 of a lapse's 90 ms)
    v_ids bigint[] := ARRAY (SELECT DISTINCT x FROM unnest (p_meetings) x WHERE x IS NOT NULL);
    v_meetings bigint[];
    v_moved integer[];
    v_now timestamptz := gf_now ();  -- read once, not three times per case
BEGIN
    -- Nothing to move (every idle tick's urgent check, twice): no statement
    -- planned for it (force_custom_plan plans this one and, through
    -- gf_notify_many, the notices' at every call: 7 ms a tick for nothing)
    IF coalesce (cardinality (p_cases), 0) = 0 THEN
        RETURN;
    END IF;
    WITH want AS (
        SELECT w.case_id, w.meeting_id, w.reason, w.notify
          FROM unnest (p_cases, p_meetings, p_reasons, p_notify) AS w (case_id, meeting_id, reason, notify)
    ), locked AS (
        SELECT c.id, c.grid, c.level, c.version, want.meeting_id FROM cases c JOIN want ON want.case_id = c.id
         WHERE c.level > p_to ORDER BY c.id FOR UPDATE OF c
    ), ins AS (
        INSERT INTO escalations (case_id, rule, meeting_id, from_level, to_level, at, automatic)
        SELECT id, p_rule, meeting_id, level, p_to, v_now, p_automatic FROM locked ORDER BY id
        ON CONFLICT DO NOTHING RETURNING case_id, from_level
    ), upd AS (
        UPDATE cases c SET level = p_to, version = c.version + 1, updated_at = v_now
          FROM ins WHERE c.id = ins.case_id
        RETURNING c.id, c.grid, c.version, ins.from_level,
                  gf_owner_grid (c.grid, p_to) AS new_owner,
                  gf_owner_grid (c.grid, ins.from_level) AS old_owner
    ), done AS (
        SELECT u.*, want.meeting_id, want.reason, want.notify FROM upd u JOIN want ON want.case_id = u.id
    ), ev AS (
        INSERT INTO event_stage (type, topic, case_id, grid, at, payload)
        SELECT 'case.escalated', 'case.escalated/' || d.grid, d.id, d.grid, v_now,
               jsonb_build_object ('rule', p_rule, 'meeting', d.meeting_id, 'from_level', d.from_level,
                                   'to_level', p_to, 'reason', d.reason, 'version', d.version,
                                   'owner', d.new_owner, 'automatic', p_automatic)
          FROM done d ORDER BY d.id
    ), mark AS (
        UPDATE ledger_entries le SET escalated = true
          FROM done d
         WHERE le.meeting_id = ANY (v_ids) AND le.meeting_id = d.meeting_id AND le.case_id = d.id
    )
    SELECT per.meetings, per.moved, told.notices INTO v_meetings, v_moved, notices
      FROM (SELECT array_agg (g.meeting_id) AS meetings, array_agg (g.n::integer) AS moved
              FROM (SELECT d.meeting_id, count (*) AS n FROM done d GROUP BY 1) g) per,
           (SELECT jsonb_agg (jsonb_build_object ('case_id', d.id, 'type', 'case.escalated', 'grid', d.grid,
                                                  'owner', d.new_owner, 'previous', d.old_owner,
                                                  'key', p_to::text,
                                                  'extra', CASE p_to WHEN 2 THEN '二级网格' ELSE '一级网格' END)
                              ORDER BY d.id) FILTER (WHERE d.notify) AS notices
              FROM done d) told;
    IF notices IS NOT NULL THEN
        PERFORM gf_notify_many ('escalator', notices);
    END IF;
    RETURN QUERY SELECT x.meeting, x.moved FROM unnest (v_meetings, v_moved) AS x (meeting, moved);
END
$$;

-- gf_escalate_each for cases of one meeting (or none), all told or none:
-- returns how many moved.
DROP FUNCTION IF EXISTS gf_escalate_many (text, bigint, smallint, bigint[], text[], boolean);
CREATE OR REPLACE FUNCTION gf_escalate_many (p_rule text, p_meeting bigint, p_to smallint,
                                  p_cases bigint[], p_reasons text[],
                                  p_automatic boolean DEFAULT false,
                                  p_notify boolean DEFAULT true) RETURNS integer
LANGUAGE sql AS $$
    SELECT coalesce (sum (e.moved), 0)::integer
      FROM gf_escalate_each (p_rule, p_to, p_cases,
                             array_fill (p_meeting, ARRAY[coalesce (cardinality (p_cases), 0)]),
                             p_reasons,
                             array_fill (p_notify, ARRAY[coalesce (cardinality (p_cases), 0)]),
                             p_automatic) e
$$;

-- Urgent cases (and special-group ones where the rule says so) that ran
-- out of time, all at once: first to L2, then (same tick, if already due)
-- to L1.  Automatic: the rules moved them, not a decision.  p_roots: only
-- the cases of these L1 roots (NULL: every root).  Both lists come from one
-- read (one snapshot): read twice, a case made urgent by a staff action
-- committed between the reads was missing from the first and went from L3
-- straight to L1 in the second (the year test's oracle caught it, case
-- Y202603031600-005); now it waits for the next tick and moves L3 -> L2 -> L1.
DROP FUNCTION IF EXISTS gf_escalate_urgent (timestamptz);
CREATE OR REPLACE FUNCTION gf_escalate_urgent (p_at timestamptz, p_roots text[] DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    l2_cases bigint[];
    l2_reasons text[];
    l1_cases bigint[];
    l1_reasons text[];
    to_l2 integer;
    to_l1 integer;
BEGIN
    SELECT array_agg (u.case_id ORDER BY u.case_id) FILTER (WHERE u.to_level = 2),
           array_agg (u.reason ORDER BY u.case_id) FILTER (WHERE u.to_level = 2),
           array_agg (u.case_id ORDER BY u.case_id) FILTER (WHERE u.to_level = 1),
           array_agg (u.reason ORDER BY u.case_id) FILTER (WHERE u.to_level = 1)
      INTO l2_cases, l2_reasons, l1_cases, l1_reasons
      FROM gf_urgent_candidates (p_at, p_roots) u;
    to_l2 := gf_escalate_many ('urgent_l2', NULL, 2::smallint, l2_cases, l2_reasons, true);
    to_l1 := gf_escalate_many ('urgent_l1', NULL, 1::smallint, l1_cases, l1_reasons, true);
    RETURN coalesce (to_l2, 0) + coalesce (to_l1, 0);
END
$$;

-- ---------------------------------------------------------------------------
-- The escalator's every-tick statements.  A tick (at most a second apart,
-- and every step of the simulated clock waits for one) used to call
-- gf_notify () for every routed case past its reminder time and every
-- overdue referral, every time (1.1 s per tick with 900 routed cases).
-- Now each makes one gf_notify_many () call: who is told is
-- notification_rules' (sign.reminder, referral.overdue), those already told
-- are left out before any insert, and the unique index decides.
--
-- Sign-for reminders: once a case waiting to be signed for is overdue
-- (gf_overdue_at: the one rule) its grid's leader (audience grid_leader),
-- once it has waited l2_factor times the rule's hours the L2 leader too
-- (audience l2_leader; no l2_factor, no L2 copy).  The rule is read once per
-- L1 grid and urgency, not per case.  A special group's case gets its
-- leader's reminder earlier, after the rule's special_hours (issue 14: its
-- own, shorter sign-for deadline; attention, not escalation).  p_roots:
-- only the cases of these L1 roots (NULL: every root).
--
-- A reminder is an occasion of its case: once a case has a notice of the
-- rule's kind (sign.reminder, sign.reminder.l2) to anyone, that occasion is
-- not offered again, and the tick probes the notices' key once per waiting
-- case and kind instead of planning every overdue case's recipients anew
-- for gf_notify_many to find them all told (a year's 3,470 unsigned cases:
-- 150 ms a tick, every tick).  Whoever leads the grid when the case became
-- overdue is told; a leader appointed later finds the case on the workbench
-- and the dashboard (overdue), not in a reminder.  A grid without a leader
-- at that moment has no notice, so its cases are offered again each tick
-- until someone can be told.
DROP FUNCTION IF EXISTS gf_sign_reminders (timestamptz);
CREATE OR REPLACE FUNCTION gf_sign_reminders (p_at timestamptz, p_roots text[] DEFAULT NULL)
RETURNS integer
LANGUAGE sql AS $$
    WITH kinds AS MATERIALIZED (
        -- the kinds of the escalator's enabled sign-for rules (NULL: none)
        SELECT max (nr.kind) FILTER (WHERE nr.audience = 'grid_leader') AS leader,
               max (nr.kind) FILTER (WHERE nr.audience = 'l2_leader') AS l2
          FROM notification_rules nr
         WHERE nr.event_type = 'sign.reminder' AND nr.enabled AND nr.raised_by = 'escalator'
    ), waiting AS MATERIALIZED (
        -- (the state list only lets the cases_state index find the cases
        -- gf_overdue_at_rule gives a time for; it decides).  Nothing when
        -- no rule of the escalator's raises sign-for reminders, and no case
        -- whose every occasion has its notice already.
        -- (the notices probed per case, LATERAL: as NOT EXISTS the planner
        -- hashed the whole notifications table, twice per kind)
        SELECT c.id, c.grid, c.root, c.urgent, c.groups, c.state, c.routed_at, c.received_at,
               c.updated_at, gf_clock_start (c.source, c.reported_at, c.routed_at) AS started,
               t.leader_due, t.l2_due
          FROM cases c CROSS JOIN kinds k
         CROSS JOIN LATERAL (
               SELECT k.leader IS NOT NULL AND count (*) FILTER (WHERE n.kind = k.leader) = 0
                        AS leader_due,
                      k.l2 IS NOT NULL AND count (*) FILTER (WHERE n.kind = k.l2) = 0 AS l2_due
                 FROM notifications n
                WHERE n.case_id = c.id AND n.kind IN (k.leader, k.l2)) t
         WHERE c.state IN ('routed', 'reopened')
           AND (p_roots IS NULL OR c.root = ANY (p_roots))
           AND (k.leader IS NOT NULL OR k.l2 IS NOT NULL)
           AND (t.leader_due OR t.l2_due)
    ), rule AS MATERIALIZED (
        -- the rule once per L1 grid (gf_rule is a query: once per case it
        -- cost 310 of 800 ms a tick with a county's 31,000 waiting cases)
        SELECT r.root, gf_rule (r.root, 'sign_reminder') AS p
          FROM (SELECT DISTINCT root FROM waiting) r
    ), overdue AS MATERIALIZED (
        SELECT w.id, w.grid, w.root, w.urgent, w.leader_due, w.l2_due, o.at
          FROM waiting w JOIN rule r ON r.root = w.root
         CROSS JOIN LATERAL (SELECT gf_overdue_at_rule (w.state, w.urgent, w.started,
                                                        w.received_at, w.updated_at, r.p) AS at) o
         WHERE o.at <= p_at
    ), rules AS MATERIALIZED (
        -- the rule's hours for a case as gf_overdue_at counts them (its time
        -- for a case that started waiting at the epoch)
        SELECT x.root, x.urgent, (r.p->>'l2_factor')::int AS factor,
               gf_overdue_at_rule ('routed', x.urgent, 'epoch', NULL, NULL, r.p)
                 - timestamptz 'epoch' AS hours
          FROM (SELECT DISTINCT root, urgent FROM overdue) x JOIN rule r ON r.root = x.root
    ), special AS MATERIALIZED (
        -- special-group cases: their own, shorter sign-for reminder (the
        -- rule's special_hours; 24 without it), once, to the grid's leader
        SELECT w.id, w.grid
          FROM waiting w JOIN rule r ON r.root = w.root
         CROSS JOIN LATERAL (SELECT gf_overdue_at_rule (w.state, false, w.routed_at, w.received_at,
                                                        w.updated_at, jsonb_build_object ('hours',
                                                        r.p->'special_hours'))
                                    AS at) o
         WHERE w.groups <> '{}' AND w.leader_due AND o.at <= p_at
    )
    -- (the occasions as rows, made JSON once each: a UNION of JSON values
    -- hashed every one of them)
    SELECT coalesce (gf_notify_many ('escalator',
                                     jsonb_agg (jsonb_build_object ('case_id', x.id,
                                                                    'type', 'sign.reminder',
                                                                    'grid', x.grid,
                                                                    'audience', x.audience))), 0)
      FROM (SELECT o.id, o.grid, 'grid_leader' AS audience FROM overdue o WHERE o.leader_due
            UNION
            SELECT s.id, s.grid, 'grid_leader' FROM special s
            UNION
            SELECT o.id, o.grid, 'l2_leader'
              FROM overdue o JOIN rules r ON r.root = o.root AND r.urgent = o.urgent
             WHERE o.l2_due AND o.at + (r.factor - 1) * r.hours <= p_at) x
$$;

-- Overdue referrals: gf_referrals_overdue, in referrals.sql (issue 14, 代访).

-- `gridctl escalation plan`: what would escalate at p_at in the subtree
-- p_grid (NULL: everywhere), and why: the safety net's candidates of each
-- weekly and monthly meeting that would have lapsed by p_at (open ones:
-- their agenda cases without a decision; ones not opened yet since the
-- escalator's state: their candidates), then the urgent cases their rule has
-- not escalated yet.  Nothing escalates at a slot itself.  Reads only.
CREATE OR REPLACE FUNCTION gf_escalation_plan (p_at timestamptz, p_grid text)
RETURNS TABLE (rule text, meeting_grid text, slot text, case_id bigint, reason text,
               case_grid text, level smallint)
LANGUAGE sql STABLE AS $$
    WITH es AS (
        SELECT coalesce ((SELECT min (since) FROM escalation_state), gf_now ()) AS since
    ), due AS (
        SELECT w.grid, 'weekly' AS kind, w.slot, w.day FROM es, gf_weekly_slots (es.since, p_at) w
        UNION ALL
        SELECT m.grid, 'monthly', m.slot, m.day FROM es, gf_monthly_slots (es.since, p_at) m
    ), unopened AS (
        SELECT due.*, NULL::bigint AS meeting FROM due
         WHERE NOT EXISTS (SELECT 1 FROM meetings m
                            WHERE m.grid = due.grid AND m.kind = due.kind AND m.day = due.day)
        UNION ALL
        SELECT m.grid, m.kind, m.slot_at, m.day, m.id FROM meetings m
         WHERE m.state = 'open' AND m.kind IN ('weekly', 'monthly')
    ), lapsing AS (
        SELECT u.* FROM unopened u
         WHERE u.slot + make_interval (hours => coalesce ((gf_rule (
                   split_part (u.grid, '.', 1),
                   CASE u.kind WHEN 'weekly' THEN 'weekly_l2' ELSE 'monthly_l1' END)
                   ->>'close_within_hours')::int, 48)) <= p_at
    )
    SELECT o.kind, o.grid, to_char (o.slot AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI'),
           c.case_id, c.reason, x.grid, x.level
      FROM lapsing o
     CROSS JOIN LATERAL (SELECT * FROM gf_weekly_candidates (o.grid, o.slot) WHERE o.kind = 'weekly'
                         UNION ALL
                         SELECT * FROM gf_monthly_candidates (o.grid, o.slot) WHERE o.kind = 'monthly') c
      JOIN cases x ON x.id = c.case_id
     WHERE (p_grid IS NULL OR gf_in_subtree (x.grid, p_grid))
       AND (o.meeting IS NULL
            OR (EXISTS (SELECT 1 FROM ledger_entries le
                         WHERE le.meeting_id = o.meeting AND le.case_id = c.case_id)
                AND NOT EXISTS (SELECT 1 FROM meeting_decisions d
                                 WHERE d.meeting_id = o.meeting AND d.case_id = c.case_id)))
    UNION ALL
    SELECT 'urgent', NULL, NULL, u.case_id, u.reason, x.grid, x.level
      FROM gf_urgent_candidates (p_at) u JOIN cases x ON x.id = u.case_id
     WHERE (p_grid IS NULL OR gf_in_subtree (x.grid, p_grid))
       AND NOT EXISTS (SELECT 1 FROM escalations e
                        WHERE e.case_id = u.case_id
                          AND e.rule = CASE u.to_level WHEN 2 THEN 'urgent_l2' ELSE 'urgent_l1' END)
     ORDER BY 3 NULLS LAST, 2, 4
$$;
