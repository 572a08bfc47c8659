/*  gf_dash — the JSON the dashboard and the directory page read (/api/...).

      summary.json       totals and every grid with its counts (its subtree):
                         open, resolved / pending / hard (the three-tier ledger),
                         plus the log head the counts were read at
      escalations.json   recent escalations; overdue cases (routed and not
                         signed within the sign-for rule: 24 h, urgent 1 h)
      ledger.json        the latest weekly meetings' ledgers (one per L2
                         grid, same day) and the latest monthly meeting's
      trend.json?days=N  received vs resolved per day (Asia/Shanghai days)
      directory.json     the public grid directory (四公开): each grid's leader,
                         position, published phone and commitment;
                         ?grid=PREFIX for a subtree

    Every statement is read-only and takes its inputs as parameters.  No
    resident's personal data is returned (only case ids, grids, categories,
    states; the directory lists staff, whose details are public by design).
*/
#define _GNU_SOURCE /* asprintf, strndup */
#include "gf_gw.h"
#include "gf_gwargs.h"

#define S_CLOSED "('resolved', 'called_back', 'closed')"

static const char *SQL_SUMMARY =
    "WITH c AS (SELECT grid, state, tier, urgent, supervised FROM cases"
    "            WHERE merged_into IS NULL),"
    " per AS (SELECT grid, count (*) AS total,"
    "                count (*) FILTER (WHERE state NOT IN " S_CLOSED ") AS open,"
    "                count (*) FILTER (WHERE tier = 'resolved') AS resolved,"
    "                count (*) FILTER (WHERE tier = 'pending') AS pending,"
    "                count (*) FILTER (WHERE tier = 'hard') AS hard,"
    "                count (*) FILTER (WHERE urgent AND state NOT IN " S_CLOSED ") AS urgent"
    "           FROM c GROUP BY grid),"
    " g AS (SELECT g.code, g.name, g.level, g.parent,"
    "              coalesce (sum (per.total), 0)::int AS total,"
    "              coalesce (sum (per.open), 0)::int AS open,"
    "              coalesce (sum (per.resolved), 0)::int AS resolved,"
    "              coalesce (sum (per.pending), 0)::int AS pending,"
    "              coalesce (sum (per.hard), 0)::int AS hard,"
    "              coalesce (sum (per.urgent), 0)::int AS urgent"
    "         FROM grids g LEFT JOIN per ON per.grid = g.code OR per.grid LIKE g.code || '.%'"
    "        GROUP BY g.code)"
    "SELECT json_build_object ("
    "  'at', to_char (gf_now () AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS'),"
    "  'head', (SELECT coalesce (max (seq), 0) FROM case_events),"
    "  'totals', (SELECT json_build_object ('total', count (*),"
    "       'open', count (*) FILTER (WHERE state NOT IN " S_CLOSED "),"
    "       'resolved', count (*) FILTER (WHERE tier = 'resolved'),"
    "       'pending', count (*) FILTER (WHERE tier = 'pending'),"
    "       'hard', count (*) FILTER (WHERE tier = 'hard'),"
    "       'unroutable', count (*) FILTER (WHERE state = 'unroutable'),"
    "       'urgent', count (*) FILTER (WHERE urgent AND state NOT IN " S_CLOSED "),"
    "       'supervised', count (*) FILTER (WHERE supervised AND state NOT IN " S_CLOSED "))"
    "     FROM c),"
    "  'grids', (SELECT coalesce (json_agg (g ORDER BY g.code), '[]') FROM g))::text";

static const char *SQL_ESCALATIONS =
    "WITH k AS MATERIALIZED (SELECT gf_now () AS now"
    "), rl AS MATERIALIZED ("
    "  SELECT code AS root, gf_rule (code, 'sign_reminder') AS p FROM grids WHERE level = 1"
    "), od AS ("
    "  SELECT c.id AS case_id, c.grid, g.name AS grid_name, cat.name AS category, c.urgent,"
    "         c.supervised, round (extract (epoch FROM k.now - c.routed_at) / 3600)::int"
    "           AS hours"
    "    FROM cases c JOIN grids g ON g.code = c.grid"
    "    CROSS JOIN k JOIN rl ON rl.root = c.root"
    "    LEFT JOIN categories cat ON cat.code = c.category"
    "   WHERE c.state = 'routed'"
    "     AND c.routed_at < k.now - make_interval (hours => CASE WHEN c.urgent"
    "           THEN (rl.p->>'urgent_hours')::int ELSE (rl.p->>'hours')::int END))"
    "SELECT json_build_object ("
    "  'escalations', (SELECT coalesce (json_agg (x), '[]') FROM ("
    "     SELECT e.id, e.case_id, e.rule, e.from_level, e.to_level,"
    "            to_char (e.at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') AS at,"
    "            c.grid, g.name AS grid_name, cat.name AS category, c.urgent,"
    "            coalesce (sn.name, c.state) AS state"
    "       FROM escalations e JOIN cases c ON c.id = e.case_id JOIN grids g ON g.code = c.grid"
    "       LEFT JOIN categories cat ON cat.code = c.category"
    "       LEFT JOIN case_state_names sn ON sn.state = c.state"
    "      ORDER BY e.at DESC, e.id DESC LIMIT 30) x),"
    "  'escalations_total', (SELECT count (*) FROM escalations),"
    "  'overdue', (SELECT coalesce (json_agg (od ORDER BY od.hours DESC, od.case_id), '[]')"
    "                FROM (SELECT * FROM od ORDER BY hours DESC, case_id LIMIT 30) od),"
    "  'overdue_total', (SELECT count (*) FROM od))::text";

static const char *SQL_LEDGER =
    "WITH wd AS (SELECT max (day) AS day FROM meetings WHERE kind = 'weekly'),"
    " w AS (SELECT m.id, m.grid, g.name AS grid_name, m.day::text AS day,"
    "              to_char (m.held_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') AS held,"
    "              count (le.case_id) FILTER (WHERE le.tier = 'resolved')::int AS resolved,"
    "              count (le.case_id) FILTER (WHERE le.tier = 'pending')::int AS pending,"
    "              count (le.case_id) FILTER (WHERE le.tier = 'hard')::int AS hard,"
    "              count (le.case_id) FILTER (WHERE le.escalated)::int AS escalated"
    "         FROM wd JOIN meetings m ON m.kind = 'weekly' AND m.day = wd.day"
    "         JOIN grids g ON g.code = m.grid"
    "         LEFT JOIN ledger_entries le ON le.meeting_id = m.id"
    "        GROUP BY m.id, g.name),"
    " mm AS (SELECT m.id, m.grid, g.name AS grid_name, m.day::text AS day,"
    "               to_char (m.period_from AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') AS "
    "period_from,"
    "               to_char (m.slot_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') AS period_to"
    "          FROM meetings m JOIN grids g ON g.code = m.grid"
    "         WHERE m.kind = 'monthly' ORDER BY m.day DESC, m.id DESC LIMIT 1)"
    "SELECT json_build_object ("
    "  'weekly', (SELECT coalesce (json_agg (w ORDER BY w.grid), '[]') FROM w),"
    "  'monthly', (SELECT json_build_object ('meeting', row_to_json (mm),"
    "      'rows', (SELECT coalesce (json_agg (r ORDER BY r.grid), '[]') FROM ("
    "         SELECT coalesce (gf_owner_grid (le.owner, 2), le.owner) AS grid,"
    "                min (g2.name) AS grid_name,"
    "                count (*) FILTER (WHERE le.tier = 'resolved')::int AS resolved,"
    "                count (*) FILTER (WHERE le.tier = 'pending')::int AS pending,"
    "                count (*) FILTER (WHERE le.tier = 'hard')::int AS hard,"
    "                count (*) FILTER (WHERE le.escalated)::int AS escalated"
    "           FROM ledger_entries le"
    "           LEFT JOIN grids g2 ON g2.code = coalesce (gf_owner_grid (le.owner, 2), le.owner)"
    "          WHERE le.meeting_id = mm.id GROUP BY 1) r))"
    "     FROM mm))::text";

static const char *SQL_TREND =
    "WITH today AS (SELECT (gf_now () AT TIME ZONE 'Asia/Shanghai')::date AS d),"
    " days AS (SELECT generate_series (today.d - ($1::int - 1), today.d, '1 day')::date AS day"
    "            FROM today),"
    " rec AS (SELECT (received_at AT TIME ZONE 'Asia/Shanghai')::date AS day, count (*) AS n"
    "           FROM cases, today"
    "          WHERE received_at >= (today.d - $1::int)::timestamp AT TIME ZONE 'Asia/Shanghai'"
    "          GROUP BY 1),"
    " res AS (SELECT (at AT TIME ZONE 'Asia/Shanghai')::date AS day, count (DISTINCT case_id) AS n"
    "           FROM case_events, today"
    "          WHERE type = 'case.resolved'"
    "            AND at >= (today.d - $1::int)::timestamp AT TIME ZONE 'Asia/Shanghai'"
    "          GROUP BY 1)"
    "SELECT json_agg (json_build_object ('day', to_char (days.day, 'MM-DD'),"
    "                 'received', coalesce (rec.n, 0), 'resolved', coalesce (res.n, 0))"
    "                 ORDER BY days.day)::text"
    "  FROM days LEFT JOIN rec ON rec.day = days.day LEFT JOIN res ON res.day = days.day";

static const char *SQL_DIRECTORY =
    "SELECT coalesce (json_agg (json_build_object ("
    "  'code', g.code, 'level', g.level, 'parent', g.parent, 'name', g.name,"
    "  'commitment', g.commitment,"
    "  'leader', (SELECT json_build_object ('name', p.name, 'position', p.position,"
    "                                      'phone', p.phone, 'commitment', p.commitment)"
    "               FROM people p WHERE p.grid = g.code AND p.role = 'leader'))"
    "  ORDER BY g.code), '[]')::text"
    "  FROM grids g WHERE $1::text IS NULL OR g.code = $1 OR g.code LIKE $1 || '.%'";

int gf_dash_handle (gf_gw_t *gw, struct MHD_Connection *conn, const char *path,
                    gf_gw_reply_t *reply)
{
    char *json = NULL;
    if (streq (path, "summary.json"))
        json = gf_gw_query_json (gw, SQL_SUMMARY, 0, NULL);
    else if (streq (path, "escalations.json"))
        json = gf_gw_query_json (gw, SQL_ESCALATIONS, 0, NULL);
    else if (streq (path, "ledger.json"))
        json = gf_gw_query_json (gw, SQL_LEDGER, 0, NULL);
    else if (streq (path, "trend.json")) {
        const char *days = MHD_lookup_connection_value (conn, MHD_GET_ARGUMENT_KIND, "days");
        long n = 0;
        if (!gf_gwargs_days (days, &n)) {
            gf_gw_reply_json (reply, 400, strdup ("{\"error\":\"days must be 1..366\"}"));
            return 0;
        }
        char text[16];
        snprintf (text, sizeof text, "%ld", n);
        const char *params[] = {text};
        json = gf_gw_query_json (gw, SQL_TREND, 1, params);
    } else if (streq (path, "directory.json")) {
        const char *grid = MHD_lookup_connection_value (conn, MHD_GET_ARGUMENT_KIND, "grid");
        if (grid && !gf_gwargs_is_grid (grid)) {
            gf_gw_reply_json (reply, 400, strdup ("{\"error\":\"grid must be a grid code\"}"));
            return 0;
        }
        const char *params[] = {grid};
        json = gf_gw_query_json (gw, SQL_DIRECTORY, 1, params);
    } else
        return -1;
    if (json)
        gf_gw_reply_json (reply, 200, json);
    else
        gf_gw_reply_json (reply, 503, strdup ("{\"error\":\"database unavailable\"}"));
    return 0;
}
