/*  gf_stream — a subscriber's view of the event stream: live events from
    the relay's PUB socket, with catch-up from its replay socket.

    Start with `since` (a seq) to first replay everything after it, then go
    live (the zguide Clone pattern: subscribe first, replay, drop live
    events already seen).  Events are delivered once each, in seq order.
    With an empty prefix every event is seen, so a jump in seq is a gap:
    the stream replays the missing range before delivering the event that
    revealed it.  With a prefix, gaps cannot be seen in seq; the stream
    then checks against the relay's heartbeat: when the relay's head moved
    and nothing arrived for a heartbeat period, it replays from the last
    event it delivered.
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
void gf_stream_destroy (gf_stream_t **self_p);

/*  Returns the next event (caller destroys) with its topic in *topic
    (caller frees), or NULL after timeout_ms without one or on
    interruption. */
gf_msg_t *gf_stream_next (gf_stream_t *self, int timeout_ms, char **topic);

/*  Seq of the last event delivered (0 if none), and the relay's head as
    last heard (0 if not yet). */
uint64_t gf_stream_last (gf_stream_t *self);
uint64_t gf_stream_head (gf_stream_t *self);

/*  Events fetched by replay after a gap or a silence (0 in a healthy run
    that started live). */
uint64_t gf_stream_recovered (gf_stream_t *self);

#endif
