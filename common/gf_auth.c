/*  gf_auth — CurveZMQ on the server endpoints, both sides. */
#include "gf_auth.h"

/*  The ZAP domain of the intake; with ZMQ_ZAP_ENFORCE_DOMAIN a handshake
    fails unless the ZAP handler (zauth) allows it. */
#define GF_ZAP_DOMAIN "gridflow"

struct _gf_auth_t {
    zactor_t *zauth; /* czmq's ZAP handler; NULL when plain */
    bool curve;      /* the socket is a CURVE server        */
};

bool gf_auth_is_local (const char *endpoint)
{
    static const char *const local[] = {
        "tcp://127.0.0.1:", "tcp://localhost:", "tcp://[::1]:", "ipc://", "inproc://"};
    for (size_t i = 0; i < sizeof local / sizeof local[0]; i++)
        if (strncmp (endpoint, local[i], strlen (local[i])) == 0)
            return true;
    return false;
}

static bool s_set (const char *value)
{
    return value && *value;
}

/*  A certificate with its secret key, or NULL (logged). */
static zcert_t *s_load_secret (const char *path, const char *what)
{
    zcert_t *cert = zcert_load (path);
    if (!cert) {
        zsys_error ("auth: cannot read the %s certificate %s (and %s_secret)", what, path, path);
        return NULL;
    }
    static const byte zero[32] = {0};
    if (memcmp (zcert_secret_key (cert), zero, sizeof zero) == 0) {
        zsys_error ("auth: the %s certificate %s has no secret key (%s_secret)", what, path, path);
        zcert_destroy (&cert);
    }
    return cert;
}

/*  The plain-mode check: curve=off only on a local endpoint.  Returns 0,
    1 for curve=on, -1 (logged) when refused. */
static int s_mode (const gf_config_t *config, const char *endpoint)
{
    if (streq (config->curve, "off")) {
        if (!gf_auth_is_local (endpoint)) {
            zsys_error ("auth: curve=off (plain TCP) is allowed only on loopback or ipc, not %s",
                        endpoint);
            return -1;
        }
        zsys_warning ("auth: plain, unauthenticated endpoint %s (curve=off)", endpoint);
        return 0;
    }
    if (!streq (config->curve, "on")) {
        zsys_error ("auth: curve must be on or off, not '%s'", config->curve);
        return -1;
    }
    return 1;
}

/*  Makes sock a CURVE server in the ZAP domain, enforced. */
static int s_secure (zsock_t *sock, const gf_config_t *config, const char *endpoint)
{
    zcert_t *cert = s_load_secret (config->cert, "server");
    if (!cert)
        return -1;
    zcert_apply (cert, sock);
    zsock_set_curve_server (sock, 1);
    zsock_set_zap_domain (sock, GF_ZAP_DOMAIN);
    zsock_set_zap_enforce_domain (sock, 1);
    zsys_info ("auth: CURVE server %s on %s, clients from %s", zcert_public_txt (cert), endpoint,
               config->certs);
    zcert_destroy (&cert);
    return 0;
}

gf_auth_t *gf_auth_server_new (zsock_t *sock, const gf_config_t *config, const char *endpoint)
{
    assert (config && endpoint);
    int mode = s_mode (config, endpoint);
    if (mode < 0)
        return NULL;
    if (mode == 0)
        return (gf_auth_t *)zmalloc (sizeof (gf_auth_t));
    if (!zsys_has_curve ()) {
        zsys_error ("auth: this libzmq has no CURVE support");
        return NULL;
    }
    if (!s_set (config->cert) || !s_set (config->certs)) {
        zsys_error ("auth: curve=on needs --cert (server certificate) and --certs (directory of "
                    "client certificates); see gridctl cert and docs/security.md");
        return NULL;
    }
    if (!zsys_file_exists (config->certs)) {
        zsys_error ("auth: certificate directory %s does not exist", config->certs);
        return NULL;
    }
    zcert_t *check = s_load_secret (config->cert, "server");
    if (!check)
        return NULL;
    zcert_destroy (&check);
    gf_auth_t *self = (gf_auth_t *)zmalloc (sizeof (gf_auth_t));
    self->curve = true;
    /* ZAP handler first: a connection accepted before it exists would
       not be authenticated. */
    self->zauth = zactor_new (zauth, NULL);
    if (config->verbose) {
        zstr_sendx (self->zauth, "VERBOSE", NULL);
        zsock_wait (self->zauth);
    }
    zstr_sendx (self->zauth, "CURVE", config->certs, NULL);
    zsock_wait (self->zauth);
    if (sock && s_secure (sock, config, endpoint) != 0)
        gf_auth_destroy (&self);
    return self;
}

int gf_auth_server_apply (gf_auth_t *self, zsock_t *sock, const gf_config_t *config,
                          const char *endpoint)
{
    assert (self && sock && config && endpoint);
    int mode = s_mode (config, endpoint);
    if (mode < 0)
        return -1;
    if (mode == 0)
        return 0;
    return self->curve ? s_secure (sock, config, endpoint) : -1;
}

void gf_auth_limits (zsock_t *sock, const gf_config_t *config, int cap)
{
    int64_t size = config->maxmsgsize;
    if (cap > 0 && size > cap)
        size = cap;
    zsock_set_maxmsgsize (sock, (int)size);
    zsock_set_rcvhwm (sock, config->peer_hwm);
}

int gf_auth_stream_client (zsock_t *sock, const gf_config_t *config)
{
    if (!s_set (config->relay_cert))
        return 0;
    return gf_auth_client_apply (sock, config->cert, config->relay_cert);
}

void gf_auth_destroy (gf_auth_t **self_p)
{
    assert (self_p);
    gf_auth_t *self = *self_p;
    if (!self)
        return;
    zactor_destroy (&self->zauth);
    free (self);
    *self_p = NULL;
}

bool gf_auth_curve (gf_auth_t *self)
{
    return self && self->curve;
}

const char *gf_auth_user_id (zframe_t *frame)
{
    const char *uid = frame ? zframe_meta (frame, "User-Id") : NULL;
    return uid && *uid ? uid : NULL;
}

int gf_auth_client_apply (zsock_t *sock, const char *cert, const char *server_cert)
{
    if (!s_set (cert) && !s_set (server_cert))
        return 0;
    if (!s_set (cert) || !s_set (server_cert)) {
        zsys_error ("auth: a CURVE client needs both --cert (its own) and --server-cert");
        return -1;
    }
    zcert_t *own = s_load_secret (cert, "client");
    if (!own)
        return -1;
    zcert_t *server = zcert_load (server_cert);
    if (!server) {
        zsys_error ("auth: cannot read the server certificate %s", server_cert);
        zcert_destroy (&own);
        return -1;
    }
    zcert_apply (own, sock);
    zsock_set_curve_serverkey (sock, zcert_public_txt (server));
    zcert_destroy (&server);
    zcert_destroy (&own);
    return 0;
}
