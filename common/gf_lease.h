/*  gf_lease — the lease of a single-active role (relay, router, notifier,
    escalator), with fencing.

    Every instance of the role looks at its lease every third of
    service/lease (gf_lease_hold): the holder renews it, a standby takes it
    over once it lapsed (the epoch goes up by one), and each look is the
    instance's heartbeat in lease_instances (`gridctl status`).  Each effect
    transaction of the holder starts with gf_lease_fence, which fails unless
    the lease is still at this instance's epoch and keeps it share-locked
    until the transaction ends: a holder paused (SIGSTOP, a VM pause) past
    its expiry that wakes up after a standby took over writes nothing, logs
    it and stands by.  A holder paused inside a transaction loses its
    session (idle_in_transaction_session_timeout, capped at the lease by
    each look), so its locks do not hold the standby up.  Time is the
    database's clock_timestamp (), never the simulated clock
    (deploy/sql/repeatable/leases.sql).

    Metrics, labelled {lease="<name>"}: gf_lease_holder (1 holder, 0
    standby), gf_lease_epoch, gf_lease_takeovers_total, gf_lease_lost_total
    (stepped down), gf_lease_fenced_total (effect transactions refused).
*/
#ifndef GF_LEASE_H_INCLUDED
#define GF_LEASE_H_INCLUDED

#include "gf_config.h"
#include "gf_db.h"
#include <stdbool.h>
#include <stdint.h>

typedef struct _gf_lease_t gf_lease_t;

/*  name: the role ("router", "notifier", "escalator"); its duration is
    config->lease_ms. */
gf_lease_t *gf_lease_new (const char *name, const gf_config_t *config);
void gf_lease_destroy (gf_lease_t **self_p);

/*  Looks at the lease on db (outside a transaction) when a look is due, or
    at once after a fence failed.  Returns true while this instance holds
    it. */
bool gf_lease_hold (gf_lease_t *self, gf_db_t *db);

/*  Milliseconds until the next look is due (0: now). */
int gf_lease_wait (gf_lease_t *self);

/*  The first statement of an effect transaction, after BEGIN.  Returns 0
    (go on: the lease is held at our epoch until COMMIT), or -1: roll back;
    when the lease was lost this instance stands by from now. */
int gf_lease_fence (gf_lease_t *self, gf_db_t *db);

/*  A clean stop: hands the lease over (a standby takes it at its next
    look). */
void gf_lease_release (gf_lease_t *self, gf_db_t *db);

/*  The epoch held, 0 when standing by. */
int64_t gf_lease_epoch (gf_lease_t *self);

/*  This process's instance name, host:pid.tag, the same for all its leases
    (the partitions of one notifier count as one instance). */
const char *gf_lease_instance (void);

#endif
