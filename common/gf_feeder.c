/*  gf_feeder — the send loop every batch adapter shares. */
#include "gf_feeder.h"
#include "gf_client.h"
#include "gf_config.h"

/*  One record waiting for its reply. */
typedef struct {
    uint64_t line;  /* input line number                              */
    zframe_t *body; /* encoded request, for resending                  */
    int64_t due_at; /* zclock_mono when to resend it                  */
    int attempts;   /* sends without an answer, this one included      */
    int backoff_ms; /* wait before the next resend after `unavailable` */
    bool resent;    /* sent more than once                             */
} s_pending_t;

static void s_pending_destroy (void **item)
{
    s_pending_t *p = (s_pending_t *)*item;
    zframe_destroy (&p->body);
    free (p);
    *item = NULL;
}

static void s_rejected (const gf_feeder_options_t *options, const char *name, uint64_t line,
                        gf_code_t code, const char *message, gf_feeder_counts_t *counts)
{
    counts->rejected++;
    if (!options->quiet)
        fprintf (stderr, "%s:%" PRIu64 ": rejected: %s: %s\n", name, line, gf_code_name (code),
                 message ? message : "");
}

int gf_feeder_run (const gf_feeder_options_t *options, const char *name, gf_feeder_next_fn *next,
                   void *source, gf_feeder_counts_t *counts)
{
    gf_client_t *client =
        gf_client_new_secure (options->endpoint, options->cert, options->server_cert);
    if (!client)
        return -1;
    zhashx_t *pending = zhashx_new ();
    zhashx_set_destructor (pending, s_pending_destroy);
    int backoff_max = options->backoff_ms > GF_FEEDER_BACKOFF_MIN_MS ? options->backoff_ms
                                                                     : GF_FEEDER_BACKOFF_MIN_MS;
    bool eof = false;
    int64_t last_scan = zclock_mono ();

    while (!zsys_interrupted && (!eof || zhashx_size (pending) > 0)) {
        /* Fill the window. */
        while (!eof && (int)zhashx_size (pending) < options->window) {
            gf_complaint_t c = {0};
            gf_error_t err = {GF_OK, ""};
            uint64_t line = 0;
            int rc = next (source, &c, &line, &err);
            if (rc == 0) {
                eof = true;
                break;
            }
            if (rc < 0)
                s_rejected (options, name, line, err.code, err.message, counts);
            else if (zhashx_lookup (pending, c.id) == NULL) {
                s_pending_t *p = (s_pending_t *)zmalloc (sizeof (s_pending_t));
                p->line = line;
                p->body = gf_complaint_encode (&c);
                p->due_at = zclock_mono () + options->timeout_ms;
                p->attempts = 1;
                p->backoff_ms = GF_FEEDER_BACKOFF_MIN_MS;
                gf_client_send (client, p->body);
                zhashx_insert (pending, c.id, p);
            }
            gf_complaint_reset (&c);
        }
        /* Collect replies: wait for the first, then take all that are queued. */
        int wait_ms = 100;
        gf_reply_t reply = {0};
        int got;
        while ((got = gf_client_recv (client, &reply, wait_ms)) == 0) {
            wait_ms = 0;
            s_pending_t *p = reply.id ? (s_pending_t *)zhashx_lookup (pending, reply.id) : NULL;
            if (p && !reply.ok && reply.code == GF_E_UNAVAILABLE) {
                /* The intake answered: not stored, resend.  Never a reason
                   to give up on the record (it is not an unanswered
                   attempt); back off, doubling up to --backoff. */
                p->due_at = zclock_mono () + p->backoff_ms;
                p->backoff_ms = p->backoff_ms * 2 > backoff_max ? backoff_max : p->backoff_ms * 2;
                p->attempts = 0;
                p->resent = true;
                counts->unavailable++;
            } else if (p) {
                if (reply.ok && options->acks) {
                    fprintf (options->acks, "%" PRId64 " %" PRIu64 " %s\n", zclock_time (), p->line,
                             reply.duplicate ? "duplicate" : "new");
                    fflush (options->acks);
                }
                if (reply.ok && reply.duplicate && !p->resent)
                    counts->duplicate++;
                else if (reply.ok)
                    counts->accepted++; /* a duplicate after a resend is our own earlier send */
                else
                    s_rejected (options, name, p->line, reply.code, reply.message, counts);
                zhashx_delete (pending, reply.id);
            }
            gf_reply_reset (&reply);
        }
        gf_reply_reset (&reply);
        if (got < 0 && zsys_interrupted)
            break;
        if (zclock_mono () - last_scan < 100)
            continue;
        last_scan = zclock_mono ();
        /* Resend what timed out; give up after the last attempt. */
        int64_t now = zclock_mono ();
        zlistx_t *keys = zhashx_keys (pending);
        for (char *key = (char *)zlistx_first (keys); key; key = (char *)zlistx_next (keys)) {
            s_pending_t *p = (s_pending_t *)zhashx_lookup (pending, key);
            if (now < p->due_at)
                continue;
            if (p->attempts >= options->attempts) {
                counts->failed++;
                fprintf (stderr, "%s:%" PRIu64 ": failed: no answer after %d attempts\n", name,
                         p->line, p->attempts);
                zhashx_delete (pending, key);
            } else {
                p->attempts++;
                p->resent = true;
                p->due_at = now + options->timeout_ms;
                gf_client_send (client, p->body);
            }
        }
        zlistx_destroy (&keys);
    }
    counts->failed += zhashx_size (pending); /* interrupted */
    zhashx_destroy (&pending);
    gf_client_destroy (&client);
    return counts->failed == 0 ? 0 : -1;
}

static int s_int_option (const char *name, const char *value, int min, int max, int *out)
{
    char *end;
    long n = value ? strtol (value, &end, 10) : 0;
    if (!value || !*value || *end || n < min || n > max) {
        fprintf (stderr, "error: %s must be an integer %d..%d\n", name, min, max);
        return -1;
    }
    *out = (int)n;
    return 0;
}

static int s_options_parse (int argc, char **argv, gf_feeder_options_t *options, const char **path)
{
    int rc = 0;
    *path = NULL;
    for (int i = 1; i < argc && rc == 0; i++) {
        if (streq (argv[i], "--window"))
            rc = s_int_option ("--window", argv[++i], 1, 100000, &options->window);
        else if (streq (argv[i], "--timeout"))
            rc = s_int_option ("--timeout", argv[++i], 10, 600000, &options->timeout_ms);
        else if (streq (argv[i], "--attempts"))
            rc = s_int_option ("--attempts", argv[++i], 1, 1000, &options->attempts);
        else if (streq (argv[i], "--backoff"))
            rc = s_int_option ("--backoff", argv[++i], GF_FEEDER_BACKOFF_MIN_MS, 600000,
                               &options->backoff_ms);
        else if (streq (argv[i], "--quiet"))
            options->quiet = true;
        else if (streq (argv[i], "--acks")) {
            const char *file = argv[++i];
            options->acks = file ? fopen (file, "w") : NULL;
            if (!options->acks) {
                fprintf (stderr, "error: --acks needs a file it can write: %s\n",
                         file ? strerror (errno) : "none given");
                rc = -1;
            }
        } else if (!*path)
            *path = argv[i];
        else {
            fprintf (stderr, "error: unexpected argument '%s'\n", argv[i]);
            rc = -1;
        }
    }
    return rc;
}

int gf_feeder_main (const char *name, gf_feeder_feed_fn *feed, int argc, char **argv)
{
    const char *const extra[] = {
        "--window=", "--timeout=", "--attempts=", "--backoff=", "--quiet", "--acks=", NULL};
    gf_config_t *config = gf_config_new (&argc, argv, extra);
    if (!config)
        return 2;
    gf_feeder_options_t options = {.endpoint = config->intake,
                                   .window = 256,
                                   .timeout_ms = 5000,
                                   .attempts = 20,
                                   .backoff_ms = 10000,
                                   .cert = config->cert,
                                   .server_cert = config->server_cert};
    const char *path = NULL;
    int rc = s_options_parse (argc, argv, &options, &path);
    if (rc != 0 || !path) {
        if (!path && rc == 0)
            fprintf (
                stderr,
                "usage: %s FILE|- [--intake EP] [--window N] [--timeout MS] "
                "[--attempts N] [--backoff MS] [--quiet] [--acks FILE] [--cert FILE --server-cert "
                "FILE]\n",
                name);
        if (options.acks)
            fclose (options.acks);
        gf_config_destroy (&config);
        return 2;
    }
    zsys_init ();
    zsys_set_logident (name);
    zsys_set_logstream (stderr);
    FILE *input = streq (path, "-") ? stdin : fopen (path, "r");
    if (!input) {
        fprintf (stderr, "error: cannot open %s: %s\n", path, strerror (errno));
        gf_config_destroy (&config);
        return 2;
    }
    gf_feeder_counts_t counts = {0};
    rc = feed (input, path, &options, &counts);
    if (input != stdin)
        fclose (input);
    if (options.acks)
        fclose (options.acks);
    gf_config_destroy (&config);
    if (rc == -2) /* an unusable input sent nothing: there are no counts */
        return 2;
    if (counts.unavailable)
        fprintf (stderr, "%s: %" PRIu64 " answers were 'unavailable': each record was resent\n",
                 path, counts.unavailable);
    printf ("accepted %" PRIu64 ", duplicate %" PRIu64 ", rejected %" PRIu64 ", failed %" PRIu64
            "\n",
            counts.accepted, counts.duplicate, counts.rejected, counts.failed);
    return rc == 0 ? 0 : 1;
}
