/*  gf_share — a set of leases (partitions of a role's work) shared fairly
    among the instances of the role.

    Each partition is one gf_lease, named by the caller ("notifier.p3of8",
    "escalator.root.QNL"); the partitions of one role match one LIKE
    pattern ("notifier.p%of8", "escalator.root.%"), by which the instances
    alive are counted: those that looked at one of the role's leases within
    the lease time (each looks every third), but not one holding a lease
    whose database session is gone (killed: its partitions are free to take
    at once).  Every instance holds a fair share, ceil (partitions /
    instances alive): it renews what it holds, gives the surplus back when
    another instance joined (the last ones it holds: they lapse at once and
    the newcomer takes them at its next look) and, under its share, takes
    lapsed partitions (or those of a dead holder) at their next look.  Each
    lease allows one holder at a time; the fence (gf_lease_fence on the
    partition's lease) keeps a paused one from writing.  With one partition
    its lease alone decides, as for any single-active role.

    Used by gf_consumer (partitions by case) and gf_escalator (one
    partition per L1 root).
*/
#ifndef GF_SHARE_H_INCLUDED
#define GF_SHARE_H_INCLUDED

#include "gf_config.h"
#include "gf_db.h"
#include "gf_lease.h"
#include <stdbool.h>

typedef struct _gf_share_t gf_share_t;

/*  role: for the log ("notifier"); pattern: LIKE pattern matching every
    partition's lease name and no other lease. */
gf_share_t *gf_share_new (const char *role, const char *pattern, const gf_config_t *config);
void gf_share_destroy (gf_share_t **self_p);

/*  Adds a partition (its lease named name) unless there is one of that
    name; returns its index (partitions keep their index). */
int gf_share_add (gf_share_t *self, const char *name);

/*  Partitions, and partition k's name and lease. */
int gf_share_size (gf_share_t *self);
const char *gf_share_name (gf_share_t *self, int k);
gf_lease_t *gf_share_lease (gf_share_t *self, int k);

/*  Whether this instance holds partition k (as of its last look or fence). */
bool gf_share_held (gf_share_t *self, int k);

/*  The leases' looks, each when due, and the fair share as above (outside
    a transaction).  Returns how many partitions this instance holds. */
int gf_share_balance (gf_share_t *self, gf_db_t *db);

/*  Milliseconds until some look is due (0: now). */
int gf_share_wait (gf_share_t *self);

/*  A clean stop: hands every partition over. */
void gf_share_release (gf_share_t *self, gf_db_t *db);

#endif
