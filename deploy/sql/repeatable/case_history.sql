-- case_history.sql — a case as it was at a past instant, rebuilt from its
-- events (a meeting held late still builds the ledger of its slot).
-- Owns: gf_case_at, gf_window_cases, gf_window_ids, gf_ledger_cases_in,
-- gf_ledger_cases_at.

-- A case's lifecycle state, tier and level as they were at time t, from its
-- events (a meeting held late still builds the ledger of its slot).  A
-- reopen (重办) resets the tier to pending, as the live case does.
CREATE OR REPLACE FUNCTION gf_case_at (p_case bigint, t timestamptz,
                                       OUT state text, OUT tier text, OUT level smallint)
LANGUAGE sql STABLE AS $$
    SELECT s.state,
           CASE WHEN gf_case_resolved (s.state) THEN 'resolved'
                ELSE coalesce ((SELECT CASE e.type WHEN 'case.reopened' THEN 'pending'
                                                   ELSE e.payload->>'tier' END
                                  FROM case_events e
                                 WHERE e.case_id = p_case AND e.at <= t
                                   AND (e.type = 'case.reopened'
                                        OR (e.type = 'case.classified'
                                            AND e.payload->>'tier' IN ('pending', 'hard')))
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

-- The cases of p_grid's subtree in the event window of meetings at t: those
-- with an event after t (later_*), and those with an event in [p_from, t)
-- (touched_*; NULL when p_from is), each as ids and their grids now, for
-- gf_ledger_cases_in (gf_ledger_cases_at: one subtree's ledger cases).
-- Events by time (case_events_at) first: the distinct cases of the window
-- whose events name p_grid or a grid of its subtree (gf_window_ids, which
-- the meetings use alone); then those of the subtree now, by primary key
-- (= ANY: a join lets the planner guess the subtree small and hash all of
-- it).  The window first, because a
-- subtree's history outgrows a week: with a year of 1,000,000 closed
-- cases, probing the events of each of an L2 subtree's 81,000 cases took
-- 0.6-0.8 s a meeting, this 0.08 s (bench/escalation_bench.sh,
-- subdistrict; docs/performance.md).  The events' grids only narrow the
-- window (every L1 root of a county read and probed the whole county's
-- week: 145 ms of a root's 350 ms): an event carries its case's grid
-- before or after it (a return: the grid it left; case.received: the L1
-- root), so a case of the subtree now has an event naming the subtree
-- since it came there; the case's grid now decides.
CREATE OR REPLACE FUNCTION gf_window_cases (p_grid text, p_from timestamptz, t timestamptz,
                                            OUT later_ids bigint[], OUT later_grids text[],
                                            OUT touched_ids bigint[], OUT touched_grids text[])
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    lo text := gf_subtree_lo (p_grid);
    hi text := gf_subtree_hi (p_grid);
    w record;
BEGIN
    SELECT * INTO w FROM gf_window_ids (p_grid, p_from, t);
    SELECT coalesce (array_agg (c.id), '{}'), coalesce (array_agg (c.grid), '{}')
      INTO later_ids, later_grids
      FROM cases c WHERE c.id = ANY (w.later_ids)
       AND c.grid ~>=~ lo AND c.grid ~<~ hi AND starts_with (c.grid, lo);
    IF p_from IS NOT NULL THEN
        SELECT coalesce (array_agg (c.id), '{}'), coalesce (array_agg (c.grid), '{}')
          INTO touched_ids, touched_grids
          FROM cases c WHERE c.id = ANY (w.touched_ids)
           AND c.grid ~>=~ lo AND c.grid ~<~ hi AND starts_with (c.grid, lo);
    END IF;
END
$$;

-- gf_window_cases' first half: the distinct cases of the window whose
-- events name p_grid or a grid of its subtree (later_ids: an event after t;
-- touched_ids: one in [p_from, t), NULL when p_from is), by id only.  Some
-- of them may have left the subtree since: the caller keeps the subtree by
-- each case's grid when it reads the case (gf_open_meetings_in: the case's
-- row is read once, for its grid and for its agenda line).
CREATE OR REPLACE FUNCTION gf_window_ids (p_grid text, p_from timestamptz, t timestamptz,
                                          OUT later_ids bigint[], OUT touched_ids bigint[])
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    lo text := gf_subtree_lo (p_grid);
    hi text := gf_subtree_hi (p_grid);
BEGIN
    later_ids := ARRAY (SELECT DISTINCT e.case_id FROM case_events e
                         WHERE e.at > t AND (e.grid = p_grid OR (e.grid ~>=~ lo AND e.grid ~<~ hi)));
    IF p_from IS NOT NULL THEN
        touched_ids := ARRAY (SELECT DISTINCT e.case_id FROM case_events e
                               WHERE e.at >= p_from AND e.at < t
                                 AND (e.grid = p_grid OR (e.grid ~>=~ lo AND e.grid ~<~ hi)));
    END IF;
END
$$;

-- The subtree's cases that can be on a ledger of a meeting at t whose
-- period starts at p_from (NULL: open cases only), as they were at t: the
-- live row when nothing happened to the case after t, else rebuilt from its
-- events (as gf_cases_at, 006).  A case closed now without a later event was
-- closed at t too, so it matters only if touched in [p_from, t): only open
-- cases, cases with later events and touched cases are read.
--   open_now: the live row is open (what the weekly rule also requires).
--   touched:  an event of the case in [p_from, t).
-- The window's cases are given (gf_window_cases for t and p_from, of a
-- subtree holding p_grid's: touched NULL for no period); gf_ledger_cases_at
-- reads them for one subtree.  The meetings build their agendas by the same
-- rules in gf_open_meetings_in (meetings.sql), reading each case once for
-- all the meetings of a root.  Planned for each call's values
-- (force_custom_plan): a generic plan guesses the arrays' sizes, and at
-- 100,000 cases its plan never ended (tests/sql/case_history.sql says
-- more).
CREATE OR REPLACE FUNCTION gf_ledger_cases_in (p_grid text, t timestamptz,
                                               p_later_ids bigint[], p_later_grids text[],
                                               p_touched_ids bigint[], p_touched_grids text[])
RETURNS TABLE (id bigint, state text, tier text, level smallint, open_now boolean, touched boolean)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
    lo text := gf_subtree_lo (p_grid);
    hi text := gf_subtree_hi (p_grid);
    v_later bigint[];
    v_touched bigint[];
BEGIN
    v_later := ARRAY (SELECT w.id FROM unnest (p_later_ids, p_later_grids) AS w (id, grid)
                       WHERE starts_with (w.grid, lo));
    v_touched := ARRAY (SELECT w.id FROM unnest (p_touched_ids, p_touched_grids) AS w (id, grid)
                         WHERE starts_with (w.grid, lo));
    -- touched: "IN (SELECT ...)" is a hashed subplan, one lookup per case
    -- (a correlated EXISTS here scanned the whole set for each case: 0.4 s
    -- for 2,500 touched cases).
    RETURN QUERY
    WITH later_ids AS MATERIALIZED (SELECT DISTINCT x AS id FROM unnest (v_later) x),
         touched_ids AS MATERIALIZED (SELECT DISTINCT x AS id FROM unnest (v_touched) x),
         sub AS MATERIALIZED (
        -- open now: the partial index on the subtree
        SELECT c.id, c.state, c.tier, c.level, true AS open_now FROM cases c
         WHERE c.grid ~>=~ lo AND c.grid ~<~ hi AND starts_with (c.grid, lo)
           AND gf_case_open (c.state)
           AND c.received_at <= t
        UNION ALL
        -- closed now: only those changed after t or touched in the period
        SELECT c.id, c.state, c.tier, c.level, false FROM cases c
         WHERE c.id IN (SELECT l.id FROM later_ids l UNION SELECT w.id FROM touched_ids w)
           AND c.grid ~>=~ lo AND c.grid ~<~ hi AND starts_with (c.grid, lo)
           AND NOT gf_case_open (c.state)
           AND c.received_at <= t
    )
    SELECT sub.id, sub.state,
           CASE WHEN gf_case_resolved (sub.state) THEN 'resolved'
                ELSE sub.tier END,
           sub.level, sub.open_now,
           sub.id IN (SELECT w.id FROM touched_ids w)
      FROM sub
     WHERE NOT EXISTS (SELECT 1 FROM later_ids l WHERE l.id = sub.id)
    UNION ALL
    SELECT sub.id, h.state, h.tier, h.level, sub.open_now,
           sub.id IN (SELECT w.id FROM touched_ids w)
      FROM sub JOIN later_ids l ON l.id = sub.id
     CROSS JOIN LATERAL gf_case_at (sub.id, t) h;
END
$$;

-- gf_ledger_cases_in for one subtree, reading the window itself.
CREATE OR REPLACE FUNCTION gf_ledger_cases_at (p_grid text, p_from timestamptz, t timestamptz)
RETURNS TABLE (id bigint, state text, tier text, level smallint, open_now boolean, touched boolean)
LANGUAGE sql STABLE AS $$
    SELECT l.* FROM gf_window_cases (p_grid, p_from, t) w
     CROSS JOIN LATERAL gf_ledger_cases_in (p_grid, t, w.later_ids, w.later_grids,
                                            w.touched_ids, w.touched_grids) l
$$;
