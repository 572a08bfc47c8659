-- accounts.sql — staff accounts and sessions (issue 16, part 1; migration
-- 035; docs/security.md "Accounts and sessions").  The gateway (gf_gateway)
-- holds no privilege on accounts, account_logins or sessions: it calls the
-- four SECURITY DEFINER functions below (gf_login_begin, gf_login_finish,
-- gf_session_check, gf_session_end), which only it may execute.  Argon2id
-- is verified in C (libsodium; PostgreSQL has no Argon2): gf_login_begin
-- hands over the hash of an enabled, unlocked account only, and counts
-- that as an attempt before the password is even checked.  gridctl's
-- functions (gf_account_add, gf_account_reset, gf_account_disable,
-- gf_accounts_list) are SECURITY INVOKER: gf_ctl holds the table rights
-- (grants.sql) but cannot read pw_hash.  Every login, failure, lockout,
-- logout and session end is one audit_log row (op = the event, object = the
-- person, after = the browser's address and details); account changes are
-- recorded by audit.sql's row trigger.  Security time is clock_timestamp
-- (real time), never gf_now: a simulated clock must not unlock accounts.
-- Kiosk tokens (037, issue 16): read-only tokens of a big screen, scoped
-- to a subtree; the gateway checks one through gf_kiosk_check (SECURITY
-- DEFINER, its alone); gridctl kiosk add|list|revoke are SECURITY INVOKER.
-- Owns: gf_login_audit, gf_login_begin, gf_login_finish, gf_session_check, gf_session_end,
-- gf_account_add, gf_account_reset, gf_account_disable, gf_accounts_list, gf_kiosk_add,
-- gf_kiosk_list, gf_kiosk_revoke, gf_kiosk_check, gf_login_totp, gf_account_totp_set,
-- gf_login_password_set, gf_accounts_missing.
-- TOTP (039): gridctl user totp seals a secret to the gateway's key
-- (gf_account_totp_set, INVOKER); the gateway reads it through
-- gf_login_totp (SECURITY DEFINER, its alone) after a verified password.

-- One audit row of a login event.
CREATE OR REPLACE FUNCTION gf_login_audit (p_op text, p_person text, p_detail jsonb) RETURNS void
LANGUAGE sql AS $$
    SELECT gf_audit_write ('accounts', p_op, left (p_person, 64), NULL, p_detail)
$$;

-- The first half of a login: 'ok' with the Argon2id string to verify (the
-- attempt is counted now: a failure until gf_login_finish says otherwise),
-- 'refused' (no such account, or disabled) or 'locked'; the last two are
-- audited as login_failed here.  p_window: seconds over which failures add
-- up (gateway/login_window).
CREATE OR REPLACE FUNCTION gf_login_begin (p_person text, p_addr text, p_window integer)
RETURNS TABLE (status text, pw_hash text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_now timestamptz := clock_timestamp ();
    v_acc accounts%ROWTYPE;
    v_locked timestamptz;
BEGIN
    SELECT * INTO v_acc FROM accounts WHERE person = p_person;
    IF NOT FOUND OR v_acc.disabled_at IS NOT NULL THEN
        PERFORM gf_login_audit ('login_failed', p_person, jsonb_build_object (
            'client_addr', p_addr, 'reason', CASE WHEN FOUND THEN 'disabled' ELSE 'unknown' END));
        RETURN QUERY SELECT 'refused'::text, NULL::text;
        RETURN;
    END IF;
    SELECT locked_until INTO v_locked FROM account_logins WHERE person = p_person FOR UPDATE;
    IF v_locked > v_now THEN
        PERFORM gf_login_audit ('login_failed', p_person, jsonb_build_object (
            'client_addr', p_addr, 'reason', 'locked', 'locked_until', v_locked));
        RETURN QUERY SELECT 'locked'::text, NULL::text;
        RETURN;
    END IF;
    INSERT INTO account_logins AS l (person, failures, first_failure_at)
    VALUES (p_person, 1, v_now)
    ON CONFLICT (person) DO UPDATE SET
        failures = CASE WHEN l.first_failure_at IS NULL
                          OR l.first_failure_at < v_now - make_interval (secs => p_window)
                        THEN 1 ELSE l.failures + 1 END,
        first_failure_at = CASE WHEN l.first_failure_at IS NULL
                                  OR l.first_failure_at < v_now - make_interval (secs => p_window)
                                THEN v_now ELSE l.first_failure_at END,
        locked_until = NULL;
    RETURN QUERY SELECT 'ok'::text, v_acc.pw_hash;
END
$$;

-- The second half: the password (and the TOTP code where one is needed)
-- verified (p_ok) opens a session (the sha256 of its token, its CSRF
-- token), clears the failures and keeps the code's time step p_totp_step
-- (a code is good once): 'login'; a refusal is audited with p_reason
-- ('password' or 'totp'), and the p_max_failures-th within the window
-- locks the account for p_lockout seconds: 'locked', else 'failed'.
CREATE OR REPLACE FUNCTION gf_login_finish (p_person text, p_ok boolean, p_addr text,
                                            p_token_sha256 text, p_csrf text,
                                            p_max_failures integer, p_lockout integer,
                                            p_reason text DEFAULT 'password',
                                            p_totp_step bigint DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_now timestamptz := clock_timestamp ();
    v_until timestamptz;
BEGIN
    -- Only after gf_login_begin counted the attempt, on an enabled account.
    PERFORM 1 FROM account_logins l JOIN accounts a USING (person)
      WHERE l.person = p_person AND l.failures > 0 AND a.disabled_at IS NULL
        AND (l.locked_until IS NULL OR l.locked_until <= v_now) FOR UPDATE OF l;
    IF NOT FOUND THEN
        RETURN 'failed';
    END IF;
    IF p_ok THEN
        UPDATE account_logins SET failures = 0, first_failure_at = NULL, locked_until = NULL,
                                  last_login_at = v_now,
                                  totp_step = coalesce (p_totp_step, totp_step)
         WHERE person = p_person;
        INSERT INTO sessions (token_sha256, person, csrf, client_addr, created_at, seen_at)
        VALUES (p_token_sha256, p_person, p_csrf, p_addr, v_now, v_now);
        PERFORM gf_login_audit ('login', p_person, jsonb_build_object (
            'client_addr', p_addr, 'session', left (p_token_sha256, 12)));
        RETURN 'login';
    END IF;
    PERFORM gf_login_audit ('login_failed', p_person,
                            jsonb_build_object ('client_addr', p_addr, 'reason', p_reason));
    UPDATE account_logins SET locked_until = v_now + make_interval (secs => p_lockout),
                              failures = 0, first_failure_at = NULL
     WHERE person = p_person AND failures >= p_max_failures
    RETURNING locked_until INTO v_until;
    IF v_until IS NOT NULL THEN
        PERFORM gf_login_audit ('lockout', p_person, jsonb_build_object (
            'client_addr', p_addr, 'failures', p_max_failures, 'locked_until', v_until));
        RETURN 'locked';
    END IF;
    RETURN 'failed';
END
$$;

-- The session of a token's sha256, if it is open: who (the directory's
-- grid and role), its CSRF token and when it expires; its idle clock is
-- reset.  A session past p_idle seconds unused or p_max seconds old, or of
-- a disabled account, is ended (audited as session_end) and nothing is
-- returned.
CREATE OR REPLACE FUNCTION gf_session_check (p_token_sha256 text, p_idle integer, p_max integer)
RETURNS TABLE (person text, name text, grid text, role text, csrf text, expires_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_now timestamptz := clock_timestamp ();
    v_s sessions%ROWTYPE;
    v_why text;
BEGIN
    SELECT * INTO v_s FROM sessions s WHERE s.token_sha256 = p_token_sha256 AND s.ended_at IS NULL
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    v_why := CASE
        WHEN EXISTS (SELECT 1 FROM accounts a WHERE a.person = v_s.person
                                               AND a.disabled_at IS NOT NULL) THEN 'disabled'
        WHEN v_s.created_at + make_interval (secs => p_max) <= v_now THEN 'expired'
        WHEN v_s.seen_at + make_interval (secs => p_idle) <= v_now THEN 'idle' END;
    IF v_why IS NOT NULL THEN
        UPDATE sessions s SET ended_at = v_now, ended_why = v_why
         WHERE s.token_sha256 = p_token_sha256;
        PERFORM gf_login_audit ('session_end', v_s.person, jsonb_build_object (
            'session', left (p_token_sha256, 12), 'why', v_why));
        RETURN;
    END IF;
    UPDATE sessions s SET seen_at = v_now WHERE s.token_sha256 = p_token_sha256;
    RETURN QUERY
        SELECT p.id, p.name, p.grid, p.role, v_s.csrf,
               least (v_now + make_interval (secs => p_idle),
                      v_s.created_at + make_interval (secs => p_max))
          FROM people p WHERE p.id = v_s.person;
END
$$;

-- Logout: ends the open session of a token's sha256 (p_all: every open
-- session of its person); the number ended (0: no such open session).
CREATE OR REPLACE FUNCTION gf_session_end (p_token_sha256 text, p_all boolean, p_addr text)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_now timestamptz := clock_timestamp ();
    v_person text;
    v_n integer;
BEGIN
    SELECT s.person INTO v_person FROM sessions s
     WHERE s.token_sha256 = p_token_sha256 AND s.ended_at IS NULL;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    UPDATE sessions s SET ended_at = v_now,
                          ended_why = CASE WHEN p_all THEN 'logout_all' ELSE 'logout' END
     WHERE s.ended_at IS NULL
       AND (s.token_sha256 = p_token_sha256 OR (p_all AND s.person = v_person));
    GET DIAGNOSTICS v_n = ROW_COUNT;
    PERFORM gf_login_audit (CASE WHEN p_all THEN 'logout_all' ELSE 'logout' END, v_person,
                            jsonb_build_object ('client_addr', p_addr, 'sessions', v_n,
                                                'session', left (p_token_sha256, 12)));
    RETURN v_n;
END
$$;

-- gridctl user add: an account for a person of the directory (the
-- Argon2id string made by gridctl); p_must_change: a one-time password
-- (user import), to be replaced at the first login.  Raises
-- unique_violation when the person has one, foreign_key_violation when the
-- directory has no such person.
CREATE OR REPLACE FUNCTION gf_account_add (p_person text, p_hash text,
                                           p_must_change boolean DEFAULT false) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO accounts (person, pw_hash, must_change) VALUES (p_person, p_hash, p_must_change)
$$;

-- gridctl user import --from-directory: the people of a subtree (NULL:
-- all) without an account, leaders, members and triage staff alike.
CREATE OR REPLACE FUNCTION gf_accounts_missing (p_grid text)
RETURNS TABLE (person text, name text, grid text, role text)
LANGUAGE sql STABLE AS $$
    SELECT p.id, p.name, p.grid, p.role FROM people p
     WHERE (p_grid IS NULL OR gf_in_subtree (p.grid, p_grid))
       AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.person = p.id)
     ORDER BY p.grid, p.id
$$;

-- gridctl user reset: a new password, the account enabled
-- again, its lock and failures cleared and its open sessions ended.
-- False when the person has no account.
CREATE OR REPLACE FUNCTION gf_account_reset (p_person text, p_hash text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE accounts SET pw_hash = p_hash, disabled_at = NULL,
                        updated_at = clock_timestamp ()
     WHERE person = p_person;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    UPDATE account_logins SET failures = 0, first_failure_at = NULL, locked_until = NULL
     WHERE person = p_person;
    UPDATE sessions SET ended_at = clock_timestamp (), ended_why = 'reset'
     WHERE person = p_person AND ended_at IS NULL;
    RETURN true;
END
$$;

-- gridctl user disable: no login any more, open sessions ended.  False
-- when the person has no account.
CREATE OR REPLACE FUNCTION gf_account_disable (p_person text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE accounts SET disabled_at = coalesce (disabled_at, clock_timestamp ()),
                        updated_at = clock_timestamp ()
     WHERE person = p_person;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    UPDATE sessions SET ended_at = clock_timestamp (), ended_why = 'disabled'
     WHERE person = p_person AND ended_at IS NULL;
    RETURN true;
END
$$;

-- gridctl user list: the accounts (of a grid's subtree, or all), with the
-- person's grid and role from the directory, the state (active, disabled,
-- locked), the last login and the open sessions.
CREATE OR REPLACE FUNCTION gf_accounts_list (p_grid text)
RETURNS TABLE (person text, name text, grid text, role text, state text,
               last_login_at timestamptz, sessions bigint)
LANGUAGE sql STABLE AS $$
    SELECT a.person, p.name, p.grid, p.role,
           CASE WHEN a.disabled_at IS NOT NULL THEN 'disabled'
                WHEN l.locked_until > clock_timestamp () THEN 'locked'
                ELSE 'active' END,
           l.last_login_at,
           (SELECT count (*) FROM sessions s WHERE s.person = a.person AND s.ended_at IS NULL)
      FROM accounts a JOIN people p ON p.id = a.person
      LEFT JOIN account_logins l ON l.person = a.person
     WHERE p_grid IS NULL OR gf_in_subtree (p.grid, p_grid)
     ORDER BY p.grid, a.person
$$;

-- gridctl kiosk add: a token (its sha256, made by gridctl) for a grid's
-- subtree, with a label and an optional expiry; its id.  Raises
-- foreign_key_violation for an unknown grid.  Audited by the row trigger
-- (the hash shown as "(secret)").
CREATE OR REPLACE FUNCTION gf_kiosk_add (p_grid text, p_label text, p_sha256 text,
                                         p_expires timestamptz)
RETURNS bigint LANGUAGE sql AS $$
    INSERT INTO kiosk_tokens (token_sha256, grid, label, expires_at)
    VALUES (p_sha256, p_grid, p_label, p_expires) RETURNING id
$$;

-- gridctl kiosk list: the tokens (of a grid's subtree, or all) with their
-- state: active, expired or revoked.
CREATE OR REPLACE FUNCTION gf_kiosk_list (p_grid text)
RETURNS TABLE (id bigint, grid text, label text, state text, created_at timestamptz,
               expires_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT k.id, k.grid, k.label,
           CASE WHEN k.revoked_at IS NOT NULL THEN 'revoked'
                WHEN k.expires_at <= clock_timestamp () THEN 'expired' ELSE 'active' END,
           k.created_at, k.expires_at
      FROM kiosk_tokens k
     WHERE p_grid IS NULL OR gf_in_subtree (k.grid, p_grid)
     ORDER BY k.id
$$;

-- gridctl kiosk revoke: the token reads nothing from now on.  False when
-- there is no such token or it was revoked already.
CREATE OR REPLACE FUNCTION gf_kiosk_revoke (p_id bigint) RETURNS boolean
LANGUAGE sql AS $$
    UPDATE kiosk_tokens SET revoked_at = clock_timestamp ()
     WHERE id = p_id AND revoked_at IS NULL RETURNING true
$$;

-- The gateway: the kiosk token of a sha256 if it is neither revoked nor
-- expired: its id, grid and label (no row otherwise).  p_open: the token
-- came as a kiosk link (?kiosk=) to be exchanged for a cookie, which is
-- audited (kiosk_open, or kiosk_refused with the client's address); the
-- requests that carry it afterwards are not.
CREATE OR REPLACE FUNCTION gf_kiosk_check (p_sha256 text, p_open boolean, p_addr text)
RETURNS TABLE (id bigint, grid text, label text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_k kiosk_tokens%ROWTYPE;
BEGIN
    SELECT * INTO v_k FROM kiosk_tokens k WHERE k.token_sha256 = p_sha256
       AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > clock_timestamp ());
    IF p_open THEN
        PERFORM gf_audit_write ('kiosk_tokens', CASE WHEN v_k.id IS NULL THEN 'kiosk_refused'
                                                     ELSE 'kiosk_open' END,
                                v_k.id::text, NULL, jsonb_build_object (
                                    'client_addr', p_addr, 'grid', v_k.grid, 'label', v_k.label,
                                    'token', left (p_sha256, 12)));
    END IF;
    IF v_k.id IS NOT NULL THEN
        RETURN QUERY SELECT v_k.id, v_k.grid, v_k.label;
    END IF;
END
$$;

-- The gateway, after a verified password (gf_login_begin counted the
-- attempt): the level of the person's grid (gateway/totp_levels), the
-- sealed TOTP secret (NULL: not enrolled), the last accepted time step,
-- and whether the password is a one-time one to be changed now.
CREATE OR REPLACE FUNCTION gf_login_totp (p_person text)
RETURNS TABLE (level integer, sealed text, step bigint, must_change boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT g.level::integer, t.sealed, coalesce (l.totp_step, 0), a.must_change
      FROM accounts a JOIN people p ON p.id = a.person JOIN grids g ON g.code = p.grid
      LEFT JOIN account_totp t ON t.person = a.person
      LEFT JOIN account_logins l ON l.person = a.person
     WHERE a.person = p_person
$$;

-- gridctl user totp: a new sealed secret for an account (enrolment or
-- re-enrolment: the old one stops working, the time steps start again).
-- False when the person has no account.  Audited by the row trigger (the
-- sealed secret shown as "(secret)").
CREATE OR REPLACE FUNCTION gf_account_totp_set (p_person text, p_sealed text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM accounts WHERE person = p_person;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    -- (no ON CONFLICT: reading excluded.sealed would need SELECT on it)
    UPDATE account_totp SET sealed = p_sealed, enrolled_at = clock_timestamp ()
     WHERE person = p_person;
    IF NOT FOUND THEN
        INSERT INTO account_totp (person, sealed) VALUES (p_person, p_sealed);
    END IF;
    UPDATE account_logins SET totp_step = 0 WHERE person = p_person;
    RETURN true;
END
$$;

-- The gateway: the first login of an account with a one-time password
-- sets the person's own (the Argon2id string made by the gateway, after
-- the one-time password and any TOTP code were verified).  Audited by the
-- row trigger (the hash shown as "(secret)").
CREATE OR REPLACE FUNCTION gf_login_password_set (p_person text, p_hash text) RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    UPDATE accounts SET pw_hash = p_hash, must_change = false, updated_at = clock_timestamp ()
     WHERE person = p_person AND must_change AND disabled_at IS NULL RETURNING true
$$;
