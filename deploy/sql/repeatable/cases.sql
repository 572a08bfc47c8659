-- cases.sql — the case and the readers' views of it.
-- Owns: view cases_public; gf_case_open, gf_case_resolved (open and resolved
-- states), gf_overdue_at, gf_overdue_at_rule (overdue), gf_clock_start.

-- Cases as every reader outside the intake and the operators sees them
-- (the gateway's dashboard and Open311, through repeatable/privacy.sql's
-- public view): no name; the phone masked (gf_mask_phone), the address
-- coarse (gf_mask_address), the description redacted (description_redacted,
-- 020: phones, ID and card numbers, e-mails and the caller's name), no
-- special groups.  No security_barrier: the view filters no rows, and a
-- reader's condition can only name its (masked) columns, so there is
-- nothing for a barrier to guard, while a barrier keeps the planner from
-- joining through it by the cases indexes (the dashboard's escalation list:
-- 245 ms with it, 153 ms without, at 300,000 cases).  Dropped and created
-- (a column went in 020): the grants phase runs after any repeatable did.
DROP VIEW IF EXISTS cases_public;
CREATE VIEW cases_public WITH (security_barrier = false) AS
    SELECT id, source, source_ref, root, grid, requested_grid, state, level, tier, category,
           description_redacted AS description, gf_mask_address (address) AS address_masked,
           gf_mask_phone (phone) AS phone_masked, urgent, reporter, supervised,
           merged_into, department, satisfied, reported_at, received_at, routed_at, signed_at,
           resolved_at, closed_at, updated_at, version, rejected_reason
      FROM cases;

-- The one definition of an open case: every reader (intake, escalation,
-- ledgers, the dashboard, `gridctl watch`, Open311) asks this.  A merged
-- case is not open (its twin carries the work), nor is a rejected one (028:
-- invalid, duplicate, out of jurisdiction).  IMMUTABLE and inlined, so
-- a query with it matches the partial indexes on open cases (cases_open_grid,
-- cases_urgent_open: their predicate is this list).
CREATE OR REPLACE FUNCTION gf_case_open (p_state text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT p_state NOT IN ('resolved', 'called_back', 'closed', 'merged', 'rejected')
$$;

-- Resolved for ledgers and reports (tier 'resolved'): resolved, called back
-- or closed.  A merged or rejected case is neither open nor resolved.
CREATE OR REPLACE FUNCTION gf_case_resolved (p_state text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT p_state IN ('resolved', 'called_back', 'closed')
$$;

-- When a case's clock starts, for a clock that would otherwise start at p_at
-- (the routing time for signing for, the receipt for escalation): a
-- suggestion-box slip's clock starts at its box opening (reported_at, the
-- README's promise: the drop time is unknown, the slip waited since the box
-- was opened at the latest), never later than p_at; every other case's at
-- p_at.  Callers pass it where gf_overdue_at asks for p_routed_at, and
-- where the escalation rules count from received_at.
CREATE OR REPLACE FUNCTION gf_clock_start (p_source text, p_reported_at timestamptz,
                                           p_at timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_source = 'suggestbox' THEN least (p_reported_at, p_at) ELSE p_at END
$$;

-- The one definition of overdue.  A case waits to be signed for while it is
-- routed or reopened (the states `sign` is allowed in, common/gf_case.c);
-- its clock starts when it reached the grid (p_routed_at: the caller passes
-- gf_clock_start (source, reported_at, routed_at), so a slip's starts at its
-- box opening; reopened: when it was
-- reopened, its last update; never routed: when it was received), and it is
-- overdue once the sign_reminder rule's hours (urgent_hours for urgent
-- cases; 24 without a rule) have passed.  NULL: not waiting to be signed
-- for.  Overdue at t  <=>  gf_overdue_at (...) <= t; the dashboard,
-- `gridctl watch`, the sign-for reminders and their texts all use it.
CREATE OR REPLACE FUNCTION gf_overdue_at (p_state text, p_root text, p_urgent boolean,
                                          p_routed_at timestamptz, p_received_at timestamptz,
                                          p_updated_at timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT gf_overdue_at_rule (p_state, p_urgent, p_routed_at, p_received_at, p_updated_at,
                               gf_rule (p_root, 'sign_reminder'))
$$;

-- The same with the sign_reminder rule's params given (NULL: no rule), for
-- readers of many cases that read the rule once per L1 grid: gf_rule is a
-- query, and once per row it costs 25 us (1.5 s for the dashboard's 60,000
-- waiting cases of 300,000, against 0.1 s).  Both inline into the caller's
-- query, so the rule's lookup runs only for cases in a waiting state.
CREATE OR REPLACE FUNCTION gf_overdue_at_rule (p_state text, p_urgent boolean,
                                               p_routed_at timestamptz, p_received_at timestamptz,
                                               p_updated_at timestamptz, p_rule jsonb)
RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_state IN ('routed', 'reopened') THEN
               CASE WHEN p_state = 'reopened' THEN coalesce (p_updated_at, p_routed_at, p_received_at)
                    ELSE coalesce (p_routed_at, p_received_at) END
               + make_interval (hours => coalesce ((p_rule->>
                                CASE WHEN p_urgent THEN 'urgent_hours' ELSE 'hours' END)::int, 24))
           END
$$;
