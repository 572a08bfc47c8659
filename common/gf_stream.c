/*  gf_stream — live events with exact gap detection and replay catch-up.

    State: `verified` is the seq up to which every matching event has been
    delivered.  Unfiltered, delivery is in dense seq order, so `verified`
    is simply the last seq delivered.  Filtered, events above `verified`
    that were delivered are kept in `seen` (a sorted array) until a probe
    or a replay moves `verified` past them.

    Replay is credit-based (like the zguide's file transfer, fileio3): up
    to REPLAY_CREDIT pages are requested ahead, so the relay fetches and
    sends the next page while this side reads the one before.  Pages ahead
    are windows of seqs (from, to] at or below the relay's head, each with
    limit = to - from, so every one is complete in itself; the page that
    reaches the head is asked without `to` and alone (the tail), as before.
    The relay answers requests in order on the one connection, so each
    message belongs to the oldest page outstanding.  A page that lost
    messages (its `count` differs, or a seq was skipped) makes the pages
    after it stale: their messages are skipped and the replay asks again
    from `verified`.
*/
#include "gf_stream.h"
#include "gf_auth.h"

#define REPLAY_PAGE    5000
#define REPLAY_CREDIT  4     /* pages in flight                                 */
#define REPLAY_QUEUE   16    /* pages outstanding, stale ones included          */
#define REPLAY_TIMEOUT 10000 /* ms without a replay message before asking again */
#define REPLAY_BURST   256   /* replay messages read before looking at live ones */
#define DEFAULT_RCVHWM 100000

/*  A page requested and not yet ended. */
typedef struct {
    uint64_t id;   /* request id                                  */
    uint64_t from; /* events after this seq                       */
    uint64_t to;   /* up to this seq; 0 for the tail (to the head) */
    uint64_t got;  /* event messages received for it              */
    bool bad;      /* unfiltered: a seq was skipped               */
    bool stale;    /* asked again: its messages are skipped       */
    uint64_t mark; /* `last` when asked: the log's head is >= it  */
} s_page_t;

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
    uint64_t req_id;              /* last request id used                          */
    bool replaying;               /* a replay is in progress                       */
    s_page_t pages[REPLAY_QUEUE]; /* outstanding pages, oldest first (a ring) */
    size_t page_head, page_n;     /* ring start and size                      */
    size_t live_n;                /* of which not stale                       */
    uint64_t next_from;           /* where the next page starts                    */
    bool tail_sent;               /* the tail page is outstanding                  */
    int64_t retry_at;             /* zclock_mono before which no page is asked     */
    int64_t replay_sent;          /* zclock_mono of the replay's last progress     */
    int burst;                    /* replay messages read in a row                 */
    bool recovering;              /* the replay repairs a gap: count what it finds */
    bool probing;                 /* a probe is outstanding                        */
    uint64_t probe_id, probe_from, probe_to, probe_mark;
    int64_t probe_sent;
    bool checking; /* a head check is outstanding                   */
    uint64_t check_id, check_mark;
    int64_t check_sent;
    bool suspect;          /* a heartbeat below `last` was heard            */
    uint64_t suspect_head; /* the lowest such head since the last check  */
    uint64_t regressions;  /* head regressions found                     */
    uint64_t regressed_at; /* where the last one resynchronised from     */
    uint64_t recovered;    /* events that came only through recovery        */
    uint64_t gaps;         /* gaps detected                                 */
    zlistx_t *held;        /* live messages (zmsg_t) held during replay     */
    zmq_msg_t batch;       /* a replay.batch being read (batch_open)         */
    bool batch_open;
    size_t batch_pos; /* where its next event starts                    */
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
    gf_replay_req_t req = {.id = id,
                           .from = from,
                           .prefix = self->prefix,
                           .limit = limit,
                           .to = to,
                           .probe = probe,
                           .batch = true};
    zframe_t *body = gf_replay_req_encode (&req);
    if (zframe_send (&body, self->dealer, ZFRAME_DONTWAIT) != 0)
        zframe_destroy (&body); /* retried on timeout */
}

/*  Asks for one page: (from, to] with limit to - from, or the tail. */
static void s_page_request (gf_stream_t *self, uint64_t from, uint64_t to)
{
    s_send_request (self, from, to, false, to > 0 ? to - from : REPLAY_PAGE);
    s_page_t *page = &self->pages[(self->page_head + self->page_n) % REPLAY_QUEUE];
    *page = (s_page_t){.id = self->req_id, .from = from, .to = to, .mark = self->last};
    self->page_n++;
    self->live_n++;
    if (to == 0)
        self->tail_sent = true;
    self->next_from = to;
}

/*  Keeps REPLAY_CREDIT pages in flight: windows below the known head,
    then the tail alone. */
static void s_fill (gf_stream_t *self, int64_t now)
{
    if (!self->replaying || self->tail_sent || now < self->retry_at)
        return;
    if (self->page_n == 0)
        self->replay_sent = now;
    while (self->live_n < REPLAY_CREDIT && self->page_n < REPLAY_QUEUE && !self->tail_sent) {
        uint64_t from = self->next_from;
        s_page_request (self, from, self->head >= from + REPLAY_PAGE ? from + REPLAY_PAGE : 0);
    }
}

/*  Starts (or restarts) a replay from `verified`: pages still outstanding
    become stale. */
static void s_request (gf_stream_t *self)
{
    for (size_t i = 0; i < self->page_n; i++)
        self->pages[(self->page_head + i) % REPLAY_QUEUE].stale = true;
    self->live_n = 0;
    self->tail_sent = false;
    self->replaying = true;
    self->next_from = self->verified;
    s_fill (self, zclock_mono ());
}

/*  The oldest outstanding page, NULL if none. */
static s_page_t *s_page_first (gf_stream_t *self)
{
    return self->page_n ? &self->pages[self->page_head] : NULL;
}

static void s_page_pop (gf_stream_t *self)
{
    s_page_t *page = s_page_first (self);
    if (!page->stale)
        self->live_n--;
    if (page->to == 0 && !page->stale)
        self->tail_sent = false;
    self->page_head = (self->page_head + 1) % REPLAY_QUEUE;
    self->page_n--;
}

/*  A gap is certain: replay from `verified` and count what it brings. */
static void s_gap (gf_stream_t *self)
{
    self->gaps++;
    self->recovering = true;
    s_request (self);
}

static void s_probe (gf_stream_t *self, uint64_t to)
{
    s_send_request (self, self->verified, to, true, 1);
    self->probing = true;
    self->probe_id = self->req_id;
    self->probe_from = self->verified;
    self->probe_to = to;
    self->probe_mark = self->last;
    self->probe_sent = zclock_mono ();
}

/*  Asks the relay for the log's head (a probe of one seq): its answer says
    whether the log went back below what we have seen. */
static void s_check (gf_stream_t *self, uint64_t head)
{
    s_send_request (self, head, head + 1, true, 1);
    self->checking = true;
    self->check_id = self->req_id;
    self->check_mark = self->last;
    self->check_sent = zclock_mono ();
}

/*  The log's head is below a seq we have seen: the relay follows another
    log (a failover to a standby that was behind, a restore).  Every event
    we saw above the new head is gone from it, and its new events reuse
    those seqs, so we forget our position and replay from the lowest head
    heard from the new log: its new events come once, in seq order. */
static void s_regress (gf_stream_t *self, uint64_t head)
{
    uint64_t from = self->suspect && self->suspect_head < head ? self->suspect_head : head;
    zsys_warning ("stream: head regression: the log's head is %" PRIu64 ", below seq %" PRIu64
                  " already seen; resynchronising from the new log",
                  head, self->last);
    self->regressions++;
    self->regressed_at = from;
    self->verified = self->last = from;
    self->head = head;
    self->seen_n = 0;
    self->anchored = true;
    self->probing = self->checking = self->suspect = false;
    self->recovering = false;
    zlistx_purge (self->held); /* live messages older than the replay's end */
    s_request (self);
}

static void s_msg_destroy (void **item)
{
    zmsg_destroy ((zmsg_t **)item);
}

static gf_stream_t *s_new (const char *pub, const char *replay, const char *prefix, uint64_t since,
                           int rcvhwm, int rcvbuf, const char *cert, const char *relay_cert)
{
    gf_stream_t *self = (gf_stream_t *)zmalloc (sizeof (gf_stream_t));
    self->prefix = strdup (prefix ? prefix : "");
    /* Under CURVE the relay narrows what we get to our identity's rights:
       the seqs we see are not dense, so gaps are found by probe. */
    bool secure = relay_cert && *relay_cert;
    if (!secure)
        cert = relay_cert = NULL; /* plain: the relay runs with curve=off */
    self->filtered = *self->prefix != 0 || secure;
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
    if (gf_auth_client_apply (self->sub, cert, relay_cert) != 0 ||
        gf_auth_client_apply (self->dealer, cert, relay_cert) != 0) {
        gf_stream_destroy (&self);
        return NULL;
    }
    if (zsock_connect (self->sub, "%s", pub) != 0 ||
        zsock_connect (self->dealer, "%s", replay) != 0) {
        zsys_error ("stream: bad endpoint %s or %s", pub, replay);
        gf_stream_destroy (&self);
        return NULL;
    }
    if (since != GF_STREAM_LIVE) {
        self->anchored = true;
        self->verified = self->last = since;
        s_request (self);
    }
    return self;
}

gf_stream_t *gf_stream_new_sized (const char *pub, const char *replay, const char *prefix,
                                  uint64_t since, int rcvhwm, int rcvbuf)
{
    return s_new (pub, replay, prefix, since, rcvhwm, rcvbuf, NULL, NULL);
}

gf_stream_t *gf_stream_new (const char *pub, const char *replay, const char *prefix, uint64_t since)
{
    return s_new (pub, replay, prefix, since, DEFAULT_RCVHWM, 0, NULL, NULL);
}

gf_stream_t *gf_stream_new_secure (const char *pub, const char *replay, const char *prefix,
                                   uint64_t since, int rcvhwm, int rcvbuf, const char *cert,
                                   const char *relay_cert)
{
    return s_new (pub, replay, prefix, since, rcvhwm > 0 ? rcvhwm : DEFAULT_RCVHWM, rcvbuf, cert,
                  relay_cert);
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
    if (self->batch_open)
        zmq_msg_close (&self->batch);
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

/*  The end of the oldest page (not stale). */
static void s_on_page_end (gf_stream_t *self, bool ok, bool has_count, uint64_t count,
                           uint64_t last, bool more)
{
    s_page_t page = *s_page_first (self);
    s_page_pop (self);
    if (!ok) {
        self->retry_at = zclock_mono () + 500; /* ask again soon */
        s_request (self);
        return;
    }
    if ((has_count && count != page.got) || page.bad) {
        /* Messages of this page were lost on the way: ask again. */
        s_request (self);
        return;
    }
    /* Every matching event up to `last` has been delivered. */
    if (last > self->verified) {
        if (self->filtered)
            s_verify_to (self, last);
        else
            self->verified = last; /* dense up to here: nothing else exists */
    }
    if (self->verified > self->last)
        self->last = self->verified;
    if (page.to > 0 && last == page.to)
        return; /* a complete window: the next one is on its way */
    if (page.to > 0 || more) {
        /* A window that ended short (the log is shorter than we thought),
           or the tail with more after it: go on from here. */
        s_request (self);
        return;
    }
    /* The tail reached the head: the replay is over. */
    if (self->page_n == 0) {
        self->replaying = false;
        self->recovering = false;
    } else
        s_request (self); /* cannot happen: the tail is the last page */
}

/*  Receives one message without waiting: its first two frames (more are
    dropped) into a and b.  Returns the number of frames, 0 if none was
    waiting.  The caller closes a and b. */
static int s_recv_nowait (void *sock, zmq_msg_t *a, zmq_msg_t *b)
{
    zmq_msg_init (a);
    zmq_msg_init (b);
    if (zmq_msg_recv (a, sock, ZMQ_DONTWAIT) < 0)
        return 0;
    int frames = 1;
    bool more = zmq_msg_more (a);
    while (more) {
        /* The rest of a message is there once its first frame is. */
        zmq_msg_t extra, *part = frames == 1 ? b : &extra;
        if (part == &extra)
            zmq_msg_init (&extra);
        int rc = zmq_msg_recv (part, sock, 0);
        more = rc >= 0 && zmq_msg_more (part);
        if (part == &extra)
            zmq_msg_close (&extra);
        if (rc < 0)
            break;
        frames++;
    }
    return frames;
}

/*  The same as a zmsg_t, or NULL if none was waiting. */
static zmsg_t *s_zmsg_recv_nowait (void *sock)
{
    zmq_msg_t part;
    zmq_msg_init (&part);
    if (zmq_msg_recv (&part, sock, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&part);
        return NULL;
    }
    zmsg_t *msg = zmsg_new ();
    while (true) {
        zmsg_addmem (msg, zmq_msg_data (&part), zmq_msg_size (&part));
        bool more = zmq_msg_more (&part);
        zmq_msg_close (&part);
        zmq_msg_init (&part);
        if (!more || zmq_msg_recv (&part, sock, 0) < 0)
            break;
    }
    zmq_msg_close (&part);
    return msg;
}

static void s_on_replay_end (gf_stream_t *self, const void *data, size_t size)
{
    gf_error_t err = {GF_OK, ""};
    gf_msg_t *end = gf_msg_decode (data, size, &err);
    uint64_t last = 0, head = 0, count = 0;
    bool more = false, ok = true, has_count = false;
    if (end) {
        gf_msg_get_uint (end, "last", false, &last, &err);
        gf_msg_get_bool (end, "more", false, &more, &err);
        gf_msg_get_bool (end, "ok", false, &ok, &err);
        has_count = gf_msg_get_uint (end, "count", false, &count, &err) == 0;
        bool has_head = gf_msg_get_uint (end, "head", false, &head, &err) == 0;
        uint64_t id = s_id_of (gf_msg_id (end));
        if (head > self->head)
            self->head = head;
        /* Everything seen when a request was sent was in the log then: an
           answer whose head is below that proves the log went back. */
        bool known = false;
        uint64_t mark = 0;
        if (id && self->probing && id == self->probe_id)
            known = true, mark = self->probe_mark;
        else if (id && self->checking && id == self->check_id)
            known = true, mark = self->check_mark;
        for (size_t i = 0; id && i < self->page_n && !known; i++) {
            s_page_t *page = &self->pages[(self->page_head + i) % REPLAY_QUEUE];
            if (page->id == id)
                known = true, mark = page->mark;
        }
        bool regressed = known && ok && has_head && head < mark;
        if (id && self->checking && id == self->check_id) {
            self->checking = false;
            if (!regressed)
                self->suspect = false; /* a heartbeat from before our last event */
        } else if (id && self->probing && id == self->probe_id)
            s_on_probe_end (self, ok, has_count, count);
        else if (id) {
            /* Pages are answered in order: one before this page that has
               not ended lost its end on the way. */
            bool in_ring = false;
            for (size_t i = 0; i < self->page_n && !in_ring; i++)
                in_ring = self->pages[(self->page_head + i) % REPLAY_QUEUE].id == id;
            bool lost = false;
            while (in_ring && s_page_first (self)->id != id) {
                lost |= !s_page_first (self)->stale;
                s_page_pop (self);
            }
            if (!in_ring)
                ; /* an answer to a request from before a timeout */
            else if (s_page_first (self)->stale)
                s_page_pop (self);
            else if (lost) {
                s_page_pop (self);
                s_request (self);
            } else
                s_on_page_end (self, ok, has_count, count, last, more);
        }
        if (regressed)
            s_regress (self, head);
    }
    gf_msg_destroy (&end);
}

/*  One event of a replay page (body NULL: the message was not [topic,
    body]): counted against the page, decoded and set in *event_p when it
    is one to deliver. */
static void s_replay_event (gf_stream_t *self, const char *t, size_t tsize, const void *body,
                            size_t bsize, gf_msg_t **event_p, char **topic)
{
    s_page_t *page = s_page_first (self);
    if (page)
        page->got++;
    gf_msg_t *event = NULL;
    uint64_t seq = 0;
    if (page && !page->stale && body) {
        gf_error_t err = {GF_OK, ""};
        event = gf_msg_decode (body, bsize, &err);
        if (!event || gf_msg_get_uint (event, "seq", true, &seq, &err) != 0) {
            zsys_warning ("stream: bad event on %.*s: %s", (int)tsize, t, err.message);
            gf_msg_destroy (&event);
        }
    }
    /* Not in answer to a page still wanted (stale, or from before a
       timeout): dropped; a gap or probe brings it if needed. */
    if (event && !self->filtered && seq > self->verified + 1)
        page->bad = true; /* a message of the page was lost */
    else if (event && s_accept (self, seq)) {
        if (self->recovering)
            self->recovered++;
        *topic = (char *)malloc (tsize + 1);
        assert (*topic);
        memcpy (*topic, t, tsize);
        (*topic)[tsize] = 0;
        *event_p = event;
        event = NULL;
    }
    gf_msg_destroy (&event);
}

/*  The next event of the open replay.batch: 1, or 0 when it has no more
    (then it is closed).  A malformed batch loses its remaining events:
    the page's count then tells that it came short, and it is asked again. */
static int s_batch_next (gf_stream_t *self, gf_msg_t **event_p, char **topic)
{
    const char *t;
    const void *body;
    size_t tsize, bsize;
    int rc = gf_replay_batch_next (zmq_msg_data (&self->batch), zmq_msg_size (&self->batch),
                                   &self->batch_pos, &t, &tsize, &body, &bsize);
    if (rc == 1) {
        s_replay_event (self, t, tsize, body, bsize, event_p, topic);
        return 1;
    }
    if (rc < 0)
        zsys_warning ("stream: malformed replay batch at byte %zu", self->batch_pos);
    zmq_msg_close (&self->batch);
    self->batch_open = false;
    return 0;
}

/*  Reads one event or message from the replay socket without waiting
    (the events of a replay.batch one by one).  Returns 0 if none was
    waiting, else 1, with *event set when it is one to deliver.  now:
    zclock_mono, read once per turn of gf_stream_next. */
static int s_on_replay (gf_stream_t *self, int64_t now, gf_msg_t **event_p, char **topic)
{
    if (self->batch_open && s_batch_next (self, event_p, topic))
        return 1;
    zmq_msg_t tmsg, bmsg;
    int frames = s_recv_nowait (zsock_resolve (self->dealer), &tmsg, &bmsg);
    if (frames == 0) {
        zmq_msg_close (&tmsg);
        zmq_msg_close (&bmsg);
        return 0;
    }
    if (self->replaying)
        self->replay_sent = now; /* progress: the relay is answering */
    const char *t = (const char *)zmq_msg_data (&tmsg);
    size_t tsize = zmq_msg_size (&tmsg);
    if (frames == 2 && tsize == strlen (GF_TYPE_REPLAY_END) &&
        memcmp (t, GF_TYPE_REPLAY_END, tsize) == 0)
        s_on_replay_end (self, zmq_msg_data (&bmsg), zmq_msg_size (&bmsg));
    else if (frames == 2 && tsize == strlen (GF_TYPE_REPLAY_BATCH) &&
             memcmp (t, GF_TYPE_REPLAY_BATCH, tsize) == 0) {
        zmq_msg_init (&self->batch);
        zmq_msg_move (&self->batch, &bmsg);
        self->batch_open = true;
        self->batch_pos = 0;
        s_batch_next (self, event_p, topic);
    } else
        s_replay_event (self, t, tsize, frames == 2 ? zmq_msg_data (&bmsg) : NULL,
                        zmq_msg_size (&bmsg), event_p, topic);
    zmq_msg_close (&tmsg);
    zmq_msg_close (&bmsg);
    return 1;
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
    } else if (self->anchored && head < self->last) {
        /* Below what we have seen: an old heartbeat still queued, or the
           relay follows a log that went back.  Ask the log. */
        if (!self->suspect || head < self->suspect_head)
            self->suspect_head = head;
        self->suspect = true;
        if (!self->probing && !self->checking)
            s_check (self, head);
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
    int64_t deadline = -1; /* set when it first has to wait */
    zmq_pollitem_t items[] = {{zsock_resolve (self->sub), 0, ZMQ_POLLIN, 0},
                              {zsock_resolve (self->dealer), 0, ZMQ_POLLIN, 0}};
    while (!zsys_interrupted) {
        /* One clock read per turn: a replay turns once per event. */
        int64_t now = zclock_mono ();
        /* Held live messages go out once the replay is over. */
        if (!self->replaying && zlistx_size (self->held) > 0) {
            zmsg_t *msg = (zmsg_t *)zlistx_detach (self->held, NULL);
            gf_msg_t *event = s_on_live (self, msg, topic);
            if (event)
                return event;
            continue;
        }
        if (self->replaying && now - self->replay_sent > REPLAY_TIMEOUT) {
            /* Lost or restarted: forget the pages and ask again. */
            self->page_n = self->live_n = 0;
            self->tail_sent = false;
            s_request (self);
        }
        s_fill (self, now);
        if (self->probing && now - self->probe_sent > REPLAY_TIMEOUT)
            self->probing = false; /* probe again at the next heartbeat */
        if (self->checking && now - self->check_sent > REPLAY_TIMEOUT)
            self->checking = false; /* check again at the next heartbeat */
        /* Read what is queued without polling, replay first, but look at
           the live socket every REPLAY_BURST replay messages. */
        gf_msg_t *event = NULL;
        if (self->burst < REPLAY_BURST && s_on_replay (self, now, &event, topic)) {
            self->burst++;
            if (event)
                return event;
            continue;
        }
        self->burst = 0;
        zmsg_t *msg = s_zmsg_recv_nowait (zsock_resolve (self->sub));
        if (msg) {
            event = s_on_live (self, msg, topic);
            if (event)
                return event;
            continue;
        }
        if (zsock_events (self->dealer) & ZMQ_POLLIN)
            continue; /* the burst ended with more to read */
        if (deadline < 0)
            deadline = now + timeout_ms;
        int64_t wait = deadline - now;
        if (wait < 0)
            return NULL;
        if (self->replaying && self->retry_at > now && self->retry_at - now < wait)
            wait = self->retry_at - now;
        if (zmq_poll (items, 2, wait > 200 ? 200 : wait) < 0)
            return NULL;
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

uint64_t gf_stream_regressions (gf_stream_t *self)
{
    return self->regressions;
}

uint64_t gf_stream_regressed_at (gf_stream_t *self)
{
    return self->regressed_at;
}
