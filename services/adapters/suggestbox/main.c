/*  gf-suggestbox FILE|- [--window N] [--timeout MS] [--attempts N] [--backoff MS] [--quiet]
    Imports a batch of transcribed suggestion-box slips (CSV) into the
    intake; see gf_suggestbox.h.
    Exit: 0 when every slip was stored or rejected with a reason, 1 when
    some slip failed (no answer), 2 on usage errors or an unusable input
    (unreadable, no header, bad header). */
#include "gf_suggestbox.h"

int main (int argc, char **argv)
{
    return gf_feeder_main ("gf-suggestbox", gf_suggestbox_feed, argc, argv);
}
