/*  gf_intake_action — applies one case.action in one transaction (or one
    savepoint of a group's transaction).

    Under a row lock on the case (taken without waiting, see below): idempotency by (actor, request
   id), optimistic version check (conflict carries the current state), gf_case_transition, checks
   that need the database (assign target is an L3 grid, merge target is open and in the same L1
   grid), then the update, the action record, the event, and for resolve the merged cases that
   follow.  Nothing is written unless everything passes.
*/
#ifndef GF_INTAKE_ACTION_H_INCLUDED
#define GF_INTAKE_ACTION_H_INCLUDED

#include "gf_db.h"
#include "gf_proto.h"

/*  Fills reply (ok or error; state/version when the case is known).
    Strings put in reply are the caller's to free (gf_reply_reset).
    identity: the sender's public key (Z85) on a CURVE endpoint, whose
    rights (table identities) are checked first — a staff identity, not
    revoked, acting as its own person if it is bound to one, on a case
    (and an assign target) inside its subtree — else forbidden; NULL on a
    plain endpoint (no identity checks).  deadline (zclock_mono ms): the
    row lock, the change and the COMMIT wait for the server until then
    (gf_intake_db.h); a missed one answers `unavailable`.  The case (or a
    merge's target) is locked without waiting (SKIP LOCKED): when another
    transaction holds it, returns true with nothing written and reply
    filled as `unavailable`, and the caller may try again later; else
    false.  grouped: the caller has begun a transaction for several
    actions (gf_intake.c, intake/action_group); this one then works in a
    savepoint of it, released when it applied (the caller commits and
    answers after the COMMIT) and rolled back to when it was refused or
    failed. */
bool gf_intake_action_apply (gf_db_t *db, const gf_action_t *action, const char *identity,
                             int64_t deadline, gf_reply_t *reply, bool grouped);

#endif
