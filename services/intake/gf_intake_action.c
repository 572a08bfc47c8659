/*  gf_intake_action — applies one case.action in one transaction (or one
    savepoint of a group's). */
#include "gf_intake_action.h"
#include "gf_case.h"
#include "gf_intake_db.h"

#include <czmq.h>

static const char *SQL_DONE =
    "SELECT to_state, version, case_id FROM case_actions WHERE actor = $1 AND request_id = $2";
/*  returned_by: the grid that last returned the case (its scope for a
    resent return, see s_authorise). */
static const char *SQL_LOCK =
    "SELECT c.state, c.grid, c.root, c.version, c.satisfied, p.grid AS actor_grid,"
    "       ag.level AS actor_level, c.returned_from[cardinality (c.returned_from)] AS returned_by,"
    "       (SELECT level FROM grids WHERE code = c.grid) AS grid_level"
    "  FROM cases c LEFT JOIN people p ON p.id = $2 LEFT JOIN grids ag ON ag.code = p.grid"
    " WHERE c.id = $1 FOR UPDATE OF c SKIP LOCKED";
static const char *SQL_IDENTITY =
    "SELECT name, kind, grid, person, department, revoked_at IS NOT NULL AS revoked"
    "  FROM identities WHERE public_key = $1";
/*  代访 (deploy/sql/repeatable/referrals.sql): a refer names a department
    usable from the case's L1 grid, with an explicit deadline in the future;
    a receipt needs the case's open referral, not signed for yet, at a time
    between the referral and now. */
static const char *SQL_REFER_CHECK =
    "SELECT gf_department_usable ($1, $2) AS usable,"
    "       $3::bigint IS NULL OR to_timestamp ($3::bigint / 1000.0) > gf_now () AS future";
static const char *SQL_REFERRAL =
    "SELECT r.department, r.received_by, d.contact, $2::bigint IS NULL OR"
    "       to_timestamp ($2::bigint / 1000.0) BETWEEN r.referred_at AND gf_now () AS time_ok"
    "  FROM referrals r JOIN departments d ON d.code = r.department"
    " WHERE r.case_id = $1 AND r.replied_at IS NULL";
static const char *SQL_RECEIPT = "SELECT gf_referral_receipt ($1, $2, $3, $4, "
                                 "to_timestamp ($5::bigint / 1000.0), $6, $7) AS version";
static const char *SQL_DEADLINE =
    "SELECT gf_referral_set_deadline ($1, to_timestamp ($2::bigint / 1000.0))";
static const char *SQL_TARGET_GRID = "SELECT level FROM grids WHERE code = $1";
static const char *SQL_TARGET_CASE =
    "SELECT state, root, grid FROM cases WHERE id = $1 FOR UPDATE SKIP LOCKED";
/*  The vocabularies classify and reject name codes from. */
static const char *SQL_KNOWN_CATEGORY = "SELECT 1 FROM categories WHERE code = $1";
static const char *SQL_KNOWN_REASON = "SELECT 1 FROM reject_reasons WHERE code = $1";

/*  Applies the step: the case, its case_actions record and event, and the
    merged cases that follow it (deploy/sql/repeatable/case_actions.sql).
    $1 case, $2 request id, $3 actor, $4 action, $5 from, $6 to, $7 event
    type, $8 event grid (NULL: the case's grid after the change), $9 note,
    $10 grid, $11 tier, $12 urgent, $13 groups, $14 department, $15
    satisfied, $16 into; $17-$19 the follow step's states, state after and
    event (gf_case_merged_follow), NULL when the merged cases do not follow;
    $20 whether the cases merged into this one are re-pointed to $16
    (gf_case_merged_repoint); $21 category (classify), $22 reason (reject).
    Returns the new version. */
static const char *SQL_ACT = "SELECT gf_case_act ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
                             "$12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22) AS version";

/*  Whether code is in the vocabulary sql reads: 0, -1 with err set (code,
    what it is) when it is not or the database failed (unavailable). */
static int s_known (gf_db_t *db, const char *sql, const char *code, gf_code_t unknown,
                    const char *what, gf_error_t *err)
{
    const char *params[] = {code};
    PGresult *res = gf_db_exec (db, sql, 1, params);
    if (!res)
        return gf_error_set (err, GF_E_UNAVAILABLE, "storage unavailable, retry later");
    int rc = PQntuples (res) == 1 ? 0 : gf_error_set (err, unknown, "unknown %s '%s'", what, code);
    PQclear (res);
    return rc;
}

/*  Checks that need the database: the assigned grid, the merge target
    (gf_case_merge_check, and inside the identity's subtree: idn_grid, or
    NULL), a classification's category, a rejection's reason.  Returns 0,
    or -1 with err set; busy set when the merge's target is locked by
    another transaction (then err is `unavailable`). */
static int s_check_targets (gf_db_t *db, const gf_action_t *a, gf_case_action_t act,
                            const gf_case_view_t *view, const char *root, const char *idn_grid,
                            int64_t deadline, bool *late, bool *busy, gf_error_t *err)
{
    if (act == GF_ACT_CLASSIFY && a->category)
        return s_known (db, SQL_KNOWN_CATEGORY, a->category, GF_E_UNKNOWN_CATEGORY, "category",
                        err);
    if (act == GF_ACT_REJECT)
        return s_known (db, SQL_KNOWN_REASON, a->reason, GF_E_BAD_VALUE, "reject reason", err);
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
        if (a->into == a->case_id)
            return gf_error_set (err, GF_E_BAD_VALUE, "a case cannot be merged into itself");
        char into[24];
        snprintf (into, sizeof into, "%" PRId64, a->into);
        const char *params[] = {into};
        PGresult *res = gf_db_exec (db, SQL_TARGET_CASE, 1, params);
        if (!res)
            return gf_error_set (err, GF_E_UNAVAILABLE, "storage unavailable, retry later");
        int rc = 0;
        if (PQntuples (res) == 0)
            rc = gf_intake_db_case_held (db, into, " to merge into", deadline, late, busy, err);
        else {
            gf_case_target_t target = {
                .id = a->into,
                .state = (gf_case_state_t)gf_case_state_from_name (gf_db_get (res, 0, "state")),
                .grid = gf_db_get (res, 0, "grid"),
                .root = gf_db_get (res, 0, "root")};
            rc = gf_case_merge_check (view, root, a->case_id, &target, err);
            if (rc == 0 && idn_grid && !gf_case_grid_within (target.grid, idn_grid))
                rc = gf_error_set (err, GF_E_FORBIDDEN,
                                   "case %s is outside this identity's subtree %s", into, idn_grid);
        }
        PQclear (res);
        return rc;
    }
    if (act == GF_ACT_REFER) {
        char due[24];
        snprintf (due, sizeof due, "%" PRId64, a->deadline);
        const char *params[] = {a->department, root, a->deadline > 0 ? due : NULL};
        PGresult *res = gf_db_exec (db, SQL_REFER_CHECK, 3, params);
        if (!res)
            return gf_error_set (err, GF_E_UNAVAILABLE, "storage unavailable, retry later");
        int rc = 0;
        if (!streq (gf_db_get (res, 0, "usable"), "t"))
            rc = gf_error_set (err, GF_E_UNKNOWN_DEPARTMENT,
                               "department '%s' is not in the directory (for %s)", a->department,
                               root);
        else if (!streq (gf_db_get (res, 0, "future"), "t"))
            rc = gf_error_set (err, GF_E_BAD_VALUE, "the referral's deadline is in the past");
        PQclear (res);
        return rc;
    }
    return 0;
}

/*  The case's open referral (row 0), or NULL with err set (refused, or
    unavailable).  For a receipt (receipt): not signed for yet, at a good
    time. */
static PGresult *s_open_referral (gf_db_t *db, const gf_action_t *a, bool receipt, gf_error_t *err)
{
    char case_id[24], at[24];
    snprintf (case_id, sizeof case_id, "%" PRId64, a->case_id);
    snprintf (at, sizeof at, "%" PRId64, a->received_at);
    const char *params[] = {case_id, a->received_at > 0 ? at : NULL};
    PGresult *res = gf_db_exec (db, SQL_REFERRAL, 2, params);
    if (!res)
        gf_error_set (err, GF_E_UNAVAILABLE, "storage unavailable, retry later");
    else if (PQntuples (res) == 0)
        gf_error_set (err, GF_E_ILLEGAL_TRANSITION, "case %s has no open referral record", case_id);
    else if (receipt && gf_db_get (res, 0, "received_by"))
        gf_error_set (err, GF_E_ILLEGAL_TRANSITION,
                      "the referral of case %s was already signed for by %s", case_id,
                      gf_db_get (res, 0, "received_by"));
    else if (receipt && !streq (gf_db_get (res, 0, "time_ok"), "t"))
        gf_error_set (err, GF_E_BAD_VALUE, "'received_at' must lie between the referral and now");
    else
        return res;
    if (res)
        PQclear (res);
    return NULL;
}

/*  Whether the case locked (row 0 of locked) is the actor's and the
    identity's to see: its grid, or the grid that last returned it (so a
    resent return, which moved the case to the L1 triage, still gets its
    first answer), inside the actor's grid and the identity's subtree
    (idn_grid, or NULL).  Runs before anything answers about the request
    id; what the actor may do to the case gf_case_transition decides.
    *by_return: the case is the actor's or the identity's only as the grid
    that returned it (then a resend is all it may be answered).  Returns 0,
    or -1 with err set. */
static int s_authorise (const gf_action_t *a, PGresult *locked, const char *idn_name,
                        const char *idn_grid, bool *by_return, gf_error_t *err)
{
    const char *grid = gf_db_get (locked, 0, "grid");
    const char *returned_by = gf_db_get (locked, 0, "returned_by");
    const char *actor_grid = gf_db_get (locked, 0, "actor_grid");
    if (!actor_grid)
        return gf_error_set (err, GF_E_UNKNOWN_ACTOR, "actor '%s' is not in the directory",
                             a->actor);
    bool own_actor = gf_case_grid_within (grid, actor_grid);
    bool own_idn = !idn_grid || gf_case_grid_within (grid, idn_grid);
    bool in_actor = own_actor || (returned_by && gf_case_grid_within (returned_by, actor_grid));
    bool in_idn = own_idn || (returned_by && gf_case_grid_within (returned_by, idn_grid));
    if (!in_idn)
        return gf_error_set (err, GF_E_FORBIDDEN,
                             "case %" PRId64 " is outside identity %s's subtree %s", a->case_id,
                             idn_name, idn_grid);
    if (!in_actor)
        return gf_error_set (err, GF_E_FORBIDDEN, "case grid %s is outside %s's grid %s", grid,
                             a->actor, actor_grid);
    *by_return = !(own_actor && own_idn);
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
    else if (streq (gf_db_get (res, 0, "kind"), "department") &&
             !(streq (a->action, "receipt") || streq (a->action, "reply")))
        rc = gf_error_set (err, GF_E_FORBIDDEN,
                           "department identity %s may only sign for (receipt) and reply",
                           gf_db_get (res, 0, "name"));
    else if (streq (gf_db_get (res, 0, "kind"), "department") &&
             !streq (gf_db_get (res, 0, "department"), a->actor))
        rc = gf_error_set (err, GF_E_FORBIDDEN, "identity %s may act only as department %s",
                           gf_db_get (res, 0, "name"), gf_db_get (res, 0, "department"));
    else if (!streq (gf_db_get (res, 0, "kind"), "staff") &&
             !streq (gf_db_get (res, 0, "kind"), "workbench") &&
             !streq (gf_db_get (res, 0, "kind"), "department"))
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

/*  The end of an action that applied (found: a resend found in
    case_actions, durable before it is answered): its COMMIT, or in a
    group the release of its savepoint (the group commits).  0, or -1. */
static int s_finish (gf_db_t *db, bool grouped, bool found, int64_t deadline, bool *late)
{
    if (grouped)
        return (found ? gf_intake_db_mark_found (db, deadline, late) : 0) == 0
                   ? gf_intake_db_release (db, deadline, late)
                   : -1;
    if (found)
        return gf_intake_db_commit_found (db, deadline, late);
    if (gf_intake_db_commit (db, deadline, late) != 0)
        return -1;
    gf_intake_db_committed (true);
    return 0;
}

bool gf_intake_action_apply (gf_db_t *db, const gf_action_t *a, const char *identity,
                             int64_t deadline, gf_reply_t *reply, bool grouped)
{
    bool late = false, busy = false;
    reply->case_id = a->case_id;
    reply->ok = true;
    char *case_id = s_int (a->case_id);
    PGresult *done = NULL, *locked = NULL, *applied = NULL, *idn = NULL, *referral = NULL;
    gf_error_t err = {GF_OK, ""};

    if ((grouped ? gf_intake_db_savepoint (db, deadline, &late) : gf_db_begin (db)) != 0)
        goto unavailable;
    /* The client's rights come before anything that reveals a case. */
    if (identity && s_check_identity (db, a, identity, &idn, &err) != 0) {
        if (err.code == GF_E_UNAVAILABLE)
            goto unavailable;
        goto refuse;
    }
    const char *lock_params[] = {case_id, a->actor};
    if (!(locked = gf_intake_db_lock_case (db, SQL_LOCK, 2, lock_params, case_id, deadline, &late,
                                           &busy, &err))) {
        if (err.code == GF_OK || (err.code == GF_E_UNAVAILABLE && !busy))
            goto unavailable;
        goto refuse;
    }
    const char *idn_grid = idn ? gf_db_get (idn, 0, "grid") : NULL;
    const char *idn_name = idn ? gf_db_get (idn, 0, "name") : NULL;
    /* A department's identity acts on the cases referred to it only, as
       that department (no grid of its own: the case's). */
    const char *idn_dept = idn ? gf_db_get (idn, 0, "department") : NULL;
    if (idn_dept) {
        referral = s_open_referral (db, a, false, &err);
        if (!referral && err.code == GF_E_UNAVAILABLE)
            goto unavailable;
        if (!referral || !streq (gf_db_get (referral, 0, "department"), idn_dept)) {
            gf_error_set (&err, GF_E_FORBIDDEN, "case %s is not referred to department %s", case_id,
                          idn_dept);
            goto refuse;
        }
        PQclear (referral);
        referral = NULL;
        idn_grid = NULL;
    }
    /* Authorisation first: the request-id lookup below answers only about
       a case the sender may see. */
    bool by_return = false;
    if (!idn_dept && s_authorise (a, locked, idn_name, idn_grid, &by_return, &err) != 0)
        goto refuse;
    const char *done_params[] = {a->actor, a->id};
    if (!(done = gf_db_exec (db, SQL_DONE, 2, done_params)))
        goto unavailable;
    bool resend = PQntuples (done) == 1 && gf_db_get_ll (done, 0, "case_id") == a->case_id;
    /* A resent request answers with its first result. */
    if (PQntuples (done) == 1 && !resend) {
        gf_error_set (&err, GF_E_BAD_VALUE,
                      "request id '%s' of %s was already used for another case", a->id, a->actor);
        goto refuse;
    }
    if (resend) {
        if (s_finish (db, grouped, true, deadline, &late) != 0)
            goto unavailable;
        reply->duplicate = true;
        reply->case_id = gf_db_get_ll (done, 0, "case_id");
        reply->state = strdup (gf_db_get (done, 0, "to_state"));
        reply->version = gf_db_get_ll (done, 0, "version");
        goto cleanup;
    }
    /* Returned, the case is no longer that grid's: refused before its
       version or state is told (a router may have moved it meanwhile). */
    if (by_return) {
        gf_error_set (&err, GF_E_FORBIDDEN, "case %s was returned by grid %s and is no longer %s's",
                      case_id, gf_db_get (locked, 0, "returned_by"), a->actor);
        goto refuse;
    }
    if (idn && streq (a->action, "assign") && a->grid && !gf_case_grid_within (a->grid, idn_grid)) {
        gf_error_set (&err, GF_E_FORBIDDEN, "grid %s is outside identity %s's subtree %s", a->grid,
                      idn_name, idn_grid);
        goto refuse;
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
                           .actor_level = (int)gf_db_get_ll (locked, 0, "actor_level"),
                           .grid_level = (int)gf_db_get_ll (locked, 0, "grid_level")};
    if (idn_dept) {
        view.actor_grid = view.grid;
        view.actor_level = 3;
    }
    gf_case_step_t step;
    if ((int)view.state < 0) {
        gf_error_set (&err, GF_E_INTERNAL, "case %s has an unknown state", case_id);
        goto refuse;
    }
    if (gf_case_transition (&view, a, &step, &err) != 0 ||
        s_check_targets (db, a, step.action, &view, gf_db_get (locked, 0, "root"), idn_grid,
                         deadline, &late, &busy, &err)) {
        if (err.code == GF_E_UNAVAILABLE && !busy)
            goto unavailable;
        goto refuse;
    }

    if (step.action == GF_ACT_RECEIPT) {
        if (!(referral = s_open_referral (db, a, true, &err))) {
            if (err.code == GF_E_UNAVAILABLE)
                goto unavailable;
            goto refuse;
        }
        char at[24];
        snprintf (at, sizeof at, "%" PRId64, a->received_at);
        const char *rparams[] = {case_id,
                                 a->id,
                                 a->actor,
                                 a->contact,
                                 a->received_at > 0 ? at : NULL,
                                 idn_dept ? "department" : "leader",
                                 idn_dept ? idn_name : a->actor};
        applied = gf_intake_db_exec (db, SQL_RECEIPT, 7, rparams, deadline, &late);
        if (!applied || late || s_finish (db, grouped, false, deadline, &late) != 0)
            goto unavailable;
        reply->version = gf_db_get_ll (applied, 0, "version");
        goto cleanup;
    }
    const char *to = gf_case_state_name (step.to);
    const char *urgent = a->urgent < 0 ? NULL : a->urgent ? "true" : "false";
    const char *sat = a->satisfied < 0 ? NULL : a->satisfied ? "true" : "false";
    char *into = s_int (a->into);
    /* A returned case is announced to the grid that returned it. */
    const char *event_grid = step.action == GF_ACT_RETURN ? view.grid : NULL;
    /* The lifecycle says whether the cases merged into this one follow. */
    gf_case_step_t follow;
    char follow_from[64];
    bool follows = gf_case_merged_follow (&step, follow_from, sizeof follow_from, &follow);
    const char *act_params[] = {case_id,
                                a->id,
                                a->actor,
                                a->action,
                                reply->state,
                                to,
                                step.event,
                                event_grid,
                                a->note,
                                a->grid,
                                a->tier,
                                urgent,
                                a->groups,
                                a->department,
                                sat,
                                a->into > 0 ? into : NULL,
                                follows ? follow_from : NULL,
                                follows ? gf_case_state_name (follow.to) : NULL,
                                follows ? follow.event : NULL,
                                gf_case_merged_repoint (&step) ? "true" : "false",
                                a->category,
                                a->reason};
    applied = gf_intake_db_exec (db, SQL_ACT, 22, act_params, deadline, &late);
    free (into);
    if (applied && !late && step.action == GF_ACT_REFER && a->deadline > 0) {
        char *when = s_int (a->deadline);
        const char *dparams[] = {case_id, when};
        PGresult *set = gf_intake_db_exec (db, SQL_DEADLINE, 2, dparams, deadline, &late);
        free (when);
        if (!set)
            goto unavailable;
        PQclear (set);
    }
    if (!applied || late || s_finish (db, grouped, false, deadline, &late) != 0)
        goto unavailable;
    free (reply->state);
    reply->state = strdup (to);
    reply->version = gf_db_get_ll (applied, 0, "version");
    goto cleanup;

unavailable:
    gf_intake_db_failure (db, late, &err);
refuse:
    gf_intake_db_refuse (reply, err.code, err.message);
    if (grouped)
        gf_intake_db_rollback_to (db);
    else
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
    if (referral)
        PQclear (referral);
    free (case_id);
    return busy;
}
