/*  gf_hub — the gateway's in-memory window on the event stream.

    One follower (the gateway actor) appends every event it reads from the
    relay, in seq order, to a bounded ring; any number of SSE connections
    read from it, each at its own position.  The follower never waits for a
    reader: when a reader falls so far behind that the events it needs next
    have left the ring, gf_hub_next tells it so (GF_HUB_OVERFLOW) and the
    connection is closed; the browser reconnects with Last-Event-ID and is
    served by a replay from the relay instead.  This is the per-connection
    bound of the design: a slow client costs the gateway nothing but its
    own position.

    Thread-safe: every function may be called from any thread.
*/
#ifndef GF_HUB_H_INCLUDED
#define GF_HUB_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct _gf_hub_t gf_hub_t;

/*  A ring of `capacity` events that starts empty just after seq `base`
    (the first event appended is expected to be base + 1). */
gf_hub_t *gf_hub_new (size_t capacity, uint64_t base);
void gf_hub_destroy (gf_hub_t **self_p);

/*  Appends an event (copies are taken) and wakes waiting readers.
    Events at or below the newest seq are ignored. */
void gf_hub_append (gf_hub_t *self, uint64_t seq, const char *type, const char *grid,
                    const char *text);

/*  Results of gf_hub_next. */
typedef enum {
    GF_HUB_EVENT,    /* an event after `after` was returned           */
    GF_HUB_TIMEOUT,  /* none arrived within the timeout               */
    GF_HUB_OVERFLOW, /* events after `after` already left the ring    */
    GF_HUB_STOPPED,  /* gf_hub_stop was called                        */
    GF_HUB_RESET     /* gf_hub_reset was called since the reader's epoch */
} gf_hub_status_t;

/*  The instant ms from now on clock (CLOCK_MONOTONIC for a condition
    variable set to it, CLOCK_REALTIME for pthread_mutex_timedlock), as the
    timed pthread waits take it. */
struct timespec gf_hub_deadline (clockid_t clock, int ms);

/*  Waits up to timeout_ms for the first event with seq > after.  On
    GF_HUB_EVENT fills *seq and returns copies of its type, grid (may be
    NULL) and SSE text in the out pointers (caller frees). */
gf_hub_status_t gf_hub_next (gf_hub_t *self, uint64_t after, int timeout_ms, uint64_t *seq,
                             char **type, char **grid, char **text);

/*  The same for a reader that read the hub at `epoch` (gf_hub_epoch):
    GF_HUB_RESET once the hub has been reset since. */
gf_hub_status_t gf_hub_next_at (gf_hub_t *self, uint64_t epoch, uint64_t after, int timeout_ms,
                                uint64_t *seq, char **type, char **grid, char **text);

/*  Head regression (docs/streams.md): the log went back, its seqs after
    `base` are new events.  Empties the ring, starts it again after `base`
    and wakes every reader (GF_HUB_RESET from gf_hub_next_at). */
void gf_hub_reset (gf_hub_t *self, uint64_t base);

/*  Resets so far (0 at first), and in *base (if not NULL) the base of the
    last reset and in *seen the newest seq appended before it. */
uint64_t gf_hub_epoch (gf_hub_t *self, uint64_t *base, uint64_t *seen);

/*  True when a reader positioned at `after` can be served from the ring
    (nothing it needs has left it). */
bool gf_hub_covers (gf_hub_t *self, uint64_t after);

/*  The newest seq appended (or base), and the oldest seq held (0 if empty). */
uint64_t gf_hub_last (gf_hub_t *self);
uint64_t gf_hub_first (gf_hub_t *self);

/*  Wakes every reader with GF_HUB_STOPPED, now and from then on. */
void gf_hub_stop (gf_hub_t *self);
bool gf_hub_stopped (gf_hub_t *self);

#endif
