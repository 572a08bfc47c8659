/*  gf-gateway — see gf_gateway.h. */
#include "gf_gateway.h"
#include "gf_service.h"

int main (int argc, char **argv)
{
    return gf_service_main ("gf-gateway", gf_gateway_actor, argc, argv);
}
