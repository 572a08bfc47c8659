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
    tells leaders about referrals with no department reply in time.  A
    root's meetings of one slot are opened in one call, and its meetings
    due to lapse at one time lapsed in one call (gf_open_meetings,
    gf_lapse_meetings in deploy/sql/repeatable/meetings.sql), each in a
    transaction of that root (escalator/lapse_group); unique keys on
    meetings, escalations and notifications and the meeting row's lock make
    every effect happen at most once, however many escalators run.

    The work is shared by L1 root (the level-1 grids of the directory, the
    cases' root): one lease per root, "escalator.root.<code>" (gf_lease,
    migration 048), shared fairly among the instances running (gf_share,
    as the notifier's partitions): each holds ceil (roots / instances
    alive), renews them, gives the surplus back when another instance
    joins and takes the roots of one that died (kill -9: at its next look)
    or froze (when the lease lapses, service/lease).  Each tick works on
    the roots held (the round functions' p_roots): the meetings due and the
    lapses of those roots, each in its own transaction fenced by its root's
    lease; the urgent escalations and the reminders in one transaction per
    statement, fenced by the lease of every root of the tick.  A holder
    paused past its lease that wakes up writes nothing (the fence or its
    next look tells it; it stands by for that root).  One instance holds
    every root and behaves as the single escalator did; a new L1 grid gets
    its lease within a second.  Metric gf_escalator_roots_held.
*/
#ifndef GF_ESCALATOR_H_INCLUDED
#define GF_ESCALATOR_H_INCLUDED

#include <czmq.h>

void gf_escalator_actor (zsock_t *pipe, void *args);

#endif
