/*  gridctl city status|report: a city above the districts (issue 18,
    city.sql, deploy/city.sh).  GF_DB is the city's own database; each
    district's replica (gridflow_<district>, fed by logical replication) is
    reached with the same conninfo and its dbname.  The numbers are
    city.sql's: each replica gives its state and its own monthly report rows
    (gf_city_state, gf_city_district_report), the city database adds them up
    and says how fresh each district is (gf_city_report_sum,
    gf_city_freshness).  Staleness: --stale-after S, else GF_CITY_STALE_AFTER,
    default 120 s (more than wal_receiver_timeout, 60 s: a partitioned
    district's apply worker may look connected that long). */
#include "gridctl.h"
#include "gf_city.h"

static const char *SQL_DISTRICTS = "SELECT district, dbname FROM gf_city_districts ()";
static const char *SQL_MONTH = "SELECT gf_city_month ()";
static const char *SQL_FRESHNESS = "SELECT * FROM gf_city_freshness ($1::jsonb, $2::integer)";
static const char *SQL_SUM = "SELECT * FROM gf_city_report_sum ($1::jsonb)";

/*  The districts' objects (gf_city_collect), or NULL after printing why. */
static char *s_collect (gf_config_t *config, gf_db_t *city, const char *month)
{
    PGresult *list = gf_db_exec (city, SQL_DISTRICTS, 0, NULL);
    if (!list) {
        fprintf (stderr,
                 "error: unavailable: cannot list the districts (is this a city database?)\n");
        return NULL;
    }
    char *error = NULL;
    char *districts = gf_city_collect (config->db, list, month, "gridctl", &error);
    PQclear (list);
    if (!districts)
        fprintf (stderr, "error: unavailable: %s\n", error);
    zstr_free (&error);
    return districts;
}

static const char *s_or (const char *value, const char *otherwise)
{
    return value && *value ? value : otherwise;
}

/*  The freshness lines (gf_city_freshness). */
static int s_freshness (gf_db_t *city, const char *districts, const char *stale_after, bool csv)
{
    const char *params[] = {districts, stale_after};
    PGresult *res = gf_db_exec (city, SQL_FRESHNESS, 2, params);
    if (!res)
        return -1;
    if (csv)
        printf ("district,state,connected,last_message,last_message_age_s,newest_change,"
                "newest_change_age_s,newest_seq,cases\n");
    else
        printf ("新鲜度 freshness (stale: no connection, or no message for %s s)\n", stale_after);
    for (int r = 0; r < PQntuples (res); r++) {
        if (csv) {
            for (int c = 0; c < PQnfields (res); c++)
                printf ("%s%s", c ? "," : "", PQgetvalue (res, r, c));
            printf ("\n");
            continue;
        }
        printf ("  %-12s %-5s %s; last message %s (%s s ago); newest change %s (%s s ago); "
                "seq %s, %s cases\n",
                gf_db_get (res, r, "district"), gf_db_get (res, r, "state"),
                streq (gf_db_get (res, r, "connected"), "t") ? "connected" : "NOT CONNECTED",
                s_or (gf_db_get (res, r, "last_message"), "-"),
                s_or (gf_db_get (res, r, "last_message_age_s"), "-"),
                s_or (gf_db_get (res, r, "newest_change"), "-"),
                s_or (gf_db_get (res, r, "newest_change_age_s"), "-"),
                s_or (gf_db_get (res, r, "newest_seq"), "-"), gf_db_get (res, r, "cases"));
    }
    PQclear (res);
    return 0;
}

/*  The summed report (gf_city_report_sum), as a table or CSV. */
static int s_sum (gf_db_t *city, const char *districts, bool csv)
{
    const char *params[] = {districts};
    PGresult *res = gf_db_exec (city, SQL_SUM, 1, params);
    if (!res)
        return -1;
    if (csv) {
        for (int c = 0; c < PQnfields (res); c++)
            printf ("%s%s", c ? "," : "", PQfname (res, c));
        printf ("\n");
        for (int r = 0; r < PQntuples (res); r++) {
            for (int c = 0; c < PQnfields (res); c++)
                printf ("%s%s", c ? "," : "", PQgetvalue (res, r, c));
            printf ("\n");
        }
        PQclear (res);
        return 0;
    }
    const char *section = "";
    /* The name last: its width on a terminal is not its length in bytes. */
    printf ("%8s %8s %8s %8s %8s %8s %8s %8s %8s  %s\n", "received", "resolved", "open", "rate%",
            "on_time", "late", "on_time%", "avg_h", "escal.", "名称 name");
    for (int r = 0; r < PQntuples (res); r++) {
        const char *s = gf_db_get (res, r, "section");
        if (!streq (s, section))
            printf ("-- %s\n", s);
        section = s;
        printf ("%8s %8s %8s %8s %8s %8s %8s %8s %8s  %s\n",
                s_or (gf_db_get (res, r, "received"), "-"),
                s_or (gf_db_get (res, r, "resolved"), "-"), s_or (gf_db_get (res, r, "open"), "-"),
                s_or (gf_db_get (res, r, "resolution_rate_pct"), "-"),
                s_or (gf_db_get (res, r, "on_time"), "-"), s_or (gf_db_get (res, r, "late"), "-"),
                s_or (gf_db_get (res, r, "on_time_rate_pct"), "-"),
                s_or (gf_db_get (res, r, "avg_hours_to_resolve"), "-"),
                s_or (gf_db_get (res, r, "escalations"), "-"), gf_db_get (res, r, "name"));
    }
    PQclear (res);
    return 0;
}

int gridctl_city (gf_config_t *config, int argc, char **argv)
{
    const char *what = argc > 0 ? argv[0] : "";
    const char *month = NULL, *stale_after = getenv ("GF_CITY_STALE_AFTER");
    bool csv = false, ok = streq (what, "status") || streq (what, "report");
    for (int i = 1; i < argc && ok; i++) {
        if (streq (argv[i], "--month") && i + 1 < argc && gf_city_month_ok (argv[i + 1]))
            month = argv[++i];
        else if (streq (argv[i], "--stale-after") && i + 1 < argc && atoi (argv[i + 1]) > 0)
            stale_after = argv[++i];
        else if (streq (argv[i], "--format") && i + 1 < argc &&
                 (streq (argv[i + 1], "table") || streq (argv[i + 1], "csv")))
            csv = streq (argv[++i], "csv");
        else
            ok = false;
    }
    if (!stale_after || atoi (stale_after) <= 0)
        stale_after = "120";
    if (!ok) {
        fprintf (stderr, "usage: gridctl city status [--stale-after S] [--format table|csv]\n"
                         "       gridctl city report [--month YYYY-MM] [--stale-after S] "
                         "[--format table|csv]\n");
        return 2;
    }
    char stale[16];
    snprintf (stale, sizeof stale, "%d", atoi (stale_after));
    gf_db_t *city = gridctl_connect (config);
    if (!city)
        return 1;
    int rc = 1;
    char *the_month = NULL;
    if (streq (what, "report") && !month) {
        PGresult *res = gf_db_exec (city, SQL_MONTH, 0, NULL);
        if (res && PQntuples (res) == 1)
            the_month = strdup (PQgetvalue (res, 0, 0));
        if (res)
            PQclear (res);
        month = the_month;
    }
    char *districts = NULL;
    if (streq (what, "report") && !month)
        fprintf (stderr, "error: unavailable: cannot read the city database\n");
    else if ((districts = s_collect (config, city, streq (what, "report") ? month : NULL)) !=
             NULL) {
        if (streq (what, "status"))
            rc = s_freshness (city, districts, stale, csv) == 0 ? 0 : 1;
        else {
            if (!csv) {
                printf ("城市月度报告 city monthly report — %s 月\n", month);
                rc = s_freshness (city, districts, stale, false) == 0 ? 0 : 1;
                printf ("\n");
            } else
                rc = 0;
            if (rc == 0)
                rc = s_sum (city, districts, csv) == 0 ? 0 : 1;
        }
        if (rc != 0)
            fprintf (stderr, "error: unavailable: cannot compute the city report\n");
    }
    zstr_free (&districts);
    free (the_month);
    gf_db_destroy (&city);
    return rc;
}
