-- 048_escalator_root_leases: the escalator shares its work by L1 root (issue
-- 18 item 3, services/escalator/gf_escalator.c, common/gf_share.c), one
-- lease per root named "escalator.root.<root code>".  Grid codes are the
-- directory's (upper case, e.g. QNL), so a lease name may now end in one:
-- the role's name as before, or "escalator.root." and a code without
-- spaces or control characters.  The old single lease "escalator" is no
-- longer taken; its row (if any) is dropped with its instances.
ALTER TABLE leases DROP CONSTRAINT leases_name_check;
ALTER TABLE leases ADD CONSTRAINT leases_name_check
    CHECK (name ~ '^[a-z][a-z0-9_.-]{0,63}$' OR name ~ '^escalator\.root\.[^[:space:][:cntrl:]]{1,64}$');
DELETE FROM lease_instances WHERE name = 'escalator';
DELETE FROM leases WHERE name = 'escalator';
