/*  gridctl ledger show, report monthly, meeting list: the meeting ledgers
    (三级台账: 已解决 / 待解决 / 难解决) and the L1 monthly report by category
    and by priority (分类别、分重点).

    Every number is computed in SQL from parameters; this file only lays the
    results out, for people (Chinese tables, padded by display width) or for
    machines (CSV per RFC 4180, UTF-8, CRLF line ends; JSON, one object).
    The CSV and JSON writers are generic over a result: a column's name is
    its key and its PostgreSQL type decides how it is written, so what a
    machine sees is exactly what the query selects. */
#include "gridctl.h"
#include "gf_db.h"

typedef enum {
    S_TABLE, /* aligned Chinese table for people           */
    S_CSV,   /* RFC 4180: header row, quoted where needed   */
    S_JSON   /* one JSON object on one line                 */
} s_format_t;

/*  PostgreSQL type OIDs (catalog/pg_type_d.h, stable since forever); the
    server headers are not a build dependency. */
#define S_OID_BOOL      16
#define S_OID_INT8      20
#define S_OID_INT2      21
#define S_OID_INT4      23
#define S_OID_JSON      114
#define S_OID_FLOAT4    700
#define S_OID_FLOAT8    701
#define S_OID_TEXTARRAY 1009
#define S_OID_NUMERIC   1700
#define S_OID_JSONB     3802

/*  On-time means resolved within this many working days of received_at
    (gf_add_working_days: the statutory calendar, 调休 included). */
#define S_DEADLINE_WORKING_DAYS "5"

/*  Times for machines: ISO 8601, local (Asia/Shanghai, +08:00), as
    to_char (t AT TIME ZONE 'Asia/Shanghai', S_ISO). */
#define S_ISO "'YYYY-MM-DD\"T\"HH24:MI:SS\"+08:00\"'"

/*  Special groups in their report order (紧急 is 1, 一般 last). */
#define S_GROUP_NAMES                                                                                        \
    "(VALUES ('hardship', '困难户', 2), ('petitioner', '上访户', 3), ('bereaved', '失独家庭', 4)," \
    " ('left_behind', '留守儿童家庭', 5), ('dibao', '低保', 6), ('disabled', '重残', 7))"

/*  What people call the last action on a ledger line. */
#define S_ACTION_NAMES                                                                                  \
    "(VALUES ('case.received', '登记'), ('case.routed', '分派'), ('case.unroutable', '待分流')," \
    " ('case.signed', '签收'), ('case.progress', '办理进展'), ('case.referred', '转办'),"       \
    " ('case.department_replied', '部门回复'), ('case.resolved', '办结'),"                        \
    " ('case.callback', '回访'), ('case.closed', '归档'), ('case.reopened', '重办'),"             \
    " ('case.returned', '退单'), ('case.merged', '合并'), ('case.supervised', '督办'),"           \
    " ('case.classified', '分类'), ('case.escalated', '升级'))"

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

/*  The elements of a PostgreSQL array literal ({a,"b c",NULL}), as a list
    of strings the caller destroys.  NULL elements become "". */
static zlist_t *s_array_items (const char *text)
{
    zlist_t *items = zlist_new ();
    zlist_autofree (items);
    if (!text || *text != '{')
        return items;
    const char *p = text + 1;
    char *item = (char *)malloc (strlen (text) + 1);
    while (*p && *p != '}') {
        size_t n = 0;
        bool quoted = *p == '"';
        if (quoted) {
            for (p++; *p && *p != '"'; p++)
                item[n++] = *p == '\\' && p[1] ? *++p : *p;
            if (*p == '"')
                p++;
        } else
            while (*p && *p != ',' && *p != '}')
                item[n++] = *p++;
        item[n] = '\0';
        if (!quoted && streq (item, "NULL"))
            item[0] = '\0';
        zlist_append (items, item);
        if (*p == ',')
            p++;
    }
    free (item);
    return items;
}

/*  One CSV field, quoted when it holds a comma, quote or line break. */
static void s_csv_field (const char *v)
{
    if (!strpbrk (v, ",\"\r\n")) {
        fputs (v, stdout);
        return;
    }
    putchar ('"');
    for (const char *p = v; *p; p++) {
        if (*p == '"')
            putchar ('"');
        putchar (*p);
    }
    putchar ('"');
}

/*  The result as CSV: a header row of column names, then one record per
    row.  NULL is an empty field; an array is its elements joined by ','. */
static void s_csv (const PGresult *res)
{
    for (int k = 0; k < PQnfields (res); k++) {
        if (k)
            putchar (',');
        s_csv_field (PQfname (res, k));
    }
    fputs ("\r\n", stdout);
    for (int r = 0; r < PQntuples (res); r++) {
        for (int k = 0; k < PQnfields (res); k++) {
            if (k)
                putchar (',');
            if (PQgetisnull (res, r, k))
                continue;
            const char *v = PQgetvalue (res, r, k);
            if (PQftype (res, k) == S_OID_TEXTARRAY) {
                zlist_t *items = s_array_items (v);
                char *joined = (char *)calloc (1, strlen (v) + 1);
                for (char *item = (char *)zlist_first (items); item;
                     item = (char *)zlist_next (items)) {
                    if (*joined)
                        strcat (joined, ",");
                    strcat (joined, item);
                }
                s_csv_field (joined);
                free (joined);
                zlist_destroy (&items);
            } else
                s_csv_field (v);
        }
        fputs ("\r\n", stdout);
    }
}

static void s_json_string (const char *s)
{
    putchar ('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf ("\\%c", *p);
        else if (*p == '\n')
            fputs ("\\n", stdout);
        else if (*p == '\r')
            fputs ("\\r", stdout);
        else if (*p == '\t')
            fputs ("\\t", stdout);
        else if (*p < 0x20)
            printf ("\\u%04x", *p);
        else
            putchar (*p);
    }
    putchar ('"');
}

static void s_json_value (const PGresult *res, int row, int k)
{
    if (PQgetisnull (res, row, k)) {
        fputs ("null", stdout);
        return;
    }
    const char *v = PQgetvalue (res, row, k);
    switch (PQftype (res, k)) {
    case S_OID_BOOL:
        fputs (streq (v, "t") ? "true" : "false", stdout);
        break;
    case S_OID_INT2:
    case S_OID_INT4:
    case S_OID_INT8:
    case S_OID_NUMERIC:
    case S_OID_FLOAT4:
    case S_OID_FLOAT8:
        /* NaN and Infinity are not JSON numbers. */
        fputs (isdigit ((unsigned char)v[v[0] == '-']) ? v : "null", stdout);
        break;
    case S_OID_JSON:
    case S_OID_JSONB:
        fputs (v, stdout);
        break;
    case S_OID_TEXTARRAY: {
        zlist_t *items = s_array_items (v);
        putchar ('[');
        for (char *item = (char *)zlist_first (items); item; item = (char *)zlist_next (items)) {
            if (item != zlist_head (items))
                putchar (',');
            s_json_string (item);
        }
        putchar (']');
        zlist_destroy (&items);
        break;
    }
    default:
        s_json_string (v);
    }
}

/*  One row as a JSON object keyed by column name, leaving out the columns
    named in skip (NULL-terminated, may be NULL). */
static void s_json_object (const PGresult *res, int row, const char *const *skip)
{
    putchar ('{');
    bool first = true;
    for (int k = 0; k < PQnfields (res); k++) {
        bool skipped = false;
        for (const char *const *s = skip; s && *s; s++)
            skipped = skipped || streq (*s, PQfname (res, k));
        if (skipped)
            continue;
        if (!first)
            putchar (',');
        first = false;
        s_json_string (PQfname (res, k));
        putchar (':');
        s_json_value (res, row, k);
    }
    putchar ('}');
}

/*  The rows (those whose filter_column equals filter_value, or all) as a
    JSON array of objects. */
static void s_json_array (const PGresult *res, const char *filter_column, const char *filter_value,
                          const char *const *skip)
{
    putchar ('[');
    bool first = true;
    for (int r = 0; r < PQntuples (res); r++) {
        if (filter_column) {
            const char *v = gf_db_get (res, r, filter_column);
            if (!v || !streq (v, filter_value))
                continue;
        }
        if (!first)
            putchar (',');
        first = false;
        s_json_object (res, r, skip);
    }
    putchar (']');
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

/*  The meeting header: who met, when, over which period, and the ledger's
    size per tier.  $1 meeting id. */
static const char *SQL_MEETING =
    "SELECT m.id AS meeting_id, m.grid, g.name AS grid_name, m.kind,"
    "       CASE m.kind WHEN 'weekly' THEN '周例会' WHEN 'monthly' THEN '月例会'"
    "                   ELSE '民情征询会' END AS kind_name,"
    "       m.day::text AS day,"
    "       to_char (m.slot_at AT TIME ZONE 'Asia/Shanghai', " S_ISO ") AS slot_at,"
    "       to_char (m.held_at AT TIME ZONE 'Asia/Shanghai', " S_ISO ") AS held_at,"
    "       to_char (m.period_from AT TIME ZONE 'Asia/Shanghai', " S_ISO ") AS period_from,"
    "       to_char (m.slot_at AT TIME ZONE 'Asia/Shanghai', " S_ISO ") AS period_to,"
    "       m.topic,"
    "       (SELECT count (*) FROM ledger_entries le WHERE le.meeting_id = m.id) AS entries,"
    "       (SELECT count (*) FROM ledger_entries le"
    "         WHERE le.meeting_id = m.id AND le.tier = 'resolved') AS resolved,"
    "       (SELECT count (*) FROM ledger_entries le"
    "         WHERE le.meeting_id = m.id AND le.tier = 'pending') AS pending,"
    "       (SELECT count (*) FROM ledger_entries le"
    "         WHERE le.meeting_id = m.id AND le.tier = 'hard') AS hard,"
    "       (SELECT count (*) FROM escalations e WHERE e.meeting_id = m.id) AS escalated"
    "  FROM meetings m JOIN grids g ON g.code = m.grid"
    " WHERE m.id = $1";

/*  The ledger lines, tier by tier (已解决, 待解决, 难解决), as they were at
    the meeting's slot.  The stored priority is '紧急' and/or the group
    codes ("紧急 hardship,dibao"); people get the Chinese names.  $1 meeting. */
static const char *SQL_ENTRIES =
    "SELECT le.meeting_id, le.tier,"
    "       CASE le.tier WHEN 'resolved' THEN '已解决' WHEN 'pending' THEN '待解决'"
    "                    ELSE '难解决' END AS tier_name,"
    "       le.case_id, le.category, coalesce (cat.name, '未分类') AS category_name,"
    "       coalesce ((SELECT string_agg (coalesce (gn.name, t.token), '、' ORDER BY t.ord)"
    "                    FROM unnest (string_to_array (replace (le.priority, ' ', ','), ','))"
    "                         WITH ORDINALITY t (token, ord)"
    "                    LEFT JOIN " S_GROUP_NAMES " gn (code, name, sub) ON gn.code = t.token"
    "                   WHERE t.token <> ''), '一般') AS priority,"
    "       starts_with (le.priority, '紧急') AS urgent,"
    "       array_remove (string_to_array (replace (le.priority, ' ', ','), ','), '紧急') AS "
    "groups,"
    "       le.age_days, le.owner, og.name AS owner_name,"
    "       le.state, coalesce (sn.name, le.state) AS state_name, le.level,"
    "       le.last_action, coalesce (an.name, le.last_action) AS last_action_name,"
    "       to_char (le.last_action_at AT TIME ZONE 'Asia/Shanghai', " S_ISO ") AS last_action_at,"
    "       le.escalated"
    "  FROM ledger_entries le"
    "  LEFT JOIN categories cat ON cat.code = le.category"
    "  LEFT JOIN grids og ON og.code = le.owner"
    "  LEFT JOIN case_state_names sn ON sn.state = le.state"
    "  LEFT JOIN " S_ACTION_NAMES " an (type, name) ON an.type = le.last_action"
    " WHERE le.meeting_id = $1"
    " ORDER BY array_position (ARRAY['resolved', 'pending', 'hard'], le.tier), le.case_id";

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

int gridctl_ledger_show (gf_config_t *config, int argc, char **argv)
{
    const char *meeting = NULL;
    int format = S_TABLE;
    for (int i = 0; i < argc; i++) {
        if (streq (argv[i], "--meeting") && i + 1 < argc && s_positive (argv[i + 1]))
            meeting = argv[++i];
        else if (streq (argv[i], "--format") && i + 1 < argc && s_format_parse (argv[i + 1]) >= 0)
            format = s_format_parse (argv[++i]);
        else {
            meeting = NULL;
            break;
        }
    }
    if (!meeting) {
        fprintf (stderr, "usage: gridctl ledger show --meeting ID [--format table|csv|json]\n");
        return 2;
    }
    gf_db_t *db = gridctl_connect (config);
    if (!db)
        return 1;
    const char *params[] = {meeting};
    PGresult *m = gf_db_exec (db, SQL_MEETING, 1, params);
    PGresult *entries = m && PQntuples (m) == 1 ? gf_db_exec (db, SQL_ENTRIES, 1, params) : NULL;
    int rc = 1;
    if (!m)
        fprintf (stderr, "error: unavailable: cannot read the meeting\n");
    else if (PQntuples (m) == 0)
        fprintf (stderr, "error: unknown_meeting: no meeting %s\n", meeting);
    else if (!entries)
        fprintf (stderr, "error: unavailable: cannot read the ledger\n");
    else {
        if (format == S_CSV)
            s_csv (entries);
        else if (format == S_JSON) {
            printf ("{\"meeting\":");
            s_json_object (m, 0, NULL);
            printf (",\"entries\":");
            const char *const skip[] = {"meeting_id", NULL};
            s_json_array (entries, NULL, NULL, skip);
            printf ("}\n");
        } else
            s_ledger_table (m, entries);
        rc = 0;
    }
    if (entries)
        PQclear (entries);
    if (m)
        PQclear (m);
    gf_db_destroy (&db);
    return rc;
}

/* ---------------------------------------------------------------------------
   gridctl meeting list [--grid PREFIX] [--kind K] [--limit N] */

static const char *SQL_MEETINGS =
    "SELECT m.id, m.grid, g.name AS grid_name, m.kind,"
    "       CASE m.kind WHEN 'weekly' THEN '周例会' WHEN 'monthly' THEN '月例会'"
    "                   ELSE '民情征询会' END AS kind_name,"
    "       m.day::text AS day,"
    "       to_char (m.slot_at AT TIME ZONE 'Asia/Shanghai', " S_ISO ") AS slot_at,"
    "       to_char (m.held_at AT TIME ZONE 'Asia/Shanghai', " S_ISO ") AS held_at,"
    "       count (le.case_id) AS entries,"
    "       count (le.case_id) FILTER (WHERE le.tier = 'resolved') AS resolved,"
    "       count (le.case_id) FILTER (WHERE le.tier = 'pending') AS pending,"
    "       count (le.case_id) FILTER (WHERE le.tier = 'hard') AS hard,"
    "       (SELECT count (*) FROM escalations e WHERE e.meeting_id = m.id) AS escalated"
    "  FROM meetings m JOIN grids g ON g.code = m.grid"
    "  LEFT JOIN ledger_entries le ON le.meeting_id = m.id"
    " WHERE ($1::text IS NULL OR m.grid = $1 OR starts_with (m.grid, $1 || '.'))"
    "   AND ($2::text IS NULL OR m.kind = $2)"
    " GROUP BY m.id, g.name"
    " ORDER BY m.slot_at DESC, m.id DESC"
    " LIMIT $3::bigint";

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
    PGresult *res = gf_db_exec (db, SQL_MEETINGS, 3, params);
    int rc = 1;
    if (!res)
        fprintf (stderr, "error: unavailable: cannot read the meetings\n");
    else {
        if (format == S_CSV)
            s_csv (res);
        else if (format == S_JSON) {
            printf ("{\"meetings\":");
            s_json_array (res, NULL, NULL, NULL);
            printf ("}\n");
        } else {
            s_table (res, s_meeting_cols, sizeof s_meeting_cols / sizeof s_meeting_cols[0], NULL,
                     NULL, true);
            printf ("(%d meetings; ledger show --meeting ID for a ledger)\n", PQntuples (res));
        }
        rc = 0;
    }
    if (res)
        PQclear (res);
    gf_db_destroy (&db);
    return rc;
}

/* ---------------------------------------------------------------------------
   gridctl report monthly [--grid L1] [--month YYYY-MM] */

/*  The month and the grid: p (root, root_name, m, source, t0, t1, as_of).
    The month is the one given, else the month of the grid's latest monthly
    meeting, else the current month of gf_now (); states are taken as of
    the month's end or now, whichever is earlier.  $1 L1 grid, $2 month. */
#define S_MONTH_CTE                                                                                \
    "WITH p0 AS ("                                                                                 \
    "  SELECT g.code AS root, g.name AS root_name,"                                                \
    "         coalesce (to_date ($2::text, 'YYYY-MM'),"                                            \
    "                   (SELECT date_trunc ('month', max (mt.day))::date FROM meetings mt"         \
    "                     WHERE mt.grid = g.code AND mt.kind = 'monthly'),"                        \
    "                   date_trunc ('month', gf_now () AT TIME ZONE 'Asia/Shanghai')::date) AS m," \
    "         CASE WHEN $2::text IS NOT NULL THEN 'given'"                                         \
    "              WHEN EXISTS (SELECT 1 FROM meetings mt"                                         \
    "                            WHERE mt.grid = g.code AND mt.kind = 'monthly')"                  \
    "              THEN 'latest_monthly_meeting' ELSE 'current_month' END AS source"               \
    "    FROM grids g WHERE g.code = $1 AND g.level = 1"                                           \
    "), p AS ("                                                                                    \
    "  SELECT p0.*, p0.m::timestamp AT TIME ZONE 'Asia/Shanghai' AS t0,"                           \
    "         (p0.m + interval '1 month') AT TIME ZONE 'Asia/Shanghai' AS t1,"                     \
    "         least ((p0.m + interval '1 month') AT TIME ZONE 'Asia/Shanghai', gf_now ()) AS "     \
    "as_of"                                                                                        \
    "    FROM p0"                                                                                  \
    ")"

static const char *SQL_REPORT_HEAD = S_MONTH_CTE
    "SELECT p.root AS grid, p.root_name AS grid_name, to_char (p.m, 'YYYY-MM') AS month,"
    "       p.source AS month_source,"
    "       (SELECT max (mt.day)::text FROM meetings mt"
    "         WHERE mt.grid = p.root AND mt.kind = 'monthly') AS latest_monthly_meeting,"
    "       to_char (p.t0 AT TIME ZONE 'Asia/Shanghai', " S_ISO ") AS period_from,"
    "       to_char (p.t1 AT TIME ZONE 'Asia/Shanghai', " S_ISO ") AS period_to,"
    "       to_char (p.as_of AT TIME ZONE 'Asia/Shanghai', " S_ISO ") AS as_of"
    "  FROM p";

/*  One row per (section, key): the total, each category, each priority
    group, each L2 grid, then the month's escalations by rule.  The cases
    counted are those of the L1 grid received in the month, less those
    merged into another case.  A case is resolved when it was (tier
    resolved) as of p.as_of; its resolution time is its last case.resolved
    up to then.  On time: resolved by gf_add_working_days (received_at, $3);
    late: resolved after that, or still open when it had passed.  A case can
    be in several priority rows.  $1 L1 grid, $2 month, $3 working days. */
static const char *SQL_REPORT = S_MONTH_CTE
    ", x AS ("
    "  SELECT c.id, c.category, c.urgent, c.groups, p.as_of,"
    "         CASE WHEN c.grid <> c.root THEN gf_owner_grid (c.grid, 2) END AS l2,"
    "         c.received_at, st.tier = 'resolved' AS resolved, r.at AS resolved_at,"
    "         gf_add_working_days (c.received_at, $3::int) AS due"
    "    FROM p JOIN cases c ON c.root = p.root AND c.received_at >= p.t0"
    "                       AND c.received_at < p.t1 AND c.received_at <= p.as_of"
    "                       AND c.merged_into IS NULL"
    "   CROSS JOIN LATERAL gf_case_at (c.id, p.as_of) st"
    "    LEFT JOIN LATERAL (SELECT max (e.at) AS at FROM case_events e"
    "                        WHERE e.case_id = c.id AND e.type = 'case.resolved'"
    "                          AND e.at <= p.as_of) r ON true"
    "), y AS ("
    "  SELECT x.*, x.resolved AND x.resolved_at <= x.due AS on_time,"
    "         (x.resolved AND x.resolved_at > x.due) OR (NOT x.resolved AND x.due < x.as_of) AS "
    "late"
    "    FROM x"
    "), member AS ("
    "  SELECT 'total' AS section, '' AS key, y.id FROM y"
    "  UNION ALL SELECT 'category', coalesce (y.category, ''), y.id FROM y"
    "  UNION ALL SELECT 'priority', 'urgent', y.id FROM y WHERE y.urgent"
    "  UNION ALL SELECT 'priority', g.code, y.id FROM y, unnest (y.groups) g (code)"
    "  UNION ALL SELECT 'priority', 'general', y.id FROM y WHERE NOT y.urgent AND y.groups = '{}'"
    "  UNION ALL SELECT 'l2', coalesce (y.l2, ''), y.id FROM y"
    "), dim AS ("
    "  SELECT 1 AS ord, 'total' AS section, '' AS key, '合计' AS name, 0 AS sub, true AS always"
    "  UNION ALL SELECT 2, 'category', cat.code, cat.name,"
    "                   (row_number () OVER (ORDER BY cat.code = 'other', cat.code))::int, true"
    "              FROM categories cat"
    "  UNION ALL SELECT 2, 'category', '', '未分类', 1000000, false"
    "  UNION ALL SELECT 3, 'priority', 'urgent', '紧急', 1, true"
    "  UNION ALL SELECT 3, 'priority', gn.code, gn.name, gn.sub, true"
    "              FROM " S_GROUP_NAMES " gn (code, name, sub)"
    "  UNION ALL SELECT 3, 'priority', 'general', '一般', 8, true"
    "  UNION ALL SELECT 4, 'l2', g.code, g.code || ' ' || g.name,"
    "                   (row_number () OVER (ORDER BY g.code))::int, true"
    "              FROM p JOIN grids g ON g.parent = p.root"
    "  UNION ALL SELECT 4, 'l2', '', '（未分流）', 1000000, false"
    "), stats AS ("
    "  SELECT d.ord, d.sub, d.section, d.key, d.name,"
    "         count (y.id) AS received,"
    "         count (y.id) FILTER (WHERE y.resolved) AS resolved,"
    "         count (y.id) FILTER (WHERE NOT y.resolved) AS open,"
    "         round (100.0 * count (y.id) FILTER (WHERE y.resolved)"
    "                / nullif (count (y.id), 0), 1) AS resolution_rate_pct,"
    "         count (y.id) FILTER (WHERE y.on_time) AS on_time,"
    "         count (y.id) FILTER (WHERE y.late) AS late,"
    "         round (100.0 * count (y.id) FILTER (WHERE y.on_time)"
    "                / nullif (count (y.id) FILTER (WHERE y.on_time OR y.late), 0), 1)"
    "           AS on_time_rate_pct,"
    "         round ((avg (extract (epoch FROM y.resolved_at - y.received_at))"
    "                 FILTER (WHERE y.resolved) / 3600)::numeric, 1) AS avg_hours_to_resolve,"
    "         NULL::bigint AS escalations"
    "    FROM dim d"
    "    LEFT JOIN member mb ON mb.section = d.section AND mb.key = d.key"
    "    LEFT JOIN y ON y.id = mb.id"
    "   GROUP BY d.ord, d.sub, d.section, d.key, d.name, d.always"
    "  HAVING d.always OR count (y.id) > 0"
    "), esc AS ("
    "  SELECT 5 AS ord, r.sub, 'escalation' AS section, r.rule AS key, r.name,"
    "         NULL::bigint AS received, NULL::bigint AS resolved, NULL::bigint AS open,"
    "         NULL::numeric AS resolution_rate_pct, NULL::bigint AS on_time,"
    "         NULL::bigint AS late, NULL::numeric AS on_time_rate_pct,"
    "         NULL::numeric AS avg_hours_to_resolve, count (e.id) AS escalations"
    "    FROM p CROSS JOIN (VALUES ('weekly_l2', '周例会升级至二级网格', 1),"
    "                              ('monthly_l1', '月例会升级至一级网格', 2),"
    "                              ('urgent_l2', '紧急升级至二级网格', 3),"
    "                              ('urgent_l1', '紧急升级至一级网格', 4)) r (rule, name, sub)"
    "    LEFT JOIN (escalations e JOIN cases ec ON ec.id = e.case_id)"
    "           ON e.rule = r.rule AND ec.root = p.root AND e.at >= p.t0 AND e.at < p.t1"
    "   GROUP BY r.sub, r.rule, r.name"
    ")"
    "SELECT (SELECT to_char (p.m, 'YYYY-MM') FROM p) AS month, (SELECT p.root FROM p) AS grid,"
    "       u.section, u.key, u.name, u.received, u.resolved, u.open, u.resolution_rate_pct,"
    "       u.on_time, u.late, u.on_time_rate_pct, u.avg_hours_to_resolve, u.escalations"
    "  FROM (SELECT * FROM stats UNION ALL SELECT * FROM esc) u"
    " ORDER BY u.ord, u.sub";

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

/*  The definitions behind the numbers, printed under the table and given
    in the JSON. */
static const char *s_report_notes[] = {
    "统计对象：本月登记（received_at 在本月内）的本一级网格案件，不含并入他案的案件；"
    "状态截至月末或当前时间（取较早者）。",
    "办结率 = 办结 ÷ 登记。",
    "按时：登记后 " S_DEADLINE_WORKING_DAYS " 个工作日内办结（gf_add_working_days，"
    "按法定节假日与调休工作日历）；已过期限仍未办结的案件计为逾期；"
    "按时率 = 按时 ÷（按时 + 逾期），未到期的未办结案件不计入。",
    "平均办结时长：已办结案件从登记到（最近一次）办结的小时数平均值。",
    "分重点各行可重叠：一件案件可同时计入“紧急”和一个或多个特殊群体；“一般”为既非紧急也无特殊群体"
    "。",
    "升级：本月内发生的升级次数，按规则（周例会 weekly_l2、月例会 monthly_l1、紧急 urgent_l2 / "
    "urgent_l1）。"};

static void s_report_table (const PGresult *head, const PGresult *rows)
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
    printf ("\n说明 notes\n");
    for (size_t n = 0; n < sizeof s_report_notes / sizeof s_report_notes[0]; n++)
        printf ("  %zu. %s\n", n + 1, s_report_notes[n]);
}

static void s_report_json (const PGresult *head, const PGresult *rows)
{
    putchar ('{');
    for (int k = 0; k < PQnfields (head); k++) {
        s_json_string (PQfname (head, k));
        putchar (':');
        s_json_value (head, 0, k);
        putchar (',');
    }
    printf ("\"deadline_working_days\":%s,\"total\":", S_DEADLINE_WORKING_DAYS);
    const char *const skip[] = {"month", "grid", "section", "escalations", NULL};
    for (int r = 0; r < PQntuples (rows); r++)
        if (streq (gf_db_get (rows, r, "section"), "total"))
            s_json_object (rows, r, skip);
    const char *sections[][2] = {
        {"category", "by_category"}, {"priority", "by_priority"}, {"l2", "by_l2"}};
    for (size_t s = 0; s < 3; s++) {
        printf (",\"%s\":", sections[s][1]);
        s_json_array (rows, "section", sections[s][0], skip);
    }
    printf (",\"escalations\":{");
    bool first = true;
    for (int r = 0; r < PQntuples (rows); r++)
        if (streq (gf_db_get (rows, r, "section"), "escalation")) {
            printf ("%s", first ? "" : ",");
            s_json_string (gf_db_get (rows, r, "key"));
            printf (":%s", gf_db_get (rows, r, "escalations"));
            first = false;
        }
    printf ("},\"notes\":[");
    for (size_t n = 0; n < sizeof s_report_notes / sizeof s_report_notes[0]; n++) {
        printf ("%s", n ? "," : "");
        s_json_string (s_report_notes[n]);
    }
    printf ("]}\n");
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

int gridctl_report_monthly (gf_config_t *config, int argc, char **argv)
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
        fprintf (stderr, "usage: gridctl report monthly [--grid L1CODE] [--month YYYY-MM] "
                         "[--format table|csv|json]\n");
        return 2;
    }
    gf_db_t *db = gridctl_connect (config);
    if (!db)
        return 1;
    const char *params[] = {grid, month, S_DEADLINE_WORKING_DAYS};
    PGresult *head = gf_db_exec (db, SQL_REPORT_HEAD, 2, params);
    PGresult *rows = head && PQntuples (head) == 1 ? gf_db_exec (db, SQL_REPORT, 3, params) : NULL;
    int rc = 1;
    if (!head)
        fprintf (stderr, "error: unavailable: cannot read the database\n");
    else if (PQntuples (head) == 0)
        fprintf (stderr, "error: unknown_grid: %s is not an L1 grid\n", grid);
    else if (!rows)
        fprintf (stderr, "error: unavailable: cannot compute the report\n");
    else {
        if (format == S_CSV)
            s_csv (rows);
        else if (format == S_JSON)
            s_report_json (head, rows);
        else
            s_report_table (head, rows);
        rc = 0;
    }
    if (rows)
        PQclear (rows);
    if (head)
        PQclear (head);
    gf_db_destroy (&db);
    return rc;
}
