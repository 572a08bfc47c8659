/*  gf-hotline FILE|- [--window N] [--timeout MS] [--attempts N] [--backoff MS] [--quiet]
                [--acks FILE]
    Feeds hotline call records to the intake; see gf_hotline.h.
    Exit: 0 when every record was stored or rejected with a reason, 1 when
    some record failed, 2 on usage errors. */
#include "gf_hotline.h"

int main (int argc, char **argv)
{
    return gf_feeder_main ("gf-hotline", gf_hotline_feed, argc, argv);
}
