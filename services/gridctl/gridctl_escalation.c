/*  gridctl clock, escalation plan, meeting call. */
#include "gridctl.h"
#include "gf_db.h"

static const char *SQL_CLOCK_SHOW =
    "SELECT to_char (gf_now () AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS') || '+08:00'"
    "       AS now, EXISTS (SELECT 1 FROM sim_clock) AS simulated";
/*  Moves the clock (gf_clock_move, clock.sql): $1 the time (NULL: the
    system clock), $2 force, $3 the largest jump in hours. */
static const char *SQL_CLOCK_SET =
    "SELECT gf_clock_move ($1::timestamptz, $2::boolean, make_interval (hours => $3::int))";
static const char *SQL_CLOCK_ADVANCE = "SELECT gf_clock_move (gf_now () + $1::interval, "
                                       "$2::boolean, make_interval (hours => $3::int))";

static const char *CLOCK_USAGE =
    "usage: gridctl clock show | set TIME [--force] | advance INTERVAL [--force] | real [--force]\n"
    "  TIME: 2026-11-02T09:00:00+08:00   INTERVAL: '3 days', '90 minutes'\n"
    "  set/advance need clock/simulated = on (GF_SIM_CLOCK, --sim-clock); --force\n"
    "  moves it backwards or further than clock/max_jump hours (GF_CLOCK_MAX_JUMP)\n";

int gridctl_clock (gf_config_t *config, int argc, char **argv)
{
    const char *verb = argc > 0 ? argv[0] : "show";
    const char *value = NULL;
    bool force = false;
    bool ok = streq (verb, "show") || streq (verb, "real") || streq (verb, "set") ||
              streq (verb, "advance");
    for (int i = 1; ok && i < argc; i++) {
        if (streq (argv[i], "--force"))
            force = true;
        else if (!value && !streq (verb, "show") && !streq (verb, "real"))
            value = argv[i];
        else
            ok = false;
    }
    if (!ok || ((streq (verb, "set") || streq (verb, "advance")) && !value)) {
        fputs (CLOCK_USAGE, stderr);
        return 2;
    }
    /* Back to the system clock is allowed whatever the setting. */
    if ((streq (verb, "set") || streq (verb, "advance")) && !streq (config->sim_clock, "on")) {
        fprintf (stderr, "error: forbidden: the simulated clock is off (clock/simulated = off, "
                         "the production default); the clock was not moved\n");
        return 1;
    }
    gf_db_t *db = gridctl_connect (config);
    if (!db)
        return 1;
    int rc = 1;
    PGresult *res = NULL;
    char max_jump[16];
    snprintf (max_jump, sizeof max_jump, "%d", config->clock_max_jump_h);
    const char *params[] = {value, force ? "true" : "false", max_jump};
    if (streq (verb, "set") || streq (verb, "real"))
        res = gf_db_exec (db, SQL_CLOCK_SET, 3, params);
    else if (streq (verb, "advance"))
        res = gf_db_exec (db, SQL_CLOCK_ADVANCE, 3, params);
    if (!streq (verb, "show") && !res) {
        const char *why = gf_db_sqlstate (db);
        if (streq (why, "22023")) {
            /* The server's reason, without "ERROR:  " and the newline. */
            const char *msg = gf_db_conn (db) ? PQerrorMessage (gf_db_conn (db)) : "";
            if (strncmp (msg, "ERROR:  ", 8) == 0)
                msg += 8;
            fprintf (stderr, "error: bad_value: the clock was not moved: %.*s\n",
                     (int)strcspn (msg, "\n"), msg);
        } else if (strncmp (why, "22", 2) == 0)
            fprintf (stderr, "error: bad_value: the clock was not moved (bad time or interval)\n");
        else
            fprintf (stderr, "error: unavailable: the clock was not moved\n");
    } else {
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
