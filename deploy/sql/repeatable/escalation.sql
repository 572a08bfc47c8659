-- escalation.sql — the escalation rules (escalation_rules, per L1 grid with
-- '*' defaults) and what they do: the candidates of the weekly, monthly and
-- urgent rules (shared by the escalator and `gridctl escalation plan`), the
-- set-based escalation effect, sign-for reminders and overdue referrals.
-- Owns: gf_rule, gf_weekly_candidates, gf_monthly_candidates,
-- gf_urgent_candidates, gf_escalate_many, gf_escalate_urgent,
-- gf_sign_reminders, gf_referrals_overdue, gf_escalation_plan.

-- The rule in force for an L1 grid.
CREATE OR REPLACE FUNCTION gf_rule (p_root text, p_rule text) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT params FROM escalation_rules
     WHERE rule = p_rule AND root IN (p_root, '*') AND enabled
     ORDER BY root = '*' LIMIT 1
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
         WHERE s.level = 3 AND gf_case_open (s.state)
    ), c AS MATERIALIZED (
        SELECT x.id, x.received_at, (x.received_at AT TIME ZONE 'Asia/Shanghai') AS local_received
          FROM st JOIN cases x ON x.id = st.id
         WHERE x.level = 3 AND gf_case_open (x.state)
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

-- Urgent SLAs (005): the rule read once per L1 grid that has urgent or
-- special-group cases open, not twice per case (gf_rule () is a query).
CREATE OR REPLACE FUNCTION gf_urgent_candidates (p_at timestamptz)
RETURNS TABLE (case_id bigint, to_level smallint, reason text)
LANGUAGE sql STABLE AS $$
    WITH open AS MATERIALIZED (
        SELECT c.id, c.root, c.level, c.received_at FROM cases c
         WHERE (c.urgent OR c.groups <> '{}')
           AND gf_case_open (c.state)
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

-- Moves many cases up at once (the effects of gf_escalate in 004, set-based):
-- escalation records under the once-only index, the cases, their
-- case.escalated events, and notifications to the new owner's leader with a
-- copy to the previous one.  Returns how many moved.
CREATE OR REPLACE FUNCTION gf_escalate_many (p_rule text, p_meeting bigint, p_to smallint,
                                  p_cases bigint[], p_reasons text[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    moved integer;
BEGIN
    WITH want AS (
        SELECT w.case_id, w.reason FROM unnest (p_cases, p_reasons) AS w (case_id, reason)
    ), locked AS (
        SELECT c.id, c.grid, c.level, c.version FROM cases c JOIN want ON want.case_id = c.id
         WHERE c.level > p_to ORDER BY c.id FOR UPDATE OF c
    ), ins AS (
        INSERT INTO escalations (case_id, rule, meeting_id, from_level, to_level, at)
        SELECT id, p_rule, p_meeting, level, p_to, gf_now () FROM locked ORDER BY id
        ON CONFLICT DO NOTHING RETURNING case_id, from_level
    ), upd AS (
        UPDATE cases c SET level = p_to, version = c.version + 1, updated_at = gf_now ()
          FROM ins WHERE c.id = ins.case_id
        RETURNING c.id, c.grid, c.version, ins.from_level, c.category, c.description,
                  gf_owner_grid (c.grid, p_to) AS new_owner,
                  gf_owner_grid (c.grid, ins.from_level) AS old_owner
    ), ev AS (
        INSERT INTO case_events (type, topic, case_id, grid, at, payload)
        SELECT 'case.escalated', 'case.escalated/' || u.grid, u.id, u.grid, gf_now (),
               jsonb_build_object ('rule', p_rule, 'meeting', p_meeting, 'from_level', u.from_level,
                                   'to_level', p_to, 'reason', want.reason, 'version', u.version,
                                   'owner', u.new_owner)
          FROM upd u JOIN want ON want.case_id = u.id ORDER BY u.id
    ), recipients AS (
        SELECT u.id, u.grid, u.category, u.description, p.id AS person
          FROM upd u
         CROSS JOIN LATERAL (VALUES (u.new_owner), (u.old_owner)) o (grid)
          JOIN people p ON p.grid = o.grid AND p.role = 'leader'
    ), notif AS (
        INSERT INTO notifications (case_id, kind, recipient, channel, text, created_at)
        SELECT r.id, 'escalated.to' || p_to, r.person, 'app',
               format (t.body, r.id, coalesce (cat.name, '未分类'), r.grid, g.name,
                       left (r.description, 60), CASE p_to WHEN 2 THEN '二级网格' ELSE '一级网格' END),
               gf_now ()
          FROM recipients r JOIN grids g ON g.code = r.grid
          JOIN notification_templates t ON t.kind = 'case.escalated' AND t.lang = 'zh'
          LEFT JOIN categories cat ON cat.code = r.category
         ORDER BY r.id
        ON CONFLICT (case_id, kind, recipient) DO NOTHING
        RETURNING id, case_id, recipient, kind, text
    ), nev AS (
        INSERT INTO case_events (type, topic, case_id, grid, at, payload)
        SELECT 'notification.created', 'notify/' || n.recipient, n.case_id, u.grid, gf_now (),
               jsonb_build_object ('notification', n.id, 'recipient', n.recipient, 'kind', n.kind,
                                   'channel', 'app', 'text', n.text, 'case', n.case_id)
          FROM notif n JOIN upd u ON u.id = n.case_id ORDER BY n.id
    ), mark AS (
        UPDATE ledger_entries le SET escalated = true
          FROM upd WHERE p_meeting IS NOT NULL AND le.meeting_id = p_meeting AND le.case_id = upd.id
    )
    SELECT count (*) INTO moved FROM upd;
    RETURN moved;
END
$$;

-- Urgent and special-group cases that ran out of time, all at once: first
-- to L2, then (same tick, if already due) to L1.
CREATE OR REPLACE FUNCTION gf_escalate_urgent (p_at timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    to_l2 integer;
    to_l1 integer;
BEGIN
    SELECT gf_escalate_many ('urgent_l2', NULL, 2::smallint, array_agg (u.case_id ORDER BY u.case_id),
                             array_agg (u.reason ORDER BY u.case_id))
      INTO to_l2 FROM gf_urgent_candidates (p_at) u WHERE u.to_level = 2;
    SELECT gf_escalate_many ('urgent_l1', NULL, 1::smallint, array_agg (u.case_id ORDER BY u.case_id),
                             array_agg (u.reason ORDER BY u.case_id))
      INTO to_l1 FROM gf_urgent_candidates (p_at) u WHERE u.to_level = 1;
    RETURN coalesce (to_l2, 0) + coalesce (to_l1, 0);
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

-- Referrals with no department reply within the rule's hours: one
-- notification per referral (its case_actions row) to the owner's leader.
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

-- `gridctl escalation plan`: what would escalate at p_at in the subtree
-- p_grid (NULL: everywhere), and why: the candidates of each weekly and
-- monthly meeting due since the escalator's state and not held yet, then
-- the urgent cases their rule has not escalated yet.  Reads only.
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
    ), unheld AS (
        SELECT * FROM due
         WHERE NOT EXISTS (SELECT 1 FROM meetings m
                            WHERE m.grid = due.grid AND m.kind = due.kind AND m.day = due.day)
    )
    SELECT o.kind, o.grid, to_char (o.slot AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI'),
           c.case_id, c.reason, x.grid, x.level
      FROM unheld o
     CROSS JOIN LATERAL (SELECT * FROM gf_weekly_candidates (o.grid, o.slot) WHERE o.kind = 'weekly'
                         UNION ALL
                         SELECT * FROM gf_monthly_candidates (o.grid, o.slot) WHERE o.kind = 'monthly') c
      JOIN cases x ON x.id = c.case_id
     WHERE p_grid IS NULL OR gf_in_subtree (x.grid, p_grid)
    UNION ALL
    SELECT 'urgent', NULL, NULL, u.case_id, u.reason, x.grid, x.level
      FROM gf_urgent_candidates (p_at) u JOIN cases x ON x.id = u.case_id
     WHERE (p_grid IS NULL OR gf_in_subtree (x.grid, p_grid))
       AND NOT EXISTS (SELECT 1 FROM escalations e
                        WHERE e.case_id = u.case_id
                          AND e.rule = CASE u.to_level WHEN 2 THEN 'urgent_l2' ELSE 'urgent_l1' END)
     ORDER BY 3 NULLS LAST, 2, 4
$$;
