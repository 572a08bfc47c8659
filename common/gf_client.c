/*  gf_client — a DEALER connection to the intake. */
#include "gf_client.h"
#include "gf_auth.h"

struct _gf_client_t {
    zsock_t *dealer;  /* connected to the intake                  */
    bool warned_mute; /* logged once that sends found no connection */
};

gf_client_t *gf_client_new (const char *endpoint)
{
    return gf_client_new_secure (endpoint, NULL, NULL);
}

gf_client_t *gf_client_new_secure (const char *endpoint, const char *cert, const char *server_cert)
{
    gf_client_t *self = (gf_client_t *)zmalloc (sizeof (gf_client_t));
    self->dealer = zsock_new (ZMQ_DEALER);
    zsock_set_sndhwm (self->dealer, 100000);
    zsock_set_rcvhwm (self->dealer, 100000);
    zsock_set_linger (self->dealer, 0);
    if (gf_auth_client_apply (self->dealer, cert, server_cert) != 0)
        gf_client_destroy (&self);
    else if (zsock_connect (self->dealer, "%s", endpoint) != 0) {
        zsys_error ("client: bad endpoint %s", endpoint);
        gf_client_destroy (&self);
    }
    return self;
}

void gf_client_destroy (gf_client_t **self_p)
{
    assert (self_p);
    gf_client_t *self = *self_p;
    if (!self)
        return;
    zsock_destroy (&self->dealer);
    free (self);
    *self_p = NULL;
}

int gf_client_send (gf_client_t *self, zframe_t *body)
{
    /* Never block: a DEALER whose only connection was refused (a CurveZMQ
       handshake the intake rejects) has nowhere to queue, and a blocking
       send would wait for ever.  The caller's timeout and resend cover it. */
    zframe_t *copy = zframe_dup (body);
    if (zframe_send (&copy, self->dealer, ZFRAME_DONTWAIT) != 0) {
        zframe_destroy (&copy);
        if (!self->warned_mute && zmq_errno () == EAGAIN)
            zsys_warning ("client: no connection to the intake accepts requests (refused "
                          "handshake? check --cert and --server-cert)");
        self->warned_mute = true;
        return -1;
    }
    return 0;
}

int gf_client_recv (gf_client_t *self, gf_reply_t *reply, int timeout_ms)
{
    zmq_pollitem_t item = {zsock_resolve (self->dealer), 0, ZMQ_POLLIN, 0};
    int rc = zmq_poll (&item, 1, timeout_ms);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return 1;
    zframe_t *body = zframe_recv (self->dealer);
    if (!body)
        return -1;
    gf_error_t err = {GF_OK, ""};
    rc = gf_reply_decode (zframe_data (body), zframe_size (body), reply, &err);
    zframe_destroy (&body);
    if (rc != 0) {
        zsys_error ("client: undecodable reply: %s: %s", gf_code_name (err.code), err.message);
        return -1;
    }
    return 0;
}

int gf_client_request (gf_client_t *self, zframe_t *body, const char *id, gf_reply_t *reply,
                       int timeout_ms, int attempts)
{
    int rc = -1;
    int backoff_ms = 250;
    for (int attempt = 0; attempt < attempts && rc != 0 && !zsys_interrupted; attempt++) {
        if (rc == 1) { /* answered `unavailable`: back off, then resend */
            zclock_sleep (backoff_ms);
            backoff_ms *= 2;
            gf_reply_reset (reply);
            rc = -1;
        }
        if (gf_client_send (self, body) != 0)
            break;
        int64_t deadline = zclock_mono () + timeout_ms;
        while (zclock_mono () < deadline) {
            int got = gf_client_recv (self, reply, (int)(deadline - zclock_mono ()));
            if (got < 0)
                break;
            if (got == 1)
                continue;
            if (reply->id && streq (reply->id, id)) {
                /* `unavailable` with attempts left: resend (rc 1) */
                rc = !reply->ok && reply->code == GF_E_UNAVAILABLE && attempt + 1 < attempts;
                break;
            }
            gf_reply_reset (reply); /* a late reply to an earlier attempt */
        }
        if (rc != 0 && zsys_interrupted)
            break;
    }
    return rc == 1 ? 0 : rc; /* interrupted after an `unavailable`: that is the answer */
}

int gf_client_submit (gf_client_t *self, const gf_complaint_t *c, gf_reply_t *reply, int timeout_ms,
                      int attempts)
{
    zframe_t *body = gf_complaint_encode (c);
    int rc = gf_client_request (self, body, c->id, reply, timeout_ms, attempts);
    zframe_destroy (&body);
    return rc;
}

zsock_t *gf_client_sock (gf_client_t *self)
{
    return self->dealer;
}
