/*  gen_vectors.c — writes the golden vectors: <name>.hex (lowercase hex of
    the encoded body, one line) and <name>.json (the same body as JSON).

    Built by hand, not by the Makefile (see proto/SPEC.md, "Golden
    vectors"):

        gcc -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iproto \
            $(pkg-config --cflags libczmq msgpack jansson) \
            proto/gf_*.c proto/vectors/gen_vectors.c -o /tmp/gen_vectors \
            $(pkg-config --libs libczmq msgpack jansson)
        /tmp/gen_vectors proto/vectors
*/
#include "gf_proto.h"
#include <jansson.h>
#include "gf_vectors.inc"

static int s_write (const char *dir, const char *name, const char *ext, const char *text)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/%s.%s", dir, name, ext);
    FILE *file = fopen (path, "w");
    if (!file) {
        fprintf (stderr, "gen_vectors: cannot write %s\n", path);
        return -1;
    }
    fputs (text, file);
    fputc ('\n', file);
    return fclose (file) == 0 ? 0 : -1;
}

int main (int argc, char *argv[])
{
    const char *dir = argc > 1 ? argv[1] : "proto/vectors";
    for (size_t i = 0; i < GF_VECTOR_COUNT; i++) {
        zframe_t *frame = gf_vectors[i].make ();
        gf_error_t err = {0};
        gf_msg_t *msg =
            frame ? gf_msg_decode (zframe_data (frame), zframe_size (frame), &err) : NULL;
        if (!msg) {
            fprintf (stderr, "gen_vectors: %s does not round-trip: %s\n", gf_vectors[i].name,
                     frame ? err.message : "encoder returned NULL");
            return 1;
        }
        char *hex = zframe_strhex (frame);
        for (char *c = hex; *c; c++)
            *c = (char)tolower ((unsigned char)*c);
        char *compact = gf_msg_to_json (msg);
        json_t *json = json_loads (compact, 0, NULL);
        char *pretty = json_dumps (json, JSON_INDENT (2));
        int rc = s_write (dir, gf_vectors[i].name, "hex", hex) ||
                 s_write (dir, gf_vectors[i].name, "json", pretty);
        free (pretty);
        json_decref (json);
        free (compact);
        free (hex);
        gf_msg_destroy (&msg);
        zframe_destroy (&frame);
        if (rc)
            return 1;
        printf ("%s\n", gf_vectors[i].name);
    }
    return 0;
}
