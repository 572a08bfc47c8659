/*  gridctl ledger show, report monthly, meeting list: the meeting ledgers
    (三级台账: 已解决 / 待解决 / 难解决) and the L1 monthly report by category
    and by priority (分类别、分重点).

    Every number, name and note is computed in SQL (deploy/sql/repeatable/
    reports.sql); this file lays the rows out for people (Chinese tables,
    padded by display width) and hands machines what PostgreSQL writes: CSV
    by COPY ... TO STDOUT (RFC 4180, UTF-8, CRLF line ends) and JSON built
    by the gf_..._json functions (one object, on one line). */
#include "gridctl.h"
#include "gf_db.h"

typedef enum {
    S_TABLE, /* aligned Chinese table for people           */
    S_CSV,   /* RFC 4180: header row, quoted where needed   */
    S_JSON   /* one JSON object on one line                 */
} s_format_t;

/* ---------------------------------------------------------------------------
   Output helpers */

static int s_format_parse (const char *text)
{
    return streq (text, "table")  ? S_TABLE
           : streq (text, "csv")  ? S_CSV
           : streq (text, "json") ? S_JSON
                                  : -1;
}

/*  Terminal columns taken by a UTF-8 string: East Asian wide and fullwidth
    characters take two. */
static int s_width (const char *text)
{
    int width = 0;
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        int len = *p < 0x80 ? 1 : (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3 : 4;
        uint32_t cp = len == 1 ? *p : len == 2 ? (*p & 0x1F) : len == 3 ? (*p & 0x0F) : (*p & 0x07);
        int i = 1;
        for (; i < len && (p[i] & 0xC0) == 0x80; i++)
            cp = (cp << 6) | (p[i] & 0x3F);
        p += i;
        bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                    (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                    (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
                    (cp >= 0xFFE0 && cp <= 0xFFE6) || cp >= 0x20000;
        width += wide ? 2 : 1;
    }
    return width;
}

/*  Prints text in a field of `width` display columns.  Padding is owed
    (*owed) rather than printed, so that a line never ends in spaces. */
static void s_cell (const char *text, int width, bool right, int *owed)
{
    int fill = width - s_width (text);
    fill = fill > 0 ? fill : 0;
    if (right)
        *owed += fill;
    if (*text) {
        printf ("%*s%s", *owed, "", text);
        *owed = 0;
    }
    *owed += (right ? 0 : fill) + 1; /* and the column separator */
}

typedef enum {
    S_TEXT,  /* as is, "-" when NULL                            */
    S_NUM,   /* right-aligned, "-" when NULL                    */
    S_PCT,   /* right-aligned with "%", "-" when NULL            */
    S_LEVEL, /* "L" and the level                               */
    S_TIME,  /* ISO 8601 shown as "YYYY-MM-DD HH:MM"             */
    S_MARK   /* boolean: the column's title when true, else ""  */
} s_kind_t;

typedef struct {
    const char *title;  /* heading                               */
    const char *column; /* result column                         */
    int width;          /* display columns                       */
    s_kind_t kind;      /* how a value is shown                  */
} s_col_t;

/*  Prints the heading (if asked) and the rows whose filter_column equals
    filter_value (all rows when filter_column is NULL).  Returns the number
    of rows printed. */
static int s_table (const PGresult *res, const s_col_t *cols, size_t ncols,
                    const char *filter_column, const char *filter_value, bool heading)
{
    if (heading) {
        int owed = 2;
        for (size_t k = 0; k < ncols; k++)
            s_cell (cols[k].title, cols[k].width, cols[k].kind == S_NUM || cols[k].kind == S_PCT,
                    &owed);
        printf ("\n");
    }
    int printed = 0;
    for (int r = 0; r < PQntuples (res); r++) {
        if (filter_column) {
            const char *v = gf_db_get (res, r, filter_column);
            if (!v || !streq (v, filter_value))
                continue;
        }
        int owed = 2;
        for (size_t k = 0; k < ncols; k++) {
            const char *v = gf_db_get (res, r, cols[k].column);
            char buf[64];
            const char *text = v ? v : "-";
            if (v && cols[k].kind == S_PCT) {
                snprintf (buf, sizeof buf, "%s%%", v);
                text = buf;
            } else if (v && cols[k].kind == S_LEVEL) {
                snprintf (buf, sizeof buf, "L%s", v);
                text = buf;
            } else if (v && cols[k].kind == S_TIME) {
                snprintf (buf, sizeof buf, "%.16s", v);
                char *t = strchr (buf, 'T');
                if (t)
                    *t = ' ';
                text = buf;
            } else if (cols[k].kind == S_MARK)
                text = v && streq (v, "t") ? cols[k].title : "";
            s_cell (text, cols[k].width, cols[k].kind == S_NUM || cols[k].kind == S_PCT, &owed);
        }
        printf ("\n");
        printed++;
    }
    return printed;
}

/*  COPY takes no bind parameters: the arguments go, bound, into
    transaction-local settings gridctl.arg1..N (NULL as ''), which the
    static COPY text reads back (current_setting), so no SQL is built from
    strings.  Prints the CSV with CRLF line ends, and nothing unless the
    COPY succeeds.  Returns 0 or -1. */
static const char *SQL_SET_ARG = "SELECT set_config ('gridctl.arg' || $1, coalesce ($2, ''), true)";

static const char *SQL_LEDGER_CSV =
    "COPY (SELECT * FROM gf_ledger_csv (current_setting ('gridctl.arg1')::bigint))"
    " TO STDOUT WITH (FORMAT csv, HEADER)";
static const char *SQL_MEETINGS_CSV =
    "COPY (SELECT * FROM gf_meeting_list (nullif (current_setting ('gridctl.arg1'), ''),"
    "        nullif (current_setting ('gridctl.arg2'), ''),"
    "        nullif (current_setting ('gridctl.arg3'), '')::bigint))"
    " TO STDOUT WITH (FORMAT csv, HEADER)";
static const char *SQL_INDICATORS_CSV =
    "COPY (SELECT * FROM gf_indicators (nullif (current_setting ('gridctl.arg1'), ''),"
    "        nullif (current_setting ('gridctl.arg2'), '')))"
    " TO STDOUT WITH (FORMAT csv, HEADER)";
static const char *SQL_MONTHLY_CSV =
    "COPY (SELECT * FROM gf_report_monthly (nullif (current_setting ('gridctl.arg1'), ''),"
    "        nullif (current_setting ('gridctl.arg2'), ''),"
    "        nullif (current_setting ('gridctl.arg3'), '')::int))"
    " TO STDOUT WITH (FORMAT csv, HEADER)";

static int s_csv (gf_db_t *db, const char *copy, int nargs, const char *const *args)
{
    PGconn *conn = gf_db_conn (db);
    if (!conn || gf_db_begin (db) != 0)
        return -1;
    int ok = 1;
    for (int k = 0; k < nargs && ok; k++) {
        char number[8];
        snprintf (number, sizeof number, "%d", k + 1);
        const char *params[] = {number, args[k]};
        ok = gf_db_run (db, SQL_SET_ARG, 2, params) == 0;
    }
    PGresult *res = ok ? PQexec (conn, copy) : NULL;
    int rc = PQresultStatus (res) == PGRES_COPY_OUT ? 0 : -1;
    PQclear (res);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    char *row = NULL;
    int n = 0;
    /* One row (the header too) per PQgetCopyData, ending in '\n'. */
    while (rc == 0 && (n = PQgetCopyData (conn, &row, 0)) > 0) {
        fwrite (row, 1, (size_t)(n - (row[n - 1] == '\n')), out);
        fputs ("\r\n", out);
        PQfreemem (row);
    }
    if (rc == 0)
        while ((res = PQgetResult (conn)) != NULL) {
            if (PQresultStatus (res) != PGRES_COMMAND_OK)
                rc = -1;
            PQclear (res);
        }
    if (rc != 0)
        zsys_error ("db: COPY failed: %s", PQerrorMessage (conn));
    if (rc == 0)
        rc = gf_db_commit (db) == 0 ? 0 : -1;
    else
        gf_db_rollback (db);
    fclose (out);
    if (rc == 0)
        fwrite (text, 1, size, stdout);
    free (text);
    return rc;
}

/*  Prints the one JSON value that sql returns, and a line end.  Returns 0
    or -1 (a failure, or NULL). */
static int s_json (gf_db_t *db, const char *sql, int nparams, const char *const *params)
{
    PGresult *res = gf_db_exec (db, sql, nparams, params);
    const char *json =
        res && PQntuples (res) == 1 && !PQgetisnull (res, 0, 0) ? PQgetvalue (res, 0, 0) : NULL;
    if (json)
        printf ("%s\n", json);
    if (res)
        PQclear (res);
    return json ? 0 : -1;
}

static bool s_positive (const char *text)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll (text, &end, 10);
    return *text && !*end && errno == 0 && v > 0;
}

/* ---------------------------------------------------------------------------
   gridctl ledger show --meeting ID */

/*  The meeting header (no row: no such meeting) and the ledger lines, tier
    by tier, as they were at the meeting's slot.  $1 meeting. */
static const char *SQL_MEETING = "SELECT * FROM gf_ledger_meeting ($1)";
static const char *SQL_ENTRIES = "SELECT * FROM gf_ledger_entries ($1)";
static const char *SQL_LEDGER_JSON = "SELECT gf_ledger_json ($1)";
/*  The meeting's escalations, and whether the safety net made them
    (gf_meeting_escalations, meetings.sql); the meeting's state. */
static const char *SQL_ESCALATIONS = "SELECT * FROM gf_meeting_escalations ($1)";
static const char *SQL_STATE =
    "SELECT state, automatic,"
    "       to_char (closed_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') AS closed_at"
    "  FROM meetings WHERE id = $1";

static const s_col_t s_ledger_cols[] = {
    {"案件", "case_id", 8, S_NUM},          {"类别", "category_name", 10, S_TEXT},
    {"优先", "priority", 16, S_TEXT},       {"天数", "age_days", 4, S_NUM},
    {"网格", "owner", 12, S_TEXT},          {"状态", "state_name", 10, S_TEXT},
    {"层级", "level", 4, S_LEVEL},          {"最后动作", "last_action_name", 8, S_TEXT},
    {"时间", "last_action_at", 16, S_TIME}, {"升级", "escalated", 4, S_MARK}};

/*  An ISO time from SQL shown as local "YYYY-MM-DD HH:MM" (chars 16) or
    with seconds (19) in buf; "-" for NULL. */
static const char *s_local (const char *iso, int chars, char *buf, size_t size)
{
    if (!iso)
        return "-";
    snprintf (buf, size, "%.*s", chars, iso);
    char *t = strchr (buf, 'T');
    if (t)
        *t = ' ';
    return buf;
}

static void s_ledger_table (const PGresult *m, const PGresult *entries)
{
    char slot[32], held[32], from[32];
    const char *topic = gf_db_get (m, 0, "topic");
    printf ("台账 ledger — 会议 meeting %s   %s %s   %s%s%s\n", gf_db_get (m, 0, "meeting_id"),
            gf_db_get (m, 0, "grid"), gf_db_get (m, 0, "grid_name"), gf_db_get (m, 0, "kind_name"),
            topic ? "：" : "", topic ? topic : "");
    printf ("  会议日 day %s   会议时间 slot %s   召开 held %s\n", gf_db_get (m, 0, "day"),
            s_local (gf_db_get (m, 0, "slot_at"), 16, slot, sizeof slot),
            s_local (gf_db_get (m, 0, "held_at"), 19, held, sizeof held));
    printf ("  周期 period %s — %s\n",
            s_local (gf_db_get (m, 0, "period_from"), 16, from, sizeof from), slot);
    printf ("  共 %s 件：已解决 %s，待解决 %s，难解决 %s；本次会议升级 %s 件\n",
            gf_db_get (m, 0, "entries"), gf_db_get (m, 0, "resolved"), gf_db_get (m, 0, "pending"),
            gf_db_get (m, 0, "hard"), gf_db_get (m, 0, "escalated"));
    const char *tiers[][2] = {{"resolved", "已解决"}, {"pending", "待解决"}, {"hard", "难解决"}};
    for (size_t t = 0; t < 3; t++) {
        printf ("\n%s %s（%s 件）\n", tiers[t][1], tiers[t][0], gf_db_get (m, 0, tiers[t][0]));
        if (atoi (gf_db_get (m, 0, tiers[t][0])) == 0)
            printf ("  （无 none）\n");
        else
            s_table (entries, s_ledger_cols, sizeof s_ledger_cols / sizeof s_ledger_cols[0], "tier",
                     tiers[t][0], true);
    }
}

/*  The meeting's state and its escalations, each saying whether it was
    automatic (the safety net: 自动升级) or decided.  Returns 0 or -1. */
static int s_escalations_table (gf_db_t *db, const char *const *params)
{
    PGresult *st = gf_db_exec (db, SQL_STATE, 1, params);
    PGresult *esc = st ? gf_db_exec (db, SQL_ESCALATIONS, 1, params) : NULL;
    if (st && esc && PQntuples (st) == 1) {
        const char *state = gf_db_get (st, 0, "state");
        const char *closed = gf_db_get (st, 0, "closed_at");
        printf ("\n会议状态 state: %s %s%s%s\n",
                streq (state, "open")     ? "进行中"
                : streq (state, "closed") ? "已结束"
                                          : "逾期未结，自动关闭",
                state, closed ? " " : "", closed ? closed : "");
        int automatic = 0;
        for (int r = 0; r < PQntuples (esc); r++)
            automatic += streq (gf_db_get (esc, r, "automatic"), "t");
        printf ("本次会议升级 escalations（%d 件，其中自动升级 %d 件）\n", PQntuples (esc),
                automatic);
        if (PQntuples (esc) == 0)
            printf ("  （无 none）\n");
        for (int r = 0; r < PQntuples (esc); r++) {
            char at[32];
            printf ("  %-8s %-16s L%s→L%s  %s  %s %s\n", gf_db_get (esc, r, "case_id"),
                    gf_db_get (esc, r, "rule_name"), gf_db_get (esc, r, "from_level"),
                    gf_db_get (esc, r, "to_level"),
                    s_local (gf_db_get (esc, r, "at"), 16, at, sizeof at),
                    gf_db_get (esc, r, "how"), gf_db_get (esc, r, "how_en"));
        }
    }
    int rc = st && esc && PQntuples (st) == 1 ? 0 : -1;
    if (st)
        PQclear (st);
    if (esc)
        PQclear (esc);
    return rc;
}

/*  --meeting ID [--format table|csv|json] (csv only when csv_ok): the
    meeting id, or NULL on a usage error. */
static const char *s_meeting_args (int argc, char **argv, bool csv_ok, int *format)
{
    const char *meeting = NULL;
    for (int i = 0; i < argc; i++) {
        if (streq (argv[i], "--meeting") && i + 1 < argc && s_positive (argv[i + 1]))
            meeting = argv[++i];
        else if (streq (argv[i], "--format") && i + 1 < argc && s_format_parse (argv[i + 1]) >= 0 &&
                 (csv_ok || s_format_parse (argv[i + 1]) != S_CSV))
            *format = s_format_parse (argv[++i]);
        else
            return NULL;
    }
    return meeting;
}

int gridctl_ledger_show (gf_config_t *config, int argc, char **argv)
{
    int format = S_TABLE;
    const char *meeting = s_meeting_args (argc, argv, true, &format);
    if (!meeting) {
        fprintf (stderr, "usage: gridctl ledger show --meeting ID [--format table|csv|json]\n");
        return 2;
    }
    gf_db_t *db = gridctl_connect (config);
    if (!db)
        return 1;
    const char *params[] = {meeting};
    PGresult *m = gf_db_exec (db, SQL_MEETING, 1, params);
    PGresult *entries = NULL;
    int rc = 1;
    if (!m)
        fprintf (stderr, "error: unavailable: cannot read the meeting\n");
    else if (PQntuples (m) == 0)
        fprintf (stderr, "error: unknown_meeting: no meeting %s\n", meeting);
    else if (format == S_CSV)
        rc = s_csv (db, SQL_LEDGER_CSV, 1, params) == 0 ? 0 : 1;
    else if (format == S_JSON)
        rc = s_json (db, SQL_LEDGER_JSON, 1, params) == 0 ? 0 : 1;
    else if ((entries = gf_db_exec (db, SQL_ENTRIES, 1, params)) != NULL) {
        s_ledger_table (m, entries);
        rc = s_escalations_table (db, params) == 0 ? 0 : 1;
    }
    if (m && PQntuples (m) == 1 && rc != 0)
        fprintf (stderr, "error: unavailable: cannot read the ledger\n");
    if (entries)
        PQclear (entries);
    if (m)
        PQclear (m);
    gf_db_destroy (&db);
    return rc;
}

/* ---------------------------------------------------------------------------
   gridctl ledger agenda --meeting ID: the agenda by category and priority
   (分类别、分重点), why each case is on it, and the decision behind a carried
   or reported-up case (gf_meeting_agenda, meetings.sql). */

static const char *SQL_AGENDA = "SELECT * FROM gf_meeting_agenda ($1)";
static const char *SQL_AGENDA_JSON = "SELECT gf_meeting_agenda_json ($1)";

static void s_agenda_table (const PGresult *m, const PGresult *a)
{
    printf ("议程 agenda — 会议 meeting %s   %s %s   %s %s\n", gf_db_get (m, 0, "meeting_id"),
            gf_db_get (m, 0, "grid"), gf_db_get (m, 0, "grid_name"), gf_db_get (m, 0, "kind_name"),
            gf_db_get (m, 0, "day"));
    const char *category = NULL;
    for (int r = 0; r < PQntuples (a); r++) {
        const char *name = gf_db_get (a, r, "category_name");
        if (!category || !streq (category, name)) {
            int n = 0;
            for (int k = r; k < PQntuples (a) && streq (gf_db_get (a, k, "category_name"), name);
                 k++)
                n++;
            printf ("\n%s（%d 件）\n", name, n);
            category = name;
        }
        const char *decision = gf_db_get (a, r, "decision_kind");
        const char *note = gf_db_get (a, r, "decision_note");
        printf ("  %-8s %-18s %-12s L%s %-12s %s", gf_db_get (a, r, "case_id"),
                gf_db_get (a, r, "priority"), gf_db_get (a, r, "reason_name"),
                gf_db_get (a, r, "level"), gf_db_get (a, r, "owner"), gf_db_get (a, r, "reason"));
        if (decision)
            printf ("  决定 decision %s %s %s %s%s%s", gf_db_get (a, r, "decision"), decision,
                    gf_db_get (a, r, "decision_grid"), gf_db_get (a, r, "decision_day"),
                    note ? "：" : "", note ? note : "");
        printf ("\n");
    }
    if (PQntuples (a) == 0)
        printf ("  （无 none）\n");
}

int gridctl_ledger_agenda (gf_config_t *config, int argc, char **argv)
{
    int format = S_TABLE;
    const char *meeting = s_meeting_args (argc, argv, false, &format);
    if (!meeting) {
        fprintf (stderr, "usage: gridctl ledger agenda --meeting ID [--format table|json]\n");
        return 2;
    }
    gf_db_t *db = gridctl_connect (config);
    if (!db)
        return 1;
    const char *params[] = {meeting};
    PGresult *m = gf_db_exec (db, SQL_MEETING, 1, params);
    PGresult *a = NULL;
    int rc = 1;
    if (!m)
        fprintf (stderr, "error: unavailable: cannot read the meeting\n");
    else if (PQntuples (m) == 0)
        fprintf (stderr, "error: unknown_meeting: no meeting %s\n", meeting);
    else if (format == S_JSON)
        rc = s_json (db, SQL_AGENDA_JSON, 1, params) == 0 ? 0 : 1;
    else if ((a = gf_db_exec (db, SQL_AGENDA, 1, params)) != NULL) {
        s_agenda_table (m, a);
        rc = 0;
    }
    if (m && PQntuples (m) == 1 && rc != 0)
        fprintf (stderr, "error: unavailable: cannot read the agenda\n");
    if (a)
        PQclear (a);
    if (m)
        PQclear (m);
    gf_db_destroy (&db);
    return rc;
}

/* ---------------------------------------------------------------------------
   gridctl meeting list [--grid PREFIX] [--kind K] [--limit N] */

/*  $1 subtree, $2 kind, $3 limit (gf_meeting_list). */
static const char *SQL_MEETINGS = "SELECT * FROM gf_meeting_list ($1, $2, $3)";
static const char *SQL_MEETINGS_JSON = "SELECT gf_meeting_list_json ($1, $2, $3)";

static const s_col_t s_meeting_cols[] = {{"会议", "id", 6, S_NUM},
                                         {"网格", "grid", 8, S_TEXT},
                                         {"名称", "grid_name", 16, S_TEXT},
                                         {"类型", "kind_name", 10, S_TEXT},
                                         {"会议时间", "slot_at", 16, S_TIME},
                                         {"召开", "held_at", 16, S_TIME},
                                         {"已解决", "resolved", 6, S_NUM},
                                         {"待解决", "pending", 6, S_NUM},
                                         {"难解决", "hard", 6, S_NUM},
                                         {"升级", "escalated", 4, S_NUM}};

int gridctl_meeting_list (gf_config_t *config, int argc, char **argv)
{
    const char *grid = NULL, *kind = NULL, *limit = "50";
    int format = S_TABLE;
    bool ok = true;
    for (int i = 0; i < argc && ok; i++) {
        if (streq (argv[i], "--grid") && i + 1 < argc)
            grid = argv[++i];
        else if (streq (argv[i], "--kind") && i + 1 < argc &&
                 (streq (argv[i + 1], "weekly") || streq (argv[i + 1], "monthly") ||
                  streq (argv[i + 1], "consultation")))
            kind = argv[++i];
        else if (streq (argv[i], "--limit") && i + 1 < argc && s_positive (argv[i + 1]))
            limit = argv[++i];
        else if (streq (argv[i], "--format") && i + 1 < argc && s_format_parse (argv[i + 1]) >= 0)
            format = s_format_parse (argv[++i]);
        else
            ok = false;
    }
    if (!ok) {
        fprintf (stderr, "usage: gridctl meeting list [--grid PREFIX] "
                         "[--kind weekly|monthly|consultation] [--limit N] "
                         "[--format table|csv|json]\n");
        return 2;
    }
    gf_db_t *db = gridctl_connect (config);
    if (!db)
        return 1;
    const char *params[] = {grid, kind, limit};
    int rc = 1;
    if (format == S_CSV)
        rc = s_csv (db, SQL_MEETINGS_CSV, 3, params) == 0 ? 0 : 1;
    else if (format == S_JSON)
        rc = s_json (db, SQL_MEETINGS_JSON, 3, params) == 0 ? 0 : 1;
    else {
        PGresult *res = gf_db_exec (db, SQL_MEETINGS, 3, params);
        if (res) {
            s_table (res, s_meeting_cols, sizeof s_meeting_cols / sizeof s_meeting_cols[0], NULL,
                     NULL, true);
            printf ("(%d meetings; ledger show --meeting ID for a ledger)\n", PQntuples (res));
            PQclear (res);
            rc = 0;
        }
    }
    if (rc != 0)
        fprintf (stderr, "error: unavailable: cannot read the meetings\n");
    gf_db_destroy (&db);
    return rc;
}

/* ---------------------------------------------------------------------------
   gridctl report monthly|indicators [--grid L1] [--month YYYY-MM] */

/*  The header (no row: not an L1 grid), the rows by section and the notes
    (gf_report_monthly_head, gf_report_monthly, gf_report_notes), and the
    indicators (gf_indicators, gf_indicators_json: indicators.sql).  $1 L1
    grid, $2 month (NULL: the month of the latest monthly meeting, else the
    current one), $3 the deadline in working days for every case: always
    NULL, the resolution_deadlines rules (by category and priority). */
static const char *SQL_REPORT_HEAD = "SELECT * FROM gf_report_monthly_head ($1, $2)";
static const char *SQL_REPORT = "SELECT * FROM gf_report_monthly ($1, $2, $3)";
static const char *SQL_REPORT_NOTES = "SELECT note FROM gf_report_notes ($1) ORDER BY n";
static const char *SQL_REPORT_JSON = "SELECT gf_report_monthly_json ($1, $2, $3)";
static const char *SQL_INDICATORS = "SELECT * FROM gf_indicators ($1, $2)";
static const char *SQL_INDICATORS_JSON = "SELECT gf_indicators_json ($1, $2)";

/*  The indicators (绩效指标), in the 12345 hotline's words. */
static const s_col_t s_indicator_cols[] = {{"代码", "key", 15, S_TEXT},
                                           {"名称", "name", 16, S_TEXT},
                                           {"登记", "received", 5, S_NUM},
                                           {"响应率", "response_rate_pct", 7, S_PCT},
                                           {"平均响应(小时)", "avg_response_hours", 14, S_NUM},
                                           {"解决率", "resolution_rate_pct", 7, S_PCT},
                                           {"按时办结率", "on_time_rate_pct", 10, S_PCT},
                                           {"满意率", "satisfaction_rate_pct", 7, S_PCT},
                                           {"重办率", "reopen_rate_pct", 7, S_PCT},
                                           {"督办", "supervised", 5, S_NUM},
                                           {"考核得分", "score", 8, S_NUM},
                                           {"排名", "rank", 5, S_NUM}};

static void s_indicators_table (const PGresult *rows)
{
    const char *min = PQntuples (rows) ? gf_db_get (rows, 0, "min_sample") : "-";
    printf ("\n考核指标 indicators（排名：登记不少于 %s 件的单位按考核得分；不足者不排名，"
            "排名为 -）\n",
            min ? min : "-");
    const char *sections[][2] = {{"total", "一级网格 total"},
                                 {"l2", "二级网格 by L2 grid"},
                                 {"l3", "三级网格 by L3 grid"},
                                 {"leader", "网格长 by leader"}};
    size_t ncols = sizeof s_indicator_cols / sizeof s_indicator_cols[0];
    for (size_t s = 0; s < 4; s++) {
        printf ("%s\n", sections[s][1]);
        s_table (rows, s_indicator_cols, ncols, "section", sections[s][0], true);
    }
}

static const s_col_t s_report_cols[] = {{"名称", "name", 28, S_TEXT},
                                        {"登记", "received", 5, S_NUM},
                                        {"办结", "resolved", 5, S_NUM},
                                        {"未办结", "open", 6, S_NUM},
                                        {"办结率", "resolution_rate_pct", 7, S_PCT},
                                        {"按时", "on_time", 5, S_NUM},
                                        {"逾期", "late", 5, S_NUM},
                                        {"按时率", "on_time_rate_pct", 7, S_PCT},
                                        {"平均办结(小时)", "avg_hours_to_resolve", 14, S_NUM}};
static const s_col_t s_escalation_cols[] = {
    {"规则", "name", 28, S_TEXT}, {"代码", "key", 12, S_TEXT}, {"次数", "escalations", 5, S_NUM}};

static void s_report_table (const PGresult *head, const PGresult *rows, const PGresult *notes,
                            const PGresult *indicators)
{
    char from[32], to[32], as_of[32];
    const char *source = gf_db_get (head, 0, "month_source");
    const char *latest = gf_db_get (head, 0, "latest_monthly_meeting");
    printf ("月度报告 monthly report — %s %s   %s 月", gf_db_get (head, 0, "grid"),
            gf_db_get (head, 0, "grid_name"), gf_db_get (head, 0, "month"));
    if (streq (source, "latest_monthly_meeting"))
        printf ("（默认：最近一次月例会 %s 所在月份）\n", latest);
    else if (streq (source, "current_month"))
        printf ("（默认：当前月份）\n");
    else
        printf ("\n");
    printf ("  期间 period %s — %s   状态截至 as of %s\n",
            s_local (gf_db_get (head, 0, "period_from"), 16, from, sizeof from),
            s_local (gf_db_get (head, 0, "period_to"), 16, to, sizeof to),
            s_local (gf_db_get (head, 0, "as_of"), 16, as_of, sizeof as_of));
    const char *sections[][2] = {{"category", "分类别 by category"},
                                 {"priority", "分重点 by priority"},
                                 {"l2", "分网格 by L2 grid"}};
    size_t ncols = sizeof s_report_cols / sizeof s_report_cols[0];
    for (size_t s = 0; s < 3; s++) {
        printf ("\n%s\n", sections[s][1]);
        s_table (rows, s_report_cols, ncols, "section", sections[s][0], true);
        if (!streq (sections[s][0], "priority"))
            s_table (rows, s_report_cols, ncols, "section", "total", false);
    }
    printf ("\n升级 escalations（本月）\n");
    s_table (rows, s_escalation_cols, sizeof s_escalation_cols / sizeof s_escalation_cols[0],
             "section", "escalation", true);
    s_indicators_table (indicators);
    printf ("\n说明 notes\n");
    for (int n = 0; n < PQntuples (notes); n++)
        printf ("  %d. %s\n", n + 1, PQgetvalue (notes, n, 0));
}

/*  True for YYYY-MM with a month 01..12. */
static bool s_month_valid (const char *text)
{
    if (strlen (text) != 7 || text[4] != '-')
        return false;
    for (int i = 0; i < 7; i++)
        if (i != 4 && !isdigit ((unsigned char)text[i]))
            return false;
    int month = atoi (text + 5);
    return month >= 1 && month <= 12 && atoi (text) >= 1900;
}

/*  The programme figures under the table (issue 15, gf_report_programmes). */
static const char *SQL_REPORT_PROGRAMMES = "SELECT name, value FROM gf_report_programmes ($1, $2)";

static int s_report_programmes (gf_db_t *db, const char **params)
{
    PGresult *res = gf_db_exec (db, SQL_REPORT_PROGRAMMES, 2, params);
    if (!res)
        return -1;
    printf ("\n群众工作 programmes\n");
    for (int r = 0; r < PQntuples (res); r++)
        printf ("  %-28s %s\n", PQgetvalue (res, r, 0), PQgetvalue (res, r, 1));
    PQclear (res);
    return 0;
}

static int s_report (gf_config_t *config, int argc, char **argv, bool indicators_only)
{
    const char *grid = config->root, *month = NULL;
    int format = S_TABLE;
    bool ok = true;
    for (int i = 0; i < argc && ok; i++) {
        if (streq (argv[i], "--grid") && i + 1 < argc)
            grid = argv[++i];
        else if (streq (argv[i], "--month") && i + 1 < argc && s_month_valid (argv[i + 1]))
            month = argv[++i];
        else if (streq (argv[i], "--format") && i + 1 < argc && s_format_parse (argv[i + 1]) >= 0)
            format = s_format_parse (argv[++i]);
        else
            ok = false;
    }
    if (!ok) {
        fprintf (stderr,
                 "usage: gridctl report %s [--grid L1CODE] [--month YYYY-MM] "
                 "[--format table|csv|json]\n",
                 indicators_only ? "indicators" : "monthly");
        return 2;
    }
    gf_db_t *db = gridctl_connect (config);
    if (!db)
        return 1;
    const char *params[] = {grid, month, NULL};
    PGresult *head = gf_db_exec (db, SQL_REPORT_HEAD, 2, params);
    PGresult *rows = NULL, *notes = NULL, *indicators = NULL;
    int rc = 1;
    if (!head)
        fprintf (stderr, "error: unavailable: cannot read the database\n");
    else if (PQntuples (head) == 0)
        fprintf (stderr, "error: unknown_grid: %s is not an L1 grid\n", grid);
    else if (indicators_only && format == S_CSV)
        rc = s_csv (db, SQL_INDICATORS_CSV, 2, params) == 0 ? 0 : 1;
    else if (indicators_only && format == S_JSON)
        rc = s_json (db, SQL_INDICATORS_JSON, 2, params) == 0 ? 0 : 1;
    else if (indicators_only) {
        if ((indicators = gf_db_exec (db, SQL_INDICATORS, 2, params)) != NULL) {
            printf ("绩效评价 %s %s   %s 月\n", gf_db_get (head, 0, "grid"),
                    gf_db_get (head, 0, "grid_name"), gf_db_get (head, 0, "month"));
            s_indicators_table (indicators);
            rc = 0;
        }
    } else if (format == S_CSV)
        rc = s_csv (db, SQL_MONTHLY_CSV, 3, params) == 0 ? 0 : 1;
    else if (format == S_JSON)
        rc = s_json (db, SQL_REPORT_JSON, 3, params) == 0 ? 0 : 1;
    else if ((rows = gf_db_exec (db, SQL_REPORT, 3, params)) != NULL &&
             (notes = gf_db_exec (db, SQL_REPORT_NOTES, 1, params + 2)) != NULL &&
             (indicators = gf_db_exec (db, SQL_INDICATORS, 2, params)) != NULL) {
        s_report_table (head, rows, notes, indicators);
        rc = s_report_programmes (db, params) == 0 ? 0 : 1;
    }
    if (head && PQntuples (head) == 1 && rc != 0)
        fprintf (stderr, "error: unavailable: cannot compute the report\n");
    if (indicators)
        PQclear (indicators);
    if (notes)
        PQclear (notes);
    if (rows)
        PQclear (rows);
    if (head)
        PQclear (head);
    gf_db_destroy (&db);
    return rc;
}

int gridctl_report_monthly (gf_config_t *config, int argc, char **argv)
{
    return s_report (config, argc, argv, false);
}

/*  The indicators alone (绩效指标与考核排名), as a table, CSV or JSON. */
int gridctl_report_indicators (gf_config_t *config, int argc, char **argv)
{
    return s_report (config, argc, argv, true);
}
