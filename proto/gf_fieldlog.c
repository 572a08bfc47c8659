/*  gf_fieldlog.c — patrol.logged, visit.logged, selfcheck.logged.

    {v, type, id, at, actor, done_at, grid?, household?, members?, places?,
     findings?, learned?, things_done?, follow_up?, follow_up_category?,
     follow_up_urgent?, items?, note?}
    The codec checks types, limits and the keys each type needs; the
    database checks the register, the rights and the rest (patrols.sql).
*/
#include "gf_internal.h"

#define GF_FIELD_MAX_ITEMS 50  /* items in a list                          */
#define GF_FIELD_MAX_LINE  500 /* characters in a list's item             */

bool gf_fieldlog_is_type (const char *type)
{
    return type && (streq (type, GF_TYPE_PATROL_LOGGED) || streq (type, GF_TYPE_VISIT_LOGGED) ||
                    streq (type, GF_TYPE_SELFCHECK_LOGGED));
}

static int s_fill (gf_msg_t *msg, gf_fieldlog_t *f, gf_error_t *err)
{
    const char *type = gf_msg_type (msg);
    if (!gf_fieldlog_is_type (type))
        return gf_error_set (err, GF_E_UNKNOWN_TYPE, "type '%s' is not a field log", type);
    bool patrol = streq (type, GF_TYPE_PATROL_LOGGED);
    bool visit = streq (type, GF_TYPE_VISIT_LOGGED);
    f->type = strdup (type);
    if (gf_msg_get_str (msg, "id", true, GF_MAX_REF, &f->id, err))
        return -1;
    if (*f->id == 0)
        return gf_error_set (err, GF_E_BAD_VALUE, "field 'id' is empty");
    f->at = gf_msg_at (msg);
    bool urgent = false;
    int has_urgent;
    if (gf_msg_get_str (msg, "actor", true, GF_MAX_REF, &f->actor, err) ||
        gf_msg_get_int (msg, "done_at", true, &f->done_at, err) ||
        gf_msg_get_str (msg, "grid", !visit, GF_MAX_CODE, &f->grid, err) < 0 ||
        gf_msg_get_str (msg, "household", visit, GF_MAX_REF, &f->household, err) < 0 ||
        gf_msg_get_strv (msg, "members", false, GF_FIELD_MAX_ITEMS, GF_MAX_REF, &f->members, err) <
            0 ||
        gf_msg_get_strv (msg, "places", false, GF_FIELD_MAX_ITEMS, GF_FIELD_MAX_LINE, &f->places,
                         err) < 0 ||
        gf_msg_get_strv (msg, "findings", false, GF_FIELD_MAX_ITEMS, GF_FIELD_MAX_LINE,
                         &f->findings, err) < 0 ||
        gf_msg_get_str (msg, "learned", false, GF_MAX_DESCRIPTION, &f->learned, err) < 0 ||
        gf_msg_get_strv (msg, "things_done", false, GF_FIELD_MAX_ITEMS, GF_FIELD_MAX_LINE,
                         &f->things_done, err) < 0 ||
        gf_msg_get_str (msg, "follow_up", false, GF_MAX_DESCRIPTION, &f->follow_up, err) < 0 ||
        gf_msg_get_str (msg, "follow_up_category", false, GF_MAX_CODE, &f->follow_up_category,
                        err) < 0 ||
        (has_urgent = gf_msg_get_bool (msg, "follow_up_urgent", false, &urgent, err)) < 0 ||
        gf_msg_get_strv (msg, "items", !patrol && !visit, GF_FIELD_MAX_ITEMS, GF_MAX_CODE + 8,
                         &f->items, err) < 0 ||
        gf_msg_get_str (msg, "note", false, GF_MAX_DESCRIPTION, &f->note, err) < 0)
        return -1;
    f->follow_up_urgent = has_urgent == 0 ? urgent : -1;
    if (f->done_at <= 0 || f->done_at > GF_MAX_TIME_MS)
        return gf_error_set (err, GF_E_BAD_VALUE, "field 'done_at' is out of range");
    if (!*f->actor || (f->grid && !*f->grid) || (f->household && !*f->household))
        return gf_error_set (err, GF_E_BAD_VALUE, "fields 'actor', 'grid', 'household' are empty");
    if (!visit && (f->household || f->learned || f->things_done || f->follow_up))
        return gf_error_set (err, GF_E_BAD_VALUE, "%s takes no visit keys", type);
    if (visit && (f->grid || f->members || f->places || f->findings || f->items))
        return gf_error_set (err, GF_E_BAD_VALUE, "visit.logged names its household, not a grid");
    if (!f->follow_up && (f->follow_up_category || f->follow_up_urgent >= 0))
        return gf_error_set (err, GF_E_MISSING_FIELD, "a follow-up needs 'follow_up'");
    return 0;
}

int gf_fieldlog_from_msg (gf_msg_t *msg, gf_fieldlog_t *f, gf_error_t *err)
{
    assert (msg && f);
    gf_fieldlog_t local = {.follow_up_urgent = -1};
    if (s_fill (msg, &local, err)) {
        gf_fieldlog_reset (&local);
        memset (f, 0, sizeof *f);
        f->follow_up_urgent = -1;
        return -1;
    }
    *f = local;
    return 0;
}

zframe_t *gf_fieldlog_encode (const gf_fieldlog_t *f)
{
    assert (f && gf_fieldlog_is_type (f->type) && f->actor);
    const char *keys[] = {"grid",      "household",          "learned",
                          "follow_up", "follow_up_category", "note"};
    const char *vals[] = {f->grid,      f->household,          f->learned,
                          f->follow_up, f->follow_up_category, f->note};
    const char *lkeys[] = {"members", "places", "findings", "things_done", "items"};
    const char *lvals[] = {f->members, f->places, f->findings, f->things_done, f->items};
    size_t count = 5 + (f->id != NULL) + (f->follow_up_urgent >= 0);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        count += vals[i] != NULL;
    for (size_t i = 0; i < sizeof lkeys / sizeof lkeys[0]; i++)
        count += lvals[i] != NULL;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, count);
    gf_pack_version (&pk, f->type);
    if (f->id) {
        gf_pack_key (&pk, "id");
        gf_pack_cstr (&pk, f->id);
    }
    gf_pack_key (&pk, "at");
    msgpack_pack_int64 (&pk, f->at);
    gf_pack_key (&pk, "actor");
    gf_pack_cstr (&pk, f->actor);
    gf_pack_key (&pk, "done_at");
    msgpack_pack_int64 (&pk, f->done_at);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (vals[i]) {
            gf_pack_key (&pk, keys[i]);
            gf_pack_cstr (&pk, vals[i]);
        }
    if (f->follow_up_urgent >= 0) {
        gf_pack_key (&pk, "follow_up_urgent");
        f->follow_up_urgent ? msgpack_pack_true (&pk) : msgpack_pack_false (&pk);
    }
    for (size_t i = 0; i < sizeof lkeys / sizeof lkeys[0]; i++)
        if (lvals[i]) {
            gf_pack_key (&pk, lkeys[i]);
            gf_pack_csv_array (&pk, lvals[i]);
        }
    return gf_pack_frame (&sbuf);
}

void gf_fieldlog_reset (gf_fieldlog_t *f)
{
    assert (f);
    free (f->type);
    free (f->id);
    free (f->actor);
    free (f->grid);
    free (f->household);
    free (f->members);
    free (f->places);
    free (f->findings);
    free (f->learned);
    free (f->things_done);
    free (f->follow_up);
    free (f->follow_up_category);
    free (f->items);
    free (f->note);
    memset (f, 0, sizeof *f);
    f->follow_up_urgent = -1;
}
