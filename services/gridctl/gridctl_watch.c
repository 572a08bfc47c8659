/*  gridctl watch — live events, optionally replaying history first. */
#include "gridctl.h"
#include "gf_clock.h"
#include "gf_stream.h"

int gridctl_watch (gf_config_t *config, int argc, char **argv)
{
    const char *prefix = "";
    uint64_t since = GF_STREAM_LIVE;
    bool json = false;
    long long count = -1, idle = -1;
    for (int i = 0; i < argc; i++) {
        char *end = NULL;
        if (streq (argv[i], "--json"))
            json = true;
        else if (streq (argv[i], "--since") && i + 1 < argc) {
            since = strtoull (argv[++i], &end, 10);
            if (*end || !*argv[i]) {
                fprintf (stderr, "error: --since needs a sequence number\n");
                return 2;
            }
        } else if (streq (argv[i], "--count") && i + 1 < argc)
            count = strtoll (argv[++i], NULL, 10);
        else if (streq (argv[i], "--idle") && i + 1 < argc)
            idle = strtoll (argv[++i], NULL, 10);
        else if (argv[i][0] != '-')
            prefix = argv[i];
        else {
            fprintf (stderr, "usage: gridctl watch [PREFIX] [--since SEQ] [--json] "
                             "[--count N] [--idle MS]\n");
            return 2;
        }
    }
    gf_stream_t *stream = gf_stream_new (config->pub, config->replay, prefix, since);
    if (!stream)
        return 1;
    long long seen = 0;
    int64_t last_event = zclock_mono ();
    setvbuf (stdout, NULL, _IOLBF, 0);
    while (!zsys_interrupted && (count < 0 || seen < count)) {
        char *topic = NULL;
        gf_msg_t *event = gf_stream_next (stream, 200, &topic);
        if (!event) {
            if (idle >= 0 && zclock_mono () - last_event >= idle)
                break;
            continue;
        }
        last_event = zclock_mono ();
        seen++;
        if (json) {
            char *text = gf_msg_to_json (event);
            printf ("%s\n", text);
            free (text);
        } else {
            uint64_t seq = 0;
            int64_t case_id = 0;
            gf_msg_get_uint (event, "seq", false, &seq, NULL);
            gf_msg_get_int (event, "case", false, &case_id, NULL);
            char at[40];
            gf_clock_format (gf_msg_at (event), at, sizeof at);
            printf ("%8" PRIu64 "  %s  %-40s case %" PRId64 "\n", seq, at, topic, case_id);
        }
        free (topic);
        gf_msg_destroy (&event);
    }
    if (gf_stream_recovered (stream))
        fprintf (stderr, "watch: %" PRIu64 " events were recovered by replay\n",
                 gf_stream_recovered (stream));
    gf_stream_destroy (&stream);
    return 0;
}
