/*  gf_service — the thin `main` every gridflow service shares. */
#include "gf_service.h"
#include "gf_db.h"
#include "gf_metrics.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

static volatile sig_atomic_t s_terms; /* SIGTERM/SIGINT received         */
static volatile sig_atomic_t s_hup;   /* SIGHUP received, not yet handled */

/*  First SIGTERM: ask everyone to stop; second: leave now. */
static void s_on_term (int signum)
{
    (void)signum;
    zsys_interrupted = 1;
    zctx_interrupted = 1;
    if (++s_terms >= 2) {
        static const char msg[] = "second stop signal: exiting at once\n";
        ssize_t n = write (STDERR_FILENO, msg, sizeof msg - 1);
        (void)n;
        _exit (1);
    }
}

static void s_on_hup (int signum)
{
    (void)signum;
    s_hup = 1;
}

/*  Arguments of the status actor. */
typedef struct {
    const char *name;    /* service name                  */
    gf_config_t *config; /* borrowed                      */
} s_status_args_t;

static const char *SQL_STATUS =
    "INSERT INTO service_status (service, instance, host, pid, version, started_at, seen_at,"
    "                            interval_ms, ready, metrics, stopped_at)"
    " VALUES ($1, $2 || ':' || $3, $2, $3::int, $4, to_timestamp ($5::bigint), now (), $6::int,"
    "         $7::boolean, $8::jsonb, CASE WHEN $9::boolean THEN now () END)"
    " ON CONFLICT (service, instance) DO UPDATE SET seen_at = now (), ready = EXCLUDED.ready,"
    "   metrics = EXCLUDED.metrics, stopped_at = EXCLUDED.stopped_at, version = EXCLUDED.version,"
    "   interval_ms = EXCLUDED.interval_ms";

static void s_status_write (gf_db_t *db, s_status_args_t *args, const char *host, bool stopped,
                            int64_t started)
{
    char pid[16], start[24], period[16];
    snprintf (pid, sizeof pid, "%d", (int)getpid ());
    snprintf (start, sizeof start, "%" PRId64, started);
    snprintf (period, sizeof period, "%d", args->config->status_ms);
    char *metrics = gf_metrics_json ();
    const char *params[] = {args->name,
                            host,
                            pid,
                            GF_VERSION,
                            start,
                            period,
                            gf_metrics_is_ready () && !stopped ? "t" : "f",
                            metrics ? metrics : "{}",
                            stopped ? "t" : "f"};
    gf_db_run (db, SQL_STATUS, 9, params);
    free (metrics);
}

/*  Whether the database user is a member of the service's own role
    (gf-intake: gf_intake); true until checked. */
static atomic_bool s_role_ok = true;

static const char *SQL_ROLE_CHECK =
    "SELECT pg_has_role ($1, 'USAGE') AS member, current_user AS who";

/*  Once connected: is this process's database user a member of its
    service's role?  Not: not ready ("db-role"), said plainly.  The owner
    as superuser is a member of every role.  Returns true once answered
    (or when the role does not exist: nothing to check), false to try
    again at the next heartbeat (the database is not reachable). */
static bool s_role_check (gf_db_t *db, const char *name)
{
    char role[64];
    snprintf (role, sizeof role, "%s", name);
    for (char *c = role; *c; c++)
        if (*c == '-')
            *c = '_';
    const char *params[] = {role};
    PGresult *res = gf_db_exec (db, SQL_ROLE_CHECK, 1, params);
    if (!res)
        return !gf_db_lost (db);
    bool member = streq (gf_db_get (res, 0, "member"), "t");
    if (!member)
        zsys_error ("%s: connected to the database as '%s', which is not a member of %s: not ready;"
                    " connect as the service's own LOGIN user (db/conninfo, docs/security.md)",
                    name, gf_db_get (res, 0, "who"), role);
    atomic_store (&s_role_ok, member);
    gf_metrics_ready ("db-role", member);
    PQclear (res);
    return true;
}

bool gf_service_role_ok (void)
{
    return atomic_load (&s_role_ok);
}

/*  Heartbeat: upserts this instance's row in service_status every
    status_ms from its own connection (so a busy or stuck service
    connection does not hide it). */
static void s_status_actor (zsock_t *pipe, void *argp)
{
    s_status_args_t *args = (s_status_args_t *)argp;
    char *app = zsys_sprintf ("%s-status", args->name);
    gf_db_t *db = gf_db_new_unprobed (args->config->db, app);
    zstr_free (&app);
    char host[256] = "localhost";
    gethostname (host, sizeof host - 1);
    int64_t started = (int64_t)time (NULL);
    zsock_signal (pipe, 0);
    bool role_checked = false;
    while (!zsys_interrupted) {
        if (!role_checked)
            role_checked = s_role_check (db, args->name);
        s_status_write (db, args, host, false, started);
        char *command = zstr_recv_nowait (pipe);
        if (command) {
            bool term = streq (command, "$TERM");
            zstr_free (&command);
            if (term)
                break;
        }
        zsock_set_rcvtimeo (pipe, args->config->status_ms);
        command = zstr_recv (pipe);
        zsock_set_rcvtimeo (pipe, -1);
        if (command) {
            bool term = streq (command, "$TERM");
            zstr_free (&command);
            if (term)
                break;
        }
    }
    if (gf_db_conn (db)) /* a clean stop shows in `gridctl status` at once */
        s_status_write (db, args, host, true, started);
    gf_db_destroy (&db);
}

/*  Waits up to ms for the actor's end (its pipe becomes readable).
    Returns true when it ended. */
static bool s_wait_actor (zactor_t *actor, int ms)
{
    int64_t deadline = zclock_mono () + ms;
    zmq_pollitem_t item = {zsock_resolve (actor), 0, ZMQ_POLLIN, 0};
    while (true) {
        int64_t left = ms < 0 ? 200 : deadline - zclock_mono ();
        if (left <= 0)
            return false;
        int rc = zmq_poll (&item, 1, left > 200 ? 200 : (long)left);
        if (rc > 0)
            return true;
        if (ms < 0 && (zsys_interrupted || s_hup))
            return false; /* the caller handles the signal */
        if (rc < 0 && errno != EINTR)
            return false;
    }
}

int gf_service_main (const char *name, zactor_fn *actor, int argc, char **argv)
{
    /* From the first instant: a stop during start-up is a clean stop.  A
       SIGINT ignored on entry (a background job of a script: Ctrl-C is
       for the script, which then sends SIGTERM) stays ignored, or the
       two signals together would skip the drain. */
    struct sigaction term = {0}, old_int = {0};
    term.sa_handler = s_on_term;
    sigemptyset (&term.sa_mask);
    sigaction (SIGTERM, &term, NULL);
    sigaction (SIGINT, NULL, &old_int);
    bool keep_int_ignored = old_int.sa_handler == SIG_IGN;
    if (!keep_int_ignored)
        sigaction (SIGINT, &term, NULL);
    gf_config_t *config = gf_config_new (&argc, argv, NULL);
    if (!config)
        return 2;
    if (argc > 1) {
        fprintf (stderr, "error: unexpected argument '%s'\n", argv[1]);
        gf_config_destroy (&config);
        return 2;
    }
    if (config->print_config) {
        gf_config_print (config);
        gf_config_destroy (&config);
        return 0;
    }
    gf_db_configure (config);
    /* SIGHUP is for the main thread only: block it before any thread
       (libzmq's, the actors') is created, unblock it here afterwards. */
    sigset_t hup;
    sigemptyset (&hup);
    sigaddset (&hup, SIGHUP);
    pthread_sigmask (SIG_BLOCK, &hup, NULL);
    struct sigaction sa = {0};
    sa.sa_handler = s_on_hup;
    sigemptyset (&sa.sa_mask);
    sigaction (SIGHUP, &sa, NULL);

    zsys_init ();
    zsys_handler_set (s_on_term);
    if (keep_int_ignored)
        signal (SIGINT, SIG_IGN);
    zsys_set_logident (name);
    if (streq (config->log, "syslog")) {
        zsys_set_logstream (NULL);
        zsys_set_logsystem (true);
    } else
        zsys_set_logstream (stderr);
    zsys_info ("%s %s starting%s%s", name, GF_VERSION, config->file ? " with " : "",
               config->file ? config->file : "");
    if (gf_metrics_start (name, config->metrics_port) != 0) {
        gf_config_destroy (&config);
        return 1;
    }

    s_status_args_t status_args = {name, config};
    zactor_t *status = config->status_ms > 0 ? zactor_new (s_status_actor, &status_args) : NULL;
    zactor_t *service = zactor_new (actor, config);
    pthread_sigmask (SIG_UNBLOCK, &hup, NULL);
    int rc = 0;
    if (!service)
        rc = 1;
    else {
        while (true) {
            bool ended = s_wait_actor (service, -1);
            if (s_hup) {
                s_hup = 0;
                zsys_info ("%s: SIGHUP: reloading %s", name,
                           config->file ? config->file : "the environment");
                if (gf_config_reload (config) != 0)
                    zsys_error ("%s: reload refused, settings unchanged", name);
                if (!ended)
                    continue;
            }
            if (ended && !zsys_interrupted) {
                zsys_error ("%s stopped on a fatal error", name);
                rc = 1;
                break;
            }
            if (ended || zsys_interrupted)
                break;
        }
        if (zsys_interrupted) {
            int drain = atomic_load (&config->drain_ms);
            zsys_info ("%s: stop requested; finishing work in hand (up to %d ms)", name, drain);
            int64_t started = zclock_mono ();
            if (!s_wait_actor (service, drain)) {
                zsys_error ("%s: work in hand not finished within %d ms; exiting", name, drain);
                _exit (1);
            }
            zsys_info ("%s: drained in %" PRId64 " ms", name, zclock_mono () - started);
        }
        zactor_destroy (&service);
    }
    /* The heartbeat may sit in a connection attempt: do not wait on it
       past the drain. */
    if (status) { /* wakes it from its period's wait; it may be gone already */
        zsock_set_sndtimeo (status, 0);
        zstr_send (status, "$TERM");
    }
    if (status && !s_wait_actor (status, atomic_load (&config->drain_ms))) {
        zsys_error ("%s: heartbeat did not stop; exiting", name);
        _exit (rc ? rc : 1);
    }
    zactor_destroy (&status);
    gf_metrics_stop ();
    zsys_info ("%s stopped", name);
    gf_config_destroy (&config);
    return rc;
}

bool gf_service_pipe_term (zsock_t *pipe)
{
    char *command = zstr_recv (pipe);
    bool term = !command || streq (command, "$TERM");
    zstr_free (&command);
    return term || zsys_interrupted;
}
