/*  gf_replay.c — the relay's control messages.

    replay.request  client -> relay ROUTER: {v, type, id, from, prefix, limit
                    [, to][, probe][, batch]}
    replay.batch    relay -> client, a page's events several to a message:
                    (str topic, bin event body)*
    replay.end      relay -> client after the page of events:
                    {v, type, id, ok: true, last, more[, count], head} or
                    {v, type, id, ok: false, code, message, head}
    relay.hb        on PUB, topic "relay.hb": {v, type, at, seq: head}
*/
#include "gf_internal.h"

#define S_MAX_PREFIX 256   //  characters in a topic prefix
#define S_MAX_LIMIT  10000 //  events in one replay page

zframe_t *gf_replay_req_encode (const gf_replay_req_t *r)
{
    assert (r);
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 6 + (r->to > 0) + (r->probe ? 1 : 0) + (r->batch ? 1 : 0));
    gf_pack_version (&pk, GF_TYPE_REPLAY_REQUEST);
    gf_pack_key (&pk, "id");
    gf_pack_cstr (&pk, r->id);
    gf_pack_key (&pk, "from");
    msgpack_pack_uint64 (&pk, r->from);
    gf_pack_key (&pk, "prefix");
    gf_pack_cstr (&pk, r->prefix ? r->prefix : "");
    gf_pack_key (&pk, "limit");
    msgpack_pack_uint64 (&pk, r->limit);
    if (r->to > 0) {
        gf_pack_key (&pk, "to");
        msgpack_pack_uint64 (&pk, r->to);
    }
    if (r->probe) {
        gf_pack_key (&pk, "probe");
        msgpack_pack_true (&pk);
    }
    if (r->batch) {
        gf_pack_key (&pk, "batch");
        msgpack_pack_true (&pk);
    }
    return gf_pack_frame (&sbuf);
}

static int s_fill (gf_msg_t *msg, gf_replay_req_t *r, gf_error_t *err)
{
    if (!streq (gf_msg_type (msg), GF_TYPE_REPLAY_REQUEST))
        return gf_error_set (err, GF_E_UNKNOWN_TYPE, "type '%s' is not %s", gf_msg_type (msg),
                             GF_TYPE_REPLAY_REQUEST);
    if (gf_msg_get_str (msg, "id", true, GF_MAX_REF, &r->id, err))
        return -1;
    if (*r->id == 0)
        return gf_error_set (err, GF_E_BAD_VALUE, "field 'id' is empty");
    if (gf_msg_get_uint (msg, "from", true, &r->from, err))
        return -1;
    int rc = gf_msg_get_str (msg, "prefix", false, S_MAX_PREFIX, &r->prefix, err);
    if (rc < 0)
        return -1;
    if (rc == 1 && (r->prefix = strdup ("")) == NULL)
        return gf_error_set (err, GF_E_INTERNAL, "out of memory");
    if (gf_msg_get_uint (msg, "limit", true, &r->limit, err))
        return -1;
    if (r->limit < 1 || r->limit > S_MAX_LIMIT)
        return gf_error_set (err, GF_E_BAD_VALUE, "field 'limit' is %" PRIu64 ", must be 1..%d",
                             r->limit, S_MAX_LIMIT);
    if (gf_msg_get_uint (msg, "to", false, &r->to, err) < 0)
        return -1;
    if (r->to > 0 && r->to < r->from)
        return gf_error_set (err, GF_E_BAD_VALUE,
                             "field 'to' is %" PRIu64 ", below 'from' %" PRIu64, r->to, r->from);
    if (gf_msg_get_bool (msg, "probe", false, &r->probe, err) < 0)
        return -1;
    if (gf_msg_get_bool (msg, "batch", false, &r->batch, err) < 0)
        return -1;
    return 0;
}

int gf_replay_req_from_msg (gf_msg_t *msg, gf_replay_req_t *r, gf_error_t *err)
{
    assert (msg && r);
    gf_replay_req_t local = {0};
    int rc = s_fill (msg, &local, err);
    if (rc)
        gf_replay_req_reset (&local);
    *r = local;
    return rc;
}

void gf_replay_batch_add (msgpack_sbuffer *batch, const char *topic, const void *body, size_t size)
{
    assert (batch && topic && body);
    msgpack_packer pk;
    msgpack_packer_init (&pk, batch, msgpack_sbuffer_write);
    gf_pack_cstr (&pk, topic);
    msgpack_pack_bin (&pk, size);
    msgpack_pack_bin_body (&pk, body, size);
}

//  The length of a str (marker 0xa0..0xbf, 0xd9, 0xda, 0xdb) or bin (0xc4,
//  0xc5, 0xc6) header at p: the header's bytes, or 0 when p holds neither
//  or is truncated.
static size_t s_batch_header (const unsigned char *p, size_t left, bool str, size_t *len)
{
    if (left < 1)
        return 0;
    unsigned char b = p[0];
    size_t width;
    if (str && b >= 0xa0 && b <= 0xbf) {
        *len = b & 0x1f;
        return 1;
    }
    if (b == (str ? 0xd9 : 0xc4))
        width = 1;
    else if (b == (str ? 0xda : 0xc5))
        width = 2;
    else if (b == (str ? 0xdb : 0xc6))
        width = 4;
    else
        return 0;
    if (left < 1 + width)
        return 0;
    size_t n = 0;
    for (size_t i = 1; i <= width; i++)
        n = (n << 8) | p[i];
    *len = n;
    return 1 + width;
}

int gf_replay_batch_next (const void *data, size_t size, size_t *pos, const char **topic,
                          size_t *topic_size, const void **body, size_t *body_size)
{
    assert ((data || size == 0) && pos && topic && topic_size && body && body_size);
    const unsigned char *p = (const unsigned char *)data;
    size_t at = *pos;
    if (at >= size)
        return 0;
    size_t tlen, blen;
    size_t h = s_batch_header (p + at, size - at, true, &tlen);
    if (h == 0 || tlen > size - at - h)
        return -1;
    *topic = (const char *)p + at + h;
    *topic_size = tlen;
    at += h + tlen;
    h = s_batch_header (p + at, size - at, false, &blen);
    if (h == 0 || blen > size - at - h)
        return -1;
    *body = p + at + h;
    *body_size = blen;
    *pos = at + h + blen;
    return 1;
}

void gf_replay_req_reset (gf_replay_req_t *r)
{
    assert (r);
    free (r->id);
    free (r->prefix);
    memset (r, 0, sizeof *r);
}

zframe_t *gf_replay_end_encode (const char *id, uint64_t last, bool more, uint64_t head,
                                gf_code_t code, const char *message)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 7);
    gf_pack_version (&pk, GF_TYPE_REPLAY_END);
    gf_pack_key (&pk, "id");
    gf_pack_cstr (&pk, id);
    gf_pack_key (&pk, "ok");
    if (code == GF_OK) {
        msgpack_pack_true (&pk);
        gf_pack_key (&pk, "last");
        msgpack_pack_uint64 (&pk, last);
        gf_pack_key (&pk, "more");
        if (more)
            msgpack_pack_true (&pk);
        else
            msgpack_pack_false (&pk);
    } else {
        msgpack_pack_false (&pk);
        gf_pack_key (&pk, "code");
        gf_pack_cstr (&pk, gf_code_name (code));
        const char *text = message ? message : gf_code_name (code);
        size_t size = gf_utf8_prefix (text, strlen (text), GF_MAX_MESSAGE);
        gf_pack_key (&pk, "message");
        msgpack_pack_str (&pk, size);
        msgpack_pack_str_body (&pk, text, size);
    }
    gf_pack_key (&pk, "head");
    msgpack_pack_uint64 (&pk, head);
    return gf_pack_frame (&sbuf);
}

zframe_t *gf_replay_end_encode_count (const char *id, uint64_t last, bool more, uint64_t count,
                                      uint64_t head)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 8);
    gf_pack_version (&pk, GF_TYPE_REPLAY_END);
    gf_pack_key (&pk, "id");
    gf_pack_cstr (&pk, id);
    gf_pack_key (&pk, "ok");
    msgpack_pack_true (&pk);
    gf_pack_key (&pk, "last");
    msgpack_pack_uint64 (&pk, last);
    gf_pack_key (&pk, "more");
    if (more)
        msgpack_pack_true (&pk);
    else
        msgpack_pack_false (&pk);
    gf_pack_key (&pk, "count");
    msgpack_pack_uint64 (&pk, count);
    gf_pack_key (&pk, "head");
    msgpack_pack_uint64 (&pk, head);
    return gf_pack_frame (&sbuf);
}

zframe_t *gf_relay_hb_encode (int64_t at, uint64_t head)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 4);
    gf_pack_version (&pk, GF_TYPE_RELAY_HB);
    gf_pack_key (&pk, "at");
    msgpack_pack_int64 (&pk, at);
    gf_pack_key (&pk, "seq");
    msgpack_pack_uint64 (&pk, head);
    return gf_pack_frame (&sbuf);
}
