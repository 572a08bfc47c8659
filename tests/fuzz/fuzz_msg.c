/*  libFuzzer target: the wire decoder (proto/).  One input is one msgpack
    body as it arrives on a socket; it goes through everything a receiver
    runs on it: gf_msg_peek_id (the intake, for a body that failed),
    gf_msg_decode, the message decoders (complaint.submit, case.action,
    replay.request), gf_reply_decode (clients), the generic getters the
    relay stream and the gateway use on events and replay.end, the
    replay.batch reader (gf_stream), and gf_msg_to_json (SSE).  Seeds: the .hex files in
   proto/vectors (docs/fuzzing.md). */
#include <stddef.h>
#include <stdint.h>

#include "gf_proto.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

int LLVMFuzzerInitialize (int *argc, char ***argv)
{
    zsys_init ();
    zsys_set_logstream (NULL);
    return 0;
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    gf_error_t err = {GF_OK, ""};
    free (gf_msg_peek_id (data, size));

    //  The same bytes as a replay.batch frame: each event in it decoded.
    size_t pos = 0, tsize, bsize;
    const char *topic;
    const void *body;
    while (gf_replay_batch_next (data, size, &pos, &topic, &tsize, &body, &bsize) == 1) {
        gf_msg_t *event = gf_msg_decode (body, bsize, &err);
        gf_msg_destroy (&event);
    }

    gf_reply_t reply = {0};
    if (gf_reply_decode (data, size, &reply, &err) == 0)
        gf_reply_reset (&reply);

    gf_msg_t *msg = gf_msg_decode (data, size, &err);
    if (!msg)
        return 0;
    const char *type = gf_msg_type (msg);
    (void)gf_msg_id (msg);
    (void)gf_msg_at (msg);
    if (streq (type, GF_TYPE_COMPLAINT_SUBMIT)) {
        gf_complaint_t c;
        if (gf_complaint_from_msg (msg, &c, &err) == 0) {
            //  What the intake stores it would also send on: re-encode.
            zframe_t *frame = gf_complaint_encode (&c);
            zframe_destroy (&frame);
            gf_complaint_reset (&c);
        }
    } else if (streq (type, GF_TYPE_CASE_ACTION)) {
        gf_action_t a;
        if (gf_action_from_msg (msg, &a, &err) == 0) {
            zframe_t *frame = gf_action_encode (&a);
            zframe_destroy (&frame);
            gf_action_reset (&a);
        }
    } else if (streq (type, GF_TYPE_REPLAY_REQUEST)) {
        gf_replay_req_t r;
        if (gf_replay_req_from_msg (msg, &r, &err) == 0) {
            zframe_t *frame = gf_replay_req_encode (&r);
            zframe_destroy (&frame);
            gf_replay_req_reset (&r);
        }
    }
    //  Generic getters, as gf_stream and the gateway read events.
    uint64_t u;
    int64_t i;
    bool b;
    char *s = NULL;
    gf_msg_get_uint (msg, "seq", true, &u, &err);
    gf_msg_get_uint (msg, "last", false, &u, &err);
    gf_msg_get_uint (msg, "head", false, &u, &err);
    gf_msg_get_uint (msg, "count", false, &u, &err);
    gf_msg_get_int (msg, "case", false, &i, &err);
    gf_msg_get_bool (msg, "more", false, &b, &err);
    gf_msg_get_bool (msg, "ok", false, &b, &err);
    if (gf_msg_get_str (msg, "grid", false, 0, &s, &err) == 0)
        free (s);
    s = NULL;
    if (gf_msg_get_str (msg, "message", false, GF_MAX_MESSAGE, &s, &err) == 0)
        free (s);
    s = NULL;
    if (gf_msg_get_strv (msg, "groups", false, 8, 32, &s, &err) == 0)
        free (s);
    free (gf_msg_to_json (msg));
    gf_msg_destroy (&msg);
    return 0;
}
