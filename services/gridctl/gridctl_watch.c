/*  gridctl watch — a terminal dashboard of the grids, or the raw stream.

    Dashboard (default): per grid the open cases (未办结), of which pending
    (待办) and hard (疑难), escalated this week (本周升级) and overdue
    (逾期未签收), with the latest case and meeting events (notifications are
    left out), redrawn in place with ANSI escape
    sequences.  The Clone pattern: one SQL snapshot (REPEATABLE READ: the
    open cases, this week's escalations and the log head H), then the stream
    from H, so every later event is applied once and none is missed.  An
    event re-reads its case (so applying it twice changes nothing); a
    case.escalated event adds to its grid's weekly count.  `--once` prints
    the snapshot and exits.

    --json: every event as one JSON line; --lines: one text line per event.
    Definitions (docs/streams.md): open = gf_case_open, overdue =
    gf_overdue_at (waiting to be signed for, routed or reopened, past the
    sign_reminder rule's hours: urgent_hours for urgent cases), both of
    deploy/sql/repeatable/cases.sql; --grid G = G's subtree; this week =
    since Monday 00:00 of the clock's (gf_now) week.
*/
#include "gridctl.h"
#include "gf_case.h"
#include "gf_clock.h"
#include "gf_db.h"
#include "gf_stream.h"

#define LATEST 10 /* events shown */

/*  One row per open case of the subtree: its grid, tier and when it becomes
    overdue (deploy/sql/repeatable/dashboard.sql); $2: that case only. */
static const char *SQL_CASES = "SELECT * FROM gf_watch_cases ($1, NULL)";
static const char *SQL_CASE = "SELECT * FROM gf_watch_cases ($1, $2::bigint)";
static const char *SQL_HEAD = "SELECT coalesce (max (seq), 0) AS head,"
                              "       (extract (epoch FROM gf_now ()) * 1000)::bigint AS now_ms,"
                              "       (extract (epoch FROM date_trunc ('week', gf_now ()))"
                              "        * 1000)::bigint AS week_ms"
                              "  FROM case_events";
static const char *SQL_ESCALATED = "SELECT grid, count (*) AS n FROM case_events"
                                   " WHERE type = 'case.escalated' AND seq <= $1"
                                   "   AND at >= to_timestamp ($2::bigint / 1000.0)"
                                   "   AND ($3 = '' OR gf_in_subtree (grid, $3))"
                                   " GROUP BY grid";
static const char *SQL_NOW = "SELECT (extract (epoch FROM gf_now ()) * 1000)::bigint AS now_ms,"
                             "       (extract (epoch FROM date_trunc ('week', gf_now ()))"
                             "        * 1000)::bigint AS week_ms";

typedef struct {
    char grid[72];
    bool hard;
    int64_t overdue_at; /* 0: not while open (signed for) */
} s_case_t;

typedef struct {
    char grid[72];
    int open, pending, hard, escalated, overdue;
} s_row_t;

typedef struct {
    gf_db_t *db;
    const char *grid;    /* grid prefix of the dashboard          */
    const char *prefix;  /* topic prefix of the events listed     */
    zhashx_t *cases;     /* case id (text) -> s_case_t            */
    zhashx_t *escalated; /* grid -> count (int stored in a pointer) */
    int64_t now_ms, week_ms;
    char *latest[LATEST]; /* ring of the latest event lines     */
    int nlatest;
    uint64_t seq, head;
    uint64_t events;
} s_board_t;

static void s_case_load (s_board_t *self, PGresult *res, int r)
{
    s_case_t *c = (s_case_t *)zmalloc (sizeof (s_case_t));
    snprintf (c->grid, sizeof c->grid, "%s", gf_db_get (res, r, "grid"));
    c->hard = streq (gf_db_get (res, r, "tier"), "hard");
    const char *overdue_at = gf_db_get (res, r, "overdue_at"); /* NULL: signed for */
    c->overdue_at = overdue_at && *overdue_at ? gf_db_get_ll (res, r, "overdue_at") : 0;
    zhashx_update (self->cases, gf_db_get (res, r, "id"), c);
}

/*  The snapshot; returns the log head it is consistent with, or -1. */
static int64_t s_snapshot (s_board_t *self)
{
    if (gf_db_run (self->db, "BEGIN ISOLATION LEVEL REPEATABLE READ", 0, NULL) != 0)
        return -1;
    int64_t head = -1;
    PGresult *h = gf_db_exec (self->db, SQL_HEAD, 0, NULL);
    const char *p1[] = {self->grid};
    PGresult *cases = h ? gf_db_exec (self->db, SQL_CASES, 1, p1) : NULL;
    PGresult *esc = NULL;
    if (cases) {
        const char *p2[] = {gf_db_get (h, 0, "head"), gf_db_get (h, 0, "week_ms"), self->grid};
        esc = gf_db_exec (self->db, SQL_ESCALATED, 3, p2);
    }
    if (esc) {
        head = gf_db_get_ll (h, 0, "head");
        self->now_ms = gf_db_get_ll (h, 0, "now_ms");
        self->week_ms = gf_db_get_ll (h, 0, "week_ms");
        for (int r = 0; r < PQntuples (cases); r++)
            s_case_load (self, cases, r);
        for (int r = 0; r < PQntuples (esc); r++)
            zhashx_update (self->escalated, gf_db_get (esc, r, "grid"),
                           (void *)(intptr_t)gf_db_get_ll (esc, r, "n"));
    }
    gf_db_rollback (self->db); /* read only */
    PQclear (h);
    if (cases)
        PQclear (cases);
    if (esc)
        PQclear (esc);
    return head;
}

/*  Applies an event: re-reads its case, counts escalations. */
static void s_apply (s_board_t *self, gf_msg_t *event, const char *topic)
{
    uint64_t seq = 0;
    int64_t case_id = 0;
    char *grid = NULL;
    gf_msg_get_uint (event, "seq", false, &seq, NULL);
    gf_msg_get_int (event, "case", false, &case_id, NULL);
    gf_msg_get_str (event, "grid", false, 0, &grid, NULL);
    self->seq = seq;
    self->events++;
    if (case_id > 0) {
        char id[24];
        snprintf (id, sizeof id, "%" PRId64, case_id);
        const char *params[] = {self->grid, id};
        PGresult *res = gf_db_exec (self->db, SQL_CASE, 2, params);
        if (res) {
            zhashx_delete (self->cases, id);
            if (PQntuples (res) == 1)
                s_case_load (self, res, 0);
            PQclear (res);
        }
    }
    const char *type = gf_msg_type (event);
    if (grid && streq (type, "case.escalated") && gf_msg_at (event) >= self->week_ms &&
        (!*self->grid || gf_case_grid_within (grid, self->grid))) {
        intptr_t n = (intptr_t)zhashx_lookup (self->escalated, grid);
        zhashx_update (self->escalated, grid, (void *)(n + 1));
    }
    /* The latest events are the cases' and meetings': notifications (several
       per escalation or reminder) would push them off the board. */
    if (strncmp (topic, self->prefix, strlen (self->prefix)) != 0 ||
        streq (type, "notification.created")) {
        free (grid);
        return;
    }
    char at[40];
    gf_clock_format (gf_msg_at (event), at, sizeof at);
    char *line = zsys_sprintf ("%8" PRIu64 "  %s  %-36s 案件 %" PRId64, seq, at, topic, case_id);
    free (self->latest[self->nlatest % LATEST]);
    self->latest[self->nlatest % LATEST] = line;
    self->nlatest++;
    free (grid);
}

static int s_row_cmp (const void *a, const void *b)
{
    return strcmp (((const s_row_t *)a)->grid, ((const s_row_t *)b)->grid);
}

static s_row_t *s_row (zhashx_t *rows, const char *grid)
{
    s_row_t *row = (s_row_t *)zhashx_lookup (rows, grid);
    if (!row) {
        row = (s_row_t *)zmalloc (sizeof (s_row_t));
        snprintf (row->grid, sizeof row->grid, "%s", grid);
        zhashx_insert (rows, grid, row);
    }
    return row;
}

/*  Draws the board; `ansi` redraws in place (cursor home, clear). */
static void s_draw (s_board_t *self, bool ansi, uint64_t recovered)
{
    PGresult *now = gf_db_exec (self->db, SQL_NOW, 0, NULL);
    if (now) {
        self->now_ms = gf_db_get_ll (now, 0, "now_ms");
        if (gf_db_get_ll (now, 0, "week_ms") != self->week_ms) {
            self->week_ms = gf_db_get_ll (now, 0, "week_ms");
            zhashx_purge (self->escalated); /* a new week */
        }
        PQclear (now);
    }
    zhashx_t *rows = zhashx_new ();
    zhashx_set_destructor (rows, (zhashx_destructor_fn *)zstr_free);
    for (s_case_t *c = (s_case_t *)zhashx_first (self->cases); c;
         c = (s_case_t *)zhashx_next (self->cases)) {
        s_row_t *row = s_row (rows, c->grid);
        row->open++;
        if (c->hard)
            row->hard++;
        else
            row->pending++;
        if (c->overdue_at && c->overdue_at <= self->now_ms)
            row->overdue++;
    }
    for (void *n = zhashx_first (self->escalated); n; n = zhashx_next (self->escalated))
        s_row (rows, (const char *)zhashx_cursor (self->escalated))->escalated = (int)(intptr_t)n;
    size_t count = zhashx_size (rows), i = 0;
    s_row_t *sorted = (s_row_t *)calloc (count ? count : 1, sizeof (s_row_t));
    s_row_t total = {.grid = "合计"};
    for (s_row_t *r = (s_row_t *)zhashx_first (rows); r; r = (s_row_t *)zhashx_next (rows)) {
        sorted[i++] = *r;
        total.open += r->open, total.pending += r->pending, total.hard += r->hard;
        total.escalated += r->escalated, total.overdue += r->overdue;
    }
    qsort (sorted, count, sizeof (s_row_t), s_row_cmp);
    char clock[40];
    gf_clock_format (self->now_ms, clock, sizeof clock);
    if (ansi)
        printf ("\033[H\033[2J");
    printf ("网格看板 %s  时间 %s  事件 seq %" PRIu64 "（中继 %" PRIu64 "）",
            *self->grid ? self->grid : "全部", clock, self->seq, self->head);
    if (recovered)
        printf ("  补发 %" PRIu64, recovered);
    /* Chinese text is two columns a character: the header is spaced by hand. */
    printf ("\n网格                   未办结     待办     疑难 本周升级     逾期\n");
    for (i = 0; i < count; i++)
        printf ("%-20s %8d %8d %8d %8d %8d\n", sorted[i].grid, sorted[i].open, sorted[i].pending,
                sorted[i].hard, sorted[i].escalated, sorted[i].overdue);
    printf ("%-22s %8d %8d %8d %8d %8d\n", total.grid, total.open, total.pending, total.hard,
            total.escalated, total.overdue);
    printf ("\n最新事件\n");
    int shown = self->nlatest < LATEST ? self->nlatest : LATEST;
    for (int k = 1; k <= shown; k++)
        printf ("%s\n", self->latest[(self->nlatest - k) % LATEST]);
    fflush (stdout);
    free (sorted);
    zhashx_destroy (&rows);
}

static int s_usage (void)
{
    fprintf (stderr, "usage: gridctl watch [PREFIX] [--grid G] [--once] [--since SEQ] [--json | "
                     "--lines] [--count N] [--idle MS]\n");
    return 2;
}

int gridctl_watch (gf_config_t *config, int argc, char **argv)
{
    const char *prefix = "", *grid = "";
    uint64_t since = GF_STREAM_LIVE;
    bool json = false, lines = false, once = false;
    long long count = -1, idle = -1;
    for (int i = 0; i < argc; i++) {
        char *end = NULL;
        if (streq (argv[i], "--json"))
            json = true;
        else if (streq (argv[i], "--lines"))
            lines = true;
        else if (streq (argv[i], "--once"))
            once = true;
        else if (streq (argv[i], "--grid") && i + 1 < argc)
            grid = argv[++i];
        else if (streq (argv[i], "--since") && i + 1 < argc) {
            since = strtoull (argv[++i], &end, 10);
            if (*end || !*argv[i]) {
                fprintf (stderr, "error: --since needs a sequence number\n");
                return 2;
            }
        } else if (streq (argv[i], "--count") && i + 1 < argc)
            count = strtoll (argv[++i], NULL, 10);
        else if (streq (argv[i], "--idle") && i + 1 < argc)
            idle = strtoll (argv[++i], NULL, 10);
        else if (argv[i][0] != '-')
            prefix = argv[i];
        else
            return s_usage ();
    }
    bool board = !json && !lines;
    s_board_t b = {.grid = grid, .prefix = prefix};
    if (board) {
        b.db = gf_db_new (config->db, "gridctl-watch");
        b.cases = zhashx_new ();
        zhashx_set_destructor (b.cases, (zhashx_destructor_fn *)zstr_free);
        b.escalated = zhashx_new ();
        int64_t head = gf_db_connect (b.db, 5000) == 0 ? s_snapshot (&b) : -1;
        if (head < 0) {
            fprintf (stderr, "error: cannot read the dashboard's snapshot from the database\n");
            zhashx_destroy (&b.cases);
            zhashx_destroy (&b.escalated);
            gf_db_destroy (&b.db);
            return 1;
        }
        b.seq = b.head = (uint64_t)head;
        since = (uint64_t)head; /* the snapshot's position: everything after it */
    }
    if (board && once) {
        s_draw (&b, false, 0);
        zhashx_destroy (&b.cases);
        zhashx_destroy (&b.escalated);
        gf_db_destroy (&b.db);
        return 0;
    }
    /* The board needs every event for its counts; PREFIX only selects the
       events it lists. */
    gf_stream_t *stream = gf_stream_new_secure (config->pub, config->replay, board ? "" : prefix,
                                                since, 0, 0, config->cert, config->relay_cert);
    if (!stream)
        return 1;
    long long seen = 0;
    int64_t last_event = zclock_mono (), last_draw = 0;
    bool dirty = board;
    setvbuf (stdout, NULL, _IOLBF, 0);
    while (!zsys_interrupted && (count < 0 || seen < count)) {
        if (dirty && zclock_mono () - last_draw >= 500) {
            b.head = gf_stream_head (stream) > b.head ? gf_stream_head (stream) : b.head;
            s_draw (&b, true, gf_stream_recovered (stream));
            last_draw = zclock_mono ();
            dirty = false;
        }
        char *topic = NULL;
        gf_msg_t *event = gf_stream_next (stream, 200, &topic);
        if (!event) {
            if (board && zclock_mono () - last_draw >= 5000)
                dirty = true; /* the clock moves: overdue counts change */
            if (idle >= 0 && zclock_mono () - last_event >= idle)
                break;
            continue;
        }
        last_event = zclock_mono ();
        seen++;
        if (board) {
            s_apply (&b, event, topic);
            dirty = true;
        } else if (json) {
            char *text = gf_msg_to_json (event);
            printf ("%s\n", text);
            free (text);
        } else {
            uint64_t seq = 0;
            int64_t case_id = 0;
            gf_msg_get_uint (event, "seq", false, &seq, NULL);
            gf_msg_get_int (event, "case", false, &case_id, NULL);
            char at[40];
            gf_clock_format (gf_msg_at (event), at, sizeof at);
            printf ("%8" PRIu64 "  %s  %-40s case %" PRId64 "\n", seq, at, topic, case_id);
        }
        free (topic);
        gf_msg_destroy (&event);
    }
    if (board) {
        b.head = gf_stream_head (stream) > b.head ? gf_stream_head (stream) : b.head;
        s_draw (&b, true, gf_stream_recovered (stream)); /* the final state */
        for (int k = 0; k < LATEST; k++)
            free (b.latest[k]);
        zhashx_destroy (&b.cases);
        zhashx_destroy (&b.escalated);
        gf_db_destroy (&b.db);
    }
    if (gf_stream_recovered (stream))
        fprintf (stderr, "watch: %" PRIu64 " events were recovered by replay\n",
                 gf_stream_recovered (stream));
    if (gf_stream_regressions (stream))
        fprintf (stderr, "watch: %" PRIu64 " head regressions: resynchronised from the new log\n",
                 gf_stream_regressions (stream));
    gf_stream_destroy (&stream);
    return 0;
}
