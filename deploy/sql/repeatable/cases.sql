-- cases.sql — the case and the readers' views of it.
-- Owns: view cases_public.

-- Cases as every reader outside the intake and the operators sees them:
-- no name, the phone and the exact address masked (as in events).
CREATE OR REPLACE VIEW cases_public WITH (security_barrier) AS
    SELECT id, source, source_ref, root, grid, requested_grid, state, level, tier, category,
           description, gf_mask_address (address) AS address_masked,
           gf_mask_phone (phone) AS phone_masked, urgent, groups, reporter, supervised,
           merged_into, department, satisfied, reported_at, received_at, routed_at, signed_at,
           resolved_at, closed_at, updated_at, version
      FROM cases;
