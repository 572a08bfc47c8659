-- open311.sql — the gateway's Open311 GeoReport v2 reads (docs/gateway.md,
-- services/gateway/gf_open311.c): the services (categories), a service's
-- definition, and requests (cases) in Open311's field names, as JSON.
-- A request is a case's public view (privacy.sql's gf_case_public: category,
-- status, grid, the coarse location, the redacted description; no name,
-- phone, special groups or coordinates -- lat and long are always null,
-- coordinates show rounded in the address).  Status: closed = resolved (gf_case_resolved)
-- or rejected (不予办理: status_notes names the reason), open otherwise (a
-- merged case follows its twin).
-- Owns: gf_open311_status, gf_open311_services, gf_open311_service,
-- gf_open311_rows, gf_open311_request, gf_open311_requests.

CREATE OR REPLACE FUNCTION gf_open311_status (p_state text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN gf_case_resolved (p_state) OR p_state = 'rejected' THEN 'closed' ELSE 'open' END
$$;

-- services.json: every category.
CREATE OR REPLACE FUNCTION gf_open311_services () RETURNS json LANGUAGE sql STABLE AS $$
    SELECT coalesce (json_agg (json_build_object (
               'service_code', code, 'service_name', name, 'description', name, 'metadata', true,
               'type', 'realtime', 'keywords', code, 'group', '') ORDER BY code), '[]')
      FROM categories
$$;

-- services/{code}.json: the attributes every service accepts (they map to
-- complaint fields); the special groups from special_groups.  NULL: no such
-- service.
CREATE OR REPLACE FUNCTION gf_open311_service (p_code text) RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object ('service_code', code, 'attributes', json_build_array (
        json_build_object ('variable', true, 'code', 'grid', 'datatype', 'string',
            'required', false,
            'datatype_description', '网格编码，如 QNL.01.001（可不填，按地址分派）',
            'order', 1, 'description', '所在网格'),
        json_build_object ('variable', true, 'code', 'urgent', 'datatype', 'singlevaluelist',
            'required', false, 'datatype_description', null, 'order', 2,
            'description', '是否紧急',
            'values', json_build_array (json_build_object ('key', 'true', 'name', '紧急'),
                                        json_build_object ('key', 'false', 'name', '一般'))),
        json_build_object ('variable', true, 'code', 'groups', 'datatype', 'multivaluelist',
            'required', false, 'datatype_description', null, 'order', 3,
            'description', '特殊群体',
            'values', (SELECT coalesce (json_agg (json_build_object ('key', sg.code,
                                                                     'name', sg.name)
                                                  ORDER BY sg.ord), '[]')
                         FROM special_groups sg))))
      FROM categories WHERE code = p_code
$$;

-- The requests of the cases p_ids, in that order (unknown ids left out),
-- each case read by its id.
CREATE OR REPLACE FUNCTION gf_open311_rows (p_ids bigint[]) RETURNS json LANGUAGE sql STABLE AS $$
    SELECT coalesce (json_agg (r ORDER BY x.ord), '[]')
      FROM unnest (p_ids) WITH ORDINALITY x (id, ord)
     CROSS JOIN LATERAL gf_case_public (x.id) c
      JOIN grids g ON g.code = c.grid
      LEFT JOIN categories cat ON cat.code = c.category
      LEFT JOIN case_state_names sn ON sn.state = c.state
      -- a rejected case's reason (不予办理：重复诉求)
      LEFT JOIN cases_public rc ON rc.id = c.id AND c.state = 'rejected'
      LEFT JOIN reject_reasons rr ON rr.code = rc.rejected_reason
     CROSS JOIN LATERAL (
        SELECT c.id::text AS service_request_id, gf_open311_status (c.state) AS status,
               coalesce (sn.name, c.state) || coalesce ('：' || rr.name, '') AS status_notes,
               cat.name AS service_name,
               c.category AS service_code, c.description, g.name AS agency_responsible,
               NULL::text AS service_notice,
               to_char (c.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                 AS requested_datetime,
               to_char (c.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                 AS updated_datetime,
               NULL::text AS expected_datetime, c.location AS address,
               NULL::text AS address_id, NULL::text AS zipcode, NULL::float8 AS lat,
               NULL::float8 AS long,
               -- the first public attachment (attachments.sql), served by
               -- the gateway itself; non-public ones never
               (SELECT '/open311/v2/media/' || min (m.id) FROM attachments_public m
                 WHERE m.case_id = c.id) AS media_url) r
$$;

-- requests/{id}.json: one request ([] when there is no such case).
CREATE OR REPLACE FUNCTION gf_open311_request (p_id bigint) RETURNS json LANGUAGE sql STABLE AS $$
    SELECT gf_open311_rows (ARRAY[p_id])
$$;

-- requests.json: p_ids (NULL, or the ids wanted: then the other filters
-- are ignored, as the spec says), p_codes service codes, p_start / p_end
-- received between, p_statuses open / closed.  Without ids or dates: the
-- last 90 days (by the gridflow clock).  Newest first, at most 1000.  The
-- ids are chosen first (no masking, no joins), then their rows are built.
CREATE OR REPLACE FUNCTION gf_open311_requests (p_ids bigint[], p_codes text[],
                                                p_start timestamptz, p_end timestamptz,
                                                p_statuses text[])
RETURNS json LANGUAGE plpgsql STABLE AS $$
DECLARE
    ids bigint[];
BEGIN
    IF p_ids IS NOT NULL THEN
        SELECT array_agg (s.id ORDER BY s.received_at DESC, s.id DESC) INTO ids FROM (
            SELECT c.id, c.received_at FROM cases_public c WHERE c.id = ANY (p_ids)
             ORDER BY c.received_at DESC, c.id DESC LIMIT 1000) s;
    ELSE
        SELECT array_agg (s.id ORDER BY s.received_at DESC, s.id DESC) INTO ids FROM (
            SELECT c.id, c.received_at FROM cases_public c
             WHERE (p_codes IS NULL OR c.category = ANY (p_codes))
               AND c.received_at >= coalesce (p_start,
                     CASE WHEN p_end IS NULL THEN gf_now () - interval '90 days' END, '-infinity')
               AND (p_end IS NULL OR c.received_at <= p_end)
               AND (p_statuses IS NULL OR gf_open311_status (c.state) = ANY (p_statuses))
             ORDER BY c.received_at DESC, c.id DESC LIMIT 1000) s;
    END IF;
    RETURN gf_open311_rows (coalesce (ids, '{}'));
END
$$;
