/*  gridctl calendar import, calendar show: the working calendar in the
    database (calendar_years, calendar_days; see deploy/sql/repeatable/calendar.sql). */
#include "gridctl.h"
#include "gf_calendar.h"
#include "gf_db.h"

#include <dirent.h>
#include <jansson.h>
#include <libgen.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*  Serialises concurrent imports (each replaces whole years). */
static const char *SQL_IMPORT_LOCK = "SELECT pg_advisory_xact_lock (7146203003)";
/*  Each statement takes the whole file as one jsonb parameter ($1); the
    file was validated by gf_calendar_load_json before anything is run. */
static const char *SQL_IMPORT[] = {
    "DELETE FROM calendar_days"
    " WHERE day >= make_date (($1::jsonb ->> 'year')::int, 1, 1)"
    "   AND day < make_date (($1::jsonb ->> 'year')::int + 1, 1, 1)",
    "INSERT INTO calendar_days (day, workday, name)"
    "  SELECT (x ->> 'date')::date, NOT (x ->> 'isOffDay')::boolean, x ->> 'name'"
    "    FROM jsonb_array_elements ($1::jsonb -> 'days') x",
    "INSERT INTO calendar_years (year, papers, imported_at)"
    "  VALUES (($1::jsonb ->> 'year')::int,"
    "          (SELECT string_agg (p, E'\\n')"
    "             FROM jsonb_array_elements_text (coalesce ($1::jsonb -> 'papers', '[]')) p),"
    "          now ())"
    "  ON CONFLICT (year) DO UPDATE SET papers = excluded.papers,"
    "     imported_at = excluded.imported_at",
};
static const char *SQL_YEAR_COUNTS =
    "SELECT count (*) AS days, count (*) FILTER (WHERE NOT workday) AS off,"
    "       count (*) FILTER (WHERE workday) AS makeup"
    "  FROM calendar_days"
    " WHERE day >= make_date ($1::int, 1, 1) AND day < make_date ($1::int + 1, 1, 1)";
static const char *SQL_MONTH_DAYS =
    "SELECT extract (day FROM day)::int AS d, workday, name FROM calendar_days"
    " WHERE day >= make_date ($1::int, $2::int, 1)"
    "   AND day < make_date ($1::int, $2::int, 1) + interval '1 month'"
    " ORDER BY day";

/*  One file to import: its path, text and year. */
typedef struct {
    char *path; /* as given or found in a directory      */
    char *json; /* the whole file, the import's parameter */
    int year;   /* its "year"                            */
} s_notice_t;

static void s_notice_destroy (s_notice_t **self_p)
{
    if (*self_p) {
        free ((*self_p)->path);
        free ((*self_p)->json);
        free (*self_p);
        *self_p = NULL;
    }
}

/*  zlistx's destructor signature. */
static void s_notice_free (void **item)
{
    s_notice_t *notice = (s_notice_t *)*item;
    s_notice_destroy (&notice);
    *item = NULL;
}

static int s_notice_by_year (const void *a, const void *b)
{
    return ((const s_notice_t *)a)->year - ((const s_notice_t *)b)->year;
}

/*  Appends `path` (a file, or every *.json in a directory) to paths.
    Returns 0, or -1 after printing why. */
static int s_collect (const char *path, zlist_t *paths)
{
    struct stat st;
    if (stat (path, &st) != 0) {
        fprintf (stderr, "error: cannot read %s: %s\n", path, strerror (errno));
        return -1;
    }
    if (!S_ISDIR (st.st_mode)) {
        zlist_append (paths, (void *)path);
        return 0;
    }
    DIR *dir = opendir (path);
    if (!dir) {
        fprintf (stderr, "error: cannot open %s: %s\n", path, strerror (errno));
        return -1;
    }
    zlist_t *names = zlist_new ();
    zlist_autofree (names);
    struct dirent *e;
    while ((e = readdir (dir))) {
        size_t len = strlen (e->d_name);
        if (len > 5 && streq (e->d_name + len - 5, ".json"))
            zlist_append (names, e->d_name);
    }
    closedir (dir);
    zlist_sort (names, (zlist_compare_fn *)strcmp);
    int found = 0;
    for (char *name = (char *)zlist_first (names); name; name = (char *)zlist_next (names)) {
        char *full = zsys_sprintf ("%s/%s", path, name);
        zlist_append (paths, full);
        free (full);
        found++;
    }
    zlist_destroy (&names);
    if (!found) {
        fprintf (stderr, "error: no *.json calendar files in %s\n", path);
        return -1;
    }
    return 0;
}

/*  Validates one file and reads it.  Returns NULL after printing why. */
static s_notice_t *s_notice_read (const char *path)
{
    gf_calendar_t *scratch = gf_calendar_new ();
    char why[512];
    int rc = scratch ? gf_calendar_load_json (scratch, path, why, sizeof why) : -1;
    gf_calendar_destroy (&scratch);
    if (rc) {
        fprintf (stderr, "error: %s\n", why);
        return NULL;
    }
    json_t *root = json_load_file (path, 0, NULL);
    s_notice_t *notice = (s_notice_t *)calloc (1, sizeof (s_notice_t));
    notice->path = strdup (path);
    notice->json = gridctl_read_file (path, NULL);
    notice->year = (int)json_integer_value (json_object_get (root, "year"));
    json_decref (root);
    if (!notice->json || !notice->year) {
        /* Only if the file changed under us since it was validated. */
        fprintf (stderr, "error: cannot read %s\n", path);
        s_notice_destroy (&notice);
    }
    return notice;
}

int gridctl_calendar_import (gf_config_t *config, int argc, char **argv)
{
    zlist_t *paths = zlist_new ();
    zlist_autofree (paths);
    int rc = 0;
    if (argc == 0) {
        char *dir = gridctl_data_dir ("GF_CALENDAR_DIR", "calendar");
        rc = s_collect (dir, paths);
        free (dir);
    }
    for (int i = 0; i < argc && rc == 0; i++) {
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf (stderr, "usage: gridctl calendar import [FILE|DIR ...]\n");
            zlist_destroy (&paths);
            return 2;
        }
        rc = s_collect (argv[i], paths);
    }
    /* Every file is checked before the database is touched: one bad file
       imports nothing. */
    zlistx_t *notices = zlistx_new ();
    zlistx_set_destructor (notices, s_notice_free);
    zlistx_set_comparator (notices, s_notice_by_year);
    for (char *path = (char *)zlist_first (paths); path && rc == 0;
         path = (char *)zlist_next (paths)) {
        s_notice_t *notice = s_notice_read (path);
        for (s_notice_t *other = (s_notice_t *)zlistx_first (notices); notice && other;
             other = (s_notice_t *)zlistx_next (notices))
            if (other->year == notice->year) {
                fprintf (stderr, "error: %s and %s are both for %d\n", other->path, notice->path,
                         notice->year);
                s_notice_destroy (&notice);
            }
        if (notice)
            zlistx_add_end (notices, notice);
        else
            rc = 1;
    }
    zlist_destroy (&paths);
    if (rc) {
        fprintf (stderr, "error: nothing imported\n");
        zlistx_destroy (&notices);
        return 1;
    }
    zlistx_sort (notices);

    gf_db_t *db = gridctl_db_new (config);
    rc = gf_db_connect (db, 10000) == 0 && gf_db_begin (db) == 0 &&
                 gf_db_run (db, SQL_IMPORT_LOCK, 0, NULL) == 0
             ? 0
             : 1;
    zlist_t *report = zlist_new ();
    zlist_autofree (report);
    for (s_notice_t *notice = (s_notice_t *)zlistx_first (notices); notice && rc == 0;
         notice = (s_notice_t *)zlistx_next (notices)) {
        const char *params[] = {notice->json};
        for (size_t s = 0; rc == 0 && s < sizeof SQL_IMPORT / sizeof SQL_IMPORT[0]; s++)
            if (gf_db_run (db, SQL_IMPORT[s], 1, params) != 0)
                rc = 1;
        char year[16];
        snprintf (year, sizeof year, "%d", notice->year);
        const char *year_param[] = {year};
        PGresult *res = rc == 0 ? gf_db_exec (db, SQL_YEAR_COUNTS, 1, year_param) : NULL;
        if (res) {
            char *line = zsys_sprintf ("%d: %lld days (off %lld, make-up %lld)", notice->year,
                                       gf_db_get_ll (res, 0, "days"), gf_db_get_ll (res, 0, "off"),
                                       gf_db_get_ll (res, 0, "makeup"));
            zlist_append (report, line);
            free (line);
            PQclear (res);
        } else
            rc = 1;
    }
    if (rc == 0 && gf_db_commit (db) == 0) {
        for (char *line = (char *)zlist_first (report); line; line = (char *)zlist_next (report))
            printf ("%s\n", line);
    } else {
        gf_db_rollback (db);
        fprintf (stderr, "error: import failed, nothing changed (see the message above)\n");
        rc = 1;
    }
    zlist_destroy (&report);
    zlistx_destroy (&notices);
    gf_db_destroy (&db);
    return rc;
}

/*  "YYYY-MM" exactly. */
static bool s_parse_month (const char *text, int *y, int *m)
{
    if (strlen (text) != 7 || text[4] != '-')
        return false;
    for (int i = 0; i < 7; i++)
        if (i != 4 && (text[i] < '0' || text[i] > '9'))
            return false;
    *y = atoi (text);
    *m = atoi (text + 5);
    return *y >= 1900 && *y <= 2199 && *m >= 1 && *m <= 12;
}

int gridctl_calendar_show (gf_config_t *config, int argc, char **argv)
{
    int y, m;
    if (argc != 1 || !s_parse_month (argv[0], &y, &m)) {
        fprintf (stderr, "usage: gridctl calendar show YEAR-MM   (e.g. 2026-02)\n");
        return 2;
    }
    gf_db_t *db = gridctl_db_new (config);
    gf_calendar_t *calendar = gf_calendar_new ();
    char year[16], month[16];
    snprintf (year, sizeof year, "%d", y);
    snprintf (month, sizeof month, "%d", m);
    const char *params[] = {year, month};
    PGresult *res = NULL;
    if (gf_db_connect (db, 10000) != 0 || gf_calendar_load_db (calendar, db) != 0 ||
        !(res = gf_db_exec (db, SQL_MONTH_DAYS, 2, params))) {
        fprintf (stderr, "error: cannot read the calendar from the database\n");
        gf_calendar_destroy (&calendar);
        gf_db_destroy (&db);
        return 1;
    }
    if (!gf_calendar_has_year (calendar, y))
        fprintf (stderr,
                 "warning: %d is not in the database (notice not announced or not imported): "
                 "Monday-Friday shown as working days, holidays unknown\n",
                 y);

    /* The notice's days of this month, by day of month, for marks and names. */
    bool listed_off[32] = {false};
    for (int r = 0; r < PQntuples (res); r++) {
        long long d = gf_db_get_ll (res, r, "d");
        if (d >= 1 && d <= 31 && streq (gf_db_get (res, r, "workday"), "f"))
            listed_off[d] = true;
    }
    /* timegm normalises day 0 of the next month to this month's last day. */
    struct tm first = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = 1, .tm_hour = 12};
    struct tm last = {.tm_year = y - 1900, .tm_mon = m, .tm_mday = 0, .tm_hour = 12};
    timegm (&first);
    timegm (&last);
    int lead = (first.tm_wday + 6) % 7; /* Monday first */

    static const char *WEEKDAYS[] = {"一", "二", "三", "四", "五", "六", "日"};
    printf ("%d年%d月\n", y, m);
    for (int w = 0; w < 7; w++)
        printf ("%s  %s", w ? " " : "", WEEKDAYS[w]);
    printf ("\n");
    /* Each cell is four columns wide: the day and its mark (CJK: two columns). */
    for (int cell = 0; cell < lead + last.tm_mday; cell++) {
        int d = cell - lead + 1;
        int weekday = cell % 7;
        if (weekday)
            printf (" ");
        if (d < 1)
            printf ("    ");
        else {
            bool working = gf_calendar_is_workday (calendar, y, m, d);
            const char *mark = "  ";
            if (working && weekday >= 5)
                mark = "班";
            else if (!working && (weekday < 5 || listed_off[d]))
                mark = "休";
            bool line_end = weekday == 6 || d == last.tm_mday;
            printf ("%2d%s", d, line_end && streq (mark, "  ") ? "" : mark);
        }
        if (weekday == 6 || d == last.tm_mday)
            printf ("\n");
    }
    if (PQntuples (res))
        printf ("\n");
    for (int r = 0; r < PQntuples (res); r++) {
        int d = (int)gf_db_get_ll (res, r, "d");
        const char *name = gf_db_get (res, r, "name");
        printf ("%d月%d日 %s %s\n", m, d, streq (gf_db_get (res, r, "workday"), "t") ? "班" : "休",
                name ? name : "");
    }
    PQclear (res);
    gf_calendar_destroy (&calendar);
    gf_db_destroy (&db);
    return 0;
}
