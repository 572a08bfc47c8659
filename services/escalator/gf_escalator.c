/*  gf_escalator — the weekly and monthly rhythm (meetings opened at their
    slot with their agenda; the safety net lapsing those nobody closed in
    time, with the rule-based escalation then), and the urgent SLAs; the
    work shared among the instances by L1 root (see gf_escalator.h). */
#include "gf_escalator.h"
#include "gf_config.h"
#include "gf_db.h"
#include "gf_lease.h"
#include "gf_metrics.h"
#include "gf_service.h"
#include "gf_share.h"

/*  The L1 roots (the level-1 grids of the directory): one lease each. */
static const char *SQL_ROOTS = "SELECT code FROM grids WHERE level = 1 ORDER BY code";

/*  Each L1 grid's escalation starts at the first tick of its holder.  $1,
    here and below: the roots of this tick (a text[] literal). */
static const char *SQL_START =
    "INSERT INTO escalation_state (root, since)"
    "  SELECT code, gf_now () FROM grids WHERE level = 1 AND code = ANY ($1::text[])"
    "  ON CONFLICT DO NOTHING";

/*  Meetings due and not opened, oldest first (weekly before monthly on one
    day; deploy/sql/repeatable/meetings.sql), by L1 root, kind and slot:
    each such group is opened in one transaction under its root's lease,
    the event window read once for all its meetings (gf_open_meetings). */
static const char *SQL_DUE =
    "SELECT root, kind, slot::text AS slot, array_agg (grid ORDER BY grid)::text AS grids"
    "  FROM gf_due_meetings ($1::text[])"
    " GROUP BY root, kind, slot ORDER BY slot, kind DESC, root";

static const char *SQL_OPEN =
    "SELECT grid, meeting FROM gf_open_meetings ($1::text[], $2, $3::timestamptz)";

/*  Open meetings past slot + close_within_hours, in the order they lapsed
    (a root's together: by grid within one time), each with its agenda's
    lines; lapsed in groups by root (s_lapses), a root's meetings due at one
    time in one call, a row each in their order (escalated NULL: closed by
    people meanwhile). */
static const char *SQL_LAPSES =
    "SELECT l.meeting, l.grid, l.kind, l.root, l.due,"
    "       (SELECT count (*) FROM ledger_entries le WHERE le.meeting_id = l.meeting) AS lines"
    "  FROM gf_due_lapses ($1::text[]) l";
static const char *SQL_LAPSE = "SELECT escalated, (escalated IS NOT NULL)::int AS lapsed"
                               "  FROM gf_lapse_meetings ($1::bigint[])";

static const char *SQL_URGENT = "SELECT gf_escalate_urgent (gf_now (), $1::text[]) AS moved";

/*  Sign-for reminders, and the reminders of cases waiting in L1 triage
    (deploy/sql/repeatable/triage.sql). */
static const char *SQL_REMIND =
    "SELECT gf_sign_reminders (gf_now (), $1::text[]) + gf_triage_reminders (gf_now (), $1::text[])"
    "  AS sent";
static const char *SQL_REFERRALS = "SELECT gf_referrals_overdue ($1::text[]) AS sent";
/*  Missed patrols and overdue visits, L2 reminded (issue 15, patrols.sql). */
static const char *SQL_FIELD = "SELECT gf_field_reminders (gf_now (), $1::text[]) AS sent";

/*  Whether the clock's year has a working calendar. */
static const char *SQL_YEAR =
    "SELECT extract (year FROM gf_now () AT TIME ZONE 'Asia/Shanghai')::int AS year,"
    "       gf_calendar_has_year (extract (year FROM gf_now () AT TIME ZONE 'Asia/Shanghai')::int)"
    "       AS known";

typedef struct {
    gf_config_t *config;       /* borrowed                         */
    gf_db_t *db;               /* our connection                   */
    gf_share_t *share;         /* one lease per L1 root, shared fairly */
    bool *ticking;             /* the roots of the tick under way, in the share's order */
    char *tick_roots;          /* the same as a text[] literal ($1)    */
    char *held_log;            /* the roots held, as last logged       */
    int64_t next_roots;        /* zclock_mono ms of the next look at them */
    gf_metric_t *m_roots;      /* gf_escalator_roots_held              */
    uint64_t meetings;         /* opened since start               */
    uint64_t lapsed;           /* lapsed by the safety net         */
    uint64_t automatic;        /* their automatic escalations      */
    uint64_t urgent;           /* urgent escalations since start   */
    uint64_t reminders;        /* reminders since start            */
    int warned_year;           /* last year warned about (no calendar) */
    uint64_t calendar_missing; /* ticks run on the weekday fallback  */
} s_escalator_t;

/*  A root's lease is named by its code. */
#define ROOT_LEASE "escalator.root."

/*  Root k's code (the share's partition k). */
static const char *s_root (s_escalator_t *self, int k)
{
    return gf_share_name (self->share, k) + strlen (ROOT_LEASE);
}

/*  Looks at the directory's L1 roots (every second at most): a new one
    gets its lease (gf_share_add).  A root removed keeps its lease: it has
    no more work. */
static void s_roots (s_escalator_t *self)
{
    if (zclock_mono () < self->next_roots)
        return;
    PGresult *res = gf_db_exec (self->db, SQL_ROOTS, 0, NULL);
    if (!res)
        return;
    self->next_roots = zclock_mono () + 1000;
    for (int r = 0; r < PQntuples (res); r++) {
        const char *code = gf_db_get (res, r, "code");
        char *name = zsys_sprintf (ROOT_LEASE "%s", code);
        int n = gf_share_size (self->share);
        if (gf_share_add (self->share, name) == n) { /* a new one */
            self->ticking = (bool *)realloc (self->ticking, (size_t)(n + 1) * sizeof (bool));
            assert (self->ticking);
            self->ticking[n] = false;
        }
        zstr_free (&name);
    }
    PQclear (res);
}

/*  Snapshots the roots held for one tick (ticking, tick_roots); logs the
    set when it changed.  Returns how many. */
static int s_tick_roots (s_escalator_t *self)
{
    int n = gf_share_size (self->share), held = 0;
    size_t len = 3;
    for (int k = 0; k < n; k++)
        len += 2 * strlen (s_root (self, k)) + 3;
    free (self->tick_roots);
    self->tick_roots = (char *)zmalloc (len);
    char *out = self->tick_roots;
    *out++ = '{';
    for (int k = 0; k < n; k++) {
        self->ticking[k] = gf_share_held (self->share, k);
        if (!self->ticking[k])
            continue;
        if (held++)
            *out++ = ',';
        *out++ = '"';
        for (const char *c = s_root (self, k); *c; c++) {
            if (*c == '"' || *c == '\\')
                *out++ = '\\';
            *out++ = *c;
        }
        *out++ = '"';
    }
    *out++ = '}';
    if (!self->held_log || !streq (self->held_log, self->tick_roots)) {
        zsys_info ("escalator: working on %d of %d L1 roots: %s", held, n, self->tick_roots);
        free (self->held_log);
        self->held_log = strdup (self->tick_roots);
    }
    return held;
}

/*  Whether a transaction on root (NULL: every root of the tick) works on
    root k. */
static bool s_works_on (s_escalator_t *self, int k, const char *root)
{
    return self->ticking[k] && (!root || streq (s_root (self, k), root));
}

/*  BEGIN and the fences: every effect transaction of the escalator runs
    only while this instance holds, at its epoch, the lease of each root
    the transaction works on: root's alone (a meeting's opening or lapse;
    a root of the tick), or, root NULL, every root of the tick ($1).  A
    tick may take longer than the lease (a round of meetings), so the leases
    are renewed here too when due, between transactions.  0 or -1 (a lease
    lost meanwhile: the tick ends, the next one works on the roots still
    held). */
static int s_begin (s_escalator_t *self, const char *root)
{
    int n = gf_share_size (self->share), mine = 0;
    for (int k = 0; k < n; k++)
        if (s_works_on (self, k, root)) {
            mine++;
            if (!gf_lease_hold (gf_share_lease (self->share, k), self->db))
                return -1;
        }
    if (mine == 0 || gf_db_begin (self->db))
        return -1;
    for (int k = 0; k < n; k++)
        if (s_works_on (self, k, root) &&
            gf_lease_fence (gf_share_lease (self->share, k), self->db) != 0) {
            gf_db_rollback (self->db);
            return -1;
        }
    return 0;
}

/*  Runs one statement in its own transaction (fenced as s_begin); returns its first value as a
    number (0 when NULL, or no row), or -1. */
static long long s_once (s_escalator_t *self, const char *root, const char *sql, int n,
                         const char *const *params, const char *column)
{
    if (s_begin (self, root))
        return -1;
    PGresult *res = gf_db_exec (self->db, sql, n, params);
    long long value = !res ? -1 : PQntuples (res) ? gf_db_get_ll (res, 0, column) : 0;
    if (res)
        PQclear (res);
    if (!res || gf_db_commit (self->db) != 0) {
        gf_db_rollback (self->db);
        return -1;
    }
    return value;
}

/*  Opens row r of SQL_DUE: one root's meetings of one kind and slot, in one
    transaction fenced by the root's lease.  Returns 0 or -1. */
static int s_open_group (s_escalator_t *self, PGresult *due, int r)
{
    const char *root = gf_db_get (due, r, "root"), *kind = gf_db_get (due, r, "kind"),
               *slot = gf_db_get (due, r, "slot");
    const char *params[] = {gf_db_get (due, r, "grids"), kind, slot};
    int64_t started = zclock_mono ();
    if (s_begin (self, root))
        return -1;
    PGresult *res = gf_db_exec (self->db, SQL_OPEN, 3, params);
    if (!res || gf_db_commit (self->db) != 0) {
        if (res)
            PQclear (res);
        gf_db_rollback (self->db);
        return -1;
    }
    int64_t took = zclock_mono () - started;
    int c_meeting = PQfnumber (res, "meeting"), opened = 0;
    for (int i = 0; i < PQntuples (res); i++)
        opened += !PQgetisnull (res, i, c_meeting);
    char labels[32];
    snprintf (labels, sizeof labels, "kind=\"%s\"", kind);
    for (int i = 0; i < PQntuples (res); i++) {
        if (PQgetisnull (res, i, c_meeting))
            continue;
        self->meetings++;
        gf_metrics_inc ("gf_escalator_meetings_total", labels, 1);
        /* each meeting's share of its group's transaction */
        gf_metric_observe (gf_metrics_histogram ("gf_escalator_meeting_seconds", labels),
                           (double)took / 1000.0 / opened);
        zsys_info ("escalator: opened %s meeting %s of %s (slot %s)", kind,
                   gf_db_get (res, i, "meeting"), gf_db_get (res, i, "grid"), slot);
    }
    if (opened)
        zsys_info ("escalator: %d %s meetings of %s (slot %s) opened in %" PRId64 " ms", opened,
                   kind, root, slot, took);
    PQclear (res);
    return 0;
}

/*  Reports lapse r of SQL_LAPSES once its transaction committed: escalated
    is its number of escalations, or -1 (closed by people meanwhile). */
static void s_lapsed (s_escalator_t *self, PGresult *due, int r, long long escalated)
{
    if (escalated < 0)
        return;
    self->lapsed++;
    self->automatic += (uint64_t)escalated;
    char labels[32];
    snprintf (labels, sizeof labels, "kind=\"%s\"", gf_db_get (due, r, "kind"));
    gf_metrics_inc ("gf_escalator_lapsed_total", labels, 1);
    gf_metrics_inc ("gf_escalator_escalations_total", NULL, (uint64_t)escalated);
    zsys_info ("escalator: %s meeting %s of %s not closed in time: lapsed, %lld automatic "
               "escalations",
               gf_db_get (due, r, "kind"), gf_db_get (due, r, "meeting"),
               gf_db_get (due, r, "grid"), escalated);
}

/*  Rows r..r+n-1 of SQL_LAPSES' meeting ids as a bigint[] literal.  Caller
    frees. */
static char *s_ids (PGresult *due, int r, int n)
{
    size_t size = 3, used = 0;
    for (int i = 0; i < n; i++)
        size += strlen (gf_db_get (due, r + i, "meeting")) + 1;
    char *ids = (char *)malloc (size);
    assert (ids);
    ids[used++] = '{';
    for (int i = 0; i < n; i++)
        used += (size_t)snprintf (ids + used, size - used, "%s%s", i ? "," : "",
                                  gf_db_get (due, r + i, "meeting"));
    snprintf (ids + used, size - used, "}");
    return ids;
}

/*  The safety net: lapses every meeting due, oldest first, a root's
    meetings due at one time in one call (gf_lapse_meetings).  Consecutive
    calls for one root share a transaction (fenced by its lease) until it
    has run escalator/lapse_group ms: one COMMIT and one append to the log
    for the group (0: one transaction each).  A failure rolls the whole
    group back; the next tick lapses it again.  Returns 0 or -1. */
static int s_lapses (s_escalator_t *self)
{
    const char *roots[] = {self->tick_roots};
    PGresult *due = gf_db_exec (self->db, SQL_LAPSES, 1, roots);
    if (!due)
        return -1;
    int rows = PQntuples (due), rc = 0, r = 0;
    long long *escalated = (long long *)calloc ((size_t)rows + 1, sizeof *escalated);
    assert (escalated);
    while (r < rows && rc == 0 && !zsys_interrupted) {
        const char *root = gf_db_get (due, r, "root");
        int first = r;
        if (s_begin (self, root)) {
            rc = -1;
            break;
        }
        int64_t started = zclock_mono ();
        do {
            /* The root's meetings due at this one time: one call, up to
               escalator/lapse_lines agenda lines (a catch-up's meetings of
               thousands of lines each go one by one: their cases stay
               locked until the group commits). */
            int n = 1;
            long long lines = gf_db_get_ll (due, r, "lines");
            while (self->config->lapse_lines > 0 && r + n < rows &&
                   streq (gf_db_get (due, r + n, "root"), root) &&
                   streq (gf_db_get (due, r + n, "due"), gf_db_get (due, r, "due")) &&
                   lines + gf_db_get_ll (due, r + n, "lines") <= self->config->lapse_lines) {
                lines += gf_db_get_ll (due, r + n, "lines");
                n++;
            }
            char *ids = s_ids (due, r, n);
            const char *params[] = {ids};
            PGresult *res = gf_db_exec (self->db, SQL_LAPSE, 1, params);
            free (ids);
            if (!res || PQntuples (res) != n) {
                if (res)
                    zsys_error ("escalator: a lapse of %d meetings returned %d rows", n,
                                PQntuples (res));
                PQclear (res);
                rc = -1;
                break;
            }
            for (int i = 0; i < n; i++)
                escalated[r + i] =
                    gf_db_get_ll (res, i, "lapsed") ? gf_db_get_ll (res, i, "escalated") : -1;
            PQclear (res);
            r += n;
        } while (r < rows && !zsys_interrupted && streq (gf_db_get (due, r, "root"), root) &&
                 zclock_mono () - started < self->config->lapse_group_ms);
        if (rc || gf_db_commit (self->db) != 0) {
            gf_db_rollback (self->db);
            rc = -1;
            break;
        }
        gf_metrics_inc ("gf_escalator_lapse_groups_total", NULL, 1);
        for (int i = first; i < r; i++)
            s_lapsed (self, due, i, escalated[i]);
    }
    free (escalated);
    PQclear (due);
    return rc;
}

/*  One tick.  Returns 0, or -1 when the database failed (retry later). */
static int s_tick (s_escalator_t *self)
{
    const char *roots[] = {self->tick_roots};
    if (s_once (self, NULL, SQL_START, 1, roots, "") < 0)
        return -1;
    PGresult *year = gf_db_exec (self->db, SQL_YEAR, 0, NULL);
    if (!year)
        return -1;
    if (!streq (gf_db_get (year, 0, "known"), "t")) {
        /* Not announced yet (or not imported): loud, but keep working. */
        self->calendar_missing++;
        int y = (int)gf_db_get_ll (year, 0, "year");
        if (y != self->warned_year)
            zsys_warning ("escalator: no working calendar for %d: using Monday-Friday; "
                          "run `gridctl calendar import` when the State Council notice is out",
                          y);
        self->warned_year = y;
    }
    PQclear (year);
    PGresult *due = gf_db_exec (self->db, SQL_DUE, 1, roots);
    if (!due)
        return -1;
    int rc = 0;
    for (int r = 0; r < PQntuples (due) && rc == 0 && !zsys_interrupted; r++)
        rc = s_open_group (self, due, r);
    PQclear (due);
    if (rc || (rc = s_lapses (self)) != 0)
        return rc;
    long long moved = s_once (self, NULL, SQL_URGENT, 1, roots, "moved");
    long long sent = moved < 0 ? -1 : s_once (self, NULL, SQL_REMIND, 1, roots, "sent");
    long long overdue = sent < 0 ? -1 : s_once (self, NULL, SQL_REFERRALS, 1, roots, "sent");
    long long field = overdue < 0 ? -1 : s_once (self, NULL, SQL_FIELD, 1, roots, "sent");
    if (moved < 0 || sent < 0 || overdue < 0 || field < 0)
        return -1;
    if (field)
        zsys_info ("escalator: %lld missed patrols or overdue visits, L2 reminded", field);
    if (overdue)
        zsys_info ("escalator: %lld referrals overdue, leaders told", overdue);
    if (moved)
        zsys_info ("escalator: %lld urgent escalations", moved);
    self->urgent += moved;
    self->reminders += sent + field;
    gf_metrics_inc ("gf_escalator_escalations_total", NULL, (uint64_t)moved);
    gf_metrics_inc ("gf_escalator_reminders_total", NULL, (uint64_t)(sent + field));
    return 0;
}

void gf_escalator_actor (zsock_t *pipe, void *args)
{
    s_escalator_t self = {.config = (gf_config_t *)args};
    self.db = gf_db_new (self.config->db, "gf-escalator");
    self.share = gf_share_new ("escalator", "escalator.root.%", self.config);
    self.m_roots = gf_metrics_gauge ("gf_escalator_roots_held", NULL);
    zsock_signal (pipe, 0);
    bool listening = false;
    int backoff = 100;
    zmq_pollitem_t items[2] = {{zsock_resolve (pipe), 0, ZMQ_POLLIN, 0}, {NULL, -1, ZMQ_POLLIN, 0}};
    while (!zsys_interrupted) {
        int timeout = 1000; /* the system clock moves by itself: look every second */
        if (!listening || !gf_db_conn (self.db))
            listening = gf_db_listen (self.db, "gf_clock") == 0;
        gf_db_drain_notifies (self.db);
        /* Each instance ticks for the roots it holds; one holding none
           only looks at the leases (a standby). */
        s_roots (&self);
        int held = gf_share_balance (self.share, self.db);
        gf_metric_set (self.m_roots, held);
        if (held > 0 && s_tick_roots (&self) > 0 && s_tick (&self) != 0) {
            gf_metrics_inc ("gf_escalator_tick_failures_total", NULL, 1);
            timeout = backoff;
            backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
            listening = false;
        } else
            backoff = 100;
        /* A clock change that arrived during the tick was read by libpq
           already and will not wake the poll: go round again at once. */
        if (gf_db_drain_notifies (self.db) > 0)
            timeout = 0;
        if (timeout > gf_share_wait (self.share))
            timeout = gf_share_wait (self.share); /* renew or look in time */
        PGconn *conn = gf_db_conn (self.db);
        items[1].fd = conn ? PQsocket (conn) : -1;
        if (zmq_poll (items, items[1].fd >= 0 ? 2 : 1, timeout) < 0)
            break;
        if ((items[0].revents & ZMQ_POLLIN) && gf_service_pipe_term (pipe))
            break;
    }
    zsys_info ("escalator: opened %" PRIu64 " meetings, lapsed %" PRIu64 " (%" PRIu64
               " automatic escalations), %" PRIu64 " urgent escalations, %" PRIu64
               " reminders, %" PRIu64 " ticks without a calendar",
               self.meetings, self.lapsed, self.automatic, self.urgent, self.reminders,
               self.calendar_missing);
    gf_share_release (self.share, self.db);
    gf_share_destroy (&self.share);
    free (self.ticking);
    free (self.tick_roots);
    free (self.held_log);
    gf_db_destroy (&self.db);
}
