/*  bench_replay — the benchmark's replay reader (make bench,
    docs/performance.md): one gf_stream subscriber that starts at seq 0 and
    reads COUNT events, all of them from the relay's replay (the log must
    already hold them), then prints one JSON object: events, seconds,
    events per second, whether they came dense and in order.
    usage: bench_replay PUB REPLAY COUNT TIMEOUT_MS
    Exit status 0 when COUNT events arrived dense and in order in time. */
#include "gf_stream.h"

int main (int argc, char **argv)
{
    if (argc != 5) {
        fprintf (stderr, "usage: bench_replay PUB REPLAY COUNT TIMEOUT_MS\n");
        return 2;
    }
    zsys_init ();
    zsys_set_linger (0);
    uint64_t count = strtoull (argv[3], NULL, 10);
    int64_t deadline = zclock_mono () + atoll (argv[4]);
    int64_t t0 = zclock_usecs ();
    /* GF_CERT + GF_RELAY_CERT: CurveZMQ (docs/security.md); else plain. */
    gf_stream_t *stream = gf_stream_new_secure (argv[1], argv[2], "", 0, 0, 0, getenv ("GF_CERT"),
                                                getenv ("GF_RELAY_CERT"));
    if (!stream) {
        fprintf (stderr, "bench_replay: cannot open the stream\n");
        return 1;
    }
    uint64_t events = 0, prev = 0;
    bool dense = true;
    while (events < count && zclock_mono () < deadline && !zsys_interrupted) {
        char *topic = NULL;
        gf_msg_t *event = gf_stream_next (stream, 1000, &topic);
        if (!event)
            continue;
        uint64_t seq = 0;
        gf_msg_get_uint (event, "seq", true, &seq, NULL);
        if (seq != prev + 1)
            dense = false;
        prev = seq;
        events++;
        gf_msg_destroy (&event);
        free (topic);
    }
    double secs = (double)(zclock_usecs () - t0) / 1e6;
    printf ("{\"events\": %" PRIu64 ", \"seconds\": %.3f, \"events_per_s\": %.1f, "
            "\"dense_in_order\": %s, \"recovered\": %" PRIu64 ", \"gaps\": %" PRIu64 "}\n",
            events, secs, secs > 0 ? (double)events / secs : 0, dense ? "true" : "false",
            gf_stream_recovered (stream), gf_stream_gaps (stream));
    gf_stream_destroy (&stream);
    return events == count && dense ? 0 : 1;
}
