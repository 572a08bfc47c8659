/*  gridctl patrol|visit|selfcheck log, patrol missed, visit overdue: field
    work (issue 15; patrols.sql).  A log goes through the intake as any
    staff message (patrol.logged, visit.logged, selfcheck.logged); what L2
    is shown is read from the database. */
#include "gridctl.h"
#include "gf_client.h"
#include "gf_clock.h"
#include "gf_proto.h"

/*  $1 grid (L2 or L1), $2 first day, $3 last day (local dates). */
static const char *SQL_MISSED = "SELECT grid, day FROM gf_patrols_missed ($1, $2::date, $3::date)";
/*  $1 grid.  Due dates as local times. */
static const char *SQL_OVERDUE =
    "SELECT household, grid, coalesce (groups, '-') AS groups, "
    "coalesce (to_char (last_visit AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI'), '-') AS "
    "last, "
    "to_char (due_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') AS due "
    "FROM gf_visits_overdue ($1)";
/*  The default range of `patrol missed`: the last 7 days before today. */
static const char *SQL_RANGE = "SELECT ((gf_now () AT TIME ZONE 'Asia/Shanghai')::date - 7)::text, "
                               "((gf_now () AT TIME ZONE 'Asia/Shanghai')::date - 1)::text";

bool gridctl_field_is_log (const char *what, const char *verb)
{
    return streq (verb, "log") &&
           (streq (what, "patrol") || streq (what, "visit") || streq (what, "selfcheck"));
}

/*  Appends item to the comma-joined list *list (a new string). */
static int s_append (char **list, const char *item)
{
    if (!*item || strchr (item, ',')) {
        fprintf (stderr, "error: bad_value: a list item is empty or holds ',': '%s'\n", item);
        return -1;
    }
    char *joined = *list ? zsys_sprintf ("%s,%s", *list, item) : strdup (item);
    free (*list);
    *list = joined;
    return 0;
}

int gridctl_field_log (gf_config_t *config, const char *what, int argc, char **argv)
{
    gf_fieldlog_t f = {.follow_up_urgent = -1};
    f.type = (char *)(streq (what, "patrol")  ? GF_TYPE_PATROL_LOGGED
                      : streq (what, "visit") ? GF_TYPE_VISIT_LOGGED
                                              : GF_TYPE_SELFCHECK_LOGGED);
    char *request_id = NULL, *when = NULL;
    char *lists[5] = {NULL};
    const char *lkeys[] = {"--member", "--place", "--finding", "--done", "--item"};
    const char *keys[] = {"--actor",    "--grid", "--household",  "--learned", "--follow-up",
                          "--category", "--note", "--request-id", "--at"};
    char **fields[] = {&f.actor,   &f.grid,      &f.household,
                       &f.learned, &f.follow_up, &f.follow_up_category,
                       &f.note,    &request_id,  &when};
    int rc = 2;
    for (int i = 0; i < argc; i++) {
        bool known = false;
        for (size_t k = 0; !known && k < sizeof keys / sizeof keys[0]; k++)
            if (streq (argv[i], keys[k]) && i + 1 < argc) {
                *fields[k] = argv[++i];
                known = true;
            }
        for (size_t k = 0; !known && k < sizeof lkeys / sizeof lkeys[0]; k++)
            if (streq (argv[i], lkeys[k]) && i + 1 < argc) {
                if (s_append (&lists[k], argv[++i]) != 0)
                    goto done;
                known = true;
            }
        if (!known && streq (argv[i], "--urgent"))
            known = (f.follow_up_urgent = 1);
        else if (!known && streq (argv[i], "--nothing-found"))
            known = !lists[2] && (lists[2] = strdup (""));
        if (!known) {
            fprintf (stderr, "error: bad argument '%s'\n", argv[i]);
            goto done;
        }
    }
    f.members = lists[0];
    f.places = lists[1];
    f.findings = lists[2];
    f.things_done = lists[3];
    f.items = lists[4];
    if (!f.actor) {
        fprintf (stderr, "error: --actor PERSON is required\n");
        goto done;
    }
    f.done_at = gf_clock_now_ms ();
    if (when && gf_clock_parse (when, &f.done_at) != 0) {
        fprintf (stderr, "error: bad --at '%s' (YYYY-MM-DDTHH:MM:SS[+08:00])\n", when);
        goto done;
    }
    char id[64];
    gridctl_request_id (id, sizeof id);
    f.id = request_id ? request_id : id;
    f.at = gf_clock_now_ms ();

    zframe_t *body = gf_fieldlog_encode (&f);
    gf_reply_t reply = {0};
    rc = gridctl_request (config, &body, f.id, &reply, 5000);
    if (rc == 0 && reply.ok) {
        printf ("%s %s: ok (log %" PRId64 ")", f.type, f.id, reply.version);
        if (reply.case_id > 0)
            printf (" case %" PRId64, reply.case_id);
        printf ("%s\n", reply.duplicate ? " [already logged]" : "");
    } else if (rc == 0) {
        fprintf (stderr, "error: %s: %s\n", gf_code_name (reply.code),
                 reply.message ? reply.message : "");
        rc = 1;
    }
    gf_reply_reset (&reply);
done:
    for (size_t k = 0; k < sizeof lists / sizeof lists[0]; k++)
        free (lists[k]);
    return rc;
}

/*  patrol missed --grid G [--from DAY] [--to DAY]; visit overdue --grid G. */
int gridctl_field_show (gf_config_t *config, const char *what, int argc, char **argv)
{
    const char *grid = NULL, *from = NULL, *to = NULL;
    for (int i = 0; i + 1 < argc; i += 2) {
        if (streq (argv[i], "--grid"))
            grid = argv[i + 1];
        else if (streq (argv[i], "--from") && streq (what, "patrol"))
            from = argv[i + 1];
        else if (streq (argv[i], "--to") && streq (what, "patrol"))
            to = argv[i + 1];
        else
            grid = NULL, argc = 0;
    }
    if (!grid || argc % 2) {
        fprintf (stderr, "usage: gridctl patrol missed --grid G [--from DAY] [--to DAY] | "
                         "visit overdue --grid G\n");
        return 2;
    }
    gf_db_t *db = gridctl_db_new (config);
    int rc = 1;
    if (gf_db_connect (db, 10000) != 0) {
        fprintf (stderr, "error: unavailable: cannot reach the database\n");
        gf_db_destroy (&db);
        return 1;
    }
    PGresult *range = gf_db_exec (db, SQL_RANGE, 0, NULL);
    PGresult *res = NULL;
    if (range && streq (what, "patrol")) {
        const char *params[] = {grid, from ? from : PQgetvalue (range, 0, 0),
                                to ? to : PQgetvalue (range, 0, 1)};
        res = gf_db_exec (db, SQL_MISSED, 3, params);
        if (res) {
            printf ("未巡查 patrols missed on working days, %s, %s .. %s: %d\n", grid, params[1],
                    params[2], PQntuples (res));
            for (int r = 0; r < PQntuples (res); r++)
                printf ("  %s %s\n", gf_db_get (res, r, "day"), gf_db_get (res, r, "grid"));
        }
    } else if (range) {
        const char *params[] = {grid};
        res = gf_db_exec (db, SQL_OVERDUE, 1, params);
        if (res) {
            printf ("走访逾期 visits overdue, %s: %d\n", grid, PQntuples (res));
            for (int r = 0; r < PQntuples (res); r++)
                printf ("  %s %s %s last %s due %s\n", gf_db_get (res, r, "household"),
                        gf_db_get (res, r, "grid"), gf_db_get (res, r, "groups"),
                        gf_db_get (res, r, "last"), gf_db_get (res, r, "due"));
        }
    }
    if (res) {
        rc = 0;
        PQclear (res);
    } else
        fprintf (stderr, "error: %s: the query failed (%s)\n", gf_code_name (gf_db_code (db)),
                 gf_db_sqlstate (db));
    if (range)
        PQclear (range);
    gf_db_destroy (&db);
    return rc;
}
