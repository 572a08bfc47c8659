-- 035_accounts: staff accounts and their sessions (issue 16, part 1;
-- deploy/sql/repeatable/accounts.sql, docs/security.md "Accounts and
-- sessions").  An account belongs to a person of the directory (people):
-- the grid and role come from there, never from the account.  Passwords
-- are Argon2id strings (libsodium crypto_pwhash_str, made by gridctl);
-- sessions are stored by the sha256 of their token, never the token.
-- Security time is real time (clock_timestamp), never the simulated clock.

-- accounts: what gridctl user add|reset|disable manages (audited by
-- audit.sql's row trigger, pw_hash shown as "(secret)").
CREATE TABLE accounts (
    person      text PRIMARY KEY REFERENCES people (id),
    pw_hash     text NOT NULL CHECK (pw_hash LIKE '$argon2id$%'),
    disabled_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp (),
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp ()
);

-- account_logins: the login state of an account (failed attempts in the
-- current window, a lock), apart from accounts so that each attempt is one
-- audit row (written by gf_login_*), not an extra row-trigger update.
CREATE TABLE account_logins (
    person           text PRIMARY KEY REFERENCES accounts (person),
    failures         integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    first_failure_at timestamptz,
    locked_until     timestamptz,
    last_login_at    timestamptz
);

-- sessions: one per login; ended (logout, logout-all, idle, expired,
-- disabled, reset) rather than deleted, so the trail stays readable.
CREATE TABLE sessions (
    token_sha256 text PRIMARY KEY CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
    person       text NOT NULL REFERENCES accounts (person),
    csrf         text NOT NULL CHECK (csrf ~ '^[0-9a-f]{64}$'),
    client_addr  text,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp (),
    seen_at      timestamptz NOT NULL DEFAULT clock_timestamp (),
    ended_at     timestamptz,
    ended_why    text CHECK (ended_why IN ('logout', 'logout_all', 'idle', 'expired', 'disabled',
                                           'reset'))
);
CREATE INDEX sessions_person_open ON sessions (person) WHERE ended_at IS NULL;

-- The audit trail records the login events by name (accounts.sql).
ALTER TABLE audit_log DROP CONSTRAINT audit_log_op_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_op_check
    CHECK (op IN ('insert', 'update', 'delete', 'login', 'login_failed', 'lockout', 'logout',
                  'logout_all', 'session_end'));
