/*  gf-relay — see gf_relay.h. */
#include "gf_relay.h"
#include "gf_service.h"

int main (int argc, char **argv)
{
    return gf_service_main ("gf-relay", gf_relay_actor, argc, argv);
}
