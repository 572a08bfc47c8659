/*  gf_event.c — encodes an event from the log for the wire.

    The event log stores each payload as a JSON object; the relay adds the
    common keys in front: {v, type, id, at, seq, case, grid, ...payload}.
    `id` is the event id as a decimal string (ids are strings on the wire,
    SPEC.md).  Payload keys named like a common key are dropped: the
    common key is authoritative.
*/
#include "gf_internal.h"

static const char *s_common_keys[] = {"v", "type", "id", "at", "seq", "case", "grid"};

static bool s_is_common (const char *key)
{
    for (size_t i = 0; i < sizeof s_common_keys / sizeof s_common_keys[0]; i++)
        if (streq (key, s_common_keys[i]))
            return true;
    return false;
}

//  A string the decoder accepts anywhere: at most GF_MAX_STRING bytes of
//  strict UTF-8 (gf_msg_decode's length and UTF-8 passes).
static bool s_str_ok (const char *s, size_t len)
{
    return len <= GF_MAX_STRING && gf_utf8_count (s, len) >= 0;
}

//  Every key and string of a parsed payload within the decoder's limits.
//  jansson already refused duplicate keys and NULs; gf_pack_json bounds
//  the depth.
static bool s_json_ok (json_t *value)
{
    const char *key;
    json_t *member;
    size_t index;
    switch (json_typeof (value)) {
    case JSON_OBJECT:
        json_object_foreach (value, key, member)
        {
            if (!s_str_ok (key, strlen (key)) || !s_json_ok (member))
                return false;
        }
        return true;
    case JSON_ARRAY:
        json_array_foreach (value, index, member)
        {
            if (!s_json_ok (member))
                return false;
        }
        return true;
    case JSON_STRING:
        return s_str_ok (json_string_value (value), json_string_length (value));
    default:
        return true;
    }
}

int gf_event_pack (msgpack_sbuffer *sbuf, uint64_t seq, const char *type, int64_t event_id,
                   int64_t at, int64_t case_id, const char *grid, const char *payload_json)
{
    assert (sbuf && type);
    msgpack_sbuffer_clear (sbuf);
    //  What the decoder asks of the common keys: a type of 1..GF_MAX_CODE
    //  characters, strings within the limits.
    ssize_t type_chars = gf_utf8_count (type, strlen (type));
    if (type_chars < 1 || type_chars > GF_MAX_CODE || (grid && !s_str_ok (grid, strlen (grid))))
        return -1;
    json_t *payload = NULL;
    /* "{}" (the most common payload) adds nothing: no need to parse it. */
    if (payload_json && *payload_json && strcmp (payload_json, "{}") != 0) {
        json_error_t jerr;
        payload = json_loads (payload_json, JSON_REJECT_DUPLICATES, &jerr);
        if (!payload)
            return -1;
        if (!json_is_object (payload) || !s_json_ok (payload)) {
            json_decref (payload);
            return -1;
        }
    }
    size_t count = 7;
    const char *key;
    json_t *value;
    if (payload)
        json_object_foreach (payload, key, value)
        {
            if (!s_is_common (key))
                count++;
        }

    msgpack_packer pk;
    msgpack_packer_init (&pk, sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, count);
    gf_pack_version (&pk, type);
    char id[24];
    snprintf (id, sizeof id, "%" PRId64, event_id);
    gf_pack_key (&pk, "id");
    gf_pack_cstr (&pk, id);
    gf_pack_key (&pk, "at");
    msgpack_pack_int64 (&pk, at);
    gf_pack_key (&pk, "seq");
    msgpack_pack_uint64 (&pk, seq);
    gf_pack_key (&pk, "case");
    msgpack_pack_int64 (&pk, case_id);
    gf_pack_key (&pk, "grid");
    gf_pack_cstr (&pk, grid);
    int rc = 0;
    if (payload)
        json_object_foreach (payload, key, value)
        {
            if (s_is_common (key))
                continue;
            gf_pack_key (&pk, key);
            //  The top map is level 1, so payload values get the rest.
            if ((rc = gf_pack_json (&pk, value, GF_MAX_DEPTH - 1)) != 0)
                break;
        }
    json_decref (payload);
    //  The strings, the depth and the keys were checked above, so the body
    //  decodes unless it is too large (tests/unit/test_proto.c holds the
    //  encoder to the decoder at each limit).
    return rc == 0 && sbuf->size <= GF_MAX_BODY ? 0 : -1;
}

zframe_t *gf_event_encode (uint64_t seq, const char *type, int64_t event_id, int64_t at,
                           int64_t case_id, const char *grid, const char *payload_json)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    if (gf_event_pack (&sbuf, seq, type, event_id, at, case_id, grid, payload_json) == 0)
        return gf_pack_frame (&sbuf);
    msgpack_sbuffer_destroy (&sbuf);
    return NULL;
}
