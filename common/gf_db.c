/*  gf_db — one PostgreSQL connection with reconnect and back-off. */
#include "gf_db.h"

#include <czmq.h>
#include <string.h>

struct _gf_db_t {
    char *conninfo;       /* libpq connection string                        */
    char *app_name;       /* application_name, shows in pg_stat_activity   */
    PGconn *conn;         /* NULL or a connection (maybe CONNECTION_BAD)    */
    char *listen_channel; /* re-LISTENed after a reconnect, or NULL        */
    bool lost;            /* last failure was a lost connection            */
    char sqlstate[6];     /* SQLSTATE of the last failed statement         */
    int backoff_ms;       /* next wait between connection attempts         */
    int64_t next_try;     /* zclock_mono() before which we do not retry    */
};

static int s_try_connect (gf_db_t *self);

gf_db_t *gf_db_new (const char *conninfo, const char *app_name)
{
    assert (conninfo);
    gf_db_t *self = (gf_db_t *)zmalloc (sizeof (gf_db_t));
    self->conninfo = strdup (conninfo);
    self->app_name = strdup (app_name ? app_name : "gridflow");
    self->backoff_ms = 100;
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
    free (self);
    *self_p = NULL;
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
    const char *keys[] = {"dbname", "application_name", "options", NULL};
    const char *vals[] = {self->conninfo, self->app_name, "-c client_min_messages=warning", NULL};
    self->conn = PQconnectdbParams (keys, vals, 1);
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
        return -1;
    }
    if (self->backoff_ms > 100) /* only worth a line after failed attempts */
        zsys_info ("db: connected again (%s)", self->app_name);
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

PGresult *gf_db_exec (gf_db_t *self, const char *sql, int nparams, const char *const *params)
{
    self->sqlstate[0] = 0;
    if (s_try_connect (self) != 0)
        return NULL;
    PGresult *res = PQexecParams (self->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus (res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        self->lost = false;
        return res;
    }
    const char *state = PQresultErrorField (res, PG_DIAG_SQLSTATE);
    snprintf (self->sqlstate, sizeof self->sqlstate, "%s", state ? state : "");
    self->lost = PQstatus (self->conn) != CONNECTION_OK || strncmp (self->sqlstate, "08", 2) == 0 ||
                 strncmp (self->sqlstate, "57P", 3) == 0;
    if (self->lost)
        zsys_warning ("db: connection lost: %s", PQerrorMessage (self->conn));
    else
        zsys_error ("db: statement failed (%s): %s", self->sqlstate, PQresultErrorMessage (res));
    PQclear (res);
    return NULL;
}

int gf_db_run (gf_db_t *self, const char *sql, int nparams, const char *const *params)
{
    PGresult *res = gf_db_exec (self, sql, nparams, params);
    if (!res)
        return -1;
    PQclear (res);
    return 0;
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

bool gf_db_lost (gf_db_t *self)
{
    return self->lost;
}

const char *gf_db_sqlstate (gf_db_t *self)
{
    return self->sqlstate;
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
    if (!gf_db_conn (self))
        return -1;
    if (!PQconsumeInput (self->conn)) {
        self->lost = true;
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
