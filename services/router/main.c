/*  gf-router — see gf_router.h. */
#include "gf_router.h"
#include "gf_service.h"

int main (int argc, char **argv)
{
    return gf_service_main ("gf-router", gf_router_actor, argc, argv);
}
