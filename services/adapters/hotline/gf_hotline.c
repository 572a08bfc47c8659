/*  gf_hotline — the hotline call-centre bridge. */
#include "gf_proto.h"
#include "gf_client.h"
#include "gf_clock.h"
#include "gf_hotline.h"

#include <jansson.h>

/*  One record waiting for its reply. */
typedef struct {
    uint64_t line;   /* input line number                 */
    zframe_t *body;  /* encoded request, for resending    */
    int64_t sent_at; /* zclock_mono of the last send      */
    int attempts;    /* sends so far                      */
} s_pending_t;

static void s_pending_destroy (void **item)
{
    s_pending_t *p = (s_pending_t *)*item;
    zframe_destroy (&p->body);
    free (p);
    *item = NULL;
}

static char *s_opt_str (json_t *record, const char *key, gf_error_t *err, bool *bad)
{
    json_t *v = json_object_get (record, key);
    if (!v || json_is_null (v))
        return NULL;
    if (!json_is_string (v)) {
        gf_error_set (err, GF_E_WRONG_TYPE, "'%s' must be a string", key);
        *bad = true;
        return NULL;
    }
    return strdup (json_string_value (v));
}

int gf_hotline_parse (const char *line, uint64_t line_no, gf_complaint_t *c, gf_error_t *err)
{
    memset (c, 0, sizeof *c);
    json_error_t jerr;
    json_t *record = json_loads (line, JSON_REJECT_DUPLICATES, &jerr);
    if (!record || !json_is_object (record)) {
        json_decref (record);
        return gf_error_set (err, GF_E_MALFORMED, "not a JSON object: %s", jerr.text);
    }
    bool bad = false;
    c->source = strdup ("hotline");
    c->source_ref = s_opt_str (record, "call_id", err, &bad);
    c->description = s_opt_str (record, "text", err, &bad);
    c->category = s_opt_str (record, "category", err, &bad);
    c->grid = s_opt_str (record, "grid", err, &bad);
    c->address = s_opt_str (record, "address", err, &bad);
    c->name = s_opt_str (record, "caller", err, &bad);
    c->phone = s_opt_str (record, "phone", err, &bad);
    char *time = s_opt_str (record, "time", err, &bad);
    json_t *urgent = json_object_get (record, "urgent");
    if (!bad && urgent && !json_is_boolean (urgent) && !json_is_null (urgent)) {
        gf_error_set (err, GF_E_WRONG_TYPE, "'urgent' must be true or false");
        bad = true;
    }
    c->urgent = urgent && json_is_true (urgent);
    if (!bad && (!c->source_ref || !*c->source_ref)) {
        gf_error_set (err, GF_E_MISSING_FIELD, "'call_id' is required");
        bad = true;
    }
    if (!bad && !c->description) {
        gf_error_set (err, GF_E_MISSING_FIELD, "'text' is required");
        bad = true;
    }
    if (!bad && time && gf_clock_parse (time, &c->reported_at) != 0) {
        gf_error_set (err, GF_E_BAD_VALUE, "'time' is not ISO 8601: %.40s", time);
        bad = true;
    }
    free (time);
    json_decref (record);
    if (bad) {
        gf_complaint_reset (c);
        return -1;
    }
    c->id = zsys_sprintf ("%" PRIu64 ":%s", line_no, c->source_ref);
    c->at = gf_clock_now_ms ();
    return 0;
}

/*  Reads the next non-empty line; returns NULL at end of input. */
static char *s_next_line (FILE *input, uint64_t *line_no)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline (&line, &cap, input)) >= 0) {
        (*line_no)++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        if (len > 0)
            return line;
    }
    free (line);
    return NULL;
}

int gf_hotline_feed (FILE *input, const char *name, const gf_hotline_options_t *options,
                     gf_hotline_counts_t *counts)
{
    gf_client_t *client = gf_client_new (options->endpoint);
    if (!client)
        return -1;
    zhashx_t *pending = zhashx_new ();
    zhashx_set_destructor (pending, s_pending_destroy);
    uint64_t line_no = 0;
    bool eof = false;
    int64_t last_scan = zclock_mono ();

    while (!zsys_interrupted && (!eof || zhashx_size (pending) > 0)) {
        /* Fill the window. */
        while (!eof && (int)zhashx_size (pending) < options->window) {
            char *line = s_next_line (input, &line_no);
            if (!line) {
                eof = true;
                break;
            }
            gf_complaint_t c;
            gf_error_t err = {GF_OK, ""};
            if (gf_hotline_parse (line, line_no, &c, &err) != 0) {
                counts->rejected++;
                if (!options->quiet)
                    fprintf (stderr, "%s:%" PRIu64 ": rejected: %s: %s\n", name, line_no,
                             gf_code_name (err.code), err.message);
            } else if (zhashx_lookup (pending, c.id) == NULL) {
                s_pending_t *p = (s_pending_t *)zmalloc (sizeof (s_pending_t));
                p->line = line_no;
                p->body = gf_complaint_encode (&c);
                p->sent_at = zclock_mono ();
                p->attempts = 1;
                gf_client_send (client, p->body);
                zhashx_insert (pending, c.id, p);
            }
            gf_complaint_reset (&c);
            free (line);
        }
        /* Collect replies: wait for the first, then take all that are queued. */
        int wait_ms = 100;
        gf_reply_t reply = {0};
        int got;
        while ((got = gf_client_recv (client, &reply, wait_ms)) == 0) {
            wait_ms = 0;
            s_pending_t *p = reply.id ? (s_pending_t *)zhashx_lookup (pending, reply.id) : NULL;
            if (p && !reply.ok && reply.code == GF_E_UNAVAILABLE)
                p->sent_at = zclock_mono () - options->timeout_ms + 500; /* resend in 0.5 s */
            else if (p) {
                if (reply.ok && reply.duplicate && p->attempts == 1)
                    counts->duplicate++;
                else if (reply.ok)
                    counts->accepted++; /* a duplicate after a resend is our own earlier send */
                else {
                    counts->rejected++;
                    if (!options->quiet)
                        fprintf (stderr, "%s:%" PRIu64 ": rejected by intake: %s: %s\n", name,
                                 p->line, gf_code_name (reply.code),
                                 reply.message ? reply.message : "");
                }
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
            if (now - p->sent_at < options->timeout_ms)
                continue;
            if (p->attempts >= options->attempts) {
                counts->failed++;
                fprintf (stderr, "%s:%" PRIu64 ": failed: no answer after %d attempts\n", name,
                         p->line, p->attempts);
                zhashx_delete (pending, key);
            } else {
                p->attempts++;
                p->sent_at = now;
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
