/*  gf_intake_household — applies one household message in one transaction. */
#include "gf_intake_household.h"
#include "gf_intake_db.h"

#include <czmq.h>
#include <jansson.h>

/*  $1 type, $2 request id, $3 actor, $4 identity (NULL: plain endpoint),
    $5 the request's keys (JSON). */
static const char *SQL_APPLY = "SELECT * FROM gf_household_apply ($1, $2, $3, $4, $5)";

/*  The request's keys as gf_household_apply reads them. */
static char *s_args (const gf_household_msg_t *h)
{
    json_t *o = json_object ();
    const char *keys[] = {"household", "grid", "address", "head_name", "phone", "members",
                          "group",     "op",   "from",    "to",        "source"};
    const char *vals[] = {h->household, h->grid, h->address, h->head_name, h->phone, h->members,
                          h->group,     h->op,   h->from,    h->to,        h->source};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (vals[i])
            json_object_set_new (o, keys[i], json_string (vals[i]));
    if (h->version > 0)
        json_object_set_new (o, "version", json_integer (h->version));
    char *text = json_dumps (o, JSON_COMPACT);
    json_decref (o);
    return text;
}

void gf_intake_household_apply (gf_db_t *db, const gf_household_msg_t *h, const char *identity,
                                int64_t deadline, gf_reply_t *reply)
{
    bool late = false;
    reply->ok = true;
    char *args = s_args (h);
    PGresult *applied = NULL;
    gf_error_t err = {GF_OK, ""};

    if (gf_db_begin (db) != 0)
        goto unavailable;
    const char *params[] = {h->type, h->id, h->actor, identity, args};
    if (!(applied = gf_intake_db_exec (db, SQL_APPLY, 5, params, deadline, &late)) || late)
        goto unavailable;
    const char *code = gf_db_get (applied, 0, "err");
    if (code) {
        gf_error_set (&err, gf_code_from_name (code), "%s", gf_db_get (applied, 0, "message"));
        goto refuse;
    }
    reply->state = strdup (gf_db_get (applied, 0, "change"));
    reply->version = gf_db_get_ll (applied, 0, "version");
    if (streq (gf_db_get (applied, 0, "duplicate"), "t")) {
        reply->duplicate = true;
        goto rollback;
    }
    if (gf_intake_db_commit (db, deadline, &late) != 0)
        goto unavailable;
    gf_intake_db_committed (true);
    goto cleanup;

unavailable:
    gf_intake_db_failure (db, late, &err);
refuse:
    reply->ok = false;
    reply->code = err.code;
    free (reply->state);
    reply->state = NULL;
    reply->version = 0;
    free (reply->message);
    reply->message = strdup (err.message);
rollback:
    gf_db_rollback (db);
cleanup:
    if (applied)
        PQclear (applied);
    free (args);
}
