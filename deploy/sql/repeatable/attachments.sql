-- attachments.sql — evidence on a case (issue 14, 代访 / 资料归档齐; migration
-- 026): storing an upload of the intake (attachment.add) with its sha256,
-- serving it to staff in scope only, and the public ones to the gateway.
-- Owns: view attachments_public; gf_attachment_add, gf_attachment_get,
-- gf_attachment_list, gf_case_archive.

-- What the gateway may serve: public attachments only (Open311 media_url,
-- GET /open311/v2/media/ID).  The gateway reads this view, never the table.
DROP VIEW IF EXISTS attachments_public;
CREATE VIEW attachments_public AS
    SELECT id, case_id, filename, content_type, size, sha256, data, at
      FROM attachments WHERE public;

-- Stores one upload (the intake, services/intake/gf_intake_attachment.c,
-- after its size and type checks): the case in the actor's grid subtree
-- and in the identity's (p_idn_grid, NULL: no identity), not closed
-- (archived); p_action the request id of the actor's case action on the
-- case it is evidence for (optional).  A resend (same actor and request id,
-- same case) answers the first attachment, duplicate.  Returns err (an
-- error code's name, NULL when stored), the attachment and duplicate; an
-- attachment.added event (its filename and note in restricted: staff only).
CREATE OR REPLACE FUNCTION gf_attachment_add (p_case bigint, p_request text, p_actor text,
                                              p_filename text, p_type text, p_public boolean,
                                              p_action text, p_note text, p_data bytea,
                                              p_idn_grid text)
    RETURNS TABLE (err text, attachment bigint, duplicate boolean)
LANGUAGE plpgsql AS $$
DECLARE
    c cases%ROWTYPE;
    v_actor_grid text;
    v_prev attachments%ROWTYPE;
    v_action bigint;
    v_id bigint;
    v_sha text;
BEGIN
    SELECT * INTO c FROM cases WHERE id = p_case FOR SHARE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'unknown_case', NULL::bigint, false; RETURN;
    END IF;
    SELECT grid INTO v_actor_grid FROM people WHERE id = p_actor;
    IF v_actor_grid IS NULL THEN
        RETURN QUERY SELECT 'unknown_actor', NULL::bigint, false; RETURN;
    END IF;
    IF NOT gf_in_subtree (c.grid, v_actor_grid)
       OR (p_idn_grid IS NOT NULL AND NOT gf_in_subtree (c.grid, p_idn_grid)) THEN
        RETURN QUERY SELECT 'forbidden', NULL::bigint, false; RETURN;
    END IF;
    SELECT * INTO v_prev FROM attachments WHERE actor = p_actor AND request_id = p_request;
    IF FOUND THEN
        RETURN QUERY SELECT CASE WHEN v_prev.case_id = p_case THEN NULL ELSE 'bad_value' END,
                            v_prev.id, v_prev.case_id = p_case;
        RETURN;
    END IF;
    IF c.state = 'closed' THEN
        RETURN QUERY SELECT 'archived', NULL::bigint, false; RETURN;
    END IF;
    IF p_action IS NOT NULL THEN
        SELECT id INTO v_action FROM case_actions
         WHERE actor = p_actor AND request_id = p_action AND case_id = p_case;
        IF v_action IS NULL THEN
            RETURN QUERY SELECT 'bad_value', NULL::bigint, false; RETURN;
        END IF;
    END IF;
    v_sha := encode (sha256 (p_data), 'hex');
    INSERT INTO attachments (case_id, action_id, request_id, actor, filename, content_type, size,
                             sha256, public, note, data, at)
    VALUES (p_case, v_action, p_request, p_actor, p_filename, p_type, octet_length (p_data),
            v_sha, coalesce (p_public, false), p_note, p_data, gf_now ())
    RETURNING id INTO v_id;
    INSERT INTO event_stage (type, topic, case_id, grid, at, payload, restricted)
    VALUES ('attachment.added', 'attachment.added/' || c.grid, p_case, c.grid, gf_now (),
            jsonb_build_object ('attachment', v_id, 'actor', p_actor, 'content_type', p_type,
                                'size', octet_length (p_data), 'sha256', v_sha,
                                'public', coalesce (p_public, false), 'action', v_action,
                                'l2', (SELECT parent FROM grids WHERE code = c.grid)),
            jsonb_strip_nulls (jsonb_build_object ('filename', p_filename, 'note', p_note)));
    RETURN QUERY SELECT NULL::text, v_id, false;
END
$$;

-- `gridctl case attachment get ID --actor P`: the bytes for staff in scope
-- (the case in P's grid subtree).  err: unknown (no such attachment),
-- unknown_actor, forbidden; the bytes only when err is NULL.
CREATE OR REPLACE FUNCTION gf_attachment_get (p_id bigint, p_actor text)
    RETURNS TABLE (err text, case_id bigint, filename text, content_type text, size integer,
                   sha256 text, data bytea)
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN a.id IS NULL THEN 'unknown'
                WHEN p.grid IS NULL THEN 'unknown_actor'
                WHEN NOT gf_in_subtree (c.grid, p.grid) THEN 'forbidden' END,
           a.case_id, a.filename, a.content_type, a.size, a.sha256,
           CASE WHEN a.id IS NOT NULL AND p.grid IS NOT NULL AND gf_in_subtree (c.grid, p.grid)
                THEN a.data END
      FROM (SELECT 1) one
      LEFT JOIN attachments a ON a.id = p_id
      LEFT JOIN cases c ON c.id = a.case_id
      LEFT JOIN people p ON p.id = p_actor
$$;

-- A case's attachments without their bytes (`gridctl case show`, the archive).
CREATE OR REPLACE FUNCTION gf_attachment_list (p_case bigint)
    RETURNS TABLE (id bigint, filename text, content_type text, size integer, sha256 text,
                   public boolean, actor text, action text, note text, at text)
LANGUAGE sql STABLE AS $$
    SELECT a.id, a.filename, a.content_type, a.size, a.sha256, a.public, a.actor,
           x.action || ' (' || x.request_id || ')', a.note,
           to_char (a.at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS')
      FROM attachments a LEFT JOIN case_actions x ON x.id = a.action_id
     WHERE a.case_id = p_case ORDER BY a.id
$$;

-- `gridctl case export ID` (资料归档齐): the files of a closed case's archive,
-- each path with its bytes and sha256: case.json (the case), timeline.json
-- (gf_case_timeline), referrals.json (reports, receipts, deadlines, replies:
-- gf_referral_list), attachments/<id>-<filename> (the stored bytes), and
-- last manifest.json listing every other file with its size and sha256.  No
-- row for a case that is not closed (the caller refuses it).
CREATE OR REPLACE FUNCTION gf_case_archive (p_case bigint)
    RETURNS TABLE (path text, data bytea, sha256 text)
LANGUAGE sql STABLE AS $$
    WITH c AS (
        SELECT * FROM cases WHERE id = p_case AND state = 'closed'
    ), files AS (
        SELECT 1 AS ord, 'case.json' AS path,
               convert_to (jsonb_pretty (to_jsonb (c)), 'UTF8') AS data
          FROM c
        UNION ALL
        SELECT 2, 'timeline.json',
               convert_to (jsonb_pretty (coalesce ((SELECT jsonb_agg (to_jsonb (t))
                                                      FROM gf_case_timeline (p_case) t), '[]')),
                           'UTF8')
          FROM c
        UNION ALL
        SELECT 3, 'referrals.json',
               convert_to (jsonb_pretty (coalesce ((SELECT jsonb_agg (to_jsonb (r))
                                                      FROM gf_referral_list (p_case) r), '[]')),
                           'UTF8')
          FROM c
        UNION ALL
        SELECT 4, 'attachments/' || a.id || '-' || a.filename, a.data
          FROM c JOIN attachments a ON a.case_id = c.id
    ), hashed AS (
        SELECT f.ord, f.path, f.data, encode (sha256 (f.data), 'hex') AS sha256 FROM files f
    )
    SELECT h.path, h.data, h.sha256 FROM hashed h
    UNION ALL
    SELECT 'manifest.json', m.data, encode (sha256 (m.data), 'hex')
      FROM (SELECT convert_to (jsonb_pretty (jsonb_build_object (
                       'case', p_case,
                       'exported_at', to_char (gf_now () AT TIME ZONE 'Asia/Shanghai',
                                               'YYYY-MM-DD"T"HH24:MI:SS') || '+08:00',
                       'files', jsonb_agg (jsonb_build_object ('path', h.path,
                                                               'size', octet_length (h.data),
                                                               'sha256', h.sha256)
                                           ORDER BY h.ord, h.path))), 'UTF8') AS data
              FROM hashed h HAVING count (*) > 0) m
$$;
