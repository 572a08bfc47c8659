/*  gf_intake_db — statements with a deadline, for the intake.

    statement_timeout does not cover a COMMIT that waits for a synchronous
    standby (a dead standby makes it wait for ever), nor a server that
    stops answering.  So the intake sends each statement of a transaction
    asynchronously and waits for it only until the transaction's deadline
    (intake/deadline); then it cancels it (PQcancel).  A cancelled
    statement fails with 57014 (query_canceled: gf_db_code says
    `unavailable`).  A cancelled COMMIT (by us, or by the server's own
    statement_timeout) may still have committed locally
    (PostgreSQL ends a cancelled wait for synchronous replication with a
    WARNING and the transaction committed): the caller answers
    `unavailable` all the same, and the sender's resend is answered
    `duplicate` by (source, source_ref) or (actor, id).  When the server
    does not answer the cancel either within GF_INTAKE_DB_GRACE_MS, the
    connection is dropped (the next statement reconnects).  The cancel
    request goes from a thread of its own: a frozen server (SIGSTOP, a
    paused VM) accepts its connection and never answers.

    Readiness: the condition "commit:gf-intake" (/healthz) turns false when
    a statement misses its deadline and true again when a transaction that
    wrote something commits in time (gf_intake_db_committed).
*/
#ifndef GF_INTAKE_DB_H_INCLUDED
#define GF_INTAKE_DB_H_INCLUDED

#include "gf_db.h"
#include <stdint.h>

/*  How long to wait for the answer to a cancel before dropping the
    connection. */
#define GF_INTAKE_DB_GRACE_MS 1000

/*  As gf_db_exec, waiting only until `deadline` (zclock_mono ms).  On a
    missed deadline the statement is cancelled, *late is set to true and
    the result is whatever the server answered to the cancel (NULL on
    failure, as gf_db_exec). */
PGresult *gf_intake_db_exec (gf_db_t *db, const char *sql, int nparams, const char *const *params,
                             int64_t deadline, bool *late);

/*  COMMIT until `deadline`.  Returns 0 only when it committed in time
    and whole; -1 otherwise, with *late set when the COMMIT missed the
    deadline or the server warned while committing (statement_timeout
    ended a wait for a synchronous standby): the transaction may then
    have committed locally, unreplicated. */
int gf_intake_db_commit (gf_db_t *db, int64_t deadline, bool *late);

/*  COMMIT of a transaction that found a request already applied (a
    duplicate), as durable as a write's before its answer goes out: what
    it found may be a COMMIT that reached this server's WAL but never its
    synchronous standby (the server crashed in between and came back: the
    sender was told `unavailable`), which a failover to that standby
    loses.  A transaction that wrote nothing commits without waiting for
    any standby, so this one writes one WAL record first (a transactional
    logical message, 'gridflow.durable', that no table keeps): its COMMIT
    then waits for the synchronous standby to hold the WAL up to it, and
    with it what was found.  Returns as gf_intake_db_commit. */
int gf_intake_db_commit_found (gf_db_t *db, int64_t deadline, bool *late);

/*  The durable mark of gf_intake_db_commit_found alone, without the
    COMMIT: for a request found inside a group whose one COMMIT comes
    later (gf_intake.c).  Returns 0, or -1 (late set when the deadline
    passed). */
int gf_intake_db_mark_found (gf_db_t *db, int64_t deadline, bool *late);

/*  A case action inside a group (several actions, one transaction:
    gf_intake.c, intake/action_group) has its own savepoint, so that an
    action refused or failed takes back its own changes only.  savepoint
    and release return 0, or -1 (late set when the deadline passed);
    rollback_to returns to the savepoint (when that fails too, the
    group's transaction stays in error and the group answers
    `unavailable`). */
int gf_intake_db_savepoint (gf_db_t *db, int64_t deadline, bool *late);
int gf_intake_db_release (gf_db_t *db, int64_t deadline, bool *late);
void gf_intake_db_rollback_to (gf_db_t *db);

/*  Why a request's transaction failed, as its answer (err): late (the
    deadline passed: unavailable), the connection lost or a class the
    storage answers for (unavailable), a deadlock, serialization failure
    or concurrent twin (conflict: retry), a value the database refused
    (bad_value), else internal (logged).  Nothing was written; a COMMIT
    cut by the deadline may have committed, and the resend then answers
    `duplicate`. */
void gf_intake_db_failure (gf_db_t *db, bool late, gf_error_t *err);

/*  One request applied by one SQL function in its own transaction (a
    field log, a household change, a programme action): the function
    answers a row with `err` (NULL, or an error code's name) and `message`
    and `duplicate`.  Returns that row (the caller's to PQclear) when the
    request was applied and committed in time, or was a duplicate
    (reply->duplicate set; gf_intake_db_commit_found); NULL when it was refused or
    failed, with reply filled as that error (nothing written).  reply->ok
    is set either way. */
PGresult *gf_intake_db_apply (gf_db_t *db, const char *sql, int nparams, const char *const *params,
                              int64_t deadline, gf_reply_t *reply);

/*  After a SKIP LOCKED read of case `id` (decimal) found no row: sets err
    to why and returns -1.  busy: the case exists, so another transaction
    holds it (`unavailable`: the request is set aside and tried again,
    gf_intake.c); else `unknown_case` ("no case ID" and `what`), or
    `unavailable` when the lookup itself failed. */
int gf_intake_db_case_held (gf_db_t *db, const char *id, const char *what, int64_t deadline,
                            bool *late, bool *busy, gf_error_t *err);

/*  Runs sql, a SKIP LOCKED read of case `id` (decimal) and what the
    request needs with it, until deadline.  Returns its row (the caller's
    to PQclear), or NULL: err left GF_OK when the statement failed or was
    late (the caller asks gf_intake_db_failure), else as
    gf_intake_db_case_held (busy: held by another transaction).  A
    case.action and an attachment.add take their case this way, so that a
    case held by a lapse or a meeting never holds up the intake. */
PGresult *gf_intake_db_lock_case (gf_db_t *db, const char *sql, int nparams,
                                  const char *const *params, const char *id, int64_t deadline,
                                  bool *late, bool *busy, gf_error_t *err);

/*  reply as a refusal: not ok, code and message (replacing any earlier
    message). */
void gf_intake_db_refuse (gf_reply_t *reply, gf_code_t code, const char *message);

/*  Records for /healthz whether COMMITs complete in time: false after a
    missed deadline, true after a transaction that wrote committed in
    time. */
void gf_intake_db_committed (bool in_time);

#endif
