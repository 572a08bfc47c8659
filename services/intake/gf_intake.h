/*  gf_intake — the ROUTER endpoint for all external input.

    Validates each request (proto/), writes valid complaints in batched
    transactions — whatever arrived while the previous batch committed
    forms the next — and replies to each request only after its batch has
    committed.  Idempotent on (source, source_ref): a resubmission returns
    the original case id with duplicate=true and writes nothing.
*/
#ifndef GF_INTAKE_H_INCLUDED
#define GF_INTAKE_H_INCLUDED

#include <czmq.h>

/*  The actor: args is a gf_config_t * (borrowed). */
void gf_intake_actor (zsock_t *pipe, void *args);

#endif
