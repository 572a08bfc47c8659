-- 014_outbox_speed: two costs of the outbox found by profiling
-- (docs/performance.md).
--
-- 1. The dispatcher's claim (pending, due, by urgency then id, LIMIT, FOR
-- UPDATE SKIP LOCKED) had no index in its order: it sorted every pending SMS
-- at each claim (3 s a claim with 40,000 pending at the end of the chaos
-- run; 14 ms with this index).
CREATE INDEX deliveries_claim ON deliveries (channel, urgent DESC, id) WHERE state = 'pending';

-- 2. The fan-out works out each quiet-hours release
-- once per statement, not once per delivery.  A notifier batch of 500
-- routed cases makes ~1,700 notifications and ~3,000 deliveries, all with
-- the same created_at; gf_quiet_release (a plpgsql function reading
-- delivery_quiet and the calendar, and at night walking to the next working
-- day) ran for every one of them: 1.4 s of a 2.1 s batch (docs/performance.md).
-- Same rows as before; only the number of calls changes.
CREATE OR REPLACE FUNCTION gf_deliveries_fanout () RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO deliveries (notification, channel, address, dedupe_key, urgent, not_before, created_at)
    WITH src AS MATERIALIZED (
        SELECT n.id, n.created_at, n.audience, n.recipient, c.urgent, c.phone
          FROM new_rows n JOIN cases c ON c.id = n.case_id
    ), rel AS MATERIALIZED (
        SELECT k.created_at, k.urgent, k.audience,
               gf_quiet_release (k.created_at, k.urgent, k.audience) AS not_before
          FROM (SELECT DISTINCT created_at, urgent, audience FROM src) k
    )
    SELECT s.id, ch.channel, ch.address, 'n' || s.id || '.' || ch.channel, s.urgent,
           r.not_before, s.created_at
      FROM src s
      JOIN rel r ON r.created_at = s.created_at AND r.urgent = s.urgent AND r.audience = s.audience
      LEFT JOIN people p ON p.id = s.recipient
      CROSS JOIN LATERAL (
          SELECT x.channel, CASE x.channel WHEN 'app' THEN p.id WHEN 'sms' THEN p.phone
                                            ELSE p.email END AS address
            FROM unnest (p.channels) AS x (channel)
          UNION ALL
          SELECT 'sms', s.phone WHERE s.recipient IS NULL
      ) ch
     WHERE ch.address IS NOT NULL
     ORDER BY s.id, ch.channel;
    PERFORM pg_notify ('gf_deliveries', '');
    RETURN NULL;
END
$$;
