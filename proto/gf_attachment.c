/*  gf_attachment.c — attachment.add: evidence on a case (gf_proto.h).

    {v, type: "attachment.add", id, at, case, actor, filename, data (bin),
     public?, action?, note?}
    The codec checks presence, types and field limits; the size limit of the
    bytes is the intake's (intake/max_attachment), the content type is read
    from the bytes (gf_attachment_sniff).
*/
#include "gf_internal.h"

#define S_MAX_FILENAME 255

static int s_fill (gf_msg_t *msg, gf_attachment_t *a, gf_error_t *err)
{
    if (!streq (gf_msg_type (msg), GF_TYPE_ATTACHMENT_ADD))
        return gf_error_set (err, GF_E_UNKNOWN_TYPE, "type '%s' is not %s", gf_msg_type (msg),
                             GF_TYPE_ATTACHMENT_ADD);
    if (gf_msg_get_str (msg, "id", true, GF_MAX_REF, &a->id, err))
        return -1;
    if (*a->id == 0)
        return gf_error_set (err, GF_E_BAD_VALUE, "field 'id' is empty");
    a->at = gf_msg_at (msg);
    const void *data = NULL;
    if (gf_msg_get_int (msg, "case", true, &a->case_id, err) ||
        gf_msg_get_str (msg, "actor", true, GF_MAX_REF, &a->actor, err) ||
        gf_msg_get_str (msg, "filename", true, S_MAX_FILENAME, &a->filename, err) ||
        gf_msg_get_bin (msg, "data", true, &data, &a->size, err) ||
        gf_msg_get_bool (msg, "public", false, &a->public, err) < 0 ||
        gf_msg_get_str (msg, "action", false, GF_MAX_REF, &a->action, err) < 0 ||
        gf_msg_get_str (msg, "note", false, GF_MAX_DESCRIPTION, &a->note, err) < 0)
        return -1;
    if (a->case_id <= 0)
        return gf_error_set (err, GF_E_BAD_VALUE, "field 'case' must be positive");
    if (!*a->filename || strpbrk (a->filename, "/\\"))
        return gf_error_set (err, GF_E_BAD_VALUE, "field 'filename' is empty or has a path");
    if (a->size == 0)
        return gf_error_set (err, GF_E_BAD_VALUE, "field 'data' is empty");
    a->data = malloc (a->size);
    if (!a->data)
        return gf_error_set (err, GF_E_INTERNAL, "out of memory");
    memcpy (a->data, data, a->size);
    return 0;
}

int gf_attachment_from_msg (gf_msg_t *msg, gf_attachment_t *a, gf_error_t *err)
{
    assert (msg && a);
    gf_attachment_t local = {0};
    if (s_fill (msg, &local, err)) {
        gf_attachment_reset (&local);
        memset (a, 0, sizeof *a);
        return -1;
    }
    *a = local;
    return 0;
}

zframe_t *gf_attachment_encode (const gf_attachment_t *a)
{
    assert (a && a->actor && a->filename && a->data);
    size_t count = 8 + (a->id != NULL) + (a->action != NULL) + (a->note != NULL);
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, count);
    gf_pack_version (&pk, GF_TYPE_ATTACHMENT_ADD);
    if (a->id) {
        gf_pack_key (&pk, "id");
        gf_pack_cstr (&pk, a->id);
    }
    gf_pack_key (&pk, "at");
    msgpack_pack_int64 (&pk, a->at);
    gf_pack_key (&pk, "case");
    msgpack_pack_int64 (&pk, a->case_id);
    gf_pack_key (&pk, "actor");
    gf_pack_cstr (&pk, a->actor);
    gf_pack_key (&pk, "filename");
    gf_pack_cstr (&pk, a->filename);
    gf_pack_key (&pk, "public");
    a->public ? msgpack_pack_true (&pk) : msgpack_pack_false (&pk);
    if (a->action) {
        gf_pack_key (&pk, "action");
        gf_pack_cstr (&pk, a->action);
    }
    if (a->note) {
        gf_pack_key (&pk, "note");
        gf_pack_cstr (&pk, a->note);
    }
    gf_pack_key (&pk, "data");
    msgpack_pack_bin (&pk, a->size);
    msgpack_pack_bin_body (&pk, a->data, a->size);
    return gf_pack_frame (&sbuf);
}

void gf_attachment_reset (gf_attachment_t *a)
{
    assert (a);
    free (a->id);
    free (a->actor);
    free (a->filename);
    free (a->action);
    free (a->note);
    free (a->data);
    memset (a, 0, sizeof *a);
}

const char *gf_attachment_sniff (const void *data, size_t size)
{
    const unsigned char *p = (const unsigned char *)data;
    if (size >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
        return "image/jpeg";
    if (size >= 8 && memcmp (p, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "image/png";
    if (size >= 12 && memcmp (p, "RIFF", 4) == 0 && memcmp (p + 8, "WEBP", 4) == 0)
        return "image/webp";
    if (size >= 5 && memcmp (p, "%PDF-", 5) == 0)
        return "application/pdf";
    return NULL;
}
