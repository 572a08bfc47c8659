/*  gf_feeder — the send loop every batch adapter shares.

    Pulls complaints from a source callback and keeps up to `window`
    requests in flight to the intake.  A request without a reply in time, or
    answered "unavailable", is resent (the intake is idempotent on
    (source, source_ref)).  "unavailable" means the intake answered and
    stored nothing (a database that is read-only, full, locked, behind a
    dead synchronous standby ...): the record is resent after a back-off
    (0.5 s, doubling up to `backoff_ms`) for as long as it takes, never
    given up.  Only silence gives up: after `attempts` sends in a row
    without any answer the record counts as failed (printed with its
    line).  Rejections (by the source itself or by the intake) are printed
    as "NAME:LINE: rejected: CODE: reason" unless quiet.  With --acks FILE,
    each acknowledgement is written to FILE as it arrives, flushed:
    "UNIX_MS LINE new|duplicate" (the failover tests time the first ack
    after a crash with it).
*/
#ifndef GF_FEEDER_H_INCLUDED
#define GF_FEEDER_H_INCLUDED

#include <czmq.h>
#include "gf_proto.h"
#include <stdio.h>

typedef struct {
    const char *endpoint;    /* intake endpoint                            */
    int window;              /* max requests in flight                     */
    int timeout_ms;          /* resend a request after this long           */
    int attempts;            /* give up after this many unanswered sends   */
    int backoff_ms;          /* longest wait between resends after `unavailable` */
    bool quiet;              /* do not print each rejection                */
    const char *cert;        /* own CurveZMQ certificate, or NULL/""      */
    const char *server_cert; /* the intake's public certificate, or NULL  */
    FILE *acks;              /* --acks: one line per acknowledgement, or NULL */
} gf_feeder_options_t;

typedef struct {
    uint64_t accepted;    /* stored by this run                           */
    uint64_t duplicate;   /* already stored before this run               */
    uint64_t rejected;    /* refused with a reason (bad record or intake) */
    uint64_t failed;      /* no answer after every attempt                */
    uint64_t unavailable; /* `unavailable` answers (each one resent)   */
} gf_feeder_counts_t;

/*  The first wait before resending after `unavailable` (ms). */
#define GF_FEEDER_BACKOFF_MIN_MS 500

/*  The source: returns 1 with c filled (c->id unique per record) and *line
    set, 0 at the end of input, or -1 for a record it rejects itself, with
    *line and err set. */
typedef int (gf_feeder_next_fn) (void *source, gf_complaint_t *c, uint64_t *line, gf_error_t *err);

/*  Feeds every record.  Returns 0 if no record failed, else -1. */
int gf_feeder_run (const gf_feeder_options_t *options, const char *name, gf_feeder_next_fn *next,
                   void *source, gf_feeder_counts_t *counts);

/*  An adapter's feed: every record of input.  Returns 0, -1 if some record
    failed, or -2 if the input is unusable (nothing was sent). */
typedef int (gf_feeder_feed_fn) (FILE *input, const char *name, const gf_feeder_options_t *options,
                                 gf_feeder_counts_t *counts);

/*  The whole `main` of a batch adapter: the shared config (--intake ...),
    the feeder options (--window N, --timeout MS, --attempts N,
    --backoff MS, --quiet),
    FILE or - for stdin, the feed, and the line "accepted N, duplicate N,
    rejected N, failed N".  Returns the exit code: 0 when every record was
    stored or rejected with a reason, 1 when some record failed, 2 on usage
    errors or an unusable input. */
int gf_feeder_main (const char *name, gf_feeder_feed_fn *feed, int argc, char **argv);

#endif
