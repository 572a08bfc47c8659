/*  gf_notifier — tells people about their cases (minimal version). */
#include "gf_notifier.h"
#include "gf_clock.h"
#include "gf_consumer.h"
#include "gf_metrics.h"

#include <jansson.h>

static const char *SQL_NOTIFY =
    "WITH ev AS ("
    "  SELECT x.case_id, x.grid FROM jsonb_to_recordset ($1::jsonb) AS x (case_id bigint, grid "
    "text)"
    "), msg AS ("
    "  SELECT ev.case_id, ev.grid, p.id AS recipient, p.role,"
    "         format (t.body, c.id, coalesce (cat.name, '未分类'), g.code, g.name,"
    "                 left (c.description, 60)) AS text"
    "    FROM ev JOIN cases c ON c.id = ev.case_id"
    "    JOIN grids g ON g.code = ev.grid"
    "    JOIN people p ON p.grid = ev.grid AND p.role = 'leader'"
    "    JOIN notification_templates t ON t.kind = 'case.routed' AND t.lang = 'zh'"
    "    LEFT JOIN categories cat ON cat.code = c.category"
    "), ins AS ("
    "  INSERT INTO notifications (case_id, kind, recipient, channel, text, created_at)"
    "  SELECT case_id, 'case.routed', recipient, 'app', text, gf_now ()"
    "    FROM msg ORDER BY case_id"
    "  ON CONFLICT (case_id, kind, recipient) DO NOTHING"
    "  RETURNING id, case_id, recipient, text"
    "), out AS ("
    "  INSERT INTO case_events (type, topic, case_id, grid, at, payload)"
    "  SELECT 'notification.created', 'notify/' || i.recipient, i.case_id, m.grid,"
    "         gf_now (),"
    "         jsonb_build_object ('notification', i.id, 'recipient', i.recipient, 'role', m.role,"
    "                             'channel', 'app', 'text', i.text, 'case', i.case_id)"
    "    FROM ins i JOIN msg m ON m.case_id = i.case_id AND m.recipient = i.recipient"
    "   ORDER BY i.id"
    "  RETURNING 1"
    ")"
    "SELECT (SELECT count (*) FROM out) AS created,"
    "       (SELECT count (*) FROM ev WHERE NOT EXISTS ("
    "           SELECT 1 FROM msg WHERE msg.case_id = ev.case_id)) AS no_leader";

typedef struct {
    gf_config_t *config; /* borrowed        */
    uint64_t created;    /* since start     */
} s_notifier_t;

static int s_notify (gf_db_t *db, const PGresult *events, void *arg)
{
    s_notifier_t *self = (s_notifier_t *)arg;
    json_t *rows = json_array ();
    for (int r = 0; r < PQntuples (events); r++)
        json_array_append_new (rows, json_pack ("{s:I, s:s}", "case_id",
                                                (json_int_t)gf_db_get_ll (events, r, "case_id"),
                                                "grid", gf_db_get (events, r, "grid")));
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

void gf_notifier_actor (zsock_t *pipe, void *args)
{
    s_notifier_t self = {.config = (gf_config_t *)args};
    gf_consumer_t *consumer = gf_consumer_new ("notifier", "case.routed", self.config);
    zsock_signal (pipe, consumer ? 0 : 1);
    if (consumer) {
        gf_consumer_run (consumer, pipe, s_notify, &self);
        zsys_info ("notifier: created %" PRIu64 " notifications", self.created);
    }
    gf_consumer_destroy (&consumer);
}
