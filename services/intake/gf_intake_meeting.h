/*  gf_intake_meeting — applies one meeting.action in one transaction.

    Under a row lock on the meeting (and on a decision's case):
    gf_meeting_check (deploy/sql/repeatable/meeting_records.sql) decides
    rights (the sender's identity, the actor: staff of the grid that holds
    the meeting), idempotency by (actor, request id), the meeting's state
    and what the action needs; for a decision that acts on its case
    (resolve, refer, supervise) the lifecycle (common/gf_case.c) decides the
    step, as for a staff action; gf_meeting_apply then writes it all.
    Nothing is written unless everything passes.
*/
#ifndef GF_INTAKE_MEETING_H_INCLUDED
#define GF_INTAKE_MEETING_H_INCLUDED

#include "gf_db.h"
#include "gf_proto.h"

/*  Fills reply (ok or error; case_id: a decision's case; state and
    version: the meeting's).  Strings put in reply are the caller's to free
    (gf_reply_reset).  identity: the sender's public key (Z85) on a CURVE
    endpoint, NULL on a plain one.  deadline (zclock_mono ms) as for
    gf_intake_action_apply. */
void gf_intake_meeting_apply (gf_db_t *db, const gf_meeting_action_t *action, const char *identity,
                              int64_t deadline, gf_reply_t *reply);

#endif
