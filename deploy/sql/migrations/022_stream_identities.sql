-- 022_stream_identities: identities for the event stream and the app push
-- (docs/security.md section 2).  kind 'subscriber' reads the relay's stream
-- (live and replay) within its grid subtree; kind 'app' receives app pushes,
-- for its person only (or, with no person, for the people of its subtree).
-- topics: the event-type prefixes a subscriber may read ('{}' = every type).
ALTER TABLE identities DROP CONSTRAINT identities_kind_check;
ALTER TABLE identities ADD CONSTRAINT identities_kind_check
    CHECK (kind = ANY (ARRAY['adapter', 'staff', 'subscriber', 'app']));
ALTER TABLE identities DROP CONSTRAINT identities_check;
ALTER TABLE identities ADD CONSTRAINT identities_check
    CHECK (kind = ANY (ARRAY['staff', 'app']) OR person IS NULL);
ALTER TABLE identities ADD COLUMN topics text[] NOT NULL DEFAULT '{}'
    CHECK (array_position (topics, NULL) IS NULL AND array_position (topics, '') IS NULL);
