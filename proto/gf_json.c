/*  gf_json.c — a JSON object text as a msgpack body, as is.

    For tools (gridctl submit reads JSON) and tests: keys keep their text
    order, nothing is added or checked, so the result may well be a body
    that gf_msg_decode rejects.
*/
#include "gf_internal.h"

zframe_t *gf_json_encode (const char *json_object)
{
    assert (json_object);
    json_error_t jerr;
    json_t *root = json_loads (json_object, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return NULL;
    zframe_t *frame = NULL;
    if (json_is_object (root)) {
        msgpack_sbuffer sbuf;
        msgpack_sbuffer_init (&sbuf);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
        //  No depth bound here: this encoder is for building test bodies
        //  too, including ones that must fail to decode.
        if (gf_pack_json (&pk, root, INT_MAX) == 0)
            frame = gf_pack_frame (&sbuf);
        else
            msgpack_sbuffer_destroy (&sbuf);
    }
    json_decref (root);
    return frame;
}
