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

zframe_t *gf_event_encode (uint64_t seq, const char *type, int64_t event_id, int64_t at,
                           int64_t case_id, const char *grid, const char *payload_json)
{
    assert (type);
    json_t *payload = NULL;
    /* "{}" (the most common payload) adds nothing: no need to parse it. */
    if (payload_json && *payload_json && strcmp (payload_json, "{}") != 0) {
        json_error_t jerr;
        payload = json_loads (payload_json, JSON_REJECT_DUPLICATES, &jerr);
        if (!payload)
            return NULL;
        if (!json_is_object (payload)) {
            json_decref (payload);
            return NULL;
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

    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
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
    zframe_t *frame = gf_pack_frame (&sbuf);

    //  Never publish what a subscriber would reject (size, string limits,
    //  UTF-8, depth): the caller logs the event id and skips or repairs it.
    gf_msg_t *check =
        rc == 0 ? gf_msg_decode (zframe_data (frame), zframe_size (frame), NULL) : NULL;
    if (!check)
        zframe_destroy (&frame);
    gf_msg_destroy (&check);
    return frame;
}
