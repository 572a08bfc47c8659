-- delivery.sql — how a notification reaches its recipient: one deliveries row
-- per channel, quiet hours for non-urgent staff messages.
-- Owns: gf_quiet_release, gf_deliveries_fanout; trigger notifications_fanout.

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
-- resident): it now runs once per distinct input.  Same rows.
CREATE OR REPLACE FUNCTION gf_deliveries_fanout () RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH n AS MATERIALIZED (
        SELECT n.id, n.recipient, n.created_at, n.audience, c.urgent, c.phone
          FROM new_rows n JOIN cases c ON c.id = n.case_id
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
          SELECT x.channel, CASE x.channel WHEN 'app' THEN p.id WHEN 'sms' THEN p.phone
                                            ELSE p.email END AS address
            FROM unnest (p.channels) AS x (channel)
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
