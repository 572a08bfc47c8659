/*  libFuzzer target: the hotline adapter's record parser
    (gf_hotline_parse: one JSON Lines record -> complaint).  The input is
    one line; gf_hotline_feed hands the parser lines without their line
    break, NUL-terminated, so the target does the same.  A complaint the
    parser accepts must also encode (the adapter sends it next). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gf_proto.h"
#include "gf_hotline.h"

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
    char *line = malloc (size + 1);
    memcpy (line, data, size);
    line[size] = 0;
    gf_complaint_t c;
    gf_error_t err = {GF_OK, ""};
    if (gf_hotline_parse (line, 1, &c, &err) == 0) {
        zframe_t *frame = gf_complaint_encode (&c);
        if (!frame)
            abort (); //  an accepted record the adapter could not send
        zframe_destroy (&frame);
        gf_complaint_reset (&c);
    } else if (err.code == GF_OK || !err.message[0])
        abort (); //  a rejection must say why
    free (line);
    return 0;
}
