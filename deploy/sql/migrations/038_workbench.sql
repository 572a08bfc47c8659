-- Issue 16 (the staff workbench): the gateway's own intake identity, kind
-- 'workbench'.  The gateway forwards a signed-in staff member's actions to
-- the intake over CurveZMQ with this key and names the session's person as
-- the actor; the intake then applies that person's rights exactly as for
-- a staff key bound to no person (grid subtree, role: docs/security.md
-- section 2).  Bound to no person (the gateway acts for each signed-in
-- person in turn), no stream topics.
ALTER TABLE identities DROP CONSTRAINT identities_kind_check;
ALTER TABLE identities ADD CONSTRAINT identities_kind_check
    CHECK (kind = ANY (ARRAY['adapter', 'staff', 'subscriber', 'app', 'department', 'workbench']));
