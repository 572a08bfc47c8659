/*  gf_action.c — case.action: a staff member acts on a case.

    {v, type: "case.action", id, at, case, action, actor, version,
     note?, department?, grid?, into?, satisfied?, tier?, urgent?, groups?,
     contact?, received_at?, deadline?, category?, reason?}
    The codec checks presence of the always-required keys, types and limits;
    whether an action needs, say, `department` is decided by the lifecycle
    (common/gf_case), which answers missing_field itself.
*/
#include "gf_internal.h"

static int s_fill (gf_msg_t *msg, gf_action_t *a, gf_error_t *err)
{
    if (!streq (gf_msg_type (msg), GF_TYPE_CASE_ACTION))
        return gf_error_set (err, GF_E_UNKNOWN_TYPE, "type '%s' is not %s", gf_msg_type (msg),
                             GF_TYPE_CASE_ACTION);
    if (gf_msg_get_str (msg, "id", true, GF_MAX_REF, &a->id, err))
        return -1;
    if (*a->id == 0)
        return gf_error_set (err, GF_E_BAD_VALUE, "field 'id' is empty");
    a->at = gf_msg_at (msg);
    bool b = false;
    int rc;
    if (gf_msg_get_int (msg, "case", true, &a->case_id, err) ||
        gf_msg_get_str (msg, "action", true, GF_MAX_CODE, &a->action, err) ||
        gf_msg_get_str (msg, "actor", true, GF_MAX_REF, &a->actor, err) ||
        gf_msg_get_int (msg, "version", true, &a->version, err) ||
        gf_msg_get_str (msg, "note", false, GF_MAX_DESCRIPTION, &a->note, err) < 0 ||
        gf_msg_get_str (msg, "department", false, GF_MAX_NAME, &a->department, err) < 0 ||
        gf_msg_get_str (msg, "grid", false, GF_MAX_CODE, &a->grid, err) < 0 ||
        gf_msg_get_int (msg, "into", false, &a->into, err) < 0 ||
        gf_msg_get_str (msg, "tier", false, GF_MAX_CODE, &a->tier, err) < 0 ||
        gf_msg_get_strv (msg, "groups", false, 6, GF_MAX_CODE, &a->groups, err) < 0 ||
        gf_msg_get_str (msg, "contact", false, GF_MAX_NAME, &a->contact, err) < 0 ||
        gf_msg_get_int (msg, "received_at", false, &a->received_at, err) < 0 ||
        gf_msg_get_int (msg, "deadline", false, &a->deadline, err) < 0 ||
        gf_msg_get_str (msg, "category", false, GF_MAX_CODE, &a->category, err) < 0 ||
        gf_msg_get_str (msg, "reason", false, GF_MAX_CODE, &a->reason, err) < 0)
        return -1;
    if (a->received_at < 0 || a->received_at > GF_MAX_TIME_MS || a->deadline < 0 ||
        a->deadline > GF_MAX_TIME_MS)
        return gf_error_set (err, GF_E_BAD_VALUE,
                             "fields 'received_at' and 'deadline' must be "
                             "times in ms since the epoch");
    if (a->case_id <= 0 || a->version <= 0 || a->into < 0)
        return gf_error_set (err, GF_E_BAD_VALUE,
                             "fields 'case', 'version' and 'into' must be "
                             "positive");
    if (a->groups && gf_groups_check (a->groups, err))
        return -1;
    a->satisfied = -1;
    if ((rc = gf_msg_get_bool (msg, "satisfied", false, &b, err)) < 0)
        return -1;
    if (rc == 0)
        a->satisfied = b;
    a->urgent = -1;
    if ((rc = gf_msg_get_bool (msg, "urgent", false, &b, err)) < 0)
        return -1;
    if (rc == 0)
        a->urgent = b;
    return 0;
}

int gf_action_from_msg (gf_msg_t *msg, gf_action_t *a, gf_error_t *err)
{
    assert (msg && a);
    gf_action_t local = {0};
    if (s_fill (msg, &local, err)) {
        gf_action_reset (&local);
        memset (a, 0, sizeof *a);
        return -1;
    }
    *a = local;
    return 0;
}

zframe_t *gf_action_encode (const gf_action_t *a)
{
    assert (a && a->action && a->actor);
    const char *keys[] = {"note", "department", "grid", "tier", "contact", "category", "reason"};
    const char *vals[] = {a->note,    a->department, a->grid,  a->tier,
                          a->contact, a->category,   a->reason};
    size_t count = 7 + (a->id != NULL) + (a->into > 0) + (a->satisfied >= 0) + (a->urgent >= 0) +
                   (a->groups != NULL) + (a->received_at > 0) + (a->deadline > 0);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        count += vals[i] != NULL;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, count);
    gf_pack_version (&pk, GF_TYPE_CASE_ACTION);
    if (a->id) {
        gf_pack_key (&pk, "id");
        gf_pack_cstr (&pk, a->id);
    }
    gf_pack_key (&pk, "at");
    msgpack_pack_int64 (&pk, a->at);
    gf_pack_key (&pk, "case");
    msgpack_pack_int64 (&pk, a->case_id);
    gf_pack_key (&pk, "action");
    gf_pack_cstr (&pk, a->action);
    gf_pack_key (&pk, "actor");
    gf_pack_cstr (&pk, a->actor);
    gf_pack_key (&pk, "version");
    msgpack_pack_int64 (&pk, a->version);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (vals[i]) {
            gf_pack_key (&pk, keys[i]);
            gf_pack_cstr (&pk, vals[i]);
        }
    if (a->into > 0) {
        gf_pack_key (&pk, "into");
        msgpack_pack_int64 (&pk, a->into);
    }
    if (a->satisfied >= 0) {
        gf_pack_key (&pk, "satisfied");
        a->satisfied ? msgpack_pack_true (&pk) : msgpack_pack_false (&pk);
    }
    if (a->urgent >= 0) {
        gf_pack_key (&pk, "urgent");
        a->urgent ? msgpack_pack_true (&pk) : msgpack_pack_false (&pk);
    }
    if (a->groups) {
        gf_pack_key (&pk, "groups");
        gf_pack_csv_array (&pk, a->groups);
    }
    if (a->received_at > 0) {
        gf_pack_key (&pk, "received_at");
        msgpack_pack_int64 (&pk, a->received_at);
    }
    if (a->deadline > 0) {
        gf_pack_key (&pk, "deadline");
        msgpack_pack_int64 (&pk, a->deadline);
    }
    return gf_pack_frame (&sbuf);
}

void gf_action_reset (gf_action_t *a)
{
    assert (a);
    free (a->id);
    free (a->action);
    free (a->actor);
    free (a->note);
    free (a->department);
    free (a->grid);
    free (a->tier);
    free (a->groups);
    free (a->contact);
    free (a->category);
    free (a->reason);
    memset (a, 0, sizeof *a);
}
