/*  gf_intake_household — applies one household.register or
    household.group message in one transaction.

    gf_household_apply (deploy/sql/repeatable/households.sql) decides
    rights (the sender's identity: a staff identity acting as itself; the
    actor's and the identity's grid subtree hold the household's grid),
    idempotency by (actor, request id) and what the change needs, then
    writes the register, the change log and the household.changed event
    (id, change kind and version only).  Nothing is written unless
    everything passes; the reply is sent after the commit.
*/
#ifndef GF_INTAKE_HOUSEHOLD_H_INCLUDED
#define GF_INTAKE_HOUSEHOLD_H_INCLUDED

#include "gf_db.h"
#include "gf_proto.h"

/*  Fills reply (ok or error; state: the change (created, updated,
    group_added, group_ended); version: the household's).  Strings put in
    reply are the caller's to free (gf_reply_reset).  identity: the
    sender's public key (Z85) on a CURVE endpoint, NULL on a plain one.
    deadline (zclock_mono ms) as for gf_intake_action_apply. */
void gf_intake_household_apply (gf_db_t *db, const gf_household_msg_t *h, const char *identity,
                                int64_t deadline, gf_reply_t *reply);

#endif
