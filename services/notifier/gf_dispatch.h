/*  gf_dispatch — sends the outbox's due SMS and e-mail deliveries.

    For each configured channel, in one transaction per batch: claim due
    deliveries (pending, next_at passed in real time, not_before passed in
    business time — quiet hours), skipping rows another dispatcher holds
    (SKIP LOCKED) and deferring those over the recipient's rate limit; send
    them through the channel's driver concurrently; record each outcome
    (sent; retry later with exponential back-off and jitter; dead letter
    after the policy's max_attempts or a permanent refusal); commit.  A crash
    anywhere before the commit leaves the batch pending: it is sent again
    with the same dedupe key (at least once; exactly once at a gateway that
    honours the key).  An unreachable far end pauses the channel (probing
    with back-off up to 30 s) without using up the messages' attempts.
    Wakes on NOTIFY gf_deliveries and at least every 200 ms.
*/
#ifndef GF_DISPATCH_H_INCLUDED
#define GF_DISPATCH_H_INCLUDED

#include <czmq.h>

/*  args: gf_part_args_t * (gf_notifier.h). */
void gf_dispatch_actor (zsock_t *pipe, void *args);

#endif
