/*  gf_intake_programme — applies one programme.action in one transaction.

    gf_programme_apply (deploy/sql/repeatable/programmes.sql) decides
    rights (the sender's identity; the actor: staff whose grid holds the
    record's grid), idempotency by (actor, request id) and what the action
    needs, and writes the record, its event and its programme_actions row;
    a refusal writes nothing (the transaction is rolled back).
*/
#ifndef GF_INTAKE_PROGRAMME_H_INCLUDED
#define GF_INTAKE_PROGRAMME_H_INCLUDED

#include "gf_db.h"
#include "gf_proto.h"

/*  Fills reply (ok or error; state: the record made or changed, as
    'link:12').  Strings put in reply are the caller's to free
    (gf_reply_reset).  identity: the sender's public key (Z85) on a CURVE
    endpoint, NULL on a plain one.  deadline (zclock_mono ms) as for
    gf_intake_action_apply. */
void gf_intake_programme_apply (gf_db_t *db, const gf_programme_action_t *action,
                                const char *identity, int64_t deadline, gf_reply_t *reply);

#endif
