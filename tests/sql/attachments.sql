-- pgTAP: deploy/sql/repeatable/attachments.sql — storing an upload with its
-- sha256 and size, idempotent per (actor, request id), refused outside the
-- actor's or the identity's subtree, on a closed case, for an action that is
-- not the actor's; served to staff in scope only; the gateway's view shows
-- public attachments only; the roles.  On cases of our own (rolled back).
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (19);
\ir fixtures/as_role.sql

INSERT INTO sim_clock (at) VALUES ('2026-11-04 10:00+08')
    ON CONFLICT (id) DO UPDATE SET at = excluded.at;
CREATE FUNCTION pg_temp.c (p_ref text) RETURNS bigint LANGUAGE sql AS $$
    SELECT id FROM cases WHERE source_ref = p_ref
$$;
CREATE FUNCTION pg_temp.add (p_ref text, p_req text, p_actor text, p_public boolean,
                             p_data bytea, p_idn text DEFAULT NULL, p_action text DEFAULT NULL)
    RETURNS text LANGUAGE sql AS $$
    SELECT coalesce (err, CASE WHEN duplicate THEN 'duplicate' ELSE 'ok' END)
      FROM gf_attachment_add (pg_temp.c (p_ref), p_req, p_actor, 'photo.jpg', 'image/jpeg',
                              p_public, p_action, '现场照片', p_data, p_idn)
$$;
INSERT INTO cases (source, source_ref, root, grid, state, description, received_at, routed_at) VALUES
    ('hotline', 'AT-A', 'QNL', 'QNL.07.063', 'signed', 'x', '2026-11-04 09:00+08', '2026-11-04 09:05+08'),
    ('hotline', 'AT-Z', 'QNL', 'QNL.07.063', 'closed', 'x', '2026-11-01 09:00+08', '2026-11-01 09:05+08');
INSERT INTO case_actions (case_id, request_id, actor, action, from_state, to_state, version, at)
VALUES (pg_temp.c ('AT-A'), 'A-sign', 'P-QNL.07.063-1', 'sign', 'routed', 'signed', 2, '2026-11-04 09:10+08');

SELECT is (pg_temp.add ('AT-A', 'r1', 'P-QNL.07.063-1', false, '\xffd8ffe000'::bytea, NULL, 'A-sign'),
           'ok', 'stored (evidence for the actor''s sign)');
SELECT results_eq ($$SELECT size, sha256, public, (SELECT request_id FROM case_actions WHERE id = action_id)
                       FROM attachments WHERE request_id = 'r1'$$,
                   $$VALUES (5, encode (sha256 ('\xffd8ffe000'::bytea), 'hex'), false, 'A-sign')$$,
                   'size, sha256 over the bytes, not public, the action');
SELECT is (pg_temp.add ('AT-A', 'r1', 'P-QNL.07.063-1', false, '\xffd8ffe000'::bytea), 'duplicate',
           'a resend is a duplicate');
SELECT is ((SELECT count (*)::int FROM attachments), 1, 'stored once');
SELECT is (pg_temp.add ('AT-Z', 'r1', 'P-QNL.07.063-1', false, '\xffd8ffe000'::bytea), 'bad_value',
           'the request id used for another case');
SELECT is (pg_temp.add ('AT-A', 'r2', 'P-QNL.08.067-1', false, '\xffd8ffe000'::bytea), 'forbidden',
           'another grid''s staff member is refused');
SELECT is (pg_temp.add ('AT-A', 'r3', 'P-QNL.07.063-1', false, '\xffd8ffe000'::bytea, 'QNL.08'), 'forbidden',
           'an identity of another subtree is refused');
SELECT is (pg_temp.add ('AT-Z', 'r4', 'P-QNL.07.063-1', false, '\xffd8ffe000'::bytea), 'archived',
           'a closed case takes no more evidence');
SELECT is (pg_temp.add ('AT-A', 'r5', 'P-QNL.07.063-1', false, '\xffd8ffe000'::bytea, NULL, 'nope'), 'bad_value',
           'an action that is not the actor''s');
SELECT is (pg_temp.add ('AT-A', 'r6', 'P-QNL.07.063-1', true, '\x89504e470d0a1a0a00'::bytea), 'ok',
           'a public one');
SELECT is ((SELECT count (*)::int FROM case_events WHERE type = 'attachment.added'
             AND payload ? 'sha256' AND NOT payload ? 'filename' AND restricted ? 'filename'), 2,
           'attachment.added events: checksum on the stream, the filename staff-only');

SELECT is ((SELECT err || '|' || (data IS NULL) FROM gf_attachment_get (
               (SELECT id FROM attachments WHERE request_id = 'r1'), 'P-QNL.08.067-1')),
           'forbidden|true', 'get: another grid''s staff member gets no bytes');
SELECT is ((SELECT coalesce (err, 'ok') || '|' || encode (data, 'hex') FROM gf_attachment_get (
               (SELECT id FROM attachments WHERE request_id = 'r1'), 'P-QNL.07-1')),
           'ok|ffd8ffe000', 'get: the L2 leader above the case gets the bytes');
SELECT is ((SELECT array_agg (request_id ORDER BY id) FROM attachments a
             WHERE a.id IN (SELECT id FROM attachments_public)), ARRAY['r6'],
           'the gateway''s view: public attachments only');
SELECT is (pg_temp.as_role ('gf_gateway', 'SELECT data FROM attachments'), '42501',
           'gateway: the attachments table is refused');
SELECT is (pg_temp.as_role ('gf_intake', $$SELECT gf_attachment_add (1, 'x', 'P-QNL.07.063-1', 'a.pdf',
                               'application/pdf', false, NULL, NULL, '\x25504446'::bytea, NULL)$$),
           '00000', 'intake: may store attachments');
-- The archive of a closed case (资料归档齐).
INSERT INTO attachments (case_id, request_id, actor, filename, content_type, size, sha256, data, at)
VALUES (pg_temp.c ('AT-Z'), 'z1', 'P-QNL.07.063-1', 'done.pdf', 'application/pdf', 4,
        encode (sha256 ('\x25504446'::bytea), 'hex'), '\x25504446'::bytea, '2026-11-01 10:00+08');
SELECT is ((SELECT count (*)::int FROM gf_case_archive (pg_temp.c ('AT-A'))), 0,
           'no archive of a case that is not closed');
SELECT is ((SELECT array_agg (regexp_replace (path, '/[0-9]+-', '/N-')) FROM gf_case_archive (pg_temp.c ('AT-Z'))),
           ARRAY['case.json', 'timeline.json', 'referrals.json', 'attachments/N-done.pdf', 'manifest.json'],
           'the archive: case, timeline, referrals, attachments, then the manifest');
SELECT is ((SELECT jsonb_agg (f ORDER BY f->>'path')
              FROM gf_case_archive (pg_temp.c ('AT-Z')) m,
                   jsonb_array_elements (convert_from (m.data, 'UTF8')::jsonb->'files') f
             WHERE m.path = 'manifest.json'),
           (SELECT jsonb_agg (jsonb_build_object ('path', path, 'size', octet_length (data),
                                                  'sha256', encode (sha256 (data), 'hex')) ORDER BY path)
              FROM gf_case_archive (pg_temp.c ('AT-Z')) WHERE path <> 'manifest.json'),
           'the manifest lists every other file with its size and sha256');
SELECT * FROM finish ();
ROLLBACK;
