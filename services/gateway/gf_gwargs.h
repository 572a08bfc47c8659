/*  gf_gwargs — the gateway's request-argument parsing, kept apart from
    libmicrohttpd and the database so that it can be unit-tested and fuzzed
    (tests/fuzz/fuzz_gwargs.c, docs/fuzzing.md).

    Every function takes the raw text the client sent (query-string values
    and headers as libmicrohttpd decoded them, form fields as its post
    processor delivered them) and either accepts it or says why not.
*/
#ifndef GF_GWARGS_H_INCLUDED
#define GF_GWARGS_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#define GF_GWARGS_MAX_IDS   200 /* service_request_id values in one GET     */
#define GF_GWARGS_MAX_TYPES 32  /* SSE types= filters                        */

/*  Item checks for lists and paths. */
bool gf_gwargs_is_id (const char *t);       /* decimal, 1..18 digits      */
bool gf_gwargs_is_code (const char *t);     /* service (category) code    */
bool gf_gwargs_is_status (const char *t);   /* "open" or "closed"         */
bool gf_gwargs_is_datetime (const char *t); /* W3C datetime (Open311)     */
bool gf_gwargs_is_grid (const char *t);     /* grid code or prefix        */

/*  grid is subtree or inside it (QNL.07 holds QNL.07.063, not QNL.070):
    the C twin of directory.sql's gf_in_subtree, for what cannot ask the
    database per item (SSE events).  False for a NULL or empty argument. */
bool gf_gwargs_in_subtree (const char *grid, const char *subtree);

/*  Splits a comma list and checks each item with `ok` (at most `max`
    items); returns a PostgreSQL array literal (caller frees), or NULL with
    *bad set to the bad item (caller frees). */
char *gf_gwargs_list (const char *text, bool (*ok) (const char *), size_t max, char **bad);

/*  A decimal sequence number (Last-Event-ID, since=): 0..2^63-1. */
bool gf_gwargs_seq (const char *text, uint64_t *out);

/*  GET requests.json filters; NULL arguments are absent. */
typedef struct {
    char *ids;         /* array literal or NULL */
    char *codes;       /* array literal or NULL */
    char *statuses;    /* array literal or NULL */
    const char *start; /* borrowed, checked     */
    const char *end;   /* borrowed, checked     */
} gf_gwargs_filter_t;

/*  Fills f; returns NULL, or the reason for a 400 (caller frees; f is then
    empty). */
char *gf_gwargs_filter (const char *ids, const char *codes, const char *start, const char *end,
                        const char *status, gf_gwargs_filter_t *f);
void gf_gwargs_filter_reset (gf_gwargs_filter_t *f);

/*  The field checks of POST requests.json that need neither the database
    nor the intake (api_key is checked by the caller).  token is the
    Idempotency-Key header or client_request_id.  Returns NULL, or the
    reason for a 400 (a static string). */
const char *gf_gwargs_post_check (zhashx_t *form, const char *token);

/*  A form field's value (NULL when absent or empty). */
const char *gf_gwargs_form (zhashx_t *form, const char *key);

/*  Adds one piece of a form field as libmicrohttpd's post processor
    delivers it (off > 0: continues the value). */
void gf_gwargs_form_add (zhashx_t *form, const char *key, const char *data, uint64_t off,
                         size_t size);

/*  GET /stream arguments. */
typedef struct {
    uint64_t from;                    /* resume after this seq          */
    bool resume;                      /* Last-Event-ID or since given   */
    char *grid;                       /* grid filter, NULL for all      */
    char *types[GF_GWARGS_MAX_TYPES]; /* type filters (owned)           */
    size_t ntypes;                    /* 0: all types                   */
} gf_gwargs_sse_t;

/*  Fills a; returns NULL, or the reason for a 400 (a static string; a is
    then empty). */
const char *gf_gwargs_sse (const char *last_id, const char *since, const char *grid,
                           const char *types, gf_gwargs_sse_t *a);
/*  Checks a resume point against the stream: not after `head` (the newest
    seq known) and at most `max_behind` events behind it (0: no bound).
    Returns NULL, or the reason for a 400 (a static string). */
const char *gf_gwargs_sse_window (const gf_gwargs_sse_t *a, uint64_t head, uint64_t max_behind);
/*  Whether an event of this type and grid passes a's filters. */
bool gf_gwargs_sse_match (const gf_gwargs_sse_t *a, const char *type, const char *grid);
void gf_gwargs_sse_reset (gf_gwargs_sse_t *a);

/*  The dashboard trend's days= (1..366, default 30). */
bool gf_gwargs_days (const char *text, long *out);

#endif
