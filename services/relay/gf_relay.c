/*  gf_relay — the sequencer and publisher. */
#include "gf_relay.h"
#include "gf_clock.h"
#include "gf_config.h"
#include "gf_db.h"
#include "gf_metrics.h"
#include "gf_proto.h"
#include "gf_service.h"

/*  Leadership: one relay sequences at a time. */
#define RELAY_LOCK_KEY "7146203001"
#define SEQUENCE_BATCH "1000" /* one round stays well under service/drain, even under ASan */
#define HEARTBEAT_MS   1000
/*  Messages queued per subscriber before ZeroMQ drops that subscriber's
    messages (PUB never blocks): a stuck subscriber costs at most this
    much memory and recovers by replay.  GF_RELAY_SNDHWM overrides it. */
#define PUB_SNDHWM 100000

static const char *SQL_LEAD = "SELECT pg_try_advisory_lock (" RELAY_LOCK_KEY ") AS leader";
static const char *SQL_HEAD = "SELECT coalesce (max (seq), 0) AS head FROM case_events";

/*  Number the oldest committed, unsequenced events after the current head
    and return them in seq order (deploy/sql/repeatable/events.sql). */
static const char *SQL_SEQUENCE = "SELECT * FROM gf_sequence_events ($1)";

typedef struct {
    gf_config_t *config;      /* borrowed                                    */
    gf_db_t *db;              /* sequencer connection (holds the lock)       */
    zsock_t *pub;             /* the event stream                            */
    bool leader;              /* we hold the advisory lock on this connection */
    uint64_t head;            /* last seq assigned                           */
    uint64_t published;       /* events published since start               */
    uint64_t dropped;         /* sends the PUB socket refused (never blocks) */
    int64_t busy_us;          /* time spent sequencing + publishing batches  */
    int64_t pub_us;           /* of which in PUB sends                        */
    uint64_t batched;         /* events in those batches                      */
    gf_metric_t *m_published; /* gf_relay_published_total                    */
    gf_metric_t *m_head;      /* gf_relay_head_seq                           */
    gf_metric_t *m_leader;    /* gf_relay_leader                             */
} s_relay_t;

static void s_publish_rows (s_relay_t *self, PGresult *rows)
{
    for (int r = 0; r < PQntuples (rows); r++) {
        uint64_t seq = (uint64_t)gf_db_get_ll (rows, r, "seq");
        zframe_t *body =
            gf_event_encode (seq, gf_db_get (rows, r, "type"), gf_db_get_ll (rows, r, "id"),
                             gf_db_get_ll (rows, r, "at_ms"), gf_db_get_ll (rows, r, "case_id"),
                             gf_db_get (rows, r, "grid"), gf_db_get (rows, r, "payload"));
        if (!body) {
            /* Cannot happen for payloads written by our own SQL; the event
               stays in the log and is served by replay. */
            zsys_error ("relay: cannot encode event seq %" PRIu64, seq);
            continue;
        }
        /* PUB drops rather than blocks at a subscriber's HWM; DONTWAIT
           makes sure nothing here can ever wait for a subscriber. */
        const char *topic = gf_db_get (rows, r, "topic");
        if (zmq_send (zsock_resolve (self->pub), topic, strlen (topic),
                      ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
            zframe_send (&body, self->pub, ZFRAME_DONTWAIT) != 0) {
            zframe_destroy (&body);
            self->dropped++;
        }
        self->head = seq;
        self->published++;
        gf_metric_add (self->m_published, 1);
    }
    gf_metric_set (self->m_head, (int64_t)self->head);
}

/*  Takes leadership if free.  Returns true when we are the leader. */
static bool s_lead (s_relay_t *self)
{
    if (self->leader && gf_db_conn (self->db))
        return true;
    if (self->leader)
        zsys_warning ("relay: lost the database connection, so the sequencer lock");
    self->leader = false;
    PGresult *res = gf_db_exec (self->db, SQL_LEAD, 0, NULL);
    if (res && streq (gf_db_get (res, 0, "leader"), "t")) {
        PQclear (res);
        res = gf_db_exec (self->db, SQL_HEAD, 0, NULL);
        if (res) {
            self->head = (uint64_t)gf_db_get_ll (res, 0, "head");
            self->leader = true;
            gf_db_listen (self->db, "gf_events");
            zsys_info ("relay: leader; log head is seq %" PRIu64, self->head);
        }
    }
    if (res)
        PQclear (res);
    /* Ready means publishing: a standby relay is alive but not ready. */
    gf_metrics_ready ("publishing", self->leader);
    gf_metric_set (self->m_leader, self->leader);
    return self->leader;
}

/*  One sequencing transaction.  Returns events published, or -1. */
static int s_sequence (s_relay_t *self)
{
    const char *params[] = {SEQUENCE_BATCH};
    int64_t start = zclock_usecs ();
    if (gf_db_begin (self->db))
        return -1;
    PGresult *rows = gf_db_exec (self->db, SQL_SEQUENCE, 1, params);
    if (!rows || gf_db_commit (self->db) != 0) {
        if (rows)
            PQclear (rows);
        gf_db_rollback (self->db);
        if (gf_db_lost (self->db))
            self->leader = false;
        return -1;
    }
    int count = PQntuples (rows);
    int64_t pub_start = zclock_usecs ();
    s_publish_rows (self, rows); /* only after commit: the numbers are final */
    if (count > 0) {
        self->pub_us += zclock_usecs () - pub_start;
        self->busy_us += zclock_usecs () - start;
        self->batched += (uint64_t)count;
    }
    PQclear (rows);
    if (self->config->verbose && count)
        zsys_debug ("relay: sequenced %d events in %" PRId64 " ms, published in %" PRId64 " ms",
                    count, (pub_start - start) / 1000, (zclock_usecs () - pub_start) / 1000);
    return count;
}

static void s_heartbeat (s_relay_t *self)
{
    zframe_t *body = gf_relay_hb_encode (gf_clock_now_ms (), self->head);
    if (zmq_send (zsock_resolve (self->pub), GF_TOPIC_RELAY_HB, strlen (GF_TOPIC_RELAY_HB),
                  ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zframe_send (&body, self->pub, ZFRAME_DONTWAIT) != 0)
        zframe_destroy (&body);
}

void gf_relay_actor (zsock_t *pipe, void *args)
{
    s_relay_t self = {.config = (gf_config_t *)args};
    self.m_published = gf_metrics_counter ("gf_relay_published_total", NULL);
    self.m_head = gf_metrics_gauge ("gf_relay_head_seq", NULL);
    self.m_leader = gf_metrics_gauge ("gf_relay_leader", NULL);
    gf_metrics_ready ("publishing", false);
    self.db = gf_db_new (self.config->db, "gf-relay");
    self.pub = zsock_new (ZMQ_PUB);
    const char *hwm = getenv ("GF_RELAY_SNDHWM");
    zsock_set_sndhwm (self.pub, hwm && atoi (hwm) > 0 ? atoi (hwm) : PUB_SNDHWM);
    const char *sndbuf = getenv ("GF_RELAY_SNDBUF"); /* bytes, kernel; tests shrink it */
    if (sndbuf && atoi (sndbuf) > 0)
        zsock_set_sndbuf (self.pub, atoi (sndbuf));
    zactor_t *replay = NULL;
    if (zsock_bind (self.pub, "%s", self.config->pub) < 0) {
        zsys_error ("relay: cannot bind %s: %s", self.config->pub, zmq_strerror (zmq_errno ()));
        zsock_signal (pipe, 1);
        goto done;
    }
    replay = zactor_new (gf_relay_replay_actor, self.config);
    zsys_info ("relay: publishing on %s, replay on %s", self.config->pub, self.config->replay);
    zsock_signal (pipe, 0);

    int64_t next_hb = 0;
    int backoff = 100;
    zmq_pollitem_t items[3] = {{zsock_resolve (pipe), 0, ZMQ_POLLIN, 0},
                               {zsock_resolve (replay), 0, ZMQ_POLLIN, 0},
                               {NULL, -1, ZMQ_POLLIN, 0}};
    while (!zsys_interrupted) {
        int timeout = HEARTBEAT_MS;
        if (s_lead (&self)) {
            gf_db_drain_notifies (self.db);
            int count = s_sequence (&self);
            if (count < 0) {
                timeout = backoff;
                backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
            } else {
                backoff = 100;
                if (count == atoi (SEQUENCE_BATCH))
                    timeout = 0;
            }
        } else
            timeout = gf_db_conn (self.db) ? 1000 : backoff; /* standby: try again soon */
        if (zclock_mono () >= next_hb) {
            if (self.leader)
                s_heartbeat (&self);
            next_hb = zclock_mono () + HEARTBEAT_MS;
        }
        PGconn *conn = gf_db_conn (self.db);
        items[2].fd = self.leader && conn ? PQsocket (conn) : -1;
        int64_t until_hb = next_hb - zclock_mono ();
        if (timeout > until_hb)
            timeout = until_hb > 0 ? (int)until_hb : 0;
        if (zmq_poll (items, items[2].fd >= 0 ? 3 : 2, timeout) < 0)
            break;
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
                   "sequencing, %.1f ms of it in PUB sends; %" PRIu64 " sends refused)",
                   self.batched * 1e6 / (double)(self.busy_us > 0 ? self.busy_us : 1), self.batched,
                   self.busy_us / 1000.0, self.pub_us / 1000.0, self.dropped);
done:
    zactor_destroy (&replay);
    zsock_destroy (&self.pub);
    gf_db_destroy (&self.db);
}
