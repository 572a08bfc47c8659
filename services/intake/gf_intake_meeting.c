/*  gf_intake_meeting — applies one meeting.action in one transaction. */
#include "gf_intake_meeting.h"
#include "gf_case.h"
#include "gf_intake_db.h"

#include <czmq.h>
#include <jansson.h>

/*  $1 meeting, $2 request id, $3 actor, $4 action, $5 identity (NULL:
    plain endpoint), $6 the request's keys (JSON). */
static const char *SQL_CHECK = "SELECT * FROM gf_meeting_check ($1, $2, $3, $4, $5, $6)";
/*  $1-$4 as above, $5 the request's keys, $6 the case step (JSON) or NULL. */
static const char *SQL_APPLY = "SELECT * FROM gf_meeting_apply ($1, $2, $3, $4, $5, $6)";

/*  The request's keys as gf_meeting_check reads them. */
static char *s_args (const gf_meeting_action_t *a)
{
    json_t *o = json_object ();
    const char *keys[] = {"person", "name", "role",    "decision", "department", "owner",
                          "note",   "text", "speaker", "opinion",  "response"};
    const char *vals[] = {a->person, a->name, a->role,    a->decision, a->department, a->owner,
                          a->note,   a->text, a->speaker, a->opinion,  a->response};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (vals[i])
            json_object_set_new (o, keys[i], json_string (vals[i]));
    if (a->case_id > 0)
        json_object_set_new (o, "case", json_integer (a->case_id));
    if (a->deadline > 0)
        json_object_set_new (o, "deadline", json_integer (a->deadline));
    if (a->consultation > 0)
        json_object_set_new (o, "consultation", json_integer (a->consultation));
    char *text = json_dumps (o, JSON_COMPACT);
    json_decref (o);
    return text;
}

/*  The lifecycle's step for a decision that takes a staff action on its
    case (row 0 of checked: case_action, the case and the actor), as JSON
    for gf_meeting_apply; NULL with err set when the lifecycle refuses. */
static char *s_case_step (const gf_meeting_action_t *a, PGresult *checked, gf_error_t *err)
{
    const char *satisfied = gf_db_get (checked, 0, "case_satisfied");
    const char *state = gf_db_get (checked, 0, "case_state");
    gf_case_view_t view = {.state = (gf_case_state_t)gf_case_state_from_name (state),
                           .grid = gf_db_get (checked, 0, "case_grid"),
                           .satisfied = satisfied ? streq (satisfied, "t") : -1,
                           .actor_grid = gf_db_get (checked, 0, "actor_grid"),
                           .actor_level = (int)gf_db_get_ll (checked, 0, "actor_level")};
    if ((int)view.state < 0) {
        gf_error_set (err, GF_E_INTERNAL, "case %" PRId64 " has an unknown state", a->case_id);
        return NULL;
    }
    gf_action_t act = {.id = a->id,
                       .case_id = a->case_id,
                       .action = (char *)gf_db_get (checked, 0, "case_action"),
                       .actor = a->actor,
                       .version = gf_db_get_ll (checked, 0, "case_version"),
                       .note = a->note,
                       .department = a->department,
                       .satisfied = -1,
                       .urgent = -1};
    gf_case_step_t step, follow;
    if (gf_case_transition (&view, &act, &step, err) != 0)
        return NULL;
    char follow_from[64];
    bool follows = gf_case_merged_follow (&step, follow_from, sizeof follow_from, &follow);
    json_t *o = json_pack ("{s:s, s:s, s:s, s:s}", "action", act.action, "from", state, "to",
                           gf_case_state_name (step.to), "event", step.event);
    if (follows) {
        json_object_set_new (o, "follow_from", json_string (follow_from));
        json_object_set_new (o, "follow_to", json_string (gf_case_state_name (follow.to)));
        json_object_set_new (o, "follow_event", json_string (follow.event));
    }
    char *text = json_dumps (o, JSON_COMPACT);
    json_decref (o);
    return text;
}

void gf_intake_meeting_apply (gf_db_t *db, const gf_meeting_action_t *a, const char *identity,
                              int64_t deadline, gf_reply_t *reply)
{
    bool late = false;
    reply->ok = true;
    reply->case_id = a->case_id;
    char *meeting = zsys_sprintf ("%" PRId64, a->meeting);
    char *args = s_args (a);
    char *step = NULL;
    PGresult *checked = NULL, *applied = NULL;
    gf_error_t err = {GF_OK, ""};

    if (gf_db_begin (db) != 0)
        goto unavailable;
    const char *check_params[] = {meeting, a->id, a->actor, a->action, identity, args};
    if (!(checked = gf_intake_db_exec (db, SQL_CHECK, 6, check_params, deadline, &late)) || late)
        goto unavailable;
    const char *code = gf_db_get (checked, 0, "err");
    if (code) {
        gf_error_set (&err, gf_code_from_name (code), "%s", gf_db_get (checked, 0, "message"));
        goto refuse;
    }
    if (streq (gf_db_get (checked, 0, "duplicate"), "t")) {
        if (gf_intake_db_commit_found (db, deadline, &late) != 0)
            goto unavailable;
        reply->duplicate = true;
        reply->case_id =
            gf_db_get (checked, 0, "case_id") ? gf_db_get_ll (checked, 0, "case_id") : 0;
        reply->state = strdup (streq (a->action, "close") ? "closed" : "open");
        reply->version = gf_db_get_ll (checked, 0, "version");
        goto cleanup;
    }
    if (gf_db_get (checked, 0, "case_action") && !(step = s_case_step (a, checked, &err)))
        goto refuse;
    const char *apply_params[] = {meeting, a->id, a->actor, a->action, args, step};
    applied = gf_intake_db_exec (db, SQL_APPLY, 6, apply_params, deadline, &late);
    if (!applied || late || gf_intake_db_commit (db, deadline, &late) != 0)
        goto unavailable;
    gf_intake_db_committed (true);
    reply->state = strdup (streq (a->action, "close") ? "closed" : "open");
    reply->version = gf_db_get_ll (applied, 0, "version");
    goto cleanup;

unavailable:
    gf_intake_db_failure (db, late, &err);
refuse:
    gf_intake_db_refuse (reply, err.code, err.message);
    gf_db_rollback (db);
cleanup:
    if (checked)
        PQclear (checked);
    if (applied)
        PQclear (applied);
    free (step);
    free (args);
    free (meeting);
}
