/*  gf_notifier — tells people about their cases (minimal version).

    Consumes case.routed (durably, see gf_consumer) and creates one
    notification per routed case for the L3 grid leader, from the Chinese
    template in notification_templates, stored in `notifications` and
    announced as notification.created on topic notify/<person id>.
    Idempotent: UNIQUE (case, kind, recipient) in the same transaction as
    the event.
*/
#ifndef GF_NOTIFIER_H_INCLUDED
#define GF_NOTIFIER_H_INCLUDED

#include <czmq.h>

void gf_notifier_actor (zsock_t *pipe, void *args);

#endif
