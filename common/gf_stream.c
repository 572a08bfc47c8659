/*  gf_stream — live events with exact gap detection and replay catch-up.

    State: `verified` is the seq up to which every matching event has been
    delivered.  Unfiltered, delivery is in dense seq order, so `verified`
    is simply the last seq delivered.  Filtered, events above `verified`
    that were delivered are kept in `seen` (a sorted array) until a probe
    or a replay moves `verified` past them.
*/
#include "gf_stream.h"

#define REPLAY_PAGE    5000
#define REPLAY_TIMEOUT 10000 /* ms without a replay message before asking again */
#define DEFAULT_RCVHWM 100000

struct _gf_stream_t {
    zsock_t *sub;      /* live events + relay.hb                        */
    zsock_t *dealer;   /* replay requests and probes                    */
    char *prefix;      /* topic prefix                                  */
    bool filtered;     /* prefix is not empty                           */
    uint64_t last;     /* highest seq delivered or scanned              */
    uint64_t verified; /* every matching event <= verified delivered    */
    uint64_t head;     /* relay head from the last heartbeat            */
    bool anchored;     /* `verified` is a real position                 */
    uint64_t *seen;    /* filtered: delivered seqs > verified, sorted   */
    size_t seen_n, seen_cap;
    uint64_t req_id;     /* last request id used                          */
    bool replaying;      /* a replay is in progress                       */
    uint64_t replay_id;  /* id of the outstanding replay page request     */
    uint64_t rfrom;      /* `from` of that page                           */
    uint64_t page_got;   /* event messages received for that page         */
    bool page_bad;       /* unfiltered: the page skipped a seq            */
    int64_t replay_sent; /* zclock_mono when it was sent                  */
    bool recovering;     /* the replay repairs a gap: count what it finds */
    bool probing;        /* a probe is outstanding                        */
    uint64_t probe_id, probe_from, probe_to;
    int64_t probe_sent;
    uint64_t recovered; /* events that came only through recovery        */
    uint64_t gaps;      /* gaps detected                                 */
    zlistx_t *held;     /* live messages (zmsg_t) held during replay     */
};

//  The sorted set of delivered seqs above `verified` -------------------------

static size_t s_seen_lower (gf_stream_t *self, uint64_t seq)
{
    size_t lo = 0, hi = self->seen_n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (self->seen[mid] < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool s_seen_add (gf_stream_t *self, uint64_t seq)
{
    size_t at = s_seen_lower (self, seq);
    if (at < self->seen_n && self->seen[at] == seq)
        return false;
    if (self->seen_n == self->seen_cap) {
        self->seen_cap = self->seen_cap ? self->seen_cap * 2 : 256;
        self->seen = (uint64_t *)realloc (self->seen, self->seen_cap * sizeof (uint64_t));
        assert (self->seen);
    }
    memmove (self->seen + at + 1, self->seen + at, (self->seen_n - at) * sizeof (uint64_t));
    self->seen[at] = seq;
    self->seen_n++;
    return true;
}

/*  Moves `verified` up to seq and forgets the seen seqs below it. */
static void s_verify_to (gf_stream_t *self, uint64_t seq)
{
    if (seq <= self->verified)
        return;
    self->verified = seq;
    if (seq > self->last)
        self->last = seq;
    size_t cut = s_seen_lower (self, seq + 1);
    if (cut > 0) {
        memmove (self->seen, self->seen + cut, (self->seen_n - cut) * sizeof (uint64_t));
        self->seen_n -= cut;
    }
}

//  Requests -------------------------------------------------------------------

static void s_send_request (gf_stream_t *self, uint64_t from, uint64_t to, bool probe,
                            uint64_t limit)
{
    char id[24];
    snprintf (id, sizeof id, "%" PRIu64, ++self->req_id);
    gf_replay_req_t req = {
        .id = id, .from = from, .prefix = self->prefix, .limit = limit, .to = to, .probe = probe};
    zframe_t *body = gf_replay_req_encode (&req);
    if (zframe_send (&body, self->dealer, ZFRAME_DONTWAIT) != 0)
        zframe_destroy (&body); /* retried on timeout */
}

/*  Asks for the next replay page from `from`. */
static void s_request (gf_stream_t *self, uint64_t from)
{
    s_send_request (self, from, 0, false, REPLAY_PAGE);
    self->replaying = true;
    self->replay_id = self->req_id;
    self->rfrom = from;
    self->page_got = 0;
    self->page_bad = false;
    self->replay_sent = zclock_mono ();
}

/*  A gap is certain: replay from `verified` and count what it brings. */
static void s_gap (gf_stream_t *self)
{
    self->gaps++;
    self->recovering = true;
    s_request (self, self->verified);
}

static void s_probe (gf_stream_t *self, uint64_t to)
{
    s_send_request (self, self->verified, to, true, 1);
    self->probing = true;
    self->probe_id = self->req_id;
    self->probe_from = self->verified;
    self->probe_to = to;
    self->probe_sent = zclock_mono ();
}

static void s_msg_destroy (void **item)
{
    zmsg_destroy ((zmsg_t **)item);
}

gf_stream_t *gf_stream_new_sized (const char *pub, const char *replay, const char *prefix,
                                  uint64_t since, int rcvhwm, int rcvbuf)
{
    gf_stream_t *self = (gf_stream_t *)zmalloc (sizeof (gf_stream_t));
    self->prefix = strdup (prefix ? prefix : "");
    self->filtered = *self->prefix != 0;
    self->held = zlistx_new ();
    zlistx_set_destructor (self->held, s_msg_destroy);
    self->sub = zsock_new (ZMQ_SUB);
    zsock_set_rcvhwm (self->sub, rcvhwm);
    if (rcvbuf > 0)
        zsock_set_rcvbuf (self->sub, rcvbuf);
    zsock_set_subscribe (self->sub, self->prefix);
    if (self->filtered) /* with "" the heartbeat matches already */
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
    if (since != GF_STREAM_LIVE) {
        self->anchored = true;
        self->verified = self->last = since;
        s_request (self, since);
    }
    return self;
}

gf_stream_t *gf_stream_new (const char *pub, const char *replay, const char *prefix, uint64_t since)
{
    return gf_stream_new_sized (pub, replay, prefix, since, DEFAULT_RCVHWM, 0);
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
    free (self->seen);
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

/*  Whether to deliver event seq (and records that it is delivered). */
static bool s_accept (gf_stream_t *self, uint64_t seq)
{
    if (seq <= self->verified && self->anchored)
        return false;
    if (self->filtered) {
        if (!s_seen_add (self, seq))
            return false;
    } else
        self->verified = seq;
    if (seq > self->last)
        self->last = seq;
    return true;
}

static uint64_t s_id_of (const char *id)
{
    char *end = NULL;
    uint64_t value = id ? strtoull (id, &end, 10) : 0;
    return id && *id && end && *end == 0 ? value : 0;
}

static void s_on_probe_end (gf_stream_t *self, bool ok, bool has_count, uint64_t count)
{
    self->probing = false;
    if (!ok || self->replaying || self->probe_from != self->verified)
        return; /* asked again at the next heartbeat */
    size_t lo = s_seen_lower (self, self->probe_from + 1);
    size_t hi = s_seen_lower (self, self->probe_to + 1);
    if (has_count && count == hi - lo)
        s_verify_to (self, self->probe_to);
    else
        s_gap (self); /* fewer than the relay sent: some were dropped */
}

static void s_on_page_end (gf_stream_t *self, bool ok, bool has_count, uint64_t count,
                           uint64_t last, bool more)
{
    if (!ok) {
        self->replay_sent = zclock_mono () - REPLAY_TIMEOUT + 500; /* retry soon */
        return;
    }
    if ((has_count && count != self->page_got) || self->page_bad) {
        /* Messages of this page were lost on the way: ask again. */
        s_request (self, self->filtered ? self->rfrom : self->verified);
        return;
    }
    if (!self->filtered && last > self->verified)
        self->verified = last; /* dense up to here: nothing else exists */
    if (more)
        s_request (self, last);
    else {
        s_verify_to (self, last);
        if (self->verified > self->last)
            self->last = self->verified;
        self->replaying = false;
        self->recovering = false;
    }
}

/*  Handles one message from the replay socket.  May return an event. */
static gf_msg_t *s_on_replay (gf_stream_t *self, char **topic)
{
    zmsg_t *msg = zmsg_recv (self->dealer);
    if (!msg)
        return NULL;
    if (self->replaying)
        self->replay_sent = zclock_mono (); /* progress: the relay is answering */
    gf_msg_t *out = NULL;
    char *first = zmsg_size (msg) == 2 ? zframe_strdup (zmsg_first (msg)) : NULL;
    if (first && streq (first, GF_TYPE_REPLAY_END)) {
        zframe_t *body = zmsg_last (msg);
        gf_error_t err = {GF_OK, ""};
        gf_msg_t *end = gf_msg_decode (zframe_data (body), zframe_size (body), &err);
        uint64_t last = 0, head = 0, count = 0;
        bool more = false, ok = true, has_count = false;
        if (end) {
            gf_msg_get_uint (end, "last", false, &last, &err);
            gf_msg_get_uint (end, "head", false, &head, &err);
            gf_msg_get_bool (end, "more", false, &more, &err);
            gf_msg_get_bool (end, "ok", false, &ok, &err);
            has_count = gf_msg_get_uint (end, "count", false, &count, &err) == 0;
            uint64_t id = s_id_of (gf_msg_id (end));
            if (head > self->head)
                self->head = head;
            if (id && self->probing && id == self->probe_id)
                s_on_probe_end (self, ok, has_count, count);
            else if (id && self->replaying && id == self->replay_id)
                s_on_page_end (self, ok, has_count, count, last, more);
        }
        gf_msg_destroy (&end);
    } else {
        if (self->replaying)
            self->page_got++;
        uint64_t seq = 0;
        gf_msg_t *event = s_decode (msg, topic, &seq);
        if (event && !self->filtered && self->replaying && seq > self->verified + 1)
            self->page_bad = true; /* a message of the page was lost */
        else if (event && s_accept (self, seq)) {
            if (self->recovering)
                self->recovered++;
            out = event;
        }
        if (!out) {
            gf_msg_destroy (&event);
            free (*topic);
            *topic = NULL;
        }
    }
    free (first);
    zmsg_destroy (&msg);
    return out;
}

static void s_on_heartbeat (gf_stream_t *self, uint64_t head)
{
    if (!self->anchored && !self->replaying) {
        /* A live-only start: everything after this head is ours. */
        self->anchored = true;
        s_verify_to (self, head);
    } else if (self->anchored && !self->replaying && !self->probing && head > self->verified) {
        /* Every event <= head that was not dropped came before this. */
        if (self->filtered)
            s_probe (self, head);
        else
            s_gap (self);
    }
    if (head > self->head)
        self->head = head;
}

/*  Handles one live message (or held one).  May return an event. */
static gf_msg_t *s_on_live (gf_stream_t *self, zmsg_t *msg, char **topic)
{
    if (self->replaying) {
        /* Events and heartbeats alike take their turn after the replay. */
        zlistx_add_end (self->held, msg);
        return NULL;
    }
    char *t = zmsg_size (msg) == 2 ? zframe_strdup (zmsg_first (msg)) : NULL;
    bool hb = t && streq (t, GF_TOPIC_RELAY_HB);
    free (t);
    if (hb) {
        zframe_t *body = zmsg_last (msg);
        gf_error_t err = {GF_OK, ""};
        gf_msg_t *m = gf_msg_decode (zframe_data (body), zframe_size (body), &err);
        uint64_t head = 0;
        if (m && gf_msg_get_uint (m, "seq", true, &head, &err) == 0)
            s_on_heartbeat (self, head);
        gf_msg_destroy (&m);
        zmsg_destroy (&msg);
        return NULL;
    }
    uint64_t seq = 0;
    gf_msg_t *event = s_decode (msg, topic, &seq);
    zmsg_destroy (&msg);
    if (event && !self->filtered && self->anchored && seq > self->verified + 1) {
        /* Unfiltered: a jump is a gap; replay brings this one too. */
        gf_msg_destroy (&event);
        s_gap (self);
    } else if (event && s_accept (self, seq)) {
        if (!self->filtered)
            self->anchored = true;
        return event;
    }
    gf_msg_destroy (&event);
    free (*topic);
    *topic = NULL;
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
            s_request (self, self->filtered ? self->rfrom : self->verified); /* lost or restarted */
        if (self->probing && zclock_mono () - self->probe_sent > REPLAY_TIMEOUT)
            self->probing = false; /* probe again at the next heartbeat */
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

uint64_t gf_stream_gaps (gf_stream_t *self)
{
    return self->gaps;
}

uint64_t gf_stream_verified (gf_stream_t *self)
{
    return self->verified;
}
