/*  gf_escalator — the weekly and monthly rhythm (meetings opened at their
    slot with their agenda; the safety net lapsing those nobody closed in
    time, with the rule-based escalation then), and the urgent SLAs. */
#include "gf_escalator.h"
#include "gf_config.h"
#include "gf_db.h"
#include "gf_lease.h"
#include "gf_metrics.h"
#include "gf_service.h"

/*  No JIT in the escalator's session: its statements are either short (a
    tick: JIT compilation of SQL_DUE, whose row estimates are far too high,
    cost 0.46 s of a 0.85 s statement) or bound by writes (a meeting).  Run
    every tick, so that it holds after a reconnect too. */
static const char *SQL_SESSION = "SET jit = off";

/*  Each L1 grid's escalation starts at the first tick that sees it. */
static const char *SQL_START =
    "INSERT INTO escalation_state (root, since)"
    "  SELECT code, gf_now () FROM grids WHERE level = 1 ON CONFLICT DO NOTHING";

/*  Meetings due and not opened, oldest first (weekly before monthly on one
    day): deploy/sql/repeatable/meetings.sql. */
static const char *SQL_DUE = "SELECT grid, kind, slot::text AS slot FROM gf_due_meetings ()";

static const char *SQL_OPEN = "SELECT gf_open_meeting ($1, $2, $3::timestamptz) AS meeting";

/*  Open meetings past slot + close_within_hours, in the order they lapsed;
    each lapsed in its own transaction (NULL: closed by people meanwhile). */
static const char *SQL_LAPSES = "SELECT meeting, grid, kind FROM gf_due_lapses ()";
static const char *SQL_LAPSE =
    "SELECT l AS escalated, (l IS NOT NULL)::int AS lapsed FROM gf_lapse_meeting ($1::bigint) l";

static const char *SQL_URGENT = "SELECT gf_escalate_urgent (gf_now ()) AS moved";

/*  Sign-for reminders, and the reminders of cases waiting in L1 triage
    (deploy/sql/repeatable/triage.sql). */
static const char *SQL_REMIND =
    "SELECT gf_sign_reminders (gf_now ()) + gf_triage_reminders (gf_now ()) AS sent";
static const char *SQL_REFERRALS = "SELECT gf_referrals_overdue () AS sent";
/*  Missed patrols and overdue visits, L2 reminded (issue 15, patrols.sql). */
static const char *SQL_FIELD = "SELECT gf_field_reminders (gf_now ()) AS sent";

/*  Whether the clock's year has a working calendar. */
static const char *SQL_YEAR =
    "SELECT extract (year FROM gf_now () AT TIME ZONE 'Asia/Shanghai')::int AS year,"
    "       gf_calendar_has_year (extract (year FROM gf_now () AT TIME ZONE 'Asia/Shanghai')::int)"
    "       AS known";

typedef struct {
    gf_config_t *config;       /* borrowed                         */
    gf_db_t *db;               /* our connection                   */
    gf_lease_t *lease;         /* single-active: only the holder ticks */
    uint64_t meetings;         /* opened since start               */
    uint64_t lapsed;           /* lapsed by the safety net         */
    uint64_t automatic;        /* their automatic escalations      */
    uint64_t urgent;           /* urgent escalations since start   */
    uint64_t reminders;        /* reminders since start            */
    int warned_year;           /* last year warned about (no calendar) */
    uint64_t calendar_missing; /* ticks run on the weekday fallback  */
} s_escalator_t;

/*  BEGIN and the fence: every effect transaction of the escalator runs
    only while this instance holds the lease at its epoch.  A tick may take
    longer than the lease (a round of meetings), so the lease is renewed
    here too when due, between transactions.  0 or -1. */
static int s_begin (s_escalator_t *self)
{
    if (!gf_lease_hold (self->lease, self->db) || gf_db_begin (self->db))
        return -1;
    if (gf_lease_fence (self->lease, self->db) == 0)
        return 0;
    gf_db_rollback (self->db);
    return -1;
}

/*  Runs one statement in its own transaction; returns its first value as a
    number (0 when NULL, or no row), or -1. */
static long long s_once (s_escalator_t *self, const char *sql, int n, const char *const *params,
                         const char *column)
{
    if (s_begin (self))
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

/*  The safety net: lapses every meeting due, oldest first.  Returns 0 or -1. */
static int s_lapses (s_escalator_t *self)
{
    PGresult *due = gf_db_exec (self->db, SQL_LAPSES, 0, NULL);
    if (!due)
        return -1;
    int rc = 0;
    for (int r = 0; r < PQntuples (due) && rc == 0 && !zsys_interrupted; r++) {
        const char *params[] = {gf_db_get (due, r, "meeting")};
        long long lapsed = -1, escalated = 0;
        if (s_begin (self) == 0) {
            PGresult *res = gf_db_exec (self->db, SQL_LAPSE, 1, params);
            if (res) {
                lapsed = gf_db_get_ll (res, 0, "lapsed");
                escalated = gf_db_get_ll (res, 0, "escalated");
                PQclear (res);
            }
            if (!res || gf_db_commit (self->db) != 0) {
                gf_db_rollback (self->db);
                lapsed = -1;
            }
        }
        if (lapsed < 0)
            rc = -1;
        else if (lapsed > 0) {
            self->lapsed++;
            self->automatic += (uint64_t)escalated;
            char labels[32];
            snprintf (labels, sizeof labels, "kind=\"%s\"", gf_db_get (due, r, "kind"));
            gf_metrics_inc ("gf_escalator_lapsed_total", labels, 1);
            gf_metrics_inc ("gf_escalator_escalations_total", NULL, (uint64_t)escalated);
            zsys_info ("escalator: %s meeting %s of %s not closed in time: lapsed, %lld automatic "
                       "escalations",
                       gf_db_get (due, r, "kind"), params[0], gf_db_get (due, r, "grid"),
                       escalated);
        }
    }
    PQclear (due);
    return rc;
}

/*  One tick.  Returns 0, or -1 when the database failed (retry later). */
static int s_tick (s_escalator_t *self)
{
    if (gf_db_run (self->db, SQL_SESSION, 0, NULL) || s_once (self, SQL_START, 0, NULL, "") < 0)
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
    PGresult *due = gf_db_exec (self->db, SQL_DUE, 0, NULL);
    if (!due)
        return -1;
    int rc = 0;
    for (int r = 0; r < PQntuples (due) && rc == 0 && !zsys_interrupted; r++) {
        const char *params[] = {gf_db_get (due, r, "grid"), gf_db_get (due, r, "kind"),
                                gf_db_get (due, r, "slot")};
        int64_t started = zclock_mono ();
        long long meeting = s_once (self, SQL_OPEN, 3, params, "meeting");
        if (meeting < 0)
            rc = -1;
        else if (meeting > 0) {
            self->meetings++;
            char labels[32];
            snprintf (labels, sizeof labels, "kind=\"%s\"", params[1]);
            gf_metrics_inc ("gf_escalator_meetings_total", labels, 1);
            gf_metric_observe (gf_metrics_histogram ("gf_escalator_meeting_seconds", labels),
                               (zclock_mono () - started) / 1000.0);
            zsys_info ("escalator: opened %s meeting %lld of %s (slot %s) in %" PRId64 " ms",
                       params[1], meeting, params[0], params[2], zclock_mono () - started);
        }
    }
    PQclear (due);
    if (rc || (rc = s_lapses (self)) != 0)
        return rc;
    long long moved = s_once (self, SQL_URGENT, 0, NULL, "moved");
    long long sent = moved < 0 ? -1 : s_once (self, SQL_REMIND, 0, NULL, "sent");
    long long overdue = sent < 0 ? -1 : s_once (self, SQL_REFERRALS, 0, NULL, "sent");
    long long field = overdue < 0 ? -1 : s_once (self, SQL_FIELD, 0, NULL, "sent");
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
    self.lease = gf_lease_new ("escalator", self.config);
    zsock_signal (pipe, 0);
    bool listening = false;
    int backoff = 100;
    zmq_pollitem_t items[2] = {{zsock_resolve (pipe), 0, ZMQ_POLLIN, 0}, {NULL, -1, ZMQ_POLLIN, 0}};
    while (!zsys_interrupted) {
        int timeout = 1000; /* the system clock moves by itself: look every second */
        if (!listening || !gf_db_conn (self.db))
            listening = gf_db_listen (self.db, "gf_clock") == 0;
        gf_db_drain_notifies (self.db);
        /* Only the lease holder ticks; a standby only looks at the lease. */
        bool holder = gf_lease_hold (self.lease, self.db);
        if (holder && s_tick (&self) != 0) {
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
        if (timeout > gf_lease_wait (self.lease))
            timeout = gf_lease_wait (self.lease); /* renew or look in time */
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
    gf_lease_release (self.lease, self.db);
    gf_lease_destroy (&self.lease);
    gf_db_destroy (&self.db);
}
