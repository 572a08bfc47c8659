/*  libFuzzer target: the suggestion-box adapter's CSV reader and slip
    parser (gf_csv_*, gf_suggestbox_header, gf_suggestbox_parse), run the
    way gf_suggestbox_feed runs them: the first record is the header, every
    later record a slip.  The input is a whole CSV batch. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gf_proto.h"
#include "gf_suggestbox.h"

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
    gf_csv_t *csv = gf_csv_new (data, size);
    if (!csv)
        return 0;
    gf_suggestbox_header_t header;
    gf_error_t err = {GF_OK, ""};
    bool have_header = false;
    uint64_t line = 0;
    int rc;
    while ((rc = gf_csv_next (csv)) != 0) {
        if (gf_csv_line (csv) < line)
            abort (); //  line numbers only go forward
        line = gf_csv_line (csv);
        if (rc < 0) {
            if (!gf_csv_error (csv)[0])
                abort (); //  a malformed record must say why
            continue;
        }
        for (size_t i = 0; i < gf_csv_size (csv); i++)
            (void)strlen (gf_csv_field (csv, i));
        if (!have_header) {
            if (gf_suggestbox_header (csv, &header, &err) != 0)
                break;
            have_header = true;
            continue;
        }
        gf_complaint_t c;
        if (gf_suggestbox_parse (&header, csv, &c, &err) == 0) {
            zframe_t *frame = gf_complaint_encode (&c);
            if (!frame)
                abort ();
            zframe_destroy (&frame);
            gf_complaint_reset (&c);
        }
    }
    gf_csv_destroy (&csv);
    return 0;
}
