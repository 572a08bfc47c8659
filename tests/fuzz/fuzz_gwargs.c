/*  libFuzzer target: the gateway's request-argument parsing (gf_gwargs).
    The input is a set of argument values separated by line feeds, in this
    order (a missing line is an absent argument, "\x7f" alone too):
      0-4   GET requests.json: service_request_id, service_code,
            start_date, end_date, status
      5-8   GET /stream: Last-Event-ID, since, grid, types
      9-10  an event's type and grid, matched against the stream's filters
      11    GET /api/trend.json days
      12    Idempotency-Key
      13..  POST requests.json form fields "key=value"; each value is
            delivered in two pieces split at its middle, as libmicrohttpd's
            post processor may deliver a long value.
    Seeds: tests/fuzz/seeds/gwargs/ (docs/fuzzing.md). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gf_gwargs.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

#define S_FIELDS 32

int LLVMFuzzerInitialize (int *argc, char ***argv)
{
    zsys_init ();
    zsys_set_logstream (NULL);
    return 0;
}

static void s_free_item (void **item)
{
    free (*item);
    *item = NULL;
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    //  Values are C strings (libmicrohttpd stops at NUL): NULs end a value.
    char *text = malloc (size + 1);
    memcpy (text, data, size);
    text[size] = 0;
    const char *f[S_FIELDS] = {NULL};
    size_t nf = 0;
    char *p = text;
    while (nf < S_FIELDS) {
        char *nl = strchr (p, '\n');
        if (nl)
            *nl = 0;
        f[nf++] = streq (p, "\x7f") ? NULL : p;
        if (!nl)
            break;
        p = nl + 1;
    }

    gf_gwargs_filter_t filter;
    char *why = gf_gwargs_filter (f[0], f[1], f[2], f[3], f[4], &filter);
    if (why) {
        if (filter.ids || filter.codes || filter.statuses)
            abort (); //  refused filters own nothing
        free (why);
    } else {
        //  Accepted lists are array literals of checked items.
        if (filter.ids && (filter.ids[0] != '{' || strchr (filter.ids, '"')))
            abort ();
        gf_gwargs_filter_reset (&filter);
    }

    gf_gwargs_sse_t sse;
    if (!gf_gwargs_sse (f[5], f[6], f[7], f[8], &sse)) {
        if (sse.ntypes > GF_GWARGS_MAX_TYPES)
            abort ();
        if (f[9])
            (void)gf_gwargs_sse_match (&sse, f[9], f[10]);
        gf_gwargs_sse_reset (&sse);
    }

    long days;
    if (gf_gwargs_days (f[11], &days) && (days < 1 || days > 366))
        abort ();

    zhashx_t *form = zhashx_new ();
    zhashx_set_destructor (form, s_free_item);
    for (size_t i = 13; i < nf; i++) {
        if (!f[i])
            continue;
        const char *eq = strchr (f[i], '=');
        if (!eq)
            continue;
        char *key = strndup (f[i], (size_t)(eq - f[i]));
        const char *value = eq + 1;
        size_t n = strlen (value), half = n / 2;
        gf_gwargs_form_add (form, key, value, 0, half);
        gf_gwargs_form_add (form, key, value + half, half, n - half);
        const char *got = zhashx_lookup (form, key);
        if (!got || strlen (got) < n)
            abort (); //  the two pieces make the whole value
        free (key);
    }
    const char *token = f[12] && *f[12] ? f[12] : gf_gwargs_form (form, "client_request_id");
    (void)gf_gwargs_post_check (form, token);
    zhashx_destroy (&form);
    free (text);
    return 0;
}
