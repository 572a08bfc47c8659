/*  gf_consumer — a durable, exactly-once consumer of one event type. */
#include "gf_consumer.h"
#include "gf_auth.h"
#include "gf_lease.h"
#include "gf_metrics.h"
#include "gf_service.h"

struct _gf_consumer_t {
    char *name;                /* checkpoint key                              */
    char *type;                /* event type consumed                         */
    gf_config_t *config;       /* borrowed                                    */
    gf_db_t *db;               /* our connection                              */
    zsock_t *sub;              /* wake-ups from the relay                     */
    uint64_t processed;        /* events handled since start                  */
    gf_metric_t *m_events;     /* gf_consumer_events_total{consumer}     */
    gf_metric_t *m_retries;    /* gf_consumer_retries_total{consumer}    */
    gf_metric_t *m_lag;        /* gf_consumer_lag_events{consumer}       */
    gf_metric_t *m_checkpoint; /* gf_consumer_checkpoint_seq{consumer}   */
    gf_lease_t *lease;         /* single-active: only the holder steps   */
};

static const char *SQL_ENSURE =
    "INSERT INTO consumer_checkpoints (consumer) VALUES ($1) ON CONFLICT DO NOTHING";
static const char *SQL_LOCK =
    "SELECT last_seq, (SELECT coalesce (max (seq), 0) FROM case_events) AS head"
    "  FROM consumer_checkpoints WHERE consumer = $1 FOR UPDATE";
static const char *SQL_BATCH =
    "SELECT seq, id, type, case_id, grid, (extract (epoch FROM at) * 1000)::bigint AS at_ms,"
    "       payload::text AS payload"
    "  FROM case_events WHERE type = ANY (string_to_array ($1, ',')) AND seq > $2"
    " ORDER BY seq LIMIT $3";
static const char *SQL_ADVANCE =
    "UPDATE consumer_checkpoints SET last_seq = $2, updated_at = now () WHERE consumer = $1";

gf_consumer_t *gf_consumer_new (const char *name, const char *type, gf_config_t *config)
{
    gf_consumer_t *self = (gf_consumer_t *)zmalloc (sizeof (gf_consumer_t));
    self->name = strdup (name);
    self->type = strdup (type);
    self->config = config;
    self->lease = gf_lease_new (name, config);
    char *labels = zsys_sprintf ("consumer=\"%s\"", name);
    self->m_events = gf_metrics_counter ("gf_consumer_events_total", labels);
    self->m_retries = gf_metrics_counter ("gf_consumer_retries_total", labels);
    self->m_lag = gf_metrics_gauge ("gf_consumer_lag_events", labels);
    self->m_checkpoint = gf_metrics_gauge ("gf_consumer_checkpoint_seq", labels);
    zstr_free (&labels);
    char *app = zsys_sprintf ("gf-%s", name);
    self->db = gf_db_new (config->db, app);
    zstr_free (&app);
    self->sub = zsock_new (ZMQ_SUB);
    /* One subscription per type: "a.b,c.d" wakes on a.b/ and c.d/. */
    char *types = strdup (type), *save = NULL;
    for (char *t = strtok_r (types, ",", &save); t; t = strtok_r (NULL, ",", &save)) {
        char *topic = zsys_sprintf ("%s/", t);
        zsock_set_subscribe (self->sub, topic);
        zstr_free (&topic);
    }
    free (types);
    zsock_set_rcvhwm (self->sub, 100000);
    /* relay_cert set: a CURVE client of the relay with this service's own
       certificate (its identity needs stream rights for these types). */
    if (gf_auth_stream_client (self->sub, config) != 0 ||
        zsock_connect (self->sub, "%s", config->pub) != 0) {
        zsys_error ("%s: cannot connect to relay at %s", name, config->pub);
        gf_consumer_destroy (&self);
    }
    return self;
}

void gf_consumer_destroy (gf_consumer_t **self_p)
{
    assert (self_p);
    gf_consumer_t *self = *self_p;
    if (!self)
        return;
    zsock_destroy (&self->sub);
    gf_db_destroy (&self->db);
    gf_lease_destroy (&self->lease);
    free (self->name);
    free (self->type);
    free (self);
    *self_p = NULL;
}

/*  One step.  Returns the number of events handled (0: caught up), or -1. */
static int s_step (gf_consumer_t *self, gf_consumer_fn *fn, void *arg)
{
    if (gf_db_begin (self->db))
        return -1;
    if (gf_lease_fence (self->lease, self->db) != 0) {
        gf_db_rollback (self->db); /* lost the lease: nothing written */
        return -1;
    }
    const char *lock_params[] = {self->name};
    PGresult *cp = gf_db_exec (self->db, SQL_LOCK, 1, lock_params);
    if (!cp || PQntuples (cp) != 1) {
        if (cp)
            PQclear (cp);
        gf_db_rollback (self->db);
        return -1;
    }
    char limit[16];
    snprintf (limit, sizeof limit, "%d", self->config->batch);
    const char *batch_params[] = {self->type, gf_db_get (cp, 0, "last_seq"), limit};
    PGresult *events = gf_db_exec (self->db, SQL_BATCH, 3, batch_params);
    long long last_seq = gf_db_get_ll (cp, 0, "last_seq");
    long long head = gf_db_get_ll (cp, 0, "head");
    PQclear (cp);
    if (!events) {
        gf_db_rollback (self->db);
        return -1;
    }
    int count = PQntuples (events);
    int rc = count;
    long long position = count > 0 ? gf_db_get_ll (events, count - 1, "seq") : last_seq;
    /*  A short batch holds every event of our types up to the head read
        above: the one sequencer commits seqs in order, so all of them up to
        a visible head were visible to the batch.  The checkpoint then moves
        past the other types' events too, or each look would scan them again
        (the notifier at the tail of a 100,000-complaint run: 0.75 s a look). */
    if (count < self->config->batch && head > position)
        position = head;
    if (count > 0 && fn (self->db, events, arg) != 0)
        rc = -1;
    if (rc >= 0 && position > last_seq) {
        char position_text[24];
        snprintf (position_text, sizeof position_text, "%lld", position);
        const char *advance_params[] = {self->name, position_text};
        if (gf_db_run (self->db, SQL_ADVANCE, 2, advance_params) != 0)
            rc = -1;
        else
            last_seq = position;
    }
    PQclear (events);
    if (rc < 0 || gf_db_commit (self->db) != 0) {
        gf_db_rollback (self->db);
        return -1;
    }
    self->processed += count;
    gf_metric_add (self->m_events, (uint64_t)count);
    gf_metric_set (self->m_checkpoint, last_seq);
    /* Caught up (a short batch): nothing of our types lies before the head. */
    gf_metric_set (self->m_lag, count < self->config->batch ? 0 : head - last_seq);
    if (self->config->verbose && count)
        zsys_debug ("%s: handled %d %s events (total %" PRIu64 ")", self->name, count, self->type,
                    self->processed);
    return count;
}

int gf_consumer_run (gf_consumer_t *self, zsock_t *pipe, gf_consumer_fn *fn, void *arg)
{
    int backoff = 100;
    bool ready = false;
    zmq_pollitem_t items[] = {{zsock_resolve (pipe), 0, ZMQ_POLLIN, 0},
                              {zsock_resolve (self->sub), 0, ZMQ_POLLIN, 0}};
    while (!zsys_interrupted) {
        int timeout = 1000; /* safety net: look at the log at least every second */
        if (!ready) {
            const char *params[] = {self->name};
            if (gf_db_run (self->db, SQL_ENSURE, 1, params) == 0) {
                ready = true;
                zsys_info ("%s: consuming %s", self->name, self->type);
            } else if (!gf_db_lost (self->db)) {
                zsys_error ("%s: cannot create checkpoint (migrations applied?)", self->name);
                return -1;
            } else
                timeout = backoff;
        }
        if (ready && !gf_lease_hold (self->lease, self->db))
            timeout = gf_lease_wait (self->lease); /* standing by */
        else if (ready) {
            int handled = s_step (self, fn, arg);
            if (handled < 0) {
                gf_metric_add (self->m_retries, 1);
                timeout = backoff;
                backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
            } else {
                backoff = 100;
                if (handled >= self->config->batch)
                    timeout = 0; /* more waiting: go again at once */
            }
            if (timeout > gf_lease_wait (self->lease))
                timeout = gf_lease_wait (self->lease); /* renew in time */
        }
        if (zmq_poll (items, 2, timeout) < 0)
            break;
        if (items[0].revents & ZMQ_POLLIN && gf_service_pipe_term (pipe))
            break;
        if (items[1].revents & ZMQ_POLLIN) {
            /* Wake-ups only: drain everything queued, then look at the log. */
            while (zsock_events (self->sub) & ZMQ_POLLIN) {
                zmsg_t *msg = zmsg_recv (self->sub);
                zmsg_destroy (&msg);
            }
        }
    }
    gf_lease_release (self->lease, self->db);
    zsys_info ("%s: stopping after %" PRIu64 " events", self->name, self->processed);
    return 0;
}
