/*  gf_intake_attachment — stores one attachment.add in one transaction.

    Before the database: the size (too_large over intake/max_attachment) and
    the type read from the bytes (bad_value unless JPEG, PNG, WebP or PDF).
    Then the sender's identity (a staff identity, not revoked, acting as its
    own person if bound to one), the case in the actor's and the identity's
    subtree, not closed, idempotent by (actor, request id)
    (deploy/sql/repeatable/attachments.sql gf_attachment_add).  Nothing is
    written unless everything passes.
*/
#ifndef GF_INTAKE_ATTACHMENT_H_INCLUDED
#define GF_INTAKE_ATTACHMENT_H_INCLUDED

#include "gf_db.h"
#include "gf_proto.h"

/*  Fills reply (ok with the case and duplicate, or an error); max: the
    largest data accepted (bytes); identity and deadline as
    gf_intake_action_apply.  The case is share-locked without waiting:
    when another transaction holds it (a lapse escalating it, a case
    action), returns true with nothing written and reply `unavailable`,
    and the caller may try again later; else false. */
bool gf_intake_attachment_apply (gf_db_t *db, const gf_attachment_t *a, const char *identity,
                                 size_t max, int64_t deadline, gf_reply_t *reply);

#endif
