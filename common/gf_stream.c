/*  gf_stream — live events with replay catch-up. */
#include "gf_stream.h"

#define REPLAY_PAGE    5000
#define REPLAY_TIMEOUT 5000 /* ms to wait for a replay page */

struct _gf_stream_t {
    zsock_t *sub;        /* live events + relay.hb                       */
    zsock_t *dealer;     /* replay requests                              */
    char *prefix;        /* topic prefix                                 */
    uint64_t last;       /* seq of the last event delivered              */
    uint64_t head;       /* relay head from the last heartbeat           */
    bool replaying;      /* a replay is in progress                      */
    uint64_t replay_id;  /* id of the outstanding replay request         */
    int64_t replay_sent; /* zclock_mono when it was sent                 */
    bool recovering;     /* the replay repairs a gap, count what it finds */
    uint64_t recovered;  /* events that came only through recovery       */
    int64_t last_live;   /* zclock_mono of the last live event           */
    bool anchored;       /* `last` is a real position (not a live start)  */
    zlistx_t *held;      /* live messages (zmsg_t) held during replay    */
};

static void s_request (gf_stream_t *self)
{
    char id[24];
    snprintf (id, sizeof id, "%" PRIu64, ++self->replay_id);
    gf_replay_req_t req = {
        .id = id, .from = self->last, .prefix = self->prefix, .limit = REPLAY_PAGE};
    zframe_t *body = gf_replay_req_encode (&req);
    zframe_send (&body, self->dealer, 0);
    self->replaying = true;
    self->replay_sent = zclock_mono ();
}

static void s_msg_destroy (void **item)
{
    zmsg_destroy ((zmsg_t **)item);
}

gf_stream_t *gf_stream_new (const char *pub, const char *replay, const char *prefix, uint64_t since)
{
    gf_stream_t *self = (gf_stream_t *)zmalloc (sizeof (gf_stream_t));
    self->prefix = strdup (prefix ? prefix : "");
    self->held = zlistx_new ();
    zlistx_set_destructor (self->held, s_msg_destroy);
    self->sub = zsock_new (ZMQ_SUB);
    zsock_set_rcvhwm (self->sub, 1000000);
    zsock_set_subscribe (self->sub, self->prefix);
    zsock_set_subscribe (self->sub, GF_TOPIC_RELAY_HB);
    self->dealer = zsock_new (ZMQ_DEALER);
    zsock_set_linger (self->dealer, 0);
    zsock_set_rcvhwm (self->dealer, 1000000);
    if (zsock_connect (self->sub, "%s", pub) != 0 ||
        zsock_connect (self->dealer, "%s", replay) != 0) {
        zsys_error ("stream: bad endpoint %s or %s", pub, replay);
        gf_stream_destroy (&self);
        return NULL;
    }
    self->last_live = zclock_mono ();
    if (since != GF_STREAM_LIVE) {
        self->anchored = true;
        self->last = since;
        s_request (self);
    }
    return self;
}

void gf_stream_destroy (gf_stream_t **self_p)
{
    assert (self_p);
    gf_stream_t *self = *self_p;
    if (!self)
        return;
    zsock_destroy (&self->sub);
    zsock_destroy (&self->dealer);
    zlistx_destroy (&self->held);
    free (self->prefix);
    free (self);
    *self_p = NULL;
}

/*  Decodes [topic, body]; NULL (and logs) if it is not a valid event. */
static gf_msg_t *s_decode (zmsg_t *msg, char **topic, uint64_t *seq)
{
    if (zmsg_size (msg) != 2)
        return NULL;
    char *t = zmsg_popstr (msg);
    zframe_t *body = zmsg_first (msg);
    gf_error_t err = {GF_OK, ""};
    gf_msg_t *event = gf_msg_decode (zframe_data (body), zframe_size (body), &err);
    if (!event || gf_msg_get_uint (event, "seq", true, seq, &err) != 0) {
        zsys_warning ("stream: bad event on %s: %s", t, err.message);
        gf_msg_destroy (&event);
        free (t);
        return NULL;
    }
    *topic = t;
    return event;
}

/*  Handles one message from the replay socket.  May return an event. */
static gf_msg_t *s_on_replay (gf_stream_t *self, char **topic)
{
    zmsg_t *msg = zmsg_recv (self->dealer);
    if (!msg)
        return NULL;
    gf_msg_t *out = NULL;
    char *first = zmsg_size (msg) == 2 ? zframe_strdup (zmsg_first (msg)) : NULL;
    if (first && streq (first, GF_TYPE_REPLAY_END)) {
        zframe_t *body = zmsg_last (msg);
        gf_error_t err = {GF_OK, ""};
        gf_msg_t *end = gf_msg_decode (zframe_data (body), zframe_size (body), &err);
        uint64_t last = 0, head = 0;
        bool more = false, ok = true;
        char *id = NULL;
        if (end) {
            gf_msg_get_uint (end, "last", false, &last, &err);
            gf_msg_get_uint (end, "head", false, &head, &err);
            gf_msg_get_bool (end, "more", false, &more, &err);
            gf_msg_get_bool (end, "ok", false, &ok, &err);
            gf_msg_get_str (end, "id", false, 0, &id, &err);
        }
        char expect[24];
        snprintf (expect, sizeof expect, "%" PRIu64, self->replay_id);
        if (end && id && streq (id, expect)) {
            if (head > self->head)
                self->head = head;
            if (!ok)
                self->replay_sent = zclock_mono () - REPLAY_TIMEOUT + 500; /* retry soon */
            else {
                if (last > self->last)
                    self->last = last; /* nothing else matches up to here */
                if (more)
                    s_request (self);
                else {
                    self->replaying = false;
                    self->recovering = false;
                }
            }
        }
        free (id);
        gf_msg_destroy (&end);
    } else {
        uint64_t seq = 0;
        gf_msg_t *event = s_decode (msg, topic, &seq);
        if (event && seq > self->last) {
            self->last = seq;
            if (self->recovering)
                self->recovered++;
            out = event;
        } else {
            gf_msg_destroy (&event);
            if (topic && *topic) {
                free (*topic);
                *topic = NULL;
            }
        }
    }
    free (first);
    zmsg_destroy (&msg);
    return out;
}

/*  Handles one live message (or held one).  May return an event. */
static gf_msg_t *s_on_live (gf_stream_t *self, zmsg_t *msg, char **topic)
{
    char *t = zmsg_size (msg) == 2 ? zframe_strdup (zmsg_first (msg)) : NULL;
    bool hb = t && streq (t, GF_TOPIC_RELAY_HB);
    free (t);
    if (hb) {
        zframe_t *body = zmsg_last (msg);
        gf_error_t err = {GF_OK, ""};
        gf_msg_t *m = gf_msg_decode (zframe_data (body), zframe_size (body), &err);
        uint64_t head = 0;
        if (m && gf_msg_get_uint (m, "seq", true, &head, &err) == 0) {
            if (!self->anchored && !self->replaying) {
                /* A live-only start: everything after this head is ours. */
                if (head > self->last)
                    self->last = head;
                self->anchored = true;
            }
            /* Behind and silent for a whole heartbeat: something was lost. */
            if (head > self->last && head > self->head && self->head > self->last &&
                zclock_mono () - self->last_live > 1500 && !self->replaying) {
                self->recovering = true;
                s_request (self);
            }
            if (head > self->head)
                self->head = head;
        }
        gf_msg_destroy (&m);
        zmsg_destroy (&msg);
        return NULL;
    }
    if (self->replaying) {
        zlistx_add_end (self->held, msg);
        return NULL;
    }
    uint64_t seq = 0;
    gf_msg_t *event = s_decode (msg, topic, &seq);
    if (event && *self->prefix == 0 && seq > self->last + 1 && self->anchored) {
        /* Unfiltered: a jump is a gap.  Hold this one, replay the hole. */
        gf_msg_destroy (&event);
        free (*topic);
        *topic = NULL;
        self->recovering = true;
        s_request (self);
        zmsg_destroy (&msg);
        return NULL;
    }
    zmsg_destroy (&msg);
    if (event && seq > self->last) {
        self->last = seq;
        self->last_live = zclock_mono ();
        self->anchored = true;
        return event;
    }
    gf_msg_destroy (&event);
    if (*topic) {
        free (*topic);
        *topic = NULL;
    }
    return NULL;
}

gf_msg_t *gf_stream_next (gf_stream_t *self, int timeout_ms, char **topic)
{
    *topic = NULL;
    int64_t deadline = zclock_mono () + timeout_ms;
    zmq_pollitem_t items[] = {{zsock_resolve (self->sub), 0, ZMQ_POLLIN, 0},
                              {zsock_resolve (self->dealer), 0, ZMQ_POLLIN, 0}};
    while (!zsys_interrupted) {
        /* Held live messages go out once the replay is over. */
        if (!self->replaying && zlistx_size (self->held) > 0) {
            zmsg_t *msg = (zmsg_t *)zlistx_detach (self->held, NULL);
            gf_msg_t *event = s_on_live (self, msg, topic);
            if (event)
                return event;
            continue;
        }
        if (self->replaying && zclock_mono () - self->replay_sent > REPLAY_TIMEOUT)
            s_request (self); /* relay restarted or request lost */
        int64_t wait = deadline - zclock_mono ();
        if (wait < 0)
            return NULL;
        if (zmq_poll (items, 2, wait > 200 ? 200 : wait) < 0)
            return NULL;
        if (items[1].revents & ZMQ_POLLIN) {
            gf_msg_t *event = s_on_replay (self, topic);
            if (event)
                return event;
        }
        if (items[0].revents & ZMQ_POLLIN) {
            zmsg_t *msg = zmsg_recv (self->sub);
            if (!msg)
                return NULL;
            gf_msg_t *event = s_on_live (self, msg, topic);
            if (event)
                return event;
        }
    }
    return NULL;
}

uint64_t gf_stream_last (gf_stream_t *self)
{
    return self->last;
}

uint64_t gf_stream_head (gf_stream_t *self)
{
    return self->head;
}

uint64_t gf_stream_recovered (gf_stream_t *self)
{
    return self->recovered;
}
