/*  gf-escalator — see gf_escalator.h. */
#include "gf_escalator.h"
#include "gf_service.h"

int main (int argc, char **argv)
{
    return gf_service_main ("gf-escalator", gf_escalator_actor, argc, argv);
}
