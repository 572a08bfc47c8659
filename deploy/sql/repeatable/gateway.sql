-- gateway.sql — the HTTP gateway's Open311 API keys (api_keys: a key is kept
-- only as its hex SHA-256).
-- Owns: gf_api_key_client, gf_api_key_may_set_priority.

-- The client a key belongs to (NULL: unknown or revoked).
CREATE OR REPLACE FUNCTION gf_api_key_client (p_key text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT name FROM api_keys
     WHERE key_sha256 = encode (sha256 (convert_to (p_key, 'UTF8')), 'hex') AND revoked_at IS NULL
$$;

-- Whether a key may set urgency or special groups on the complaints it
-- posts (api_keys.may_set_priority, 021; false for an unknown key).
CREATE OR REPLACE FUNCTION gf_api_key_may_set_priority (p_key text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce ((SELECT may_set_priority FROM api_keys
                       WHERE key_sha256 = encode (sha256 (convert_to (p_key, 'UTF8')), 'hex')
                         AND revoked_at IS NULL), false)
$$;
