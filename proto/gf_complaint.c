/*  gf_complaint.c — complaint.submit: from a decoded message, and encoding.

    Field rules (SPEC.md, "complaint.submit"): id, source, source_ref and
    description are required; description is 1..4000 characters and not
    only white space; source is one of a fixed set.  The decoder fills a
    local copy and hands it over only when every field passed, so a
    failure never leaves anything for the caller to free.
*/
#include "gf_internal.h"

static const char *s_sources[] = {"hotline", "suggestbox", "patrol", "visit",
                                  "web",     "app",        "open311"};

static bool s_source_known (const char *source)
{
    for (size_t i = 0; i < sizeof s_sources / sizeof s_sources[0]; i++)
        if (streq (source, s_sources[i]))
            return true;
    return false;
}

//  Gets a required string that must not be empty.
static int s_get_required (gf_msg_t *msg, const char *key, size_t max_chars, char **out,
                           gf_error_t *err)
{
    if (gf_msg_get_str (msg, key, true, max_chars, out, err))
        return -1;
    if (**out == 0)
        return gf_error_set (err, GF_E_BAD_VALUE, "field '%s' is empty", key);
    return 0;
}

static int s_fill (gf_msg_t *msg, gf_complaint_t *c, gf_error_t *err)
{
    if (!streq (gf_msg_type (msg), GF_TYPE_COMPLAINT_SUBMIT))
        return gf_error_set (err, GF_E_UNKNOWN_TYPE, "type '%s' is not %s", gf_msg_type (msg),
                             GF_TYPE_COMPLAINT_SUBMIT);
    if (s_get_required (msg, "id", GF_MAX_REF, &c->id, err))
        return -1;
    c->at = gf_msg_at (msg);
    if (s_get_required (msg, "source", GF_MAX_SOURCE, &c->source, err))
        return -1;
    if (!s_source_known (c->source))
        return gf_error_set (err, GF_E_BAD_VALUE,
                             "field 'source' is '%s', not one of "
                             "hotline|suggestbox|patrol|visit|web|app|open311",
                             c->source);
    if (s_get_required (msg, "source_ref", GF_MAX_REF, &c->source_ref, err))
        return -1;
    if (gf_msg_get_str (msg, "description", true, GF_MAX_DESCRIPTION, &c->description, err))
        return -1;
    if (gf_utf8_is_blank (c->description, strlen (c->description)))
        return gf_error_set (err, GF_E_BAD_VALUE, "field 'description' is empty");
    if (gf_msg_get_str (msg, "category", false, GF_MAX_CODE, &c->category, err) < 0 ||
        gf_msg_get_str (msg, "grid", false, GF_MAX_CODE, &c->grid, err) < 0 ||
        gf_msg_get_str (msg, "address", false, GF_MAX_ADDRESS, &c->address, err) < 0 ||
        gf_msg_get_str (msg, "name", false, GF_MAX_NAME, &c->name, err) < 0 ||
        gf_msg_get_str (msg, "phone", false, GF_MAX_PHONE, &c->phone, err) < 0 ||
        gf_msg_get_bool (msg, "urgent", false, &c->urgent, err) < 0 ||
        gf_msg_get_int (msg, "reported_at", false, &c->reported_at, err) < 0)
        return -1;
    if (c->reported_at < 0)
        return gf_error_set (err, GF_E_BAD_VALUE, "field 'reported_at' is negative (%" PRId64 ")",
                             c->reported_at);
    if (c->reported_at > GF_MAX_TIME_MS)
        return gf_error_set (err, GF_E_BAD_VALUE,
                             "field 'reported_at' is %" PRId64 ", after 9999-12-31 (limit %" PRId64
                             " ms)",
                             c->reported_at, GF_MAX_TIME_MS);
    if (gf_msg_get_str (msg, "reporter", false, GF_MAX_REF, &c->reporter, err) < 0 ||
        gf_msg_get_str (msg, "household", false, GF_MAX_REF, &c->household, err) < 0 ||
        gf_msg_get_strv (msg, "groups", false, 6, GF_MAX_CODE, &c->groups, err) < 0)
        return -1;
    if (c->groups && gf_groups_check (c->groups, err))
        return -1;
    //  A patrol finding or a visit is recorded by a staff member.
    if ((streq (c->source, "patrol") || streq (c->source, "visit")) && !c->reporter)
        return gf_error_set (err, GF_E_MISSING_FIELD,
                             "field 'reporter' is required for source '%s'", c->source);
    return 0;
}

int gf_groups_check (const char *groups, gf_error_t *err)
{
    const char *start = groups;
    while (start && *start) {
        const char *end = strchr (start, ',');
        size_t len = end ? (size_t)(end - start) : strlen (start);
        bool known = false;
        const char *k = GF_GROUPS;
        while (*k && !known) {
            const char *kend = strchr (k, ',');
            size_t klen = kend ? (size_t)(kend - k) : strlen (k);
            known = klen == len && strncmp (k, start, len) == 0;
            k += klen + (kend != NULL);
        }
        if (!known)
            return gf_error_set (err, GF_E_BAD_VALUE, "group '%.*s' is not one of %s", (int)len,
                                 start, GF_GROUPS);
        start += len + (end != NULL);
    }
    return 0;
}

int gf_complaint_from_msg (gf_msg_t *msg, gf_complaint_t *c, gf_error_t *err)
{
    assert (msg && c);
    gf_complaint_t local = {0};
    if (s_fill (msg, &local, err)) {
        gf_complaint_reset (&local);
        memset (c, 0, sizeof *c);
        return -1;
    }
    *c = local;
    return 0;
}

zframe_t *gf_complaint_encode (const gf_complaint_t *c)
{
    assert (c);
    //  Message keys in their wire order, after v, type, id, at.
    const char *keys[] = {"source",  "source_ref", "description", "category", "grid",
                          "address", "name",       "phone",       "reporter", "household"};
    const char *vals[] = {c->source,  c->source_ref, c->description, c->category, c->grid,
                          c->address, c->name,       c->phone,       c->reporter, c->household};
    size_t count = 4 + (c->id != NULL) + (c->reported_at != 0) + (c->groups != NULL);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        count += vals[i] != NULL;

    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, count);
    gf_pack_version (&pk, GF_TYPE_COMPLAINT_SUBMIT);
    if (c->id) {
        gf_pack_key (&pk, "id");
        gf_pack_cstr (&pk, c->id);
    }
    gf_pack_key (&pk, "at");
    msgpack_pack_int64 (&pk, c->at);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (vals[i]) {
            gf_pack_key (&pk, keys[i]);
            gf_pack_cstr (&pk, vals[i]);
        }
    gf_pack_key (&pk, "urgent");
    if (c->urgent)
        msgpack_pack_true (&pk);
    else
        msgpack_pack_false (&pk);
    if (c->reported_at != 0) {
        gf_pack_key (&pk, "reported_at");
        msgpack_pack_int64 (&pk, c->reported_at);
    }
    if (c->groups) {
        gf_pack_key (&pk, "groups");
        gf_pack_csv_array (&pk, c->groups);
    }
    return gf_pack_frame (&sbuf);
}

void gf_complaint_reset (gf_complaint_t *c)
{
    assert (c);
    free (c->id);
    free (c->source);
    free (c->source_ref);
    free (c->description);
    free (c->category);
    free (c->grid);
    free (c->address);
    free (c->name);
    free (c->phone);
    free (c->reporter);
    free (c->household);
    free (c->groups);
    memset (c, 0, sizeof *c);
}
