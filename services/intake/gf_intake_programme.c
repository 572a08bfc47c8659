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
    bool late = false;
    reply->ok = true;
    char *args = s_args (a);
    PGresult *applied = NULL;
    gf_error_t err = {GF_OK, ""};

    if (gf_db_begin (db) != 0)
        goto unavailable;
    const char *params[] = {a->id, a->actor, a->action, identity, args};
    if (!(applied = gf_intake_db_exec (db, SQL_APPLY, 5, params, deadline, &late)) || late)
        goto unavailable;
    const char *code = gf_db_get (applied, 0, "err");
    if (code) {
        gf_error_set (&err, gf_code_from_name (code), "%s", gf_db_get (applied, 0, "message"));
        goto refuse;
    }
    const char *ref = gf_db_get (applied, 0, "ref");
    reply->state = strdup (ref ? ref : "");
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
    free (reply->message);
    reply->message = strdup (err.message);
rollback:
    gf_db_rollback (db);
cleanup:
    if (applied)
        PQclear (applied);
    free (args);
}
