-- operations.sql — what an operator reads first (`gridctl status`): the
-- services' heartbeats (service_status, written by each service), in wall
-- clock time (now (), not the simulated clock: heartbeats are real).
-- Owns: gf_service_status.

-- Instances seen in the last day, newest heartbeat first per service; "up"
-- while the heartbeat is fresh (three periods).  errors: the failure
-- counters summed; lag: the largest consumer lag; work: the main counters
-- ("stored 200, rejected 2").
CREATE OR REPLACE FUNCTION gf_service_status ()
RETURNS TABLE (service text, instance text, version text, state text, uptime text, seen_s bigint,
               errors bigint, lag bigint, work text)
LANGUAGE sql STABLE AS $$
    SELECT s.service, s.instance, s.version,
           CASE WHEN s.stopped_at IS NOT NULL THEN 'stopped'
                WHEN s.seen_at < now () - 3 * s.interval_ms * interval '1 ms' THEN 'silent'
                WHEN s.ready THEN 'ready' ELSE 'NOT READY' END,
           to_char (coalesce (s.stopped_at, now ()) - s.started_at, 'DD"d"HH24"h"MI"m"SS"s"'),
           round (extract (epoch FROM now () - s.seen_at))::bigint,
           (SELECT coalesce (sum (value::numeric), 0) FROM jsonb_each_text (s.metrics)
             WHERE key ~ '^gf_(db_errors|consumer_retries|escalator_tick_failures)_total')::bigint,
           (SELECT coalesce (max (value::numeric), 0) FROM jsonb_each_text (s.metrics)
             WHERE key LIKE 'gf_consumer_lag_events%')::bigint,
           coalesce ((SELECT string_agg (k || ' ' || v, ', ' ORDER BY k)
                        FROM (SELECT regexp_replace (key, '^gf_(intake_|relay_|router_|notifier_|escalator_)?|_total',
                                                     '', 'g') AS k, value AS v
                                FROM jsonb_each_text (s.metrics)
                               WHERE key ~ '^gf_(intake_(stored|rejected)|relay_published|router_routed|notifier_created|escalator_meetings)') x),
                     '')
      FROM service_status s
     WHERE s.seen_at > now () - interval '1 day'
     ORDER BY s.service, s.seen_at DESC
$$;
