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
    char *args = s_args (h);
    const char *params[] = {h->type, h->id, h->actor, identity, args};
    PGresult *res = gf_intake_db_apply (db, SQL_APPLY, 5, params, deadline, reply);
    if (res) {
        reply->state = strdup (gf_db_get (res, 0, "change"));
        reply->version = gf_db_get_ll (res, 0, "version");
        PQclear (res);
    }
    free (args);
}
