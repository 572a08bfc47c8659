-- privacy.sql — the three views of a case (docs/security.md, "Personal
-- data"): what staff in scope see, what the stream carries, what the public
-- reads.  The masks and the redaction they use are text.sql's
-- (gf_mask_phone, gf_mask_address, gf_redact_text); cases.description_redacted
-- (020) is gf_redact_text of the description and the caller's name.
--   staff   everything stored (name, phone, address, description, special
--           groups), for a person of the directory whose grid holds the case;
--   stream  the case.received payload, and so what the relay, SSE, `gridctl
--           watch`, app push and every subscriber get: no name, phone, ID
--           number, address detail or special groups; the description
--           redacted, the address coarse;
--   public  Open311 reads: category, status, grid, coarse location, the
--           redacted description.
-- Owns: gf_case_staff, gf_case_stream, gf_case_public.

-- Staff in scope: the case as stored, when p_person (people.id) is staff
-- of a grid whose subtree holds the case's grid (an L1 leader every case of
-- the L1 grid, an L3 member those of the L3 grid).  No row: no such case,
-- no such person, or not in scope.
CREATE OR REPLACE FUNCTION gf_case_staff (p_person text, p_case bigint) RETURNS SETOF cases
LANGUAGE sql STABLE AS $$
    SELECT c.* FROM cases c JOIN people p ON p.id = p_person
     WHERE c.id = p_case AND gf_in_subtree (c.grid, p.grid)
$$;

-- The stream: the payload of a case's case.received event.  Special groups
-- go to the event's restricted column (020), never here.  One expression:
-- inlined into the intake's batch insert.
CREATE OR REPLACE FUNCTION gf_case_stream (c cases) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object ('source', c.source, 'source_ref', c.source_ref,
               'description', c.description_redacted, 'category', c.category,
               'address_masked', gf_mask_address (c.address), 'urgent', c.urgent,
               'reporter', c.reporter,
               'reported_at', (extract (epoch FROM c.reported_at) * 1000)::bigint)
$$;

-- The public: a case as Open311 shows it, read through cases_public (the
-- gateway's role reads nothing else of cases).  location: the coarse
-- address (street or village; coordinates rounded to 2 decimals).  No row:
-- no such case.
CREATE OR REPLACE FUNCTION gf_case_public (p_id bigint)
RETURNS TABLE (id bigint, category text, state text, grid text, location text,
               description text, received_at timestamptz, updated_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT c.id, c.category, c.state, c.grid, c.address_masked, c.description, c.received_at,
           coalesce (c.updated_at, c.routed_at, c.received_at)
      FROM cases_public c WHERE c.id = p_id
$$;
