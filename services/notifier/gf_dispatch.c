/*  gf_dispatch — the outbox sender for SMS and e-mail. */
#include "gf_dispatch.h"
#include "gf_channel.h"
#include "gf_db.h"
#include "gf_metrics.h"
#include "gf_notifier.h"
#include "gf_service.h"

#include <jansson.h>

static const gf_channel_t *const s_channels[] = {&gf_channel_sms, &gf_channel_email};
#define CHANNELS    (sizeof s_channels / sizeof s_channels[0])
#define TICK_MS     200
#define DOWN_MAX_MS 30000

/*  $1 channel, $2 batch size: the due rows, locked for sending; over-limit
    rows are deferred by one window/limit step (delivery.sql). */
static const char *SQL_CLAIM = "SELECT * FROM gf_delivery_claim ($1, $2::int)";

/*  $1 outcomes [{id, result, error}], $2 channel, $3 pause (ms) for 'down'. */
static const char *SQL_RECORD =
    "SELECT sent, dead FROM gf_delivery_record ($1::jsonb, $2, $3::int)";

typedef struct {
    const gf_channel_t *driver;
    gf_metric_t *m_sent, *m_retries, *m_down, *m_dead; /* {channel="..."} */
    void *state;                                       /* driver state, NULL: not configured */
    int64_t down_until;                                /* zclock_mono ms                     */
    int down_ms;                                       /* current pause while unreachable    */
    uint64_t sent, dead;                               /* since start                        */
} s_channel_t;

typedef struct {
    gf_db_t *db;
    int batch;
    s_channel_t channels[CHANNELS];
} s_dispatch_t;

static const char *s_result_name (gf_send_result_t result)
{
    switch (result) {
    case GF_SEND_OK:
        return "ok";
    case GF_SEND_RETRY:
        return "retry";
    case GF_SEND_REJECTED:
        return "rejected";
    default:
        return "down";
    }
}

/*  One batch of one channel.  Returns the number of messages claimed, or -1
    (the transaction is rolled back: nothing recorded, everything pending). */
static int s_step (s_dispatch_t *self, s_channel_t *ch)
{
    if (gf_db_begin (self->db))
        return -1;
    char limit[16];
    snprintf (limit, sizeof limit, "%d", self->batch);
    const char *claim_params[] = {ch->driver->name, limit};
    PGresult *due = gf_db_exec (self->db, SQL_CLAIM, 2, claim_params);
    if (!due) {
        gf_db_rollback (self->db);
        return -1;
    }
    int n = PQntuples (due);
    if (n == 0) {
        PQclear (due);
        return gf_db_commit (self->db) == 0 ? 0 : -1; /* deferrals, if any */
    }
    gf_delivery_t *batch = calloc ((size_t)n, sizeof *batch);
    for (int i = 0; i < n; i++) {
        batch[i].id = gf_db_get_ll (due, i, "id");
        batch[i].case_id = gf_db_get_ll (due, i, "case_id");
        batch[i].address = gf_db_get (due, i, "address");
        batch[i].text = gf_db_get (due, i, "text");
        batch[i].dedupe_key = gf_db_get (due, i, "dedupe_key");
        batch[i].urgent = streq (gf_db_get (due, i, "urgent"), "t");
    }
    ch->driver->send (ch->state, batch, (size_t)n);

    bool down = false;
    json_t *outcomes = json_array ();
    for (int i = 0; i < n; i++) {
        down |= batch[i].result == GF_SEND_DOWN;
        if (batch[i].result == GF_SEND_RETRY)
            gf_metric_add (ch->m_retries, 1);
        json_array_append_new (outcomes,
                               json_pack ("{s:I, s:s, s:s?}", "id", (json_int_t)batch[i].id,
                                          "result", s_result_name (batch[i].result), "error",
                                          batch[i].error[0] ? batch[i].error : NULL));
    }
    if (down) {
        ch->down_ms = ch->down_ms ? ch->down_ms * 2 : 1000;
        if (ch->down_ms > DOWN_MAX_MS)
            ch->down_ms = DOWN_MAX_MS;
        ch->down_until = zclock_mono () + ch->down_ms;
        gf_metric_add (ch->m_down, 1);
        zsys_warning ("notifier: %s channel unreachable (%s); pausing %d ms", ch->driver->name,
                      batch[0].error, ch->down_ms);
    } else if (ch->down_ms) {
        zsys_info ("notifier: %s channel reachable again", ch->driver->name);
        ch->down_ms = 0;
    }
    char *outcomes_text = json_dumps (outcomes, JSON_COMPACT);
    json_decref (outcomes);
    free (batch);
    PQclear (due);
    char pause[16];
    snprintf (pause, sizeof pause, "%d", ch->down_ms ? ch->down_ms : 1000);
    const char *record_params[] = {outcomes_text, ch->driver->name, pause};
    PGresult *res = gf_db_exec (self->db, SQL_RECORD, 3, record_params);
    free (outcomes_text);
    if (!res || gf_db_commit (self->db) != 0) {
        if (res)
            PQclear (res);
        gf_db_rollback (self->db);
        return -1;
    }
    long long sent = gf_db_get_ll (res, 0, "sent"), dead = gf_db_get_ll (res, 0, "dead");
    PQclear (res);
    ch->sent += (uint64_t)sent;
    ch->dead += (uint64_t)dead;
    gf_metric_add (ch->m_sent, (uint64_t)sent);
    gf_metric_add (ch->m_dead, (uint64_t)dead);
    if (dead)
        zsys_warning ("notifier: %lld %s deliveries dead-lettered (gridctl notify dead)", dead,
                      ch->driver->name);
    return n;
}

void gf_dispatch_actor (zsock_t *pipe, void *args)
{
    gf_part_args_t *part = (gf_part_args_t *)args;
    s_dispatch_t self = {.db = gf_db_new (part->config->db, "gf-notifier/dispatch")};
    self.batch = part->config->delivery_batch;
    for (size_t i = 0; i < CHANNELS; i++) {
        s_channel_t *ch = &self.channels[i];
        ch->driver = s_channels[i];
        char labels[64];
        snprintf (labels, sizeof labels, "channel=\"%s\"", ch->driver->name);
        ch->m_sent = gf_metrics_counter ("gf_notifier_sent_total", labels);
        ch->m_retries = gf_metrics_counter ("gf_notifier_retries_total", labels);
        ch->m_down = gf_metrics_counter ("gf_notifier_channel_down_total", labels);
        ch->m_dead = gf_metrics_counter ("gf_dead_letters_total", labels);
        ch->state = ch->driver->create (part->config);
        if (!ch->state)
            zsys_notice ("notifier: %s channel not configured; its messages wait",
                         ch->driver->name);
    }
    part->status = self.db ? 0 : 1;
    zsock_signal (pipe, (byte)part->status);
    if (self.db && gf_db_listen (self.db, "gf_deliveries") != 0)
        zsys_warning ("notifier: cannot LISTEN yet (will retry)");

    int backoff = 100;
    zmq_pollitem_t items[2] = {{zsock_resolve (pipe), 0, ZMQ_POLLIN, 0}, {NULL, -1, ZMQ_POLLIN, 0}};
    while (self.db && !zsys_interrupted) {
        int timeout = TICK_MS;
        bool failed = false;
        gf_db_drain_notifies (self.db);
        for (size_t i = 0; i < CHANNELS; i++) {
            s_channel_t *ch = &self.channels[i];
            if (!ch->state || zclock_mono () < ch->down_until)
                continue;
            int claimed = s_step (&self, ch);
            if (claimed < 0)
                failed = true;
            else if (claimed >= self.batch && !ch->down_ms)
                timeout = 0; /* more due: go again at once */
        }
        if (failed) {
            timeout = backoff;
            backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
        } else
            backoff = 100;
        PGconn *conn = gf_db_conn (self.db);
        items[1].fd = conn ? PQsocket (conn) : -1;
        if (zmq_poll (items, items[1].fd >= 0 ? 2 : 1, timeout) < 0)
            break;
        if ((items[0].revents & ZMQ_POLLIN) && gf_service_pipe_term (pipe))
            break;
    }
    for (size_t i = 0; i < CHANNELS; i++) {
        s_channel_t *ch = &self.channels[i];
        if (ch->state)
            zsys_info ("notifier: %s sent %" PRIu64 ", dead-lettered %" PRIu64, ch->driver->name,
                       ch->sent, ch->dead);
        ch->driver->destroy (&ch->state);
    }
    gf_db_destroy (&self.db);
}
