/*  gf_auth — CurveZMQ on the server endpoints (intake, the relay's PUB and
    replay, the notifier's app push), both sides.

    Server: gf_auth_server_new starts czmq's zauth (before any bind, as ZAP
    requires), loads the server certificate and makes the socket a CURVE
    server in ZAP domain "gridflow" with ZMQ_ZAP_ENFORCE_DOMAIN on, so a
    client whose public key is not in the certificate directory (or that
    has no key at all) never completes its handshake.  Each message then
    carries the client's public key as the "User-Id" property
    (gf_auth_user_id), which the intake maps to an identity and its rights
    (table `identities`, deploy/sql/009_security.sql).

    Plain TCP (no authentication, no encryption) only when configured
    explicitly with curve=off, and then only for loopback or local
    transports (tcp://127.0.0.1, tcp://localhost, tcp://[::1], ipc://,
    inproc://).  See docs/security.md.
*/
#ifndef GF_AUTH_H_INCLUDED
#define GF_AUTH_H_INCLUDED

#include <czmq.h>
#include "gf_config.h"

typedef struct _gf_auth_t gf_auth_t;

/*  Secures the server socket `sock` (not yet bound) that will bind
    `endpoint`, from config->curve, config->cert (the server certificate:
    FILE and FILE_secret) and config->certs (the directory of authorised
    client public certificates, reread when it changes).  Returns the
    authenticator, which must outlive the socket, or NULL after logging
    why (bad settings, plain TCP on a non-loopback endpoint).  sock NULL:
    only the authenticator; secure sockets with gf_auth_server_apply. */
gf_auth_t *gf_auth_server_new (zsock_t *sock, const gf_config_t *config, const char *endpoint);
void gf_auth_destroy (gf_auth_t **self_p);

/*  Secures one more server socket of the same process with the same
    authenticator (ZAP has one handler per process: the relay's PUB and
    replay share it).  Returns 0, or -1 after logging. */
int gf_auth_server_apply (gf_auth_t *self, zsock_t *sock, const gf_config_t *config,
                          const char *endpoint);

/*  Per-peer limits of a server socket that reads from clients:
    ZMQ_MAXMSGSIZE = config->maxmsgsize (at most cap bytes when cap > 0;
    a bigger message disconnects the peer) and ZMQ_RCVHWM =
    config->peer_hwm messages queued per peer (then ZeroMQ stops reading
    that peer). */
void gf_auth_limits (zsock_t *sock, const gf_config_t *config, int cap);

/*  A client of the relay's PUB or replay: CURVE with config->cert and the
    relay's public certificate config->relay_cert when relay_cert is set;
    plain otherwise.  Returns 0 or -1 (logged). */
int gf_auth_stream_client (zsock_t *sock, const gf_config_t *config);

/*  True when the socket is a CURVE server (every message has a User-Id). */
bool gf_auth_curve (gf_auth_t *self);

/*  The client's public key (Z85, 40 characters) of a received frame, or
    NULL on a plain socket.  Borrowed from the frame. */
const char *gf_auth_user_id (zframe_t *frame);

/*  Client side: makes `sock` (not yet connected) a CURVE client with its
    own certificate `cert` (FILE and FILE_secret) and the server's public
    certificate file `server_cert`.  Both NULL or empty: plain (the server
    refuses it unless it runs with curve=off).  Returns 0, or -1 after
    logging (unreadable certificate, only one of the two given). */
int gf_auth_client_apply (zsock_t *sock, const char *cert, const char *server_cert);

/*  True for endpoints that do not leave the host. */
bool gf_auth_is_local (const char *endpoint);

#endif
