/*  gf_client — a DEALER connection to the intake, for adapters and tools.

    Requests are pipelined: send many, then receive replies in any order and
    match them by request id.  The intake is idempotent on (source,
    source_ref), so resending a request whose reply did not come is safe.
*/
#ifndef GF_CLIENT_H_INCLUDED
#define GF_CLIENT_H_INCLUDED

#include <czmq.h>
#include "gf_proto.h"

typedef struct _gf_client_t gf_client_t;

gf_client_t *gf_client_new (const char *endpoint);

/*  As gf_client_new, as a CurveZMQ client with its own certificate `cert`
    (FILE and FILE_secret) and the intake's public certificate
    `server_cert` (see gf_auth.h); both NULL or empty: plain.  NULL when a
    certificate cannot be read (logged). */
gf_client_t *gf_client_new_secure (const char *endpoint, const char *cert, const char *server_cert);
void gf_client_destroy (gf_client_t **self_p);

/*  Sends one encoded body (a copy is sent; the frame stays the caller's).
    Never blocks.  Returns 0, or -1 when nothing could take it (e.g. the
    intake refused this client's CurveZMQ handshake; logged once). */
int gf_client_send (gf_client_t *self, zframe_t *body);

/*  Waits up to timeout_ms for one reply and decodes it into reply (which
    the caller resets).  Returns 0, 1 on timeout, -1 on interruption or an
    undecodable reply (logged). */
int gf_client_recv (gf_client_t *self, gf_reply_t *reply, int timeout_ms);

/*  Sends a request (body, not consumed; id: its request id) and waits for
    its reply, resending on timeout, or after a back-off (0.25 s, doubling)
    on an `unavailable` answer, up to `attempts` sends in all.  Resending is
    safe: every request is idempotent by its id.  Returns 0 with reply
    filled (the last answer, which may still be `unavailable`), or -1 (no
    answer). */
int gf_client_request (gf_client_t *self, zframe_t *body, const char *id, gf_reply_t *reply,
                       int timeout_ms, int attempts);

/*  gf_client_request for a complaint. */
int gf_client_submit (gf_client_t *self, const gf_complaint_t *c, gf_reply_t *reply, int timeout_ms,
                      int attempts);

/*  The socket, for callers that poll it with others. */
zsock_t *gf_client_sock (gf_client_t *self);

#endif
