/*  libFuzzer target: the event encoder's payload reader (proto/gf_event.c).
    One input is one payload's JSON text, as the relay reads it from the log
    (the text of a jsonb).  gf_event_pack reads a flat payload itself and
    leaves every other one to jansson; both must give the same bytes.  So
    every payload that encodes is encoded again with a nested value under
    the common key "v" added before its closing brace, which sends it to
    jansson and is then dropped, and the two bodies must be equal; every
    body the encoder returns must decode.  Seeds: tests/fuzz/seeds/event/. */
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

static zframe_t *s_encode (const char *payload)
{
    return gf_event_encode (7, "case.signed", 8, 9, 10, "QNL.01.002", payload);
}

static bool s_same (zframe_t *a, zframe_t *b)
{
    return zframe_size (a) == zframe_size (b) &&
           memcmp (zframe_data (a), zframe_data (b), zframe_size (a)) == 0;
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *json = (char *)malloc (size + 32);
    memcpy (json, data, size);
    json[size] = 0;
    zframe_t *flat = strlen (json) == size ? s_encode (json) : NULL;
    if (flat) {
        gf_msg_t *msg = gf_msg_decode (zframe_data (flat), zframe_size (flat), NULL);
        if (!msg)
            abort (); /* the encoder promises a body every reader accepts */
        gf_msg_destroy (&msg);
        //  Only a payload without escapes can take the flat path, and one
        //  with a key "v" already would have it twice.  A payload that
        //  adds nothing (no member, or only common keys) has no ", ".
        zframe_t *none = s_encode (NULL);
        char *close = strrchr (json, '}');
        if (close && !strchr (json, '\\') && !strstr (json, "\"v\"") && !s_same (flat, none)) {
            strcpy (close, ", \"v\": [0]}");
            zframe_t *tree = s_encode (json);
            if (!tree || !s_same (flat, tree))
                abort (); /* the flat reader and jansson disagree */
            zframe_destroy (&tree);
        }
        zframe_destroy (&none);
    }
    zframe_destroy (&flat);
    free (json);
    return 0;
}
