-- 010_gateway: API keys of the HTTP gateway's Open311 clients (docs/gateway.md).
-- A key is stored only as the hex SHA-256 of its text; `name` identifies the
-- client and prefixes the source_ref of every complaint it posts, so two
-- clients' request ids never collide.  Add a key:
--   INSERT INTO api_keys (name, key_sha256)
--        VALUES ('city-app', encode (sha256 (convert_to ('THE-KEY', 'UTF8')), 'hex'));
-- Revoke it: UPDATE api_keys SET revoked_at = now () WHERE name = 'city-app';
CREATE TABLE api_keys (
    name       text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,31}$'),
    key_sha256 text NOT NULL UNIQUE CHECK (key_sha256 ~ '^[0-9a-f]{64}$'),
    created_at timestamptz NOT NULL DEFAULT now (),
    revoked_at timestamptz
);

-- The client a key belongs to (NULL: unknown or revoked).
CREATE FUNCTION gf_api_key_client (p_key text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT name FROM api_keys
     WHERE key_sha256 = encode (sha256 (convert_to (p_key, 'UTF8')), 'hex') AND revoked_at IS NULL
$$;
