/*  bench_load — the benchmark's load generator (make bench, docs/performance.md).

    usage: bench_load INTAKE PUB GRIDS RATE SECONDS WINDOW TAG [ACTORS]
      INTAKE   the intake's ROUTER endpoint (we connect a DEALER)
      PUB      the relay's PUB endpoint (we subscribe to notify/, as a
               dashboard would)
      GRIDS    comma-separated L3 grid codes; complaint i goes to grid i % n
      RATE     open loop: complaints per second, sent on a fixed schedule
               whatever the replies (RATE 0: closed loop, WINDOW in flight,
               as fast as the system takes them: saturation)
      SECONDS  open loop: how long to send; closed loop: sends
               SECONDS * 1000 complaints
      WINDOW   closed loop: requests in flight
      TAG      makes source_ref unique across runs
      ACTORS   optional, comma-separated, one per grid of GRIDS (its
               leader): each acknowledged case then gets a grid's day of
               work from its leader, four case.actions one after the
               other, each sent when the previous one is answered: sign,
               progress, resolve, callback (satisfied).  Each action's
               reply time (send to reply) is measured ("action_ms"); the
               complaints' schedule does not wait for them.  A complaint's
               reply carries no version: the sign is sent on version 2, a
               case routed in the intake's transaction (intake/route on).

    Open loop: request i has an intended send time t0 + i / RATE.  Latency
    is measured from that intended time, not from when it was actually sent,
    so a stall in the system (or in us) counts against every request that
    should have gone out during it (no coordinated omission).
      ack  = reply received (the case is committed) - intended time
      e2e  = the first notification.created for the case with a leader
             role seen on the relay's PUB socket - intended time: the case
             was acknowledged, routed, its notification stored, and the
             event reached a subscriber.
    Prints one JSON object: counts, throughput, and p50/p99/p99.9/max of
    both (and of the actions) in milliseconds, and when the slowest ack's
    request was due (ack_worst_at_ms, epoch ms).  Exit status 0 when every
    request was acked ok, every case seen end to end and (with ACTORS)
    every action answered ok before the drain timeout. */
#include "gf_proto.h"

typedef struct {
    int64_t intended; /* ns, monotonic */
    int64_t sent;
    int64_t acked;
    int64_t seen;
    int64_t case_id;
    int step;         /* actions answered ok so far (ACTORS)   */
    int64_t act_sent; /* the pending action's send time         */
} s_req_t;

/*  A grid's day of work on a case (ACTORS), in order. */
#define S_STEPS 4
static const char *s_steps[S_STEPS] = {"sign", "progress", "resolve", "callback"};

typedef struct {
    int64_t case_id;
    int64_t at;
} s_seen_t;

static int64_t s_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int s_cmp_ll (const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/*  Percentile p (0..100) of sorted values, nearest rank, in ms. */
static double s_pct (const int64_t *v, size_t n, double p)
{
    if (n == 0)
        return -1;
    size_t rank = (size_t)((p / 100.0) * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return (double)v[rank - 1] / 1e6;
}

static void s_print_dist (const char *name, int64_t *v, size_t n)
{
    qsort (v, n, sizeof (int64_t), s_cmp_ll);
    printf ("\"%s_ms\": {\"count\": %zu, \"p50\": %.3f, \"p99\": %.3f, \"p99_9\": %.3f, "
            "\"max\": %.3f}",
            name, n, s_pct (v, n, 50), s_pct (v, n, 99), s_pct (v, n, 99.9), s_pct (v, n, 100));
}

static zframe_t *s_complaint (size_t i, const char *tag, char **grids, size_t ngrids)
{
    char id[32], ref[96];
    snprintf (id, sizeof id, "%zu", i);
    snprintf (ref, sizeof ref, "BL-%s-%zu", tag, i);
    gf_complaint_t c = {0};
    c.id = id;
    c.at = zclock_time ();
    c.source = (char *)"hotline";
    c.source_ref = ref;
    c.description = (char *)"小区路灯不亮已经三天了，晚上出行很不方便，请尽快派人维修。";
    c.grid = grids[i % ngrids];
    c.address = (char *)"西街村3组12号";
    return gf_complaint_encode (&c);
}

/*  Sends request i's next action (step) by actor, on the case's version. */
static void s_act (zsock_t *dealer, s_req_t *r, size_t i, const char *actor, int64_t version)
{
    char id[40];
    snprintf (id, sizeof id, "a%zu.%d", i, r->step);
    gf_action_t a = {0};
    a.id = id;
    a.at = zclock_time ();
    a.case_id = r->case_id;
    a.action = (char *)s_steps[r->step];
    a.actor = (char *)actor;
    a.version = version;
    a.satisfied = streq (a.action, "callback") ? 1 : -1;
    a.urgent = -1;
    if (streq (a.action, "progress"))
        a.note = (char *)"已联系物业，正在处理";
    else if (streq (a.action, "resolve"))
        a.note = (char *)"路灯已修复";
    zframe_t *f = gf_action_encode (&a);
    r->act_sent = s_now_ns ();
    zframe_send (&f, dealer, 0);
}

/*  Reads one reply; records its ack time.  Returns false on a bad reply. */
static zhashx_t *s_by_case; /* case id text -> s_req_t *, filled at ack time */
static size_t s_matched;    /* requests seen end to end */

static void s_match (s_req_t *r, int64_t at)
{
    if (r->seen == 0) {
        r->seen = at;
        s_matched++;
    }
}

static char **s_actors; /* one per grid (ACTORS), or NULL */
static size_t s_ngrids;
static int64_t *s_act_ms; /* each answered action's reply time, ns */
static size_t s_nact, s_act_failed, s_chains_done;

/*  An action's reply: the next one, or the chain's end. */
static void s_on_action_reply (zsock_t *dealer, s_req_t *reqs, size_t total, const gf_reply_t *r,
                               int64_t now)
{
    size_t i = 0;
    int step = -1;
    if (sscanf (r->id, "a%zu.%d", &i, &step) != 2 || i >= total || step != reqs[i].step)
        return;
    s_req_t *q = &reqs[i];
    s_act_ms[s_nact++] = now - q->act_sent;
    if (!r->ok) {
        if (s_act_failed++ < 5)
            fprintf (stderr, "bench_load: action %s refused: %s %s\n", r->id,
                     gf_code_name (r->code), r->message ? r->message : "");
        s_chains_done++;
        return;
    }
    if (++q->step == S_STEPS)
        s_chains_done++;
    else
        s_act (dealer, q, i, s_actors[i % s_ngrids], r->version);
}

static bool s_on_reply (zsock_t *dealer, s_req_t *reqs, size_t total, size_t *acked, size_t *failed,
                        s_seen_t *early, size_t nearly)
{
    zframe_t *frame = zframe_recv (dealer);
    if (!frame)
        return false;
    int64_t now = s_now_ns ();
    gf_reply_t r = {0};
    gf_error_t err;
    bool good = gf_reply_decode (zframe_data (frame), zframe_size (frame), &r, &err) == 0;
    zframe_destroy (&frame);
    if (!good || !r.id) {
        gf_reply_reset (&r);
        (*failed)++;
        return false;
    }
    if (r.id[0] == 'a') {
        s_on_action_reply (dealer, reqs, total, &r, now);
        gf_reply_reset (&r);
        return true;
    }
    size_t i = strtoull (r.id, NULL, 10);
    if (i < total && reqs[i].acked == 0) {
        if (r.ok) {
            reqs[i].acked = now;
            reqs[i].case_id = r.case_id;
            (*acked)++;
            char key[24];
            snprintf (key, sizeof key, "%" PRId64, r.case_id);
            zhashx_insert (s_by_case, key, &reqs[i]);
            /* Its notification may have overtaken the reply. */
            for (size_t k = 0; k < nearly; k++)
                if (early[k].case_id == r.case_id)
                    s_match (&reqs[i], early[k].at);
            if (s_actors)
                s_act (dealer, &reqs[i], i, s_actors[i % s_ngrids], r.version ? r.version : 2);
        } else {
            fprintf (stderr, "bench_load: request %zu refused: %s %s\n", i, gf_code_name (r.code),
                     r.message ? r.message : "");
            (*failed)++;
        }
    }
    gf_reply_reset (&r);
    return true;
}

/*  Reads one event from the SUB socket; records leader notifications. */
static void s_on_event (zsock_t *sub, s_seen_t **seen, size_t *nseen, size_t *cap)
{
    zmsg_t *msg = zmsg_recv (sub);
    if (!msg)
        return;
    int64_t now = s_now_ns ();
    zframe_t *topic = zmsg_first (msg);
    zframe_t *body = zmsg_next (msg);
    if (topic && body && zframe_size (topic) > 7 &&
        memcmp (zframe_data (topic), "notify/", 7) == 0) {
        gf_error_t err;
        gf_msg_t *event = gf_msg_decode (zframe_data (body), zframe_size (body), &err);
        char *role = NULL;
        int64_t case_id = 0;
        if (event && gf_msg_get_str (event, "role", false, 0, &role, &err) == 0 && role &&
            strstr (role, "leader") && gf_msg_get_int (event, "case", true, &case_id, &err) == 0) {
            char key[24];
            snprintf (key, sizeof key, "%" PRId64, case_id);
            s_req_t *r = (s_req_t *)zhashx_lookup (s_by_case, key);
            if (r)
                s_match (r, now);
            else if (*nseen == *cap) {
                *cap = *cap ? *cap * 2 : 65536;
                *seen = (s_seen_t *)realloc (*seen, *cap * sizeof (s_seen_t));
                assert (*seen);
            }
            if (!r)
                (*seen)[(*nseen)++] = (s_seen_t){case_id, now};
        }
        free (role);
        gf_msg_destroy (&event);
    }
    zmsg_destroy (&msg);
}

int main (int argc, char **argv)
{
    if (argc != 8 && argc != 9) {
        fprintf (stderr, "usage: bench_load INTAKE PUB GRIDS RATE SECONDS WINDOW TAG [ACTORS]\n");
        return 2;
    }
    zsys_init ();
    zsys_set_linger (0);
    double rate = atof (argv[4]);
    double seconds = atof (argv[5]);
    size_t window = (size_t)atol (argv[6]);
    const char *tag = argv[7];
    size_t total = rate > 0 ? (size_t)(rate * seconds) : (size_t)(seconds * 1000);
    if (total == 0 || (rate <= 0 && window == 0)) {
        fprintf (stderr, "bench_load: nothing to send\n");
        return 2;
    }
    char *grid_list = strdup (argv[3]);
    char *grids[512];
    size_t ngrids = 0;
    for (char *save = NULL, *g = strtok_r (grid_list, ",", &save); g && ngrids < 512;
         g = strtok_r (NULL, ",", &save))
        grids[ngrids++] = g;
    if (ngrids == 0) {
        fprintf (stderr, "bench_load: no grids\n");
        return 2;
    }
    s_ngrids = ngrids;
    char *actor_list = argc == 9 ? strdup (argv[8]) : NULL;
    char *actors[512];
    size_t nactors = 0;
    for (char *save = NULL, *a = actor_list ? strtok_r (actor_list, ",", &save) : NULL;
         a && nactors < 512; a = strtok_r (NULL, ",", &save))
        actors[nactors++] = a;
    if (actor_list && nactors != ngrids) {
        fprintf (stderr, "bench_load: %zu actors for %zu grids\n", nactors, ngrids);
        return 2;
    }
    if (actor_list) {
        s_actors = actors;
        s_act_ms = (int64_t *)calloc (total * S_STEPS, sizeof (int64_t));
        assert (s_act_ms);
    }

    /* The subscriber first, and wait for the relay's heartbeat: then it is
       surely subscribed before the first complaint goes out. */
    zsock_t *sub = zsock_new (ZMQ_SUB);
    zsock_set_rcvhwm (sub, 0);
    zsock_set_subscribe (sub, "notify/");
    zsock_set_subscribe (sub, GF_TOPIC_RELAY_HB);
    zsock_connect (sub, "%s", argv[2]);
    zmq_pollitem_t hb = {zsock_resolve (sub), 0, ZMQ_POLLIN, 0};
    if (zmq_poll (&hb, 1, 10000) <= 0) {
        fprintf (stderr, "bench_load: no heartbeat from the relay\n");
        return 1;
    }
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    zsock_set_sndhwm (dealer, 0); /* never block the schedule on our own queue */
    zsock_set_rcvhwm (dealer, 0);
    zsock_connect (dealer, "%s", argv[1]);

    s_req_t *reqs = (s_req_t *)calloc (total, sizeof (s_req_t));
    assert (reqs);
    s_by_case = zhashx_new ();
    s_seen_t *seen = NULL; /* leader notifications seen before their case's reply */
    size_t nseen = 0, cap = 0, next = 0, acked = 0, failed = 0;
    int64_t interval = rate > 0 ? (int64_t)(1e9 / rate) : 0;
    int64_t t0 = s_now_ns () + 20000000; /* 20 ms to settle */
    int64_t wall0 = zclock_time () + 20; /* t0 on the wall clock, ms */
    int64_t drain_deadline = 0;
    zmq_pollitem_t items[] = {{zsock_resolve (dealer), 0, ZMQ_POLLIN, 0},
                              {zsock_resolve (sub), 0, ZMQ_POLLIN, 0}};
    size_t lag_max = 0; /* most requests we were behind our own schedule */
    while (!zsys_interrupted) {
        int64_t now = s_now_ns ();
        /* Send everything due (open loop) or fill the window (closed). */
        if (rate > 0) {
            size_t due = 0;
            while (next < total && t0 + (int64_t)next * interval <= now) {
                reqs[next].intended = t0 + (int64_t)next * interval;
                zframe_t *f = s_complaint (next, tag, grids, ngrids);
                reqs[next].sent = s_now_ns ();
                zframe_send (&f, dealer, 0);
                next++;
                due++;
            }
            if (due > lag_max)
                lag_max = due;
        } else {
            while (next < total && next - acked - failed < window) {
                zframe_t *f = s_complaint (next, tag, grids, ngrids);
                reqs[next].intended = reqs[next].sent = s_now_ns ();
                zframe_send (&f, dealer, 0);
                next++;
            }
        }
        if (next == total && drain_deadline == 0)
            drain_deadline = s_now_ns () + 180 * (int64_t)1000000000;
        if (next == total && acked + failed == total && s_matched == acked &&
            (!s_actors || s_chains_done == acked))
            break; /* everything acked and (at least as many) seen, work done */
        if (drain_deadline && s_now_ns () > drain_deadline)
            break;
        long timeout = 50;
        if (rate > 0 && next < total) {
            int64_t wait = t0 + (int64_t)next * interval - s_now_ns ();
            /* Rounded up: a wait under a millisecond (each one at 1,000/s)
               would otherwise poll with 0 and spin a core the services
               need.  A send at most ~1 ms late counts in its latency, as
               the latency runs from the intended time. */
            timeout = wait <= 0 ? 0 : (long)((wait + 999999) / 1000000);
        }
        if (zmq_poll (items, 2, timeout) < 0)
            break;
        /* Take what is queued now, without blocking, then back to the
           schedule. */
        for (int k = 0; k < 256 && (zsock_events (dealer) & ZMQ_POLLIN); k++)
            s_on_reply (dealer, reqs, total, &acked, &failed, seen, nseen);
        for (int k = 0; k < 256 && (zsock_events (sub) & ZMQ_POLLIN); k++)
            s_on_event (sub, &seen, &nseen, &cap);
    }

    int64_t *ack = (int64_t *)calloc (total, sizeof (int64_t));
    int64_t *e2e = (int64_t *)calloc (total, sizeof (int64_t));
    size_t nack = 0, ne2e = 0;
    int64_t first = reqs[0].sent, last_ack = 0, last_seen = 0, worst = -1, worst_at = 0;
    for (size_t i = 0; i < total; i++) {
        if (reqs[i].acked) {
            ack[nack++] = reqs[i].acked - reqs[i].intended;
            if (ack[nack - 1] > worst) {
                worst = ack[nack - 1];
                worst_at = wall0 + (reqs[i].intended - t0) / 1000000;
            }
            if (reqs[i].acked > last_ack)
                last_ack = reqs[i].acked;
        }
        if (reqs[i].seen) {
            e2e[ne2e++] = reqs[i].seen - reqs[i].intended;
            if (reqs[i].seen > last_seen)
                last_seen = reqs[i].seen;
        }
    }
    printf ("{\"mode\": \"%s\", \"rate\": %.1f, \"window\": %zu, \"sent\": %zu, \"acked\": %zu, "
            "\"failed\": %zu, \"seen\": %zu, \"sender_max_burst\": %zu, ",
            rate > 0 ? "open" : "closed", rate, rate > 0 ? 0 : window, next, nack, failed, ne2e,
            lag_max);
    /* when the slowest acknowledgement's request was due (wall clock, epoch
       ms): to find what the system did then (the escalation bench's waits) */
    printf ("\"ack_worst_at_ms\": %" PRId64 ", ", worst_at);
    printf ("\"ack_per_s\": %.1f, \"end_to_end_per_s\": %.1f, ",
            last_ack > first ? (double)nack * 1e9 / (double)(last_ack - first) : 0,
            last_seen > first ? (double)ne2e * 1e9 / (double)(last_seen - first) : 0);
    s_print_dist ("ack", ack, nack);
    printf (", ");
    s_print_dist ("end_to_end", e2e, ne2e);
    if (s_actors) {
        printf (", \"actions\": %zu, \"actions_failed\": %zu, \"chains_done\": %zu, ", s_nact,
                s_act_failed, s_chains_done);
        s_print_dist ("action", s_act_ms, s_nact);
    }
    printf ("}\n");
    bool complete = nack == total && ne2e == total &&
                    (!s_actors || (s_act_failed == 0 && s_chains_done == nack));
    free (ack);
    free (e2e);
    free (seen);
    free (reqs);
    free (grid_list);
    free (actor_list);
    free (s_act_ms);
    zhashx_destroy (&s_by_case);
    zsock_destroy (&dealer);
    zsock_destroy (&sub);
    return complete ? 0 : 1;
}
