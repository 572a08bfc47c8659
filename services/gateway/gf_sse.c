/*  gf_sse — GET /stream: server-sent events for browsers.

    Each event is written as
        id: <relay seq>
        event: <type>
        data: <the event as JSON, as published: personal data already masked>
    so a browser's EventSource sends the last id back as Last-Event-ID when
    it reconnects.  A stream starts after Last-Event-ID (header) or ?since=
    (the header wins), else live.  It is served from the hub when the hub
    still holds what it needs, else from a replay by the relay (a private
    gf_stream) until it has caught up with the hub, then from the hub.

    A stream whose client reads so slowly that the hub drops events it has
    not sent yet is closed; the client resumes with Last-Event-ID (through
    a replay).  Filters: grid=PREFIX (the grid or its subtree) and
    types=a,b,c (exact types, or "case.*" for a prefix).
*/
#define _GNU_SOURCE /* asprintf, strndup */
#include "gf_gw.h"
#include "gf_gwargs.h"
#include "gf_stream.h"

#include <sys/socket.h>

#define S_SNDBUF (32 * 1024) /* socket send buffer of a stream (the kernel doubles it) */

typedef struct {
    gf_gw_t *gw;          /* the gateway                                   */
    uint64_t cursor;      /* seq of the last event looked at               */
    gf_gwargs_sse_t args; /* resume point and filters                      */
    gf_stream_t *replay;  /* private relay stream while behind the hub     */
    char *pending;        /* SSE text being written                        */
    size_t pending_len;   /* its length                                    */
    size_t pending_off;   /* bytes of it already written                   */
    int64_t last_write;   /* zclock_mono of the last write                 */
} s_sse_t;

static bool s_match (s_sse_t *self, const char *type, const char *grid)
{
    return gf_gwargs_sse_match (&self->args, type, grid);
}

static void s_set_pending (s_sse_t *self, char *text)
{
    free (self->pending);
    self->pending = text;
    self->pending_len = strlen (text);
    self->pending_off = 0;
}

//  The SSE frame of one event from a private replay stream, formatted as
//  the gateway actor formats the hub's (the two must agree byte for byte).
static void s_take_event (s_sse_t *self, gf_msg_t *event)
{
    uint64_t seq = 0;
    char *grid = NULL;
    gf_msg_get_uint (event, "seq", false, &seq, NULL);
    gf_msg_get_str (event, "grid", false, 0, &grid, NULL);
    if (seq > self->cursor) {
        self->cursor = seq;
        if (s_match (self, gf_msg_type (event), grid)) {
            char *json = gf_msg_to_json (event);
            char *text = NULL;
            if (asprintf (&text, "id: %" PRIu64 "\nevent: %s\ndata: %s\n\n", seq,
                          gf_msg_type (event), json ? json : "{}") >= 0)
                s_set_pending (self, text);
            free (json);
        }
    }
    free (grid);
}

static ssize_t s_read (void *cls, uint64_t pos, char *buf, size_t max)
{
    s_sse_t *self = cls;
    gf_gw_t *gw = self->gw;
    while (true) {
        if (self->pending) {
            size_t n = self->pending_len - self->pending_off;
            if (n > max)
                n = max;
            memcpy (buf, self->pending + self->pending_off, n);
            self->pending_off += n;
            if (self->pending_off == self->pending_len) {
                if (self->pending[0] == 'i')
                    atomic_fetch_add (&gw->sse_events, 1);
                free (self->pending);
                self->pending = NULL;
            }
            self->last_write = zclock_mono ();
            return (ssize_t)n;
        }
        if (gf_hub_stopped (gw->hub) || zsys_interrupted)
            return MHD_CONTENT_READER_END_OF_STREAM;
        int64_t wait = self->last_write + gw->heartbeat_ms - zclock_mono ();
        if (wait <= 0) {
            //  A comment keeps proxies from timing out and finds closed clients.
            s_set_pending (self, strdup (":\n\n"));
            continue;
        }
        if (wait > 500)
            wait = 500; //  check for shutdown twice a second
        if (self->replay) {
            if (gf_hub_covers (gw->hub, self->cursor)) {
                gf_stream_destroy (&self->replay);
                continue;
            }
            char *topic = NULL;
            gf_msg_t *event = gf_stream_next (self->replay, (int)wait, &topic);
            if (event) {
                s_take_event (self, event);
                gf_msg_destroy (&event);
                free (topic);
            }
            continue;
        }
        uint64_t seq = 0;
        char *type = NULL, *grid = NULL, *text = NULL;
        gf_hub_status_t status =
            gf_hub_next (gw->hub, self->cursor, (int)wait, &seq, &type, &grid, &text);
        if (status == GF_HUB_EVENT) {
            self->cursor = seq;
            if (s_match (self, type, grid)) {
                s_set_pending (self, text);
                text = NULL;
            }
            free (type);
            free (grid);
            free (text);
        } else if (status == GF_HUB_OVERFLOW) {
            atomic_fetch_add (&gw->sse_overflows, 1);
            zsys_info ("sse: closing a stream that lagged past the buffer at seq %" PRIu64,
                       self->cursor);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        } else if (status == GF_HUB_STOPPED)
            return MHD_CONTENT_READER_END_OF_STREAM;
    }
}

static void s_free (void *cls)
{
    s_sse_t *self = cls;
    atomic_fetch_sub (&self->gw->sse_clients, 1);
    gf_stream_destroy (&self->replay);
    gf_gwargs_sse_reset (&self->args);
    free (self->pending);
    free (self);
}

static enum MHD_Result s_error (struct MHD_Connection *conn, unsigned status, const char *what)
{
    char *body = NULL;
    if (asprintf (&body, "{\"error\":\"%s\"}", what) < 0)
        return MHD_NO;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer (strlen (body), body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header (resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    enum MHD_Result rc = MHD_queue_response (conn, status, resp);
    MHD_destroy_response (resp);
    return rc;
}

enum MHD_Result gf_sse_serve (gf_gw_t *gw, struct MHD_Connection *conn)
{
    const char *last_id = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, "Last-Event-ID");
    const char *since = MHD_lookup_connection_value (conn, MHD_GET_ARGUMENT_KIND, "since");
    const char *grid = MHD_lookup_connection_value (conn, MHD_GET_ARGUMENT_KIND, "grid");
    const char *types = MHD_lookup_connection_value (conn, MHD_GET_ARGUMENT_KIND, "types");
    gf_gwargs_sse_t args;
    const char *why = gf_gwargs_sse (last_id, since, grid, types, &args);
    if (why)
        return s_error (conn, 400, why);
    s_sse_t *self = calloc (1, sizeof *self);
    self->gw = gw;
    self->args = args;
    uint64_t from = args.from;
    bool resume = args.resume;
    //  Bound what the kernel holds for this client, so a slow reader shows
    //  up as lag in the hub (and is cut off) instead of as megabytes of
    //  socket buffer.
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info (conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (info) {
        int sndbuf = S_SNDBUF;
        setsockopt (info->connect_fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    }
    self->cursor = resume ? from : gf_hub_last (gw->hub);
    if (resume && !gf_hub_covers (gw->hub, from)) {
        self->replay = gf_stream_new_secure (gw->config->pub, gw->config->replay, "", from, 0, 0,
                                             gw->config->cert, gw->config->relay_cert);
        atomic_fetch_add (&gw->sse_replays, 1);
    }
    //  First bytes: the browser's reconnect delay, and a comment saying where
    //  the stream starts (headers go out at once, so the client knows).
    char *hello = NULL;
    if (asprintf (&hello, "retry: 2000\n: gridflow events after seq %" PRIu64 "\n\n",
                  self->cursor) < 0)
        hello = strdup ("\n");
    s_set_pending (self, hello);
    self->last_write = zclock_mono ();
    atomic_fetch_add (&gw->sse_clients, 1);
    atomic_fetch_add (&gw->sse_streams, 1);
    struct MHD_Response *resp =
        MHD_create_response_from_callback (MHD_SIZE_UNKNOWN, 8 * 1024, s_read, self, s_free);
    MHD_add_response_header (resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                             "text/event-stream; charset=utf-8");
    MHD_add_response_header (resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header (resp, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    MHD_add_response_header (resp, "X-Accel-Buffering", "no");
    enum MHD_Result rc = MHD_queue_response (conn, MHD_HTTP_OK, resp);
    MHD_destroy_response (resp);
    return rc;
}
