-- intake.sql — storing complaints: the intake's batch (services/intake/gf_intake.c)
-- in one call, with the senders' rights, the directory checks, the new cases,
-- their case.received events (the stream view, privacy.sql) and duplicate
-- detection.
-- Owns: gf_intake_store.

-- Stores a batch of complaints.  p_batch is a JSON array of objects, one per
-- complaint: i (the caller's index, returned as is), rid (request id),
-- source, source_ref, description, category, grid, address, name, phone,
-- urgent, reported_at (ms since the epoch), reporter, household, groups
-- (comma-separated), uid (the sender's public key, Z85; absent: a plain
-- loopback sender).  p_root: the L1 root of complaints without a grid.
-- p_route_from ... p_unroutable_event (intake/route; NULL: not routed
-- here): each new case is routed as it is inserted, by the router's rule
-- (gf_route_target) and the transition table's steps the caller passes,
-- as gf_route_cases would route it right after: state, grid, routed_at,
-- version 2 (registered, then routed) and its case.routed or
-- case.unroutable event after the batch's case.received events.  One
-- row and no update per case (routing by an UPDATE wrote every new case
-- twice, each time into all seven indexes of cases: not a HOT update).
-- One row per input object, ordered by i:
--   err        NULL, or the error code's name (forbidden, unknown_grid,
--              unknown_category, unknown_actor); nothing is stored for it;
--   case_id    the new case, or for a duplicate the case first stored
--              under its (source, source_ref);
--   duplicate  true if (source, source_ref) was already known: earlier in
--              the batch, before it, or stored by a concurrent intake;
--   routed     routed here: true to an L3 grid, false to L1 triage; NULL
--              when not (a duplicate, an error, no p_route_from).
-- A statement error (a check constraint, say) fails the whole batch: the
-- caller then stores its complaints one by one to isolate the culprit.
DROP FUNCTION IF EXISTS gf_intake_store (jsonb, text);
CREATE OR REPLACE FUNCTION gf_intake_store (p_batch jsonb, p_root text,
                                            p_route_from text[] DEFAULT NULL,
                                            p_routed text DEFAULT NULL,
                                            p_routed_event text DEFAULT NULL,
                                            p_unroutable_from text[] DEFAULT NULL,
                                            p_unroutable text DEFAULT NULL,
                                            p_unroutable_event text DEFAULT NULL)
    RETURNS TABLE (i int, err text, case_id bigint, duplicate boolean, routed boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_i int[];
    v_err text[];
    v_case bigint[];
    v_dup boolean[];
    v_routed boolean[];
    v_source text[];
    v_ref text[];
    v_id bigint;
    -- the business time, read once: gf_now () in the statement ran once
    -- per case and per event (it reads a setting and, simulated, a table)
    v_now timestamptz := gf_now ();
BEGIN
    -- The whole batch in one statement: validate grid and category against
    -- the directory, insert new cases (skipping known (source, source_ref)),
    -- insert their case.received events, and say per input row what
    -- happened.  Rows repeated inside the batch get dup_rank > 1 and are
    -- resolved below.
    WITH input AS (
        SELECT x.*, coalesce (split_part (x.grid, '.', 1), p_root) AS root,
               row_number () OVER (PARTITION BY x.source, x.source_ref ORDER BY x.i) AS dup_rank
          FROM jsonb_to_recordset (p_batch) AS x (i int, rid text, source text, source_ref text,
               description text, category text, grid text, address text, name text, phone text,
               urgent boolean, reported_at bigint, reporter text, household text, groups text,
               uid text)
    ), checked AS (
        SELECT input.*, old.id AS old_id, CASE
               -- The sender's rights first (docs/security.md): a known,
               -- unrevoked identity, allowed this source, and the grid (or,
               -- without one, the L1 root, whose triage gets the case) inside
               -- its subtree; a staff identity bound to a person reports only
               -- as that person.
               WHEN input.uid IS NOT NULL AND (idn.name IS NULL OR idn.revoked_at IS NOT NULL
                    OR NOT input.source = ANY (idn.sources)
                    OR NOT gf_in_subtree (coalesce (input.grid, input.root), idn.grid)
                    OR (idn.person IS NOT NULL AND input.reporter IS DISTINCT FROM idn.person
                        AND input.reporter IS NOT NULL)) THEN 'forbidden'
               WHEN input.grid IS NOT NULL AND g.code IS NULL THEN 'unknown_grid'
               WHEN r.code IS NULL THEN 'unknown_grid'
               WHEN input.category IS NOT NULL AND c.code IS NULL THEN 'unknown_category'
               WHEN input.reporter IS NOT NULL AND p.id IS NULL THEN 'unknown_actor'
             END AS err
          FROM input
          -- By its key, one probe per row: the batch's size is unknown to the
          -- planner (100 rows for any jsonb), which hashed the whole of a
          -- young cases table instead (3 ms a batch at 5,000 cases).  OFFSET 0
          -- keeps the probe a probe: without it the planner pulled the
          -- subquery up into a join and hashed a sequential scan of every
          -- case again (auto_explain in the benchmark: 10 of a batch's 18 ms
          -- at 10,000 cases, and growing with the table).
          LEFT JOIN LATERAL (SELECT o.id FROM cases o
                              WHERE o.source = input.source AND o.source_ref = input.source_ref
                             OFFSET 0) old
                 ON true
          -- The grids by key too: joined, both were hashed from a
          -- sequential scan of every grid (1,860 in a county: 0.3 of a
          -- single complaint's 1.6 ms, auto_explain, 7 Dec 2026).
          LEFT JOIN LATERAL (SELECT g.code FROM grids g WHERE g.code = input.grid OFFSET 0) g
                 ON true
          LEFT JOIN LATERAL (SELECT r.code FROM grids r WHERE r.code = input.root AND r.level = 1
                             OFFSET 0) r
                 ON true
          LEFT JOIN categories c ON c.code = input.category
          LEFT JOIN people p ON p.id = input.reporter
          LEFT JOIN identities idn ON idn.public_key = input.uid
    ), fresh AS (
        -- Ids are drawn before the insert so that results need no join back
        -- (a conflict with a concurrent intake only wastes the number).
        -- With p_route_from, where each goes (routed_to: the state the
        -- transition table gives a registered case, NULL when it gives none).
        SELECT n.*, CASE WHEN n.l3 IS NOT NULL AND 'registered' = ANY (p_route_from) THEN p_routed
                         WHEN n.l3 IS NULL AND 'registered' = ANY (p_unroutable_from)
                         THEN p_unroutable END AS routed_to
          FROM (SELECT nextval ('cases_id_seq') AS new_id, checked.*, t.l3, l3g.parent AS l2,
                       t.via, t.reason
                  FROM checked
                  LEFT JOIN LATERAL gf_route_target (checked.grid, checked.address, checked.root,
                                                     '{}') t ON p_route_from IS NOT NULL
                  LEFT JOIN grids l3g ON l3g.code = t.l3
                 WHERE err IS NULL AND dup_rank = 1 AND old_id IS NULL ORDER BY i) n
    ), ins AS (
        INSERT INTO cases (id, source, source_ref, request_id, root, grid, requested_grid,
                           category, description, address, name, phone, urgent, reported_at,
                           received_at, reporter, household, groups, state, routed_at, version)
        SELECT new_id, source, source_ref, rid, root,
               CASE WHEN routed_to IS NOT NULL THEN coalesce (l3, root) ELSE root END, grid,
               category, description, address, name, phone, urgent,
               to_timestamp (reported_at / 1000.0), v_now, reporter, household,
               coalesce (string_to_array (nullif (groups, ''), ','), '{}'),
               coalesce (routed_to, 'registered'),
               CASE WHEN routed_to IS NOT NULL THEN v_now END,
               CASE WHEN routed_to IS NOT NULL THEN 2 ELSE 1 END
          FROM fresh ORDER BY i
        ON CONFLICT (source, source_ref) DO NOTHING
        RETURNING id, root, grid, groups, cases AS c
    ), ev AS (
        -- The payload is the stream view (privacy.sql): no name, phone or
        -- special groups, the description redacted, the address coarse; the
        -- groups are kept for staff in the event's restricted column.  The
        -- routed cases' events after all the case.received ones, as the
        -- router's statement after this one wrote them.
        INSERT INTO event_stage (type, topic, case_id, grid, at, payload, restricted)
        SELECT e.type, e.type || '/' || e.grid, e.id, e.grid, v_now, e.payload, e.restricted
          FROM (SELECT 1 AS k, ins.id, 'case.received' AS type, ins.root AS grid,
                       gf_case_stream (ins.c) AS payload,
                       jsonb_build_object ('groups', to_jsonb (ins.groups)) AS restricted
                  FROM ins
                UNION ALL
                -- (the grid the insert gave it; the inserted ids read once:
                -- joined to ins, both guessed at one row, the planner
                -- scanned the whole batch once per case, 33 ms for 500)
                SELECT 2, f.new_id, CASE WHEN f.l3 IS NOT NULL THEN p_routed_event
                                         ELSE p_unroutable_event END,
                       coalesce (f.l3, f.root), gf_route_payload (f.l3, f.l2, f.via, f.reason, f.address), NULL
                  FROM fresh f
                 WHERE f.routed_to IS NOT NULL AND f.new_id = ANY (ARRAY (SELECT ins.id FROM ins))) e
         ORDER BY e.k, e.id
    )
    SELECT array_agg (ck.i ORDER BY ck.i), array_agg (ck.err ORDER BY ck.i),
           array_agg (CASE WHEN f.new_id IN (SELECT id FROM ins) THEN f.new_id ELSE ck.old_id END
                      ORDER BY ck.i),
           array_agg (f.new_id IS NULL OR f.new_id NOT IN (SELECT id FROM ins) ORDER BY ck.i),
           array_agg (CASE WHEN f.routed_to IS NOT NULL AND f.new_id IN (SELECT id FROM ins)
                           THEN f.l3 IS NOT NULL END ORDER BY ck.i),
           array_agg (ck.source ORDER BY ck.i), array_agg (ck.source_ref ORDER BY ck.i)
      INTO v_i, v_err, v_case, v_dup, v_routed, v_source, v_ref
      FROM checked ck LEFT JOIN fresh f ON f.i = ck.i;

    -- No case and no error: a twin earlier in this batch, or a concurrent
    -- intake won the insert.  This statement sees both (its own snapshot,
    -- after the insert above; READ COMMITTED).
    FOR k IN 1 .. coalesce (array_length (v_i, 1), 0) LOOP
        IF v_err[k] IS NULL AND v_case[k] IS NULL THEN
            SELECT c.id INTO v_id FROM cases c
             WHERE c.source = v_source[k] AND c.source_ref = v_ref[k];
            IF NOT FOUND THEN
                -- The first of its twins was refused: the caller isolates
                -- the complaints one by one.
                RAISE EXCEPTION 'gf_intake_store: no case for (%, %), item %',
                    v_source[k], v_ref[k], v_i[k] USING ERRCODE = 'no_data_found';
            END IF;
            v_case[k] := v_id;
            v_dup[k] := true;
        END IF;
    END LOOP;

    RETURN QUERY SELECT u.i, u.err, u.case_id, u.duplicate, u.routed
                   FROM unnest (v_i, v_err, v_case, v_dup, v_routed)
                        AS u (i, err, case_id, duplicate, routed);
END
$$;
