/*  gf_service — the thin `main` every gridflow service shares.

    Reads the configuration, names the log, starts the service actor with
    the config as its argument and waits until SIGINT/SIGTERM or until the
    actor stops by itself (a fatal error: exit code 1).
*/
#ifndef GF_SERVICE_H_INCLUDED
#define GF_SERVICE_H_INCLUDED

#include <czmq.h>
#include "gf_config.h"

int gf_service_main (const char *name, zactor_fn *actor, int argc, char **argv);

/*  For actors: true when the pipe carries $TERM (consumed) or the process
    is interrupted.  Call when the pipe is readable. */
bool gf_service_pipe_term (zsock_t *pipe);

#endif
