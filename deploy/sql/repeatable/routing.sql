-- routing.sql — the router's step: a batch of received (or returned) cases to
-- their L3 grids by the directory (the requested L3 grid, else the grid of
-- the normalised address inside the requested L1/L2 subtree or the case's
-- L1 grid), the rest to L1 triage, with their case.routed / case.unroutable
-- events.
-- Owns: gf_route_cases.

-- Routes the cases p_ids (a JSON array of ids; duplicates and cases no
-- longer in a p_route_from / p_unroutable_from state are skipped, so a
-- replayed batch changes nothing).  The states and the events are not
-- decided here: the router passes them from the transition table
-- (common/gf_case.c: the steps 'route' and 'unroutable').  A grid that
-- returned the case (退单) is not asked again: the case goes to L1 triage
-- with reason 'returned'.  The other reasons: 'not_l3' (an L1/L2 grid was
-- requested and the address is not known inside it), 'no_location' (neither
-- address nor grid), 'unknown_address'.  Returns how many of each.
CREATE OR REPLACE FUNCTION gf_route_cases (p_ids jsonb,
                                           p_route_from text[], p_routed text, p_routed_event text,
                                           p_unroutable_from text[], p_unroutable text,
                                           p_unroutable_event text)
RETURNS TABLE (routed bigint, unroutable bigint)
LANGUAGE plpgsql AS $$
BEGIN
    -- plpgsql, not sql: its plan is kept for the session (a sql function
    -- plans this statement again on every call, about 0.5 ms of the
    -- intake's acknowledgement).
    RETURN QUERY
    WITH ids AS (
        SELECT DISTINCT value::bigint AS id FROM jsonb_array_elements_text (p_ids)
    ), cand AS (
        -- The candidate grid: the explicit L3 code, else the address's grid
        -- (inside the explicit L1/L2 subtree if one was given).
        SELECT c.id, c.address, c.returned_from,
               CASE WHEN g.level = 3 THEN g.code ELSE a.grid END AS l3,
               CASE WHEN g.level = 3 THEN 'grid' ELSE 'address' END AS via,
               CASE WHEN c.requested_grid IS NOT NULL AND g.level < 3 AND a.grid IS NULL THEN 'not_l3'
                    WHEN c.address IS NULL AND c.requested_grid IS NULL THEN 'no_location'
                    ELSE 'unknown_address' END AS reason
          FROM ids JOIN cases c ON c.id = ids.id
          LEFT JOIN grids g ON g.code = c.requested_grid
          -- addresses map to L3 grids only (gridctl grids import), so the
          -- subtree root itself never matches here
          LEFT JOIN addresses a ON a.address = gf_normalize_address (c.address)
               AND gf_in_subtree (a.grid, coalesce (c.requested_grid, c.root))
         WHERE c.state = ANY (p_route_from || p_unroutable_from)
           FOR UPDATE OF c
    ), target AS (
        SELECT id, address, via,
               CASE WHEN l3 = ANY (returned_from) THEN NULL ELSE l3 END AS l3,
               CASE WHEN l3 = ANY (returned_from) THEN 'returned' ELSE reason END AS reason
          FROM cand
    ), upd AS (
        UPDATE cases c SET state = CASE WHEN t.l3 IS NULL THEN p_unroutable ELSE p_routed END,
               grid = coalesce (t.l3, c.grid), routed_at = (SELECT gf_now ()),
               version = c.version + 1
          FROM target t
         WHERE c.id = t.id
           AND c.state = ANY (CASE WHEN t.l3 IS NULL THEN p_unroutable_from ELSE p_route_from END)
        RETURNING c.id, c.grid, t.l3 IS NOT NULL AS found
    ), ev AS (
        INSERT INTO event_stage (type, topic, case_id, grid, at, payload)
        SELECT CASE WHEN u.found THEN p_routed_event ELSE p_unroutable_event END,
               CASE WHEN u.found THEN p_routed_event ELSE p_unroutable_event END || '/' || u.grid,
               u.id, u.grid, (SELECT gf_now ()),
               CASE WHEN u.found
                    THEN jsonb_build_object ('grid', u.grid, 'via', t.via, 'l2', gl.parent)
                    ELSE jsonb_build_object ('reason', t.reason,
                                             'address_masked', gf_mask_address (t.address)) END
          FROM upd u JOIN target t ON t.id = u.id LEFT JOIN grids gl ON gl.code = u.grid
         ORDER BY u.id
        RETURNING type
    )
    SELECT count (*) FILTER (WHERE ev.type = p_routed_event),
           count (*) FILTER (WHERE ev.type = p_unroutable_event)
      FROM ev;
END
$$;
