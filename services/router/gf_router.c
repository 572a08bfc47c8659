/*  gf_router — assigns each received case to its L3 grid. */
#include "gf_router.h"
#include "gf_case.h"
#include "gf_clock.h"
#include "gf_consumer.h"
#include "gf_metrics.h"

#include <jansson.h>

typedef struct {
    gf_config_t *config;   /* borrowed                            */
    uint64_t routed;       /* since start                         */
    uint64_t unroutable;   /* since start                         */
    gf_case_route_t steps; /* the state machine's route and unroutable steps */
} s_router_t;

static int s_route (gf_db_t *db, const PGresult *events, void *arg)
{
    s_router_t *self = (s_router_t *)arg;
    json_t *ids = json_array ();
    for (int r = 0; r < PQntuples (events); r++)
        json_array_append_new (ids, json_integer (gf_db_get_ll (events, r, "case_id")));
    char *ids_text = json_dumps (ids, JSON_COMPACT);
    json_decref (ids);
    const char *params[7];
    gf_case_route_params (&self->steps, ids_text, params);
    PGresult *res = gf_db_exec (db, GF_CASE_ROUTE_SQL, 7, params);
    free (ids_text);
    if (!res)
        return -1;
    long long routed = gf_db_get_ll (res, 0, "routed");
    long long unroutable = gf_db_get_ll (res, 0, "unroutable");
    PQclear (res);
    self->routed += routed;
    self->unroutable += unroutable;
    gf_metrics_inc ("gf_router_routed_total", NULL, (uint64_t)routed);
    gf_metrics_inc ("gf_router_unroutable_total", NULL, (uint64_t)unroutable);
    if (self->config->verbose)
        zsys_debug ("router: %lld routed, %lld unroutable (of %d received)", routed, unroutable,
                    PQntuples (events));
    return 0;
}

void gf_router_actor (zsock_t *pipe, void *args)
{
    s_router_t self = {.config = (gf_config_t *)args};
    /* The states and events are the state machine's (common/gf_case.c). */
    gf_consumer_t *consumer = NULL;
    if (gf_case_route_init (&self.steps))
        zsys_error ("router: the transition table has no route step");
    else
        consumer = gf_consumer_new_partitioned ("router", "case.received,case.returned",
                                                self.config, self.config->partitions);
    /*  With intake/route on the intake routes what it stores, so nearly
        every case.received finds its case routed: one step per event was a
        transaction per complaint for nothing (1.7-2.1 of the backends' 10.5-13
        CPU s in a county's lapse round with a 200/s feed, docs/performance.md,
        7 Dec 2026, third look).
        Lingering takes them a batch at a time; a returned case is re-routed
        at most router/linger later. */
    if (consumer && self.config->intake_route)
        gf_consumer_set_linger (consumer, self.config->router_linger_ms);
    zsock_signal (pipe, consumer ? 0 : 1);
    if (consumer) {
        gf_consumer_run (consumer, pipe, s_route, &self);
        zsys_info ("router: routed %" PRIu64 ", unroutable %" PRIu64, self.routed, self.unroutable);
    }
    gf_consumer_destroy (&consumer);
}
