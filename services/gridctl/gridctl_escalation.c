/*  gridctl clock, escalation plan, meeting call. */
#include "gridctl.h"
#include "gf_db.h"

static const char *SQL_CLOCK_SHOW =
    "SELECT to_char (gf_now () AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS') || '+08:00'"
    "       AS now, EXISTS (SELECT 1 FROM sim_clock) AS simulated";
/*  The simulated clock only moves forward unless forced: escalations,
    meetings and SLAs assume time does not run backwards. */
static const char *SQL_CLOCK_SET =
    "WITH moved AS ("
    "  INSERT INTO sim_clock (id, at) VALUES (true, $1::timestamptz)"
    "  ON CONFLICT (id) DO UPDATE SET at = excluded.at"
    "   WHERE $2::boolean OR excluded.at >= sim_clock.at"
    "  RETURNING at)"
    "SELECT count (*) AS moved, pg_notify ('gf_clock', '') FROM moved";
static const char *SQL_CLOCK_ADVANCE =
    "WITH moved AS ("
    "  INSERT INTO sim_clock (id, at) VALUES (true, now () + $1::interval)"
    "  ON CONFLICT (id) DO UPDATE SET at = sim_clock.at + $1::interval"
    "  RETURNING at)"
    "SELECT count (*) AS moved, pg_notify ('gf_clock', '') FROM moved"
    " WHERE $1::interval >= interval '0'";
static const char *SQL_CLOCK_REAL = "WITH d AS (DELETE FROM sim_clock RETURNING 1) SELECT "
                                    "pg_notify ('gf_clock', ''), count (*) AS moved FROM d";

int gridctl_clock (gf_config_t *config, int argc, char **argv)
{
    const char *verb = argc > 0 ? argv[0] : "show";
    bool force = argc > 2 && streq (argv[2], "--force");
    if (!(streq (verb, "show") || streq (verb, "real") ||
          ((streq (verb, "set") || streq (verb, "advance")) && argc >= 2))) {
        fprintf (stderr,
                 "usage: gridctl clock show | set TIME [--force] | advance INTERVAL | real\n"
                 "  TIME: 2026-11-02T09:00:00+08:00   INTERVAL: '3 days', '90 minutes'\n");
        return 2;
    }
    gf_db_t *db = gridctl_connect (config);
    if (!db)
        return 1;
    int rc = 1;
    PGresult *res = NULL;
    const char *force_text = force ? "true" : "false";
    const char *params[] = {argc > 1 ? argv[1] : NULL, force_text};
    if (streq (verb, "set"))
        res = gf_db_exec (db, SQL_CLOCK_SET, 2, params);
    else if (streq (verb, "advance"))
        res = gf_db_exec (db, SQL_CLOCK_ADVANCE, 1, params);
    else if (streq (verb, "real"))
        res = gf_db_exec (db, SQL_CLOCK_REAL, 0, NULL);
    if (!streq (verb, "show") && (!res || PQntuples (res) == 0 ||
                                  (!streq (verb, "real") && gf_db_get_ll (res, 0, "moved") == 0)))
        fprintf (stderr, "error: bad_value: the clock was not moved (bad time or interval, or "
                         "backwards without --force)\n");
    else {
        if (res)
            PQclear (res);
        res = gf_db_exec (db, SQL_CLOCK_SHOW, 0, NULL);
        if (res) {
            printf ("%s (%s)\n", gf_db_get (res, 0, "now"),
                    streq (gf_db_get (res, 0, "simulated"), "t") ? "simulated" : "system clock");
            rc = 0;
        }
    }
    if (res)
        PQclear (res);
    gf_db_destroy (&db);
    return rc;
}

/*  What would escalate at a given time, and why: due meetings and their
    candidates, and urgent cases.  Reads only (gf_escalation_plan,
    escalation.sql). */
static const char *SQL_PLAN = "SELECT * FROM gf_escalation_plan ($1, $2)";

int gridctl_escalation_plan (gf_config_t *config, int argc, char **argv)
{
    const char *at = NULL, *grid = NULL;
    for (int i = 0; i < argc; i++) {
        if (streq (argv[i], "--at") && i + 1 < argc)
            at = argv[++i];
        else if (streq (argv[i], "--grid") && i + 1 < argc)
            grid = argv[++i];
        else {
            fprintf (stderr, "usage: gridctl escalation plan --at TIME [--grid PREFIX]\n");
            return 2;
        }
    }
    if (!at) {
        fprintf (stderr, "usage: gridctl escalation plan --at TIME [--grid PREFIX]\n");
        return 2;
    }
    gf_db_t *db = gridctl_connect (config);
    if (!db)
        return 1;
    const char *params[] = {at, grid};
    PGresult *res = gf_db_exec (db, SQL_PLAN, 2, params);
    int rc = 1;
    if (!res)
        fprintf (stderr, "error: bad_value: cannot plan for '%s'\n", at);
    else {
        printf ("%-8s %-10s %-17s %-8s %-12s %-5s %s\n", "规则", "会议网格", "会议时间", "案件",
                "网格", "层级", "原因");
        for (int r = 0; r < PQntuples (res); r++)
            printf ("%-8s %-10s %-17s %-8s %-12s L%-4s %s\n", gf_db_get (res, r, "rule"),
                    gf_db_get (res, r, "meeting_grid") ? gf_db_get (res, r, "meeting_grid") : "-",
                    gf_db_get (res, r, "slot") ? gf_db_get (res, r, "slot") : "立即",
                    gf_db_get (res, r, "case_id"), gf_db_get (res, r, "case_grid"),
                    gf_db_get (res, r, "level"), gf_db_get (res, r, "reason"));
        printf ("(%d escalations would happen; nothing was changed)\n", PQntuples (res));
        PQclear (res);
        rc = 0;
    }
    gf_db_destroy (&db);
    return rc;
}

/*  A consultation meeting (民情征询会) that an L1 grid calls on a big issue
    (demolition, land compensation, ...): a meeting record and its event
    (gf_meeting_call, meetings.sql). */
static const char *SQL_CALL = "SELECT * FROM gf_meeting_call ($1, $2, $3)";

int gridctl_meeting_call (gf_config_t *config, int argc, char **argv)
{
    const char *grid = NULL, *topic = NULL, *at = NULL;
    for (int i = 0; i + 1 < argc; i += 2) {
        if (streq (argv[i], "--grid"))
            grid = argv[i + 1];
        else if (streq (argv[i], "--topic"))
            topic = argv[i + 1];
        else if (streq (argv[i], "--at"))
            at = argv[i + 1];
        else
            grid = topic = NULL, i = argc;
    }
    if (!grid || !topic || argc % 2) {
        fprintf (stderr, "usage: gridctl meeting call --grid L1 --topic TEXT [--at TIME]\n");
        return 2;
    }
    gf_db_t *db = gridctl_connect (config);
    if (!db)
        return 1;
    const char *params[] = {grid, topic, at};
    PGresult *res = gf_db_exec (db, SQL_CALL, 3, params);
    int rc = 1;
    if (!res)
        fprintf (stderr, "error: bad_value: cannot call the meeting (bad time?)\n");
    else if (gf_db_get_ll (res, 0, "l1") == 0)
        fprintf (stderr, "error: unknown_grid: %s is not an L1 grid\n", grid);
    else if (!gf_db_get (res, 0, "meeting"))
        fprintf (stderr, "error: conflict: %s already has a consultation meeting that day\n", grid);
    else {
        printf ("民情征询会 consultation meeting %s called for %s: %s\n",
                gf_db_get (res, 0, "meeting"), grid, topic);
        rc = 0;
    }
    if (res)
        PQclear (res);
    gf_db_destroy (&db);
    return rc;
}
