/*  gf_hotline — the hotline call-centre bridge.

    Reads call records as JSON Lines (a file, or stdin for "-") and submits
    each to the intake as complaint.submit with source "hotline" and the
    call id as source_ref, through gf_feeder (window, resends, counts); a
    record is "failed" when it was neither stored nor rejected with a reason.

    Record: {"call_id": str, "time": ISO 8601, "text": str, "caller": str?,
    "phone": str?, "address": str?, "grid": str?, "category": str?,
    "urgent": bool?}
*/
#ifndef GF_HOTLINE_H_INCLUDED
#define GF_HOTLINE_H_INCLUDED

#include <czmq.h>
#include <stdio.h>
#include "gf_feeder.h"

/*  Feeds every record of input.  Returns 0 if no record failed, else -1. */
int gf_hotline_feed (FILE *input, const char *name, const gf_feeder_options_t *options,
                     gf_feeder_counts_t *counts);

/*  Parses one JSON line into a complaint (request id = "<line>:<call id>").
    Returns 0, or -1 with a reason in err. */
int gf_hotline_parse (const char *line, uint64_t line_no, gf_complaint_t *c, gf_error_t *err);

#endif
