-- pgTAP: deploy/sql/repeatable/city.sql — the publication a district offers
-- the city (tables, columns, replica identities, the subscription user's
-- rights), the city's sums and freshness lines from districts' report
-- objects, and a replica's preparation.  The end-to-end run with real
-- clusters and subscriptions is tests/e2e/test_city.sh.
BEGIN;
SELECT plan (18);
SET LOCAL client_min_messages = error; -- CREATE PUBLICATION warns when wal_level is not logical

-- --- the publication --------------------------------------------------------
SELECT gf_city_publish ();
SELECT gf_city_publish (); -- again: brought up to date, not an error
SELECT ok ((SELECT count (*) FROM pg_publication_tables WHERE pubname = 'gf_city') >= 18,
           'gf_city publishes the report''s tables');
SELECT is ((SELECT count (*) FROM pg_publication_tables pt
             WHERE pt.pubname = 'gf_city'
               AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                                WHERE k.conrelid = format ('%I.%I', pt.schemaname, pt.tablename)::regclass
                                  AND k.contype = 'p')),
           0::bigint, 'every published table has a primary key (its replica identity)');
SELECT is ((SELECT count (*) FROM pg_publication_tables pt, unnest (pt.attnames) a (col)
             WHERE pt.pubname = 'gf_city'
               AND NOT has_column_privilege ('gf_city', format ('%I.%I', pt.schemaname, pt.tablename),
                                             a.col, 'SELECT')),
           0::bigint, 'gf_city may read every published column (the first copy reads them)');
SELECT is ((SELECT array_agg (a ORDER BY a) FROM pg_publication_tables pt, unnest (pt.attnames) a
             WHERE pt.pubname = 'gf_city' AND pt.tablename = 'cases'
               AND a IN ('name', 'phone', 'address', 'description', 'household')),
           NULL, 'no resident''s name, phone, address, clear text or household is published');
SELECT is ((SELECT array_agg (a ORDER BY a) FROM pg_publication_tables pt, unnest (pt.attnames) a
             WHERE pt.pubname = 'gf_city' AND pt.tablename IN ('case_events', 'people')
               AND a IN ('restricted', 'phone', 'email', 'channels')),
           NULL, 'no event''s restricted part, no person''s phone or e-mail is published');
SELECT ok (NOT EXISTS (SELECT 1 FROM pg_publication_tables
                        WHERE pubname = 'gf_city' AND tablename IN ('households', 'household_groups',
                              'accounts', 'sessions', 'identities', 'audit_log', 'notifications')),
           'the register, accounts, identities, audit and notifications stay in the district');

-- --- no subscription here -----------------------------------------------------
SELECT is ((SELECT count (*) FROM gf_city_districts ()), 0::bigint, 'no district: no subscription');
SELECT is (gf_city_district_report ('2026-11', NULL), NULL, 'no subscription: no district report');

-- --- the city's sums ----------------------------------------------------------
CREATE TEMP TABLE d AS SELECT jsonb_build_array (
    jsonb_build_object ('district', 'east', 'rows', jsonb_build_array (
        jsonb_build_object ('n', 1, 'month', '2026-11', 'section', 'total', 'key', NULL, 'name', '合计',
                            'received', 10, 'resolved', 4, 'open', 6, 'on_time', 3, 'late', 2,
                            'avg_hours_to_resolve', 10.0, 'escalations', NULL),
        jsonb_build_object ('n', 2, 'month', '2026-11', 'section', 'category', 'key', 'water', 'name', '供水排水',
                            'received', 10, 'resolved', 4, 'open', 6, 'on_time', 3, 'late', 2,
                            'avg_hours_to_resolve', 10.0, 'escalations', NULL),
        jsonb_build_object ('n', 3, 'month', '2026-11', 'section', 'l2', 'key', 'QNL.01', 'name', 'x',
                            'received', 10, 'resolved', 4, 'open', 6, 'on_time', 3, 'late', 2,
                            'avg_hours_to_resolve', 10.0, 'escalations', NULL),
        jsonb_build_object ('n', 4, 'month', '2026-11', 'section', 'escalation', 'key', 'weekly_l2', 'name', '周',
                            'escalations', 2))),
    jsonb_build_object ('district', 'west', 'rows', jsonb_build_array (
        jsonb_build_object ('n', 1, 'month', '2026-11', 'section', 'total', 'key', NULL, 'name', '合计',
                            'received', 5, 'resolved', 1, 'open', 4, 'on_time', 0, 'late', 1,
                            'avg_hours_to_resolve', 40.0, 'escalations', NULL),
        jsonb_build_object ('n', 2, 'month', '2026-11', 'section', 'category', 'key', 'water', 'name', '供水排水',
                            'received', 5, 'resolved', 1, 'open', 4, 'on_time', 0, 'late', 1,
                            'avg_hours_to_resolve', 40.0, 'escalations', NULL),
        jsonb_build_object ('n', 4, 'month', '2026-11', 'section', 'escalation', 'key', 'weekly_l2', 'name', '周',
                            'escalations', 1)))) AS j;
SELECT results_eq (
    $$ SELECT section, key, received, resolved, open, resolution_rate_pct, on_time, late,
              on_time_rate_pct, avg_hours_to_resolve, escalations
         FROM gf_city_report_sum ((SELECT j FROM d)) $$,
    $$ VALUES ('total', NULL::text, 15::bigint, 5::bigint, 10::bigint, 33.3, 3::bigint, 3::bigint, 50.0, 16.0, NULL::bigint),
              ('district', 'east', 10, 4, 6, 40.0, 3, 2, 60.0, 10.0, NULL),
              ('district', 'west', 5, 1, 4, 20.0, 0, 1, 0.0, 40.0, NULL),
              ('category', 'water', 15, 5, 10, 33.3, 3, 3, 50.0, 16.0, NULL),
              ('escalation', 'weekly_l2', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 3) $$,
    'the city report: sums, rates from the sums, the average weighted by resolved cases, one row per district, no L2 rows');
SELECT is ((SELECT string_agg (DISTINCT month, ',') FROM gf_city_report_sum ((SELECT j FROM d))), '2026-11',
           'the month carried');

-- --- freshness ------------------------------------------------------------------
SELECT results_eq (
    $$ SELECT district, state FROM gf_city_freshness (jsonb_build_array (
           jsonb_build_object ('district', 'a', 'connected', true, 'last_message', now () - interval '5 s'),
           jsonb_build_object ('district', 'b', 'connected', false, 'last_message', NULL,
                               'newest_change', now () - interval '1 hour'),
           jsonb_build_object ('district', 'c', 'connected', true, 'last_message', now () - interval '10 min')), 120) $$,
    $$ VALUES ('a', 'live'), ('b', 'stale'), ('c', 'stale') $$,
    'live: connected and heard from within stale_after; stale: not connected, or silent longer');
SELECT is ((SELECT round (newest_change_age_s / 60) FROM gf_city_freshness (jsonb_build_array (
              jsonb_build_object ('district', 'b', 'connected', false,
                                  'newest_change', now () - interval '1 hour')), 120)),
           60::numeric, 'the age of the newest change replicated, in seconds');
SELECT is ((SELECT gf_city_dashboard ('2026-11', (SELECT j FROM d), 120)::jsonb #>> '{report,0,received}'),
           '15', 'the dashboard''s JSON: the summed report, the total first');
SELECT is ((SELECT json_array_length (gf_city_dashboard ('2026-11', (SELECT j FROM d), 120)->'freshness')),
           2, 'the dashboard''s JSON: a freshness line per district');
SELECT is (ARRAY (SELECT r.rolname::text FROM pg_roles r
                   WHERE r.rolname IN ('gf_ctl', 'gf_gateway', 'gf_relay', 'gf_intake')
                     AND has_function_privilege (r.oid, 'gf_city_district_report (text, integer)', 'EXECUTE')
                   ORDER BY 1),
           ARRAY['gf_ctl', 'gf_gateway'], 'a replica''s report (SECURITY DEFINER): gridctl and the gateway only');
SELECT is (gf_city_month (), to_char (gf_now () AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM'),
           'the default month: the current one');

-- --- a replica's preparation (last: it empties the tables) ------------------------
SELECT gf_city_prepare_replica ();
SELECT is ((SELECT count (*) FROM grids) + (SELECT count (*) FROM categories) + (SELECT count (*) FROM cases),
           0::bigint, 'a new replica is emptied before the first copy');
SELECT ok ((SELECT NOT attnotnull FROM pg_attribute WHERE attrelid = 'cases'::regclass AND attname = 'description'),
           'a replica''s cases may lack the clear description (not published)');

SELECT * FROM finish ();
ROLLBACK;
