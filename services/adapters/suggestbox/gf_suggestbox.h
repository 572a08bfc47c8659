/*  gf_suggestbox — imports transcribed suggestion-box slips (民情意见箱).

    Reads one batch of slips as CSV (RFC 4180, see gf_csv.h) from a file,
    or stdin for "-", and submits each slip to the intake as
    complaint.submit, keeping up to `window` requests in flight.  A request
    without a reply in time, or answered "unavailable", is resent (the
    intake is idempotent).  At the end the caller prints the accepted /
    duplicate / rejected / failed counts; a slip is "failed" when it was
    neither stored nor rejected with a reason.

    The first row is the header.  Columns, by name (any order, case and
    surrounding spaces ignored): box_id, opened_at, slip_no, text (required)
    and name, phone, address (optional; a column may be absent or a cell
    empty).  Any other column name is an error: a misspelt "adress" would
    otherwise drop every address silently.

    Each slip becomes:
      source      "suggestbox"
      source_ref  "<box_id>/<opened_at in ms since epoch>/<slip_no>": the
                  slip's identity (box, opening, number) in a canonical
                  form, so that the same opening written with another UTC
                  offset, or a slip number whose leading zeros a
                  spreadsheet dropped ("007" → "7"), still matches.
      reported_at opened_at: when the slip was dropped is unknown; its clock
                  starts when the box was opened.
      description text; name, phone, address as given (empty → absent).
    Cells are trimmed of surrounding spaces (ASCII and the ideographic
    space U+3000).  The request id is "<line>:<source_ref>".

    Rows rejected here, each with a code and a reason: malformed (CSV
    quoting, NUL byte, wrong number of fields), missing_field (empty
    box_id, opened_at, slip_no or text), bad_value (opened_at not ISO 8601
    or not a real day, '/' in box_id or slip_no), too_long (box_id, slip_no,
    text over 4,000 characters, any cell over 16 KiB), invalid_utf8.  The
    last two are checked on every cell because a request the intake cannot
    read gets a reply without an id, which no row could be matched to.
    Other limits (name, phone, address lengths) are the intake's; its
    rejections are reported the same way, with the row's line.
*/
#ifndef GF_SUGGESTBOX_H_INCLUDED
#define GF_SUGGESTBOX_H_INCLUDED

#include <czmq.h>
#include <stdio.h>

#include "gf_proto.h"
#include "gf_csv.h"
#include "gf_feeder.h"

#define GF_SUGGESTBOX_SOURCE "suggestbox"
/*  Limits that keep source_ref within GF_MAX_REF and the request id
    "<line>:<source_ref>" within GF_MAX_REF too (20 + 1 + 48 + 1 + 20 + 1
    + 32 = 123 characters at most). */
#define GF_SUGGESTBOX_MAX_BOX  48 /* characters in box_id  */
#define GF_SUGGESTBOX_MAX_SLIP 32 /* characters in slip_no */

/*  Where each column is: index into the row, -1 for an absent optional
    column. */
typedef struct {
    int box_id, opened_at, slip_no, text, name, phone, address;
    size_t columns; /* fields in the header row */
} gf_suggestbox_header_t;

/*  Feeds every slip of input; `name` prefixes the messages on stderr
    ("NAME:LINE: rejected: CODE: reason").  Returns 0 if no slip failed,
    -1 if some did, -2 if the input is unusable (unreadable, no header or a
    bad header: printed, nothing sent). */
int gf_suggestbox_feed (FILE *input, const char *name, const gf_feeder_options_t *options,
                        gf_feeder_counts_t *counts);

/*  Reads the header from the record csv has just read.  Returns 0, or -1
    with a reason in err. */
int gf_suggestbox_header (gf_csv_t *csv, gf_suggestbox_header_t *header, gf_error_t *err);

/*  Turns the record csv has just read into a complaint.  Returns 0, or -1
    with a reason in err (and nothing in c to free). */
int gf_suggestbox_parse (const gf_suggestbox_header_t *header, gf_csv_t *csv, gf_complaint_t *c,
                         gf_error_t *err);

#endif
