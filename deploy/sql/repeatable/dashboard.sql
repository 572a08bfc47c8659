-- dashboard.sql — what the dashboards read: the web dashboard and the
-- directory page (the gateway's /api/*.json, services/gateway/gf_dash.c) and
-- the terminal board (`gridctl watch`).  Each JSON function answers one
-- endpoint with one statement; cases are read through cases_public (the
-- gateway's role may not read cases), open, resolved and overdue are
-- cases.sql's, a subtree is directory.sql's.  No resident's personal data
-- is returned (case ids, grids, categories, states; the directory lists
-- staff, whose details are public by design).  The staff reads (summary,
-- escalations, ledger, trend) take the viewer's subtree p_grid (issue 16:
-- the session's or the kiosk token's grid; NULL: all) and show only what
-- lies inside it (gf_in_subtree).
-- Owns: gf_dash_summary, gf_dash_escalations, gf_dash_ledger, gf_dash_trend,
-- gf_dash_directory, gf_dash_vocabulary, gf_watch_cases.

-- summary.json: totals, and every grid with the counts of its subtree (open,
-- the three tiers, urgent open), plus the log head the counts were read at.
-- A merged case is left out (its twin counts).  p_grid: the viewer's subtree
-- (its cases and grids only; NULL: all).
CREATE OR REPLACE FUNCTION gf_dash_summary (p_grid text) RETURNS json LANGUAGE sql STABLE AS $$
    WITH c AS (
        SELECT grid, state, tier, urgent, supervised, gf_case_open (state) AS open
          FROM cases_public
         WHERE merged_into IS NULL AND (p_grid IS NULL OR gf_in_subtree (grid, p_grid))
    ), per AS (
        SELECT grid, count (*) AS total, count (*) FILTER (WHERE open) AS open,
               count (*) FILTER (WHERE tier = 'resolved') AS resolved,
               count (*) FILTER (WHERE tier = 'pending') AS pending,
               count (*) FILTER (WHERE tier = 'hard') AS hard,
               count (*) FILTER (WHERE urgent AND open) AS urgent
          FROM c GROUP BY grid
    ), g AS (
        SELECT g.code, g.name, g.level, g.parent,
               coalesce (sum (per.total), 0)::int AS total,
               coalesce (sum (per.open), 0)::int AS open,
               coalesce (sum (per.resolved), 0)::int AS resolved,
               coalesce (sum (per.pending), 0)::int AS pending,
               coalesce (sum (per.hard), 0)::int AS hard,
               coalesce (sum (per.urgent), 0)::int AS urgent
          FROM grids g LEFT JOIN per ON gf_in_subtree (per.grid, g.code)
         WHERE p_grid IS NULL OR gf_in_subtree (g.code, p_grid)
         GROUP BY g.code
    )
    SELECT json_build_object (
        'at', to_char (gf_now () AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS'),
        'head', (SELECT coalesce (max (seq), 0) FROM case_events),
        'totals', (SELECT json_build_object ('total', count (*),
                              'open', count (*) FILTER (WHERE open),
                              'resolved', count (*) FILTER (WHERE tier = 'resolved'),
                              'pending', count (*) FILTER (WHERE tier = 'pending'),
                              'hard', count (*) FILTER (WHERE tier = 'hard'),
                              'unroutable', count (*) FILTER (WHERE state = 'unroutable'),
                              'urgent', count (*) FILTER (WHERE urgent AND open),
                              'supervised', count (*) FILTER (WHERE supervised AND open))
                     FROM c),
        'grids', (SELECT coalesce (json_agg (g ORDER BY g.code), '[]') FROM g))
$$;

-- escalations.json: the latest 30 escalations (of escalations_total) and the
-- overdue cases (gf_overdue_at: waiting to be signed for past the
-- sign_reminder rule), the 30 longest waiting of overdue_total; hours: since
-- the case reached its grid.  The rule is read once per L1 grid
-- (gf_overdue_at_rule), and an escalation's case by its id (LATERAL: a join
-- to the view would read every case).  p_grid: the viewer's subtree (the
-- escalations and overdue cases of its cases only; NULL: all).
CREATE OR REPLACE FUNCTION gf_dash_escalations (p_grid text) RETURNS json
LANGUAGE sql STABLE AS $$
    WITH k AS MATERIALIZED (
        SELECT gf_now () AS now
    ), rl AS MATERIALIZED (
        SELECT code AS root, gf_rule (code, 'sign_reminder') AS p FROM grids WHERE level = 1
    ), od AS (
        SELECT c.id AS case_id, c.grid, g.name AS grid_name, cat.name AS category, c.urgent,
               c.supervised,
               round (extract (epoch FROM k.now - gf_clock_start (c.source, c.reported_at,
                                                         coalesce (c.routed_at, c.received_at)))
                      / 3600)::int
                 AS hours
          FROM cases_public c JOIN grids g ON g.code = c.grid
         CROSS JOIN k JOIN rl ON rl.root = c.root
          LEFT JOIN categories cat ON cat.code = c.category
         WHERE gf_case_open (c.state) -- implied; lets the partial indexes on open cases serve
           AND (p_grid IS NULL OR gf_in_subtree (c.grid, p_grid))
           AND gf_overdue_at_rule (c.state, c.urgent,
                                   gf_clock_start (c.source, c.reported_at, c.routed_at),
                                   c.received_at, c.updated_at, rl.p) <= k.now
    ), es AS (
        -- all escalations, or those of the subtree's cases (by the case's grid)
        SELECT e.* FROM escalations e WHERE p_grid IS NULL
        UNION ALL
        SELECT e.* FROM escalations e
         WHERE p_grid IS NOT NULL
           AND EXISTS (SELECT 1 FROM cases_public c WHERE c.id = e.case_id
                          AND gf_in_subtree (c.grid, p_grid))
    )
    SELECT json_build_object (
        'escalations', (SELECT coalesce (json_agg (x), '[]') FROM (
            SELECT e.id, e.case_id, e.rule, e.from_level, e.to_level, e.automatic,
                   to_char (e.at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') AS at,
                   c.grid, g.name AS grid_name, cat.name AS category, c.urgent,
                   coalesce (sn.name, c.state) AS state
              FROM (SELECT * FROM es ORDER BY at DESC, id DESC LIMIT 30) e
             CROSS JOIN LATERAL (SELECT * FROM cases_public c WHERE c.id = e.case_id OFFSET 0) c
              JOIN grids g ON g.code = c.grid
              LEFT JOIN categories cat ON cat.code = c.category
              LEFT JOIN case_state_names sn ON sn.state = c.state
             ORDER BY e.at DESC, e.id DESC) x),
        'escalations_total', (SELECT count (*) FROM es),
        'overdue', (SELECT coalesce (json_agg (od ORDER BY od.hours DESC, od.case_id), '[]')
                      FROM (SELECT * FROM od ORDER BY hours DESC, case_id LIMIT 30) od),
        'overdue_total', (SELECT count (*) FROM od))
$$;

-- ledger.json: the latest weekly meetings' ledgers (one per L2 grid, same
-- day) and the latest monthly meeting's, by L2 grid.  p_grid: the viewer's
-- subtree: the meetings held inside it or above it (its L2 or L1 grid's),
-- each counting only the entries owned inside it (NULL: all).
CREATE OR REPLACE FUNCTION gf_dash_ledger (p_grid text) RETURNS json LANGUAGE sql STABLE AS $$
    WITH wd AS (
        SELECT max (day) AS day FROM meetings WHERE kind = 'weekly'
    ), le AS (
        SELECT * FROM ledger_entries le
         WHERE p_grid IS NULL OR gf_in_subtree (le.owner, p_grid)
    ), w AS (
        SELECT m.id, m.grid, g.name AS grid_name, m.day::text AS day,
               to_char (m.held_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') AS held,
               count (le.case_id) FILTER (WHERE le.tier = 'resolved')::int AS resolved,
               count (le.case_id) FILTER (WHERE le.tier = 'pending')::int AS pending,
               count (le.case_id) FILTER (WHERE le.tier = 'hard')::int AS hard,
               count (le.case_id) FILTER (WHERE le.escalated)::int AS escalated,
               -- the safety net's (issue 14): the meeting's state, its automatic escalations
               m.state, (SELECT count (*) FROM escalations e
                          WHERE e.meeting_id = m.id AND e.automatic)::int AS automatic
          FROM wd JOIN meetings m ON m.kind = 'weekly' AND m.day = wd.day
          JOIN grids g ON g.code = m.grid
          LEFT JOIN le ON le.meeting_id = m.id
         WHERE p_grid IS NULL OR gf_in_subtree (m.grid, p_grid) OR gf_in_subtree (p_grid, m.grid)
         GROUP BY m.id, g.name
    ), mm AS (
        SELECT m.id, m.grid, g.name AS grid_name, m.day::text AS day,
               to_char (m.period_from AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') AS period_from,
               to_char (m.slot_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') AS period_to,
               m.state, (SELECT count (*) FROM escalations e
                          WHERE e.meeting_id = m.id AND e.automatic)::int AS automatic
          FROM meetings m JOIN grids g ON g.code = m.grid
         WHERE m.kind = 'monthly'
           AND (p_grid IS NULL OR gf_in_subtree (m.grid, p_grid) OR gf_in_subtree (p_grid, m.grid))
         ORDER BY m.day DESC, m.id DESC LIMIT 1
    )
    SELECT json_build_object (
        'weekly', (SELECT coalesce (json_agg (w ORDER BY w.grid), '[]') FROM w),
        'monthly', (SELECT json_build_object ('meeting', row_to_json (mm),
            'rows', (SELECT coalesce (json_agg (r ORDER BY r.grid), '[]') FROM (
                SELECT coalesce (gf_owner_grid (le.owner, 2), le.owner) AS grid,
                       min (g2.name) AS grid_name,
                       count (*) FILTER (WHERE le.tier = 'resolved')::int AS resolved,
                       count (*) FILTER (WHERE le.tier = 'pending')::int AS pending,
                       count (*) FILTER (WHERE le.tier = 'hard')::int AS hard,
                       count (*) FILTER (WHERE le.escalated)::int AS escalated
                  FROM le
                  LEFT JOIN grids g2 ON g2.code = coalesce (gf_owner_grid (le.owner, 2), le.owner)
                 WHERE le.meeting_id = mm.id GROUP BY 1) r))
          FROM mm))
$$;

-- trend.json?days=N: cases received and resolved per day (Asia/Shanghai
-- days), the last p_days days up to the clock's today; p_grid: the viewer's
-- subtree (NULL: all).
CREATE OR REPLACE FUNCTION gf_dash_trend (p_days integer, p_grid text) RETURNS json
LANGUAGE sql STABLE AS $$
    WITH today AS (
        SELECT (gf_now () AT TIME ZONE 'Asia/Shanghai')::date AS d
    ), days AS (
        SELECT generate_series (today.d - (p_days - 1), today.d, '1 day')::date AS day FROM today
    ), rec AS (
        SELECT (received_at AT TIME ZONE 'Asia/Shanghai')::date AS day, count (*) AS n
          FROM cases_public, today
         WHERE received_at >= (today.d - p_days)::timestamp AT TIME ZONE 'Asia/Shanghai'
           AND (p_grid IS NULL OR gf_in_subtree (grid, p_grid))
         GROUP BY 1
    ), res AS (
        SELECT (at AT TIME ZONE 'Asia/Shanghai')::date AS day, count (DISTINCT case_id) AS n
          FROM case_events, today
         WHERE type = 'case.resolved'
           AND at >= (today.d - p_days)::timestamp AT TIME ZONE 'Asia/Shanghai'
           AND (p_grid IS NULL OR gf_in_subtree (grid, p_grid))
         GROUP BY 1
    )
    SELECT json_agg (json_build_object ('day', to_char (days.day, 'MM-DD'),
                                        'received', coalesce (rec.n, 0),
                                        'resolved', coalesce (res.n, 0)) ORDER BY days.day)
      FROM days LEFT JOIN rec ON rec.day = days.day LEFT JOIN res ON res.day = days.day
$$;

-- directory.json?grid=G: the public grid directory (四公开), each grid with
-- its leader's name, position, published phone and commitment; p_grid
-- (NULL: all) keeps one subtree.
CREATE OR REPLACE FUNCTION gf_dash_directory (p_grid text) RETURNS json LANGUAGE sql STABLE AS $$
    SELECT coalesce (json_agg (json_build_object (
               'code', g.code, 'level', g.level, 'parent', g.parent, 'name', g.name,
               'commitment', g.commitment,
               'leader', (SELECT json_build_object ('name', p.name, 'position', p.position,
                                                    'phone', p.phone, 'commitment', p.commitment)
                            FROM people p WHERE p.grid = g.code AND p.role = 'leader'))
             ORDER BY g.code), '[]')
      FROM grids g WHERE p_grid IS NULL OR gf_in_subtree (g.code, p_grid)
$$;

-- vocabulary.json: the names the dashboard shows, from the vocabulary
-- tables (017, 019), each as code -> Chinese name; states and special
-- groups also in their order.
CREATE OR REPLACE FUNCTION gf_dash_vocabulary () RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object (
        'event_types', (SELECT coalesce (json_object_agg (type, name ORDER BY type), '{}')
                          FROM event_types),
        'states', (SELECT coalesce (json_object_agg (state, name ORDER BY ord), '{}')
                     FROM case_state_names),
        'special_groups', (SELECT coalesce (json_object_agg (code, name ORDER BY ord), '{}')
                             FROM special_groups),
        'escalation_rules', (SELECT coalesce (json_object_agg (rule, name ORDER BY ord), '{}')
                               FROM escalation_rule_names),
        'categories', (SELECT coalesce (json_object_agg (code, name ORDER BY code), '{}')
                         FROM categories))
$$;

-- `gridctl watch`: the open cases of a subtree ('' : all), or the one case
-- p_case when it is open there, with its tier and when it becomes overdue
-- (epoch ms; NULL: not waiting to be signed for).  The subtree as its index
-- range (gf_subtree_lo/hi): unlike gf_in_subtree it passes the view's
-- barrier, so the partial index on open cases serves.
CREATE OR REPLACE FUNCTION gf_watch_cases (p_grid text, p_case bigint)
RETURNS TABLE (id bigint, grid text, tier text, overdue_at bigint)
LANGUAGE sql STABLE AS $$
    WITH rl AS MATERIALIZED (
        SELECT code AS root, gf_rule (code, 'sign_reminder') AS p FROM grids WHERE level = 1
    )
    SELECT c.id, c.grid, c.tier,
           (extract (epoch FROM gf_overdue_at_rule (c.state, c.urgent,
                                                    gf_clock_start (c.source, c.reported_at,
                                                                    c.routed_at),
                                                    c.received_at, c.updated_at, rl.p))
            * 1000)::bigint
      FROM cases_public c JOIN rl ON rl.root = c.root
     WHERE gf_case_open (c.state)
       AND (p_grid = '' OR c.grid = p_grid
            OR (c.grid ~>=~ gf_subtree_lo (p_grid) AND c.grid ~<~ gf_subtree_hi (p_grid)))
       AND (p_case IS NULL OR c.id = p_case)
$$;
