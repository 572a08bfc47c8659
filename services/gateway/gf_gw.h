/*  gf_gw — what the gateway's request handlers share (internal header).

    The gateway runs libmicrohttpd with one thread per connection (a
    server-sent-events stream holds its thread while it waits for events),
    so every handler here may run on many threads at once: the shared state
    is either immutable after start, atomic, or behind its own lock.
*/
#ifndef GF_GW_H_INCLUDED
#define GF_GW_H_INCLUDED

#include <czmq.h>
#include <jansson.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include "gf_config.h"
#include "gf_db.h"
#include "gf_hub.h"
#include "gf_proto.h"

typedef struct _gf_dbpool_t gf_dbpool_t;
typedef struct _gf_replayer_t gf_replayer_t;
typedef struct _gf_ratelimit_t gf_ratelimit_t;

typedef struct {
    gf_config_t *config;                /* borrowed from the service main             */
    gf_hub_t *hub;                      /* the event window the SSE streams read      */
    gf_dbpool_t *pool;                  /* read connections for the JSON endpoints    */
    gf_replayer_t *replayer;            /* the one relay replay connection            */
    gf_ratelimit_t *rate;               /* request token buckets per client IP        */
    char **hosts;                       /* accepted Host names (NULL-terminated)      */
    char **origins;                     /* CORS origins (NULL-terminated, may be empty) */
    char *web_dir;                      /* built dashboard files (dist/)              */
    int heartbeat_ms;                   /* SSE keep-alive comment interval            */
    int intake_timeout;                 /* ms to wait for the intake's reply          */
    atomic_uint_fast64_t requests[6];   /* answered, by status class 1xx..5xx (index 1..5) */
    atomic_long sse_clients;            /* SSE streams open now         */
    atomic_uint_fast64_t sse_streams;   /* SSE streams opened           */
    atomic_uint_fast64_t sse_events;    /* events written to SSE streams */
    atomic_uint_fast64_t sse_overflows; /* streams closed for lagging   */
    atomic_uint_fast64_t sse_replays;   /* streams that needed a relay replay */
    atomic_uint_fast64_t posts_ok;      /* Open311 POSTs stored (new)   */
    atomic_uint_fast64_t posts_dup;     /* Open311 POSTs that were duplicates */
    atomic_uint_fast64_t posts_err;     /* Open311 POSTs refused        */
    atomic_uint_fast64_t relay_head;    /* relay head as last heard     */
    atomic_uint_fast64_t refused[5];    /* refused: rate, host, body, sse_full, sse_ip */
    gf_ratelimit_t *login_rate;         /* login attempt token buckets per client IP  */
} gf_gw_t;

/*  A handler's answer: status, content type (static string) and a body the
    dispatcher frees. */
typedef struct {
    unsigned status;
    const char *type;
    char *body;
    size_t size;
    const char *allow;    /* Allow header for 405, or NULL */
    char *cookie;         /* Set-Cookie value (the dispatcher frees it), or NULL */
    int retry_after;      /* Retry-After seconds, or 0 */
    const char *location; /* Location header (a redirect), or NULL */
} gf_gw_reply_t;

/*  Sets reply to a JSON text (takes ownership of `body`). */
void gf_gw_reply_json (gf_gw_reply_t *reply, unsigned status, char *body);

/*  Runs a read-only statement on a pooled connection whose single row and
    column is a JSON text; returns a copy (caller frees), or NULL when the
    database failed (logged) or returned no row. */
char *gf_gw_query_json (gf_gw_t *gw, const char *sql, int nparams, const char *const *params);

/*  Runs a statement on a pooled connection; returns the result (caller
    PQclear's) or NULL. */
PGresult *gf_gw_query (gf_gw_t *gw, const char *sql, int nparams, const char *const *params);

/*  The pool: at most `max` connections, open or lent; a handler waits up
    to 2 s for one, then its request gets a 503. */
gf_dbpool_t *gf_dbpool_new (const char *conninfo, size_t max);
void gf_dbpool_destroy (gf_dbpool_t **self_p);

/*  Staff login and sessions (gf_auth.c): path after "/auth/"; form holds
    the POST's form fields, raw its body when it is not a form (JSON).
    Returns 0 when handled, -1 when the path is not one of them.
    gf_auth_init: libsodium, once before serving (0, or -1). */
int gf_auth_init (void);
int gf_auth_handle (gf_gw_t *gw, struct MHD_Connection *conn, const char *method, const char *path,
                    zhashx_t *form, const char *raw, gf_gw_reply_t *reply);

/*  The staff member signed in on the request (its gf_session cookie):
    {person, name, grid, role, csrf, expires_at}, caller decrefs; NULL
    without a valid session (*down: the database did not answer).  Every
    scoped read and every workbench action starts here. */
json_t *gf_auth_session (gf_gw_t *gw, struct MHD_Connection *conn, bool *down);
/*  A state-changing request carries the session's CSRF token in the header
    X-CSRF-Token (compared in constant time). */
bool gf_auth_csrf_ok (struct MHD_Connection *conn, json_t *who);
/*  A POST's Origin is this host or one of gateway/cors_origins (or absent:
    not a browser's cross-site request). */
bool gf_auth_origin_ok (gf_gw_t *gw, struct MHD_Connection *conn);
/*  The session cookie's name. */
#define GF_AUTH_COOKIE "gf_session"

/*  The signed-in person's own notices (gf_notices.c): path after
    "/notices".  Returns -1 when the path is not one of them, 0 when reply
    holds the answer, 1 when a stream was queued (its result in *served). */
int gf_notices_handle (gf_gw_t *gw, struct MHD_Connection *conn, const char *method,
                       const char *path, zhashx_t *form, const char *raw, gf_gw_reply_t *reply,
                       enum MHD_Result *served);

/*  The staff workbench's API (gf_wb.c): path after "/api/wb/", raw the
    POST's JSON body.  Returns 0 when handled, -1 when not one of its paths. */
int gf_wb_handle (gf_gw_t *gw, struct MHD_Connection *conn, const char *method, const char *path,
                  const char *raw, gf_gw_reply_t *reply);

/*  The viewer of a scoped read (issue 16, docs/gateway.md "Scoped reads"):
    the signed-in staff member (gf_auth_session, with "kind": "session"),
    else a kiosk token (header Authorization: Bearer TOKEN, or the gf_kiosk
    cookie a kiosk link set: {"kind": "kiosk", grid, kiosk (its id),
    label}), caller decrefs; NULL with neither (*down: the database did not
    answer).  A kiosk token only reads: actions take gf_auth_session. */
json_t *gf_auth_viewer (gf_gw_t *gw, struct MHD_Connection *conn, bool *down);
/*  The viewer's session or kiosk token is still valid, with the same
    subtree (a long stream checks it every gateway/sse_recheck seconds: a
    logout, an expiry or a revocation ends it).  *down: the database did
    not answer (then false, and the caller decides). */
bool gf_auth_viewer_valid (gf_gw_t *gw, json_t *viewer, bool *down);
/*  The viewer's subtree (its "grid"; borrowed). */
const char *gf_auth_scope (json_t *viewer);
/*  grid lies inside the viewer's subtree (false for a NULL grid). */
bool gf_auth_in_scope (json_t *viewer, const char *grid);
/*  A page requested with ?kiosk=TOKEN (a big screen's link): a valid token
    becomes the gf_kiosk cookie and a 303 to the same path without the
    token; else 401.  Audited (kiosk_open / kiosk_refused).  Returns 0 when
    handled, -1 when the request has no kiosk= argument. */
int gf_auth_kiosk_link (gf_gw_t *gw, struct MHD_Connection *conn, const char *url,
                        gf_gw_reply_t *reply);

/*  A login attempt from client: false when its address is over
    gateway/login_ip_rate (the same token buckets as gateway/per_ip_rate,
    a table of their own). */
bool gf_gw_login_admit (gf_gw_t *gw, const char *client);
/*  The connection's client address as text into buf. */
const char *gf_gw_client (struct MHD_Connection *conn, char *buf, size_t size);
/*  origin is one of gateway/cors_origins. */
bool gf_gw_origin_listed (gf_gw_t *gw, const char *origin);

/*  Open311 GeoReport v2 (gf_open311.c): path is what follows
    "/open311/v2/"; form holds the POST fields (NULL for GET). */
void gf_open311_handle (gf_gw_t *gw, struct MHD_Connection *conn, const char *method,
                        const char *path, zhashx_t *form, gf_gw_reply_t *reply);

/*  Dashboard and directory JSON (gf_dash.c): path after "/api/".
    Returns 0 when handled, -1 when the path is not one of them. */
int gf_dash_handle (gf_gw_t *gw, struct MHD_Connection *conn, const char *path,
                    gf_gw_reply_t *reply);

/*  Adds the headers every response carries (security headers, CORS for a
    configured Origin) to resp. */
void gf_gw_headers (gf_gw_t *gw, struct MHD_Connection *conn, struct MHD_Response *resp);

/*  Counts an SSE stream of the connection's client address: false (and
    nothing counted) when it already has gateway/sse_per_ip.  The address
    goes into client (INET6_ADDRSTRLEN + 1 bytes) for gf_gw_sse_leave. */
bool gf_gw_sse_enter (gf_gw_t *gw, struct MHD_Connection *conn, char *client);
void gf_gw_sse_leave (gf_gw_t *gw, const char *client);

/*  What every event stream of the gateway shares (gf_sse.c): /stream and
    /notices.  A slot of the client's address and one in all (streams hold
    a thread each): true when taken (client, INET6_ADDRSTRLEN + 1 bytes,
    names the address for gf_sse_slot_give), else false with the 503 queued
    into *refused. */
bool gf_sse_slot_take (gf_gw_t *gw, struct MHD_Connection *conn, char *client,
                       enum MHD_Result *refused);
void gf_sse_slot_give (gf_gw_t *gw, const char *client);

/*  The SSE frame a stream is writing, one at a time. */
typedef struct {
    char *text;         /* being written (malloc'd), or NULL */
    size_t len, off;    /* its length, the bytes already written */
    int64_t last_write; /* zclock_mono of the last write */
} gf_sse_out_t;
/*  text (malloc'd, taken) is the next frame; a rest of the last is dropped. */
void gf_sse_out_set (gf_sse_out_t *out, char *text);
/*  Up to max bytes of the frame into buf: the bytes copied (0: no frame);
 *event true when this call finished a frame that was an event ("id:"). */
size_t gf_sse_out_take (gf_sse_out_t *out, char *buf, size_t max, bool *event);
/*  Queues the 200 text/event-stream answer whose body reader() writes. */
enum MHD_Result gf_sse_respond (gf_gw_t *gw, struct MHD_Connection *conn,
                                MHD_ContentReaderCallback reader, void *cls,
                                MHD_ContentReaderFreeCallback done, size_t block);

/*  Queues a JSON error {"error": what} with status (and Retry-After when
    retry_after > 0). */
enum MHD_Result gf_gw_error (gf_gw_t *gw, struct MHD_Connection *conn, unsigned status,
                             const char *what, int retry_after);

/*  The shared relay replay (gf_replayer.c): one DEALER to the relay's
    replay socket for the whole gateway.  Streams take turns: a fetch waits
    for the connection, asks for the events in (from, to] (to - from at
    most 10000) and hands each to take() in seq order. */
gf_replayer_t *gf_replayer_new (const gf_config_t *config);
void gf_replayer_destroy (gf_replayer_t **self_p);
/*  Returns 0 when the window was delivered complete, -1 when the turn or
    the answer did not come within timeout_ms (ask again later). */
int gf_replayer_fetch (gf_replayer_t *self, uint64_t from, uint64_t to, int timeout_ms,
                       void (*take) (void *arg, gf_msg_t *event), void *arg);

/*  GET /stream (gf_sse.c): queues the SSE response, or an error reply. */
enum MHD_Result gf_sse_serve (gf_gw_t *gw, struct MHD_Connection *conn);

#endif
