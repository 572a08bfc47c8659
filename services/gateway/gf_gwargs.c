/*  gf_gwargs — the gateway's request-argument parsing (see gf_gwargs.h).
    Moved out of gf_open311.c, gf_sse.c, gf_dash.c and gf_gateway.c
    unchanged in behaviour, so that tests/fuzz/fuzz_gwargs.c can reach it
    without a server or a database. */
#define _GNU_SOURCE /* strndup */
#include "gf_gwargs.h"

#include <ctype.h>
#include <errno.h>

char *gf_gwargs_list (const char *text, bool (*ok) (const char *), size_t max, char **bad)
{
    char *copy = strdup (text), *save = NULL;
    char *out = NULL;
    size_t size = 0, n = 0;
    FILE *f = open_memstream (&out, &size);
    fputc ('{', f);
    for (char *t = strtok_r (copy, ",", &save); t; t = strtok_r (NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        if (!ok (t) || ++n > max) {
            *bad = strdup (t);
            break;
        }
        fprintf (f, "%s%s", n > 1 ? "," : "", t);
    }
    fputc ('}', f);
    fclose (f);
    free (copy);
    if (*bad || n == 0) {
        if (!*bad)
            *bad = strdup (text);
        free (out);
        return NULL;
    }
    return out;
}

bool gf_gwargs_is_id (const char *t)
{
    return *t && strlen (t) <= 18 && strspn (t, "0123456789") == strlen (t);
}

bool gf_gwargs_is_code (const char *t)
{
    return *t && strlen (t) <= 64 && islower ((unsigned char)*t) &&
           strspn (t, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen (t);
}

bool gf_gwargs_is_status (const char *t)
{
    return streq (t, "open") || streq (t, "closed");
}

bool gf_gwargs_is_grid (const char *t)
{
    return *t && strlen (t) <= 64 &&
           strspn (t, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.") == strlen (t);
}

//  W3C datetime (ISO 8601) as Open311 uses: YYYY-MM-DD, optionally
//  Thh:mm[:ss[.fff]] and Z or ±hh:mm.  Ranges are checked.
bool gf_gwargs_is_datetime (const char *t)
{
    int y, mo, d, h = 0, mi = 0, s = 0, n = 0;
    if (sscanf (t, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
        return false;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || y > 2199 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
        return false;
    if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
        return false; //  the database would refuse it: a 400 here, not a 503 there
    t += n;
    if (!*t)
        return true;
    if (*t != 'T' && *t != ' ')
        return false;
    t++;
    if (sscanf (t, "%2d:%2d%n", &h, &mi, &n) != 2 || n != 5 || h > 23 || mi > 59)
        return false;
    t += n;
    if (*t == ':') {
        if (sscanf (t + 1, "%2d%n", &s, &n) != 1 || n != 2 || s > 60)
            return false;
        t += 3;
        if (*t == '.') {
            t++;
            if (!isdigit ((unsigned char)*t))
                return false;
            while (isdigit ((unsigned char)*t))
                t++;
        }
    }
    if (!*t || streq (t, "Z"))
        return true;
    int oh, om;
    if ((*t == '+' || *t == '-') &&
        ((sscanf (t + 1, "%2d:%2d%n", &oh, &om, &n) == 2 && n == 5) ||
         (sscanf (t + 1, "%2d%2d%n", &oh, &om, &n) == 2 && n == 4)) &&
        !t[1 + n] && oh <= 14 && om <= 59)
        return true;
    return false;
}

bool gf_gwargs_seq (const char *text, uint64_t *out)
{
    char *end = NULL;
    if (!text || !*text || !isdigit ((unsigned char)*text))
        return false;
    errno = 0;
    unsigned long long v = strtoull (text, &end, 10);
    //  Sequence numbers are PostgreSQL bigints: nothing above 2^63-1 exists.
    if (*end || errno || v > (unsigned long long)INT64_MAX)
        return false;
    *out = v;
    return true;
}

char *gf_gwargs_filter (const char *ids, const char *codes, const char *start, const char *end,
                        const char *status, gf_gwargs_filter_t *f)
{
    memset (f, 0, sizeof *f);
    char *bad = NULL, *why = NULL;
    if (ids && !(f->ids = gf_gwargs_list (ids, gf_gwargs_is_id, GF_GWARGS_MAX_IDS, &bad)))
        why = zsys_sprintf ("service_request_id: '%s' is not a request id (comma-separated "
                            "list of at most %d)",
                            bad, GF_GWARGS_MAX_IDS);
    else if (codes && !(f->codes = gf_gwargs_list (codes, gf_gwargs_is_code, 100, &bad)))
        why = zsys_sprintf ("service_code: '%s' is not a service code", bad);
    else if (start && !gf_gwargs_is_datetime (start))
        why = zsys_sprintf ("start_date: '%s' is not a W3C datetime (2026-01-31T08:00:00+08:00)",
                            start);
    else if (end && !gf_gwargs_is_datetime (end))
        why =
            zsys_sprintf ("end_date: '%s' is not a W3C datetime (2026-01-31T08:00:00+08:00)", end);
    else if (status && !(f->statuses = gf_gwargs_list (status, gf_gwargs_is_status, 2, &bad)))
        why = zsys_sprintf ("status: '%s' is not open or closed", bad);
    else {
        f->start = start;
        f->end = end;
    }
    free (bad);
    if (why)
        gf_gwargs_filter_reset (f);
    return why;
}

void gf_gwargs_filter_reset (gf_gwargs_filter_t *f)
{
    free (f->ids);
    free (f->codes);
    free (f->statuses);
    memset (f, 0, sizeof *f);
}

const char *gf_gwargs_form (zhashx_t *form, const char *key)
{
    const char *v = zhashx_lookup (form, key);
    return v && *v ? v : NULL;
}

const char *gf_gwargs_post_check (zhashx_t *form, const char *token)
{
    const char *address = gf_gwargs_form (form, "address_string");
    const char *lat = gf_gwargs_form (form, "lat"), *lon = gf_gwargs_form (form, "long");
    const char *grid = gf_gwargs_form (form, "attribute[grid]");
    const char *urgent = gf_gwargs_form (form, "attribute[urgent]");
    if (!gf_gwargs_form (form, "service_code"))
        return "service_code was not provided";
    if (!address && !(lat && lon) && !grid && !gf_gwargs_form (form, "address_id"))
        return "a location was not provided: give address_string, lat and long, "
               "or attribute[grid]";
    if (urgent && !streq (urgent, "true") && !streq (urgent, "false"))
        return "attribute[urgent] must be true or false";
    if (token && strlen (token) > 80)
        return "client_request_id / Idempotency-Key: at most 80 characters";
    return NULL;
}

void gf_gwargs_form_add (zhashx_t *form, const char *key, const char *data, uint64_t off,
                         size_t size)
{
    char *old = zhashx_lookup (form, key);
    size_t old_len = old ? strlen (old) : 0;
    if (off == 0 || !old) {
        char *value = malloc (size + 1);
        memcpy (value, data, size);
        value[size] = 0;
        zhashx_update (form, key, value);
    } else {
        char *value = malloc (old_len + size + 1);
        memcpy (value, old, old_len);
        memcpy (value + old_len, data, size);
        value[old_len + size] = 0;
        zhashx_update (form, key, value);
    }
}

const char *gf_gwargs_sse (const char *last_id, const char *since, const char *grid,
                           const char *types, gf_gwargs_sse_t *a)
{
    memset (a, 0, sizeof *a);
    if (last_id && *last_id) {
        if (!gf_gwargs_seq (last_id, &a->from))
            return "Last-Event-ID must be a sequence number";
        a->resume = true;
    } else if (since && *since) {
        if (!gf_gwargs_seq (since, &a->from))
            return "since must be a sequence number";
        a->resume = true;
    }
    if (grid && !gf_gwargs_is_grid (grid)) {
        memset (a, 0, sizeof *a);
        return "grid must be a grid code";
    }
    a->grid = grid && *grid ? strdup (grid) : NULL;
    if (types && *types) {
        char *copy = strdup (types), *save = NULL;
        for (char *t = strtok_r (copy, ",", &save); t; t = strtok_r (NULL, ",", &save)) {
            if (a->ntypes == GF_GWARGS_MAX_TYPES || strlen (t) > 64) {
                free (copy);
                gf_gwargs_sse_reset (a);
                return "types: at most 32 types of at most 64 characters";
            }
            a->types[a->ntypes++] = strdup (t);
        }
        free (copy);
    }
    return NULL;
}

const char *gf_gwargs_sse_window (const gf_gwargs_sse_t *a, uint64_t head, uint64_t max_behind)
{
    if (!a->resume)
        return NULL;
    if (a->from > head)
        return "Last-Event-ID / since is after the newest event: the event log may have gone "
               "back (a head regression: a failover or a restore), so events already seen are not "
               "in it; reload the page (GET /api/summary.json) and follow the stream live";
    if (max_behind && head - a->from > max_behind)
        return "Last-Event-ID / since is too far behind the newest event to replay: reload the "
               "page (GET /api/summary.json) and follow the stream live";
    return NULL;
}

bool gf_gwargs_in_subtree (const char *grid, const char *subtree)
{
    size_t n = subtree ? strlen (subtree) : 0;
    return grid && n && strncmp (grid, subtree, n) == 0 && (!grid[n] || grid[n] == '.');
}

bool gf_gwargs_sse_match (const gf_gwargs_sse_t *a, const char *type, const char *grid)
{
    if (a->grid && !gf_gwargs_in_subtree (grid, a->grid))
        return false;
    if (a->ntypes == 0)
        return true;
    for (size_t i = 0; i < a->ntypes; i++) {
        const char *t = a->types[i];
        size_t n = strlen (t);
        if (n > 1 && t[n - 1] == '*' ? strncmp (type, t, n - 1) == 0 : streq (type, t))
            return true;
    }
    return false;
}

void gf_gwargs_sse_reset (gf_gwargs_sse_t *a)
{
    for (size_t i = 0; i < a->ntypes; i++)
        free (a->types[i]);
    free (a->grid);
    memset (a, 0, sizeof *a);
}

bool gf_gwargs_days (const char *text, long *out)
{
    char *end = NULL;
    long n = text ? strtol (text, &end, 10) : 30;
    if (text && (*end || !*text || n < 1 || n > 366))
        return false;
    *out = n;
    return true;
}
