-- pgTAP: deploy/sql/repeatable/gateway.sql — an Open311 key is known by its
-- SHA-256 only; a revoked or unknown key names no client; a key may set
-- urgency or special groups only when its row says so.
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (7);
INSERT INTO api_keys (name, key_sha256)
VALUES ('city-app', encode (sha256 (convert_to ('s3cret-key', 'UTF8')), 'hex'));
SELECT is (gf_api_key_client ('s3cret-key'), 'city-app', 'a known key names its client');
SELECT is (gf_api_key_client ('S3CRET-KEY'), NULL, 'a key differing in case is unknown');
SELECT is ((SELECT count (*) FROM api_keys WHERE key_sha256 LIKE '%s3cret%'), 0::bigint,
           'the key itself is not stored');
SELECT is (gf_api_key_may_set_priority ('s3cret-key'), false,
           'a new key may not set urgency or groups');
UPDATE api_keys SET may_set_priority = true WHERE name = 'city-app';
SELECT is (gf_api_key_may_set_priority ('s3cret-key'), true, 'unless its row allows it');
UPDATE api_keys SET revoked_at = now () WHERE name = 'city-app';
SELECT is (gf_api_key_may_set_priority ('s3cret-key'), false, 'a revoked key may not');
SELECT is (gf_api_key_client ('s3cret-key'), NULL, 'a revoked key names no client');
SELECT * FROM finish ();
ROLLBACK;
