/*  gf_db — one PostgreSQL connection with reconnect and back-off.

    Every statement is parameterised (PQexecParams); SQL is never built from
    strings.  A lost connection is detected on use: the failing call returns
    NULL / -1 with gf_db_lost() true, and the next call reconnects (with
    exponential back-off up to 5 s between attempts).  Each handle is a
    readiness condition "db:<app_name>" for /healthz (gf_metrics), and
    statement latency, errors and reconnects are counted there.  A transaction in
    flight when the connection dies is rolled back by the server, so callers
    simply retry their whole unit of work.

    The operator's conninfo is never overridden: gridflow's own session
    settings (client_min_messages and those of gf_db_configure)
    go first in the startup `options` and the operator's `options` (or
    PGOPTIONS) after them, so an operator's `-c role=...` or
    `-c statement_timeout=...` wins; the application name and
    connect_timeout (5 s) apply only where the operator set none.

    A statement refused for want of a privilege (SQLSTATE 42501) makes the
    process not ready (condition "db-privileges" on /healthz, and so the
    heartbeat in `gridctl status`) until that same statement succeeds, and
    is logged with the user and the statement: a grant is missing or the
    service connects as the wrong role.
*/
#ifndef GF_DB_H_INCLUDED
#define GF_DB_H_INCLUDED

#include "gf_config.h"
#include "gf_proto.h"
#include <libpq-fe.h>
#include <stdbool.h>

typedef struct _gf_db_t gf_db_t;

/*  Creates a handle and tries to connect once; never returns NULL for a
    connection failure (it will retry on use), only for bad arguments. */
gf_db_t *gf_db_new (const char *conninfo, const char *app_name);
void gf_db_destroy (gf_db_t **self_p);

/*  The process-wide session settings every connection made afterwards asks
    for, from the config: the timeouts of the db/ keys (ms; 0 leaves the
    server's or the role's setting: statement_timeout, lock_timeout,
    idle_in_transaction_session_timeout), and gridflow.sim_clock=on when
    clock/simulated is on (without it gf_now () is the system clock whatever
    sim_clock holds; off in production).  Call once at start, before any
    handle connects (gf_service_main and gridctl do). */
void gf_db_configure (const gf_config_t *config);

/*  The same, for a side connection that takes no part in readiness (the
    status heartbeat). */
gf_db_t *gf_db_new_unprobed (const char *conninfo, const char *app_name);

/*  Makes sure the connection is up, waiting up to timeout_ms (-1: forever,
    until zsys_interrupted).  Returns 0 when connected. */
int gf_db_connect (gf_db_t *self, int timeout_ms);

/*  Runs a statement with text parameters (NULL entries are SQL NULL).
    Returns the result (caller PQclear's it) when its status is
    COMMAND_OK or TUPLES_OK, else logs, clears and returns NULL.  An
    answer that takes longer than db/response_timeout (a frozen server)
    drops the connection: NULL, gf_db_lost true, code `unavailable`. */
PGresult *gf_db_exec (gf_db_t *self, const char *sql, int nparams, const char *const *params);

/*  gf_db_exec for a statement run often: prepared on this connection at
    its first use (named after its text) and run by name afterwards, so
    that the server parses it once; PostgreSQL makes a custom plan for the
    first five runs and keeps a generic one afterwards when it costs no
    more (plan_cache_mode = auto): a call of a function, whose own
    statements keep their plans, costs the same either way.  A new
    connection prepares again.  After a statement fails because a
    migration changed a prepared plan's result type (SQLSTATE 0A000),
    every statement is prepared anew at its next use; the failed call is
    reported as any other (retry the unit of work). */
PGresult *gf_db_exec_prepared (gf_db_t *self, const char *sql, int nparams,
                               const char *const *params);

/*  The same in two halves, so the caller can work while the server runs
    the statement: gf_db_send sends it (0, or -1 as a failed exec), and
    gf_db_result waits for its result (as gf_db_exec returns it).  Call
    gf_db_result once after each successful gf_db_send, before any other
    statement on this handle. */
int gf_db_send (gf_db_t *self, const char *sql, int nparams, const char *const *params);
PGresult *gf_db_result (gf_db_t *self);

/*  gf_db_send with the result in binary format: no text output on the
    server, no parsing here (the relay's replay pages).  Read bigint and
    timestamptz columns with the two getters below; text columns are their
    bytes, NUL-terminated by libpq as in text format. */
int gf_db_send_binary (gf_db_t *self, const char *sql, int nparams, const char *const *params);

/*  Between gf_db_send and gf_db_result: reads what the server has sent so
    far into libpq's buffer, without waiting.  A caller busy for long while
    a big result comes calls it now and then, so the server is not stopped
    by a full socket buffer (the relay's replay: the next page is fetched
    while the page before it goes out). */
void gf_db_consume (gf_db_t *self);
/*  A binary bigint. */
int64_t gf_db_bin_int8 (const PGresult *res, int row, int column);
/*  A binary timestamptz as milliseconds since 1970, rounded half away
    from zero as `(extract (epoch FROM at) * 1000)::bigint` rounds. */
int64_t gf_db_bin_epoch_ms (const PGresult *res, int row, int column);

/*  Runs a statement and discards its result.  Returns 0 or -1. */
int gf_db_run (gf_db_t *self, const char *sql, int nparams, const char *const *params);
/*  The same, prepared (gf_db_exec_prepared). */
int gf_db_run_prepared (gf_db_t *self, const char *sql, int nparams, const char *const *params);

/*  BEGIN / COMMIT / ROLLBACK.  Return 0 or -1.  Rollback is safe to call
    at any time (no-op outside a transaction or without a connection). */
int gf_db_begin (gf_db_t *self);
int gf_db_commit (gf_db_t *self);
void gf_db_rollback (gf_db_t *self);

/*  True if the last failure was a lost connection (retry later), false if
    it was the statement's own fault. */
bool gf_db_lost (gf_db_t *self);

/*  False while a statement refused for want of a privilege (42501) has
    not succeeded since, in any handle of the process ("db-privileges"). */
bool gf_db_privileges_ok (void);

/*  SQLSTATE of the last failed statement, "" if none.  Borrowed. */
const char *gf_db_sqlstate (gf_db_t *self);

/*  The reply code for the last failure: GF_E_UNAVAILABLE when the
    connection was lost, else gf_code_from_sqlstate (gf_db_sqlstate ()):
    unavailable (the server's condition: resend), bad_value (a value the
    database refuses) or internal (a bug).  See gf_proto.h. */
gf_code_t gf_db_code (gf_db_t *self);

/*  The raw connection (NULL when down), for PQsocket / PQnotifies. */
PGconn *gf_db_conn (gf_db_t *self);

/*  LISTEN on a channel; re-issued automatically after a reconnect. */
int gf_db_listen (gf_db_t *self, const char *channel);

/*  Consumes pending input and drops queued notifications; reconnects (with
    the back-off) when the connection is down.  Returns the number of
    notifications seen, or -1 if the connection is lost. */
int gf_db_drain_notifies (gf_db_t *self);

/*  Checks an idle connection: runs "SELECT 1" (reconnecting if needed)
    when no statement succeeded in the last idle_ms.  Keeps /healthz true
    to the database for services that may sit idle.  Returns 0 or -1. */
int gf_db_ping (gf_db_t *self, int idle_ms);

/*  Helpers for reading results: column value by name, NULL if SQL NULL. */
const char *gf_db_get (const PGresult *res, int row, const char *column);
long long gf_db_get_ll (const PGresult *res, int row, const char *column);

#endif
