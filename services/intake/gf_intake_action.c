/*  gf_intake_action — applies one case.action in one transaction. */
#include "gf_intake_action.h"
#include "gf_case.h"

#include <czmq.h>
#include <jansson.h>

static const char *SQL_DONE =
    "SELECT to_state, version, case_id FROM case_actions WHERE actor = $1 AND request_id = $2";
static const char *SQL_LOCK =
    "SELECT c.state, c.grid, c.root, c.version, c.satisfied, p.grid AS actor_grid,"
    "       ag.level AS actor_level"
    "  FROM cases c LEFT JOIN people p ON p.id = $2 LEFT JOIN grids ag ON ag.code = p.grid"
    " WHERE c.id = $1 FOR UPDATE OF c";
static const char *SQL_IDENTITY =
    "SELECT name, kind, grid, person, revoked_at IS NOT NULL AS revoked"
    "  FROM identities WHERE public_key = $1";
static const char *SQL_TARGET_GRID = "SELECT level FROM grids WHERE code = $1";
static const char *SQL_TARGET_CASE = "SELECT state, root FROM cases WHERE id = $1 FOR UPDATE";

/*  One statement for every action: each column changes only for the actions
    that change it.  $1 case, $2 new state, $3 action, $4 grid, $5 tier,
    $6 urgent, $7 groups, $8 department, $9 satisfied, $10 into.  Times
    come from gf_now (): the simulated clock when one is set. */
static const char *SQL_APPLY =
    "UPDATE cases SET state = $2, version = version + 1, updated_at = gf_now (),"
    "  grid = CASE $3 WHEN 'assign' THEN $4 WHEN 'return' THEN root ELSE grid END,"
    "  returned_from = CASE $3 WHEN 'return' THEN returned_from || grid ELSE returned_from END,"
    "  tier = CASE WHEN $3 = 'resolve' THEN 'resolved' WHEN $3 = 'reopen' THEN 'pending'"
    "              WHEN $3 = 'classify' AND $5::text IS NOT NULL"
    "                   AND state NOT IN ('resolved', 'called_back', 'closed') THEN $5"
    "              ELSE tier END,"
    "  urgent = CASE WHEN $3 = 'classify' AND $6::boolean IS NOT NULL THEN $6::boolean ELSE urgent "
    "END,"
    "  groups = CASE WHEN $3 = 'classify' AND $7::text IS NOT NULL"
    "                THEN coalesce (string_to_array (nullif ($7, ''), ','), '{}') ELSE groups END,"
    "  supervised = supervised OR $3 = 'supervise',"
    "  department = CASE $3 WHEN 'refer' THEN $8 ELSE department END,"
    "  satisfied = CASE $3 WHEN 'callback' THEN $9::boolean WHEN 'reopen' THEN NULL ELSE "
    "satisfied END,"
    "  merged_into = CASE $3 WHEN 'merge' THEN $10::bigint ELSE merged_into END,"
    "  reopen_count = reopen_count + CASE $3 WHEN 'reopen' THEN 1 ELSE 0 END,"
    "  signed_at = CASE $3 WHEN 'sign' THEN gf_now () ELSE signed_at END,"
    "  routed_at = CASE $3 WHEN 'assign' THEN gf_now () ELSE routed_at "
    "END,"
    "  resolved_at = CASE $3 WHEN 'resolve' THEN gf_now ()"
    "                        WHEN 'reopen' THEN NULL ELSE resolved_at END,"
    "  closed_at = CASE $3 WHEN 'close' THEN gf_now () ELSE closed_at END"
    " WHERE id = $1"
    " RETURNING version, grid, tier, urgent, array_to_string (groups, ',') AS groups";

/*  The action record and its event.  $1 case, $2 request id, $3 actor,
    $4 action, $5 from, $6 to, $7 version, $8 note, $9 event type,
    $10 event grid, $11 payload extras (JSON object). */
static const char *SQL_RECORD =
    "WITH a AS ("
    "  INSERT INTO case_actions (case_id, request_id, actor, action, from_state, to_state,"
    "                            version, note, at)"
    "  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, gf_now ())"
    ")"
    "INSERT INTO case_events (type, topic, case_id, grid, at, payload)"
    "VALUES ($9, $9 || '/' || $10, $1, $10, gf_now (),"
    "        jsonb_build_object ('action', $4::text, 'actor', $3::text, 'from', $5::text,"
    "                            'to', $6::text, 'version', $7::int, 'note', $8::text,"
    "                            'l2', (SELECT parent FROM grids WHERE code = $10))"
    "        || $11::jsonb)";

/*  Merged cases follow the case they were merged into when it is resolved. */
static const char *SQL_FOLLOW =
    "WITH f AS ("
    "  UPDATE cases SET state = 'resolved', tier = 'resolved', version = version + 1,"
    "         resolved_at = gf_now (),"
    "         updated_at = gf_now ()"
    "   WHERE merged_into = $1 AND state = 'merged'"
    "  RETURNING id, grid, version"
    ")"
    "INSERT INTO case_events (type, topic, case_id, grid, at, payload)"
    "SELECT 'case.resolved', 'case.resolved/' || grid, id, grid, gf_now (),"
    "       jsonb_build_object ('action', 'resolve', 'actor', $2::text, 'from', 'merged',"
    "                           'to', 'resolved', 'version', version, 'note', $3::text,"
    "                           'follows', $1::bigint)"
    "  FROM f";

static void s_fail (gf_reply_t *reply, gf_code_t code, const char *message)
{
    reply->ok = false;
    reply->code = code;
    free (reply->message);
    reply->message = strdup (message);
}

/*  The event's keys beyond the common ones, as JSON text (caller frees). */
static char *s_extras (const gf_action_t *a, gf_case_action_t act, PGresult *applied)
{
    json_t *x = json_object ();
    switch (act) {
    case GF_ACT_REFER:
        json_object_set_new (x, "department", json_string (a->department));
        break;
    case GF_ACT_CALLBACK:
        json_object_set_new (x, "satisfied", json_boolean (a->satisfied == 1));
        break;
    case GF_ACT_ASSIGN:
        json_object_set_new (x, "grid", json_string (a->grid));
        json_object_set_new (x, "via", json_string ("assign"));
        break;
    case GF_ACT_MERGE:
        json_object_set_new (x, "into", json_integer (a->into));
        break;
    case GF_ACT_SUPERVISE:
        json_object_set_new (x, "supervised", json_true ());
        break;
    case GF_ACT_CLASSIFY:
        json_object_set_new (x, "tier", json_string (gf_db_get (applied, 0, "tier")));
        json_object_set_new (x, "urgent",
                             json_boolean (streq (gf_db_get (applied, 0, "urgent"), "t")));
        json_t *groups = json_array ();
        char *list = strdup (gf_db_get (applied, 0, "groups")), *save = NULL;
        for (char *g = strtok_r (list, ",", &save); g; g = strtok_r (NULL, ",", &save))
            json_array_append_new (groups, json_string (g));
        free (list);
        json_object_set_new (x, "groups", groups); /* an array, as in case.received */
        break;
    default:
        break;
    }
    char *text = json_dumps (x, JSON_COMPACT);
    json_decref (x);
    return text;
}

/*  Checks that need the database.  Returns 0, or -1 with err set. */
static int s_check_targets (gf_db_t *db, const gf_action_t *a, gf_case_action_t act,
                            const char *root, int64_t case_id, gf_error_t *err)
{
    if (act == GF_ACT_ASSIGN) {
        const char *params[] = {a->grid};
        PGresult *res = gf_db_exec (db, SQL_TARGET_GRID, 1, params);
        if (!res)
            return gf_error_set (err, GF_E_UNAVAILABLE, "storage unavailable, retry later");
        int rc = 0;
        if (PQntuples (res) == 0)
            rc = gf_error_set (err, GF_E_UNKNOWN_GRID, "grid %s is not in the directory", a->grid);
        else if (gf_db_get_ll (res, 0, "level") != 3)
            rc = gf_error_set (err, GF_E_BAD_VALUE, "grid %s is not an L3 grid", a->grid);
        PQclear (res);
        return rc;
    }
    if (act == GF_ACT_MERGE) {
        if (a->into == case_id)
            return gf_error_set (err, GF_E_BAD_VALUE, "a case cannot be merged into itself");
        char into[24];
        snprintf (into, sizeof into, "%" PRId64, a->into);
        const char *params[] = {into};
        PGresult *res = gf_db_exec (db, SQL_TARGET_CASE, 1, params);
        if (!res)
            return gf_error_set (err, GF_E_UNAVAILABLE, "storage unavailable, retry later");
        int rc = 0;
        if (PQntuples (res) == 0)
            rc = gf_error_set (err, GF_E_UNKNOWN_CASE, "no case %s to merge into", into);
        else if (!streq (gf_db_get (res, 0, "root"), root))
            rc = gf_error_set (err, GF_E_FORBIDDEN, "case %s belongs to another L1 grid", into);
        else {
            const char *state = gf_db_get (res, 0, "state");
            if (streq (state, "closed") || streq (state, "merged"))
                rc = gf_error_set (err, GF_E_ILLEGAL_TRANSITION,
                                   "cannot merge into case %s: it is %s", into, state);
        }
        PQclear (res);
        return rc;
    }
    return 0;
}

/*  The sender's rights that do not depend on the case.  Returns 0 with
 *identity_row set (caller clears), or -1 with err set. */
static int s_check_identity (gf_db_t *db, const gf_action_t *a, const char *identity,
                             PGresult **identity_row, gf_error_t *err)
{
    const char *params[] = {identity};
    PGresult *res = gf_db_exec (db, SQL_IDENTITY, 1, params);
    if (!res)
        return gf_error_set (err, GF_E_UNAVAILABLE, "storage unavailable, retry later");
    int rc = 0;
    const char *person = PQntuples (res) == 1 ? gf_db_get (res, 0, "person") : NULL;
    if (PQntuples (res) != 1)
        rc = gf_error_set (err, GF_E_FORBIDDEN, "this client's key is not a known identity");
    else if (streq (gf_db_get (res, 0, "revoked"), "t"))
        rc = gf_error_set (err, GF_E_FORBIDDEN, "identity %s is revoked",
                           gf_db_get (res, 0, "name"));
    else if (!streq (gf_db_get (res, 0, "kind"), "staff"))
        rc = gf_error_set (err, GF_E_FORBIDDEN, "identity %s (%s) may not act on cases",
                           gf_db_get (res, 0, "name"), gf_db_get (res, 0, "kind"));
    else if (person && !streq (person, a->actor))
        rc = gf_error_set (err, GF_E_FORBIDDEN, "identity %s may act only as %s",
                           gf_db_get (res, 0, "name"), person);
    if (rc == 0)
        *identity_row = res;
    else
        PQclear (res);
    return rc;
}

static char *s_int (int64_t v)
{
    return zsys_sprintf ("%" PRId64, v);
}

void gf_intake_action_apply (gf_db_t *db, const gf_action_t *a, const char *identity,
                             gf_reply_t *reply)
{
    reply->case_id = a->case_id;
    reply->ok = true;
    char *case_id = s_int (a->case_id);
    PGresult *done = NULL, *locked = NULL, *applied = NULL, *idn = NULL;
    gf_error_t err = {GF_OK, ""};

    if (gf_db_begin (db) != 0)
        goto unavailable;
    /* The client's rights come before anything that reveals a case. */
    if (identity && s_check_identity (db, a, identity, &idn, &err) != 0) {
        if (err.code == GF_E_UNAVAILABLE)
            goto unavailable;
        goto refuse;
    }
    /* A resent request answers with its first result. */
    const char *done_params[] = {a->actor, a->id};
    if (!(done = gf_db_exec (db, SQL_DONE, 2, done_params)))
        goto unavailable;
    if (PQntuples (done) == 1 && gf_db_get_ll (done, 0, "case_id") != a->case_id) {
        gf_error_set (&err, GF_E_BAD_VALUE, "request id '%s' of %s was already used for case %s",
                      a->id, a->actor, gf_db_get (done, 0, "case_id"));
        goto refuse;
    }
    if (PQntuples (done) == 1) {
        reply->duplicate = true;
        reply->case_id = gf_db_get_ll (done, 0, "case_id");
        reply->state = strdup (gf_db_get (done, 0, "to_state"));
        reply->version = gf_db_get_ll (done, 0, "version");
        goto rollback;
    }
    const char *lock_params[] = {case_id, a->actor};
    if (!(locked = gf_db_exec (db, SQL_LOCK, 2, lock_params)))
        goto unavailable;
    if (PQntuples (locked) == 0) {
        gf_error_set (&err, GF_E_UNKNOWN_CASE, "no case %s", case_id);
        goto refuse;
    }
    if (idn) {
        const char *subtree = gf_db_get (idn, 0, "grid");
        if (!gf_case_grid_within (gf_db_get (locked, 0, "grid"), subtree)) {
            gf_error_set (&err, GF_E_FORBIDDEN, "case %s is outside identity %s's subtree %s",
                          case_id, gf_db_get (idn, 0, "name"), subtree);
            goto refuse;
        }
        if (streq (a->action, "assign") && a->grid && !gf_case_grid_within (a->grid, subtree)) {
            gf_error_set (&err, GF_E_FORBIDDEN, "grid %s is outside identity %s's subtree %s",
                          a->grid, gf_db_get (idn, 0, "name"), subtree);
            goto refuse;
        }
    }
    /* The caller sees the case as it is now, whatever the answer. */
    reply->state = strdup (gf_db_get (locked, 0, "state"));
    reply->version = gf_db_get_ll (locked, 0, "version");
    if (reply->version != a->version) {
        gf_error_set (&err, GF_E_CONFLICT,
                      "case %s changed: it is at version %" PRId64 " (%s), not %" PRId64, case_id,
                      reply->version, reply->state, a->version);
        goto refuse;
    }
    const char *satisfied = gf_db_get (locked, 0, "satisfied");
    gf_case_view_t view = {.state = (gf_case_state_t)gf_case_state_from_name (reply->state),
                           .grid = gf_db_get (locked, 0, "grid"),
                           .satisfied = satisfied ? streq (satisfied, "t") : -1,
                           .actor_grid = gf_db_get (locked, 0, "actor_grid"),
                           .actor_level = (int)gf_db_get_ll (locked, 0, "actor_level")};
    gf_case_step_t step;
    if ((int)view.state < 0) {
        gf_error_set (&err, GF_E_INTERNAL, "case %s has an unknown state", case_id);
        goto refuse;
    }
    if (gf_case_transition (&view, a, &step, &err) != 0 ||
        s_check_targets (db, a, step.action, gf_db_get (locked, 0, "root"), a->case_id, &err))
        goto refuse;

    const char *to = gf_case_state_name (step.to);
    const char *urgent = a->urgent < 0 ? NULL : a->urgent ? "true" : "false";
    const char *sat = a->satisfied < 0 ? NULL : a->satisfied ? "true" : "false";
    char *into = s_int (a->into);
    const char *apply_params[] = {
        case_id, to,        a->action,     a->grid, a->tier,
        urgent,  a->groups, a->department, sat,     a->into > 0 ? into : NULL};
    applied = gf_db_exec (db, SQL_APPLY, 10, apply_params);
    free (into);
    if (!applied)
        goto unavailable;
    char *version = strdup (gf_db_get (applied, 0, "version"));
    /* A returned case is announced to the grid that returned it. */
    const char *event_grid =
        step.action == GF_ACT_RETURN ? view.grid : gf_db_get (applied, 0, "grid");
    char *extras = s_extras (a, step.action, applied);
    const char *record_params[] = {case_id, a->id,   a->actor,   a->action,  reply->state, to,
                                   version, a->note, step.event, event_grid, extras};
    int rc = gf_db_run (db, SQL_RECORD, 11, record_params);
    free (extras);
    if (rc == 0 && step.action == GF_ACT_RESOLVE) {
        const char *follow_params[] = {case_id, a->actor, a->note};
        rc = gf_db_run (db, SQL_FOLLOW, 3, follow_params);
    }
    if (rc != 0 || gf_db_commit (db) != 0) {
        free (version);
        goto unavailable;
    }
    free (reply->state);
    reply->state = strdup (to);
    reply->version = strtoll (version, NULL, 10);
    free (version);
    goto cleanup;

unavailable:
    /* A lost connection, a deadlock or a concurrent unique insert: nothing
       was written; the request is safe to resend. */
    if (gf_db_lost (db))
        gf_error_set (&err, GF_E_UNAVAILABLE, "storage unavailable, retry later");
    else if (strncmp (gf_db_sqlstate (db), "40", 2) == 0 || streq (gf_db_sqlstate (db), "23505"))
        gf_error_set (&err, GF_E_CONFLICT, "concurrent change (%s), retry with the current version",
                      gf_db_sqlstate (db));
    else
        gf_error_set (&err, GF_E_INTERNAL, "internal error (%s), logged", gf_db_sqlstate (db));
refuse:
    s_fail (reply, err.code, err.message);
rollback:
    gf_db_rollback (db);
cleanup:
    if (done)
        PQclear (done);
    if (locked)
        PQclear (locked);
    if (applied)
        PQclear (applied);
    if (idn)
        PQclear (idn);
    free (case_id);
}
