-- streams.sql — what an authenticated client of the event stream and the
-- app push may receive (identities, 022; docs/security.md section 2).
-- Owns: gf_stream_rights, gf_app_may_receive.

-- The topic prefixes the stream client with public key p_key (Z85) may
-- read, sorted: '<type>/<grid>' for every event type its topics allow
-- (notifications excepted) and its grid subtree, and 'notify/<person>' for
-- the people of its subtree when its topics allow notification.created
-- (and 'notify/resident', texts to residents, which name no grid in their
-- topic, for a reader of a whole L1 root).
-- The relay subscribes a client to the intersection of what it asks for
-- and these prefixes (live), and filters replay pages and probes with them,
-- so both sides see the same set.  Readers: kinds subscriber and staff
-- ('{}' topics: every type), and any other kind given topics (a gateway's
-- adapter key, say).  NULL: unknown or revoked key, or no reader (an
-- adapter or app without topics).  Prefix semantics: a grid
-- code that is a text prefix of another's outside its subtree (QNL.07,
-- QNL.070) would widen the right: the directory refuses such a pair
-- (gf_grid_code_check in directory.sql).
CREATE OR REPLACE FUNCTION gf_stream_rights (p_key text) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT ARRAY (
        SELECT r FROM (
            SELECT t.type || '/' || i.grid AS r FROM event_types t
             WHERE t.type <> 'notification.created'
               AND (i.topics = '{}' OR EXISTS (SELECT 1 FROM unnest (i.topics) p
                                               WHERE starts_with (t.type, p)))
            UNION ALL
            SELECT 'notify/' || pe.id FROM people pe
             WHERE gf_in_subtree (pe.grid, i.grid)
               AND (i.topics = '{}' OR EXISTS (SELECT 1 FROM unnest (i.topics) p
                                               WHERE starts_with ('notification.created', p)))
            UNION ALL
            SELECT 'notify/resident' WHERE position ('.' IN i.grid) = 0
               AND (i.topics = '{}' OR EXISTS (SELECT 1 FROM unnest (i.topics) p
                                               WHERE starts_with ('notification.created', p)))
        ) rights ORDER BY r)
      FROM identities i
     WHERE i.public_key = p_key AND i.revoked_at IS NULL
       AND (i.kind IN ('subscriber', 'staff') OR cardinality (i.topics) > 0)
$$;

-- Whether the app client with public key p_key may receive the app pushes
-- of person p_person: an 'app' identity, not revoked, bound to that person,
-- or bound to none and the person's grid inside its subtree.
CREATE OR REPLACE FUNCTION gf_app_may_receive (p_key text, p_person text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1 FROM identities i JOIN people pe ON pe.id = p_person
         WHERE i.public_key = p_key AND i.revoked_at IS NULL AND i.kind = 'app'
           AND (i.person = p_person OR (i.person IS NULL AND gf_in_subtree (pe.grid, i.grid))))
$$;
