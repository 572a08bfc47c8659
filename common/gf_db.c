/*  gf_db — one PostgreSQL connection with reconnect and back-off. */
#include "gf_db.h"
#include "gf_metrics.h"

#include <czmq.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <stdatomic.h>
#include <string.h>

/*  The session settings every new connection asks for (gf_db_configure). */
static int s_statement_ms, s_lock_ms, s_idle_ms;
static int s_response_ms; /* client-side wait for an answer; 0: none */
static bool s_sim_clock;

/*  Statements refused for want of a privilege (SQLSTATE 42501), by a hash
    of their text, process-wide: the readiness condition "db-privileges"
    fails while one of them has not succeeded since. */
#define S_REFUSED_MAX 64
static pthread_mutex_t s_refused_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t s_refused[S_REFUSED_MAX];
static atomic_int s_refused_count;
#define S_PRIVILEGES "db-privileges"
/*  Statements a handle keeps prepared (gf_db_exec_prepared); past this
    many, the others run unnamed, as gf_db_exec runs them. */
#define S_PREPARED_MAX 32

/*  The statements prepared on a handle's connection, by their text's hash
    (gf_db_exec_prepared; 64 bits for a few dozen texts of our own). */
typedef struct {
    uint64_t hash[S_PREPARED_MAX];
    int n;        /* how many                                            */
    unsigned gen; /* in their names: a new one after a stale plan (0A000) */
} s_prepared_t;

struct _gf_db_t {
    char *conninfo;          /* libpq connection string                        */
    char *app_name;          /* application_name, shows in pg_stat_activity   */
    PGconn *conn;            /* NULL or a connection (maybe CONNECTION_BAD)    */
    char *listen_channel;    /* re-LISTENed after a reconnect, or NULL        */
    bool lost;               /* last failure was a lost connection            */
    char sqlstate[6];        /* SQLSTATE of the last failed statement         */
    int backoff_ms;          /* next wait between connection attempts         */
    int64_t next_try;        /* zclock_mono() before which we do not retry    */
    int64_t last_ok;         /* zclock_mono() of the last successful statement */
    int64_t sent_at;         /* zclock_usecs() when gf_db_send sent one         */
    int64_t sent_mono;       /* zclock_mono() then: its response deadline's start */
    uint64_t sent_hash;      /* hash of the statement gf_db_send sent            */
    char sent_head[81];      /* its first characters, for the log               */
    bool was_up;             /* connected once: the next connect is a reconnect */
    s_prepared_t prepared;   /* on conn                                       */
    char *condition;         /* readiness condition "db:<app_name>"          */
    gf_metric_t *latency;    /* gf_db_query_seconds                          */
    gf_metric_t *lost_n;     /* gf_db_errors_total{kind="lost"}              */
    gf_metric_t *failed_n;   /* gf_db_errors_total{kind="statement"}        */
    gf_metric_t *refused_n;  /* gf_db_errors_total{kind="privilege"}        */
    gf_metric_t *reconnects; /* gf_db_reconnects_total                    */
};

/*  Marks the connection up or down for /healthz. */
static void s_set_up (gf_db_t *self, bool up)
{
    if (self->condition)
        gf_metrics_ready (self->condition, up);
}

static int s_try_connect (gf_db_t *self);

static gf_db_t *s_new (const char *conninfo, const char *app_name, bool probed);

gf_db_t *gf_db_new (const char *conninfo, const char *app_name)
{
    return s_new (conninfo, app_name, true);
}

gf_db_t *gf_db_new_unprobed (const char *conninfo, const char *app_name)
{
    return s_new (conninfo, app_name, false);
}

static gf_db_t *s_new (const char *conninfo, const char *app_name, bool probed)
{
    assert (conninfo);
    gf_db_t *self = (gf_db_t *)zmalloc (sizeof (gf_db_t));
    self->conninfo = strdup (conninfo);
    self->app_name = strdup (app_name ? app_name : "gridflow");
    self->backoff_ms = 100;
    if (probed)
        self->condition = zsys_sprintf ("db:%s", self->app_name);
    self->latency = gf_metrics_histogram ("gf_db_query_seconds", NULL);
    self->lost_n = gf_metrics_counter ("gf_db_errors_total", "kind=\"lost\"");
    self->failed_n = gf_metrics_counter ("gf_db_errors_total", "kind=\"statement\"");
    self->refused_n = gf_metrics_counter ("gf_db_errors_total", "kind=\"privilege\"");
    self->reconnects = gf_metrics_counter ("gf_db_reconnects_total", NULL);
    s_try_connect (self);
    return self;
}

void gf_db_destroy (gf_db_t **self_p)
{
    assert (self_p);
    gf_db_t *self = *self_p;
    if (!self)
        return;
    if (self->conn)
        PQfinish (self->conn);
    free (self->conninfo);
    free (self->app_name);
    free (self->listen_channel);
    zstr_free (&self->condition);
    free (self);
    *self_p = NULL;
}

void gf_db_configure (const gf_config_t *config)
{
    s_statement_ms = config->statement_timeout_ms;
    s_lock_ms = config->lock_timeout_ms;
    s_idle_ms = config->idle_in_transaction_ms;
    if (config->response_timeout_ms == 0)
        s_response_ms = s_statement_ms > 0 ? s_statement_ms + 5000 : 0;
    else
        s_response_ms = config->response_timeout_ms < 0 ? 0 : config->response_timeout_ms;
    s_sim_clock = streq (config->sim_clock, "on");
}

/*  Connects with the operator's conninfo merged with gridflow's settings,
    never overriding the operator's: connect_timeout and the application
    name only where the operator set none, and gridflow's `options` before
    the operator's (the server applies them in order: the later wins). */
static PGconn *s_connect (gf_db_t *self)
{
    char *err = NULL;
    PQconninfoOption *given = PQconninfoParse (self->conninfo, &err);
    if (!given) {
        /* Let libpq report it (PQconnectdbParams fails the same way). */
        PQfreemem (err);
        const char *keys[] = {"dbname", NULL};
        const char *vals[] = {self->conninfo, NULL};
        return PQconnectdbParams (keys, vals, 1);
    }
    size_t count = 0;
    for (PQconninfoOption *o = given; o->keyword; o++)
        count++;
    const char **keys = (const char **)zmalloc ((count + 4) * sizeof (char *));
    const char **vals = (const char **)zmalloc ((count + 4) * sizeof (char *));
    size_t n = 0;
    /* Defaults first: a value the operator gives (below) comes later and
       wins; the environment's (PGCONNECT_TIMEOUT) applies when we give none.
       Without a timeout an unreachable host blocks for the OS's TCP timeout. */
    if (!getenv ("PGCONNECT_TIMEOUT")) {
        keys[n] = "connect_timeout";
        vals[n++] = "5";
    }
    keys[n] = "fallback_application_name";
    vals[n++] = self->app_name;
    const char *operator_options = getenv ("PGOPTIONS");
    for (PQconninfoOption *o = given; o->keyword; o++) {
        if (!o->val)
            continue;
        if (streq (o->keyword, "options"))
            operator_options = o->val;
        else {
            keys[n] = o->keyword;
            vals[n++] = o->val;
        }
    }
    /* jit=off: gridflow's statements are short, but some are estimated
       far above jit_above_cost (calendar walks, set-returning functions),
       and LLVM then spends tens of milliseconds compiling a statement that
       runs in one or two (docs/performance.md, "JIT"). */
    char *options = zsys_sprintf ("-c client_min_messages=warning -c jit=off");
    const char *names[] = {"statement_timeout", "lock_timeout",
                           "idle_in_transaction_session_timeout"};
    const int values[] = {s_statement_ms, s_lock_ms, s_idle_ms};
    for (size_t i = 0; i < 3; i++) {
        if (values[i] <= 0)
            continue;
        char *longer = zsys_sprintf ("%s -c %s=%d", options, names[i], values[i]);
        zstr_free (&options);
        options = longer;
    }
    if (s_sim_clock) {
        char *longer = zsys_sprintf ("%s -c gridflow.sim_clock=on", options);
        zstr_free (&options);
        options = longer;
    }
    if (operator_options && *operator_options) {
        char *longer = zsys_sprintf ("%s %s", options, operator_options);
        zstr_free (&options);
        options = longer;
    }
    keys[n] = "options";
    vals[n++] = options;
    keys[n] = NULL;
    vals[n] = NULL;
    PGconn *conn = PQconnectdbParams (keys, vals, 0);
    zstr_free (&options);
    free (keys);
    free (vals);
    PQconninfoFree (given);
    return conn;
}

static int s_try_connect (gf_db_t *self)
{
    if (self->conn && PQstatus (self->conn) == CONNECTION_OK)
        return 0;
    if (zclock_mono () < self->next_try)
        return -1;
    if (self->conn) {
        PQfinish (self->conn);
        self->conn = NULL;
    }
    self->conn = s_connect (self);
    if (PQstatus (self->conn) != CONNECTION_OK) {
        char *msg = PQerrorMessage (self->conn);
        size_t len = strlen (msg);
        while (len && (msg[len - 1] == '\n'))
            msg[--len] = 0;
        zsys_warning ("db: connect failed (retry in %d ms): %s", self->backoff_ms, msg);
        PQfinish (self->conn);
        self->conn = NULL;
        self->next_try = zclock_mono () + self->backoff_ms;
        self->backoff_ms = self->backoff_ms * 2 > 5000 ? 5000 : self->backoff_ms * 2;
        self->lost = true;
        s_set_up (self, false);
        return -1;
    }
    if (self->was_up) {
        zsys_info ("db: connected again (%s)", self->app_name);
        gf_metric_add (self->reconnects, 1);
    }
    self->was_up = true;
    self->prepared.n = 0; /* a new session: nothing is prepared on it */
    self->last_ok = zclock_mono ();
    s_set_up (self, true);
    self->backoff_ms = 100;
    self->next_try = 0;
    self->lost = false;
    if (self->listen_channel) {
        const char *params[] = {self->listen_channel};
        /* LISTEN takes no parameters; the channel is quoted by the server. */
        PGresult *res =
            PQexecParams (self->conn, "SELECT gf_listen ($1)", 1, NULL, params, NULL, NULL, 0);
        (void)res;
        PQclear (res);
    }
    return 0;
}

int gf_db_connect (gf_db_t *self, int timeout_ms)
{
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : zclock_mono () + timeout_ms;
    while (s_try_connect (self) != 0) {
        if (zsys_interrupted || zclock_mono () >= deadline)
            return -1;
        int64_t wait = self->next_try - zclock_mono ();
        if (wait > 100)
            wait = 100;
        if (wait > 0)
            zclock_sleep ((int)wait);
    }
    return 0;
}

/*  FNV-1a of a statement's text: names it in the refused set. */
static uint64_t s_hash (const char *sql)
{
    uint64_t h = 14695981039346656037ull;
    for (const unsigned char *p = (const unsigned char *)sql; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return h;
}

/*  A statement was refused for a privilege: the process is not ready
    until it succeeds. */
static void s_refused_add (uint64_t hash)
{
    pthread_mutex_lock (&s_refused_lock);
    int count = atomic_load (&s_refused_count);
    int i = 0;
    while (i < count && s_refused[i] != hash)
        i++;
    if (i == count && count < S_REFUSED_MAX) {
        s_refused[count] = hash;
        atomic_store (&s_refused_count, count + 1);
    }
    gf_metrics_ready (S_PRIVILEGES, false);
    pthread_mutex_unlock (&s_refused_lock);
}

/*  A statement succeeded: if it had been refused, it no longer counts. */
static void s_refused_clear (uint64_t hash)
{
    if (atomic_load (&s_refused_count) == 0)
        return;
    pthread_mutex_lock (&s_refused_lock);
    int count = atomic_load (&s_refused_count);
    for (int i = 0; i < count; i++)
        if (s_refused[i] == hash) {
            s_refused[i] = s_refused[--count];
            atomic_store (&s_refused_count, count);
            if (count == 0) {
                gf_metrics_ready (S_PRIVILEGES, true);
                zsys_info ("db: every statement refused before now succeeds; ready again");
            }
            break;
        }
    pthread_mutex_unlock (&s_refused_lock);
}

/*  Keeps a successful result; else records the failure (and drops a lost
    connection), clears the result and returns NULL.  hash and head name
    the statement. */
static PGresult *s_result (gf_db_t *self, PGresult *res, uint64_t hash, const char *head)
{
    ExecStatusType st = PQresultStatus (res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        self->lost = false;
        self->last_ok = zclock_mono ();
        s_refused_clear (hash);
        return res;
    }
    const char *state = PQresultErrorField (res, PG_DIAG_SQLSTATE);
    snprintf (self->sqlstate, sizeof self->sqlstate, "%s", state ? state : "");
    self->lost = PQstatus (self->conn) != CONNECTION_OK || strncmp (self->sqlstate, "08", 2) == 0 ||
                 strncmp (self->sqlstate, "57P", 3) == 0;
    if (self->lost) {
        zsys_warning ("db: connection lost (%s): %s", self->app_name, PQerrorMessage (self->conn));
        gf_metric_add (self->lost_n, 1);
        s_set_up (self, false);
        /* Drop it now: the next call reconnects with back-off. */
        PQfinish (self->conn);
        self->conn = NULL;
    } else if (streq (self->sqlstate, "42501")) {
        /* Not the statement's fault nor a passing one: the grants or the
           role in db/conninfo are wrong.  Said plainly, and not ready. */
        const char *msg = PQresultErrorField (res, PG_DIAG_MESSAGE_PRIMARY);
        zsys_error ("db: permission denied (SQLSTATE 42501) for %s connected as user '%s': %s;"
                    " statement: %.80s; not ready until it succeeds: connect as the service's"
                    " own role (db/conninfo) or grant it (deploy/sql/repeatable/grants.sql)",
                    self->app_name, PQuser (self->conn), msg ? msg : "", head);
        gf_metric_add (self->refused_n, 1);
        s_refused_add (hash);
    } else {
        gf_metric_add (self->failed_n, 1);
        /* The primary message only: the DETAIL of a constraint violation
           quotes the failing row (a resident's name, phone, description),
           and logs carry no personal data (docs/security.md). */
        const char *primary = PQresultErrorField (res, PG_DIAG_MESSAGE_PRIMARY);
        zsys_error ("db: statement failed (%s): %s", self->sqlstate, primary ? primary : "");
    }
    PQclear (res);
    return NULL;
}

/*  Waits up to db/response_timeout for the answer to what was sent.  A
    server that says nothing that long (frozen: SIGSTOP, a paused VM; its
    kernel still acknowledges our packets and keepalives, so TCP never
    notices) is taken as dead: the connection is shut down, so that reading
    the result fails at once as a lost connection and the next call
    reconnects (with a multi-host conninfo, to whichever node now accepts
    writes).  The outcome of a COMMIT cut this way is unknown: callers
    answer `unavailable`, and a resend is found as a duplicate if it had
    committed. */
static void s_await (gf_db_t *self, int64_t sent_mono)
{
    if (s_response_ms <= 0 || !self->conn)
        return;
    int64_t deadline = sent_mono + s_response_ms;
    while (PQconsumeInput (self->conn) && PQisBusy (self->conn)) {
        int64_t left = deadline - zclock_mono ();
        if (left <= 0) {
            zsys_warning ("db: no answer from the server in %d ms (%s); dropping the connection",
                          s_response_ms, self->app_name);
            shutdown (PQsocket (self->conn), SHUT_RDWR);
            return;
        }
        struct pollfd item = {.fd = PQsocket (self->conn), .events = POLLIN};
        poll (&item, 1, left > 1000 ? 1000 : (int)left);
    }
}

/*  The result of what was sent (the last one, as PQexecParams keeps it),
    waiting no longer than db/response_timeout. */
static PGresult *s_last_result (gf_db_t *self)
{
    s_await (self, zclock_mono ());
    PGresult *res = NULL, *next;
    while ((next = PQgetResult (self->conn)) != NULL) {
        PQclear (res);
        res = next;
    }
    return res ? res : PQmakeEmptyPGresult (self->conn, PGRES_FATAL_ERROR);
}

/*  Makes sure sql is prepared on this connection and writes its name.
    Returns 0 (prepared), 1 (the handle's table is full: run it unnamed)
    or -1 (the Parse failed, recorded as a failed statement). */
static int s_prepare (gf_db_t *self, const char *sql, uint64_t hash, int nparams, char *name,
                      size_t size)
{
    s_prepared_t *p = &self->prepared;
    snprintf (name, size, "gf_%016" PRIx64 "_%u", hash, p->gen);
    for (int i = 0; i < p->n; i++)
        if (p->hash[i] == hash)
            return 0;
    if (p->n == S_PREPARED_MAX)
        return 1;
    PGresult *res = PQsendPrepare (self->conn, name, sql, nparams, NULL) == 1
                        ? s_last_result (self)
                        : PQmakeEmptyPGresult (self->conn, PGRES_FATAL_ERROR);
    res = s_result (self, res, hash, sql);
    if (!res)
        return -1;
    PQclear (res);
    p->hash[p->n++] = hash;
    return 0;
}

/*  Sends sql, by name when prepare is true (preparing it first if this
    connection has not).  Returns 1 when sent, else 0 with the failure
    recorded (s_result) or the connection down. */
static int s_dispatch (gf_db_t *self, const char *sql, uint64_t hash, int nparams,
                       const char *const *params, int result_format, bool prepare)
{
    char name[48];
    int named = prepare ? s_prepare (self, sql, hash, nparams, name, sizeof name) : 1;
    if (named < 0)
        return 0;
    int sent =
        named == 0
            ? PQsendQueryPrepared (self->conn, name, nparams, params, NULL, NULL, result_format)
            : PQsendQueryParams (self->conn, sql, nparams, NULL, params, NULL, NULL, result_format);
    if (sent != 1)
        PQclear (s_result (self, PQmakeEmptyPGresult (self->conn, PGRES_FATAL_ERROR), hash, sql));
    return sent == 1;
}

/*  After a failed statement: a prepared plan whose result type changed
    under it (a migration replaced a function: SQLSTATE 0A000, "cached
    plan must not change result type") fails at every execution, so every
    statement is prepared again, under new names, at its next use. */
static void s_check_stale (gf_db_t *self, bool prepared)
{
    if (prepared && streq (self->sqlstate, "0A000")) {
        self->prepared.n = 0;
        self->prepared.gen++;
    }
}

static PGresult *s_exec (gf_db_t *self, const char *sql, int nparams, const char *const *params,
                         bool prepare)
{
    self->sqlstate[0] = 0;
    if (s_try_connect (self) != 0)
        return NULL;
    uint64_t hash = s_hash (sql);
    int64_t started = zclock_usecs ();
    if (!s_dispatch (self, sql, hash, nparams, params, 0, prepare))
        return NULL;
    PGresult *res = s_last_result (self);
    gf_metric_observe (self->latency, (zclock_usecs () - started) / 1e6);
    res = s_result (self, res, hash, sql);
    if (!res)
        s_check_stale (self, prepare);
    return res;
}

PGresult *gf_db_exec (gf_db_t *self, const char *sql, int nparams, const char *const *params)
{
    return s_exec (self, sql, nparams, params, false);
}

PGresult *gf_db_exec_prepared (gf_db_t *self, const char *sql, int nparams,
                               const char *const *params)
{
    return s_exec (self, sql, nparams, params, true);
}

static int s_send (gf_db_t *self, const char *sql, int nparams, const char *const *params,
                   int result_format)
{
    self->sqlstate[0] = 0;
    if (s_try_connect (self) != 0)
        return -1;
    self->sent_hash = s_hash (sql);
    snprintf (self->sent_head, sizeof self->sent_head, "%s", sql);
    if (!s_dispatch (self, sql, self->sent_hash, nparams, params, result_format, false))
        return -1; /* nothing was sent: reported like exec's */
    self->sent_at = zclock_usecs ();
    self->sent_mono = zclock_mono ();
    return 0;
}

int gf_db_send (gf_db_t *self, const char *sql, int nparams, const char *const *params)
{
    return s_send (self, sql, nparams, params, 0);
}

int gf_db_send_binary (gf_db_t *self, const char *sql, int nparams, const char *const *params)
{
    return s_send (self, sql, nparams, params, 1);
}

int64_t gf_db_bin_int8 (const PGresult *res, int row, int column)
{
    const unsigned char *p = (const unsigned char *)PQgetvalue (res, row, column);
    if (PQgetlength (res, row, column) != 8)
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return (int64_t)v;
}

/*  timestamptz on the wire: microseconds since 2000-01-01 00:00 UTC. */
#define S_PG_EPOCH_US INT64_C (946684800000000)

int64_t gf_db_bin_epoch_ms (const PGresult *res, int row, int column)
{
    int64_t us = gf_db_bin_int8 (res, row, column) + S_PG_EPOCH_US;
    return us >= 0 ? (us + 500) / 1000 : -((-us + 500) / 1000);
}

void gf_db_consume (gf_db_t *self)
{
    /* A failure shows in gf_db_result, as if this had not been called. */
    if (self->conn)
        PQconsumeInput (self->conn);
}

PGresult *gf_db_result (gf_db_t *self)
{
    if (!self->conn)
        return NULL;
    s_await (self, self->sent_mono);
    PGresult *res = PQgetResult (self->conn);
    gf_metric_observe (self->latency, (zclock_usecs () - self->sent_at) / 1e6);
    /* Read to the end of the statement, so the connection is free again. */
    PGresult *extra;
    while (self->conn && (extra = PQgetResult (self->conn)) != NULL)
        PQclear (extra);
    if (!res)
        res = PQmakeEmptyPGresult (self->conn, PGRES_FATAL_ERROR);
    return s_result (self, res, self->sent_hash, self->sent_head);
}

/*  0 for a result (cleared), -1 for none. */
static int s_ran (PGresult *res)
{
    if (!res)
        return -1;
    PQclear (res);
    return 0;
}

int gf_db_run (gf_db_t *self, const char *sql, int nparams, const char *const *params)
{
    return s_ran (gf_db_exec (self, sql, nparams, params));
}

int gf_db_run_prepared (gf_db_t *self, const char *sql, int nparams, const char *const *params)
{
    return s_ran (gf_db_exec_prepared (self, sql, nparams, params));
}

int gf_db_begin (gf_db_t *self)
{
    return gf_db_run (self, "BEGIN", 0, NULL);
}

int gf_db_commit (gf_db_t *self)
{
    return gf_db_run (self, "COMMIT", 0, NULL);
}

void gf_db_rollback (gf_db_t *self)
{
    if (self->conn && PQstatus (self->conn) == CONNECTION_OK &&
        PQtransactionStatus (self->conn) != PQTRANS_IDLE) {
        PGresult *res = PQexec (self->conn, "ROLLBACK");
        PQclear (res);
    }
}

bool gf_db_privileges_ok (void)
{
    return atomic_load (&s_refused_count) == 0;
}

bool gf_db_lost (gf_db_t *self)
{
    return self->lost;
}

const char *gf_db_sqlstate (gf_db_t *self)
{
    return self->sqlstate;
}

gf_code_t gf_db_code (gf_db_t *self)
{
    return self->lost ? GF_E_UNAVAILABLE : gf_code_from_sqlstate (self->sqlstate);
}

PGconn *gf_db_conn (gf_db_t *self)
{
    if (self->conn && PQstatus (self->conn) == CONNECTION_OK)
        return self->conn;
    return NULL;
}

int gf_db_listen (gf_db_t *self, const char *channel)
{
    free (self->listen_channel);
    self->listen_channel = strdup (channel);
    const char *params[] = {channel};
    return gf_db_run (self, "SELECT gf_listen ($1)", 1, params);
}

int gf_db_drain_notifies (gf_db_t *self)
{
    /* A loop that only listens must reconnect here too (with the back-off),
       or a connection lost while idle stays lost and /healthz says so. */
    if (!gf_db_conn (self) && s_try_connect (self) != 0)
        return -1;
    if (!PQconsumeInput (self->conn)) {
        self->lost = true;
        s_set_up (self, false);
        PQfinish (self->conn);
        self->conn = NULL;
        return -1;
    }
    int count = 0;
    PGnotify *n;
    while ((n = PQnotifies (self->conn))) {
        count++;
        PQfreemem (n);
    }
    return count;
}

const char *gf_db_get (const PGresult *res, int row, const char *column)
{
    int col = PQfnumber (res, column);
    assert (col >= 0); /* a typo in our own SQL */
    if (PQgetisnull (res, row, col))
        return NULL;
    return PQgetvalue (res, row, col);
}

long long gf_db_get_ll (const PGresult *res, int row, const char *column)
{
    const char *v = gf_db_get (res, row, column);
    return v ? strtoll (v, NULL, 10) : 0;
}

int gf_db_ping (gf_db_t *self, int idle_ms)
{
    if (gf_db_conn (self) && zclock_mono () - self->last_ok < idle_ms)
        return 0;
    return gf_db_run (self, "SELECT 1", 0, NULL);
}
