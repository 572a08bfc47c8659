-- pgTAP: deploy/sql/repeatable/accounts.sql — accounts bound to the
-- directory, the two halves of a login (attempts counted, the lock after
-- the configured count, the lock's end), sessions (idle and absolute
-- expiry, logout, logout everywhere, a disabled account), every event in
-- the audit trail, and gridctl's functions as gf_ctl (rolled back).
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (47);

\ir fixtures/as_role.sql

-- A syntactically valid Argon2id string (the database never verifies it).
CREATE TEMP TABLE h AS SELECT '$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo'::text AS v;
GRANT SELECT ON h TO gf_ctl;

SELECT is (pg_temp.as_role ('gf_ctl', 'SELECT gf_account_add (''P-QNL.01.001-1'', (SELECT v FROM h))'),
           '00000', 'gridctl (gf_ctl) may add an account');
SELECT gf_account_add ('P-QNL.01.001-1', (SELECT v FROM h));
SELECT throws_ok ($$ SELECT gf_account_add ('nobody', (SELECT v FROM h)) $$, '23503', NULL,
                  'an account needs a person of the directory');
SELECT throws_ok ($$ SELECT gf_account_add ('P-QNL.01.001-1', (SELECT v FROM h)) $$, '23505', NULL,
                  'one account per person');
SELECT throws_ok ($$ SELECT gf_account_add ('P-QNL-1', 'plain') $$, '23514', NULL,
                  'only an Argon2id string is stored as a password');
SELECT results_eq ($$ SELECT person, grid, role, state FROM gf_accounts_list ('QNL.01') $$,
                   $$ VALUES ('P-QNL.01.001-1', 'QNL.01.001', 'leader', 'active') $$,
                   'the list shows the directory''s grid and role, by subtree');
SELECT is ((SELECT after ->> 'pw_hash' FROM audit_log WHERE tab = 'accounts' AND op = 'insert'
             ORDER BY id DESC LIMIT 1), '(secret)', 'the account''s creation is audited, the hash hidden');

-- Logins: begin hands the hash over and counts the attempt.
SELECT results_eq ($$ SELECT status, pw_hash FROM gf_login_begin ('P-QNL.01.001-1', '10.0.0.1', 900) $$,
                   $$ SELECT 'ok'::text, v FROM h $$, 'begin: the hash of an enabled account');
SELECT is ((SELECT failures FROM account_logins WHERE person = 'P-QNL.01.001-1'), 1,
           'the attempt counts until it succeeds');
SELECT is (gf_login_finish ('P-QNL.01.001-1', true, '10.0.0.1', repeat ('a', 64), repeat ('c', 64), 3, 60),
           'login', 'a verified password opens a session');
SELECT is ((SELECT failures FROM account_logins WHERE person = 'P-QNL.01.001-1'), 0,
           'a login clears the failures');
SELECT results_eq ($$ SELECT person, grid, role, csrf FROM gf_session_check (repeat ('a', 64), 600, 3600) $$,
                   $$ VALUES ('P-QNL.01.001-1', 'QNL.01.001', 'leader', repeat ('c', 64)) $$,
                   'the session names the person, the grid, the role and the CSRF token');
SELECT is (gf_login_finish ('P-QNL.01.001-1', true, '10.0.0.1', repeat ('b', 64), repeat ('c', 64), 3, 60),
           'failed', 'finish without a begin opens nothing');
SELECT is ((SELECT status FROM gf_login_begin ('nobody', '10.0.0.1', 900)), 'refused',
           'begin: no account, no hash');

-- Three wrong passwords lock the account.
SELECT is (status, 'ok', 'begin: not locked yet') FROM gf_login_begin ('P-QNL.01.001-1', '10.0.0.2', 900);
SELECT is (gf_login_finish ('P-QNL.01.001-1', false, '10.0.0.2', NULL, NULL, 3, 60), 'failed',
           'a first wrong password: failed');
SELECT is (status, 'ok', 'begin: not locked yet') FROM gf_login_begin ('P-QNL.01.001-1', '10.0.0.2', 900);
SELECT is (gf_login_finish ('P-QNL.01.001-1', false, '10.0.0.2', NULL, NULL, 3, 60), 'failed',
           'a second wrong password: failed');
SELECT is (status, 'ok', 'begin: not locked yet') FROM gf_login_begin ('P-QNL.01.001-1', '10.0.0.2', 900);
SELECT is (gf_login_finish ('P-QNL.01.001-1', false, '10.0.0.2', NULL, NULL, 3, 60), 'locked',
           'the third wrong password within the window locks the account');
SELECT results_eq ($$ SELECT status, pw_hash FROM gf_login_begin ('P-QNL.01.001-1', '10.0.0.1', 900) $$,
                   $$ VALUES ('locked'::text, NULL::text) $$, 'a locked account gives no hash');
SELECT is ((SELECT state FROM gf_accounts_list (NULL) WHERE person = 'P-QNL.01.001-1'), 'locked',
           'the list shows the lock');
UPDATE account_logins SET locked_until = clock_timestamp () - interval '1 second';
SELECT is ((SELECT status FROM gf_login_begin ('P-QNL.01.001-1', '10.0.0.1', 900)), 'ok',
           'the lock ends when its time is up');

-- Sessions: idle, absolute, logout, logout everywhere, disabled.
INSERT INTO sessions (token_sha256, person, csrf, created_at, seen_at) VALUES
    (repeat ('d', 64), 'P-QNL.01.001-1', repeat ('c', 64), clock_timestamp () - interval '2 hours', clock_timestamp ()),
    (repeat ('e', 64), 'P-QNL.01.001-1', repeat ('c', 64), clock_timestamp (), clock_timestamp () - interval '20 minutes'),
    (repeat ('f', 64), 'P-QNL.01.001-1', repeat ('c', 64), clock_timestamp (), clock_timestamp ());
SELECT is ((SELECT count (*) FROM gf_session_check (repeat ('d', 64), 600, 3600)), 0::bigint,
           'a session older than the absolute limit is refused');
SELECT is ((SELECT count (*) FROM gf_session_check (repeat ('e', 64), 600, 3600)), 0::bigint,
           'a session idle past the idle limit is refused');
SELECT results_eq ($$ SELECT token_sha256, ended_why FROM sessions WHERE token_sha256 IN (repeat ('d', 64), repeat ('e', 64)) ORDER BY 1 $$,
                   $$ VALUES (repeat ('d', 64), 'expired'), (repeat ('e', 64), 'idle') $$,
                   'both are ended, with why');
SELECT is (gf_session_end (repeat ('a', 64), false, '10.0.0.1'), 1, 'logout ends one session');
SELECT is ((SELECT count (*) FROM gf_session_check (repeat ('a', 64), 600, 3600)), 0::bigint,
           'a logged-out session is refused');
INSERT INTO sessions (token_sha256, person, csrf) VALUES (repeat ('1', 64), 'P-QNL.01.001-1', repeat ('c', 64));
SELECT is (gf_session_end (repeat ('f', 64), true, '10.0.0.1'), 2, 'logout-all ends every open session of the person');
SELECT is (pg_temp.as_role ('gf_ctl', 'SELECT gf_account_disable (''P-QNL.01.001-1'')'), '00000',
           'gridctl (gf_ctl) may disable an account');
SELECT is (pg_temp.as_role ('gf_ctl', 'SELECT gf_account_reset (''P-QNL.01.001-1'', (SELECT v FROM h))'), '00000',
           'gridctl (gf_ctl) may reset an account');
SELECT is ((SELECT string_agg (DISTINCT op, ',' ORDER BY op) FROM audit_log WHERE tab = 'accounts'),
           'insert,lockout,login,login_failed,logout,logout_all,session_end',
           'every login event is in the audit trail');
SELECT is ((SELECT string_agg (after ->> 'reason', ',' ORDER BY id) FROM audit_log WHERE op = 'login_failed'),
           'unknown,password,password,password,locked', 'each failure with its reason');

-- TOTP (039): gridctl seals a secret; the gateway reads it after the password.
SELECT gf_account_add ('P-QNL.07-1', (SELECT v FROM h));
SELECT is (pg_temp.as_role ('gf_ctl', 'SELECT gf_account_totp_set (''P-QNL.07-1'', ''abcd'')'), '00000',
           'gridctl (gf_ctl) may enrol an account in TOTP');
SELECT gf_account_totp_set ('P-QNL.07-1', 'abcd');
SELECT results_eq ($$ SELECT level, sealed, step FROM gf_login_totp ('P-QNL.07-1') $$,
                   $$ VALUES (2, 'abcd', 0::bigint) $$, 'the gateway reads the level, the sealed secret, the last step');
-- A one-time password (user import): the first login sets the person's own.
SELECT gf_account_add ('P-QNL.07.058-2', (SELECT v FROM h), true);
SELECT is ((SELECT count (*)::int FROM gf_accounts_missing ('QNL.07') WHERE person IN ('P-QNL.07-1', 'P-QNL.07.058-2')), 0,
           'people with an account are not missing');
SELECT is ((SELECT must_change FROM gf_login_totp ('P-QNL.07.058-2')) || ' ' || gf_login_password_set ('P-QNL.07.058-2', (SELECT v FROM h))
           || ' ' || coalesce (gf_login_password_set ('P-QNL.07.058-2', (SELECT v FROM h))::text, 'none'),
           'true true none', 'the first login changes a one-time password, once');
SELECT NULL FROM gf_login_begin ('P-QNL.07-1', '10.0.0.7', 900);
SELECT is (gf_login_finish ('P-QNL.07-1', true, '10.0.0.7', repeat ('9', 64), repeat ('c', 64), 3, 60, 'totp', 5900000),
           'login', 'a login with a code keeps its time step');
SELECT NULL FROM gf_login_begin ('P-QNL.07-1', '10.0.0.7', 900);
SELECT is (gf_login_finish ('P-QNL.07-1', false, '10.0.0.7', NULL, NULL, 3, 60, 'totp'), 'failed',
           'a wrong code is a failure');
SELECT is ((SELECT step FROM gf_login_totp ('P-QNL.07-1'))
           || ' ' || (SELECT after ->> 'reason' FROM audit_log WHERE op = 'login_failed' ORDER BY id DESC LIMIT 1),
           '5900000 totp', 'audited with reason totp; the accepted step stays');

-- Kiosk tokens (037): gridctl adds, lists and revokes; the gateway checks.
SELECT is (pg_temp.as_role ('gf_ctl', 'SELECT gf_kiosk_add (''QNL.07'', ''大屏'', repeat (''7'', 64), NULL)'), '00000',
           'gridctl (gf_ctl) may add a kiosk token');
SELECT gf_kiosk_add ('QNL.07', '大屏', repeat ('7', 64), NULL) AS k7 \gset
SELECT gf_kiosk_add ('QNL.08', '过期', repeat ('8', 64), clock_timestamp () - interval '1 second') AS k8 \gset
SELECT throws_ok ($$ SELECT gf_kiosk_add ('NOPE', 'x', repeat ('9', 64), NULL) $$, '23503', NULL,
                  'a kiosk token needs a grid of the directory');
SELECT results_eq ($$ SELECT grid, label FROM gf_kiosk_check (repeat ('7', 64), false, NULL) $$,
                   $$ VALUES ('QNL.07', '大屏') $$, 'the gateway finds a valid token''s grid');
SELECT is_empty ($$ SELECT * FROM gf_kiosk_check (repeat ('8', 64), true, '10.0.0.9') $$,
                 'an expired token reads nothing');
SELECT is (gf_kiosk_revoke (:k7), true, 'revoke');
SELECT is_empty ($$ SELECT * FROM gf_kiosk_check (repeat ('7', 64), true, '10.0.0.9') $$,
                 'a revoked token reads nothing');
SELECT results_eq ($$ SELECT grid, state FROM gf_kiosk_list ('QNL') WHERE label IN ('大屏', '过期') ORDER BY grid $$,
                   $$ VALUES ('QNL.07', 'revoked'), ('QNL.08', 'expired') $$, 'the list shows each state');
SELECT is ((SELECT string_agg (op || ':' || coalesce (after ->> 'token_sha256', after ->> 'client_addr', '-'), ',' ORDER BY id)
              FROM audit_log WHERE tab = 'kiosk_tokens'),
           'insert:(secret),insert:(secret),kiosk_refused:10.0.0.9,update:-,kiosk_refused:10.0.0.9',
           'refused kiosk links and the revocation are audited, the hash hidden');

SELECT * FROM finish ();
ROLLBACK;
