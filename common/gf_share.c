/*  gf_share — a set of leases shared fairly among the instances of a role. */
#include "gf_share.h"

#include <czmq.h>
#include <limits.h>

/*  The instances of the role alive: those that looked at one of its
    partitions' leases within the lease time (each looks every third),
    but not one holding a partition whose session is gone (killed, its
    connection closed: its partitions are free to take at once). */
static const char *SQL_LIVE =
    "SELECT count (DISTINCT i.instance) AS live FROM lease_instances i"
    " WHERE i.name LIKE $1 AND i.seen_at > clock_timestamp () - $2::int * interval '1 millisecond'"
    "   AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.name LIKE $1 AND l.holder = i.instance"
    "         AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = l.backend))";

typedef struct {
    char *name;        /* the lease's name */
    gf_lease_t *lease; /* one holder at a time */
} s_part_t;

struct _gf_share_t {
    char *role;                /* for the log                          */
    char *pattern;             /* LIKE pattern of the partitions' names */
    const gf_config_t *config; /* borrowed                              */
    s_part_t *parts;           /* size of them                         */
    int size;
    int live;           /* instances seen at the last count         */
    int64_t next_count; /* zclock_mono ms of the next count         */
    int first;          /* where the next look for a partition starts */
};

gf_share_t *gf_share_new (const char *role, const char *pattern, const gf_config_t *config)
{
    gf_share_t *self = (gf_share_t *)zmalloc (sizeof (gf_share_t));
    self->role = strdup (role);
    self->pattern = strdup (pattern);
    self->config = config;
    self->live = 1;
    return self;
}

void gf_share_destroy (gf_share_t **self_p)
{
    assert (self_p);
    gf_share_t *self = *self_p;
    if (!self)
        return;
    for (int k = 0; k < self->size; k++) {
        gf_lease_destroy (&self->parts[k].lease);
        free (self->parts[k].name);
    }
    free (self->parts);
    free (self->pattern);
    free (self->role);
    free (self);
    *self_p = NULL;
}

int gf_share_add (gf_share_t *self, const char *name)
{
    for (int k = 0; k < self->size; k++)
        if (streq (self->parts[k].name, name))
            return k;
    s_part_t *parts =
        (s_part_t *)realloc (self->parts, (size_t)(self->size + 1) * sizeof (s_part_t));
    assert (parts);
    self->parts = parts;
    self->parts[self->size].name = strdup (name);
    self->parts[self->size].lease = gf_lease_new (name, self->config);
    return self->size++;
}

int gf_share_size (gf_share_t *self)
{
    return self->size;
}

const char *gf_share_name (gf_share_t *self, int k)
{
    assert (k >= 0 && k < self->size);
    return self->parts[k].name;
}

gf_lease_t *gf_share_lease (gf_share_t *self, int k)
{
    assert (k >= 0 && k < self->size);
    return self->parts[k].lease;
}

bool gf_share_held (gf_share_t *self, int k)
{
    assert (k >= 0 && k < self->size);
    return gf_lease_epoch (self->parts[k].lease) != 0;
}

int gf_share_balance (gf_share_t *self, gf_db_t *db)
{
    if (self->size == 0)
        return 0;
    if (self->size == 1) {
        gf_lease_hold (self->parts[0].lease, db);
        return gf_share_held (self, 0) ? 1 : 0;
    }
    int64_t now = zclock_mono ();
    if (now >= self->next_count) {
        char ms[16];
        snprintf (ms, sizeof ms, "%d", self->config->lease_ms);
        const char *params[] = {self->pattern, ms};
        PGresult *res = gf_db_exec (db, SQL_LIVE, 2, params);
        if (res) {
            int live = (int)gf_db_get_ll (res, 0, "live");
            PQclear (res);
            if (live < 1)
                live = 1; /* ourselves, before our first look */
            if (live != self->live)
                zsys_info ("%s: %d instances alive: a share of %d of %d partitions", self->role,
                           live, (self->size + live - 1) / live, self->size);
            self->live = live;
        }
        self->next_count = now + self->config->lease_ms / 3;
    }
    int share = (self->size + self->live - 1) / self->live;
    int held = 0;
    for (int k = 0; k < self->size; k++)
        if (gf_share_held (self, k) && gf_lease_hold (self->parts[k].lease, db))
            held++;
    for (int k = self->size - 1; k >= 0 && held > share; k--)
        if (gf_share_held (self, k)) {
            zsys_info ("%s: giving %s back (a share is %d)", self->role, self->parts[k].name,
                       share);
            gf_lease_release (self->parts[k].lease, db);
            held--;
        }
    for (int i = 0; i < self->size && held < share; i++) {
        s_part_t *part = &self->parts[(self->first + i) % self->size];
        if (gf_lease_epoch (part->lease) == 0 && gf_lease_hold (part->lease, db))
            held++;
    }
    /* The next look for a partition starts further on, so that instances
       joining together do not all reach for the same ones first. */
    self->first = (self->first + 1) % self->size;
    return held;
}

int gf_share_wait (gf_share_t *self)
{
    int wait = INT_MAX;
    for (int k = 0; k < self->size; k++) {
        int w = gf_lease_wait (self->parts[k].lease);
        if (w < wait)
            wait = w;
    }
    if (self->size > 1) {
        int64_t w = self->next_count - zclock_mono ();
        if (w < wait)
            wait = w < 0 ? 0 : (int)w;
    }
    return wait;
}

void gf_share_release (gf_share_t *self, gf_db_t *db)
{
    for (int k = 0; k < self->size; k++)
        gf_lease_release (self->parts[k].lease, db);
}
