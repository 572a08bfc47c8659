-- triage.sql — triage that is seen (issue 14): the reminders for cases that
-- wait in L1 triage (unroutable: no grid could be found by address, or
-- every grid returned them).  The first notice goes out when the case
-- becomes unroutable (notification_rules: case.unroutable to l1_triage,
-- raised by the notifier); the L1 agenda lists them (ledger reason
-- 'triage', meetings.sql).
-- Owns: gf_triage_due, gf_triage_reminders.

-- When a case waiting in triage is due for a reminder: its clock start
-- (gf_clock_start of the time it went to triage, routed_at: a slip's box
-- opening) plus the triage_reminder rule's hours (urgent_hours for an
-- urgent case; 4 without a rule).  NULL: not waiting in triage.  STABLE,
-- as timestamptz + interval is: declared IMMUTABLE it was not inlined but
-- called once per case (tests/sql/inlining.sql).
CREATE OR REPLACE FUNCTION gf_triage_due (p_state text, p_urgent boolean, p_since timestamptz,
                                          p_rule jsonb) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_state = 'unroutable' THEN
               p_since + make_interval (hours => coalesce ((p_rule->>
                         CASE WHEN p_urgent THEN 'urgent_hours' ELSE 'hours' END)::int, 4))
           END
$$;

-- The escalator's every-tick reminders: each case waiting in triage past
-- gf_triage_due reminds its L1 grid's triage staff (triage.reminder,
-- audience l1_triage), and once it has waited leader_factor times the
-- rule's hours the L1 leader too (audience grid_leader: an unroutable case's
-- grid is its L1 grid; no leader_factor, no copy).  Once per case and
-- recipient (gf_notify_many); the deliveries keep the quiet hours and the
-- working calendar (gf_quiet_release) as for every staff message.  The rule
-- is read once per L1 grid.  Returns how many notifications were created.
-- p_roots: only the cases of these L1 roots (an escalator instance's share;
-- NULL: every root).
DROP FUNCTION IF EXISTS gf_triage_reminders (timestamptz);
CREATE OR REPLACE FUNCTION gf_triage_reminders (p_at timestamptz, p_roots text[] DEFAULT NULL)
RETURNS integer
LANGUAGE sql AS $$
    WITH rules AS MATERIALIZED (
        SELECT r.root, gf_rule (r.root, 'triage_reminder') AS p
          FROM (SELECT DISTINCT root FROM cases
                 WHERE state = 'unroutable' AND (p_roots IS NULL OR root = ANY (p_roots))) r
    ), due AS MATERIALIZED (
        SELECT c.id, c.grid, s.since, c.urgent, r.p,
               gf_triage_due (c.state, c.urgent, s.since, r.p) AS at
          FROM cases c JOIN rules r ON r.root = c.root
         CROSS JOIN LATERAL (SELECT gf_clock_start (c.source, c.reported_at,
                                                    coalesce (c.routed_at, c.received_at)) AS since) s
         WHERE c.state = 'unroutable'
    )
    SELECT coalesce (gf_notify_many ('escalator', jsonb_agg (x.item)), 0)
      FROM (SELECT jsonb_build_object ('case_id', d.id, 'type', 'triage.reminder', 'grid', d.grid,
                                       'audience', 'l1_triage') AS item
              FROM due d WHERE d.at <= p_at
            UNION ALL
            SELECT jsonb_build_object ('case_id', d.id, 'type', 'triage.reminder', 'grid', d.grid,
                                       'audience', 'grid_leader')
              FROM due d
             WHERE (d.p->>'leader_factor')::int IS NOT NULL
               AND d.since + (d.at - d.since) * (d.p->>'leader_factor')::int <= p_at) x
$$;
