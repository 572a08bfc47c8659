-- pgTAP: deploy/sql/repeatable/streams.sql — the stream rights of an
-- identity (topic prefixes by grid subtree and type, nothing for unknown,
-- revoked or non-reading kinds) and which people an app identity may
-- receive pushes for; as the roles that call them (relay, notifier).
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (16);

INSERT INTO identities (name, public_key, kind, grid, topics, person) VALUES
    ('t-sub07', repeat ('a', 40), 'subscriber', 'QNL.07', '{}', NULL),
    ('t-subesc', repeat ('b', 40), 'subscriber', 'QNL', '{case.escalated}', NULL),
    ('t-revoked', repeat ('c', 40), 'subscriber', 'QNL', '{}', NULL),
    ('t-adapter', repeat ('d', 40), 'adapter', 'QNL', '{}', NULL),
    ('t-app1', repeat ('e', 40), 'app', 'QNL', '{}', 'P-QNL.07-1'),
    ('t-app07', repeat ('f', 40), 'app', 'QNL.07', '{}', NULL),
    ('t-staff', repeat ('g', 40), 'staff', 'QNL.01', '{}', NULL),
    ('t-gateway', repeat ('h', 40), 'adapter', 'QNL', '{case.closed}', NULL);
UPDATE identities SET revoked_at = now () WHERE name = 't-revoked';

SET LOCAL ROLE gf_relay;
SELECT ok ((SELECT bool_and (starts_with (r, 'notify/') OR r LIKE '%/QNL.07')
              FROM unnest (gf_stream_rights (repeat ('a', 40))) r),
           'a QNL.07 subscriber: only QNL.07 topics');
SELECT ok ('case.received/QNL.07' = ANY (gf_stream_rights (repeat ('a', 40))),
           'it may read case.received in QNL.07');
SELECT ok (NOT ('case.received/QNL' = ANY (gf_stream_rights (repeat ('a', 40)))),
           'but not the whole of QNL');
SELECT is ((SELECT count (*) FROM unnest (gf_stream_rights (repeat ('a', 40))) r WHERE starts_with (r, 'notify/')),
           (SELECT count (*) FROM people WHERE gf_in_subtree (grid, 'QNL.07')),
           'notifications of the people of QNL.07, one prefix each');
SELECT is (ARRAY['notify/resident' = ANY (gf_stream_rights (repeat ('a', 40))),
                 'notify/resident' = ANY (gf_stream_rights (repeat ('g', 40)))],
           ARRAY[false, false], 'texts to residents: not for a subtree below the root');
SELECT ok (NOT ('notification.created/QNL.07' = ANY (gf_stream_rights (repeat ('a', 40)))),
           'notification.created is on notify/<person>, not on its grid');
SELECT is (gf_stream_rights (repeat ('b', 40)), ARRAY['case.escalated/QNL'],
           'topics limit the types: case.escalated only');
SELECT is (gf_stream_rights (repeat ('c', 40)), NULL, 'revoked: nothing (NULL)');
SELECT is (gf_stream_rights (repeat ('d', 40)), NULL, 'an adapter does not read the stream');
SELECT is (gf_stream_rights (repeat ('z', 40)), NULL, 'an unknown key: nothing');
SELECT ok ('case.routed/QNL.01' = ANY (gf_stream_rights (repeat ('g', 40))), 'staff read their subtree');
SELECT is (gf_stream_rights (repeat ('h', 40)), ARRAY['case.closed/QNL'], 'an adapter given topics reads those');
RESET ROLE;

SET LOCAL ROLE gf_notifier;
SELECT ok (gf_app_may_receive (repeat ('e', 40), 'P-QNL.07-1'), 'an app bound to a person receives for it');
SELECT ok (NOT gf_app_may_receive (repeat ('e', 40), 'P-QNL-1'), 'and for nobody else');
SELECT is (ARRAY[gf_app_may_receive (repeat ('f', 40), 'P-QNL.07-1'), gf_app_may_receive (repeat ('f', 40), 'P-QNL-1')],
           ARRAY[true, false], 'an app of QNL.07 with no person: the people of its subtree only');
SELECT ok (NOT gf_app_may_receive (repeat ('a', 40), 'P-QNL.07-1'), 'a subscriber key is no app key');
RESET ROLE;

SELECT * FROM finish ();
ROLLBACK;
