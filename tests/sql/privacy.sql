-- pgTAP: deploy/sql/repeatable/privacy.sql — the three views of a case:
-- staff in scope see everything, the stream (case.received and every other
-- event a case's life writes) and the public (Open311) see no name, phone,
-- ID or card number, e-mail, address detail or special group; notification
-- texts carry the masked phone and the redacted description only.  Each
-- role reads what its service reads (SET LOCAL ROLE).  Rolled back.
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (24);

INSERT INTO sim_clock (at) VALUES ('2026-11-04 10:00+08')
    ON CONFLICT (id) DO UPDATE SET at = excluded.at;
-- The planted values: no other text of the fixture contains any of them.
CREATE TEMP TABLE planted (v text);
INSERT INTO planted VALUES ('欧阳秘'), ('13912348765'), ('6543210'), ('11010519491231002X'),
    ('6222021234567890123'), ('ouyang.mi@example.com'), ('西街村1组17号'), ('petitioner'),
    ('上访'), ('39.912345');
GRANT SELECT ON planted TO PUBLIC;
CREATE FUNCTION pg_temp.hits (p_text text) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg (v, ' ') FROM planted WHERE strpos (p_text, v) > 0
$$;

-- Through the intake's own function, as the intake's role.
SET LOCAL ROLE gf_intake;
CREATE TEMP TABLE r ON COMMIT DROP AS SELECT * FROM gf_intake_store ('[
  {"i": 0, "rid": "p-0", "source": "hotline", "source_ref": "gft-pii",
   "description": "我是欧阳秘，手机13912348765，座机6543210，身份证11010519491231002X，卡号6222021234567890123，邮箱ouyang.mi@example.com",
   "category": "sanitation", "grid": "QNL.01.001", "address": "青年路街道西街村1组17号",
   "name": "欧阳秘", "phone": "13912348765", "urgent": false, "groups": "petitioner"},
  {"i": 1, "rid": "p-1", "source": "open311", "source_ref": "gft-coord", "description": "路灯不亮",
   "address": "经纬度 39.912345,116.401234", "phone": "6543210", "urgent": false}]', 'QNL');
GRANT SELECT ON r TO PUBLIC;
RESET ROLE;
CREATE FUNCTION pg_temp.cid (p_i int) RETURNS bigint LANGUAGE sql AS $$
    SELECT case_id FROM r WHERE i = p_i
$$;

-- Staff in scope (the case as if routed to its L3 grid).
UPDATE cases SET grid = 'QNL.01.001' WHERE id = pg_temp.cid (0);
SELECT is ((SELECT name || ' ' || phone || ' ' || address || ' ' || array_to_string (groups, ',')
              FROM gf_case_staff ('P-QNL.01.001-1', pg_temp.cid (0))),
           '欧阳秘 13912348765 青年路街道西街村1组17号 petitioner',
           'staff: the L3 grid''s leader sees name, phone, address and groups');
SELECT ok ((SELECT description LIKE '%11010519491231002X%'
              FROM gf_case_staff ('P-QNL.01.001-1', pg_temp.cid (0))),
           'staff: the description as the resident said it');
SELECT is ((SELECT count (*)::int FROM gf_case_staff ('P-QNL.01-1', pg_temp.cid (0))), 1,
           'staff: the L2 grid above it sees it once it is routed there');
SELECT is ((SELECT count (*)::int FROM gf_case_staff ('P-QNL.02.001-1', pg_temp.cid (0))), 0,
           'staff: another grid''s staff: no row');
SELECT is ((SELECT count (*)::int FROM gf_case_staff ('P-nobody', pg_temp.cid (0))), 0,
           'staff: not a person of the directory: no row');

-- The stream: case.received.
SELECT is ((SELECT payload->>'description' FROM case_events
             WHERE case_id = pg_temp.cid (0) AND type = 'case.received'),
           '我是[姓名]，手机[电话]，座机[电话]，身份证[证件号]，卡号[卡号]，邮箱[邮箱]',
           'stream: the description redacted (name, phones, ID, card, e-mail)');
SELECT is ((SELECT array_agg (k ORDER BY k) FROM case_events, jsonb_object_keys (payload) k
             WHERE case_id = pg_temp.cid (0) AND type = 'case.received'),
           ARRAY['address_masked', 'category', 'description', 'reported_at', 'reporter', 'source',
                 'source_ref', 'urgent'],
           'stream: case.received has these keys only (no name, phone, groups)');
SELECT is ((SELECT payload->>'address_masked' FROM case_events
             WHERE case_id = pg_temp.cid (0) AND type = 'case.received'),
           '青年路街道西街**', 'stream: the address coarse');
SELECT is ((SELECT payload->>'address_masked' FROM case_events
             WHERE case_id = pg_temp.cid (1) AND type = 'case.received'),
           '经纬度 39.91,116.40', 'stream: coordinates rounded to 2 decimals');
SELECT is (gf_case_stream ((SELECT c FROM cases c WHERE c.id = pg_temp.cid (0))),
           (SELECT payload FROM case_events WHERE case_id = pg_temp.cid (0) AND type = 'case.received'),
           'stream: the event payload is gf_case_stream of the case');

-- Staff actions and the notifications they cause (texts travel on the stream).
SELECT is (gf_case_act (pg_temp.cid (0), 'p-sign', 'P-QNL.01.001-1', 'sign', 'registered', 'signed',
                        'case.signed', NULL, '已联系欧阳秘 ouyang.mi@example.com 与 13912348765', NULL,
                        NULL, NULL, NULL, NULL, NULL, NULL), 2, 'a sign with a note');
SELECT is (gf_case_act (pg_temp.cid (0), 'p-cls', 'P-QNL.01.001-1', 'classify', 'signed', 'signed',
                        'case.classified', NULL, NULL, NULL, 'hard', true, 'petitioner,dibao', NULL,
                        NULL, NULL), 3, 'a classification with groups');
SELECT is ((SELECT restricted FROM case_events WHERE case_id = pg_temp.cid (0) AND type = 'case.signed'),
           '{"note": "已联系欧阳秘 ouyang.mi@example.com 与 13912348765"}'::jsonb,
           'staff: the clear note is kept in restricted');
SELECT is ((SELECT payload->>'note' FROM case_events WHERE case_id = pg_temp.cid (0) AND type = 'case.signed'),
           '已联系[姓名] [邮箱] 与 [电话]', 'stream: a staff note redacted (the caller''s name too)');
SELECT ok ((SELECT restricted->'groups' = '["petitioner", "dibao"]' AND NOT payload ? 'groups'
              FROM case_events WHERE case_id = pg_temp.cid (0) AND type = 'case.classified'),
           'stream: a classification''s groups only in restricted');
SET LOCAL ROLE gf_notifier;
SELECT ok (gf_notify_many ('notifier', jsonb_build_array (
               jsonb_build_object ('case_id', pg_temp.cid (0), 'type', 'case.routed', 'grid', 'QNL.01.001'),
               jsonb_build_object ('case_id', pg_temp.cid (0), 'type', 'case.received', 'grid', 'QNL'),
               jsonb_build_object ('case_id', pg_temp.cid (1), 'type', 'case.received', 'grid', 'QNL'))) > 0,
           'notifier: notifications created under its role (it cannot read the clear description)');
RESET ROLE;
SELECT ok ((SELECT bool_and (text LIKE '%来电 139****8765%' AND text LIKE '%[电话]%')
              FROM notifications WHERE case_id = pg_temp.cid (0) AND kind = 'case.routed'),
           'texts: the masked phone and the redacted description');
SELECT ok ((SELECT count (*) > 0 AND bool_and (text NOT LIKE '%6543210%')
              FROM notifications WHERE case_id = pg_temp.cid (1)),
           'texts: a 7-digit phone never in full');

-- Every event of these cases, as published: no planted value.
SELECT is ((SELECT string_agg (DISTINCT pg_temp.hits (payload::text), ' ') FROM case_events
             WHERE case_id IN (pg_temp.cid (0), pg_temp.cid (1))),
           NULL, 'stream: no planted value in any event payload of the cases');
SELECT is ((SELECT string_agg (DISTINCT pg_temp.hits (text), ' ') FROM notifications
             WHERE case_id IN (pg_temp.cid (0), pg_temp.cid (1))),
           NULL, 'texts: no planted value in any notification text');

-- The public, as the gateway's role.
SET LOCAL ROLE gf_gateway;
SELECT is ((SELECT row (p.category, p.state, p.grid, p.location)::text FROM gf_case_public (pg_temp.cid (0)) p),
           row ('sanitation', 'signed', 'QNL.01.001', '青年路街道西街**')::text,
           'public: category, state, grid, coarse location');
SELECT is ((SELECT pg_temp.hits (row (p.*)::text) FROM gf_case_public (pg_temp.cid (0)) p), NULL,
           'public: no planted value');
SELECT is ((SELECT pg_temp.hits (gf_open311_requests (ARRAY[pg_temp.cid (0), pg_temp.cid (1)], NULL,
                                                      NULL, NULL, NULL)::text)),
           NULL, 'public: no planted value in the Open311 reads');
SELECT throws_ok (format ('SELECT * FROM gf_case_staff (%L, %s)', 'P-QNL.01.001-1', pg_temp.cid (0)),
                  '42501', NULL, 'gateway: the staff view is refused (no read of cases)');
RESET ROLE;

SELECT * FROM finish ();
ROLLBACK;
