/*  gf_notifier — notifications from rules; starts the delivery actors. */
#include "gf_notifier.h"
#include "gf_apppush.h"
#include "gf_consumer.h"
#include "gf_dispatch.h"
#include "gf_metrics.h"

#include <jansson.h>

/*  The event types the notifier's rules name (the escalator raises its own
    occasions: case.escalated, sign.reminder, referral.overdue). */
static const char *SQL_TYPES =
    "SELECT coalesce (string_agg (DISTINCT event_type, ','), '') AS types"
    "  FROM notification_rules WHERE enabled AND raised_by = 'notifier'";

/*  One statement per batch (notify.sql): rules × events → recipients →
    texts → notifications (those already made skipped) → notification.created
    events; and how many routed cases have no grid leader. */
static const char *SQL_NOTIFY = "SELECT created, no_leader FROM gf_notifier_batch ($1::jsonb)";

typedef struct {
    gf_config_t *config; /* borrowed        */
    uint64_t created;    /* since start     */
} s_notifier_t;

static int s_notify (gf_db_t *db, const PGresult *events, void *arg)
{
    s_notifier_t *self = (s_notifier_t *)arg;
    json_t *rows = json_array ();
    for (int r = 0; r < PQntuples (events); r++)
        json_array_append_new (rows, json_pack ("{s:I, s:s, s:s?}", "case_id",
                                                (json_int_t)gf_db_get_ll (events, r, "case_id"),
                                                "type", gf_db_get (events, r, "type"), "grid",
                                                gf_db_get (events, r, "grid")));
    char *rows_text = json_dumps (rows, JSON_COMPACT);
    json_decref (rows);
    const char *params[] = {rows_text};
    PGresult *res = gf_db_exec_prepared (db, SQL_NOTIFY, 1, params);
    free (rows_text);
    if (!res)
        return -1;
    long long created = gf_db_get_ll (res, 0, "created");
    long long no_leader = gf_db_get_ll (res, 0, "no_leader");
    PQclear (res);
    self->created += created;
    gf_metrics_inc ("gf_notifier_created_total", NULL, (uint64_t)created);
    if (no_leader)
        zsys_warning ("notifier: %lld routed cases have no grid leader in the directory",
                      no_leader);
    return 0;
}

/*  The event types the rules name, read once at start (a rule for a new
    event type takes effect at the next start). */
static char *s_rule_types (gf_config_t *config)
{
    gf_db_t *db = gf_db_new (config->db, "gf-notifier");
    char *types = NULL;
    while (!types && !zsys_interrupted && gf_db_connect (db, 5000) == 0) {
        PGresult *res = gf_db_exec (db, SQL_TYPES, 0, NULL);
        if (res) {
            types = strdup (gf_db_get (res, 0, "types"));
            PQclear (res);
        } else if (!gf_db_lost (db))
            break; /* migrations not applied */
    }
    gf_db_destroy (&db);
    return types;
}

void gf_notifier_actor (zsock_t *pipe, void *args)
{
    s_notifier_t self = {.config = (gf_config_t *)args};
    char *types = s_rule_types (self.config);
    gf_consumer_t *consumer =
        types && *types
            ? gf_consumer_new_partitioned ("notifier", types, self.config, self.config->partitions)
            : NULL;
    if (types && !*types)
        zsys_error ("notifier: no enabled notification rules");
    /* Each part reports its start in its args (a failed bind is fatal). */
    gf_part_args_t dispatch_args = {self.config, -1}, apppush_args = {self.config, -1};
    zactor_t *dispatch = consumer ? zactor_new (gf_dispatch_actor, &dispatch_args) : NULL;
    zactor_t *apppush = dispatch ? zactor_new (gf_apppush_actor, &apppush_args) : NULL;
    bool started = apppush && dispatch_args.status == 0 && apppush_args.status == 0;
    zsock_signal (pipe, started ? 0 : 1);
    if (started) {
        gf_consumer_run (consumer, pipe, s_notify, &self);
        zsys_info ("notifier: created %" PRIu64 " notifications", self.created);
    }
    zactor_destroy (&apppush);
    zactor_destroy (&dispatch);
    gf_consumer_destroy (&consumer);
    free (types);
}
