-- 021_audit: the audit trail of administration, Open311 keys' right to set
-- priority, and merges one level deep (docs/security.md, "Authorisation"
-- and "Audit trail").
--
-- audit_log: one row per administered row changed (directory, identities,
-- keys, the simulated clock, redriven deliveries, rules and templates),
-- written by the triggers of repeatable/audit.sql whatever the path
-- (gridctl or SQL).  Append-only: nobody but the owner holds a privilege on
-- it except gf_auditor's SELECT (grants.sql), and a trigger refuses UPDATE,
-- DELETE and TRUNCATE to everyone, the owner included.
--   at        the real time of the change (clock_timestamp: never the
--             simulated clock); sim_at: the simulated time then, if any
--   db_user   the authenticated login (session_user); db_role: the SET ROLE
--             in force ('none' if none)
--   os_user, actor, command: what gridctl said of itself (the OS user, its
--             --actor, the command words): claims, not proofs, NULL from
--             other clients
--   application, client_addr: application_name and the client's address
--   txid      the transaction: the rows one import or one command changed
--   tab, op   the table and insert / update / delete; object: the row's key
--   before, after: the row before and after (update: the changed columns
--             only; secret columns such as key hashes shown as changed, not
--             their value)
CREATE TABLE audit_log (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT clock_timestamp (),
    sim_at timestamptz,
    db_user text NOT NULL DEFAULT session_user,
    db_role text,
    os_user text,
    actor text,
    command text,
    application text,
    client_addr inet,
    txid bigint NOT NULL DEFAULT txid_current (),
    tab text NOT NULL,
    op text NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
    object text,
    before jsonb,
    after jsonb
);
CREATE INDEX audit_log_at ON audit_log (at);

-- An Open311 key sets urgency or special groups only when its row allows
-- it (the gateway refuses the request otherwise).
ALTER TABLE api_keys ADD COLUMN may_set_priority boolean NOT NULL DEFAULT false;

-- Merges are one level deep from now on (a merged case is never a merge
-- target, and merging a case re-points the cases merged into it): existing
-- chains C -> A -> B are flattened to C -> B, so C follows B.
WITH RECURSIVE chain (id, target, depth) AS (
    SELECT c.id, c.merged_into, 1 FROM cases c WHERE c.merged_into IS NOT NULL
    UNION ALL
    SELECT chain.id, t.merged_into, chain.depth + 1
      FROM chain JOIN cases t ON t.id = chain.target
     WHERE t.state = 'merged' AND t.merged_into IS NOT NULL AND chain.depth < 64
), ends AS (
    SELECT DISTINCT ON (chain.id) chain.id, chain.target
      FROM chain JOIN cases t ON t.id = chain.target
     WHERE t.state <> 'merged' OR t.merged_into IS NULL
     ORDER BY chain.id, chain.depth
)
UPDATE cases c SET merged_into = ends.target
  FROM ends
 WHERE c.id = ends.id AND c.merged_into <> ends.target;
