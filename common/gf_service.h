/*  gf_service — the thin `main` every gridflow service shares.

    Reads the configuration (gf_config: file, environment, options), sets
    up the log (stderr or syslog), the /metrics and /healthz endpoint
    (gf_metrics) and the heartbeat into service_status, starts the service
    actor with the config as its argument and waits:

    - SIGTERM / SIGINT: the actor stops taking new work, finishes the unit
      of work in hand (one transaction) and returns; if it has not within
      service/drain ms (default 4000) the process exits with status 1.  A
      second SIGTERM exits at once (status 1).  Work not acknowledged is
      handed back: clients resend, consumers resume from their checkpoint.
    - SIGHUP: re-reads the config file and environment and applies the
      reloadable keys (log/verbose, service/drain).
    - The actor stopping by itself is a fatal error: exit status 1.
*/
#ifndef GF_SERVICE_H_INCLUDED
#define GF_SERVICE_H_INCLUDED

#include <czmq.h>
#include "gf_config.h"

#ifndef GF_VERSION
#define GF_VERSION "0.7.0"
#endif

int gf_service_main (const char *name, zactor_fn *actor, int argc, char **argv);

/*  False when the service's database user turned out not to be a member
    of its own role (gf-intake: gf_intake; checked once connected, by the
    heartbeat): the process is then not ready ("db-role"). */
bool gf_service_role_ok (void);

/*  For actors: true when the pipe carries $TERM (consumed) or the process
    is interrupted.  Call when the pipe is readable. */
bool gf_service_pipe_term (zsock_t *pipe);

#endif
