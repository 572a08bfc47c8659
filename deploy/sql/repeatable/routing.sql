-- routing.sql — the router's step: a batch of received (or returned) cases to
-- their L3 grids by the directory (the requested L3 grid, else the grid of
-- the normalised address inside the requested L1/L2 subtree or the case's
-- L1 grid), the rest to L1 triage, with their case.routed / case.unroutable
-- events.
-- Owns: gf_route_target, gf_route_payload, gf_route_cases.

-- Where a case goes by the directory (the router's rule; the intake's
-- insert uses it too, intake/route): l3, the explicit L3 code, else the
-- address's grid (inside the explicit L1/L2 subtree if one was given, else
-- the L1 root's); NULL for L1 triage, with the reason; never back to a grid
-- that returned the case (reason 'returned').  via: 'grid' or 'address'.
CREATE OR REPLACE FUNCTION gf_route_target (p_requested_grid text, p_address text, p_root text,
                                            p_returned_from text[])
RETURNS TABLE (l3 text, via text, reason text)
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN x.l3 = ANY (p_returned_from) THEN NULL ELSE x.l3 END, x.via,
           CASE WHEN x.l3 = ANY (p_returned_from) THEN 'returned' ELSE x.reason END
      FROM (SELECT CASE WHEN g.level = 3 THEN g.code ELSE a.grid END AS l3,
                   CASE WHEN g.level = 3 THEN 'grid' ELSE 'address' END AS via,
                   CASE WHEN p_requested_grid IS NOT NULL AND g.level < 3 AND a.grid IS NULL
                        THEN 'not_l3'
                        WHEN p_address IS NULL AND p_requested_grid IS NULL THEN 'no_location'
                        ELSE 'unknown_address' END AS reason
              FROM (SELECT) one
              LEFT JOIN grids g ON g.code = p_requested_grid
              -- addresses map to L3 grids only (gridctl grids import), so the
              -- subtree root itself never matches here
              LEFT JOIN addresses a ON a.address = gf_normalize_address (p_address)
                   AND gf_in_subtree (a.grid, coalesce (p_requested_grid, p_root))) x
$$;

-- The payload of the case.routed event (the grid, how it was found, its L2
-- grid p_l2: the L3 grid's parent, which the caller joins) or of the
-- case.unroutable one (the reason, the address coarse).  A single
-- expression, inlined into the caller's query: with the parent looked up in
-- here (a sub-select) it was called once per case.
DROP FUNCTION IF EXISTS gf_route_payload (text, text, text, text);
CREATE OR REPLACE FUNCTION gf_route_payload (p_l3 text, p_l2 text, p_via text, p_reason text,
                                             p_address text)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_l3 IS NOT NULL
                THEN jsonb_build_object ('grid', p_l3, 'via', p_via, 'l2', p_l2)
                ELSE jsonb_build_object ('reason', p_reason,
                                         'address_masked', gf_mask_address (p_address)) END
$$;

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
LANGUAGE plpgsql
-- its plan kept for the session, as plpgsql can: left to choose, it planned
-- the statement again at every call (1.2 ms of a 1.3 ms call; the custom
-- plan is no better, as its row counts are the same guesses).  A batch of
-- 500 cases is still read by the cases' key under the generic plan.
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    -- plpgsql, not sql: its plan is kept for the session (a sql function
    -- plans this statement again on every call, about 0.5 ms of the
    -- intake's acknowledgement).
    RETURN QUERY
    WITH ids AS (
        SELECT DISTINCT value::bigint AS id FROM jsonb_array_elements_text (p_ids)
    ), target AS (
        SELECT c.id, c.address, t.l3, l3g.parent AS l2, t.via, t.reason
          FROM ids JOIN cases c ON c.id = ids.id
         CROSS JOIN LATERAL gf_route_target (c.requested_grid, c.address, c.root,
                                             c.returned_from) t
          LEFT JOIN grids l3g ON l3g.code = t.l3
         WHERE c.state = ANY (p_route_from || p_unroutable_from)
           FOR UPDATE OF c
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
               u.id, u.grid, (SELECT gf_now ()), gf_route_payload (t.l3, t.l2, t.via, t.reason, t.address)
          FROM upd u JOIN target t ON t.id = u.id
         ORDER BY u.id
        RETURNING type
    )
    SELECT count (*) FILTER (WHERE ev.type = p_routed_event),
           count (*) FILTER (WHERE ev.type = p_unroutable_event)
      FROM ev;
END
$$;
