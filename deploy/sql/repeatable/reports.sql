-- reports.sql — what staff read: a case and its timeline, the case list, the
-- meeting list, the meeting ledgers (三级台账: 已解决 / 待解决 / 难解决) and
-- the L1 monthly report by category and by priority (分类别、分重点).  Every
-- number is computed here; gridctl only lays the rows out for people, or
-- writes them for machines: CSV by COPY (SELECT * FROM gf_...) and JSON by
-- the gf_..._json functions (one object, on one line).  Times for machines
-- are ISO 8601 local (Asia/Shanghai, +08:00).
-- Owns: gf_case_timeline, gf_case_list, gf_meeting_list, gf_meeting_list_json,
-- gf_ledger_meeting, gf_ledger_entries, gf_ledger_csv, gf_ledger_json,
-- gf_report_period, gf_report_monthly_head, gf_report_monthly_rows,
-- gf_report_monthly, gf_report_monthly_json, gf_report_notes.

-- A case's events as `gridctl case show` prints them: local time, who (the
-- actor's name and id) and the payload's details in words.
CREATE OR REPLACE FUNCTION gf_case_timeline (p_case bigint)
RETURNS TABLE (seq bigint, type text, grid text, at text, who text, detail text)
LANGUAGE sql STABLE AS $$
    SELECT e.seq, e.type, e.grid,
           to_char (e.at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS'),
           coalesce (p.name || '(' || (e.payload->>'actor') || ')', ''),
           concat_ws (' ',
             CASE WHEN e.payload ? 'from' THEN (e.payload->>'from') || ' → ' || (e.payload->>'to') END,
             'note: ' || coalesce (e.restricted->>'note', e.payload->>'note'), 'department: ' || (e.payload->>'department'),
             'satisfied: ' || (e.payload->>'satisfied'), 'into: ' || (e.payload->>'into'),
             'follows: ' || (e.payload->>'follows'), 'reason: ' || (e.payload->>'reason'),
             'to: ' || (e.payload->>'recipient'), 'via: ' || (e.payload->>'via'),
             'tier: ' || (e.payload->>'tier'),
             'helper: ' || (e.payload->>'helper') || ' (' || (e.payload->>'team') || ')')
      FROM case_events e LEFT JOIN people p ON p.id = e.payload->>'actor'
     WHERE e.case_id = p_case
     ORDER BY e.id
$$;

-- `gridctl case list`: every filter is optional (NULL matches all).
-- p_priority: 'urgent', 'any' (urgent or a special group) or a group code.
-- p_from / p_to: local days, inclusive.
CREATE OR REPLACE FUNCTION gf_case_list (p_grid text, p_state text, p_tier text, p_level integer,
                                         p_priority text, p_from date, p_to date,
                                         p_supervised boolean, p_limit bigint)
RETURNS TABLE (id bigint, state_name text, state text, grid text, grid_name text, category text,
               tier text, level smallint, urgent boolean, groups text, supervised boolean,
               received text, excerpt text)
LANGUAGE sql STABLE AS $$
    SELECT c.id, sn.name, c.state, c.grid, g.name, coalesce (cat.name, '未分类'), c.tier, c.level,
           c.urgent, array_to_string (c.groups, ','), c.supervised,
           to_char (c.received_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI'),
           left (regexp_replace (c.description, '\s+', ' ', 'g'), 24)
      FROM cases c JOIN grids g ON g.code = c.grid
      LEFT JOIN categories cat ON cat.code = c.category
      LEFT JOIN case_state_names sn ON sn.state = c.state
     WHERE (p_grid IS NULL OR gf_in_subtree (c.grid, p_grid))
       AND (p_state IS NULL OR c.state = p_state)
       AND (p_tier IS NULL OR c.tier = p_tier)
       AND (p_level IS NULL OR c.level = p_level)
       AND (p_priority IS NULL OR (p_priority = 'urgent' AND c.urgent)
            OR (p_priority = 'any' AND (c.urgent OR c.groups <> '{}')) OR p_priority = ANY (c.groups))
       AND (p_from IS NULL OR c.received_at >= (p_from::timestamp AT TIME ZONE 'Asia/Shanghai'))
       AND (p_to IS NULL OR c.received_at < ((p_to + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'))
       AND (NOT coalesce (p_supervised, false) OR c.supervised)
     ORDER BY c.id LIMIT p_limit
$$;

-- `gridctl meeting list`: the meetings of a subtree (NULL: all), of a kind
-- (NULL: all), newest first, with their ledgers' size per tier.
CREATE OR REPLACE FUNCTION gf_meeting_list (p_grid text, p_kind text, p_limit bigint)
RETURNS TABLE (id bigint, grid text, grid_name text, kind text, kind_name text, day text,
               slot_at text, held_at text, entries bigint, resolved bigint, pending bigint,
               hard bigint, escalated bigint)
LANGUAGE sql STABLE AS $$
    SELECT m.id, m.grid, g.name, m.kind,
           CASE m.kind WHEN 'weekly' THEN '周例会' WHEN 'monthly' THEN '月例会' ELSE '民情征询会' END,
           m.day::text,
           to_char (m.slot_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"'),
           to_char (m.held_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"'),
           count (le.case_id),
           count (le.case_id) FILTER (WHERE le.tier = 'resolved'),
           count (le.case_id) FILTER (WHERE le.tier = 'pending'),
           count (le.case_id) FILTER (WHERE le.tier = 'hard'),
           (SELECT count (*) FROM escalations e WHERE e.meeting_id = m.id)
      FROM meetings m JOIN grids g ON g.code = m.grid
      LEFT JOIN ledger_entries le ON le.meeting_id = m.id
     WHERE (p_grid IS NULL OR gf_in_subtree (m.grid, p_grid))
       AND (p_kind IS NULL OR m.kind = p_kind)
     GROUP BY m.id, g.name
     ORDER BY m.slot_at DESC, m.id DESC
     LIMIT p_limit
$$;

-- The same as {"meetings":[...]}.
CREATE OR REPLACE FUNCTION gf_meeting_list_json (p_grid text, p_kind text, p_limit bigint)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT row_to_json (j)
      FROM (SELECT coalesce (array_to_json (array_agg (row_to_json (l) ORDER BY l.slot_at DESC, l.id DESC)),
                             '[]') AS meetings
              FROM gf_meeting_list (p_grid, p_kind, p_limit) l) j
$$;

-- A meeting's header: who met, when, over which period, and the ledger's
-- size per tier.  No row for an unknown meeting.
CREATE OR REPLACE FUNCTION gf_ledger_meeting (p_meeting bigint)
RETURNS TABLE (meeting_id bigint, grid text, grid_name text, kind text, kind_name text, day text,
               slot_at text, held_at text, period_from text, period_to text, topic text,
               entries bigint, resolved bigint, pending bigint, hard bigint, escalated bigint)
LANGUAGE sql STABLE AS $$
    SELECT m.id, m.grid, g.name, m.kind,
           CASE m.kind WHEN 'weekly' THEN '周例会' WHEN 'monthly' THEN '月例会' ELSE '民情征询会' END,
           m.day::text,
           to_char (m.slot_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"'),
           to_char (m.held_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"'),
           to_char (m.period_from AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"'),
           to_char (m.slot_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"'),
           m.topic,
           (SELECT count (*) FROM ledger_entries le WHERE le.meeting_id = m.id),
           (SELECT count (*) FROM ledger_entries le WHERE le.meeting_id = m.id AND le.tier = 'resolved'),
           (SELECT count (*) FROM ledger_entries le WHERE le.meeting_id = m.id AND le.tier = 'pending'),
           (SELECT count (*) FROM ledger_entries le WHERE le.meeting_id = m.id AND le.tier = 'hard'),
           (SELECT count (*) FROM escalations e WHERE e.meeting_id = m.id)
      FROM meetings m JOIN grids g ON g.code = m.grid
     WHERE m.id = p_meeting
$$;

-- The ledger lines, tier by tier (已解决, 待解决, 难解决), as they were at the
-- meeting's slot.  The stored priority is '紧急' and/or the group codes
-- ("紧急 hardship,dibao"); people get the names (special_groups, '一般' for
-- none), machines the codes (urgent, groups).  Names of states and of the
-- last action come from the vocabularies (case_state_names, event_types).
CREATE OR REPLACE FUNCTION gf_ledger_entries (p_meeting bigint)
RETURNS TABLE (meeting_id bigint, tier text, tier_name text, case_id bigint, category text,
               category_name text, priority text, urgent boolean, groups text[], age_days integer,
               owner text, owner_name text, state text, state_name text, level smallint,
               last_action text, last_action_name text, last_action_at text, escalated boolean)
LANGUAGE sql STABLE AS $$
    SELECT le.meeting_id, le.tier,
           CASE le.tier WHEN 'resolved' THEN '已解决' WHEN 'pending' THEN '待解决' ELSE '难解决' END,
           le.case_id, le.category, coalesce (cat.name, '未分类'),
           coalesce ((SELECT string_agg (coalesce (sg.name, t.token), '、' ORDER BY t.ord)
                        FROM unnest (string_to_array (replace (le.priority, ' ', ','), ','))
                             WITH ORDINALITY t (token, ord)
                        LEFT JOIN special_groups sg ON sg.code = t.token
                       WHERE t.token <> ''), '一般'),
           starts_with (le.priority, '紧急'),
           array_remove (string_to_array (replace (le.priority, ' ', ','), ','), '紧急'),
           le.age_days, le.owner, og.name, le.state, coalesce (sn.name, le.state), le.level,
           le.last_action, coalesce (et.name, le.last_action),
           to_char (le.last_action_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"'),
           le.escalated
      FROM ledger_entries le
      LEFT JOIN categories cat ON cat.code = le.category
      LEFT JOIN grids og ON og.code = le.owner
      LEFT JOIN case_state_names sn ON sn.state = le.state
      LEFT JOIN event_types et ON et.type = le.last_action
     WHERE le.meeting_id = p_meeting
     ORDER BY array_position (ARRAY['resolved', 'pending', 'hard'], le.tier), le.case_id
$$;

-- The ledger lines for a spreadsheet: the groups as one field, joined by ','
-- (NULL for none: an empty field, not "").
CREATE OR REPLACE FUNCTION gf_ledger_csv (p_meeting bigint)
RETURNS TABLE (meeting_id bigint, tier text, tier_name text, case_id bigint, category text,
               category_name text, priority text, urgent boolean, groups text, age_days integer,
               owner text, owner_name text, state text, state_name text, level smallint,
               last_action text, last_action_name text, last_action_at text, escalated boolean)
LANGUAGE sql STABLE AS $$
    SELECT e.meeting_id, e.tier, e.tier_name, e.case_id, e.category, e.category_name, e.priority,
           e.urgent, nullif (array_to_string (e.groups, ','), ''), e.age_days, e.owner, e.owner_name, e.state,
           e.state_name, e.level, e.last_action, e.last_action_name, e.last_action_at, e.escalated
      FROM gf_ledger_entries (p_meeting) e
$$;

-- {"meeting":{header},"entries":[lines without meeting_id],"escalations":
-- [the meeting's escalations, automatic or decided: gf_meeting_escalations]};
-- NULL meeting for an unknown one.
CREATE OR REPLACE FUNCTION gf_ledger_json (p_meeting bigint)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT row_to_json (j)
      FROM (SELECT (SELECT row_to_json (m) FROM gf_ledger_meeting (p_meeting) m) AS meeting,
                   (SELECT coalesce (array_to_json (array_agg (
                               row_to_json (l) ORDER BY array_position (ARRAY['resolved', 'pending', 'hard'],
                                                                        e.tier), e.case_id)), '[]')
                      FROM gf_ledger_entries (p_meeting) e
                     CROSS JOIN LATERAL (SELECT e.tier, e.tier_name, e.case_id, e.category,
                                                e.category_name, e.priority, e.urgent, e.groups,
                                                e.age_days, e.owner, e.owner_name, e.state,
                                                e.state_name, e.level, e.last_action,
                                                e.last_action_name, e.last_action_at,
                                                e.escalated) l) AS entries,
                   (SELECT coalesce (json_agg (x ORDER BY x.case_id), '[]')
                      FROM gf_meeting_escalations (p_meeting) x) AS escalations) j
$$;

-- The month and the grid of a monthly report: the L1 grid (no row for
-- another grid), the month (given as YYYY-MM, else the month of the grid's
-- latest monthly meeting, else the current month of gf_now ()) and where it
-- came from, its bounds t0 .. t1, and as_of: the month's end or now,
-- whichever is earlier (states are taken as of then).
CREATE OR REPLACE FUNCTION gf_report_period (p_grid text, p_month text)
RETURNS TABLE (root text, root_name text, m date, source text, t0 timestamptz, t1 timestamptz,
               as_of timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT p0.root, p0.root_name, p0.m, p0.source,
           p0.m::timestamp AT TIME ZONE 'Asia/Shanghai',
           (p0.m + interval '1 month') AT TIME ZONE 'Asia/Shanghai',
           least ((p0.m + interval '1 month') AT TIME ZONE 'Asia/Shanghai', gf_now ())
      FROM (SELECT g.code AS root, g.name AS root_name,
                   coalesce (to_date (p_month, 'YYYY-MM'),
                             (SELECT date_trunc ('month', max (mt.day))::date FROM meetings mt
                               WHERE mt.grid = g.code AND mt.kind = 'monthly'),
                             date_trunc ('month', gf_now () AT TIME ZONE 'Asia/Shanghai')::date) AS m,
                   CASE WHEN p_month IS NOT NULL THEN 'given'
                        WHEN EXISTS (SELECT 1 FROM meetings mt
                                      WHERE mt.grid = g.code AND mt.kind = 'monthly')
                        THEN 'latest_monthly_meeting' ELSE 'current_month' END AS source
              FROM grids g WHERE g.code = p_grid AND g.level = 1) p0
$$;

-- The report's header; no row when p_grid is not an L1 grid.
CREATE OR REPLACE FUNCTION gf_report_monthly_head (p_grid text, p_month text)
RETURNS TABLE (grid text, grid_name text, month text, month_source text,
               latest_monthly_meeting text, period_from text, period_to text, as_of text)
LANGUAGE sql STABLE AS $$
    SELECT p.root, p.root_name, to_char (p.m, 'YYYY-MM'), p.source,
           (SELECT max (mt.day)::text FROM meetings mt WHERE mt.grid = p.root AND mt.kind = 'monthly'),
           to_char (p.t0 AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"'),
           to_char (p.t1 AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"'),
           to_char (p.as_of AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"')
      FROM gf_report_period (p_grid, p_month) p
$$;

-- One row per (section, key), in report order (ord, sub): the total, each
-- category, each priority group (紧急, the special groups, 一般), each L2
-- grid, then the month's escalations by rule.  The cases counted are those
-- of the L1 grid received in the month, less those merged into another
-- case.  A case is resolved when it was (tier resolved) as of as_of; its
-- resolution time is its last case.resolved up to then.  On time: resolved
-- by its deadline, gf_resolution_due (indicators.sql: the rules by category
-- and priority), or p_days working days when given; late: resolved after
-- that, or still open when it had passed.  A case can be in several priority rows.
CREATE OR REPLACE FUNCTION gf_report_monthly_rows (p_grid text, p_month text, p_days integer)
RETURNS TABLE (ord integer, sub integer, section text, key text, name text, received bigint,
               resolved bigint, open bigint, resolution_rate_pct numeric, on_time bigint,
               late bigint, on_time_rate_pct numeric, avg_hours_to_resolve numeric,
               escalations bigint)
LANGUAGE sql STABLE AS $$
    WITH p AS MATERIALIZED (
        SELECT * FROM gf_report_period (p_grid, p_month)
    ), x AS (
        SELECT c.id, c.category, c.urgent, c.groups, p.as_of,
               CASE WHEN c.grid <> c.root THEN gf_owner_grid (c.grid, 2) END AS l2,
               c.received_at, st.tier = 'resolved' AS resolved, r.at AS resolved_at,
               coalesce (gf_add_working_days (c.received_at, p_days),
                         gf_resolution_due (c.root, c.category, c.urgent, c.groups,
                                            gf_clock_start (c.source, c.reported_at, c.received_at))) AS due
          FROM p JOIN cases c ON c.root = p.root AND c.received_at >= p.t0
                             AND c.received_at < p.t1 AND c.received_at <= p.as_of
                             AND c.merged_into IS NULL
         CROSS JOIN LATERAL gf_case_at (c.id, p.as_of) st
          LEFT JOIN LATERAL (SELECT max (e.at) AS at FROM case_events e
                              WHERE e.case_id = c.id AND e.type = 'case.resolved'
                                AND e.at <= p.as_of) r ON true
    ), y AS (
        SELECT x.*, x.resolved AND x.resolved_at <= x.due AS on_time,
               (x.resolved AND x.resolved_at > x.due) OR (NOT x.resolved AND x.due < x.as_of) AS late
          FROM x
    ), member AS (
        SELECT 'total' AS section, '' AS key, y.id FROM y
        UNION ALL SELECT 'category', coalesce (y.category, ''), y.id FROM y
        UNION ALL SELECT 'priority', 'urgent', y.id FROM y WHERE y.urgent
        UNION ALL SELECT 'priority', g.code, y.id FROM y, unnest (y.groups) g (code)
        UNION ALL SELECT 'priority', 'general', y.id FROM y WHERE NOT y.urgent AND y.groups = '{}'
        UNION ALL SELECT 'l2', coalesce (y.l2, ''), y.id FROM y
    ), dim AS (
        SELECT 1 AS ord, 'total' AS section, '' AS key, '合计' AS name, 0 AS sub, true AS always
        UNION ALL SELECT 2, 'category', cat.code, cat.name,
                         (row_number () OVER (ORDER BY cat.code = 'other', cat.code))::int, true
                    FROM categories cat
        UNION ALL SELECT 2, 'category', '', '未分类', 1000000, false
        UNION ALL SELECT 3, 'priority', 'urgent', '紧急', 1, true
        UNION ALL SELECT 3, 'priority', sg.code, sg.name, sg.ord, true FROM special_groups sg
        UNION ALL SELECT 3, 'priority', 'general', '一般',
                         (SELECT coalesce (max (sg.ord), 1) + 1 FROM special_groups sg), true
        UNION ALL SELECT 4, 'l2', g.code, g.code || ' ' || g.name,
                         (row_number () OVER (ORDER BY g.code))::int, true
                    FROM p JOIN grids g ON g.parent = p.root
        UNION ALL SELECT 4, 'l2', '', '（未分流）', 1000000, false
    ), stats AS (
        SELECT d.ord, d.sub, d.section, d.key, d.name,
               count (y.id) AS received,
               count (y.id) FILTER (WHERE y.resolved) AS resolved,
               count (y.id) FILTER (WHERE NOT y.resolved) AS open,
               round (100.0 * count (y.id) FILTER (WHERE y.resolved) / nullif (count (y.id), 0), 1)
                 AS resolution_rate_pct,
               count (y.id) FILTER (WHERE y.on_time) AS on_time,
               count (y.id) FILTER (WHERE y.late) AS late,
               round (100.0 * count (y.id) FILTER (WHERE y.on_time)
                      / nullif (count (y.id) FILTER (WHERE y.on_time OR y.late), 0), 1)
                 AS on_time_rate_pct,
               round ((avg (extract (epoch FROM y.resolved_at - y.received_at))
                       FILTER (WHERE y.resolved) / 3600)::numeric, 1) AS avg_hours_to_resolve,
               NULL::bigint AS escalations
          FROM dim d
          LEFT JOIN member mb ON mb.section = d.section AND mb.key = d.key
          LEFT JOIN y ON y.id = mb.id
         GROUP BY d.ord, d.sub, d.section, d.key, d.name, d.always
        HAVING d.always OR count (y.id) > 0
    ), esc AS (
        SELECT 5 AS ord, r.sub, 'escalation' AS section, r.rule AS key, r.name,
               NULL::bigint AS received, NULL::bigint AS resolved, NULL::bigint AS open,
               NULL::numeric AS resolution_rate_pct, NULL::bigint AS on_time,
               NULL::bigint AS late, NULL::numeric AS on_time_rate_pct,
               NULL::numeric AS avg_hours_to_resolve, count (e.id) AS escalations
          FROM p CROSS JOIN (SELECT rule, name, ord AS sub FROM escalation_rule_names) r
          LEFT JOIN (escalations e JOIN cases ec ON ec.id = e.case_id)
                 ON e.rule = r.rule AND ec.root = p.root AND e.at >= p.t0 AND e.at < p.t1
         GROUP BY r.sub, r.rule, r.name
    )
    SELECT * FROM stats UNION ALL SELECT * FROM esc
$$;

-- The report rows as gridctl writes them (table and CSV): each with its
-- month and grid, in report order; key NULL (an empty CSV field) for the
-- total, no category and no L2 grid.  No row when p_grid is not an L1 grid.
CREATE OR REPLACE FUNCTION gf_report_monthly (p_grid text, p_month text, p_days integer)
RETURNS TABLE (month text, grid text, section text, key text, name text, received bigint,
               resolved bigint, open bigint, resolution_rate_pct numeric, on_time bigint,
               late bigint, on_time_rate_pct numeric, avg_hours_to_resolve numeric,
               escalations bigint)
LANGUAGE sql STABLE AS $$
    SELECT to_char (p.m, 'YYYY-MM'), p.root, u.section, nullif (u.key, ''), u.name, u.received, u.resolved,
           u.open, u.resolution_rate_pct, u.on_time, u.late, u.on_time_rate_pct,
           u.avg_hours_to_resolve, u.escalations
      FROM gf_report_period (p_grid, p_month) p,
           gf_report_monthly_rows (p_grid, p_month, p_days) u
     ORDER BY u.ord, u.sub
$$;

-- What the numbers mean, printed under the table and given in the JSON.
CREATE OR REPLACE FUNCTION gf_report_notes (p_days integer)
RETURNS TABLE (n integer, note text) LANGUAGE sql STABLE AS $$
    SELECT u.n::int, u.note
      FROM unnest (ARRAY[
               '统计对象：本月登记（received_at 在本月内）的本一级网格案件，不含并入他案的案件；'
               '状态截至月末或当前时间（取较早者）。',
               '办结率 = 办结 ÷ 登记。',
               coalesce ('按时：登记后 ' || p_days || ' 个工作日内办结',
                         '按时：在办理时限内办结（时限按一级网格、类别与重点由 resolution_deadlines 规则给出，'
                         '多个重点取最短；默认登记后 '
                         || (SELECT d.working_days FROM resolution_deadlines d
                              WHERE d.root = '*' AND d.category = '*' AND d.priority = '*')
                         || ' 个工作日内办结）')
               || '（gf_add_working_days，按法定节假日与调休工作日历）；已过期限仍未办结的案件计为逾期；'
               '按时率 = 按时 ÷（按时 + 逾期），未到期的未办结案件不计入。',
               '平均办结时长：已办结案件从登记到（最近一次）办结的小时数平均值。',
               '分重点各行可重叠：一件案件可同时计入“紧急”和一个或多个特殊群体；“一般”为既非紧急也无特殊群体。',
               '升级：本月内发生的升级次数，按规则（周例会 weekly_l2、月例会 monthly_l1、紧急 urgent_l2 / urgent_l1）。'
           ]) WITH ORDINALITY u (note, n)
$$;

-- The report as one JSON object: the header's fields, the deadline, the
-- total, by_category / by_priority / by_l2 (rows without month, grid,
-- section, escalations), escalations by rule and the notes.  NULL when
-- p_grid is not an L1 grid.
CREATE OR REPLACE FUNCTION gf_report_monthly_json (p_grid text, p_month text, p_days integer)
RETURNS json LANGUAGE sql STABLE AS $$
    WITH r AS MATERIALIZED (
        SELECT u.ord, u.sub, u.section, u.key, u.escalations,
               row_to_json (o) AS obj
          FROM gf_report_monthly_rows (p_grid, p_month, p_days) u
         CROSS JOIN LATERAL (SELECT u.key, u.name, u.received, u.resolved, u.open,
                                    u.resolution_rate_pct, u.on_time, u.late, u.on_time_rate_pct,
                                    u.avg_hours_to_resolve) o
    )
    SELECT row_to_json (j)
      FROM (SELECT h.grid, h.grid_name, h.month, h.month_source, h.latest_monthly_meeting,
                   h.period_from, h.period_to, h.as_of,
                   coalesce (p_days, gf_resolution_days (h.grid, NULL, false, '{}')) AS deadline_working_days,
                   (SELECT r.obj FROM r WHERE r.section = 'total') AS total,
                   (SELECT coalesce (array_to_json (array_agg (r.obj ORDER BY r.ord, r.sub)), '[]')
                      FROM r WHERE r.section = 'category') AS by_category,
                   (SELECT coalesce (array_to_json (array_agg (r.obj ORDER BY r.ord, r.sub)), '[]')
                      FROM r WHERE r.section = 'priority') AS by_priority,
                   (SELECT coalesce (array_to_json (array_agg (r.obj ORDER BY r.ord, r.sub)), '[]')
                      FROM r WHERE r.section = 'l2') AS by_l2,
                   -- {"rule":count,...}; json_object_agg would space it out
                   (SELECT ('{' || string_agg (to_json (r.key)::text || ':' || r.escalations, ','
                                               ORDER BY r.sub) || '}')::json
                      FROM r WHERE r.section = 'escalation') AS escalations,
                   (SELECT array_to_json (array_agg (nt.note ORDER BY nt.n))
                      FROM gf_report_notes (p_days) nt) AS notes,
                   gf_indicators_json (p_grid, p_month) AS indicators,
                   gf_report_programmes_json (p_grid, p_month) AS programmes -- issue 15 (programmes.sql)
              FROM gf_report_monthly_head (p_grid, p_month) h) j
$$;
