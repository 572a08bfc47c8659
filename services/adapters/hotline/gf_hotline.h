/*  gf_hotline — the hotline call-centre bridge.

    Reads call records as JSON Lines (a file, or stdin for "-") and submits
    each to the intake as complaint.submit with source "hotline" and the
    call id as source_ref, keeping up to `window` requests in flight.  A
    request without a reply in time, or answered "unavailable", is resent
    (the intake is idempotent).  At the end prints the accepted / duplicate
    / rejected / failed counts; a record is "failed" when it was neither
    stored nor rejected with a reason.

    Record: {"call_id": str, "time": ISO 8601, "text": str, "caller": str?,
    "phone": str?, "address": str?, "grid": str?, "category": str?,
    "urgent": bool?}
*/
#ifndef GF_HOTLINE_H_INCLUDED
#define GF_HOTLINE_H_INCLUDED

#include <czmq.h>
#include <stdio.h>

typedef struct {
    const char *endpoint; /* intake endpoint                            */
    int window;           /* max requests in flight                     */
    int timeout_ms;       /* resend a request after this long            */
    int attempts;         /* give up on a record after this many sends   */
    bool quiet;           /* do not print each rejection                 */
} gf_hotline_options_t;

typedef struct {
    uint64_t accepted;  /* stored by this run                           */
    uint64_t duplicate; /* already stored before (same call id)         */
    uint64_t rejected;  /* refused with a reason (bad record or intake) */
    uint64_t failed;    /* no answer after every attempt                */
} gf_hotline_counts_t;

/*  Feeds every record of input.  Returns 0 if no record failed, else -1. */
int gf_hotline_feed (FILE *input, const char *name, const gf_hotline_options_t *options,
                     gf_hotline_counts_t *counts);

/*  Parses one JSON line into a complaint (request id = "<line>:<call id>").
    Returns 0, or -1 with a reason in err. */
int gf_hotline_parse (const char *line, uint64_t line_no, gf_complaint_t *c, gf_error_t *err);

#endif
