/*  gf_stream — a subscriber's view of the event stream: live events from
    the relay's PUB socket, with exact gap detection and catch-up from its
    replay socket (the zguide Clone pattern; docs/streams.md).

    Start with `since` (a seq) to first replay everything after it, then go
    live (subscribe first, replay, drop live events already seen).  Every
    event matching the prefix is delivered exactly once.

    Gaps are detected exactly, never guessed.  The relay publishes events
    and its heartbeat (relay.hb, carrying the head seq H) on one socket in
    one thread, so when relay.hb H arrives every event <= H that ZeroMQ did
    not drop has arrived before it.
    - Empty prefix: seqs are dense, so a jump in seq, or a heartbeat H
      above the last seq, is a gap; the stream replays the hole before
      delivering anything later: events come in seq order.
    - With a prefix: at each heartbeat that moved the head, the stream
      asks the relay how many events in (verified, H] match its prefix (a
      probe) and compares with the number it received; if they differ it
      replays (verified, ...] and delivers the events it lacked.  Those
      come after live events with higher seqs: filtered streams are in seq
      order except for events recovered after a gap.
    A stuck reader whose queue ZeroMQ dropped thus recovers everything.

    Head regression: a heartbeat below the last seq seen makes the stream
    ask the log's head; an answer (to any request) whose head is below
    what had been seen when it was asked proves the log went back (a
    failover to a standby that was behind, a restore).  The stream then
    logs "head regression: ...", counts it, and resynchronises: its
    position becomes the lowest head heard from the new log and it
    replays from there, so the new log's events are delivered once.
*/
#ifndef GF_STREAM_H_INCLUDED
#define GF_STREAM_H_INCLUDED

#include <czmq.h>
#include "gf_proto.h"

typedef struct _gf_stream_t gf_stream_t;

#define GF_STREAM_LIVE UINT64_MAX /* `since` for live events only */

/*  Subscribes to topic prefix ("" for all) at pub and replays from replay. */
gf_stream_t *gf_stream_new (const char *pub, const char *replay, const char *prefix,
                            uint64_t since);

/*  The same with the SUB socket's queue limits: rcvhwm messages (0 = no
    limit) and rcvbuf bytes of kernel buffer (0 = the system's default).
    gf_stream_new uses 100000 and 0.  Tests use small ones to make ZeroMQ
    drop. */
gf_stream_t *gf_stream_new_sized (const char *pub, const char *replay, const char *prefix,
                                  uint64_t since, int rcvhwm, int rcvbuf);
/*  The same as a CURVE client (gf_auth_client_apply): its own certificate
    `cert` (FILE + FILE_secret) and the relay's public certificate
    `relay_cert`; relay_cert NULL or empty: plain.  rcvhwm 0: the default.  The
    relay gives an authenticated stream only what its identity may read
    (docs/security.md), so such a stream always finds gaps by probe, as a
    filtered one does.  NULL after logging a bad certificate. */
gf_stream_t *gf_stream_new_secure (const char *pub, const char *replay, const char *prefix,
                                   uint64_t since, int rcvhwm, int rcvbuf, const char *cert,
                                   const char *relay_cert);
void gf_stream_destroy (gf_stream_t **self_p);

/*  Returns the next event (caller destroys) with its topic in *topic
    (caller frees), or NULL after timeout_ms without one or on
    interruption. */
gf_msg_t *gf_stream_next (gf_stream_t *self, int timeout_ms, char **topic);

/*  Seq of the last event delivered or scanned (0 if none), and the relay's
    head as last heard (0 if not yet). */
uint64_t gf_stream_last (gf_stream_t *self);
uint64_t gf_stream_head (gf_stream_t *self);

/*  Events fetched by replay after a gap (0 in a healthy run that started
    live), and gaps detected. */
uint64_t gf_stream_recovered (gf_stream_t *self);
uint64_t gf_stream_gaps (gf_stream_t *self);

/*  Seq up to which every matching event has surely been delivered (a
    safe `since` to resume from). */
uint64_t gf_stream_verified (gf_stream_t *self);

/*  Head regressions found (the log's head went below a seq seen): each
    one reset the position to the new log's head. */
uint64_t gf_stream_regressions (gf_stream_t *self);

/*  The position the last regression resynchronised from (0 if none): the
    new log's events after it are delivered. */
uint64_t gf_stream_regressed_at (gf_stream_t *self);

#endif
