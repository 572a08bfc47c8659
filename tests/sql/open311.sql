-- pgTAP: deploy/sql/repeatable/open311.sql — Open311's status for every
-- state, the service definition's groups from special_groups, and the
-- requests' filters and masking (rolled back).
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (13);

INSERT INTO sim_clock (at) VALUES ('2026-11-04 10:00+08')
    ON CONFLICT (id) DO UPDATE SET at = excluded.at;

SELECT is_empty ($$SELECT state FROM case_state_names
                    WHERE (gf_open311_status (state) = 'closed')
                          <> (gf_case_resolved (state) OR state = 'rejected')$$,
                 'closed exactly when gf_case_resolved or rejected, in every state');
SELECT is (gf_open311_status ('merged'), 'open', 'a merged case follows its twin: open');

SELECT results_eq ($$SELECT v->>'key', v->>'name'
                      FROM json_array_elements (gf_open311_service ('water')->'attributes') a,
                           json_array_elements (a->'values') v
                     WHERE a->>'code' = 'groups'$$,
                   $$SELECT code, name FROM special_groups ORDER BY ord$$,
                   'the groups attribute lists special_groups in their order');
INSERT INTO special_groups (code, name, name_en, ord) VALUES ('veteran', '退役军人', 'veteran', 8);
SELECT ok (gf_open311_service ('water')::text LIKE '%"key" : "veteran", "name" : "退役军人"%',
           'a special group added to the table is offered');
SELECT ok (gf_open311_service ('nosuch') IS NULL, 'no such service: NULL');

INSERT INTO cases (id, source, source_ref, root, grid, state, category, description, name, phone,
                   address, received_at, routed_at)
VALUES (920001, 'open311', 'O1', 'QNL', 'QNL.01.001', 'routed', 'water', '水管漏水', '李四',
        '13700001111', '青年路街道西街村1组2号', '2026-11-04 08:00+08', '2026-11-04 08:05+08'),
       (920002, 'open311', 'O2', 'QNL', 'QNL.01.001', 'called_back', 'road', '路灯不亮', NULL,
        NULL, NULL, '2026-11-03 08:00+08', '2026-11-03 08:05+08'),
       (920003, 'open311', 'O3', 'QNL', 'QNL.01.001', 'merged', 'water', '水管漏水', NULL,
        NULL, NULL, '2026-11-04 08:01+08', '2026-11-04 08:05+08');
SELECT results_eq ($$SELECT r->>'service_request_id', r->>'status'
                      FROM json_array_elements (gf_open311_requests (NULL, NULL, NULL, NULL, NULL)) r$$,
                   $$VALUES ('920003', 'open'), ('920001', 'open'), ('920002', 'closed')$$,
                   'requests: newest first, with their status');
SELECT results_eq ($$SELECT r->>'service_request_id'
                      FROM json_array_elements (gf_open311_requests (NULL, '{water,road}', NULL, NULL,
                                                                     '{closed}')) r$$,
                   $$VALUES ('920002')$$, 'requests: status and service code filters');
SELECT results_eq ($$SELECT r->>'service_request_id'
                      FROM json_array_elements (gf_open311_requests ('{920002,920001,1}', '{nosuch}',
                                                                     NULL, NULL, '{open}')) r$$,
                   $$VALUES ('920001'), ('920002')$$,
                   'requests by id: the other filters ignored, unknown ids left out');
SELECT is (gf_open311_request (920001)->0->>'address', '青年路街道西街**',
           'a request''s address is coarse');
UPDATE cases SET description = '我是李四，电话 13700001111，座机 6543210，身份证 11010519491231002X，'
                               || '卡号 6222021234567890123，邮箱 lisi@example.com', groups = '{petitioner}'
 WHERE id = 920001;
SELECT is (gf_open311_request (920001)->0->>'description',
           '我是[姓名]，电话 [电话]，座机 [电话]，身份证 [证件号]，卡号 [卡号]，邮箱 [邮箱]',
           'a request''s description is redacted (the caller''s name too)');
SELECT ok (gf_open311_request (920001)::text !~ '(李四|13700001111|6543210|11010519491231002X|6222021234567890123|lisi@|petitioner|上访)',
           'no planted value and no special group anywhere in the request');

-- A rejected case (028): closed, and status_notes says why, in Chinese.
UPDATE cases SET state = 'rejected', rejected_reason = 'out_of_jurisdiction' WHERE id = 920001;
SELECT is (gf_open311_request (920001)->0->>'status', 'closed', 'a rejected request is closed');
SET LOCAL ROLE gf_gateway;
SELECT is (gf_open311_request (920001)->0->>'status_notes', '不予办理：非本辖区或职责范围',
           'its status_notes name the reason (as the gateway reads it)');
RESET ROLE;

SELECT * FROM finish ();
ROLLBACK;
