-- 039_account_totp: the TOTP second factor of staff accounts, and the
-- one-time passwords of accounts made from the directory (issue 16;
-- accounts.sql, docs/security.md "TOTP").  The secret (RFC 6238, 20 random
-- bytes) is stored sealed (libsodium crypto_box_seal, hex) to the gateway's
-- TOTP key: gridctl seals it with the public half at enrolment, only the
-- gateway holding the secret half (gateway/totp_key) can open it, so a copy
-- of the database alone gives no second factor.
CREATE TABLE account_totp (
    person      text PRIMARY KEY REFERENCES accounts (person),
    sealed      text NOT NULL CHECK (sealed ~ '^[0-9a-f]+$' AND char_length (sealed) <= 512),
    enrolled_at timestamptz NOT NULL DEFAULT clock_timestamp ()
);
-- The last time step whose code was accepted: a code is good once.
ALTER TABLE account_logins ADD COLUMN totp_step bigint NOT NULL DEFAULT 0;
-- An account made with a one-time password (`gridctl user import
-- --from-directory`): the first login must set a new one (POST /auth/login
-- with new_password).
ALTER TABLE accounts ADD COLUMN must_change boolean NOT NULL DEFAULT false;
