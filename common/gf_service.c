/*  gf_service — the thin `main` every gridflow service shares. */
#include "gf_service.h"

int gf_service_main (const char *name, zactor_fn *actor, int argc, char **argv)
{
    gf_config_t *config = gf_config_new (&argc, argv, NULL);
    if (!config)
        return 2;
    if (argc > 1) {
        fprintf (stderr, "error: unexpected argument '%s'\n", argv[1]);
        gf_config_destroy (&config);
        return 2;
    }
    zsys_init ();
    zsys_set_logident (name);
    zsys_set_logstream (stderr);
    zsys_info ("%s starting", name);

    zactor_t *service = zactor_new (actor, config);
    int rc = 0;
    if (!service)
        rc = 1;
    else {
        zpoller_t *poller = zpoller_new (service, NULL);
        void *which = zpoller_wait (poller, -1);
        if (which == service && !zsys_interrupted) {
            zsys_error ("%s stopped on a fatal error", name);
            rc = 1;
        }
        zpoller_destroy (&poller);
        zactor_destroy (&service);
    }
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
