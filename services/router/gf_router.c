/*  gf_router — assigns each received case to its L3 grid. */
#include "gf_router.h"
#include "gf_case.h"
#include "gf_clock.h"
#include "gf_consumer.h"
#include "gf_metrics.h"

#include <jansson.h>

/*  $1 the case ids (JSON array); then, for the steps 'route' and
    'unroutable' of the transition table (common/gf_case.c), the states each
    is taken in, the state after it and its event. */
static const char *SQL_ROUTE =
    "SELECT routed, unroutable FROM gf_route_cases ($1, $2, $3, $4, $5, $6, $7)";

typedef struct {
    gf_config_t *config;   /* borrowed                            */
    uint64_t routed;       /* since start                         */
    uint64_t unroutable;   /* since start                         */
    gf_case_step_t route;  /* an L3 grid found: the state machine's step */
    gf_case_step_t triage; /* none found                          */
    char route_from[64];   /* the states each is taken in ({...}) */
    char triage_from[64];
} s_router_t;

static int s_route (gf_db_t *db, const PGresult *events, void *arg)
{
    s_router_t *self = (s_router_t *)arg;
    json_t *ids = json_array ();
    for (int r = 0; r < PQntuples (events); r++)
        json_array_append_new (ids, json_integer (gf_db_get_ll (events, r, "case_id")));
    char *ids_text = json_dumps (ids, JSON_COMPACT);
    json_decref (ids);
    const char *params[] = {
        ids_text,          self->route_from,  gf_case_state_name (self->route.to),
        self->route.event, self->triage_from, gf_case_state_name (self->triage.to),
        self->triage.event};
    PGresult *res = gf_db_exec (db, SQL_ROUTE, 7, params);
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
    if (gf_case_service_step (GF_ACT_ROUTE, self.route_from, sizeof self.route_from, &self.route) ||
        gf_case_service_step (GF_ACT_UNROUTABLE, self.triage_from, sizeof self.triage_from,
                              &self.triage))
        zsys_error ("router: the transition table has no route step");
    else
        consumer = gf_consumer_new ("router", "case.received,case.returned", self.config);
    zsock_signal (pipe, consumer ? 0 : 1);
    if (consumer) {
        gf_consumer_run (consumer, pipe, s_route, &self);
        zsys_info ("router: routed %" PRIu64 ", unroutable %" PRIu64, self.routed, self.unroutable);
    }
    gf_consumer_destroy (&consumer);
}
