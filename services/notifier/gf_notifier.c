/*  gf_notifier — notifications from rules; starts the delivery actors. */
#include "gf_notifier.h"
#include "gf_apppush.h"
#include "gf_consumer.h"
#include "gf_dispatch.h"
#include "gf_metrics.h"

#include <jansson.h>

static const char *SQL_TYPES =
    "SELECT coalesce (string_agg (DISTINCT event_type, ','), '') AS types"
    "  FROM notification_rules WHERE enabled";

/*  One statement per batch: rules × events → recipients → messages →
    notifications (duplicates skipped) → notification.created events.
    The clock (k) and the sign-for rule per L1 grid (rl) are read once per
    batch, not once per message. */
static const char *SQL_NOTIFY =
    "WITH ev AS ("
    "  SELECT x.case_id, x.type, x.grid"
    "    FROM jsonb_to_recordset ($1::jsonb) AS x (case_id bigint, type text, grid text)"
    "), k AS MATERIALIZED ("
    "  SELECT gf_now () AS now"
    "), rl AS MATERIALIZED ("
    "  SELECT r.root, gf_rule (r.root, 'sign_reminder') AS p"
    "    FROM (SELECT DISTINCT c.root FROM ev JOIN cases c ON c.id = ev.case_id) r"
    "), tgt AS ("
    "  SELECT ev.case_id, ev.grid, r.kind, r.template, p.id AS recipient"
    "    FROM ev JOIN notification_rules r ON r.event_type = ev.type AND r.enabled"
    "     AND r.audience IN ('grid_leader', 'grid_members')"
    "    JOIN people p ON p.grid = ev.grid"
    "     AND p.role = CASE r.audience WHEN 'grid_leader' THEN 'leader' ELSE 'member' END"
    "  UNION ALL"
    "  SELECT ev.case_id, ev.grid, r.kind, r.template, NULL"
    "    FROM ev JOIN notification_rules r ON r.event_type = ev.type AND r.enabled"
    "     AND r.audience = 'resident'"
    "), msg AS ("
    "  SELECT t.case_id, t.grid, t.kind, t.recipient,"
    "         format (tp.body, c.id, coalesce (cat.name, '未分类'), g.code, g.name,"
    "                 left (c.description, 60), NULL,"
    "                 to_char ((coalesce (c.routed_at, k.now) + make_interval (hours =>"
    "                     coalesce ((rl.p->>"
    "                                CASE WHEN c.urgent THEN 'urgent_hours' ELSE 'hours' END)::int,"
    "                               24))) AT TIME ZONE 'Asia/Shanghai', 'MM-DD HH24:MI'),"
    "                 coalesce (gf_mask_phone (c.phone), '无')) AS text"
    "    FROM tgt t JOIN cases c ON c.id = t.case_id"
    "    CROSS JOIN k JOIN rl ON rl.root = c.root"
    "    JOIN grids g ON g.code = c.grid"
    "    JOIN notification_templates tp ON tp.kind = t.template AND tp.lang = 'zh'"
    "    LEFT JOIN categories cat ON cat.code = c.category"
    "   WHERE t.recipient IS NOT NULL OR c.phone IS NOT NULL"
    "), ins AS ("
    "  INSERT INTO notifications (case_id, kind, recipient, audience, text, created_at)"
    "  SELECT case_id, kind, recipient, CASE WHEN recipient IS NULL THEN 'resident' ELSE 'staff' "
    "END,"
    "         text, (SELECT now FROM k)"
    "    FROM msg ORDER BY case_id, kind, recipient"
    "  ON CONFLICT DO NOTHING"
    "  RETURNING id, case_id, kind, recipient, text"
    "), out AS ("
    "  INSERT INTO case_events (type, topic, case_id, grid, at, payload)"
    "  SELECT 'notification.created', 'notify/' || coalesce (i.recipient, 'resident'), i.case_id,"
    "         c.grid, (SELECT now FROM k),"
    "         jsonb_build_object ('notification', i.id, 'recipient', i.recipient,"
    "                             'role', coalesce (p.role, 'resident'), 'kind', i.kind,"
    "                             'text', i.text, 'case', i.case_id)"
    "    FROM ins i JOIN cases c ON c.id = i.case_id LEFT JOIN people p ON p.id = i.recipient"
    "   ORDER BY i.id"
    "  RETURNING 1"
    ")"
    "SELECT (SELECT count (*) FROM out) AS created,"
    "       (SELECT count (*) FROM ev WHERE ev.type = 'case.routed' AND NOT EXISTS ("
    "           SELECT 1 FROM people p WHERE p.grid = ev.grid AND p.role = 'leader'))"
    "         AS no_leader";

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
    PGresult *res = gf_db_exec (db, SQL_NOTIFY, 1, params);
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
        types && *types ? gf_consumer_new ("notifier", types, self.config) : NULL;
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
