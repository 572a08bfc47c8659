/*  gf_reply.c — the intake's answer to every request.

    ok:    {v, type: "reply", id, at, ok: true, case, duplicate}
    error: {v, type: "reply", id, at, ok: false, code, message}
    either may end with {state, version}: the case after the request, or as
    it is now when a request on it was refused.
    `id` is nil when the request was too broken to read one.
*/
#include "gf_internal.h"

zframe_t *gf_reply_encode (const gf_reply_t *r)
{
    assert (r);
    assert (r->ok || r->code != GF_OK);
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 7 + (r->state ? 2 : 0));
    gf_pack_version (&pk, GF_TYPE_REPLY);
    gf_pack_key (&pk, "id");
    gf_pack_cstr (&pk, r->id);
    gf_pack_key (&pk, "at");
    msgpack_pack_int64 (&pk, r->at);
    gf_pack_key (&pk, "ok");
    if (r->ok) {
        msgpack_pack_true (&pk);
        gf_pack_key (&pk, "case");
        msgpack_pack_int64 (&pk, r->case_id);
        gf_pack_key (&pk, "duplicate");
        if (r->duplicate)
            msgpack_pack_true (&pk);
        else
            msgpack_pack_false (&pk);
    } else {
        msgpack_pack_false (&pk);
        gf_pack_key (&pk, "code");
        gf_pack_cstr (&pk, gf_code_name (r->code));
        //  Cut to the limit, and at the first invalid byte: a reply must
        //  always decode, whatever text the caller passed.
        const char *message = r->message ? r->message : gf_code_name (r->code);
        size_t size = gf_utf8_prefix (message, strlen (message), GF_MAX_MESSAGE);
        gf_pack_key (&pk, "message");
        msgpack_pack_str (&pk, size);
        msgpack_pack_str_body (&pk, message, size);
    }
    if (r->state) {
        gf_pack_key (&pk, "state");
        gf_pack_cstr (&pk, r->state);
        gf_pack_key (&pk, "version");
        msgpack_pack_int64 (&pk, r->version);
    }
    return gf_pack_frame (&sbuf);
}

static int s_fill (gf_msg_t *msg, gf_reply_t *r, gf_error_t *err)
{
    if (!streq (gf_msg_type (msg), GF_TYPE_REPLY))
        return gf_error_set (err, GF_E_UNKNOWN_TYPE, "type '%s' is not %s", gf_msg_type (msg),
                             GF_TYPE_REPLY);
    if (gf_msg_get_bool (msg, "ok", true, &r->ok, err))
        return -1;
    if (gf_msg_id (msg)) {
        r->id = strdup (gf_msg_id (msg));
        if (!r->id)
            return gf_error_set (err, GF_E_INTERNAL, "out of memory");
    }
    r->at = gf_msg_at (msg);
    if (gf_msg_get_str (msg, "state", false, GF_MAX_CODE, &r->state, err) < 0 ||
        gf_msg_get_int (msg, "version", false, &r->version, err) < 0)
        return -1;
    if (r->ok) {
        r->code = GF_OK;
        if (gf_msg_get_int (msg, "case", true, &r->case_id, err) ||
            gf_msg_get_bool (msg, "duplicate", false, &r->duplicate, err) < 0)
            return -1;
        return 0;
    }
    char *code = NULL;
    if (gf_msg_get_str (msg, "code", true, GF_MAX_CODE, &code, err))
        return -1;
    //  Codes this side does not know yet read as "internal".
    r->code = gf_code_from_name (code);
    bool ok_code = streq (code, gf_code_name (GF_OK));
    free (code);
    if (ok_code)
        return gf_error_set (err, GF_E_BAD_VALUE, "field 'code' is 'ok' in a failed reply");
    if (gf_msg_get_str (msg, "message", false, GF_MAX_MESSAGE, &r->message, err) < 0)
        return -1;
    return 0;
}

int gf_reply_decode (const void *data, size_t size, gf_reply_t *r, gf_error_t *err)
{
    assert (r);
    gf_reply_t local = {0};
    gf_msg_t *msg = gf_msg_decode (data, size, err);
    int rc = msg ? s_fill (msg, &local, err) : -1;
    gf_msg_destroy (&msg);
    if (rc)
        gf_reply_reset (&local);
    *r = local;
    return rc;
}

void gf_reply_reset (gf_reply_t *r)
{
    assert (r);
    free (r->id);
    free (r->message);
    free (r->state);
    memset (r, 0, sizeof *r);
}
