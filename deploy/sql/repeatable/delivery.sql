-- delivery.sql — how a notification reaches its recipient: one deliveries row
-- per channel, quiet hours for non-urgent staff messages.
-- Owns: gf_quiet_release, gf_deliveries_fanout, gf_delivery_claim,
-- gf_delivery_record, gf_app_due, gf_app_inbox, gf_app_ack, gf_app_ack_many; trigger
-- notifications_fanout.

-- When a message created at t may go out.
CREATE OR REPLACE FUNCTION gf_quiet_release (t timestamptz, p_urgent boolean, p_audience text)
RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
DECLARE
    q delivery_quiet;
    local timestamp := t AT TIME ZONE 'Asia/Shanghai';
BEGIN
    SELECT * INTO q FROM delivery_quiet;
    IF p_urgent OR p_audience <> 'staff' OR q IS NULL
       OR (gf_is_workday (local::date) AND local::time >= q.day_start AND local::time < q.day_end) THEN
        RETURN t;
    END IF;
    RETURN gf_next_workday_at (t, extract (hour FROM q.day_start)::int,
                               extract (minute FROM q.day_start)::int);
END
$$;

-- ---------------------------------------------------------------------------
-- The deliveries fan-out (008) of a big escalation statement: one
-- notification per escalated case and leader, and gf_quiet_release () (a
-- plpgsql function with a query) ran once per delivery row, 1.8 s of 12 s
-- for 5,000 escalated cases (auto_explain).  Its inputs are the same for
-- nearly every row of a statement (one created_at, urgent or not, staff or
-- resident): it now runs once per distinct input.  Same rows.  Its
-- statement has no parameters, so a session plans it once; plan_cache_mode
-- = auto of its own keeps it so under a caller that plans per call (the
-- lapse, gf_lapse_meeting: a function's setting holds for the triggers its
-- statements fire), where it was planned again at every lapse.
CREATE OR REPLACE FUNCTION gf_deliveries_fanout () RETURNS trigger
LANGUAGE plpgsql SET plan_cache_mode = auto AS $$
BEGIN
    WITH n AS MATERIALIZED (
        -- (a field reminder's notice has no case: not urgent, no phone)
        -- Each case by its key (OFFSET 0 keeps the probe a probe): joined,
        -- the planner hashed a sequential scan of every case for a
        -- statement's few hundred notices (auto_explain in the benchmark:
        -- 27 of the fan-out's 52 ms for 867 notices at 38,540 cases).
        SELECT n.id, n.recipient, n.created_at, n.audience, coalesce (c.urgent, false) AS urgent, c.phone
          FROM new_rows n
          LEFT JOIN LATERAL (SELECT c.urgent, c.phone FROM cases c WHERE c.id = n.case_id OFFSET 0) c ON true
    ), release AS MATERIALIZED (
        SELECT r.created_at, r.urgent, r.audience,
               gf_quiet_release (r.created_at, r.urgent, r.audience) AS not_before
          FROM (SELECT DISTINCT n.created_at, n.urgent, n.audience FROM n) r
    )
    INSERT INTO deliveries (notification, channel, address, dedupe_key, urgent, not_before, created_at)
    SELECT n.id, ch.channel, ch.address, 'n' || n.id || '.' || ch.channel, n.urgent,
           release.not_before, n.created_at
      FROM n
      JOIN release ON release.created_at = n.created_at AND release.urgent = n.urgent
                  AND release.audience = n.audience
      LEFT JOIN people p ON p.id = n.recipient
      CROSS JOIN LATERAL (
          -- once per channel (no unique key says so since 052: a channels
          -- array that names one twice gives one delivery, its first
          -- mention; a filter, not a DISTINCT node per notice)
          SELECT x.channel, CASE x.channel WHEN 'app' THEN p.id WHEN 'sms' THEN p.phone
                                            ELSE p.email END AS address
            FROM unnest (p.channels) WITH ORDINALITY AS x (channel, i)
           WHERE x.i = array_position (p.channels, x.channel)
          UNION ALL
          SELECT 'sms', n.phone WHERE n.recipient IS NULL
      ) ch
     WHERE ch.address IS NOT NULL
     ORDER BY n.id, ch.channel;
    PERFORM pg_notify ('gf_deliveries', '');
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER notifications_fanout AFTER INSERT ON notifications
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION gf_deliveries_fanout ();

-- ---------------------------------------------------------------------------
-- The dispatcher (services/notifier/gf_dispatch.c), one transaction per batch
-- of a channel: claim, send (outside the database), record.

-- Claims up to p_limit due deliveries of a channel, in order (urgent first,
-- then oldest: the deliveries_claim index), locked (FOR UPDATE SKIP LOCKED:
-- several notifiers share the work).  A recipient's rows beyond the
-- channel's rate limit within its window are deferred by one window/limit
-- step instead (not returned); deferred counts them.  Planned with the
-- caller's channel and limit (force_custom_plan), as the statement was when
-- the dispatcher sent it itself: a generic plan guesses the LIMIT.  And
-- always in the index's order (no bitmap scan): the statistics of a queue
-- are stale by nature (what ANALYZE saw pending is sent by the time a plan
-- reads them), and planned from them the claim read and sorted the
-- channel's whole backlog for every batch (auto_explain in the benchmark:
-- a bitmap scan of 10,840 pending rows and 21,720 index entries to take
-- 64, 20 ms a claim, growing with the backlog it was meant to drain).  A
-- plain index scan stops at the batch and marks the dead entries it passes
-- so that the next claim skips them; a bitmap scan marks none.
CREATE OR REPLACE FUNCTION gf_delivery_claim (p_channel text, p_limit integer)
RETURNS TABLE (id bigint, case_id bigint, address text, text text, dedupe_key text,
               urgent boolean, deferred bigint)
LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan SET enable_bitmapscan = off AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH pol AS (SELECT * FROM delivery_policy WHERE channel = p_channel
    ), cand AS (
        SELECT d.id, d.address FROM deliveries d
         WHERE d.state = 'pending' AND d.channel = p_channel AND d.next_at <= now ()
           AND d.not_before <= (SELECT gf_now ())
         ORDER BY d.urgent DESC, d.id LIMIT p_limit FOR UPDATE SKIP LOCKED
    ), ranked AS (
        SELECT c.id, row_number () OVER (PARTITION BY c.address ORDER BY c.id)
               + CASE WHEN pol.rate_limit = 0 THEN 0 ELSE (
                   SELECT count (*) FROM deliveries s WHERE s.channel = p_channel
                      AND s.address = c.address AND s.sent_real > now () - pol.rate_window) END
               > CASE WHEN pol.rate_limit = 0 THEN 2147483647 ELSE pol.rate_limit END AS over
          FROM cand c, pol
    ), deferred AS (
        UPDATE deliveries d SET next_at = now () + pol.rate_window / pol.rate_limit,
               last_error = 'rate limit: deferred'
          FROM ranked r, pol WHERE d.id = r.id AND r.over
        RETURNING d.id
    )
    SELECT d.id, n.case_id, d.address, n.text, d.dedupe_key, d.urgent,
           (SELECT count (*) FROM deferred)
      FROM ranked r JOIN deliveries d ON d.id = r.id JOIN notifications n ON n.id = d.notification
     WHERE NOT r.over ORDER BY d.urgent DESC, d.id;
END
$$;

-- Records a claimed batch's outcomes (p_outcomes: [{id, result, error}],
-- result ok | retry | rejected | down): ok → sent; rejected, or a retry
-- past max_attempts → dead; retry → pending after an exponential back-off
-- with jitter; down (the far end unreachable) → pending after p_pause_ms,
-- using up no attempt.  Returns how many were sent and how many went dead.
CREATE OR REPLACE FUNCTION gf_delivery_record (p_outcomes jsonb, p_channel text, p_pause_ms integer)
RETURNS TABLE (sent bigint, dead bigint)
LANGUAGE sql AS $$
    WITH r AS (
        SELECT * FROM jsonb_to_recordset (p_outcomes) AS x (id bigint, result text, error text)
    ), pol AS (SELECT * FROM delivery_policy WHERE channel = p_channel
    ), upd AS (
        UPDATE deliveries d SET
          state = CASE WHEN r.result = 'ok' THEN 'sent'
                       WHEN r.result = 'rejected' THEN 'dead'
                       WHEN r.result = 'retry' AND d.attempts + 1 >= pol.max_attempts THEN 'dead'
                       ELSE 'pending' END,
          attempts = d.attempts + CASE WHEN r.result = 'down' THEN 0 ELSE 1 END,
          sent_at = CASE WHEN r.result = 'ok' THEN (SELECT gf_now ()) END,
          sent_real = CASE WHEN r.result = 'ok' THEN now () END,
          last_error = coalesce (r.error, d.last_error),
          next_at = CASE r.result
            WHEN 'retry' THEN now () + least (pol.backoff_max_ms,
                       pol.backoff_ms * 2.0 ^ least (d.attempts, 30)) * (0.5 + random () / 2)
                       * interval '1 millisecond'
            WHEN 'down' THEN now () + p_pause_ms * interval '1 millisecond'
            ELSE d.next_at END
        FROM r, pol WHERE d.id = r.id
        RETURNING d.state
    )
    SELECT count (*) FILTER (WHERE state = 'sent'), count (*) FILTER (WHERE state = 'dead') FROM upd
$$;

-- App push (services/notifier/gf_apppush.c): the due app messages of the
-- persons in p_persons (a JSON array of person ids) not yet acknowledged,
-- oldest first.  A read: the notifier remembers which of them it has
-- pushed to each signed-in app and pushes each once per sign-in (issue
-- 17: marking every pushed row sent was a second non-HOT row version per
-- app message, with its index entries; an app row now goes pending ->
-- acked).  Rows a previous build marked sent are still unacknowledged and
-- read alike.  Planned with the caller's values, as the claim.  The persons and the business time are
-- read once: a semi join with the JSON array re-read it for every due row
-- (28 of 33 ms for 230 rows and 400 persons, the app push's every tick),
-- and gf_now () ran per row.
DROP FUNCTION IF EXISTS gf_app_push (jsonb, boolean);
CREATE OR REPLACE FUNCTION gf_app_due (p_persons jsonb)
RETURNS TABLE (id bigint, address text, case_id bigint, text text, urgent boolean, at text)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
    v_persons text[] := ARRAY (SELECT jsonb_array_elements_text (p_persons));
    v_now timestamptz := gf_now ();
BEGIN
    RETURN QUERY
    SELECT d.id, d.address, n.case_id, n.text, d.urgent,
           to_char (n.created_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS')
      FROM deliveries d JOIN notifications n ON n.id = d.notification
     WHERE d.channel = 'app' AND d.not_before <= v_now
       AND d.address = ANY (v_persons) AND d.state IN ('pending', 'sent')
     ORDER BY d.id;
END
$$;

-- The workbench's notices (services/gateway/gf_notices.c, issue 16): the
-- person's app messages not yet acknowledged, after delivery p_after,
-- oldest first, at most p_limit, held ones too: quiet hours keep the
-- notifier from pushing at people off duty, and a person who has the
-- workbench open is looking.  A read, as the app push's own (gf_app_due):
-- a phone app signed in at the same time still gets its push.  SECURITY
-- DEFINER: the gateway holds nothing on deliveries; it may read one
-- person's inbox, the one whose session it checked.
CREATE OR REPLACE FUNCTION gf_app_inbox (p_person text, p_after bigint, p_limit integer)
RETURNS TABLE (id bigint, case_id bigint, text text, urgent boolean, at text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT d.id, n.case_id, n.text, d.urgent,
           to_char (n.created_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS')
      FROM deliveries d JOIN notifications n ON n.id = d.notification
     WHERE d.channel = 'app' AND d.address = p_person AND d.state IN ('pending', 'sent')
       AND d.id > p_after
     ORDER BY d.id LIMIT p_limit
$$;

-- Receipts (送达有签收) of app deliveries, many in one statement: p_acks
-- [{delivery, person}], each its person's own (the notifier's app push
-- takes every receipt its apps have sent in one go: one statement and one
-- commit for them, not one each).  Returns how many were outstanding and
-- are now acknowledged: another person's, an unknown or an already
-- acknowledged delivery counts nothing, a delivery twice in p_acks once.
CREATE OR REPLACE FUNCTION gf_app_ack_many (p_acks jsonb) RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    WITH a AS (
        SELECT * FROM jsonb_to_recordset (p_acks) AS x (delivery bigint, person text)
    ), u AS (
        UPDATE deliveries d SET state = 'acked', acked_at = (SELECT gf_now ())
          FROM a
         WHERE d.id = a.delivery AND d.channel = 'app' AND d.address = a.person
           AND d.state IN ('pending', 'sent')
        RETURNING 1
    )
    SELECT count (*)::integer FROM u
$$;

-- The receipt of app delivery p_delivery by its person, from the
-- workbench: true when it was outstanding and is now acknowledged; false
-- for another person's, an unknown or an already acknowledged delivery.
CREATE OR REPLACE FUNCTION gf_app_ack (p_delivery bigint, p_person text) RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT gf_app_ack_many (jsonb_build_array (jsonb_build_object ('delivery', p_delivery,
                                                                   'person', p_person))) = 1
$$;
