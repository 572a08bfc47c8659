/*  gf_intake_field — applies one field log in one transaction. */
#include "gf_intake_field.h"
#include "gf_intake_db.h"

#include <czmq.h>
#include <jansson.h>

/*  $1 type, $2 the log's id, $3 identity (NULL: plain), $4 its keys (JSON). */
static const char *SQL_LOG = "SELECT * FROM gf_field_log ($1, $2, $3, $4)";

/*  A comma-joined list as a JSON array ("" is []). */
static json_t *s_list (const char *csv)
{
    json_t *a = json_array ();
    if (*csv) {
        char *copy = strdup (csv), *save = NULL;
        for (char *item = strtok_r (copy, ",", &save); item; item = strtok_r (NULL, ",", &save))
            json_array_append_new (a, json_string (item));
        free (copy);
    }
    return a;
}

/*  The log's keys as gf_field_log reads them (not `at`: a resend may be
    sent later, and is the same log). */
static char *s_args (const gf_fieldlog_t *f)
{
    json_t *o = json_object ();
    const char *keys[] = {
        "actor", "grid", "household", "learned", "follow_up", "follow_up_category", "note"};
    const char *vals[] = {
        f->actor, f->grid, f->household, f->learned, f->follow_up, f->follow_up_category, f->note};
    const char *lkeys[] = {"members", "places", "findings", "things_done", "items"};
    const char *lvals[] = {f->members, f->places, f->findings, f->things_done, f->items};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (vals[i])
            json_object_set_new (o, keys[i], json_string (vals[i]));
    for (size_t i = 0; i < sizeof lkeys / sizeof lkeys[0]; i++)
        if (lvals[i])
            json_object_set_new (o, lkeys[i], s_list (lvals[i]));
    json_object_set_new (o, "done_at", json_integer (f->done_at));
    if (f->follow_up_urgent >= 0)
        json_object_set_new (o, "follow_up_urgent", json_boolean (f->follow_up_urgent));
    char *text = json_dumps (o, JSON_COMPACT);
    json_decref (o);
    return text;
}

void gf_intake_field_apply (gf_db_t *db, const gf_fieldlog_t *f, const char *identity,
                            int64_t deadline, gf_reply_t *reply)
{
    char *args = s_args (f);
    const char *params[] = {f->type, f->id, identity, args};
    PGresult *res = gf_intake_db_apply (db, SQL_LOG, 4, params, deadline, reply);
    if (res) {
        reply->case_id = gf_db_get (res, 0, "case_id") ? gf_db_get_ll (res, 0, "case_id") : 0;
        reply->version = gf_db_get_ll (res, 0, "id");
        reply->state = strdup ("logged");
        PQclear (res);
    }
    free (args);
}
