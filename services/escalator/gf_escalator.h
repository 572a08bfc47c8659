/*  gf_escalator — the weekly and monthly rhythm, the safety net, and the
    urgent SLAs.

    Driven by the clock (gf_now() in PostgreSQL: the system clock, or the
    simulated one that `gridctl clock` moves) and the working calendar.
    Each tick it opens every meeting whose slot has come and that was not
    opened yet, with its agenda (so an escalator that was down opens each
    missed meeting once when it returns); then lapses every meeting still
    open close_within_hours after its slot (the safety net: the rule-based
    escalations of its undecided agenda cases, automatic); then escalates
    urgent cases that ran out of time, then sends sign-for reminders and
    tells leaders about referrals with no department reply in time.  Each
    meeting's opening and each lapse is one transaction (gf_open_meeting,
    gf_lapse_meeting in deploy/sql/repeatable/meetings.sql); unique keys on
    meetings, escalations and notifications and the meeting row's lock make
    every effect happen at most once, however many escalators run.  Only
    the holder of the "escalator" lease ticks (gf_lease): each of its effect
    transactions starts with the lease's fence, and the other instances
    stand by and take over when the lease lapses.
*/
#ifndef GF_ESCALATOR_H_INCLUDED
#define GF_ESCALATOR_H_INCLUDED

#include <czmq.h>

void gf_escalator_actor (zsock_t *pipe, void *args);

#endif
