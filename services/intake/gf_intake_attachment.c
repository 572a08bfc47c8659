/*  gf_intake_attachment — stores one attachment.add in one transaction. */
#include "gf_intake_attachment.h"
#include "gf_intake_db.h"

#include <czmq.h>

static const char *SQL_IDENTITY = "SELECT name, kind, grid, person, revoked_at IS NOT NULL AS "
                                  "revoked FROM identities WHERE public_key = $1";
/*  The case's row, share-locked without waiting; gf_attachment_add then
    takes the lock it already holds. */
static const char *SQL_LOCK = "SELECT 1 FROM cases WHERE id = $1 FOR SHARE SKIP LOCKED";
static const char *SQL_ADD = "SELECT err, attachment, duplicate FROM gf_attachment_add "
                             "($1, $2, $3, $4, $5, $6::boolean, $7, $8, $9::bytea, $10)";

/*  The identity's grid (new string), or NULL with err set. */
static char *s_identity (gf_db_t *db, const gf_attachment_t *a, const char *identity,
                         gf_error_t *err)
{
    const char *params[] = {identity};
    PGresult *res = gf_db_exec (db, SQL_IDENTITY, 1, params);
    if (!res) {
        gf_error_set (err, GF_E_UNAVAILABLE, "storage unavailable, retry later");
        return NULL;
    }
    char *grid = NULL;
    const char *person = PQntuples (res) == 1 ? gf_db_get (res, 0, "person") : NULL;
    if (PQntuples (res) != 1)
        gf_error_set (err, GF_E_FORBIDDEN, "this client's key is not a known identity");
    else if (streq (gf_db_get (res, 0, "revoked"), "t"))
        gf_error_set (err, GF_E_FORBIDDEN, "identity %s is revoked", gf_db_get (res, 0, "name"));
    else if (!streq (gf_db_get (res, 0, "kind"), "staff") &&
             !streq (gf_db_get (res, 0, "kind"), "workbench"))
        gf_error_set (err, GF_E_FORBIDDEN, "identity %s (%s) may not upload attachments",
                      gf_db_get (res, 0, "name"), gf_db_get (res, 0, "kind"));
    else if (person && !streq (person, a->actor))
        gf_error_set (err, GF_E_FORBIDDEN, "identity %s may act only as %s",
                      gf_db_get (res, 0, "name"), person);
    else
        grid = strdup (gf_db_get (res, 0, "grid"));
    PQclear (res);
    return grid;
}

/*  The bytes as PostgreSQL's bytea hex input (new string). */
static char *s_hex (const void *data, size_t size)
{
    static const char digits[] = "0123456789abcdef";
    char *out = (char *)malloc (2 * size + 3);
    if (!out)
        return NULL;
    out[0] = '\\';
    out[1] = 'x';
    const unsigned char *p = (const unsigned char *)data;
    for (size_t i = 0; i < size; i++) {
        out[2 + 2 * i] = digits[p[i] >> 4];
        out[3 + 2 * i] = digits[p[i] & 15];
    }
    out[2 * size + 2] = 0;
    return out;
}

bool gf_intake_attachment_apply (gf_db_t *db, const gf_attachment_t *a, const char *identity,
                                 size_t max, int64_t deadline, gf_reply_t *reply)
{
    gf_error_t err = {GF_OK, ""};
    bool late = false, begun = false, busy = false;
    char *idn_grid = NULL, *hex = NULL, *case_id = zsys_sprintf ("%" PRId64, a->case_id);
    PGresult *res = NULL, *locked = NULL;
    const char *type = gf_attachment_sniff (a->data, a->size);
    reply->case_id = a->case_id;
    if (a->size > max) {
        gf_error_set (&err, GF_E_TOO_LARGE, "attachment is %zu bytes, limit %zu", a->size, max);
        goto refuse;
    }
    if (!type) {
        gf_error_set (&err, GF_E_BAD_VALUE,
                      "attachment type not allowed: only JPEG, PNG, WebP and PDF are accepted");
        goto refuse;
    }
    if (gf_db_begin (db) != 0)
        goto unavailable;
    begun = true;
    if (identity && !(idn_grid = s_identity (db, a, identity, &err))) {
        if (err.code == GF_E_UNAVAILABLE)
            goto unavailable;
        goto refuse;
    }
    const char *lock_params[] = {case_id};
    if (!(locked = gf_intake_db_lock_case (db, SQL_LOCK, 1, lock_params, case_id, deadline, &late,
                                           &busy, &err))) {
        if (err.code == GF_OK || (err.code == GF_E_UNAVAILABLE && !busy))
            goto unavailable;
        goto refuse;
    }
    if (!(hex = s_hex (a->data, a->size))) {
        gf_error_set (&err, GF_E_INTERNAL, "out of memory");
        goto refuse;
    }
    const char *params[] = {
        case_id,   a->id,   a->actor, a->filename, type, a->public ? "true" : "false",
        a->action, a->note, hex,      idn_grid};
    res = gf_intake_db_exec (db, SQL_ADD, 10, params, deadline, &late);
    if (!res || late)
        goto unavailable;
    const char *code = gf_db_get (res, 0, "err");
    if (code) {
        gf_code_t c = streq (code, "unknown") ? GF_E_UNKNOWN_CASE : gf_code_from_name (code);
        gf_error_set (&err, c, "attachment refused: %s%s", code,
                      c == GF_E_FORBIDDEN ? " (the case is outside the actor's or identity's grid)"
                      : c == GF_E_BAD_VALUE ? " (request id used for another case, or no such "
                                              "action of the actor on the case)"
                                            : "");
        goto refuse;
    }
    reply->duplicate = streq (gf_db_get (res, 0, "duplicate"), "t");
    if (reply->duplicate) {
        if (gf_intake_db_commit_found (db, deadline, &late) != 0) {
            reply->duplicate = false;
            goto unavailable;
        }
        reply->ok = true;
        goto cleanup;
    }
    if (gf_intake_db_commit (db, deadline, &late) != 0)
        goto unavailable;
    gf_intake_db_committed (true);
    reply->ok = true;
    goto cleanup;

unavailable:
    gf_intake_db_failure (db, late, &err);
refuse:
    gf_intake_db_refuse (reply, err.code, err.message);
    if (begun)
        gf_db_rollback (db);
cleanup:
    if (res)
        PQclear (res);
    if (locked)
        PQclear (locked);
    free (idn_grid);
    free (hex);
    free (case_id);
    return busy;
}
