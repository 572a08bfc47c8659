/*  gf_pack.c — msgpack encoding helpers shared by the message encoders.

    Encoders write keys in a fixed order (v, type, id, at, then the
    message's own keys, see SPEC.md) so that golden vectors are stable.
    The sbuffer only fails when memory runs out, which czmq treats as
    fatal anyway, so pack results are not checked one by one.
*/
#include "gf_internal.h"

void gf_pack_cstr (msgpack_packer *pk, const char *s)
{
    if (s) {
        size_t len = strlen (s);
        msgpack_pack_str (pk, len);
        msgpack_pack_str_body (pk, s, len);
    } else
        msgpack_pack_nil (pk);
}

void gf_pack_key (msgpack_packer *pk, const char *key)
{
    assert (key);
    gf_pack_cstr (pk, key);
}

void gf_pack_version (msgpack_packer *pk, const char *type)
{
    gf_pack_key (pk, "v");
    msgpack_pack_int (pk, GF_PROTO_VERSION);
    gf_pack_key (pk, "type");
    gf_pack_cstr (pk, type);
}

int gf_pack_json (msgpack_packer *pk, json_t *value, int max_depth)
{
    switch (json_typeof (value)) {
    case JSON_OBJECT: {
        if (max_depth < 1)
            return -1;
        msgpack_pack_map (pk, json_object_size (value));
        const char *key;
        json_t *member;
        json_object_foreach (value, key, member)
        {
            gf_pack_key (pk, key);
            if (gf_pack_json (pk, member, max_depth - 1))
                return -1;
        }
        return 0;
    }
    case JSON_ARRAY: {
        if (max_depth < 1)
            return -1;
        msgpack_pack_array (pk, json_array_size (value));
        size_t index;
        json_t *item;
        json_array_foreach (value, index, item)
        {
            if (gf_pack_json (pk, item, max_depth - 1))
                return -1;
        }
        return 0;
    }
    case JSON_STRING:
        msgpack_pack_str (pk, json_string_length (value));
        msgpack_pack_str_body (pk, json_string_value (value), json_string_length (value));
        return 0;
    case JSON_INTEGER:
        msgpack_pack_int64 (pk, (int64_t)json_integer_value (value));
        return 0;
    case JSON_REAL:
        msgpack_pack_double (pk, json_real_value (value));
        return 0;
    case JSON_TRUE:
        msgpack_pack_true (pk);
        return 0;
    case JSON_FALSE:
        msgpack_pack_false (pk);
        return 0;
    case JSON_NULL:
    default:
        msgpack_pack_nil (pk);
        return 0;
    }
}

zframe_t *gf_pack_frame (msgpack_sbuffer *sbuf)
{
    zframe_t *frame = zframe_new (sbuf->data, sbuf->size);
    msgpack_sbuffer_destroy (sbuf);
    return frame;
}

void gf_pack_csv_array (msgpack_packer *pk, const char *list)
{
    size_t count = 0;
    for (const char *p = list; *p; p++)
        count += *p == ',';
    count += *list != 0;
    msgpack_pack_array (pk, count);
    const char *start = list;
    while (*start) {
        const char *end = strchr (start, ',');
        size_t len = end ? (size_t)(end - start) : strlen (start);
        msgpack_pack_str (pk, len);
        msgpack_pack_str_body (pk, start, len);
        start += len + (end != NULL);
    }
}
