/*  gf-notifier — see gf_notifier.h. */
#include "gf_notifier.h"
#include "gf_service.h"

int main (int argc, char **argv)
{
    return gf_service_main ("gf-notifier", gf_notifier_actor, argc, argv);
}
