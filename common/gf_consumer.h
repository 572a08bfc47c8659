/*  gf_consumer — a durable, exactly-once consumer of one event type.

    The event log in PostgreSQL is the source of truth; the relay's PUB
    socket is only a wake-up (PUB/SUB is lossy).  Each step runs in one
    transaction: lock this consumer's checkpoint row, read the next batch of
    events of the type with seq > checkpoint, call the handler (which
    applies its idempotent effect and inserts its own events), move the
    checkpoint, commit.  A crash at any instant rolls the whole step back.
    Several instances of one consumer share a lease named after it
    (gf_lease): only the holder steps, each step fenced by the holder's
    epoch; the others stand by and take over when the lease lapses.  The
    checkpoint row lock stays as a second guard.

    Partitioned (gf_consumer_new_partitioned, the router's and the
    notifier's work/partitions): the events are split by case, case_id modulo the
    number of partitions (events without a case in partition 0), so each
    case's events stay in log order.  Each partition has its own checkpoint
    row and lease, both named "<name>.p<k>of<n>"; every instance holds a
    fair share of them (gf_share, which the escalator's roots use too), ceil (n / instances alive,
   from the leases' heartbeats), takes lapsed ones (or those of a dead holder) while under its share
   and gives surplus ones back when another instance joins. With one partition the names are
   "<name>" and it behaves as above.
*/
#ifndef GF_CONSUMER_H_INCLUDED
#define GF_CONSUMER_H_INCLUDED

#include <czmq.h>
#include "gf_config.h"
#include "gf_db.h"

/*  Called inside the step's transaction with the batch: columns seq, id, type,
    case_id, grid, at_ms, payload (JSON text), in seq order.  Returns 0, or
    -1 to roll the step back (it is retried after a back-off). */
typedef int (gf_consumer_fn) (gf_db_t *db, const PGresult *events, void *arg);

typedef struct _gf_consumer_t gf_consumer_t;

/*  name: checkpoint key (e.g. "router"); type: event type consumed, or
    several separated by commas ("case.received,case.returned"). */
gf_consumer_t *gf_consumer_new (const char *name, const char *type, gf_config_t *config);
/*  The same, its work split into `partitions` partitions by case (1: as
    gf_consumer_new). */
gf_consumer_t *gf_consumer_new_partitioned (const char *name, const char *type, gf_config_t *config,
                                            int partitions);
void gf_consumer_destroy (gf_consumer_t **self_p);

/*  After a wake-up, steps no sooner than linger_ms after the previous
    steps, so that a steady trickle of events is taken a batch at a time
    instead of one transaction per event (0, the default: at once).  A full
    batch is followed at once; the safety-net look stays at every second. */
void gf_consumer_set_linger (gf_consumer_t *self, int linger_ms);

/*  Runs until $TERM on pipe or interruption.  Returns 0, or -1 on a fatal
    error (the checkpoint table missing: migrations not applied). */
int gf_consumer_run (gf_consumer_t *self, zsock_t *pipe, gf_consumer_fn *fn, void *arg);

#endif
