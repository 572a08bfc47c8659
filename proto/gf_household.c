/*  gf_household.c — household.register and household.group: staff change
    the household register (issue 15).

    {v, type: "household.register", id, at, actor, household, grid?,
     address?, head_name?, phone?, members? (JSON text), version?}
    {v, type: "household.group", id, at, actor, household, group, op,
     from?, to?, source?}
    The codec checks presence of the always-required keys, types and
    limits; what a change needs is checked by the database
    (households.sql), which answers missing_field itself.
*/
#include "gf_internal.h"

static int s_fill (gf_msg_t *msg, gf_household_msg_t *h, gf_error_t *err)
{
    const char *type = gf_msg_type (msg);
    if (!streq (type, GF_TYPE_HOUSEHOLD_REGISTER) && !streq (type, GF_TYPE_HOUSEHOLD_GROUP))
        return gf_error_set (err, GF_E_UNKNOWN_TYPE, "type '%s' is not a household message", type);
    h->type = strdup (type);
    if (gf_msg_get_str (msg, "id", true, GF_MAX_REF, &h->id, err))
        return -1;
    if (*h->id == 0)
        return gf_error_set (err, GF_E_BAD_VALUE, "field 'id' is empty");
    h->at = gf_msg_at (msg);
    if (gf_msg_get_str (msg, "actor", true, GF_MAX_REF, &h->actor, err) ||
        gf_msg_get_str (msg, "household", true, GF_MAX_CODE, &h->household, err) ||
        gf_msg_get_str (msg, "grid", false, GF_MAX_CODE, &h->grid, err) < 0 ||
        gf_msg_get_str (msg, "address", false, GF_MAX_ADDRESS, &h->address, err) < 0 ||
        gf_msg_get_str (msg, "head_name", false, GF_MAX_NAME, &h->head_name, err) < 0 ||
        gf_msg_get_str (msg, "phone", false, GF_MAX_PHONE, &h->phone, err) < 0 ||
        gf_msg_get_str (msg, "members", false, GF_MAX_DESCRIPTION, &h->members, err) < 0 ||
        gf_msg_get_int (msg, "version", false, &h->version, err) < 0 ||
        gf_msg_get_str (msg, "group", false, GF_MAX_CODE, &h->group, err) < 0 ||
        gf_msg_get_str (msg, "op", false, GF_MAX_CODE, &h->op, err) < 0 ||
        gf_msg_get_str (msg, "from", false, GF_MAX_CODE, &h->from, err) < 0 ||
        gf_msg_get_str (msg, "to", false, GF_MAX_CODE, &h->to, err) < 0 ||
        gf_msg_get_str (msg, "source", false, GF_MAX_CODE, &h->source, err) < 0)
        return -1;
    if (*h->household == 0)
        return gf_error_set (err, GF_E_BAD_VALUE, "field 'household' is empty");
    if (h->version < 0 || h->version > INT32_MAX)
        return gf_error_set (err, GF_E_BAD_VALUE, "field 'version' is out of range");
    return 0;
}

int gf_household_msg_from_msg (gf_msg_t *msg, gf_household_msg_t *h, gf_error_t *err)
{
    assert (msg && h);
    gf_household_msg_t local = {0};
    if (s_fill (msg, &local, err)) {
        gf_household_msg_reset (&local);
        memset (h, 0, sizeof *h);
        return -1;
    }
    *h = local;
    return 0;
}

zframe_t *gf_household_msg_encode (const gf_household_msg_t *h)
{
    assert (h && h->type && h->actor && h->household);
    const char *keys[] = {"grid",  "address", "head_name", "phone", "members",
                          "group", "op",      "from",      "to",    "source"};
    const char *vals[] = {h->grid,  h->address, h->head_name, h->phone, h->members,
                          h->group, h->op,      h->from,      h->to,    h->source};
    size_t count = 5 + (h->id != NULL) + (h->version > 0);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        count += vals[i] != NULL;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, count);
    gf_pack_version (&pk, h->type);
    if (h->id) {
        gf_pack_key (&pk, "id");
        gf_pack_cstr (&pk, h->id);
    }
    gf_pack_key (&pk, "at");
    msgpack_pack_int64 (&pk, h->at);
    gf_pack_key (&pk, "actor");
    gf_pack_cstr (&pk, h->actor);
    gf_pack_key (&pk, "household");
    gf_pack_cstr (&pk, h->household);
    if (h->version > 0) {
        gf_pack_key (&pk, "version");
        msgpack_pack_int64 (&pk, h->version);
    }
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (vals[i]) {
            gf_pack_key (&pk, keys[i]);
            gf_pack_cstr (&pk, vals[i]);
        }
    return gf_pack_frame (&sbuf);
}

void gf_household_msg_reset (gf_household_msg_t *h)
{
    assert (h);
    free (h->type);
    free (h->id);
    free (h->actor);
    free (h->household);
    free (h->grid);
    free (h->address);
    free (h->head_name);
    free (h->phone);
    free (h->members);
    free (h->group);
    free (h->op);
    free (h->from);
    free (h->to);
    free (h->source);
    memset (h, 0, sizeof *h);
}
