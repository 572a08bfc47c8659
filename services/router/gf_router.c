/*  gf_router — assigns each received case to its L3 grid. */
#include "gf_router.h"
#include "gf_clock.h"
#include "gf_consumer.h"
#include "gf_metrics.h"

#include <jansson.h>

static const char *SQL_ROUTE =
    "WITH ids AS ("
    "  SELECT DISTINCT value::bigint AS id FROM jsonb_array_elements_text ($1::jsonb)"
    "), cand AS ("
    /* The candidate grid: the explicit L3 code, else the address's grid
       (inside the explicit L1/L2 subtree if one was given). */
    "  SELECT c.id, c.address, c.returned_from,"
    "         CASE WHEN g.level = 3 THEN g.code ELSE a.grid END AS l3,"
    "         CASE WHEN g.level = 3 THEN 'grid' ELSE 'address' END AS via,"
    "         CASE WHEN c.requested_grid IS NOT NULL AND g.level < 3 AND a.grid IS NULL THEN "
    "'not_l3'"
    "              WHEN c.address IS NULL AND c.requested_grid IS NULL THEN 'no_location'"
    "              ELSE 'unknown_address' END AS reason"
    "    FROM ids JOIN cases c ON c.id = ids.id"
    "    LEFT JOIN grids g ON g.code = c.requested_grid"
    "    LEFT JOIN addresses a ON a.address = gf_normalize_address (c.address)"
    "         AND starts_with (a.grid, coalesce (c.requested_grid, c.root) || '.')"
    "   WHERE c.state = 'registered'"
    "   FOR UPDATE OF c"
    "), target AS ("
    /* A grid that returned the case (退单) is not asked again: L1 triage. */
    "  SELECT id, address, via,"
    "         CASE WHEN l3 = ANY (returned_from) THEN NULL ELSE l3 END AS l3,"
    "         CASE WHEN l3 = ANY (returned_from) THEN 'returned' ELSE reason END AS reason"
    "    FROM cand"
    "), upd AS ("
    "  UPDATE cases c SET state = CASE WHEN t.l3 IS NULL THEN 'unroutable' ELSE 'routed' END,"
    "         grid = coalesce (t.l3, c.grid), routed_at = (SELECT gf_now ()),"
    "         version = c.version + 1"
    "    FROM target t WHERE c.id = t.id AND c.state = 'registered'"
    "  RETURNING c.id, c.grid, c.state"
    "), ev AS ("
    "  INSERT INTO case_events (type, topic, case_id, grid, at, payload)"
    "  SELECT CASE u.state WHEN 'routed' THEN 'case.routed' ELSE 'case.unroutable' END,"
    "         CASE u.state WHEN 'routed' THEN 'case.routed/' ELSE 'case.unroutable/' END || u.grid,"
    "         u.id, u.grid, (SELECT gf_now ()),"
    "         CASE u.state WHEN 'routed'"
    "              THEN jsonb_build_object ('grid', u.grid, 'via', t.via, 'l2', gl.parent)"
    "              ELSE jsonb_build_object ('reason', t.reason,"
    "                                       'address_masked', gf_mask_address (t.address)) END"
    "    FROM upd u JOIN target t ON t.id = u.id LEFT JOIN grids gl ON gl.code = u.grid"
    "   ORDER BY u.id"
    "  RETURNING type"
    ")"
    "SELECT count (*) FILTER (WHERE type = 'case.routed') AS routed,"
    "       count (*) FILTER (WHERE type = 'case.unroutable') AS unroutable FROM ev";

typedef struct {
    gf_config_t *config; /* borrowed                   */
    uint64_t routed;     /* since start                */
    uint64_t unroutable; /* since start                */
} s_router_t;

static int s_route (gf_db_t *db, const PGresult *events, void *arg)
{
    s_router_t *self = (s_router_t *)arg;
    json_t *ids = json_array ();
    for (int r = 0; r < PQntuples (events); r++)
        json_array_append_new (ids, json_integer (gf_db_get_ll (events, r, "case_id")));
    char *ids_text = json_dumps (ids, JSON_COMPACT);
    json_decref (ids);
    const char *params[] = {ids_text};
    PGresult *res = gf_db_exec (db, SQL_ROUTE, 1, params);
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
    gf_consumer_t *consumer =
        gf_consumer_new ("router", "case.received,case.returned", self.config);
    zsock_signal (pipe, consumer ? 0 : 1);
    if (consumer) {
        gf_consumer_run (consumer, pipe, s_route, &self);
        zsys_info ("router: routed %" PRIu64 ", unroutable %" PRIu64, self.routed, self.unroutable);
    }
    gf_consumer_destroy (&consumer);
}
