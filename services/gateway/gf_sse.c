/*  gf_sse — GET /stream: server-sent events for browsers.

    Each event is written as
        id: <relay seq>
        event: <type>
        data: <the event as JSON, as published: personal data already masked>
    so a browser's EventSource sends the last id back as Last-Event-ID when
    it reconnects.  A stream starts after Last-Event-ID (header) or ?since=
    (the header wins), else live.  A resume point after the newest event,
    or more than gateway/sse_replay_max events behind it, is refused with
    400.  It is served from the hub when the hub still holds what it needs,
    else through the gateway's one replay connection to the relay (the
    replayer), a window of S_PAGE events at a time, taking turns with the
    other resuming streams, until it has caught up with the hub, then from
    the hub.  A stream holds at most one window in memory.

    At most gateway/sse_max streams are open at once; one more is answered
    503 with Retry-After.

    A stream whose client reads so slowly that the hub drops events it has
    not sent yet is closed; the client resumes with Last-Event-ID (through
    a replay).  Filters: grid=PREFIX (the grid or its subtree) and
    types=a,b,c (exact types, or "case.*" for a prefix).

    A stream needs a viewer (gf_auth_viewer: a staff session or a kiosk
    token, else 401) and carries only the events whose grid lies inside
    its subtree (an event without a grid is in none); the filters narrow
    that further (issue 16).
*/
#define _GNU_SOURCE /* asprintf, strndup */
#include "gf_gw.h"
#include "gf_gwargs.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#define S_SNDBUF     (32 * 1024) /* socket send buffer of a stream (the kernel doubles it) */
#define S_PAGE       200         /* events in one replay window                           */
#define S_REPLAY_MS  5000        /* a window's wait for its turn and its answer           */
#define S_RETRY_SECS 10          /* Retry-After when every stream slot is taken           */

typedef struct {
    gf_gw_t *gw;                       /* the gateway                                   */
    uint64_t cursor;                   /* seq of the last event looked at               */
    gf_gwargs_sse_t args;              /* resume point and filters                      */
    bool replaying;                    /* behind the hub: served through the replayer   */
    zlistx_t *window;                  /* SSE frames of the replay window being sent    */
    uint64_t window_last;              /* seq of the last event taken into the window   */
    char client[INET6_ADDRSTRLEN + 1]; /* its address (per-address count)  */
    gf_sse_out_t out;                  /* the frame being written                       */
    json_t *viewer;                    /* who reads (gf_auth_viewer): its subtree only  */
    int64_t checked;                   /* zclock_mono when the viewer was last checked  */
    uint64_t epoch;                    /* the hub's resets when last looked at          */
} s_sse_t;

static bool s_match (s_sse_t *self, const char *type, const char *grid)
{
    return gf_auth_in_scope (self->viewer, grid) && gf_gwargs_sse_match (&self->args, type, grid);
}

void gf_sse_out_set (gf_sse_out_t *out, char *text)
{
    free (out->text);
    out->text = text;
    out->len = text ? strlen (text) : 0;
    out->off = 0;
}

size_t gf_sse_out_take (gf_sse_out_t *out, char *buf, size_t max, bool *event)
{
    *event = false;
    if (!out->text)
        return 0;
    size_t n = out->len - out->off;
    if (n > max)
        n = max;
    memcpy (buf, out->text + out->off, n);
    out->off += n;
    if (out->off == out->len) {
        *event = out->text[0] == 'i';
        free (out->text);
        out->text = NULL;
    }
    out->last_write = zclock_mono ();
    return n;
}

bool gf_sse_slot_take (gf_gw_t *gw, struct MHD_Connection *conn, char *client,
                       enum MHD_Result *refused)
{
    if (!gf_gw_sse_enter (gw, conn, client)) {
        atomic_fetch_add (&gw->refused[4], 1);
        *refused = gf_gw_error (gw, conn, 503,
                                "too many event streams open from this address; retry later",
                                S_RETRY_SECS);
        return false;
    }
    if (atomic_fetch_add (&gw->sse_clients, 1) >= gw->config->sse_max) {
        atomic_fetch_sub (&gw->sse_clients, 1);
        gf_gw_sse_leave (gw, client);
        atomic_fetch_add (&gw->refused[3], 1);
        *refused =
            gf_gw_error (gw, conn, 503, "too many event streams open; retry later", S_RETRY_SECS);
        return false;
    }
    return true;
}

void gf_sse_slot_give (gf_gw_t *gw, const char *client)
{
    atomic_fetch_sub (&gw->sse_clients, 1);
    gf_gw_sse_leave (gw, client);
}

enum MHD_Result gf_sse_respond (gf_gw_t *gw, struct MHD_Connection *conn,
                                MHD_ContentReaderCallback reader, void *cls,
                                MHD_ContentReaderFreeCallback done, size_t block)
{
    struct MHD_Response *resp =
        MHD_create_response_from_callback (MHD_SIZE_UNKNOWN, block, reader, cls, done);
    MHD_add_response_header (resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                             "text/event-stream; charset=utf-8");
    MHD_add_response_header (resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header (resp, "X-Accel-Buffering", "no");
    gf_gw_headers (gw, conn, resp);
    enum MHD_Result rc = MHD_queue_response (conn, MHD_HTTP_OK, resp);
    MHD_destroy_response (resp);
    return rc;
}

//  The SSE frame of one event from a replay window, formatted as the
//  gateway actor formats the hub's (the two must agree byte for byte).
static void s_take_event (void *arg, gf_msg_t *event)
{
    s_sse_t *self = arg;
    uint64_t seq = 0;
    char *grid = NULL;
    gf_msg_get_uint (event, "seq", false, &seq, NULL);
    gf_msg_get_str (event, "grid", false, 0, &grid, NULL);
    //  In order, each once: the cursor moves when the whole window is in.
    if (seq > self->cursor && seq > self->window_last) {
        self->window_last = seq;
        if (s_match (self, gf_msg_type (event), grid)) {
            char *json = gf_msg_to_json (event);
            char *text = NULL;
            if (asprintf (&text, "id: %" PRIu64 "\nevent: %s\ndata: %s\n\n", seq,
                          gf_msg_type (event), json ? json : "{}") >= 0)
                zlistx_add_end (self->window, text);
            free (json);
        }
    }
    free (grid);
}

//  After a head regression (the hub was reset at `base`: the log went back,
//  its seqs after base are new events): a stream that had sent events
//  above base is told with a stream.regression frame whose id is base (so
//  a reconnecting browser resumes there) and goes on from base; one that
//  had not is simply served from where it was.  Frames of a replay window
//  not sent yet are dropped and asked again.  Returns the frame or NULL.
static char *s_regressed (s_sse_t *self, uint64_t base)
{
    uint64_t sent = self->cursor; //  matching events up to here were sent
    const char *first = zlistx_first (self->window);
    if (first && strncmp (first, "id: ", 4) == 0)
        sent = strtoull (first + 4, NULL, 10) - 1;
    zlistx_purge (self->window);
    char *frame = NULL;
    if (sent > base) {
        zsys_info ("sse: head regression: the log's head is %" PRIu64 ", below seq %" PRIu64
                   " already sent to a stream; resynchronising it from the new log",
                   base, sent);
        if (asprintf (&frame,
                      "id: %" PRIu64 "\nevent: stream.regression\ndata: "
                      "{\"type\":\"stream.regression\",\"head\":%" PRIu64 ",\"seen\":%" PRIu64
                      ",\"message\":\"head regression: the log's head is %" PRIu64
                      ", below seq %" PRIu64
                      " already seen; resynchronising from the new log\"}\n\n",
                      base, base, sent, base, sent) < 0)
            frame = NULL;
        sent = base;
    }
    self->cursor = sent;
    self->replaying = !gf_hub_covers (self->gw->hub, sent);
    return frame;
}

static ssize_t s_read (void *cls, uint64_t pos, char *buf, size_t max)
{
    s_sse_t *self = cls;
    gf_gw_t *gw = self->gw;
    while (true) {
        bool event;
        size_t n = gf_sse_out_take (&self->out, buf, max, &event);
        if (event)
            atomic_fetch_add (&gw->sse_events, 1);
        if (n)
            return (ssize_t)n;
        if (gf_hub_stopped (gw->hub) || zsys_interrupted)
            return MHD_CONTENT_READER_END_OF_STREAM;
        //  The session or kiosk token may have ended since the stream began
        //  (gateway/sse_recheck); a database outage does not cut streams.
        if (gw->config->sse_recheck > 0 &&
            zclock_mono () - self->checked >= gw->config->sse_recheck * 1000LL) {
            bool down = false;
            self->checked = zclock_mono ();
            if (!gf_auth_viewer_valid (gw, self->viewer, &down) && !down) {
                zsys_info ("sse: closing a stream of %s: its session or kiosk token ended",
                           gf_auth_scope (self->viewer));
                return MHD_CONTENT_READER_END_OF_STREAM;
            }
        }
        int64_t wait = self->out.last_write + gw->heartbeat_ms - zclock_mono ();
        if (wait <= 0) {
            //  A comment keeps proxies from timing out and finds closed clients.
            gf_sse_out_set (&self->out, strdup (":\n\n"));
            continue;
        }
        if (wait > 500)
            wait = 500; //  check for shutdown twice a second
        uint64_t base = 0;
        uint64_t epoch = gf_hub_epoch (gw->hub, &base, NULL);
        if (epoch != self->epoch) {
            self->epoch = epoch;
            char *frame = s_regressed (self, base);
            if (frame)
                gf_sse_out_set (&self->out, frame);
            continue;
        }
        if (zlistx_size (self->window)) {
            gf_sse_out_set (&self->out, zlistx_detach (self->window, NULL));
            continue;
        }
        if (self->replaying) {
            if (gf_hub_covers (gw->hub, self->cursor)) {
                self->replaying = false;
                continue;
            }
            //  The next window, up to what the hub has seen (so the relay
            //  surely holds all of it and the window is complete).
            uint64_t to = gf_hub_last (gw->hub);
            if (to > self->cursor + S_PAGE)
                to = self->cursor + S_PAGE;
            self->window_last = self->cursor;
            if (gf_replayer_fetch (gw->replayer, self->cursor, to, S_REPLAY_MS, s_take_event,
                                   self) == 0)
                self->cursor = to;
            else {
                zlistx_purge (self->window); //  asked again from the same cursor
                zclock_sleep (100);
            }
            continue;
        }
        uint64_t seq = 0;
        char *type = NULL, *grid = NULL, *text = NULL;
        gf_hub_status_t status = gf_hub_next_at (gw->hub, self->epoch, self->cursor, (int)wait,
                                                 &seq, &type, &grid, &text);
        if (status == GF_HUB_EVENT) {
            self->cursor = seq;
            if (s_match (self, type, grid)) {
                gf_sse_out_set (&self->out, text);
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
    gf_sse_slot_give (self->gw, self->client);
    zlistx_destroy (&self->window);
    gf_gwargs_sse_reset (&self->args);
    json_decref (self->viewer);
    gf_sse_out_set (&self->out, NULL);
    free (self);
}

static enum MHD_Result s_serve (gf_gw_t *gw, struct MHD_Connection *conn, json_t *viewer);

static void s_free_text (void **item)
{
    free (*item);
    *item = NULL;
}

enum MHD_Result gf_sse_serve (gf_gw_t *gw, struct MHD_Connection *conn)
{
    //  A staff session or a kiosk token; its subtree's events only (issue 16).
    bool down = false;
    json_t *viewer = gf_auth_viewer (gw, conn, &down);
    if (!viewer)
        return gf_gw_error (gw, conn, down ? 503 : 401,
                            down ? "database unavailable" : "no valid session or kiosk token",
                            down ? S_RETRY_SECS : 0);
    enum MHD_Result rc = s_serve (gw, conn, viewer);
    json_decref (viewer);
    return rc;
}

//  The stream of a viewer (the stream keeps a reference).
static enum MHD_Result s_serve (gf_gw_t *gw, struct MHD_Connection *conn, json_t *viewer)
{
    const char *last_id = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, "Last-Event-ID");
    const char *since = MHD_lookup_connection_value (conn, MHD_GET_ARGUMENT_KIND, "since");
    const char *grid = MHD_lookup_connection_value (conn, MHD_GET_ARGUMENT_KIND, "grid");
    const char *types = MHD_lookup_connection_value (conn, MHD_GET_ARGUMENT_KIND, "types");
    gf_gwargs_sse_t args;
    const char *why = gf_gwargs_sse (last_id, since, grid, types, &args);
    if (!why) {
        //  The newest seq known: the hub's, or the relay's when it is ahead.
        uint64_t head = gf_hub_last (gw->hub), relay = atomic_load (&gw->relay_head);
        why = gf_gwargs_sse_window (&args, relay > head ? relay : head,
                                    (uint64_t)gw->config->sse_replay_max);
        if (why)
            gf_gwargs_sse_reset (&args);
    }
    if (why)
        return gf_gw_error (gw, conn, 400, why, 0);
    //  A slot of the client's address and one in all, or 503: streams hold
    //  a thread each.
    char client[INET6_ADDRSTRLEN + 1];
    enum MHD_Result refused;
    if (!gf_sse_slot_take (gw, conn, client, &refused)) {
        gf_gwargs_sse_reset (&args);
        return refused;
    }
    s_sse_t *self = calloc (1, sizeof *self);
    snprintf (self->client, sizeof self->client, "%s", client);
    self->gw = gw;
    self->viewer = json_incref (viewer);
    self->checked = zclock_mono ();
    self->args = args;
    self->window = zlistx_new ();
    zlistx_set_destructor (self->window, s_free_text);
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
    self->epoch = gf_hub_epoch (gw->hub, NULL, NULL);
    self->cursor = resume ? from : gf_hub_last (gw->hub);
    if (resume && !gf_hub_covers (gw->hub, from)) {
        self->replaying = true;
        atomic_fetch_add (&gw->sse_replays, 1);
    }
    //  First bytes: the browser's reconnect delay, and a comment saying where
    //  the stream starts (headers go out at once, so the client knows).
    char *hello = NULL;
    if (asprintf (&hello, "retry: 2000\n: gridflow events after seq %" PRIu64 "\n\n",
                  self->cursor) < 0)
        hello = strdup ("\n");
    gf_sse_out_set (&self->out, hello);
    self->out.last_write = zclock_mono ();
    atomic_fetch_add (&gw->sse_streams, 1);
    return gf_sse_respond (gw, conn, s_read, self, s_free, 8 * 1024);
}
