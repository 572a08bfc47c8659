/*  gf_intake_field — applies one field log (patrol.logged, visit.logged,
    selfcheck.logged) in one transaction.

    gf_field_log (deploy/sql/repeatable/patrols.sql) decides everything
    (the register, the sender's and the actor's rights, idempotency by
    the log's id, the clock-skew allowance) and writes the log, its event
    and a visit's follow-up complaint (with its case.received) together:
    both or neither.  Nothing is written unless everything passes.
*/
#ifndef GF_INTAKE_FIELD_H_INCLUDED
#define GF_INTAKE_FIELD_H_INCLUDED

#include "gf_db.h"
#include "gf_proto.h"

/*  Fills reply: ok (case_id: a visit's follow-up complaint, 0 none; state
    "logged"; version: the log's row id; duplicate for a resend) or the
    error.  identity: the sender's public key (Z85) on a CURVE endpoint,
    NULL on a plain one.  deadline (zclock_mono ms) as for
    gf_intake_action_apply. */
void gf_intake_field_apply (gf_db_t *db, const gf_fieldlog_t *log, const char *identity,
                            int64_t deadline, gf_reply_t *reply);

#endif
