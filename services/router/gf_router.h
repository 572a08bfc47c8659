/*  gf_router — assigns each received case to its L3 grid.

    Consumes case.received and case.returned (durably, see gf_consumer).  A case goes to the
    explicit grid code it came with when that is an L3 grid; else to the L3
    grid its address maps to in the address table (inside the explicit L1/L2
    subtree if one was given); anything else becomes case.unroutable and
    stays with its L1 grid for triage.  Idempotent: only a case still in
    state 'registered' is routed, in the same transaction as its event.
*/
#ifndef GF_ROUTER_H_INCLUDED
#define GF_ROUTER_H_INCLUDED

#include <czmq.h>

void gf_router_actor (zsock_t *pipe, void *args);

#endif
