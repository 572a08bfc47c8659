/*  gf_lease — the lease of a single-active role, with fencing. */
#include "gf_lease.h"
#include "gf_metrics.h"

#include <czmq.h>
#include <pthread.h>
#include <unistd.h>

static const char *SQL_TAKE =
    "SELECT held, took, epoch, holder, expires_ms FROM gf_lease_take ($1, $2, $3::int)";
static const char *SQL_FENCE = "SELECT gf_lease_fence ($1, $2::bigint)";
static const char *SQL_RELEASE = "SELECT gf_lease_release ($1, $2) AS released";

struct _gf_lease_t {
    char *name;         /* the role                                  */
    char *instance;     /* host:pid.tag, unique per process start    */
    int duration_ms;    /* service/lease                             */
    bool held;          /* we hold it (as of our last look or fence) */
    int64_t epoch;      /* the epoch held                            */
    int64_t next_look;  /* zclock_mono ms                            */
    int64_t seen_epoch; /* the lease's epoch at our last look        */
    gf_metric_t *m_holder, *m_epoch, *m_takeovers, *m_lost, *m_fenced;
};

static char s_instance[300];
static pthread_once_t s_instance_once = PTHREAD_ONCE_INIT;

static void s_instance_init (void)
{
    char host[256] = "localhost";
    gethostname (host, sizeof host - 1);
    /* The tag tells two starts apart that got the same pid (containers). */
    snprintf (s_instance, sizeof s_instance, "%s:%d.%04x", host, (int)getpid (),
              (unsigned)(zclock_usecs () & 0xffff));
}

const char *gf_lease_instance (void)
{
    pthread_once (&s_instance_once, s_instance_init);
    return s_instance;
}

gf_lease_t *gf_lease_new (const char *name, const gf_config_t *config)
{
    gf_lease_t *self = (gf_lease_t *)zmalloc (sizeof (gf_lease_t));
    self->name = strdup (name);
    self->instance = strdup (gf_lease_instance ());
    self->duration_ms = config->lease_ms;
    char *labels = zsys_sprintf ("lease=\"%s\"", name);
    self->m_holder = gf_metrics_gauge ("gf_lease_holder", labels);
    self->m_epoch = gf_metrics_gauge ("gf_lease_epoch", labels);
    self->m_takeovers = gf_metrics_counter ("gf_lease_takeovers_total", labels);
    self->m_lost = gf_metrics_counter ("gf_lease_lost_total", labels);
    self->m_fenced = gf_metrics_counter ("gf_lease_fenced_total", labels);
    zstr_free (&labels);
    return self;
}

void gf_lease_destroy (gf_lease_t **self_p)
{
    assert (self_p);
    gf_lease_t *self = *self_p;
    if (!self)
        return;
    free (self->name);
    free (self->instance);
    free (self);
    *self_p = NULL;
}

static void s_step_down (gf_lease_t *self, const char *why)
{
    if (!self->held)
        return;
    /* The metrics first: whoever reacts to the log line reads them as they are now. */
    gf_metric_add (self->m_lost, 1);
    gf_metric_set (self->m_holder, 0);
    zsys_warning ("%s: lease lost at epoch %" PRId64 " (%s): standing by", self->name, self->epoch,
                  why);
    self->held = false;
    self->epoch = 0;
}

bool gf_lease_hold (gf_lease_t *self, gf_db_t *db)
{
    int64_t started = zclock_mono ();
    if (started < self->next_look)
        return self->held;
    char ms[16];
    snprintf (ms, sizeof ms, "%d", self->duration_ms);
    const char *params[] = {self->name, self->instance, ms};
    PGresult *res = gf_db_exec (db, SQL_TAKE, 3, params);
    if (!res) {
        /* No answer (the database away, or migration 042 missing): look
           again a third of the lease later; meanwhile the fence decides
           each effect transaction. */
        self->next_look = started + self->duration_ms / 3;
        return self->held;
    }
    bool held = streq (gf_db_get (res, 0, "held"), "t");
    bool took = streq (gf_db_get (res, 0, "took"), "t");
    int64_t epoch = gf_db_get_ll (res, 0, "epoch");
    if (self->held && (!held || epoch != self->epoch)) {
        char *why = zsys_sprintf ("taken over at epoch %" PRId64 " by %s", epoch,
                                  gf_db_get (res, 0, "holder"));
        s_step_down (self, why);
        zstr_free (&why);
    }
    if (held && !self->held) {
        zsys_notice ("%s: lease taken at epoch %" PRId64 " (%s, %d ms)%s", self->name, epoch,
                     self->instance, self->duration_ms,
                     took && epoch > 1 ? ": taking over from a lapsed holder" : "");
        if (took)
            gf_metric_add (self->m_takeovers, 1);
        gf_metric_set (self->m_holder, 1);
    } else if (!held && self->seen_epoch != epoch)
        zsys_info ("%s: standing by (lease held by %s at epoch %" PRId64 ")", self->name,
                   gf_db_get (res, 0, "holder"), epoch);
    PQclear (res);
    self->held = held;
    self->epoch = held ? epoch : 0;
    self->seen_epoch = epoch;
    gf_metric_set (self->m_epoch, epoch);
    self->next_look = started + self->duration_ms / 3;
    return held;
}

int gf_lease_wait (gf_lease_t *self)
{
    int64_t wait = self->next_look - zclock_mono ();
    return wait < 0 ? 0 : (int)wait;
}

int gf_lease_fence (gf_lease_t *self, gf_db_t *db)
{
    if (!self->held)
        return -1;
    char epoch[24];
    snprintf (epoch, sizeof epoch, "%" PRId64, self->epoch);
    const char *params[] = {self->name, epoch};
    if (gf_db_run_prepared (db, SQL_FENCE, 2, params) == 0)
        return 0;
    if (streq (gf_db_sqlstate (db), "GF409")) {
        gf_metric_add (self->m_fenced, 1);
        zsys_warning ("%s: fenced: epoch %" PRId64 " is no longer current, nothing written",
                      self->name, self->epoch);
        s_step_down (self, "fenced");
    }
    self->next_look = 0; /* look again at once */
    return -1;
}

void gf_lease_release (gf_lease_t *self, gf_db_t *db)
{
    const char *params[] = {self->name, self->instance};
    PGresult *res = gf_db_exec (db, SQL_RELEASE, 2, params);
    if (res && self->held && streq (gf_db_get (res, 0, "released"), "t"))
        zsys_info ("%s: lease released at epoch %" PRId64, self->name, self->epoch);
    if (res)
        PQclear (res);
    self->held = false;
    gf_metric_set (self->m_holder, 0);
}

int64_t gf_lease_epoch (gf_lease_t *self)
{
    return self->held ? self->epoch : 0;
}
