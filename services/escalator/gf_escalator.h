/*  gf_escalator — the weekly and monthly rhythm, and the urgent SLAs.

    Driven by the clock (gf_now() in PostgreSQL: the system clock, or the
    simulated one that `gridctl clock` moves) and the working calendar.
    Each tick it holds every meeting whose slot has come and that was not
    held yet (so an escalator that was down holds each missed meeting once
    when it returns), then escalates urgent and special-group cases that
    ran out of time, then sends sign-for reminders and tells leaders about
    referrals with no department reply in time.  Each meeting is one
    transaction (gf_hold_meeting in deploy/sql/004_escalation.sql); unique
    keys on meetings, escalations and notifications make every effect
    happen at most once, however many escalators run.
*/
#ifndef GF_ESCALATOR_H_INCLUDED
#define GF_ESCALATOR_H_INCLUDED

#include <czmq.h>

void gf_escalator_actor (zsock_t *pipe, void *args);

#endif
