/*  gf_relay_replay — pages of past events for late or reconnecting
    subscribers (the replay half of the zguide Clone pattern).

    Request: replay.request {from, prefix, limit[, to][, batch]}.  Answer,
    on the same connection: up to `limit` events with from < seq (<= to)
    and topic starting with prefix, in seq order, each a message [topic,
    event body] or, when the request says batch, several to a message
    ["replay.batch", (topic, body)*] (SPEC.md 6.5), then
    ["replay.end", replay.end {last, more, count, head}].  `last` is where
    the next page starts; more=false means the caller has everything up to
    `last`; `count` is the number of events sent before it, so the caller
    can tell a page that lost messages on the way.

    A probe (probe: true, `to` set) sends no event: its replay.end carries
    `count` = the events in (from, to] matching the prefix and last = to.
    A filtered subscriber compares it with what it received live to detect
    a gap exactly (docs/streams.md).

    Runs on its own connection and thread so replay never delays
    publishing.  A subscriber keeps several pages in flight (gf_stream);
    while one page goes out, the next request already waiting is read and
    its query runs on the server, so fetching and sending overlap.  The
    ROUTER never blocks: a subscriber that reads slowly delays only its
    own pages, and its credit (pages in flight) bounds what it queues.
*/
#include "gf_relay.h"
#include "gf_auth.h"
#include "gf_clock.h"
#include "gf_config.h"
#include "gf_db.h"
#include "gf_proto.h"
#include "gf_service.h"

static const char *SQL_HEAD = "SELECT coalesce (max (seq), 0) AS head FROM case_events";
/*  Both bounds are index conditions on seq: $4 is `to`, or the largest
    bigint for none (a filtered page must not scan past `to`). */
/*  $5: the client's rights (topic prefixes, streams.sql), NULL on a plain
    endpoint; the probe's count ($4) applies the same filter. */
/*  Its result comes in binary format (gf_db_send_binary): bigints and the
    timestamp as 8 bytes each, no text output or parsing per row. */
static const char *SQL_PAGE =
    "SELECT seq, id, type, topic, case_id, grid, at, payload::text AS payload"
    "  FROM case_events"
    " WHERE seq > $1 AND seq <= $4 AND starts_with (topic, $2) AND ($5::text[] IS NULL"
    "       OR EXISTS (SELECT 1 FROM unnest ($5::text[]) r WHERE starts_with (topic, r)))"
    " ORDER BY seq LIMIT $3";
static const char *SQL_COUNT =
    "SELECT count (*) AS n FROM case_events"
    " WHERE seq > $1 AND seq <= $2 AND starts_with (topic, $3) AND ($4::text[] IS NULL"
    "       OR EXISTS (SELECT 1 FROM unnest ($4::text[]) r WHERE starts_with (topic, r)))";
/*  A CURVE client's rights as an array literal; NULL: none (refused). */
static const char *SQL_RIGHTS = "SELECT gf_stream_rights ($1)::text AS rights";

/*  Messages of one request: its body is a few hundred bytes. */
#define REQUEST_MAX 65536
/*  A replay.batch goes out when it holds this many events or bytes. */
#define BATCH_EVENTS 256
#define BATCH_BYTES  (32 * 1024)

/*  One request being served. */
typedef struct {
    zmsg_t *envelope;    /* the routing frames                        */
    gf_replay_req_t req; /* decoded                                   */
    bool head_ok;        /* head read                                 */
    uint64_t head;       /* log head read before the page query       */
    bool sent;           /* page query sent, its result not yet read  */
    bool started;        /* s_request_start ran                       */
    char *rights;        /* CURVE: the client's topic prefixes ({..}) */
} s_request_t;

typedef struct {
    zsock_t *router;
    gf_auth_t *auth; /* the relay's; CURVE when gf_auth_curve */
    gf_db_t *db;
    s_request_t *next; /* read ahead while the current page goes out */
} s_server_t;

static void s_request_destroy (s_request_t **self_p)
{
    s_request_t *self = *self_p;
    if (!self)
        return;
    zmsg_destroy (&self->envelope);
    gf_replay_req_reset (&self->req);
    free (self->rights);
    free (self);
    *self_p = NULL;
}

/*  Sends one message to the client: the routing frames of envelope, then
    `first` (an event's topic, or "replay.batch" / "replay.end") and the
    body.  True when ZeroMQ took it: ROUTER never blocks, past the peer's
    HWM it drops, and `count` in replay.end tells the subscriber. */
static bool s_send (void *sock, zmsg_t *envelope, const char *first, const void *data, size_t size)
{
    for (zframe_t *f = zmsg_first (envelope); f; f = zmsg_next (envelope))
        if (zmq_send (sock, zframe_data (f), zframe_size (f), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
            return false;
    return zmq_send (sock, first, strlen (first), ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0 &&
           zmq_send (sock, data, size, ZMQ_DONTWAIT) >= 0;
}

static void s_send_end_frame (zsock_t *router, zmsg_t *envelope, zframe_t *body)
{
    if (body)
        s_send (zsock_resolve (router), envelope, GF_TYPE_REPLAY_END, zframe_data (body),
                zframe_size (body));
    zframe_destroy (&body);
}

static void s_send_end (zsock_t *router, zmsg_t *envelope, const char *id, uint64_t last, bool more,
                        uint64_t head, gf_code_t code, const char *message)
{
    s_send_end_frame (router, envelope, gf_replay_end_encode (id, last, more, head, code, message));
}

static void s_send_end_count (zsock_t *router, zmsg_t *envelope, const char *id, uint64_t last,
                              bool more, uint64_t count, uint64_t head)
{
    s_send_end_frame (router, envelope, gf_replay_end_encode_count (id, last, more, count, head));
}

/*  Reads one request without waiting.  NULL when none is queued, or when
    it was invalid (then it has been answered with an error). */
static s_request_t *s_request_read (s_server_t *self)
{
    if (!(zsock_events (self->router) & ZMQ_POLLIN))
        return NULL;
    zmsg_t *msg = zmsg_recv (self->router);
    if (!msg)
        return NULL;
    zframe_t *body = zmsg_last (msg);
    if (!body || zmsg_size (msg) < 2) {
        zmsg_destroy (&msg);
        return NULL;
    }
    zmsg_remove (msg, body);
    gf_error_t err = {GF_OK, ""};
    s_request_t *request = (s_request_t *)zmalloc (sizeof (s_request_t));
    request->envelope = msg;
    /* Under CURVE every request is checked against the rights of the key
       that sent it: a revoked key is refused from its next request on. */
    if (gf_auth_curve (self->auth)) {
        const char *params[] = {gf_auth_user_id (body)};
        PGresult *res = params[0] ? gf_db_exec (self->db, SQL_RIGHTS, 1, params) : NULL;
        if (res && !PQgetisnull (res, 0, 0))
            request->rights = strdup (PQgetvalue (res, 0, 0));
        else if (res) {
            gf_error_set (&err, GF_E_FORBIDDEN, "this key may not read the event stream");
            zsys_warning ("relay: replay refused for %.8s: no stream rights", params[0]);
        } else
            gf_error_set (&err, GF_E_UNAVAILABLE, "event log unavailable, retry later");
        if (res)
            PQclear (res);
    }
    gf_msg_t *decoded = gf_msg_decode (zframe_data (body), zframe_size (body), &err);
    zframe_destroy (&body);
    if (err.code != GF_OK || !decoded ||
        gf_replay_req_from_msg (decoded, &request->req, &err) != 0) {
        s_send_end (self->router, msg, decoded ? gf_msg_id (decoded) : NULL, 0,
                    err.code == GF_E_UNAVAILABLE, 0, err.code, err.message);
        gf_msg_destroy (&decoded);
        s_request_destroy (&request);
        return NULL;
    }
    gf_msg_destroy (&decoded);
    return request;
}

/*  A page request: reads the head, then sends the page query without
    waiting for it (the head first, so the page holds every event up to
    it).  A probe waits for s_request_finish. */
static void s_request_start (s_server_t *self, s_request_t *request)
{
    request->started = true;
    if (request->req.probe)
        return;
    PGresult *head_res = gf_db_exec (self->db, SQL_HEAD, 0, NULL);
    if (!head_res)
        return;
    request->head = (uint64_t)gf_db_get_ll (head_res, 0, "head");
    request->head_ok = true;
    PQclear (head_res);
    char from[24], limit[24], to[24];
    snprintf (from, sizeof from, "%" PRIu64, request->req.from);
    snprintf (limit, sizeof limit, "%" PRIu64, request->req.limit);
    snprintf (to, sizeof to, "%" PRIu64,
              request->req.to > 0 ? request->req.to : (uint64_t)INT64_MAX);
    const char *params[] = {from, request->req.prefix, limit, to, request->rights};
    request->sent = gf_db_send_binary (self->db, SQL_PAGE, 5, params) == 0;
}

static void s_probe (s_server_t *self, s_request_t *request)
{
    gf_replay_req_t *req = &request->req;
    char from[24], to[24];
    snprintf (from, sizeof from, "%" PRIu64, req->from);
    snprintf (to, sizeof to, "%" PRIu64, req->to);
    PGresult *head_res = gf_db_exec (self->db, SQL_HEAD, 0, NULL);
    const char *cparams[] = {from, to, req->prefix, request->rights};
    PGresult *n = head_res && req->to > 0 ? gf_db_exec (self->db, SQL_COUNT, 4, cparams) : NULL;
    uint64_t head = head_res ? (uint64_t)gf_db_get_ll (head_res, 0, "head") : 0;
    if (n)
        s_send_end_count (self->router, request->envelope, req->id, req->to, false,
                          (uint64_t)gf_db_get_ll (n, 0, "n"), head);
    else if (head_res && req->to == 0)
        s_send_end (self->router, request->envelope, req->id, req->from, false, head,
                    GF_E_MISSING_FIELD, "a probe needs field 'to'");
    else
        s_send_end (self->router, request->envelope, req->id, req->from, true, 0, GF_E_UNAVAILABLE,
                    "event log unavailable, retry later");
    if (n)
        PQclear (n);
    if (head_res)
        PQclear (head_res);
}

/*  Sends the page's events, each as [topic, event] or several to a
    replay.batch when the client asked for that, then its replay.end. */
static void s_send_page (s_server_t *self, s_request_t *request, PGresult *rows)
{
    gf_replay_req_t *req = &request->req;
    void *sock = zsock_resolve (self->router);
    int c_seq = PQfnumber (rows, "seq"), c_id = PQfnumber (rows, "id"),
        c_type = PQfnumber (rows, "type"), c_topic = PQfnumber (rows, "topic"),
        c_case = PQfnumber (rows, "case_id"), c_grid = PQfnumber (rows, "grid"),
        c_at = PQfnumber (rows, "at"), c_payload = PQfnumber (rows, "payload");
    uint64_t last = req->from, sent = 0;
    int count = PQntuples (rows);
    msgpack_sbuffer body; /* one buffer for the page: zmq_send copies it */
    msgpack_sbuffer_init (&body);
    msgpack_sbuffer batch; /* events not yet sent, when req->batch */
    msgpack_sbuffer_init (&batch);
    uint64_t batched = 0;
    for (int r = 0; r < count; r++) {
        last = (uint64_t)gf_db_bin_int8 (rows, r, c_seq);
        const char *topic = PQgetvalue (rows, r, c_topic);
        if (gf_event_pack (
                &body, last, PQgetvalue (rows, r, c_type), gf_db_bin_int8 (rows, r, c_id),
                gf_db_bin_epoch_ms (rows, r, c_at), gf_db_bin_int8 (rows, r, c_case),
                PQgetisnull (rows, r, c_grid) ? NULL : PQgetvalue (rows, r, c_grid),
                PQgetisnull (rows, r, c_payload) ? NULL : PQgetvalue (rows, r, c_payload))) {
            /* Not for payloads our own SQL writes; skip, do not crash. */
            zsys_error ("relay: cannot encode event seq %" PRIu64 " for replay", last);
            continue;
        }
        if (req->batch) {
            gf_replay_batch_add (&batch, topic, body.data, body.size);
            if (++batched == BATCH_EVENTS || batch.size >= BATCH_BYTES) {
                if (s_send (sock, request->envelope, GF_TYPE_REPLAY_BATCH, batch.data, batch.size))
                    sent += batched;
                msgpack_sbuffer_clear (&batch);
                batched = 0;
            }
        } else if (s_send (sock, request->envelope, topic, body.data, body.size))
            sent++;
        /* The next page's rows are coming meanwhile: take them off the
           socket, or the server stops sending when its buffer is full. */
        if (r % BATCH_EVENTS == 0)
            gf_db_consume (self->db);
    }
    if (batched > 0 &&
        s_send (sock, request->envelope, GF_TYPE_REPLAY_BATCH, batch.data, batch.size))
        sent += batched;
    msgpack_sbuffer_destroy (&batch);
    msgpack_sbuffer_destroy (&body);
    uint64_t head = request->head;
    bool more = (uint64_t)count == req->limit;
    uint64_t end = req->to > 0 && req->to < head ? req->to : head;
    if (!more && end > last)
        last = end; /* scanned everything up to the head (or `to`) */
    s_send_end_count (self->router, request->envelope, req->id, last, more, sent,
                      head > last ? head : last);
}

/*  Answers a started request.  Before its events go out, the next request
    already queued is read and started, so that its query runs meanwhile. */
static void s_request_finish (s_server_t *self, s_request_t *request)
{
    if (request->req.probe) {
        s_probe (self, request);
        return;
    }
    PGresult *rows = request->sent ? gf_db_result (self->db) : NULL;
    if (!self->next && (self->next = s_request_read (self)) != NULL)
        s_request_start (self, self->next);
    if (!rows || !request->head_ok)
        s_send_end (self->router, request->envelope, request->req.id, request->req.from, true, 0,
                    GF_E_UNAVAILABLE, "event log unavailable, retry later");
    else
        s_send_page (self, request, rows);
    if (rows)
        PQclear (rows);
}

/*  Serves the requests queued on the router, each page's query overlapping
    the sending of the page before it. */
static void s_serve (s_server_t *self)
{
    s_request_t *request = s_request_read (self);
    while (request) {
        if (!request->started)
            s_request_start (self, request);
        s_request_finish (self, request);
        s_request_destroy (&request);
        request = self->next;
        self->next = NULL;
    }
}

void gf_relay_replay_actor (zsock_t *pipe, void *args)
{
    gf_relay_args_t *relay = (gf_relay_args_t *)args;
    gf_config_t *config = relay->config;
    s_server_t self = {.db = gf_db_new (config->db, "gf-relay-replay"),
                       .router = zsock_new (ZMQ_ROUTER),
                       .auth = relay->auth};
    zsock_set_sndhwm (self.router, 200000);
    gf_auth_limits (self.router, config, REQUEST_MAX);
    if (gf_auth_server_apply (self.auth, self.router, config, config->replay) != 0) {
        zsock_signal (pipe, 1);
        goto done;
    }
    if (zsock_bind (self.router, "%s", config->replay) < 0) {
        zsys_error ("relay: cannot bind %s: %s", config->replay, zmq_strerror (zmq_errno ()));
        zsock_signal (pipe, 1);
        goto done;
    }
    zsock_signal (pipe, 0);
    zmq_pollitem_t items[] = {{zsock_resolve (pipe), 0, ZMQ_POLLIN, 0},
                              {zsock_resolve (self.router), 0, ZMQ_POLLIN, 0}};
    while (!zsys_interrupted) {
        if (zmq_poll (items, 2, -1) < 0)
            break;
        if ((items[0].revents & ZMQ_POLLIN) && gf_service_pipe_term (pipe))
            break;
        if (items[1].revents & ZMQ_POLLIN)
            s_serve (&self);
    }
done:
    zsock_destroy (&self.router);
    gf_db_destroy (&self.db);
}
