-- 015_ledger_subtree: gf_ledger_cases_at (013) collected the cases with an
-- event after the slot (and those touched in the period) from the whole
-- event log, then used them only with the meeting's subtree.  In a round
-- where every meeting escalates tens of thousands of cases, each meeting
-- writes events stamped after the slot for its own cases, so each later
-- meeting of the round carried all the earlier meetings' cases, in sets
-- the planner takes for ten rows (an array) and meets with nested loops:
-- meetings 1-3 took 35 s, the 4th did not end in 5 minutes
-- (docs/performance.md).  The sets now keep only the subtree's cases, by
-- the same grid condition as the cases they are used with; the result
-- is the same.
CREATE OR REPLACE FUNCTION gf_ledger_cases_at (p_grid text, p_from timestamptz, t timestamptz)
RETURNS TABLE (id bigint, state text, tier text, level smallint, open_now boolean, touched boolean)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
    lo text := gf_subtree_lo (p_grid);
    hi text := gf_subtree_hi (p_grid);
    v_later bigint[];
    v_touched bigint[];
BEGIN
    -- Events by time (case_events_at), kept only for the subtree's cases:
    -- both sets are only ever used with the subtree's cases below.
    v_later := ARRAY (SELECT DISTINCT e.case_id FROM case_events e JOIN cases c ON c.id = e.case_id
                     WHERE e.at > t
                       AND c.grid ~>=~ lo AND c.grid ~<~ hi AND starts_with (c.grid, lo));
    IF p_from IS NOT NULL THEN
        v_touched := ARRAY (SELECT DISTINCT e.case_id FROM case_events e JOIN cases c ON c.id = e.case_id
                           WHERE e.at >= p_from AND e.at < t
                             AND c.grid ~>=~ lo AND c.grid ~<~ hi AND starts_with (c.grid, lo));
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
