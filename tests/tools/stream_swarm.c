/*  stream_swarm — many gf_stream subscribers in one process, for the
    streams test (docs/streams.md): the readers are shared by 4 worker
    threads, each stuck subscriber has its own thread.

    usage: stream_swarm PUB REPLAY READY_FILE UNTIL TIMEOUT_MS SPEC...
    SPEC = COUNT:PREFIX:MODE, MODE `read` (reads all the time) or `stuck`
    (reads the first heartbeat, then nothing until every reader is done,
    then reads again; small queues so that ZeroMQ drops its messages).

    Each subscriber is created live (GF_STREAM_LIVE) and is done once its
    stream has verified every event up to UNTIL.  READY_FILE is created
    when every subscriber has heard a heartbeat (so is surely subscribed).
    Prints one line per subscriber:
      sub I prefix=P mode=M events=N distinct=N ordered=0|1 dense=0|1
          sum=S recovered=R gaps=G ms=T
    (sum = sum of the seqs received, ms = time from its first event to
    done) and a summary line "readers: N events/s" (events delivered to
    the readers per second of the slowest one's reading).  Exit status 0
    when every subscriber finished before TIMEOUT_MS. */
#include <pthread.h>
#include "gf_stream.h"

typedef struct {
    int index;
    const char *pub, *replay, *prefix;
    bool stuck;
    uint64_t until;
    int64_t deadline;
    /* results */
    uint64_t events, distinct, sum, recovered, gaps;
    bool ordered, dense, done, heard;
    int64_t first_at, done_at;
    uint8_t *bits;
    size_t nbits;
    uint64_t prev;
    gf_stream_t *stream;
} s_sub_t;

#define S_WORKERS 4 /* threads sharing the reading subscribers */

static volatile int s_heard = 0, s_readers_left = 0;
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;

static void s_mark (s_sub_t *sub, uint64_t seq)
{
    if (seq >= sub->nbits) {
        size_t n = sub->nbits ? sub->nbits : 4096;
        while (n <= seq)
            n *= 2;
        sub->bits = (uint8_t *)realloc (sub->bits, n / 8);
        assert (sub->bits);
        memset (sub->bits + sub->nbits / 8, 0, (n - sub->nbits) / 8);
        sub->nbits = n;
    }
    if (!(sub->bits[seq / 8] & (1u << (seq % 8)))) {
        sub->bits[seq / 8] |= (uint8_t)(1u << (seq % 8));
        sub->distinct++;
        sub->sum += seq;
    }
}

/*  Reads one event from sub's stream if one is ready.  Returns true if
    it got one. */
static bool s_poll_one (s_sub_t *sub, int timeout_ms)
{
    char *topic = NULL;
    gf_msg_t *event = gf_stream_next (sub->stream, timeout_ms, &topic);
    bool got = event != NULL;
    if (!sub->heard && gf_stream_head (sub->stream) > 0) {
        sub->heard = true; /* the log must not be empty: head 0 is "not yet" */
        pthread_mutex_lock (&s_lock);
        s_heard++;
        pthread_mutex_unlock (&s_lock);
    }
    if (event) {
        uint64_t seq = 0;
        gf_msg_get_uint (event, "seq", true, &seq, NULL);
        if (sub->events == 0)
            sub->first_at = zclock_mono ();
        sub->events++;
        if (seq <= sub->prev)
            sub->ordered = false;
        if (sub->prev && seq != sub->prev + 1)
            sub->dense = false;
        sub->prev = seq;
        s_mark (sub, seq);
        gf_msg_destroy (&event);
        free (topic);
    }
    if (!sub->done && gf_stream_verified (sub->stream) >= sub->until) {
        sub->done = true;
        sub->done_at = zclock_mono ();
        sub->recovered = gf_stream_recovered (sub->stream);
        sub->gaps = gf_stream_gaps (sub->stream);
        if (!sub->stuck) {
            pthread_mutex_lock (&s_lock);
            s_readers_left--;
            pthread_mutex_unlock (&s_lock);
        }
    }
    return got;
}

typedef struct {
    s_sub_t *subs;
    size_t count;
} s_worker_t;

/*  A worker reads its subscribers in turn until each is done. */
static void *s_work (void *arg)
{
    s_worker_t *w = (s_worker_t *)arg;
    for (size_t i = 0; i < w->count; i++) {
        s_sub_t *sub = &w->subs[i];
        /* GF_CERT + GF_RELAY_CERT: CurveZMQ (docs/security.md); else plain. */
        sub->stream = gf_stream_new_secure (sub->pub, sub->replay, sub->prefix, GF_STREAM_LIVE,
                                            sub->stuck ? 100 : 0, sub->stuck ? 4096 : 0,
                                            getenv ("GF_CERT"), getenv ("GF_RELAY_CERT"));
        sub->ordered = sub->dense = true;
        assert (sub->stream);
    }
    size_t left = w->count;
    while (left > 0 && !zsys_interrupted && zclock_mono () < w->subs[0].deadline) {
        bool any = false;
        left = 0;
        for (size_t i = 0; i < w->count; i++) {
            s_sub_t *sub = &w->subs[i];
            if (sub->done)
                continue;
            left++;
            if (sub->heard && sub->stuck && s_readers_left > 0)
                continue; /* stuck: not reading at all */
            /* Up to 64 events from this one, then the next one's turn. */
            for (int k = 0; k < 64 && s_poll_one (sub, w->count == 1 ? 50 : 0); k++)
                any = true;
        }
        if (!any)
            zclock_sleep (w->count == 1 ? 20 : 2);
    }
    for (size_t i = 0; i < w->count; i++) {
        s_sub_t *sub = &w->subs[i];
        if (!sub->done) {
            sub->done_at = zclock_mono ();
            sub->recovered = gf_stream_recovered (sub->stream);
            sub->gaps = gf_stream_gaps (sub->stream);
        }
        gf_stream_destroy (&sub->stream);
    }
    return NULL;
}

int main (int argc, char **argv)
{
    if (argc < 7) {
        fprintf (stderr, "usage: stream_swarm PUB REPLAY READY_FILE UNTIL TIMEOUT_MS "
                         "COUNT:PREFIX:read|stuck...\n");
        return 2;
    }
    zsys_set_io_threads (2);
    zsys_set_max_sockets (0);
    zsys_init ();
    uint64_t until = strtoull (argv[4], NULL, 10);
    int64_t deadline = zclock_mono () + atoll (argv[5]);
    size_t total = 0;
    for (int a = 6; a < argc; a++)
        total += (size_t)atoi (argv[a]);
    s_sub_t *subs = (s_sub_t *)calloc (total, sizeof (s_sub_t));
    size_t n = 0;
    for (int pass = 0; pass < 2; pass++) /* readers first, then stuck ones */
        for (int a = 6; a < argc; a++) {
            char *spec = strdup (argv[a]);
            char *count = strtok (spec, ":");
            char *rest = spec + strlen (count) + 1;
            char *colon = strrchr (rest, ':');
            if (!colon) {
                fprintf (stderr, "stream_swarm: bad spec %s\n", argv[a]);
                return 2;
            }
            *colon = 0;
            bool stuck = streq (colon + 1, "stuck");
            if (stuck != (pass == 1)) {
                free (spec);
                continue;
            }
            for (int i = 0; i < atoi (count); i++) {
                s_sub_t *sub = &subs[n];
                sub->index = (int)n++;
                sub->pub = argv[1];
                sub->replay = argv[2];
                sub->prefix = strdup (rest);
                sub->stuck = stuck;
                sub->until = until;
                sub->deadline = deadline;
                if (!stuck)
                    s_readers_left++;
            }
            free (spec);
        }
    /* Readers are shared by a few worker threads (so ZeroMQ's I/O threads
       are not starved by hundreds of busy ones); each stuck subscriber
       has a thread of its own. */
    s_worker_t *workers = (s_worker_t *)calloc (total + S_WORKERS, sizeof (s_worker_t));
    size_t nworkers = 0, readers = 0;
    for (size_t i = 0; i < total; i++)
        if (subs[i].stuck)
            workers[nworkers++] = (s_worker_t){&subs[i], 1};
        else
            readers++;
    /* Readers were created first in spec order; give them out in slices. */
    size_t first_reader = nworkers;
    for (size_t i = 0, r = 0; i < total; i++)
        if (!subs[i].stuck) {
            size_t slice = r * S_WORKERS / readers;
            s_worker_t *w = &workers[first_reader + slice];
            if (!w->subs)
                w->subs = &subs[i];
            w->count++;
            r++;
        }
    nworkers = first_reader + (readers < S_WORKERS ? readers : S_WORKERS);
    pthread_t *threads = (pthread_t *)calloc (nworkers, sizeof (pthread_t));
    for (size_t i = 0; i < nworkers; i++)
        pthread_create (&threads[i], NULL, s_work, &workers[i]);
    bool ready = false;
    while (!ready && zclock_mono () < deadline && !zsys_interrupted) {
        pthread_mutex_lock (&s_lock);
        ready = (size_t)s_heard == total;
        pthread_mutex_unlock (&s_lock);
        if (!ready)
            zclock_sleep (50);
    }
    if (ready) {
        FILE *f = fopen (argv[3], "w");
        if (f)
            fclose (f);
    }
    for (size_t i = 0; i < nworkers; i++)
        pthread_join (threads[i], NULL);
    int rc = ready ? 0 : 1;
    int64_t first = INT64_MAX, last = 0;
    uint64_t delivered = 0;
    for (size_t i = 0; i < total; i++) {
        s_sub_t *s = &subs[i];
        printf ("sub %d prefix=%s mode=%s events=%" PRIu64 " distinct=%" PRIu64
                " ordered=%d dense=%d sum=%" PRIu64 " recovered=%" PRIu64 " gaps=%" PRIu64
                " ms=%" PRId64 " done=%d\n",
                s->index, s->prefix, s->stuck ? "stuck" : "read", s->events, s->distinct,
                s->ordered, s->dense, s->sum, s->recovered, s->gaps,
                s->events ? s->done_at - s->first_at : 0, s->done);
        if (!s->done)
            rc = 1;
        if (!s->stuck && s->events) {
            delivered += s->events;
            if (s->first_at < first)
                first = s->first_at;
            if (s->done_at > last)
                last = s->done_at;
        }
        free (s->bits);
        free ((char *)s->prefix);
    }
    if (delivered && last > first)
        printf ("readers: %.0f events/s delivered in all, over %" PRId64 " ms\n",
                delivered * 1000.0 / (double)(last - first), last - first);
    free (subs);
    free (workers);
    free (threads);
    return rc;
}
