-- indicators.sql — the indicators offices are judged by (绩效评价, after
-- GB/T 30428.4 and the 12345 hotline's 响应率 / 解决率 / 满意率), per L2 grid,
-- L3 grid and grid leader of an L1 grid in a month, and the assessment (考核)
-- ranking.  Read by `gridctl report monthly` / `gridctl report indicators`
-- (table, CSV, JSON), the dashboard (/api/indicators.json) and the
-- gateway's /metrics.  Rules are data (027): resolution_deadlines (the
-- on-time deadline by root / category / priority) and indicator_rules (the
-- ranking's minimum sample and weights).  Open, resolved and overdue are
-- cases.sql's (gf_case_open, gf_case_resolved, gf_overdue_at), states as of
-- a time case_history.sql's (gf_case_at), the month reports.sql's
-- (gf_report_period).
-- Owns: gf_resolution_days, gf_resolution_due, gf_indicator_rule,
-- gf_indicator_cases, gf_indicators, gf_indicators_json, gf_dash_indicators,
-- gf_indicators_rows_in, gf_indicator_metrics.

-- The resolution deadline in working days of a case: for each of its
-- priorities ('urgent' when urgent, each special group, 'general' when
-- neither) the most specific resolution_deadlines row (root before '*',
-- then category, then priority), and the shortest of those.  NULL category
-- (未分类) matches only '*'.  NULL when no row applies.
CREATE OR REPLACE FUNCTION gf_resolution_days (p_root text, p_category text, p_urgent boolean,
                                               p_groups text[]) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT min (d.working_days)
      FROM unnest (CASE WHEN p_urgent THEN ARRAY['urgent'] ELSE '{}'::text[] END
                   || coalesce (p_groups, '{}')
                   || CASE WHEN NOT p_urgent AND coalesce (p_groups, '{}') = '{}'
                           THEN ARRAY['general'] ELSE '{}'::text[] END) p (priority)
     CROSS JOIN LATERAL (SELECT r.working_days FROM resolution_deadlines r
                          WHERE r.root IN (p_root, '*') AND r.category IN (p_category, '*')
                            AND r.priority IN (p.priority, '*')
                          ORDER BY r.root = '*', r.category = '*', r.priority = '*'
                          LIMIT 1) d
$$;

-- The one definition of the resolution deadline (办理时限): the clock start
-- (gf_clock_start: received_at, or a slip's box opening) plus
-- the case's working days on the statutory calendar.  On time <=> resolved
-- at or before it; late <=> resolved after it, or still open once it passed.
CREATE OR REPLACE FUNCTION gf_resolution_due (p_root text, p_category text, p_urgent boolean,
                                              p_groups text[], p_received_at timestamptz)
RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT gf_add_working_days (p_received_at, gf_resolution_days (p_root, p_category, p_urgent, p_groups))
$$;

-- The assessment rule of an L1 grid (its own row, else '*').
CREATE OR REPLACE FUNCTION gf_indicator_rule (p_root text, OUT min_sample integer, OUT weights jsonb)
LANGUAGE sql STABLE AS $$
    SELECT r.min_sample, r.weights FROM indicator_rules r
     WHERE r.root IN (p_root, '*') ORDER BY r.root = '*' LIMIT 1
$$;

-- Every case an indicator counts, with what each indicator needs: the
-- cases of the L1 grid received in the month (gf_report_period), less those
-- merged into another and those neither open nor resolved as of as_of (the
-- month's end or now).
--   response: the sign-for deadline is gf_overdue_at's for the case as it
--     was first routed (the sign_reminder rule's hours, urgent_hours when
--     urgent); responded <=> first signed by then; a case is counted once
--     signed or once the deadline passed (response_due);
--   resolution: resolved as of as_of (gf_case_resolved of gf_case_at);
--   on time / late: gf_resolution_due against the last case.resolved;
--   callbacks: case.callback events (satisfied: their payload);
--   reopen: reopened at least once, of the cases resolved at least once;
--   supervised: a case.supervised event or an L1 decision 'supervise'
--     (meeting_decisions), counted once per case.
-- l3 / l2 / leader: the case's grid when it is an L3 grid (not a case at
-- L1 triage), its L2 grid, and that L3 grid's leader (gf_leader).
CREATE OR REPLACE FUNCTION gf_indicator_cases (p_grid text, p_month text)
RETURNS TABLE (case_id bigint, l2 text, l3 text, leader text, received_at timestamptz,
               routed_at timestamptz, signed_at timestamptz, sign_due timestamptz,
               response_due boolean, responded boolean, resolved boolean,
               resolved_at timestamptz, due timestamptz, on_time boolean, late boolean,
               callbacks bigint, satisfied bigint, resolved_ever boolean, reopened boolean,
               supervised boolean)
LANGUAGE sql STABLE AS $$
    WITH p AS MATERIALIZED (
        SELECT p0.*, gf_rule (p0.root, 'sign_reminder') AS sign_rule
          FROM gf_report_period (p_grid, p_month) p0
    ), c AS MATERIALIZED (
        -- a suggestion-box slip's clocks start at box opening (gf_clock_start)
        SELECT c.id, c.root, c.grid, c.category, c.urgent, c.groups, c.received_at, c.source,
               c.reported_at, c.state,
               gf_clock_start (c.source, c.reported_at, c.received_at) AS started_at,
               (gf_clock_start (c.source, c.reported_at, c.received_at) AT TIME ZONE 'Asia/Shanghai')::date AS local_day
          FROM p JOIN cases c ON c.root = p.root AND c.received_at >= p.t0
                             AND c.received_at < p.t1 AND c.received_at <= p.as_of
                             AND c.merged_into IS NULL
    ), later AS MATERIALIZED (
        -- the cases with an event after as_of: only their state is rebuilt
        -- from their history (gf_case_at); every other case is as its live
        -- row says (as in gf_ledger_cases_at).  For the current month
        -- (as_of = now) that is next to none.
        SELECT DISTINCT e.case_id FROM p JOIN case_events e ON e.at > p.as_of
    ), due AS MATERIALIZED (
        -- gf_resolution_due once per kind of case and local day (a calendar
        -- walk each), not per case: the deadline falls at the same time of
        -- day as the case was received (gf_add_working_days).
        SELECT k.root, k.category, k.urgent, k.groups, k.local_day,
               gf_resolution_due (k.root, k.category, k.urgent, k.groups,
                                  k.local_day::timestamp AT TIME ZONE 'Asia/Shanghai') AS at
          FROM (SELECT DISTINCT c.root, c.category, c.urgent, c.groups, c.local_day FROM c) k
    ), x AS (
        SELECT c.id, c.root, c.urgent, c.received_at, c.source, c.reported_at, p.as_of, p.sign_rule,
               CASE WHEN g.level = 3 THEN c.grid END AS l3,
               CASE WHEN g.level >= 2 THEN gf_owner_grid (c.grid, 2) END AS l2,
               d.at + (c.started_at - (c.local_day::timestamp AT TIME ZONE 'Asia/Shanghai')) AS due,
               gf_case_resolved (st.state) AS resolved, ev.*
          FROM p CROSS JOIN c
          JOIN grids g ON g.code = c.grid
          LEFT JOIN due d ON d.root = c.root AND d.category IS NOT DISTINCT FROM c.category
                         AND d.urgent = c.urgent AND d.groups = c.groups AND d.local_day = c.local_day
         CROSS JOIN LATERAL (SELECT CASE WHEN c.id IN (SELECT l.case_id FROM later l)
                                         THEN (gf_case_at (c.id, p.as_of)).state
                                         ELSE c.state END AS state) st
         CROSS JOIN LATERAL (
             SELECT min (e.at) FILTER (WHERE e.type = 'case.routed') AS routed_at,
                    min (e.at) FILTER (WHERE e.type = 'case.signed') AS signed_at,
                    max (e.at) FILTER (WHERE e.type = 'case.resolved') AS resolved_at,
                    count (*) FILTER (WHERE e.type = 'case.callback') AS callbacks,
                    count (*) FILTER (WHERE e.type = 'case.callback'
                                        AND (e.payload->>'satisfied')::boolean) AS satisfied,
                    bool_or (e.type = 'case.resolved') AS resolved_ever,
                    bool_or (e.type = 'case.reopened') AS reopened,
                    bool_or (e.type = 'case.supervised') AS supervised_event
               FROM case_events e
              WHERE e.case_id = c.id AND e.at <= p.as_of
                AND e.type IN ('case.routed', 'case.signed', 'case.resolved', 'case.callback',
                               'case.reopened', 'case.supervised')) ev
         -- neither open nor resolved (merged; any state gf_case_open and
         -- gf_case_resolved both leave out): not a case to judge by
         WHERE gf_case_open (st.state) OR gf_case_resolved (st.state)
    ), y AS (
        -- gf_overdue_at with the rule read once (gf_overdue_at_rule)
        SELECT x.*, gf_overdue_at_rule ('routed', x.urgent, gf_clock_start (x.source, x.reported_at, x.routed_at),
                                        x.received_at, NULL,
                                        x.sign_rule) AS sign_due
          FROM x
    )
    SELECT y.id, y.l2, y.l3, CASE WHEN y.l3 IS NOT NULL THEN gf_leader (y.l3) END,
           y.received_at, y.routed_at, y.signed_at, y.sign_due,
           y.routed_at IS NOT NULL AND (y.signed_at IS NOT NULL OR y.sign_due <= y.as_of),
           coalesce (y.routed_at IS NOT NULL AND y.signed_at <= y.sign_due, false),
           y.resolved, CASE WHEN y.resolved THEN y.resolved_at END, y.due,
           y.resolved AND y.resolved_at <= y.due,
           (y.resolved AND y.resolved_at > y.due) OR (NOT y.resolved AND y.due < y.as_of),
           y.callbacks, y.satisfied, coalesce (y.resolved_ever, false), coalesce (y.reopened, false),
           coalesce (y.supervised_event, false)
             OR EXISTS (SELECT 1 FROM meeting_decisions d
                         WHERE d.case_id = y.id AND d.kind = 'supervise' AND d.at <= y.as_of)
      FROM y
$$;

-- The indicators, one row per unit: the total (section 'total', key NULL),
-- each L2 grid ('l2'), each L3 grid ('l3') and each leader ('leader') with
-- cases in the month.  Rates are percentages to one decimal (NULL without
-- cases to rate): response_rate = responded / response_due (响应率),
-- resolution_rate = resolved / received (解决率), on_time_rate = on_time /
-- (on_time + late) (按时办结率), satisfaction_rate = satisfied / callbacks
-- (满意率), reopen_rate = reopened / resolved_ever (重办率);
-- avg_response_hours: routed to first signed, of the signed cases.
-- score: the rule's weighted mean of the four rates named in its weights,
-- as published (one decimal, so that anyone can redo it from the table; a
-- rate without cases is left out), rounded to one decimal; ranked (rank: 1 best, ties share) only with received >=
-- min_sample, within the section; the total is not ranked.
CREATE OR REPLACE FUNCTION gf_indicators (p_grid text, p_month text)
RETURNS TABLE (section text, key text, name text, received bigint, response_due bigint,
               responded bigint, response_rate_pct numeric, avg_response_hours numeric,
               resolved bigint, resolution_rate_pct numeric, on_time bigint, late bigint,
               on_time_rate_pct numeric, callbacks bigint, satisfied bigint,
               satisfaction_rate_pct numeric, resolved_ever bigint, reopened bigint,
               reopen_rate_pct numeric, supervised bigint, score numeric, ranked boolean,
               rank bigint, min_sample integer)
LANGUAGE sql STABLE AS $$
    WITH p AS MATERIALIZED (
        SELECT p0.root, r.min_sample, r.weights
          FROM gf_report_period (p_grid, p_month) p0, gf_indicator_rule (p0.root) r
    ), c AS MATERIALIZED (
        SELECT * FROM gf_indicator_cases (p_grid, p_month)
    ), member AS (
        SELECT 'total' AS section, '' AS key, c.* FROM c
        UNION ALL SELECT 'l2', c.l2, c.* FROM c WHERE c.l2 IS NOT NULL
        UNION ALL SELECT 'l3', c.l3, c.* FROM c WHERE c.l3 IS NOT NULL
        UNION ALL SELECT 'leader', c.leader, c.* FROM c WHERE c.leader IS NOT NULL
    ), agg AS (
        SELECT m.section, m.key, count (*) AS received,
               count (*) FILTER (WHERE m.response_due) AS response_due,
               count (*) FILTER (WHERE m.response_due AND m.responded) AS responded,
               avg (extract (epoch FROM m.signed_at - m.routed_at)) AS response_seconds,
               count (*) FILTER (WHERE m.resolved) AS resolved,
               count (*) FILTER (WHERE m.on_time) AS on_time,
               count (*) FILTER (WHERE m.late) AS late,
               sum (m.callbacks)::bigint AS callbacks, sum (m.satisfied)::bigint AS satisfied,
               count (*) FILTER (WHERE m.resolved_ever) AS resolved_ever,
               count (*) FILTER (WHERE m.resolved_ever AND m.reopened) AS reopened,
               count (*) FILTER (WHERE m.supervised) AS supervised
          FROM member m GROUP BY m.section, m.key
    ), rates AS (
        SELECT a.*, round (100.0 * a.responded / nullif (a.response_due, 0), 1) AS r_response,
               round (100.0 * a.resolved / nullif (a.received, 0), 1) AS r_resolution,
               round (100.0 * a.on_time / nullif (a.on_time + a.late, 0), 1) AS r_on_time,
               round (100.0 * a.satisfied / nullif (a.callbacks, 0), 1) AS r_satisfaction
          FROM agg a
    ), scored AS (
        SELECT r.*, p.min_sample,
               round ((SELECT sum (w.value::numeric * v.rate) / nullif (sum (w.value::numeric), 0)
                         FROM jsonb_each_text (p.weights) w
                         JOIN (VALUES ('response', r.r_response), ('resolution', r.r_resolution),
                                      ('on_time', r.r_on_time), ('satisfaction', r.r_satisfaction))
                              v (k, rate) ON v.k = w.key AND v.rate IS NOT NULL), 1) AS score,
               r.section <> 'total' AND r.received >= p.min_sample AS ranked
          FROM rates r, p
    )
    SELECT s.section, nullif (s.key, ''),
           CASE s.section WHEN 'total' THEN (SELECT g.name FROM grids g, p WHERE g.code = p.root)
                          WHEN 'leader' THEN (SELECT pe.name FROM people pe WHERE pe.id = s.key)
                          ELSE (SELECT g.name FROM grids g WHERE g.code = s.key) END,
           s.received, s.response_due, s.responded, s.r_response,
           round (s.response_seconds / 3600, 1), s.resolved, s.r_resolution,
           s.on_time, s.late, s.r_on_time, s.callbacks, s.satisfied,
           s.r_satisfaction, s.resolved_ever, s.reopened,
           round (100.0 * s.reopened / nullif (s.resolved_ever, 0), 1), s.supervised, s.score,
           s.ranked,
           CASE WHEN s.ranked THEN rank () OVER (PARTITION BY s.section, s.ranked
                                                 ORDER BY s.score DESC NULLS LAST) END,
           s.min_sample
      FROM scored s
     ORDER BY array_position (ARRAY['total', 'l2', 'l3', 'leader'], s.section),
              s.ranked DESC, s.score DESC NULLS LAST, s.key
$$;

-- The same as one JSON object: grid, month, min_sample, weights, the
-- deadline rules in force, total, and by_l2 / by_l3 / by_leader (rows
-- without section, in rank order, the unranked after).  NULL when p_grid is
-- not an L1 grid.
CREATE OR REPLACE FUNCTION gf_indicators_json (p_grid text, p_month text)
RETURNS json LANGUAGE sql STABLE AS $$
    WITH r AS MATERIALIZED (
        SELECT i.section, row_number () OVER () AS n,
               row_to_json (o) AS obj
          FROM gf_indicators (p_grid, p_month) i
         CROSS JOIN LATERAL (SELECT i.key, i.name, i.received, i.response_due, i.responded,
                                    i.response_rate_pct, i.avg_response_hours, i.resolved,
                                    i.resolution_rate_pct, i.on_time, i.late, i.on_time_rate_pct,
                                    i.callbacks, i.satisfied, i.satisfaction_rate_pct,
                                    i.resolved_ever, i.reopened, i.reopen_rate_pct, i.supervised,
                                    i.score, i.ranked, i.rank) o
    )
    SELECT row_to_json (j)
      FROM (SELECT p.root AS grid, to_char (p.m, 'YYYY-MM') AS month, ir.min_sample, ir.weights,
                   (SELECT coalesce (json_agg (json_build_object (
                               'root', d.root, 'category', d.category, 'priority', d.priority,
                               'working_days', d.working_days)
                             ORDER BY d.root = '*', d.root, d.category, d.priority), '[]')
                      FROM resolution_deadlines d WHERE d.root IN (p.root, '*')) AS deadlines,
                   (SELECT r.obj FROM r WHERE r.section = 'total') AS total,
                   (SELECT coalesce (json_agg (r.obj ORDER BY r.n), '[]') FROM r
                     WHERE r.section = 'l2') AS by_l2,
                   (SELECT coalesce (json_agg (r.obj ORDER BY r.n), '[]') FROM r
                     WHERE r.section = 'l3') AS by_l3,
                   (SELECT coalesce (json_agg (r.obj ORDER BY r.n), '[]') FROM r
                     WHERE r.section = 'leader') AS by_leader
              FROM gf_report_period (p_grid, p_month) p, gf_indicator_rule (p.root) ir) j
$$;

-- /api/indicators.json: the indicators of every L1 grid in the current
-- month of gf_now () ({"roots":[gf_indicators_json ...]}), as the viewer of
-- subtree p_grid may see them (issue 16; NULL: all): an L1 grid inside it
-- whole, the L1 grid above it with only the rows of its L2 / L3 grids and
-- leaders inside it (no total).  SECURITY DEFINER: the gateway may
-- not read cases (only cases_public, which has no special groups, and the
-- deadline rule needs them); this returns counts and rates only, no case.
CREATE OR REPLACE FUNCTION gf_dash_indicators (p_grid text) RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    WITH r AS MATERIALIZED ( -- each root's JSON once (r.j is read four times below)
        SELECT g.code, p_grid IS NULL OR gf_in_subtree (g.code, p_grid) AS whole,
               gf_indicators_json (g.code, to_char (gf_now () AT TIME ZONE 'Asia/Shanghai',
                                                    'YYYY-MM'))::jsonb AS j
          FROM grids g
         WHERE g.level = 1
           AND (p_grid IS NULL OR gf_in_subtree (g.code, p_grid) OR gf_in_subtree (p_grid, g.code))
    )
    SELECT json_build_object ('roots', coalesce (json_agg (CASE WHEN r.whole THEN r.j
               ELSE r.j || jsonb_build_object ('total', NULL,
                   'by_l2', gf_indicators_rows_in (r.j -> 'by_l2', p_grid, false),
                   'by_l3', gf_indicators_rows_in (r.j -> 'by_l3', p_grid, false),
                   'by_leader', gf_indicators_rows_in (r.j -> 'by_leader', p_grid, true)) END
             ORDER BY r.code), '[]'))
      FROM r
$$;

-- The rows of a by_l2 / by_l3 / by_leader array whose grid (p_leaders: the
-- leader's grid) is inside subtree p_grid, in their order.
CREATE OR REPLACE FUNCTION gf_indicators_rows_in (p_rows jsonb, p_grid text, p_leaders boolean)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT coalesce (jsonb_agg (e.x ORDER BY e.n), '[]')
      FROM jsonb_array_elements (p_rows) WITH ORDINALITY e (x, n)
     WHERE gf_in_subtree (CASE WHEN p_leaders
                               THEN (SELECT pe.grid FROM people pe WHERE pe.id = e.x ->> 'key')
                               ELSE e.x ->> 'key' END, p_grid)
$$;

-- The gateway's /metrics gauges for the current month of gf_now ()
-- (gf_indicators of every L1 grid): per L1 and L2 grid, each rate as a
-- fraction (0..1) and the counts; one row per (metric, grid), no row for a
-- rate without cases; help: the metric's HELP line.  SECURITY DEFINER for
-- the reason above.
CREATE OR REPLACE FUNCTION gf_indicator_metrics ()
RETURNS TABLE (metric text, help text, grid text, value double precision)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT m.metric, m.help, CASE WHEN i.section = 'total' THEN g.code ELSE i.key END, m.value
      FROM grids g
     CROSS JOIN LATERAL gf_indicators (g.code, to_char (gf_now () AT TIME ZONE 'Asia/Shanghai',
                                                        'YYYY-MM')) i
     CROSS JOIN LATERAL (VALUES
         ('gf_indicator_received', 'Cases received this month (L1 or L2 grid).', i.received::float8),
         ('gf_indicator_response_rate', 'Response rate (响应率): signed within the sign-for deadline.',
          (i.response_rate_pct / 100)::float8),
         ('gf_indicator_resolution_rate', 'Resolution rate (解决率): resolved of received.',
          (i.resolution_rate_pct / 100)::float8),
         ('gf_indicator_on_time_rate', 'On-time rate (按时办结率): on time of on time and late.',
          (i.on_time_rate_pct / 100)::float8),
         ('gf_indicator_satisfaction_rate', 'Satisfaction rate (满意率): satisfied callbacks.',
          (i.satisfaction_rate_pct / 100)::float8),
         ('gf_indicator_reopen_rate', 'Reopen rate (重办率): reopened of resolved.',
          (i.reopen_rate_pct / 100)::float8),
         ('gf_indicator_supervised', 'Cases supervised (督办).', i.supervised::float8)) m (metric, help, value)
     WHERE g.level = 1 AND i.section IN ('total', 'l2') AND m.value IS NOT NULL
     ORDER BY 1, 3
$$;
