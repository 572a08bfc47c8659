-- pgTAP: deploy/sql/repeatable/delivery.sql — the fan-out of a notification
-- into one delivery per channel of its recipient, quiet hours (released on
-- the next working day's morning: make-up working days and holidays of the
-- calendar), the dispatcher's claim (order, due, limit, rate limit), the
-- record of outcomes and the app push.  On a calendar and cases of our own
-- (rolled back).
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (53);

\ir fixtures/national_day_2026.sql
-- and Sunday 20 September a make-up working day too (国庆调休).
INSERT INTO calendar_days (day, workday, name) VALUES ('2026-09-20', true, '国庆节调休');
INSERT INTO sim_clock (at) VALUES ('2026-09-16 10:00+08')   -- a Wednesday
    ON CONFLICT (id) DO UPDATE SET at = excluded.at;
CREATE FUNCTION pg_temp.c (p_ref text) RETURNS bigint LANGUAGE sql AS $$
    SELECT id FROM cases WHERE source_ref = p_ref
$$;
CREATE FUNCTION pg_temp.occ (p_ref text, p_type text) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_array (jsonb_build_object ('case_id', c.id, 'type', p_type, 'grid', c.grid))
      FROM cases c WHERE c.source_ref = p_ref
$$;

-- Quiet hours: 08:00-20:00 on working days, business time.
SELECT is (gf_quiet_release ('2026-09-16 10:00+08', false, 'staff'), timestamptz '2026-09-16 10:00+08',
           'a Wednesday 10:00 staff message goes at once');
SELECT is (gf_quiet_release ('2026-09-16 21:00+08', false, 'staff'), timestamptz '2026-09-17 08:00+08',
           'Wednesday 21:00: Thursday 08:00');
SELECT is (gf_quiet_release ('2026-09-17 07:59+08', false, 'staff'), timestamptz '2026-09-17 08:00+08',
           'Thursday 07:59: the same morning at 08:00');
SELECT is (gf_quiet_release ('2026-09-18 20:00+08', false, 'staff'), timestamptz '2026-09-20 08:00+08',
           'Friday 20:00 before a make-up working Sunday: that Sunday 08:00');
SELECT is (gf_quiet_release ('2026-09-19 12:00+08', false, 'staff'), timestamptz '2026-09-20 08:00+08',
           'Saturday noon (a day off): Sunday 08:00');
SELECT is (gf_quiet_release ('2026-09-30 20:30+08', false, 'staff'), timestamptz '2026-10-09 08:00+08',
           'the evening before National Day: the first working day after the holiday');
SELECT is (gf_quiet_release ('2026-10-03 10:00+08', false, 'staff'), timestamptz '2026-10-09 08:00+08',
           'a holiday at 10:00: held until the holiday is over');
SELECT is (gf_quiet_release ('2026-10-10 10:00+08', false, 'staff'), timestamptz '2026-10-10 10:00+08',
           'a make-up working Saturday at 10:00 goes at once');
SELECT is (gf_quiet_release ('2026-10-03 10:00+08', true, 'staff'), timestamptz '2026-10-03 10:00+08',
           'urgent: at once, even on a holiday');
SELECT is (gf_quiet_release ('2026-09-16 23:00+08', false, 'resident'), timestamptz '2026-09-16 23:00+08',
           'residents'' messages are not held');

-- The fan-out: one delivery per channel of the recipient.
UPDATE people SET channels = '{app,sms,email}', email = 'leader063@example.org' WHERE id = 'P-QNL.07.063-1';
-- (a channel named twice: one delivery; no unique key says so since 052, the fan-out does)
UPDATE people SET channels = '{app,app}' WHERE id = 'P-QNL.07.063-2';
UPDATE people SET phone = NULL WHERE id = 'P-QNL.07.063-3';
INSERT INTO cases (source, source_ref, root, grid, state, description, phone, urgent, received_at, routed_at)
VALUES ('hotline', 'D', 'QNL', 'QNL.07.063', 'routed', '楼道堆放杂物', '13912345678', false,
        '2026-09-16 09:50+08', '2026-09-16 10:00+08');
SELECT is (gf_notify_many ('notifier', pg_temp.occ ('D', 'case.routed') || pg_temp.occ ('D', 'case.received')), 4,
           'D: three staff notifications and a receipt');
SELECT results_eq ($$SELECT coalesce (n.recipient, 'resident'), d.channel, d.address
                      FROM deliveries d JOIN notifications n ON n.id = d.notification
                     WHERE n.case_id = pg_temp.c ('D') ORDER BY 1, 2$$,
                   $$VALUES ('P-QNL.07.063-1', 'app', 'P-QNL.07.063-1'),
                            ('P-QNL.07.063-1', 'email', 'leader063@example.org'),
                            ('P-QNL.07.063-1', 'sms', (SELECT phone FROM people WHERE id = 'P-QNL.07.063-1')),
                            ('P-QNL.07.063-2', 'app', 'P-QNL.07.063-2'),
                            ('P-QNL.07.063-3', 'app', 'P-QNL.07.063-3'),
                            ('resident', 'sms', '13912345678')$$,
                   'one delivery per channel of the recipient (one for a channel named twice); a channel without an address skipped; the resident by SMS');
SELECT is ((SELECT count (*)::int FROM deliveries d JOIN notifications n ON n.id = d.notification
             WHERE n.case_id = pg_temp.c ('D')
               AND (d.dedupe_key <> 'n' || d.notification || '.' || d.channel OR d.state <> 'pending'
                    OR d.urgent OR d.not_before <> n.created_at OR d.attempts <> 0)), 0,
           'pending, dedupe key n<notification>.<channel>, not urgent, due at once on a Wednesday morning');
UPDATE sim_clock SET at = '2026-09-18 20:00+08';
INSERT INTO cases (source, source_ref, root, grid, state, description, phone, urgent, received_at, routed_at)
VALUES ('hotline', 'Q', 'QNL', 'QNL.07.063', 'routed', '噪音扰民', '13987654321', false,
        '2026-09-18 19:50+08', '2026-09-18 20:00+08'),
       ('hotline', 'U', 'QNL', 'QNL.07.063', 'routed', '燃气泄漏气味', NULL, true,
        '2026-09-18 19:50+08', '2026-09-18 20:00+08');
SELECT is (gf_notify_many ('notifier', pg_temp.occ ('Q', 'case.routed') || pg_temp.occ ('Q', 'case.received')
                                       || pg_temp.occ ('U', 'case.routed')), 7, 'Friday 20:00: Q and urgent U routed');
SELECT results_eq ($$SELECT c.source_ref, n.recipient IS NULL, d.urgent, d.not_before
                      FROM deliveries d JOIN notifications n ON n.id = d.notification JOIN cases c ON c.id = n.case_id
                     WHERE c.source_ref IN ('Q', 'U') GROUP BY 1, 2, 3, 4 ORDER BY 1, 2$$,
                   $$VALUES ('Q', false, false, timestamptz '2026-09-20 08:00+08'),
                            ('Q', true, false, timestamptz '2026-09-18 20:00+08'),
                            ('U', false, true, timestamptz '2026-09-18 20:00+08')$$,
                   'the fan-out holds non-urgent staff messages until the make-up Sunday; the receipt and urgent U go at once');

-- The claim: due (next_at, not_before) pending rows of one channel, urgent first, then oldest.
UPDATE deliveries SET state = 'sent', sent_real = now () - interval '2 hours' WHERE channel IN ('sms', 'email');
INSERT INTO cases (source, source_ref, root, grid, state, description, phone, urgent, received_at)
SELECT 'hotline', 'E' || i, 'QNL', 'QNL.07.063', 'registered', 'x', '1370000000' || i, i = 3,
       '2026-09-18 20:00+08'
  FROM generate_series (1, 6) i;
SELECT is (gf_notify_many ('notifier', (SELECT jsonb_agg (e ORDER BY e->>'case_id')
                                          FROM cases c, jsonb_array_elements (pg_temp.occ (c.source_ref, 'case.received')) e
                                         WHERE c.source_ref LIKE 'E_')), 6, 'six receipts, E3 urgent');
UPDATE deliveries SET not_before = '2026-09-21 08:00+08'
 WHERE address = '13700000004';                                          -- not yet (business time)
UPDATE deliveries SET next_at = now () + interval '1 minute' WHERE address = '13700000005'; -- a retry later
SELECT results_eq ($$SELECT address, deferred FROM gf_delivery_claim ('sms', 10)$$,
                   $$VALUES ('13700000003', 0::bigint), ('13700000001', 0), ('13700000002', 0), ('13700000006', 0)$$,
                   'claim: urgent first, then by id; not before not_before, nor before next_at');
SELECT results_eq ($$SELECT address FROM gf_delivery_claim ('sms', 2)$$,
                   $$VALUES ('13700000003'), ('13700000001')$$, 'claim: at most the batch size');
SELECT is ((SELECT count (*)::int FROM gf_delivery_claim ('email', 10)), 0, 'claim: one channel at a time');
-- Rate limit: 1 per hour and address; 13700000001 had one sent 10 minutes ago.
UPDATE delivery_policy SET rate_limit = 1 WHERE channel = 'sms';
UPDATE deliveries SET sent_real = now () - interval '10 minutes' WHERE address = '13912345678';
UPDATE deliveries SET address = '13912345678' WHERE address = '13700000001';
UPDATE deliveries SET address = '13700000002' WHERE address = '13700000006';
SELECT results_eq ($$SELECT address, deferred FROM gf_delivery_claim ('sms', 10)$$,
                   $$VALUES ('13700000003', 2::bigint), ('13700000002', 2)$$,
                   'rate limit: over-limit rows (a recent send; a second row to one address) deferred, the rest claimed');
SELECT results_eq ($$SELECT address, last_error, next_at > now () + interval '59 minutes'
                      FROM deliveries WHERE last_error IS NOT NULL ORDER BY id$$,
                   $$VALUES ('13912345678', 'rate limit: deferred', true), ('13700000002', 'rate limit: deferred', true)$$,
                   'the deferred rows wait one window / limit step (an hour)');
UPDATE delivery_policy SET rate_limit = 30 WHERE channel = 'sms';

-- Recording outcomes.
UPDATE deliveries SET attempts = 7 WHERE address = '13700000004';        -- max_attempts 8
CREATE FUNCTION pg_temp.sms (p_ref text) RETURNS bigint LANGUAGE sql AS $$
    SELECT d.id FROM deliveries d JOIN notifications n ON n.id = d.notification
     WHERE n.case_id = pg_temp.c (p_ref) AND d.channel = 'sms'
$$;
\ir fixtures/function_calls.sql
SET LOCAL track_functions = 'all';
CREATE TEMP TABLE now_calls AS SELECT pg_temp.calls ('gf_now') AS n;
SELECT results_eq (format ($$SELECT sent, dead FROM gf_delivery_record (%L, 'sms', 5000)$$,
                           (SELECT jsonb_agg (jsonb_build_object ('id', pg_temp.sms (ref), 'result', r, 'error', e))
                              FROM (VALUES ('E3', 'ok', NULL), ('E2', 'rejected', '550 no such user'),
                                           ('E1', 'retry', 'HTTP 503'), ('E4', 'retry', 'HTTP 503'),
                                           ('E5', 'down', 'connection refused')) o (ref, r, e))),
                   $$VALUES (1::bigint, 2::bigint)$$, 'record: one sent, two dead');
SELECT is (pg_temp.calls ('gf_now') - (SELECT n FROM now_calls), 1::bigint,
           'record: the business time read once for the five outcomes');
SELECT results_eq ($$SELECT c.source_ref, d.state, d.attempts, d.last_error
                      FROM deliveries d JOIN notifications n ON n.id = d.notification JOIN cases c ON c.id = n.case_id
                     WHERE c.source_ref LIKE 'E_' ORDER BY 1$$,
                   $$VALUES ('E1', 'pending', 1, 'HTTP 503'), ('E2', 'dead', 1, '550 no such user'),
                            ('E3', 'sent', 1, NULL), ('E4', 'dead', 8, 'HTTP 503'),
                            ('E5', 'pending', 0, 'connection refused'), ('E6', 'pending', 0, 'rate limit: deferred')$$,
                   'ok → sent; rejected → dead; retry → pending, or dead at max_attempts; down uses no attempt');
SELECT is ((SELECT sent_at FROM deliveries WHERE id = pg_temp.sms ('E3')), gf_now (),
           'sent_at is business time');
SELECT ok ((SELECT next_at BETWEEN now () + interval '4 seconds' AND now () + interval '6 seconds'
              FROM deliveries WHERE id = pg_temp.sms ('E5')), 'down: retried after the pause');
SELECT ok ((SELECT next_at BETWEEN now () + interval '1 second' AND now () + interval '4 seconds'
              FROM deliveries WHERE id = pg_temp.sms ('E1')),
           'retry: after backoff_ms·2^attempts·U(0.5,1) (1-2 s for the first of 2000 ms)');

-- App push.
UPDATE sim_clock SET at = '2026-09-18 20:30+08';
SELECT results_eq ($$SELECT p.address, c.source_ref, p.urgent FROM gf_app_due ('["P-QNL.07.063-2", "P-QNL.07.063-3"]') p
                      JOIN cases c ON c.id = p.case_id$$,
                   $$VALUES ('P-QNL.07.063-2', 'D', false), ('P-QNL.07.063-3', 'D', false),
                            ('P-QNL.07.063-2', 'U', true), ('P-QNL.07.063-3', 'U', true)$$,
                   'app push: the persons'' due messages, oldest first (Q''s waits for Sunday morning)');
SELECT is ((SELECT string_agg (c.source_ref, ',' ORDER BY p.id) FROM gf_app_due ('["P-QNL.07.063-2"]') p
              JOIN cases c ON c.id = p.case_id), 'D,U',
           'a read: the same messages again (the notifier remembers what it pushed to a signed-in app)');
SELECT is ((SELECT count (*)::int FROM deliveries
             WHERE channel = 'app' AND address IN ('P-QNL.07.063-2', 'P-QNL.07.063-3')
               AND (state <> 'pending' OR attempts <> 0 OR sent_at IS NOT NULL)), 0,
           'reading for the push writes nothing: the rows stay pending, no attempt, no sent_at');
UPDATE deliveries SET state = 'sent' WHERE channel = 'app' AND address = 'P-QNL.07.063-2'
   AND notification IN (SELECT id FROM notifications WHERE case_id = pg_temp.c ('U'));
SELECT is ((SELECT string_agg (c.source_ref, ',' ORDER BY p.id) FROM gf_app_due ('["P-QNL.07.063-2"]') p
              JOIN cases c ON c.id = p.case_id), 'D,U',
           'a row an earlier build marked sent is still unacknowledged: read too');
UPDATE deliveries SET state = 'acked' WHERE address = 'P-QNL.07.063-2'
   AND notification IN (SELECT id FROM notifications WHERE case_id = pg_temp.c ('D'));
SELECT is ((SELECT string_agg (c.source_ref, ',') FROM gf_app_due ('["P-QNL.07.063-2"]') p
              JOIN cases c ON c.id = p.case_id), 'U', 'an acknowledged message never comes back');
SELECT is ((SELECT to_char (at::timestamp, 'YYYY-MM-DD HH24:MI') FROM gf_app_due ('["P-QNL.07.063-2"]')),
           '2026-09-18 20:00', 'at: the notification''s local time');

-- A notice without a case (a field reminder's, 033): not urgent, held
-- through quiet hours, claimed and pushed with no case.
INSERT INTO field_reminders (kind, subject, period, grid, recipient, audience, created_at, not_before)
VALUES ('patrol.missed', 'QNL.07.064', '2026-09-17', 'QNL.07.064', 'P-QNL.07.064-1', 'grid_leader',
        '2026-09-18 20:30+08', '2026-09-20 08:00+08');
INSERT INTO notifications (field_reminder, kind, recipient, audience, text, created_at)
SELECT id, 'patrol.missed', recipient, 'staff', '【巡查提醒】测试', created_at FROM field_reminders WHERE subject = 'QNL.07.064';
SELECT bag_eq ($$SELECT d.channel, d.urgent, d.not_before FROM deliveries d JOIN notifications n ON n.id = d.notification
                  WHERE n.field_reminder IS NOT NULL$$,
               $$VALUES ('app', false, timestamptz '2026-09-20 08:00+08'), ('sms', false, timestamptz '2026-09-20 08:00+08')$$,
               'a notice without a case fans out to its recipient''s channels, not urgent, held until the make-up Sunday');
SELECT is ((SELECT count (*)::int FROM gf_app_due ('["P-QNL.07.064-1"]')), 0,
           'Friday 20:30: not pushed');
UPDATE sim_clock SET at = '2026-09-20 08:00+08';
SELECT results_eq ($$SELECT case_id, text FROM gf_delivery_claim ('sms', 100) WHERE address = (SELECT phone FROM people WHERE id = 'P-QNL.07.064-1')$$,
                   $$VALUES (NULL::bigint, '【巡查提醒】测试')$$, 'Sunday 08:00: claimed for SMS, without a case');
SELECT results_eq ($$SELECT case_id, text FROM gf_app_due ('["P-QNL.07.064-1"]')$$,
                   $$VALUES (NULL::bigint, '【巡查提醒】测试')$$, 'and pushed to the app, without a case');
UPDATE sim_clock SET at = '2026-09-18 20:30+08';

-- The workbench's inbox and the receipt (gf_app_inbox, gf_app_ack): a read
-- that leaves the state alone, after a delivery id, one person's only.
SELECT is ((SELECT string_agg (c.source_ref, ',' ORDER BY i.id) FROM gf_app_inbox ('P-QNL.07.063-2', 0, 50) i
              JOIN cases c ON c.id = i.case_id), 'Q,U',
           'inbox: the unacknowledged messages, the one held by quiet hours too');
SELECT is ((SELECT count (*)::int FROM gf_app_inbox ('P-QNL.07.063-2', 0, 50)), 2,
           'inbox: reading changes nothing (still there)');
SELECT is ((SELECT count (*)::int FROM gf_app_inbox ('P-QNL.07.063-2',
              (SELECT max (id) FROM gf_app_inbox ('P-QNL.07.063-2', 0, 50)), 50)), 0,
           'inbox: nothing after the newest shown');
SELECT is (gf_app_ack ((SELECT max (id) FROM gf_app_inbox ('P-QNL.07.063-2', 0, 50)), 'P-QNL.07.063-1'), false,
           'receipt: another person''s delivery is refused');
SELECT is (gf_app_ack ((SELECT max (id) FROM gf_app_inbox ('P-QNL.07.063-2', 0, 50)), 'P-QNL.07.063-2'), true,
           'receipt: the person''s own outstanding delivery');
SELECT is ((SELECT string_agg (c.source_ref, ',') FROM gf_app_inbox ('P-QNL.07.063-2', 0, 50) i
              JOIN cases c ON c.id = i.case_id), 'Q', 'receipt: an acknowledged message leaves the inbox');
SELECT is (gf_app_ack ((SELECT max (d.id) FROM deliveries d WHERE d.address = 'P-QNL.07.063-2' AND d.channel = 'app'),
                       'P-QNL.07.063-2'), false, 'receipt: twice is not a second receipt');
-- Many receipts at once (the notifier's app push): each its person's own,
-- a delivery twice counted once, an unknown one nothing.
UPDATE now_calls SET n = pg_temp.calls ('gf_now');
SELECT is (gf_app_ack_many (jsonb_build_array (
               jsonb_build_object ('delivery', (SELECT max (id) FROM gf_app_inbox ('P-QNL.07.063-2', 0, 50)),
                                   'person', 'P-QNL.07.063-1'),
               jsonb_build_object ('delivery', (SELECT max (id) FROM gf_app_inbox ('P-QNL.07.063-2', 0, 50)),
                                   'person', 'P-QNL.07.063-2'),
               jsonb_build_object ('delivery', (SELECT max (id) FROM gf_app_inbox ('P-QNL.07.063-2', 0, 50)),
                                   'person', 'P-QNL.07.063-2'),
               jsonb_build_object ('delivery', 987654321, 'person', 'P-QNL.07.063-2'))), 1,
           'receipts at once: the person''s own outstanding delivery, once');
SELECT cmp_ok (pg_temp.calls ('gf_now') - (SELECT n FROM now_calls), '<=', 1::bigint,
               'receipts at once: the business time read at most once');
SELECT is ((SELECT count (*)::int FROM gf_app_inbox ('P-QNL.07.063-2', 0, 50)), 0,
           'receipts at once: the inbox is empty');

-- Queue plans: a claim reads about its batch of the index, however long the
-- backlog and whatever the statistics say (a plan from them read and sorted
-- the channel's whole backlog for every batch).
UPDATE delivery_policy SET rate_limit = 0 WHERE channel = 'sms';
DELETE FROM deliveries;
ANALYZE deliveries;  -- statistics from before the backlog: an empty table
INSERT INTO notifications (case_id, kind, recipient, text, created_at, audience)
SELECT pg_temp.c ('D'), 'backlog.' || g, NULL, '积压', '2026-09-16 09:00+08', 'resident'
  FROM generate_series (1, 2000) g;
CREATE TEMP TABLE claim_read AS SELECT pg_stat_get_xact_tuples_returned ('deliveries_claim'::regclass) AS n;
SELECT is ((SELECT count (*)::int FROM gf_delivery_claim ('sms', 20)), 20, 'a backlog of 2,000: the claim takes its batch');
SELECT cmp_ok (pg_stat_get_xact_tuples_returned ('deliveries_claim'::regclass) - (SELECT n FROM claim_read), '<=',
               60::bigint, 'a backlog of 2,000: the claim read at most 60 of its index entries');

-- The notifier's role runs the dispatcher and the app push.
SET LOCAL ROLE gf_notifier;
SELECT lives_ok ($$SELECT * FROM gf_delivery_claim ('sms', 64)$$, 'as gf_notifier: the claim');
SELECT lives_ok ($$SELECT * FROM gf_delivery_record ('[]', 'sms', 1000)$$, 'as gf_notifier: the record');
SELECT is (gf_app_ack_many ('[]'), 0, 'as gf_notifier: receipts at once (none)');
SELECT lives_ok ($$SELECT * FROM gf_app_due ('["P-QNL.07.063-1"]')$$, 'as gf_notifier: the app push''s read');
RESET ROLE;

SELECT * FROM finish ();
ROLLBACK;
