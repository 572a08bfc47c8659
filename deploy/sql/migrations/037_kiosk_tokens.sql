-- 037_kiosk_tokens: read-only tokens for big screens (issue 16; `gridctl
-- kiosk add|list|revoke`, accounts.sql, docs/security.md "Kiosk tokens").
-- A token reads the staff dashboard (/api/*, /stream) of one grid subtree,
-- never writes; the database holds only its sha256.  Security time is real
-- time (clock_timestamp), never the simulated clock.
CREATE TABLE kiosk_tokens (
    id           bigserial PRIMARY KEY,
    token_sha256 text NOT NULL UNIQUE CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
    grid         text NOT NULL REFERENCES grids (code),
    label        text NOT NULL CHECK (label <> '' AND char_length (label) <= 100),
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp (),
    expires_at   timestamptz,
    revoked_at   timestamptz
);

-- The audit trail records a screen set up with a kiosk link, and a refused
-- kiosk link, by name (accounts.sql); adding and revoking are row changes.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_op_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_op_check
    CHECK (op IN ('insert', 'update', 'delete', 'login', 'login_failed', 'lockout', 'logout',
                  'logout_all', 'session_end', 'kiosk_open', 'kiosk_refused'));
