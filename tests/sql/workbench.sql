-- workbench.sql: the workbench's reads, each limited to the person's subtree.
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (18);
INSERT INTO sim_clock (at) VALUES ('2026-03-02 10:00+08') ON CONFLICT (id) DO UPDATE SET at = excluded.at;
INSERT INTO cases (id, source, source_ref, root, grid, state, description, name, phone, received_at,
                   routed_at, urgent) VALUES
    (900001, 'app', 'wbt-1', 'QNL', 'QNL.07.063', 'routed', '路灯坏了', '王阿姨', '13800001234',
     '2026-03-02 09:00+08', '2026-03-02 09:00+08', false),
    (900002, 'app', 'wbt-2', 'QNL', 'QNL.07.063', 'routed', '积水', '李叔', '13900002222',
     '2026-02-27 09:00+08', '2026-02-27 09:00+08', false),
    (900003, 'app', 'wbt-3', 'QNL', 'QNL.07.063', 'signed', '噪音', NULL, NULL,
     '2026-03-01 09:00+08', '2026-03-01 09:00+08', false),
    (900004, 'app', 'wbt-4', 'QNL', 'QNL.08.067', 'routed', '别处的案件', '赵', '13700000000',
     '2026-03-02 09:00+08', '2026-03-02 09:00+08', false),
    (900005, 'app', 'wbt-5', 'QNL', 'QNL.07.063', 'closed', '已归档', NULL, NULL,
     '2026-02-01 09:00+08', '2026-02-01 09:00+08', false);

SELECT results_eq ($$SELECT grid, level FROM gf_wb_scope ('P-QNL.07.063-1')$$,
                   $$VALUES ('QNL.07.063'::text, 3::smallint)$$, 'scope: the person''s grid and level');
SELECT is ((SELECT string_agg (x->>'id', ',') FROM json_array_elements (gf_wb_queue ('P-QNL.07.063-1', 50)->'sign') x),
           '900002,900001', 'to sign for: the overdue one first, then by deadline; not another subtree''s');
SELECT is ((SELECT string_agg (x->>'overdue', ',') FROM json_array_elements (gf_wb_queue ('P-QNL.07.063-1', 50)->'sign') x),
           'true,false', 'overdue is gf_overdue_at''s');
SELECT is ((gf_wb_queue ('P-QNL.07.063-1', 50)->'sign'->1->>'deadline')::bigint,
           (extract (epoch FROM gf_overdue_at ('routed', 'QNL', false, '2026-03-02 09:00+08', '2026-03-02 09:00+08', NULL)) * 1000)::bigint,
           'the sign-for deadline is gf_overdue_at''s');
SELECT is ((SELECT string_agg (x->>'id', ',') FROM json_array_elements (gf_wb_queue ('P-QNL.07.063-1', 50)->'mine') x),
           '900003', 'my open cases: the signed one; not the closed one');
SELECT is (json_array_length (gf_wb_queue ('P-QNL.07.063-1', 1)->'sign'), 1, 'the limit applies per list');
SELECT is ((gf_wb_queue ('P-QNL.07.063-1', 1)->'counts'->>'sign')::int, 2, 'with the list''s count');
SELECT is ((SELECT count (*) FROM json_array_elements (gf_wb_queue ('P-QNL.08.067-1', 50)->'sign') x
             WHERE (x->>'id')::bigint IN (900001, 900002)), 0::bigint, 'another subtree''s queue: none of QNL.07.063''s');
SELECT is (gf_wb_case ('P-QNL.07.063-1', 900001)->>'phone', '13800001234', 'case page in scope: the resident''s contact');
SELECT is (gf_wb_case ('P-QNL.07-1', 900001)->>'actor_level', '2', 'an L2 leader above it reads it, with its level');
SELECT ok (gf_wb_case ('P-QNL.08.067-1', 900001) IS NULL, 'outside the subtree: nothing');
SELECT ok (gf_wb_meeting ('P-QNL.07.063-1', NULL) IS NULL, 'the meeting page: not for an L3 leader');
INSERT INTO attachments (case_id, request_id, actor, filename, content_type, size, sha256, data, at)
VALUES (900001, 'wbt-photo', 'P-QNL.07.063-1', 'photo.png', 'image/png', 3,
        encode (sha256 ('\x010203'::bytea), 'hex'), '\x010203', gf_now ());
SELECT is ((SELECT err IS NULL AND data = '\x010203'::bytea AND content_type = 'image/png'
              FROM gf_wb_attachment ('P-QNL.07-1', (SELECT max (id) FROM attachments))), true,
           'a photo of a case in scope: its bytes');
SELECT is ((SELECT err || ' ' || (data IS NULL) FROM gf_wb_attachment ('P-QNL.08.067-1', (SELECT max (id) FROM attachments))),
           'forbidden true', 'outside the subtree: no bytes');
SELECT is ((SELECT err FROM gf_wb_attachment ('P-QNL.07-1', -1)), 'unknown', 'no such attachment');
INSERT INTO households (id, grid, address, head_name, phone, created_at, updated_at) VALUES
    ('H-WBT-1', 'QNL.07.063', '青年路63号1单元', '张大爷', '13600000001', gf_now (), gf_now ()),
    ('H-WBT-2', 'QNL.08.067', '青年路67号', '李大妈', NULL, gf_now (), gf_now ());
SELECT is ((SELECT string_agg (x->>'id', ',') FROM json_array_elements (gf_wb_households ('P-QNL.07.063-1', '青年路')) x
             WHERE x->>'id' LIKE 'H-WBT-%'), 'H-WBT-1', 'the household picker: the subtree''s households only');
SELECT is ((SELECT count (*) FROM json_array_elements (gf_wb_households ('P-QNL.07.063-1', '张大爷')) x
             WHERE x::jsonb ? 'phone' OR x->>'id' <> 'H-WBT-1'), 0::bigint, 'by the head''s name, without a phone');
SET LOCAL ROLE gf_ctl;
SELECT throws_ok ($$SELECT gf_wb_case ('P-QNL.07.063-1', 900001)$$, '42501', NULL, 'gridctl''s role may not call them');
RESET ROLE;
SELECT * FROM finish ();
ROLLBACK;
