/*  gf-suggestbox FILE|- [--window N] [--timeout MS] [--attempts N] [--quiet]
    Imports a batch of transcribed suggestion-box slips (CSV) into the
    intake; see gf_suggestbox.h.
    Exit: 0 when every slip was stored or rejected with a reason, 1 when
    some slip failed (no answer), 2 on usage errors or an unusable input
    (unreadable, no header, bad header). */
#include "gf_config.h"
#include "gf_proto.h"
#include "gf_suggestbox.h"

int main (int argc, char **argv)
{
    const char *const extra[] = {"--window=", "--timeout=", "--attempts=", "--quiet", NULL};
    gf_config_t *config = gf_config_new (&argc, argv, extra);
    if (!config)
        return 2;
    gf_feeder_options_t options = {config->intake, 256, 5000, 20, false};
    const char *path = NULL;
    int rc = gf_feeder_options_parse (argc, argv, &options, &path);
    if (rc != 0 || !path) {
        if (!path && rc == 0)
            fprintf (stderr, "usage: gf-suggestbox FILE|- [--intake EP] [--window N] "
                             "[--timeout MS] [--attempts N] [--quiet]\n");
        gf_config_destroy (&config);
        return 2;
    }
    zsys_init ();
    zsys_set_logident ("gf-suggestbox");
    zsys_set_logstream (stderr);
    FILE *input = streq (path, "-") ? stdin : fopen (path, "r");
    if (!input) {
        fprintf (stderr, "error: cannot open %s: %s\n", path, strerror (errno));
        gf_config_destroy (&config);
        return 2;
    }
    gf_feeder_counts_t counts = {0};
    rc = gf_suggestbox_feed (input, path, &options, &counts);
    if (input != stdin)
        fclose (input);
    gf_config_destroy (&config);
    //  An unusable input sent nothing: there are no counts to report.
    if (rc == -2)
        return 2;
    printf ("accepted %" PRIu64 ", duplicate %" PRIu64 ", rejected %" PRIu64 ", failed %" PRIu64
            "\n",
            counts.accepted, counts.duplicate, counts.rejected, counts.failed);
    return rc == 0 ? 0 : 1;
}
