/*  gf_relay — the publisher of the numbered log. */
#include "gf_relay.h"
#include "gf_auth.h"
#include "gf_clock.h"
#include "gf_config.h"
#include "gf_db.h"
#include "gf_lease.h"
#include "gf_metrics.h"
#include "gf_proto.h"
#include "gf_service.h"

/*  Leadership: one relay publishes at a time (its subscribers see one
    stream, in order), the holder of the lease "relay" (common/gf_lease.c,
    service/lease): a relay frozen (SIGSTOP, a VM pause) loses it to a
    standby within the lease time, one killed at the standby's next look.
    The writers number their events at commit (events.sql); the relay only
    reads them, and the read itself checks that the lease is still its own
    (gf_lease_fence in the same statement, so that no pause can fall
    between the check and the read): a relay that wakes up after a standby
    took over publishes nothing it read after the takeover.  Standbys send
    heartbeats too, with the log's head, so that a subscriber connected to
    one sees what it misses and replays it (docs/streams.md). */
#define READ_BATCH   "1000" /* one round stays well under service/drain, even under ASan */
#define HEARTBEAT_MS 1000
/*  Messages queued per subscriber before ZeroMQ drops that subscriber's
    messages (PUB never blocks): a stuck subscriber costs at most this
    much memory and recovers by replay.  GF_RELAY_SNDHWM overrides it. */
#define PUB_SNDHWM 100000

static const char *SQL_HEAD = "SELECT coalesce (max (seq), 0) AS head FROM case_events";

/*  The committed events after our head, in seq order
    (deploy/sql/repeatable/events.sql), read only while the lease is ours
    ($3, $4: its name and our epoch): no row comes out unless the fence
    passed in this statement, and the statement's snapshot is older than
    any takeover the fence did not see (a takeover waits for the fence's
    share lock).  A fence checked by a statement of its own before the read
    left a gap: a relay frozen between the two (test_leases caught it)
    read, once woken, events committed after a standby had taken over and
    published them beside the new leader. */
#define LEASE_NAME "relay"
static const char *SQL_READ =
    "SELECT e.* FROM gf_lease_fence ($3, $4::bigint) f, gf_events_after ($1, $2) e";

/*  A subscriber's rights: the topic prefixes it may read, one a row; none
    for an unknown or revoked key (deploy/sql/repeatable/streams.sql). */
static const char *SQL_RIGHTS = "SELECT r FROM unnest (gf_stream_rights ($1)) r";
/*  Of the keys in $1, those that lost their rights (revoked, deleted). */
static const char *SQL_GONE =
    "SELECT k FROM unnest ($1::text[]) k WHERE gf_stream_rights (k) IS NULL";

/*  How often the keys of connected subscribers are checked for revocation. */
#define RIGHTS_RECHECK_MS 2000
/*  A subscription message is a topic prefix: never more than this. */
#define SUBSCRIPTION_MAX 65536

typedef struct {
    gf_config_t *config;      /* borrowed                                    */
    gf_db_t *db;              /* our connection                              */
    gf_lease_t *lease;        /* the lease "relay": only its holder publishes */
    zsock_t *pub;             /* the event stream (XPUB, manual subscriptions) */
    gf_auth_t *auth;          /* CurveZMQ (zauth) for PUB and replay         */
    zhashx_t *keys;           /* public keys that subscribed (CURVE)          */
    int64_t recheck_at;       /* zclock_mono of the next revocation check    */
    bool leader;              /* we hold the lease and publish               */
    uint64_t head;            /* last seq published                          */
    uint64_t published;       /* events published since start               */
    uint64_t dropped;         /* sends the PUB socket refused (never blocks) */
    int64_t busy_us;          /* time spent reading + publishing batches     */
    int64_t pub_us;           /* of which in PUB sends                        */
    uint64_t batched;         /* events in those batches                      */
    gf_metric_t *m_published; /* gf_relay_published_total                    */
    gf_metric_t *m_head;      /* gf_relay_head_seq                           */
    gf_metric_t *m_leader;    /* gf_relay_leader                             */
} s_relay_t;

static void s_publish_rows (s_relay_t *self, PGresult *rows)
{
    void *pub = zsock_resolve (self->pub);
    msgpack_sbuffer body; /* one buffer for the batch: zmq_send copies it */
    msgpack_sbuffer_init (&body);
    for (int r = 0; r < PQntuples (rows); r++) {
        uint64_t seq = (uint64_t)gf_db_get_ll (rows, r, "seq");
        if (gf_event_pack (&body, seq, gf_db_get (rows, r, "type"), gf_db_get_ll (rows, r, "id"),
                           gf_db_get_ll (rows, r, "at_ms"), gf_db_get_ll (rows, r, "case_id"),
                           gf_db_get (rows, r, "grid"), gf_db_get (rows, r, "payload"))) {
            /* Cannot happen for payloads written by our own SQL; the event
               stays in the log and is served by replay. */
            zsys_error ("relay: cannot encode event seq %" PRIu64, seq);
            continue;
        }
        /* PUB drops rather than blocks at a subscriber's HWM; DONTWAIT
           makes sure nothing here can ever wait for a subscriber. */
        const char *topic = gf_db_get (rows, r, "topic");
        if (zmq_send (pub, topic, strlen (topic), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
            zmq_send (pub, body.data, body.size, ZMQ_DONTWAIT) < 0)
            self->dropped++;
        self->head = seq;
        self->published++;
        gf_metric_add (self->m_published, 1);
    }
    msgpack_sbuffer_destroy (&body);
    gf_metric_set (self->m_head, (int64_t)self->head);
}

/*  The log's head, or -1. */
static int64_t s_log_head (s_relay_t *self)
{
    PGresult *res = gf_db_exec (self->db, SQL_HEAD, 0, NULL);
    if (!res)
        return -1;
    int64_t head = gf_db_get_ll (res, 0, "head");
    PQclear (res);
    return head;
}

/*  Looks at the lease when a look is due.  Returns true while we lead: a
    new leader starts at the log's head (subscribers repair the rest by
    replay), one that lost the lease stands by. */
static bool s_lead (s_relay_t *self)
{
    bool held = gf_lease_hold (self->lease, self->db);
    if (self->leader && !held) {
        zsys_warning ("relay: no longer the leader; standing by");
        self->leader = false;
    }
    if (held && !self->leader) {
        int64_t head = s_log_head (self);
        if (head >= 0) {
            self->head = (uint64_t)head;
            self->leader = true;
            gf_db_listen (self->db, "gf_events");
            zsys_info ("relay: leader; log head is seq %" PRIu64, self->head);
        }
    }
    /* Ready means publishing: a standby relay is alive but not ready. */
    gf_metrics_ready ("publishing", self->leader);
    gf_metric_set (self->m_leader, self->leader);
    return self->leader;
}

/*  Nothing after our head: if the log's head is below it (a database
    restored, or a failover to a standby that was behind, without our
    connection dropping), publish from the log's head again; subscribers
    see the lower head in the heartbeat and resynchronise (docs/streams.md). */
static void s_head_check (s_relay_t *self)
{
    PGresult *res = gf_db_exec (self->db, SQL_HEAD, 0, NULL);
    if (!res)
        return;
    uint64_t head = (uint64_t)gf_db_get_ll (res, 0, "head");
    PQclear (res);
    if (head < self->head) {
        zsys_warning ("relay: the log's head went back from seq %" PRIu64 " to %" PRIu64
                      "; publishing from there",
                      self->head, head);
        self->head = head;
        gf_metric_set (self->m_head, (int64_t)head);
    }
}

/*  One read of the log after our head.  Returns events published, or -1.
    The rows are committed and numbered: nothing to wait for before
    publishing them. */
static int s_publish (s_relay_t *self)
{
    char after[24], epoch[24];
    snprintf (after, sizeof after, "%" PRIu64, self->head);
    snprintf (epoch, sizeof epoch, "%" PRId64, gf_lease_epoch (self->lease));
    const char *params[] = {after, READ_BATCH, LEASE_NAME, epoch};
    int64_t start = zclock_usecs ();
    PGresult *rows = gf_db_exec_prepared (self->db, SQL_READ, 4, params);
    if (!rows) {
        if (gf_db_lost (self->db))
            self->leader = false;
        else if (streq (gf_db_sqlstate (self->db), "GF409")) {
            /* Not ours any more (a relay that slept through a takeover
               stops here): the fence steps down and counts it, and s_lead
               looks at once: it stands by, heartbeats carry the log's head. */
            gf_lease_fence (self->lease, self->db);
            s_lead (self);
        }
        return -1;
    }
    int count = PQntuples (rows);
    if (count == 0)
        s_head_check (self);
    else if ((uint64_t)gf_db_get_ll (rows, 0, "seq") != self->head + 1)
        zsys_error ("relay: the log has a gap after seq %" PRIu64 " (next is %s)", self->head,
                    gf_db_get (rows, 0, "seq"));
    int64_t pub_start = zclock_usecs ();
    s_publish_rows (self, rows);
    if (count > 0) {
        self->pub_us += zclock_usecs () - pub_start;
        self->busy_us += zclock_usecs () - start;
        self->batched += (uint64_t)count;
    }
    PQclear (rows);
    if (self->config->verbose && count)
        zsys_debug ("relay: read %d events in %" PRId64 " ms, published in %" PRId64 " ms", count,
                    (pub_start - start) / 1000, (zclock_usecs () - pub_start) / 1000);
    return count;
}

/*  The leader's heartbeat carries its head; a standby's the log's. */
static void s_heartbeat (s_relay_t *self)
{
    uint64_t head = self->head;
    if (!self->leader) {
        int64_t log_head = gf_db_conn (self->db) ? s_log_head (self) : -1;
        if (log_head < 0)
            return; /* nothing to say */
        head = (uint64_t)log_head;
    }
    zframe_t *body = gf_relay_hb_encode (gf_clock_now_ms (), head);
    if (zmq_send (zsock_resolve (self->pub), GF_TOPIC_RELAY_HB, strlen (GF_TOPIC_RELAY_HB),
                  ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zframe_send (&body, self->pub, ZFRAME_DONTWAIT) != 0)
        zframe_destroy (&body);
}

/*  Applies (un)subscription opt for `want` to the pipe that sent it,
    narrowed to what rights allows: the prefixes both `want` and a right
    match (the longer of the two), and relay.hb for everyone.  rights NULL:
    plain endpoint, `want` as asked. */
static void s_subscribe (void *xpub, int opt, const char *want, size_t wlen, PGresult *rights)
{
    if (!rights) {
        zmq_setsockopt (xpub, opt, want, wlen);
        return;
    }
    int n = PQntuples (rights);
    for (int r = -1; r < n; r++) {
        const char *right = r < 0 ? GF_TOPIC_RELAY_HB : PQgetvalue (rights, r, 0);
        size_t rlen = strlen (right);
        if (wlen <= rlen && memcmp (want, right, wlen) == 0)
            zmq_setsockopt (xpub, opt, right, rlen); /* narrowed to the right */
        else if (rlen < wlen && memcmp (want, right, rlen) == 0)
            zmq_setsockopt (xpub, opt, want, wlen); /* inside the right */
    }
}

/*  Handles the (un)subscription messages waiting on the XPUB socket.  With
    XPUB_MANUAL nothing reaches a subscriber unless set here, for the pipe
    that sent the message just read.  Under CURVE the message carries the
    subscriber's public key (User-Id) and it gets only what its identity may
    read (gf_stream_rights); an unknown or revoked key, or no database, gets
    nothing: refused, not guessed. */
static void s_subscriptions (s_relay_t *self)
{
    void *xpub = zsock_resolve (self->pub);
    for (int i = 0; i < 1000; i++) {
        zmq_msg_t msg;
        zmq_msg_init (&msg);
        if (zmq_msg_recv (&msg, xpub, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&msg);
            return;
        }
        const char *data = (const char *)zmq_msg_data (&msg);
        size_t size = zmq_msg_size (&msg);
        if (size < 1 || (data[0] != 0 && data[0] != 1)) {
            zmq_msg_close (&msg);
            continue;
        }
        int opt = data[0] ? ZMQ_SUBSCRIBE : ZMQ_UNSUBSCRIBE;
        if (!gf_auth_curve (self->auth))
            s_subscribe (xpub, opt, data + 1, size - 1, NULL);
        else {
            const char *uid = zmq_msg_gets (&msg, "User-Id");
            const char *params[] = {uid};
            PGresult *rights = uid && *uid ? gf_db_exec (self->db, SQL_RIGHTS, 1, params) : NULL;
            if (rights && PQntuples (rights) > 0) {
                s_subscribe (xpub, opt, data + 1, size - 1, rights);
                if (opt == ZMQ_SUBSCRIBE)
                    zhashx_update (self->keys, uid, (void *)"");
            } else if (opt == ZMQ_SUBSCRIBE)
                zsys_warning ("relay: subscription refused for %.8s (%s)", uid ? uid : "-",
                              rights ? "no stream rights" : "rights unavailable");
            if (rights)
                PQclear (rights);
        }
        zmq_msg_close (&msg);
    }
}

/*  Binds a new XPUB socket, secured and limited; retries while the port of
    a socket just closed is still in use.  Returns 0 or -1 (logged). */
static int s_pub_open (s_relay_t *self)
{
    self->pub = zsock_new (ZMQ_XPUB);
    if (!self->pub)
        return -1;
    zsock_set_xpub_manual (self->pub, 1);
    const char *hwm = getenv ("GF_RELAY_SNDHWM");
    zsock_set_sndhwm (self->pub, hwm && atoi (hwm) > 0 ? atoi (hwm) : PUB_SNDHWM);
    const char *sndbuf = getenv ("GF_RELAY_SNDBUF"); /* bytes, kernel; tests shrink it */
    if (sndbuf && atoi (sndbuf) > 0)
        zsock_set_sndbuf (self->pub, atoi (sndbuf));
    gf_auth_limits (self->pub, self->config, SUBSCRIPTION_MAX);
    if (gf_auth_server_apply (self->auth, self->pub, self->config, self->config->pub) != 0)
        return -1;
    for (int attempt = 0; attempt < 50; attempt++) {
        if (zsock_bind (self->pub, "%s", self->config->pub) >= 0)
            return 0;
        if (zmq_errno () != EADDRINUSE)
            break;
        zclock_sleep (100);
    }
    zsys_error ("relay: cannot bind %s: %s", self->config->pub, zmq_strerror (zmq_errno ()));
    return -1;
}

/*  Under CURVE: when a subscribed key has lost its rights (gridctl cert
    revoke), the PUB socket is closed and bound again, so every subscriber
    reconnects through ZAP and the subscription check; the others recover
    what they missed by replay (gf_stream), the revoked one gets nothing.
    Returns -1 if the socket could not be bound again. */
static int s_recheck (s_relay_t *self)
{
    if (!gf_auth_curve (self->auth) || zhashx_size (self->keys) == 0 ||
        zclock_mono () < self->recheck_at || !self->leader)
        return 0;
    self->recheck_at = zclock_mono () + RIGHTS_RECHECK_MS;
    /* Z85 has no '"', '\\' or ',': safe inside a quoted array element. */
    zlistx_t *keys = zhashx_keys (self->keys);
    size_t len = 3;
    for (const char *k = (const char *)zlistx_first (keys); k; k = (const char *)zlistx_next (keys))
        len += strlen (k) + 3;
    char *array = (char *)zmalloc (len);
    strcat (array, "{");
    for (const char *k = (const char *)zlistx_first (keys); k; k = (const char *)zlistx_next (keys))
        strcat (strcat (strcat (array, array[1] ? ",\"" : "\""), k), "\"");
    strcat (array, "}");
    zlistx_destroy (&keys);
    const char *params[] = {array};
    PGresult *gone = gf_db_exec (self->db, SQL_GONE, 1, params);
    free (array);
    int rc = 0;
    if (gone && PQntuples (gone) > 0) {
        for (int r = 0; r < PQntuples (gone); r++) {
            zsys_warning ("relay: subscriber %.8s lost its rights: disconnecting every subscriber",
                          PQgetvalue (gone, r, 0));
            zhashx_delete (self->keys, PQgetvalue (gone, r, 0));
        }
        zsock_destroy (&self->pub);
        rc = s_pub_open (self);
    }
    if (gone)
        PQclear (gone);
    return rc;
}

void gf_relay_actor (zsock_t *pipe, void *args)
{
    s_relay_t self = {.config = (gf_config_t *)args};
    self.m_published = gf_metrics_counter ("gf_relay_published_total", NULL);
    self.m_head = gf_metrics_gauge ("gf_relay_head_seq", NULL);
    self.m_leader = gf_metrics_gauge ("gf_relay_leader", NULL);
    gf_metrics_ready ("publishing", false);
    self.db = gf_db_new (self.config->db, "gf-relay");
    self.lease = gf_lease_new (LEASE_NAME, self.config);
    self.keys = zhashx_new ();
    zactor_t *replay = NULL;
    /* One ZAP handler for both sockets, before either binds. */
    self.auth = gf_auth_server_new (NULL, self.config, self.config->pub);
    if (!self.auth || s_pub_open (&self) != 0) {
        zsock_signal (pipe, 1);
        goto done;
    }
    gf_relay_args_t replay_args = {self.config, self.auth};
    replay = zactor_new (gf_relay_replay_actor, &replay_args);
    if (!replay) {
        zsock_signal (pipe, 1);
        goto done;
    }
    zsys_info ("relay: publishing on %s, replay on %s", self.config->pub, self.config->replay);
    zsock_signal (pipe, 0);

    int64_t next_hb = 0;
    int backoff = 100;
    zmq_pollitem_t items[4] = {{zsock_resolve (pipe), 0, ZMQ_POLLIN, 0},
                               {zsock_resolve (replay), 0, ZMQ_POLLIN, 0},
                               {zsock_resolve (self.pub), 0, ZMQ_POLLIN, 0},
                               {NULL, -1, ZMQ_POLLIN, 0}};
    while (!zsys_interrupted) {
        int timeout = HEARTBEAT_MS;
        if (s_lead (&self)) {
            gf_db_drain_notifies (self.db);
            int count = s_publish (&self);
            if (count < 0) {
                timeout = backoff;
                backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
            } else {
                backoff = 100;
                if (count == atoi (READ_BATCH))
                    timeout = 0;
            }
        } else {
            gf_db_drain_notifies (self.db); /* a former leader's LISTEN */
            timeout = gf_db_conn (self.db) ? gf_lease_wait (self.lease) : backoff;
        }
        if (timeout > gf_lease_wait (self.lease))
            timeout = gf_lease_wait (self.lease); /* renew in time */
        if (zclock_mono () >= next_hb) {
            s_heartbeat (&self);
            next_hb = zclock_mono () + HEARTBEAT_MS;
        }
        if (s_recheck (&self) != 0)
            break;
        PGconn *conn = gf_db_conn (self.db);
        items[2].socket = zsock_resolve (self.pub);
        items[3].fd = self.leader && conn ? PQsocket (conn) : -1;
        int64_t until_hb = next_hb - zclock_mono ();
        if (timeout > until_hb)
            timeout = until_hb > 0 ? (int)until_hb : 0;
        if (zmq_poll (items, items[3].fd >= 0 ? 4 : 3, timeout) < 0)
            break;
        if (items[2].revents & ZMQ_POLLIN)
            s_subscriptions (&self);
        if ((items[0].revents & ZMQ_POLLIN) && gf_service_pipe_term (pipe))
            break;
        if (items[1].revents & ZMQ_POLLIN) {
            zsys_error ("relay: replay server stopped");
            break;
        }
    }
    zsys_info ("relay: stopping after publishing %" PRIu64 " events (head %" PRIu64 ")",
               self.published, self.head);
    if (self.batched > 0)
        zsys_info ("relay: publish rate %.0f events/s (%" PRIu64 " events in %.1f ms of "
                   "reading, %.1f ms of it in PUB sends; %" PRIu64 " sends refused)",
                   self.batched * 1e6 / (double)(self.busy_us > 0 ? self.busy_us : 1), self.batched,
                   self.busy_us / 1000.0, self.pub_us / 1000.0, self.dropped);
    if (self.leader)
        gf_lease_release (self.lease, self.db); /* a standby takes over at once */
done:
    gf_lease_destroy (&self.lease);
    zactor_destroy (&replay);
    zsock_destroy (&self.pub);
    gf_auth_destroy (&self.auth);
    zhashx_destroy (&self.keys);
    gf_db_destroy (&self.db);
}
