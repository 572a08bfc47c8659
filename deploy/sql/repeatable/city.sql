-- city.sql — a city above the districts (issue 18 item 5, docs/operations.md
-- "Adding a district to a city").  Each district keeps its own gridflow and
-- PostgreSQL and publishes what the monthly report reads (publication
-- gf_city, PostgreSQL's built-in logical replication); the city cluster
-- holds one database per district (gridflow_<district>, migrated like a
-- district's, subscription gf_city_<district>), so two districts' case 1
-- never meet in one table and the district's own report functions run
-- unchanged on its replica.  The city's own database (gridflow) lists the
-- districts and adds their report rows up.  deploy/city.sh makes all this;
-- gridctl city status|report reads it.
--   in a district:          gf_city_publish
--   in a district replica:  gf_city_prepare_replica, gf_city_state,
--                           gf_city_district_report
--   in the city database:   gf_city_districts, gf_city_month,
--                           gf_city_freshness, gf_city_report_sum,
--                           gf_city_dashboard
-- Owns: gf_city_publish, gf_city_prepare_replica, gf_city_state,
-- gf_city_district_report, gf_city_districts, gf_city_month,
-- gf_city_freshness, gf_city_report_sum, gf_city_dashboard.

-- The publication gf_city, made or brought up to date (run by deploy/city.sh
-- as the database's owner: a publication's tables must be its own).  What the
-- monthly report and the indicators read, no more: the cases without the
-- caller's name, phone, address, household and unredacted description; the
-- events without their restricted column (the stream's view, privacy.sql);
-- the meetings, decisions and escalations; the directory without phones,
-- e-mail and channels; the vocabularies, rules, calendar and clock.
-- Every table listed has a primary key (its replica identity).
CREATE OR REPLACE FUNCTION gf_city_publish () RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = 'gf_city') THEN
        CREATE PUBLICATION gf_city;
    END IF;
    ALTER PUBLICATION gf_city SET TABLE
        cases (id, source, source_ref, request_id, root, grid, requested_grid, state, level, tier,
               category, urgent, reported_at, received_at, routed_at, version, groups, reporter,
               supervised, merged_into, returned_from, department, satisfied, reopen_count,
               signed_at, resolved_at, closed_at, updated_at, rejected_reason),
        case_events (id, seq, type, topic, case_id, grid, at, payload),
        meetings, meeting_decisions, escalations, escalation_rules,
        grids, people (id, grid, role, name, position),
        categories, special_groups, escalation_rule_names, case_state_names, event_types,
        resolution_deadlines, indicator_rules, calendar_years, calendar_days, sim_clock;
END $$;

-- A new district replica, once, before its subscription copies the
-- district's rows in: empty the published tables (the migrations filled the
-- vocabularies; the district's copy replaces them) and let the columns the
-- district does not send be empty.
CREATE OR REPLACE FUNCTION gf_city_prepare_replica () RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    ALTER TABLE cases ALTER COLUMN description DROP NOT NULL;
    TRUNCATE cases, case_events, meetings, meeting_decisions, escalations, escalation_rules,
        grids, people, categories, special_groups, escalation_rule_names, case_state_names,
        event_types, resolution_deadlines, indicator_rules, calendar_years, calendar_days,
        sim_clock CASCADE;
END $$;

-- In a district replica: its subscription and how fresh it is.  connected:
-- the apply worker runs (it exits when the district is unreachable and
-- retries every wal_retrieve_retry_interval); last_message: when it last
-- heard from the district (keepalives included); newest_change: the
-- district's commit time of the newest event replicated (the city cluster
-- runs with track_commit_timestamp, which keeps the origin's commit time;
-- NULL without it); newest_seq and cases: how far the replica is.
CREATE OR REPLACE FUNCTION gf_city_state ()
RETURNS TABLE (district text, subscription text, enabled boolean, connected boolean,
               last_message timestamptz, newest_change timestamptz, newest_seq bigint,
               cases bigint)
LANGUAGE sql STABLE AS $$
    SELECT substr (s.subname, length ('gf_city_') + 1), s.subname::text, s.subenabled,
           st.pid IS NOT NULL, st.last_msg_receipt_time,
           CASE WHEN current_setting ('track_commit_timestamp')::boolean
                THEN (SELECT pg_xact_commit_timestamp (e.xmin) FROM case_events e
                       ORDER BY e.id DESC LIMIT 1) END,
           (SELECT max (e.seq) FROM case_events e),
           (SELECT count (*) FROM cases)
      FROM pg_subscription s
      LEFT JOIN pg_stat_subscription st ON st.subid = s.oid AND st.relid IS NULL
     WHERE s.subdbid = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database ())
       AND starts_with (s.subname, 'gf_city_')
$$;

-- In a district replica: its state and its monthly report rows for p_month
-- (every L1 grid's gf_report_monthly, the district's own report, in report
-- order: n), as one JSON object for the city to add up.  Counts only, so it
-- runs as its owner for the two readers granted it (grants.sql): gridctl
-- (gf_ctl) and the gateway's city dashboard (gf_gateway, which reads no
-- table of cases itself).
CREATE OR REPLACE FUNCTION gf_city_district_report (p_month text, p_days integer)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT jsonb_build_object (
               'district', s.district, 'enabled', s.enabled, 'connected', s.connected,
               'last_message', s.last_message, 'newest_change', s.newest_change,
               'newest_seq', s.newest_seq, 'cases', s.cases,
               'rows', (SELECT coalesce (jsonb_agg (to_jsonb (r) || jsonb_build_object ('n', r.ordinality)
                                                    ORDER BY g.code, r.ordinality), '[]')
                          FROM grids g
                         CROSS JOIN LATERAL gf_report_monthly (g.code, p_month, p_days)
                                    WITH ORDINALITY r
                         WHERE g.level = 1))
      FROM gf_city_state () s
$$;

-- In the city database: the districts (every gf_city_* subscription of the
-- cluster) and their replica databases.
CREATE OR REPLACE FUNCTION gf_city_districts ()
RETURNS TABLE (district text, dbname text) LANGUAGE sql STABLE AS $$
    SELECT substr (s.subname, length ('gf_city_') + 1), d.datname::text
      FROM pg_subscription s JOIN pg_database d ON d.oid = s.subdbid
     WHERE starts_with (s.subname, 'gf_city_')
     ORDER BY 1
$$;

-- The city dashboard's JSON (the gateway's /api/city.json, docs/gateway.md):
-- the month, the freshness lines and the summed report of the districts'
-- objects, as gridctl city report prints them.
CREATE OR REPLACE FUNCTION gf_city_dashboard (p_month text, p_districts jsonb, p_stale_after integer)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object (
               'month', p_month, 'stale_after', p_stale_after,
               'freshness', coalesce ((SELECT json_agg (f) FROM gf_city_freshness (p_districts, p_stale_after) f), '[]'),
               'report', coalesce ((SELECT json_agg (r) FROM gf_city_report_sum (p_districts) r), '[]'))
$$;

-- The city report's default month: the current one (local time).
CREATE OR REPLACE FUNCTION gf_city_month () RETURNS text LANGUAGE sql STABLE AS $$
    SELECT to_char (gf_now () AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')
$$;

-- One line per district from the districts' gf_city_district_report
-- objects (a JSON array): live when its apply worker runs and heard from
-- the district within p_stale_after seconds (city/stale_after), else stale.
-- Ages are in seconds of real time (now (), not the simulated clock).
CREATE OR REPLACE FUNCTION gf_city_freshness (p_districts jsonb, p_stale_after integer)
RETURNS TABLE (district text, state text, connected boolean, last_message timestamptz,
               last_message_age_s numeric, newest_change timestamptz,
               newest_change_age_s numeric, newest_seq bigint, cases bigint)
LANGUAGE sql STABLE AS $$
    SELECT x.district,
           CASE WHEN x.connected AND x.last_message > now () - make_interval (secs => p_stale_after)
                THEN 'live' ELSE 'stale' END,
           x.connected, x.last_message,
           round (extract (epoch FROM now () - x.last_message), 1),
           x.newest_change,
           round (extract (epoch FROM now () - x.newest_change), 1),
           x.newest_seq, x.cases
      FROM jsonb_to_recordset (p_districts)
           AS x (district text, connected boolean, last_message timestamptz,
                 newest_change timestamptz, newest_seq bigint, cases bigint)
     ORDER BY x.district
$$;

-- The city monthly report from the districts' gf_city_district_report
-- objects: the total, one row per district (its total), then by category,
-- by priority and the escalations by rule, each the sum over the districts
-- (the L2 rows stay in each district's own report).  Rates are computed
-- again from the sums; the average time to resolve is the districts'
-- averages weighted by their resolved cases (each rounded to 0.1 h, so
-- within 0.05 h of the exact figure).
CREATE OR REPLACE FUNCTION gf_city_report_sum (p_districts jsonb)
RETURNS TABLE (month text, section text, key text, name text, received bigint, resolved bigint,
               open bigint, resolution_rate_pct numeric, on_time bigint, late bigint,
               on_time_rate_pct numeric, avg_hours_to_resolve numeric, escalations bigint)
LANGUAGE sql STABLE AS $$
    WITH r AS (
        SELECT d.district, x.*
          FROM jsonb_to_recordset (p_districts) AS d (district text, rows jsonb)
         CROSS JOIN LATERAL jsonb_to_recordset (d.rows)
               AS x (n integer, month text, section text, key text, name text, received bigint,
                     resolved bigint, open bigint, on_time bigint, late bigint,
                     avg_hours_to_resolve numeric, escalations bigint)
         WHERE x.section <> 'l2'
    ), g AS (
        SELECT min (r.month) AS month, r.section, coalesce (r.key, '') AS key, min (r.name) AS name,
               min (r.n) AS n, 0 AS ord2,
               sum (r.received)::bigint AS received, sum (r.resolved)::bigint AS resolved,
               sum (r.open)::bigint AS open, sum (r.on_time)::bigint AS on_time,
               sum (r.late)::bigint AS late,
               sum (r.avg_hours_to_resolve * r.resolved) AS hours,
               sum (r.resolved) FILTER (WHERE r.avg_hours_to_resolve IS NOT NULL) AS timed,
               sum (r.escalations)::bigint AS escalations
          FROM r GROUP BY r.section, coalesce (r.key, '')
        UNION ALL
        SELECT r.month, 'district', r.district, r.district, min (r.n) OVER (), 1, r.received,
               r.resolved, r.open, r.on_time, r.late, r.avg_hours_to_resolve * r.resolved,
               CASE WHEN r.avg_hours_to_resolve IS NOT NULL THEN r.resolved END, NULL
          FROM r WHERE r.section = 'total'
    )
    SELECT g.month, g.section, nullif (g.key, ''), g.name, g.received, g.resolved, g.open,
           round (100.0 * g.resolved / nullif (g.received, 0), 1), g.on_time, g.late,
           round (100.0 * g.on_time / nullif (g.on_time + g.late, 0), 1),
           round (g.hours / nullif (g.timed, 0), 1), g.escalations
      FROM g
     ORDER BY g.n, g.ord2, g.key
$$;
