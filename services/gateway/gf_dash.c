/*  gf_dash — the JSON the dashboard and the directory page read (/api/...).

      summary.json       totals and every grid with its counts (its subtree):
                         open, resolved / pending / hard (the three-tier ledger),
                         plus the log head the counts were read at
      escalations.json   recent escalations; overdue cases (waiting to be
                         signed for past the sign-for rule: gf_overdue_at)
      ledger.json        the latest weekly meetings' ledgers (one per L2
                         grid, same day) and the latest monthly meeting's
      trend.json?days=N  received vs resolved per day (Asia/Shanghai days)
      directory.json     the public grid directory (四公开): each grid's leader,
                         position, published phone and commitment;
                         ?grid=G for G's subtree
      vocabulary.json    the names the page shows (event types, states,
                         special groups, escalation rules, categories)
      indicators.json    this month's indicators of every L1 grid (响应率,
                         解决率, 按时办结率, 满意率, 重办率, 督办) by L2 and L3
                         grid and leader, with the 考核 ranking
                         (deploy/sql/repeatable/indicators.sql; counts only)
      ratings.json       published star-rating rounds (星级评定, history):
                         self-governance groups by L3 grid code with stars,
                         household rounds as counts per grid and stars only
      programmes.json    things done, help pairs active / closed, people
                         aided, ratings published, campaign progress
      city.json?month=M  on a city's database (issue 18, deploy/city.sh):
                         each district's freshness and the city monthly
                         report, the districts' own reports added up
                         (gf_city_collect, gf_city_dashboard); the page is
                         city.html

    Each is one read-only SQL function of deploy/sql/repeatable/dashboard.sql
    (cases through cases_public), its inputs as parameters.  Only
    directory.json and ratings.json are public; every other read needs a
    viewer (gf_auth_viewer: a staff session or a kiosk token, else 401) and
    shows its subtree only (issue 16, docs/gateway.md "Scoped reads").  No
    resident's personal data is returned (only case ids, grids, categories,
    states; the directory lists staff, whose details are public by design).
*/
#define _GNU_SOURCE /* asprintf, strndup */
#include "gf_city.h"
#include "gf_gw.h"
#include "gf_gwargs.h"

/*  One function per endpoint (deploy/sql/repeatable/dashboard.sql); the
    staff reads take the viewer's subtree as $1 (issue 16). */
static const char *SQL_SUMMARY = "SELECT gf_dash_summary ($1)::text";
static const char *SQL_ESCALATIONS = "SELECT gf_dash_escalations ($1)::text";
static const char *SQL_LEDGER = "SELECT gf_dash_ledger ($1)::text";
static const char *SQL_TREND = "SELECT gf_dash_trend ($2::int, $1)::text";
static const char *SQL_DIRECTORY = "SELECT gf_dash_directory ($1)::text";
static const char *SQL_VOCABULARY = "SELECT gf_dash_vocabulary ()::text";
static const char *SQL_INDICATORS = "SELECT gf_dash_indicators ($1)::text";
static const char *SQL_RATINGS = "SELECT gf_rating_public_json ()::text";   /* programmes.sql */
static const char *SQL_PROGRAMMES = "SELECT gf_dash_programmes ($1)::text"; /* programmes.sql */

static const char *SQL_CITY_DISTRICTS = "SELECT district, dbname FROM gf_city_districts ()";
static const char *SQL_CITY_MONTH = "SELECT gf_city_month ()";
static const char *SQL_CITY = "SELECT gf_city_dashboard ($1, $2::jsonb, $3::integer)::text";

/*  The city dashboard (a viewer of the city's database: its own staff).
    Each district's replica is read with the gateway's conninfo and the
    replica's dbname, as `gridctl city report` reads it; stale after
    GF_CITY_STALE_AFTER seconds (default 120, as gridctl). */
static void s_city (gf_gw_t *gw, struct MHD_Connection *conn, gf_gw_reply_t *reply)
{
    const char *month = MHD_lookup_connection_value (conn, MHD_GET_ARGUMENT_KIND, "month");
    if (month && !gf_city_month_ok (month)) {
        gf_gw_reply_json (reply, 400, strdup ("{\"error\":\"month must be YYYY-MM\"}"));
        return;
    }
    char *the_month = month ? strdup (month) : gf_gw_query_json (gw, SQL_CITY_MONTH, 0, NULL);
    PGresult *list = the_month ? gf_gw_query (gw, SQL_CITY_DISTRICTS, 0, NULL) : NULL;
    char *error = NULL, *districts = NULL, *json = NULL;
    if (list)
        districts = gf_city_collect (gw->config->db, list, the_month, "gf-gateway", &error);
    if (districts) {
        const char *env = getenv ("GF_CITY_STALE_AFTER");
        char stale[16];
        snprintf (stale, sizeof stale, "%d", env && atoi (env) > 0 ? atoi (env) : 120);
        const char *params[] = {the_month, districts, stale};
        json = gf_gw_query_json (gw, SQL_CITY, 3, params);
    }
    if (json)
        gf_gw_reply_json (reply, 200, json);
    else {
        if (error)
            zsys_warning ("gateway: city dashboard: %s", error);
        json_t *body = json_pack ("{s:s}", "error", error ? error : "database unavailable");
        gf_gw_reply_json (reply, 503, json_dumps (body, JSON_COMPACT));
        json_decref (body);
    }
    zstr_free (&error);
    zstr_free (&districts);
    if (list)
        PQclear (list);
    free (the_month);
}

//  The public reads (四公开 directory, published star ratings): no viewer.
static int s_public (gf_gw_t *gw, struct MHD_Connection *conn, const char *path,
                     gf_gw_reply_t *reply, char **json)
{
    if (streq (path, "ratings.json"))
        *json = gf_gw_query_json (gw, SQL_RATINGS, 0, NULL);
    else if (streq (path, "directory.json")) {
        const char *grid = MHD_lookup_connection_value (conn, MHD_GET_ARGUMENT_KIND, "grid");
        if (grid && !gf_gwargs_is_grid (grid)) {
            gf_gw_reply_json (reply, 400, strdup ("{\"error\":\"grid must be a grid code\"}"));
            return 1;
        }
        const char *params[] = {grid};
        *json = gf_gw_query_json (gw, SQL_DIRECTORY, 1, params);
    } else
        return -1;
    return 0;
}

int gf_dash_handle (gf_gw_t *gw, struct MHD_Connection *conn, const char *path,
                    gf_gw_reply_t *reply)
{
    char *json = NULL;
    int rc = s_public (gw, conn, path, reply, &json);
    if (rc > 0)
        return 0;
    if (rc < 0) {
        const char *sql = streq (path, "summary.json")       ? SQL_SUMMARY
                          : streq (path, "escalations.json") ? SQL_ESCALATIONS
                          : streq (path, "ledger.json")      ? SQL_LEDGER
                          : streq (path, "vocabulary.json")  ? SQL_VOCABULARY
                          : streq (path, "indicators.json")  ? SQL_INDICATORS
                          : streq (path, "programmes.json")  ? SQL_PROGRAMMES
                          : streq (path, "trend.json")       ? SQL_TREND
                          : streq (path, "city.json")        ? SQL_CITY
                                                             : NULL;
        if (!sql)
            return -1;
        //  The staff reads: a session or a kiosk token, and its subtree only.
        bool down = false;
        json_t *viewer = gf_auth_viewer (gw, conn, &down);
        if (!viewer) {
            gf_gw_reply_json (reply, down ? 503 : 401,
                              strdup (down ? "{\"error\":\"database unavailable\"}"
                                           : "{\"error\":\"no valid session or kiosk token\"}"));
            return 0;
        }
        if (sql == SQL_CITY) {
            json_decref (viewer);
            s_city (gw, conn, reply);
            return 0;
        }
        char days[16] = "30";
        if (sql == SQL_TREND) {
            const char *arg = MHD_lookup_connection_value (conn, MHD_GET_ARGUMENT_KIND, "days");
            long n = 0;
            if (!gf_gwargs_days (arg, &n)) {
                json_decref (viewer);
                gf_gw_reply_json (reply, 400, strdup ("{\"error\":\"days must be 1..366\"}"));
                return 0;
            }
            snprintf (days, sizeof days, "%ld", n);
        }
        const char *params[] = {gf_auth_scope (viewer), days};
        json = gf_gw_query_json (gw, sql,
                                 sql == SQL_VOCABULARY ? 0
                                 : sql == SQL_TREND    ? 2
                                                       : 1,
                                 params);
        json_decref (viewer);
    }
    if (json)
        gf_gw_reply_json (reply, 200, json);
    else
        gf_gw_reply_json (reply, 503, strdup ("{\"error\":\"database unavailable\"}"));
    return 0;
}
