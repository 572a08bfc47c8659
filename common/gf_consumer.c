/*  gf_consumer — a durable, exactly-once consumer of one event type. */
#include "gf_consumer.h"
#include "gf_auth.h"
#include "gf_lease.h"
#include "gf_metrics.h"
#include "gf_service.h"
#include "gf_share.h"

/*  One partition of the work: its checkpoint row and its lease share a
    name ("notifier", or "notifier.p3of8" with 8 partitions). */
typedef struct {
    char *name;                /* checkpoint key and lease name          */
    char *index;               /* the partition's number, as text        */
    gf_metric_t *m_events;     /* gf_consumer_events_total{consumer}     */
    gf_metric_t *m_retries;    /* gf_consumer_retries_total{consumer}    */
    gf_metric_t *m_steps;      /* gf_consumer_steps_total{consumer}      */
    gf_metric_t *m_lag;        /* gf_consumer_lag_events{consumer}       */
    gf_metric_t *m_checkpoint; /* gf_consumer_checkpoint_seq{consumer}   */
} s_part_t;

struct _gf_consumer_t {
    char *name;          /* the role, e.g. "notifier"                    */
    char *type;          /* event type consumed                          */
    gf_config_t *config; /* borrowed                                     */
    gf_db_t *db;         /* our connection                               */
    zsock_t *sub;        /* wake-ups from the relay                      */
    uint64_t processed;  /* events handled since start                   */
    int count;           /* partitions (1: the whole log, as before)     */
    char *count_text;    /* the same, as text                            */
    char *names;         /* every partition's name, comma-separated      */
    gf_share_t *share;   /* the partitions' leases, shared fairly        */
    s_part_t *parts;     /* count of them, in the share's order          */
    gf_metric_t *m_held; /* gf_consumer_partitions_held{consumer}        */
    int linger_ms;       /* after a wake-up, wait this long since the last steps */
};

/*  Each partition starts where the work stood: the lowest checkpoint of
    the role under any partitioning (the single "notifier" row, or those
    of an earlier work/partitions).  Events between that and a partition's
    old position are looked at again: the effects are idempotent
    (notify.sql), the partition's lease keeps one instance at a time. */
static const char *SQL_ENSURE =
    "INSERT INTO consumer_checkpoints (consumer, last_seq)"
    " SELECT n, (SELECT coalesce (min (last_seq), 0) FROM consumer_checkpoints"
    "             WHERE consumer = $1 OR consumer LIKE $1 || '.p%')"
    "   FROM unnest (string_to_array ($2, ',')) n ON CONFLICT DO NOTHING";
static const char *SQL_LOCK =
    "SELECT last_seq, (SELECT coalesce (max (seq), 0) FROM case_events) AS head"
    "  FROM consumer_checkpoints WHERE consumer = $1 FOR UPDATE";
/*  The batch, and a partition's (deploy/sql/repeatable/events.sql). */
static const char *SQL_BATCH = "SELECT * FROM gf_events_of ($1, $2, $3::int)";
static const char *SQL_BATCH_PART =
    "SELECT * FROM gf_events_window ($1, $2, $3::int, $4::int, $5::int)";
static const char *SQL_ADVANCE =
    "UPDATE consumer_checkpoints SET last_seq = $2, updated_at = now () WHERE consumer = $1";
gf_consumer_t *gf_consumer_new (const char *name, const char *type, gf_config_t *config)
{
    return gf_consumer_new_partitioned (name, type, config, 1);
}

gf_consumer_t *gf_consumer_new_partitioned (const char *name, const char *type, gf_config_t *config,
                                            int partitions)
{
    assert (partitions >= 1);
    gf_consumer_t *self = (gf_consumer_t *)zmalloc (sizeof (gf_consumer_t));
    self->name = strdup (name);
    self->type = strdup (type);
    self->config = config;
    self->count = partitions;
    self->count_text = zsys_sprintf ("%d", partitions);
    char *pattern = zsys_sprintf ("%s.p%%of%d", name, partitions);
    self->share = gf_share_new (name, pattern, config);
    zstr_free (&pattern);
    self->parts = (s_part_t *)zmalloc ((size_t)partitions * sizeof (s_part_t));
    zlist_t *names = zlist_new ();
    size_t names_len = 0;
    for (int k = 0; k < partitions; k++) {
        s_part_t *part = &self->parts[k];
        part->name =
            partitions == 1 ? strdup (name) : zsys_sprintf ("%s.p%dof%d", name, k, partitions);
        part->index = zsys_sprintf ("%d", k);
        int index = gf_share_add (self->share, part->name);
        assert (index == k);
        char *labels = zsys_sprintf ("consumer=\"%s\"", part->name);
        part->m_events = gf_metrics_counter ("gf_consumer_events_total", labels);
        part->m_retries = gf_metrics_counter ("gf_consumer_retries_total", labels);
        part->m_steps = gf_metrics_counter ("gf_consumer_steps_total", labels);
        part->m_lag = gf_metrics_gauge ("gf_consumer_lag_events", labels);
        part->m_checkpoint = gf_metrics_gauge ("gf_consumer_checkpoint_seq", labels);
        zstr_free (&labels);
        zlist_append (names, part->name);
        names_len += strlen (part->name) + 1;
    }
    self->names = (char *)zmalloc (names_len + 1);
    for (char *n = (char *)zlist_first (names); n; n = (char *)zlist_next (names)) {
        if (*self->names)
            strcat (self->names, ",");
        strcat (self->names, n);
    }
    zlist_destroy (&names);
    char *labels = zsys_sprintf ("consumer=\"%s\"", name);
    self->m_held = gf_metrics_gauge ("gf_consumer_partitions_held", labels);
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
    gf_share_destroy (&self->share);
    for (int k = 0; k < self->count; k++) {
        zstr_free (&self->parts[k].name);
        zstr_free (&self->parts[k].index);
    }
    free (self->parts);
    free (self->names);
    zstr_free (&self->count_text);
    free (self->name);
    free (self->type);
    free (self);
    *self_p = NULL;
}

/*  One step of one partition.  Returns the number of events handled, or
    -1; *more: a full batch (or window), so more may be waiting. */
static int s_step (gf_consumer_t *self, int k, gf_consumer_fn *fn, void *arg, bool *more)
{
    s_part_t *part = &self->parts[k];
    *more = false;
    gf_metric_add (part->m_steps, 1);
    if (gf_db_begin (self->db))
        return -1;
    if (gf_lease_fence (gf_share_lease (self->share, k), self->db) != 0) {
        gf_db_rollback (self->db); /* lost the lease: nothing written */
        return -1;
    }
    const char *lock_params[] = {part->name};
    PGresult *cp = gf_db_exec_prepared (self->db, SQL_LOCK, 1, lock_params);
    if (!cp || PQntuples (cp) != 1) {
        if (cp)
            PQclear (cp);
        gf_db_rollback (self->db);
        return -1;
    }
    char limit[16];
    snprintf (limit, sizeof limit, "%d", self->config->batch);
    const char *batch_params[] = {self->type, gf_db_get (cp, 0, "last_seq"), limit,
                                  self->count_text, part->index};
    PGresult *events = self->count == 1
                           ? gf_db_exec_prepared (self->db, SQL_BATCH, 3, batch_params)
                           : gf_db_exec_prepared (self->db, SQL_BATCH_PART, 5, batch_params);
    long long last_seq = gf_db_get_ll (cp, 0, "last_seq");
    long long head = gf_db_get_ll (cp, 0, "head");
    PQclear (cp);
    if (!events) {
        gf_db_rollback (self->db);
        return -1;
    }
    int count = PQntuples (events);
    long long position = count > 0 ? gf_db_get_ll (events, count - 1, "seq") : last_seq;
    /*  The window looked at: the batch itself with one partition. */
    long long window = count, window_max = self->config->batch;
    if (self->count > 1) {
        window = gf_db_get_ll (events, 0, "window_n");
        window_max = (long long)self->config->batch * self->count;
        position = window > 0 ? gf_db_get_ll (events, 0, "window_end") : last_seq;
        if (PQgetisnull (events, 0, PQfnumber (events, "seq")))
            count = 0; /* none of ours in the window */
    }
    int rc = count;
    /*  A short batch (window) holds every event of our types (and
        partition) up to the head read above: the one sequencer commits seqs
        in order, so all of them up to a visible head were visible to the
        batch.  The checkpoint then moves past the other types' events too,
        or each look would scan them again (the notifier at the tail of a
        100,000-complaint run: 0.75 s a look). */
    if (window < window_max && head > position)
        position = head;
    if (count > 0 && fn (self->db, events, arg) != 0)
        rc = -1;
    if (rc >= 0 && position > last_seq) {
        char position_text[24];
        snprintf (position_text, sizeof position_text, "%lld", position);
        const char *advance_params[] = {part->name, position_text};
        if (gf_db_run_prepared (self->db, SQL_ADVANCE, 2, advance_params) != 0)
            rc = -1;
        else
            last_seq = position;
    }
    PQclear (events);
    if (rc < 0 || gf_db_commit (self->db) != 0) {
        gf_db_rollback (self->db);
        return -1;
    }
    *more = window >= window_max;
    self->processed += count;
    gf_metric_add (part->m_events, (uint64_t)count);
    gf_metric_set (part->m_checkpoint, last_seq);
    /* Caught up (a short batch): nothing of our types lies before the head. */
    gf_metric_set (part->m_lag, *more ? head - last_seq : 0);
    if (self->config->verbose && count)
        zsys_debug ("%s: handled %d %s events (total %" PRIu64 ")", part->name, count, self->type,
                    self->processed);
    return count;
}

/*  The leases' looks, each when due, and the fair share of the partitions
    (gf_share): one partition, the lease decides, as for any single-active
    role. */
static void s_balance (gf_consumer_t *self)
{
    gf_metric_set (self->m_held, gf_share_balance (self->share, self->db));
}

void gf_consumer_set_linger (gf_consumer_t *self, int linger_ms)
{
    assert (self);
    self->linger_ms = linger_ms > 0 ? linger_ms : 0;
}

/*  One step of each partition held.  Returns the poll's timeout: timeout
    (the safety net's), 0 when a batch was full (*more), the back-off after
    a failure, or the share's wait when none is held (standing by). */
static int s_step_held (gf_consumer_t *self, gf_consumer_fn *fn, void *arg, int timeout,
                        int *backoff, bool *more)
{
    bool failed = false, any = false;
    *more = false;
    for (int k = 0; k < self->count && !zsys_interrupted; k++) {
        if (!gf_share_held (self->share, k))
            continue;
        any = true;
        bool full;
        if (s_step (self, k, fn, arg, &full) < 0) {
            gf_metric_add (self->parts[k].m_retries, 1);
            failed = true;
        } else if (full)
            *more = true; /* more waiting: go again at once */
    }
    if (!any)
        return gf_share_wait (self->share); /* standing by */
    if (failed) {
        timeout = *backoff;
        *backoff = *backoff * 2 > 5000 ? 5000 : *backoff * 2;
        return timeout;
    }
    *backoff = 100;
    return *more ? 0 : timeout;
}

int gf_consumer_run (gf_consumer_t *self, zsock_t *pipe, gf_consumer_fn *fn, void *arg)
{
    int backoff = 100;
    bool ready = false;
    bool woken = false;     /* the last poll brought wake-ups            */
    bool more = false;      /* the last steps found a full batch          */
    int64_t stepped_at = 0; /* zclock_mono of the last steps              */
    zmq_pollitem_t items[] = {{zsock_resolve (pipe), 0, ZMQ_POLLIN, 0},
                              {zsock_resolve (self->sub), 0, ZMQ_POLLIN, 0}};
    while (!zsys_interrupted) {
        int timeout = 1000; /* safety net: look at the log at least every second */
        if (!ready) {
            const char *params[] = {self->name, self->names};
            if (gf_db_run (self->db, SQL_ENSURE, 2, params) == 0) {
                ready = true;
                if (self->count == 1)
                    zsys_info ("%s: consuming %s", self->name, self->type);
                else
                    zsys_info ("%s: consuming %s in %d partitions by case", self->name, self->type,
                               self->count);
            } else if (!gf_db_lost (self->db)) {
                zsys_error ("%s: cannot create checkpoint (migrations applied?)", self->name);
                return -1;
            } else
                timeout = backoff;
        }
        if (ready) {
            s_balance (self);
            int64_t linger = self->linger_ms - (zclock_mono () - stepped_at);
            if (woken && !more && linger > 0)
                timeout = (int)linger; /* lingering: later wake-ups join this one's step */
            else {
                stepped_at = zclock_mono ();
                timeout = s_step_held (self, fn, arg, timeout, &backoff, &more);
            }
            if (timeout > gf_share_wait (self->share))
                timeout = gf_share_wait (self->share); /* renew in time */
        }
        if (zmq_poll (items, 2, timeout) < 0)
            break;
        if (items[0].revents & ZMQ_POLLIN && gf_service_pipe_term (pipe))
            break;
        woken = items[1].revents & ZMQ_POLLIN;
        if (woken) {
            /* Wake-ups only: drain everything queued, then look at the log. */
            while (zsock_events (self->sub) & ZMQ_POLLIN) {
                zmsg_t *msg = zmsg_recv (self->sub);
                zmsg_destroy (&msg);
            }
        }
    }
    gf_share_release (self->share, self->db);
    zsys_info ("%s: stopping after %" PRIu64 " events", self->name, self->processed);
    return 0;
}
