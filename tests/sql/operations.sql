-- pgTAP: deploy/sql/repeatable/operations.sql — gf_service_status, the
-- SERVICES table of `gridctl status`: state from the heartbeat's age, its
-- period, readiness and stop; uptime; the error, lag and work figures from
-- the metrics; the last day only (rolled back).  now () is the transaction's
-- start, so ages are exact here.
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (8);

DELETE FROM service_status;
INSERT INTO service_status (service, instance, host, pid, version, started_at, seen_at, interval_ms,
                            ready, metrics, stopped_at)
VALUES ('gf-intake', 'a:1', 'a', 1, '0.7.0', now () - interval '1 day 2 hours 3 minutes 4 seconds',
        now () - interval '2 seconds', 1000, true,
        '{"gf_intake_stored_total": 200, "gf_intake_rejected_total": 2, "gf_db_errors_total": 1,
          "gf_consumer_retries_total": 2, "gf_escalator_tick_failures_total": 0,
          "gf_consumer_lag_events": 7, "gf_consumer_lag_events{consumer=\"x\"}": 9,
          "gf_db_latency_seconds": 0.5}', NULL),
       -- an older instance of the same service: listed after the fresher one
       ('gf-intake', 'a:0', 'a', 0, '0.6.0', now () - interval '3 hours', now () - interval '1 hour',
        1000, true, '{}', now () - interval '1 hour'),
       -- three periods without a heartbeat: silent
       ('gf-router', 'b:2', 'b', 2, '0.7.0', now () - interval '1 hour', now () - interval '4 seconds',
        1000, true, '{"gf_router_routed_total": 5}', NULL),
       ('gf-notifier', 'c:3', 'c', 3, '0.7.0', now () - interval '10 minutes', now (), 1000, false,
        '{}', NULL),
       -- seen more than a day ago: not listed
       ('gf-relay', 'd:4', 'd', 4, '0.7.0', now () - interval '3 days', now () - interval '25 hours',
        1000, true, '{}', NULL);

SELECT results_eq ('SELECT service, instance, state FROM gf_service_status ()',
                   $$VALUES ('gf-intake', 'a:1', 'ready'), ('gf-intake', 'a:0', 'stopped'),
                            ('gf-notifier', 'c:3', 'NOT READY'), ('gf-router', 'b:2', 'silent')$$,
                   'by service, newest heartbeat first; stopped, silent, not ready; none older than a day');
SELECT is ((SELECT uptime FROM gf_service_status () WHERE instance = 'a:1'), '01d02h03m04s',
           'uptime of a running instance: from its start to now');
SELECT is ((SELECT uptime FROM gf_service_status () WHERE instance = 'a:0'), '00d02h00m00s',
           'uptime of a stopped instance: from its start to its stop');
SELECT is ((SELECT seen_s FROM gf_service_status () WHERE instance = 'a:1'), 2::bigint,
           'seen: seconds since the last heartbeat');
SELECT is ((SELECT errors FROM gf_service_status () WHERE instance = 'a:1'), 3::bigint,
           'errors: db errors, consumer retries and tick failures summed');
SELECT is ((SELECT lag FROM gf_service_status () WHERE instance = 'a:1'), 9::bigint,
           'lag: the largest consumer lag');
SELECT is ((SELECT work FROM gf_service_status () WHERE instance = 'a:1'), 'rejected 2, stored 200',
           'work: the main counters, named short, in name order');
SELECT is ((SELECT work || '|' || errors || '|' || lag FROM gf_service_status () WHERE instance = 'b:2'),
           'routed 5|0|0', 'a service with few metrics: zeros, its own counter');

SELECT * FROM finish ();
ROLLBACK;
