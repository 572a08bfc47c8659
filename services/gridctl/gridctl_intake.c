/*  gridctl_intake — requests a staff command sends through the intake
    (case actions, meeting records, field logs, household changes,
    programme actions, attachments), with the operator's CurveZMQ
    certificate when configured.  A request is idempotent by its id, so it
    is resent on timeout and after a back-off on `unavailable`
    (gf_client_request). */
#include "gridctl.h"
#include "gf_client.h"
#include "gf_clock.h"

#include <unistd.h>

void gridctl_request_id (char *id, size_t size)
{
    snprintf (id, size, "gridctl-%d-%" PRId64, getpid (), zclock_usecs ());
}

int gridctl_request (gf_config_t *config, zframe_t **body_p, const char *id, gf_reply_t *reply,
                     int timeout_ms)
{
    gf_client_t *client = gf_client_new_secure (config->intake, config->cert, config->server_cert);
    int rc = client ? gf_client_request (client, *body_p, id, reply, timeout_ms, 3) : -1;
    gf_client_destroy (&client);
    zframe_destroy (body_p);
    if (rc != 0) {
        fprintf (stderr, "error: no reply from the intake at %s\n", config->intake);
        gf_reply_reset (reply);
        return 1;
    }
    return 0;
}
