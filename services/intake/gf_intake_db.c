/*  gf_intake_db — statements with a deadline, for the intake. */
#include "gf_intake_db.h"
#include "gf_metrics.h"

#include <czmq.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

/*  Sends one cancel request and frees it.  PQcancel blocks until the
    server has read it and closed the connection: a frozen server (SIGSTOP,
    a paused VM) whose kernel still accepts connections never does. */
static void *s_cancel_thread (void *arg)
{
    PGcancel *cancel = (PGcancel *)arg;
    char why[256] = "";
    if (PQcancel (cancel, why, sizeof why) != 1)
        zsys_warning ("intake: cancel request failed: %s", why);
    PQfreeCancel (cancel);
    return NULL;
}

/*  Asks the server to cancel what the connection is running, from a
    detached thread, so that a server that does not answer cannot stop the
    intake: the caller drops the connection after GF_INTAKE_DB_GRACE_MS
    whatever became of the request. */
static void s_cancel (PGconn *conn)
{
    PGcancel *cancel = PQgetCancel (conn);
    if (!cancel)
        return;
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init (&attr);
    pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create (&thread, &attr, s_cancel_thread, cancel) != 0) {
        zsys_warning ("intake: no thread for the cancel request; dropping the connection");
        PQfreeCancel (cancel);
        shutdown (PQsocket (conn), SHUT_RDWR);
    }
    pthread_attr_destroy (&attr);
}

PGresult *gf_intake_db_exec (gf_db_t *db, const char *sql, int nparams, const char *const *params,
                             int64_t deadline, bool *late)
{
    if (gf_db_send (db, sql, nparams, params) != 0)
        return NULL;
    PGconn *conn = gf_db_conn (db);
    int64_t give_up = 0; /* after the cancel: when to drop the connection */
    while (conn && PQconsumeInput (conn) && PQisBusy (conn)) {
        int64_t now = zclock_mono ();
        if (!give_up && now >= deadline) {
            zsys_warning ("intake: statement missed its deadline by %" PRId64
                          " ms; cancelling it (%.20s)",
                          now - deadline, sql);
            *late = true;
            gf_intake_db_committed (false);
            s_cancel (conn);
            give_up = now + GF_INTAKE_DB_GRACE_MS;
            continue;
        }
        if (give_up && now >= give_up) {
            /* Not even the cancel is answered: drop the connection, so
               that gf_db_result fails at once as a lost connection. */
            zsys_warning ("intake: no answer to the cancel in %d ms; dropping the connection",
                          GF_INTAKE_DB_GRACE_MS);
            shutdown (PQsocket (conn), SHUT_RDWR);
            break;
        }
        int64_t wait = (give_up ? give_up : deadline) - now;
        struct pollfd item = {.fd = PQsocket (conn), .events = POLLIN};
        poll (&item, 1, wait > 100 ? 100 : (int)wait);
    }
    return gf_db_result (db);
}

/*  Notices during a COMMIT: a WARNING there means it was cut short
    (statement_timeout or a cancel ended its wait for a synchronous
    standby: "committed locally, but might not have been replicated"). */
static void s_commit_notice (void *arg, const PGresult *res)
{
    const char *severity = PQresultErrorField (res, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char *message = PQresultErrorField (res, PG_DIAG_MESSAGE_PRIMARY);
    zsys_warning ("intake: COMMIT: %s: %s", severity ? severity : "?", message ? message : "");
    if (severity && streq (severity, "WARNING"))
        *(bool *)arg = true;
}

int gf_intake_db_commit (gf_db_t *db, int64_t deadline, bool *late)
{
    bool missed = false, warned = false;
    PGconn *conn = gf_db_conn (db);
    PQnoticeReceiver was = conn ? PQsetNoticeReceiver (conn, s_commit_notice, &warned) : NULL;
    PGresult *res = gf_intake_db_exec (db, "COMMIT", 0, NULL, deadline, &missed);
    /* Still the same connection unless it was dropped (gf_db_conn NULL). */
    if (conn && gf_db_conn (db) == conn)
        PQsetNoticeReceiver (conn, was, NULL);
    if (res)
        PQclear (res);
    if (warned && !missed) {
        zsys_warning ("intake: a COMMIT was cut short: answering `unavailable` (a resend finds "
                      "what it stored)");
        gf_intake_db_committed (false);
    }
    if (missed || warned)
        *late = true;
    return res && !missed && !warned ? 0 : -1;
}

/*  One statement without a result that matters: 0, or -1 (late set when
    the deadline passed). */
static int s_run (gf_db_t *db, const char *sql, int64_t deadline, bool *late)
{
    PGresult *res = gf_intake_db_exec (db, sql, 0, NULL, deadline, late);
    int rc = res && !*late ? 0 : -1;
    if (res)
        PQclear (res);
    return rc;
}

int gf_intake_db_mark_found (gf_db_t *db, int64_t deadline, bool *late)
{
    return s_run (db, "SELECT pg_logical_emit_message (true, 'gridflow.durable', '')", deadline,
                  late);
}

int gf_intake_db_commit_found (gf_db_t *db, int64_t deadline, bool *late)
{
    if (gf_intake_db_mark_found (db, deadline, late) != 0)
        return -1;
    return gf_intake_db_commit (db, deadline, late);
}

int gf_intake_db_savepoint (gf_db_t *db, int64_t deadline, bool *late)
{
    return s_run (db, "SAVEPOINT gf_action", deadline, late);
}

int gf_intake_db_release (gf_db_t *db, int64_t deadline, bool *late)
{
    return s_run (db, "RELEASE SAVEPOINT gf_action", deadline, late);
}

void gf_intake_db_rollback_to (gf_db_t *db)
{
    if (gf_db_conn (db))
        gf_db_run (db, "ROLLBACK TO SAVEPOINT gf_action", 0, NULL);
}

void gf_intake_db_committed (bool in_time)
{
    static bool s_stuck = false; /* the intake's one thread calls this */
    if (s_stuck == in_time) {
        s_stuck = !in_time;
        gf_metrics_ready ("commit:gf-intake", in_time);
        if (in_time)
            zsys_info ("intake: COMMITs complete in time again");
    }
}

void gf_intake_db_failure (gf_db_t *db, bool late, gf_error_t *err)
{
    const char *state = gf_db_sqlstate (db);
    if (late)
        gf_error_set (err, GF_E_UNAVAILABLE, "storage did not answer in time, retry later");
    else if (gf_db_lost (db))
        gf_error_set (err, GF_E_UNAVAILABLE, "storage unavailable, retry later");
    else if (strncmp (state, "40", 2) == 0 || streq (state, "23505"))
        gf_error_set (err, GF_E_CONFLICT, "concurrent change (%s), retry", state);
    else if (gf_db_code (db) == GF_E_UNAVAILABLE)
        gf_error_set (err, GF_E_UNAVAILABLE, "storage unavailable (%s), retry later", state);
    else if (gf_db_code (db) == GF_E_BAD_VALUE)
        gf_error_set (err, GF_E_BAD_VALUE, "a value was refused by the database (%s)", state);
    else
        gf_error_set (err, GF_E_INTERNAL, "internal error (%s), logged", state);
}

PGresult *gf_intake_db_apply (gf_db_t *db, const char *sql, int nparams, const char *const *params,
                              int64_t deadline, gf_reply_t *reply)
{
    bool late = false;
    gf_error_t err = {GF_OK, ""};
    PGresult *res = NULL;
    if (gf_db_begin (db) != 0)
        goto unavailable;
    if (!(res = gf_intake_db_exec (db, sql, nparams, params, deadline, &late)) || late)
        goto unavailable;
    const char *code = gf_db_get (res, 0, "err");
    if (code) {
        gf_error_set (&err, gf_code_from_name (code), "%s", gf_db_get (res, 0, "message"));
        goto refuse;
    }
    if (streq (gf_db_get (res, 0, "duplicate"), "t")) {
        if (gf_intake_db_commit_found (db, deadline, &late) != 0)
            goto unavailable;
        reply->ok = true;
        reply->duplicate = true;
        return res;
    }
    reply->ok = true;
    if (gf_intake_db_commit (db, deadline, &late) != 0)
        goto unavailable;
    gf_intake_db_committed (true);
    return res;

unavailable:
    gf_intake_db_failure (db, late, &err);
refuse:
    gf_intake_db_refuse (reply, err.code, err.message);
    gf_db_rollback (db);
    if (res)
        PQclear (res);
    return NULL;
}

void gf_intake_db_refuse (gf_reply_t *reply, gf_code_t code, const char *message)
{
    reply->ok = false;
    reply->code = code;
    free (reply->message);
    reply->message = strdup (message);
}

/*  No row from a SKIP LOCKED read: locked by another transaction if the
    case exists (no error, so nothing in the server's log per attempt). */
static const char *SQL_CASE_EXISTS = "SELECT 1 FROM cases WHERE id = $1";

int gf_intake_db_case_held (gf_db_t *db, const char *id, const char *what, int64_t deadline,
                            bool *late, bool *busy, gf_error_t *err)
{
    const char *params[] = {id};
    PGresult *res = gf_intake_db_exec (db, SQL_CASE_EXISTS, 1, params, deadline, late);
    *busy = res && !*late && PQntuples (res) == 1;
    bool known = res && !*late;
    if (res)
        PQclear (res);
    if (!known)
        return gf_error_set (err, GF_E_UNAVAILABLE, "storage unavailable, retry later");
    if (*busy)
        return gf_error_set (err, GF_E_UNAVAILABLE,
                             "case %s is being changed by another transaction, retry later", id);
    return gf_error_set (err, GF_E_UNKNOWN_CASE, "no case %s%s", id, what);
}

PGresult *gf_intake_db_lock_case (gf_db_t *db, const char *sql, int nparams,
                                  const char *const *params, const char *id, int64_t deadline,
                                  bool *late, bool *busy, gf_error_t *err)
{
    PGresult *res = gf_intake_db_exec (db, sql, nparams, params, deadline, late);
    if (res && !*late && PQntuples (res) == 1)
        return res;
    bool missing = res && !*late;
    if (res)
        PQclear (res);
    if (missing)
        gf_intake_db_case_held (db, id, "", deadline, late, busy, err);
    return NULL;
}
