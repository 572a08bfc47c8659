/*  gf-intake — see gf_intake.h. */
#include "gf_intake.h"
#include "gf_service.h"

int main (int argc, char **argv)
{
    return gf_service_main ("gf-intake", gf_intake_actor, argc, argv);
}
