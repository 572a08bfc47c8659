/*  gf_intake_programme — applies one programme.action in one transaction. */
#include "gf_intake_programme.h"
#include "gf_intake_db.h"

#include <czmq.h>
#include <jansson.h>

/*  $1 request id, $2 actor, $3 action, $4 identity (NULL: plain
    endpoint), $5 the request's keys (JSON). */
static const char *SQL_APPLY = "SELECT * FROM gf_programme_apply ($1, $2, $3, $4, $5)";

/*  The request's optional keys as gf_programme_apply reads them. */
static char *s_args (const gf_programme_action_t *a)
{
    json_t *o = json_object ();
    char **strs[GF_PROGRAMME_STR_KEYS];
    int64_t *ints[GF_PROGRAMME_INT_KEYS];
    gf_programme_action_fields ((gf_programme_action_t *)a, strs, ints);
    for (size_t i = 0; i < GF_PROGRAMME_STR_KEYS; i++)
        if (*strs[i])
            json_object_set_new (o, gf_programme_str_keys[i], json_string (*strs[i]));
    for (size_t i = 0; i < GF_PROGRAMME_INT_KEYS; i++)
        if (gf_programme_int_present (a, i))
            json_object_set_new (o, gf_programme_int_keys[i], json_integer (*ints[i]));
    char *text = json_dumps (o, JSON_COMPACT);
    json_decref (o);
    return text;
}

void gf_intake_programme_apply (gf_db_t *db, const gf_programme_action_t *a, const char *identity,
                                int64_t deadline, gf_reply_t *reply)
{
    char *args = s_args (a);
    const char *params[] = {a->id, a->actor, a->action, identity, args};
    PGresult *res = gf_intake_db_apply (db, SQL_APPLY, 5, params, deadline, reply);
    if (res) {
        const char *ref = gf_db_get (res, 0, "ref");
        reply->state = strdup (ref ? ref : "");
        PQclear (res);
    }
    free (args);
}
