-- pgTAP: deploy/sql/repeatable/audit.sql — every change to an administered
-- table, by any path, leaves one audit_log row saying who (the login, the
-- role set, gridctl's claims), what (table, key, before and after: the
-- changed columns only; secrets hidden); an unchanged row leaves none; a
-- redrive is recorded, the notifier's own delivery updates are not;
-- audit_log is append-only for everyone and readable only by gf_auditor.
-- All rolled back.
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (29);

\ir fixtures/as_role.sql
CREATE TEMP TABLE mark AS SELECT coalesce (max (id), 0) AS id FROM audit_log;
CREATE FUNCTION pg_temp.last (p_tab text) RETURNS audit_log LANGUAGE sql AS $$
    SELECT * FROM audit_log WHERE tab = p_tab AND id > (SELECT id FROM mark) ORDER BY id DESC LIMIT 1
$$;
CREATE FUNCTION pg_temp.n (p_tab text) RETURNS bigint LANGUAGE sql AS $$
    SELECT count (*) FROM audit_log WHERE tab = p_tab AND id > (SELECT id FROM mark)
$$;

-- gridctl names its OS user, --actor and command (gridctl_audit.c).
SELECT set_config ('gridflow.os_user', 'ops1', true), set_config ('gridflow.actor', '王科长', true),
       set_config ('gridflow.command', 'grids import', true);

-- A directory change as gf_ctl (gridctl's role).
SET LOCAL ROLE gf_ctl;
INSERT INTO people (id, grid, role, name, phone) VALUES ('P-AUDIT-1', 'QNL.01.001', 'member', '李四', '13800000001');
RESET ROLE;
SELECT is ((SELECT row (op, object, db_user = session_user, db_role, os_user, actor, command)::text
              FROM pg_temp.last ('people')),
           row ('insert', 'P-AUDIT-1', true, 'gf_ctl', 'ops1', '王科长', 'grids import')::text,
           'insert: who (login, role, OS user, actor, command) and which row');
SELECT is ((pg_temp.last ('people')).after ->> 'name', '李四', 'insert: the row after');
SELECT ok ((pg_temp.last ('people')).before IS NULL, 'insert: nothing before');
SELECT ok ((pg_temp.last ('people')).at BETWEEN now () AND clock_timestamp (),
           'at: the real time of the change');

SET LOCAL ROLE gf_ctl;
UPDATE people SET name = name WHERE id = 'P-AUDIT-1';
RESET ROLE;
SELECT is (pg_temp.n ('people'), 1::bigint, 'an update that changes nothing is not recorded');

SET LOCAL ROLE gf_ctl;
UPDATE people SET phone = '13800000002' WHERE id = 'P-AUDIT-1';
RESET ROLE;
SELECT is ((SELECT row (op, before, after)::text FROM pg_temp.last ('people')),
           row ('update', '{"phone": "13800000001"}'::jsonb, '{"phone": "13800000002"}'::jsonb)::text,
           'update: only the changed columns, before and after');

SET LOCAL ROLE gf_ctl;
DELETE FROM people WHERE id = 'P-AUDIT-1';
RESET ROLE;
SELECT is ((SELECT row (op, before ->> 'phone', after)::text FROM pg_temp.last ('people')),
           row ('delete', '13800000002', NULL::jsonb)::text, 'delete: the row before');

-- Without gridctl's claims: the login and role only.
SELECT set_config ('gridflow.os_user', '', true), set_config ('gridflow.actor', '', true),
       set_config ('gridflow.command', '', true);
-- Keys: the hash is never copied into the trail.
INSERT INTO api_keys (name, key_sha256) VALUES ('audit-app', repeat ('a', 64));
SELECT is ((SELECT row (object, after ->> 'key_sha256', os_user, actor)::text FROM pg_temp.last ('api_keys')),
           row ('audit-app', '(secret)', NULL, NULL)::text,
           'api key: recorded with its hash hidden; no claims from plain SQL');
UPDATE api_keys SET may_set_priority = true WHERE name = 'audit-app';
SELECT is ((pg_temp.last ('api_keys')).after, '{"may_set_priority": true}'::jsonb,
           'api key: a right granted is recorded');
UPDATE api_keys SET key_sha256 = repeat ('b', 64) WHERE name = 'audit-app';
SELECT is ((SELECT row (before, after)::text FROM pg_temp.last ('api_keys')),
           row ('{"key_sha256": "(secret)"}'::jsonb, '{"key_sha256": "(secret)"}'::jsonb)::text,
           'api key: a new hash shows as changed, not its value');

-- App tokens (gridctl notify token): the token's hash is hidden too.
SET LOCAL ROLE gf_ctl;
INSERT INTO app_tokens (person, token_sha256) VALUES ('P-QNL-1', sha256 ('tok'))
    ON CONFLICT (person) DO UPDATE SET token_sha256 = excluded.token_sha256;
RESET ROLE;
SELECT is ((pg_temp.last ('app_tokens')).after ->> 'token_sha256', '(secret)',
           'app token: recorded, its hash hidden');

-- Identities (gridctl cert new / revoke).
SET LOCAL ROLE gf_ctl;
INSERT INTO identities (name, public_key, kind, grid) VALUES ('audit-box', repeat ('k', 40), 'adapter', 'QNL');
UPDATE identities SET revoked_at = now () WHERE name = 'audit-box';
RESET ROLE;
SELECT is ((SELECT string_agg (op, ',' ORDER BY id) FROM audit_log
             WHERE tab = 'identities' AND object = 'audit-box' AND id > (SELECT id FROM mark)),
           'insert,update', 'identity: registered and revoked, both recorded');

-- The clock.
SELECT gf_clock_move ('2026-05-01 09:00+08', true, NULL);
SELECT gf_clock_move ('2026-05-02 09:00+08', false, interval '8 days');
SELECT is ((SELECT row (op, (before ->> 'at')::timestamptz, (after ->> 'at')::timestamptz)::text
              FROM pg_temp.last ('sim_clock')),
           row ('update', timestamptz '2026-05-01 09:00+08', timestamptz '2026-05-02 09:00+08')::text,
           'clock: each move, from and to');
SELECT is ((pg_temp.last ('sim_clock')).sim_at, timestamptz '2026-05-02 09:00+08',
           'sim_at: the simulated time after the change');

-- Rules and templates.
SET LOCAL ROLE gf_ctl;
UPDATE notification_rules SET enabled = NOT enabled WHERE event_type = 'case.routed' AND audience = 'grid_leader';
UPDATE escalation_rules SET params = params || '{"audit": 1}' WHERE root = '*' AND rule = 'urgent';
RESET ROLE;
SELECT is ((pg_temp.last ('notification_rules')).object, 'case.routed/grid_leader',
           'notification rule edit recorded with its key');
SELECT is ((pg_temp.last ('escalation_rules')).after -> 'params' ->> 'audit', '1',
           'escalation rule edit recorded with the new params');

-- Deliveries: the notifier's updates are not administration; a redrive is.
INSERT INTO cases (source, source_ref, root, grid, description, received_at)
VALUES ('hotline', 'audit-1', 'QNL', 'QNL.01.001', 'x', gf_now ());
INSERT INTO notifications (case_id, kind, recipient, channel, text, created_at)
VALUES ((SELECT id FROM cases WHERE source_ref = 'audit-1'), 'audit', 'P-QNL-1', 'sms', 't', gf_now ());
UPDATE deliveries SET state = 'dead', attempts = 5, last_error = 'down'
 WHERE notification = (SELECT id FROM notifications WHERE kind = 'audit');
INSERT INTO deliveries (notification, channel, address, dedupe_key, urgent, not_before, created_at)
SELECT id, 'sms', '13800000009', 'audit-x', false, gf_now (), gf_now () FROM notifications
 WHERE kind = 'audit' AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.notification = notifications.id);
UPDATE deliveries SET state = 'dead', attempts = 5, last_error = 'down'
 WHERE notification = (SELECT id FROM notifications WHERE kind = 'audit');
SELECT is (pg_temp.n ('deliveries'), 0::bigint, 'delivery updates by the sender are not recorded');
SET LOCAL ROLE gf_ctl;
UPDATE deliveries SET state = 'pending', attempts = 0 WHERE state = 'dead'
   AND notification = (SELECT id FROM notifications WHERE kind = 'audit');
RESET ROLE;
SELECT is ((SELECT row (op, before ->> 'state', after ->> 'state', db_role)::text FROM pg_temp.last ('deliveries')),
           row ('update', 'dead', 'pending', 'gf_ctl')::text, 'a redrive is recorded');

-- Append-only, for everyone; readable by gf_auditor only.
SELECT is (pg_temp.as_role ('gf_ctl', 'SELECT count (*) FROM audit_log'), '42501',
           'gf_ctl may not read the trail');
SELECT is (pg_temp.as_role ('gf_ctl', 'INSERT INTO audit_log (tab, op) VALUES (''x'', ''insert'')'), '42501',
           'gf_ctl may not write the trail');
SELECT is (pg_temp.as_role ('gf_ctl', 'SELECT * FROM gf_audit_list (NULL)'), '42501',
           'gridctl audit as gf_ctl: refused');
SELECT is (pg_temp.as_role ('gf_ctl', 'SELECT gf_audit_write (''grids'', ''insert'', ''X'', NULL, NULL)'),
           '42501', 'gf_ctl may not write the trail through its writing function either');
SELECT is (pg_temp.as_role ('gf_auditor', 'SELECT * FROM gf_audit_list (NULL)'), '00000',
           'gridctl audit as gf_auditor: allowed');
SELECT is (pg_temp.as_role ('gf_auditor', 'UPDATE audit_log SET actor = ''x'''), '42501',
           'gf_auditor may not change the trail');
SELECT is (pg_temp.as_role ('gf_auditor', 'DELETE FROM audit_log'), '42501',
           'gf_auditor may not delete from the trail');
SELECT throws_ok ('UPDATE audit_log SET actor = ''x''', '42501', NULL,
                  'the owner''s UPDATE is refused by the trigger');
SELECT throws_ok ('DELETE FROM audit_log', '42501', NULL,
                  'the owner''s DELETE is refused by the trigger');
SELECT throws_ok ('TRUNCATE audit_log', '42501', NULL, 'TRUNCATE is refused');
SELECT ok ((SELECT count (*) FROM gf_audit_list (now () - interval '1 minute')) >= 10,
           'gf_audit_list lists the entries since a time');

SELECT * FROM finish ();
ROLLBACK;
