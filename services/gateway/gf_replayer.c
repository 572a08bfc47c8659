/*  gf_replayer — the gateway's one connection to the relay's replay
    socket, shared by every SSE stream that resumes from further back than
    the hub holds (see gf_gw.h and docs/gateway.md, "Resuming a stream").

    A stream's replay costs the gateway no socket and no thread: the
    calling stream thread takes the connection (a mutex: ZeroMQ allows a
    socket to move between threads across a full memory barrier), asks for
    one bounded window (from, to], reads its events and the replay.end
    that closes it, and gives the connection back.  A window that does not
    end in time leaves answers in flight: the socket is then replaced, so
    a late answer can never be taken for the next stream's.
*/
#define _GNU_SOURCE
#include "gf_auth.h"
#include "gf_gw.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

struct _gf_replayer_t {
    pthread_mutex_t lock;      /* one window at a time                         */
    const gf_config_t *config; /* borrowed: the replay endpoint, CurveZMQ    */
    zsock_t *dealer;           /* NULL until first used, or after a failure    */
    uint64_t req_id;           /* last request id sent                         */
};

gf_replayer_t *gf_replayer_new (const gf_config_t *config)
{
    gf_replayer_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->config = config;
    pthread_mutex_init (&self->lock, NULL);
    return self;
}

void gf_replayer_destroy (gf_replayer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    gf_replayer_t *self = *self_p;
    zsock_destroy (&self->dealer);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

//  The socket, (re)connected when needed; NULL when ZeroMQ cannot make one
//  (out of file descriptors): the stream then tries again later.
static zsock_t *s_dealer (gf_replayer_t *self)
{
    if (!self->dealer) {
        self->dealer = zsock_new (ZMQ_DEALER);
        if (!self->dealer)
            return NULL;
        zsock_set_linger (self->dealer, 0);
        zsock_set_rcvhwm (self->dealer, 100000);
        /* The relay's replay socket authenticates its readers (CurveZMQ with
           the gateway's key, as the hub's stream). */
        if (gf_auth_stream_client (self->dealer, self->config) != 0 ||
            zsock_connect (self->dealer, "%s", self->config->replay) != 0) {
            zsys_error ("replayer: cannot connect to %s", self->config->replay);
            zsock_destroy (&self->dealer);
        }
    }
    return self->dealer;
}

/*  The events of a replay.batch frame, each decoded and handed to take:
    how many were (a malformed or undecodable one is not, so the window's
    count shows it). */
static uint64_t s_take_batch (zframe_t *frame, void (*take) (void *, gf_msg_t *), void *arg)
{
    uint64_t taken = 0;
    size_t pos = 0, tsize, bsize;
    const char *topic;
    const void *body;
    while (gf_replay_batch_next (zframe_data (frame), zframe_size (frame), &pos, &topic, &tsize,
                                 &body, &bsize) == 1) {
        gf_msg_t *m = gf_msg_decode (body, bsize, NULL);
        if (m) {
            taken++;
            take (arg, m);
            gf_msg_destroy (&m);
        }
    }
    return taken;
}

static int s_window (gf_replayer_t *self, uint64_t from, uint64_t to, int64_t deadline,
                     void (*take) (void *, gf_msg_t *), void *arg)
{
    zsock_t *dealer = s_dealer (self);
    if (!dealer)
        return -1;
    char id[24];
    snprintf (id, sizeof id, "%" PRIu64, ++self->req_id);
    char all[1] = ""; //  every topic
    gf_replay_req_t req = {
        .id = id, .from = from, .prefix = all, .limit = to - from, .to = to, .batch = true};
    zframe_t *body = gf_replay_req_encode (&req);
    if (!body || zframe_send (&body, dealer, ZFRAME_DONTWAIT) != 0) {
        zframe_destroy (&body);
        return -1;
    }
    uint64_t received = 0; //  events of this window
    while (zclock_mono () < deadline && !zsys_interrupted) {
        zmq_pollitem_t item = {zsock_resolve (dealer), 0, ZMQ_POLLIN, 0};
        int64_t wait = deadline - zclock_mono ();
        if (zmq_poll (&item, 1, wait > 200 ? 200 : wait) <= 0)
            continue;
        zmsg_t *msg = zmsg_recv (dealer);
        if (!msg)
            continue;
        char *topic = zmsg_popstr (msg);
        zframe_t *frame = zmsg_pop (msg);
        gf_error_t err = {GF_OK, ""};
        bool batch = frame && topic && streq (topic, GF_TYPE_REPLAY_BATCH);
        if (batch)
            received += s_take_batch (frame, take, arg);
        gf_msg_t *m =
            frame && !batch ? gf_msg_decode (zframe_data (frame), zframe_size (frame), &err) : NULL;
        int done = 1; //  1: go on reading
        if (m && topic && streq (topic, GF_TYPE_REPLAY_END)) {
            bool ok = true;
            uint64_t count = 0;
            gf_msg_get_bool (m, "ok", false, &ok, &err);
            //  The relay's ROUTER drops past our queue's limit; count says.
            bool lost = gf_msg_get_uint (m, "count", false, &count, &err) == 0 && count != received;
            const char *mid = gf_msg_id (m);
            if (mid && streq (mid, id))
                done = ok && !lost ? 0 : -1;
        } else if (m) {
            received++;
            take (arg, m);
        }
        gf_msg_destroy (&m);
        zframe_destroy (&frame);
        zstr_free (&topic);
        zmsg_destroy (&msg);
        if (done <= 0)
            return done;
    }
    return -1;
}

int gf_replayer_fetch (gf_replayer_t *self, uint64_t from, uint64_t to, int timeout_ms,
                       void (*take) (void *arg, gf_msg_t *event), void *arg)
{
    if (to <= from)
        return 0;
    if (to - from > 10000)
        to = from + 10000; //  the relay's page limit
    int64_t deadline = zclock_mono () + timeout_ms;
    struct timespec abs = gf_hub_deadline (CLOCK_REALTIME, timeout_ms);
    if (pthread_mutex_timedlock (&self->lock, &abs) != 0)
        return -1; //  other streams hold the connection: try again later
    int rc = s_window (self, from, to, deadline, take, arg);
    if (rc != 0)
        zsock_destroy (&self->dealer); //  answers may still be in flight
    pthread_mutex_unlock (&self->lock);
    return rc;
}
