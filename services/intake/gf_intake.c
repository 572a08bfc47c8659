/*  gf_intake — the ROUTER endpoint for all external input. */
#include "gf_intake.h"
#include "gf_auth.h"
#include "gf_case.h"
#include "gf_clock.h"
#include "gf_config.h"
#include "gf_db.h"
#include "gf_metrics.h"
#include "gf_proto.h"
#include "gf_service.h"
#include "gf_intake_action.h"
#include "gf_intake_attachment.h"
#include "gf_intake_db.h"
#include "gf_intake_meeting.h"
#include "gf_intake_field.h"
#include "gf_intake_household.h"
#include "gf_intake_programme.h"

#include <jansson.h>

/*  Connections sending more than this are dropped by libzmq; bodies
    between GF_MAX_BODY and this get a too_large reply. */
#define MAX_WIRE_MESSAGE (1024 * 1024)

/*  How often a case.action whose case another transaction holds locked is
    tried again (until its intake/deadline). */
#define LOCK_RETRY_MS 20

/*  The time a try needs before the deadline: a request is set aside again
    only when its next try starts at least this long before its deadline.
    A try cut by the deadline was answered "storage did not answer in
    time" and counted as a late COMMIT (a false alarm on /healthz's
    signal); under load, or a sanitizer, a try took that long to start. */
#define LOCK_TRY_MS 250

/*  One complaint waiting for its batch to commit. */
typedef struct {
    zmsg_t *envelope; /* routing frames to reply to          */
    gf_complaint_t c; /* decoded request                     */
    int64_t case_id;  /* result                              */
    bool duplicate;   /* result                              */
    gf_code_t code;   /* result: GF_OK or a rejection        */
    char sqlstate[6]; /* result: the database's refusal, or "" */
    char *uid;        /* sender's public key (Z85), NULL if plain */
} s_item_t;

/*  A case.action or attachment.add set aside because its case was locked
    by another transaction (a lapse escalating it, another action): tried
    again every LOCK_RETRY_MS until its deadline, while the intake goes on
    with the other requests instead of waiting in the row lock with every
    complaint behind it.  Requests on one case keep their order: one
    arriving while an earlier one on its case waits here waits behind it. */
typedef struct {
    zmsg_t *msg;      /* envelope + body, as received      */
    uint64_t seq;     /* arrival order (kept when re-set aside) */
    int64_t case_id;  /* its case                           */
    int64_t deadline; /* zclock_mono ms: answered by then   */
    int64_t next_try; /* zclock_mono ms                     */
} s_parked_t;

typedef struct {
    gf_config_t *config;                   /* borrowed                            */
    gf_db_t *db;                           /* our connection                      */
    gf_auth_t *auth;                       /* CurveZMQ (zauth), or plain loopback */
    zsock_t *router;                       /* the endpoint                        */
    s_item_t *items;                       /* the batch being built (config->batch) */
    int count;                             /* items in the batch                  */
    uint64_t stored, duplicates, rejected; /* counters for the log */
    uint64_t actions;                      /* case actions applied  */
    gf_metric_t *m_received;               /* gf_intake_received_total   */
    gf_metric_t *m_stored;                 /* gf_intake_stored_total     */
    gf_metric_t *m_duplicates;             /* gf_intake_duplicates_total */
    gf_metric_t *m_actions;                /* gf_intake_actions_total    */
    gf_metric_t *m_batches;                /* gf_intake_batches_total    */
    gf_metric_t *m_groups;                 /* gf_intake_action_groups_total */
    gf_case_route_t route;                 /* the state machine's routing steps */
    zlistx_t *parked;                      /* s_parked_t, in arrival order (seq)  */
    uint64_t parked_seq;                   /* the last seq given                  */
    bool group_open;                       /* a group's transaction is open       */
    zlistx_t *held;                        /* s_held_t: the group's answers       */
} s_intake_t;

/*  A case action applied in the open group, answered after its COMMIT. */
typedef struct {
    zmsg_t *envelope;
    char *id, *what, *actor, *uid;
    gf_reply_t reply;
    int64_t until; /* its deadline (zclock_mono ms) */
} s_held_t;

/*  Counts a refused request under its error code. */
static void s_count_rejected (gf_code_t code)
{
    char labels[64];
    snprintf (labels, sizeof labels, "code=\"%s\"", gf_code_name (code));
    gf_metrics_inc ("gf_intake_rejected_total", labels, 1);
}

/*  The whole batch in one call (deploy/sql/repeatable/intake.sql): per input
    row i, its error code's name or its case (new, or the first one stored
    under its (source, source_ref)), whether it was a duplicate, and where
    it was routed.  $1 the batch, $2 the root; $3..$8 the route and
    unroutable steps of the transition table (gf_case_route_params), NULL
    when intake/route is off: with them each new case is routed as it is
    inserted. */
static const char *SQL_STORE = "SELECT i, err, case_id, duplicate, routed"
                               " FROM gf_intake_store ($1, $2, $3, $4, $5, $6, $7, $8)";

static void s_send_reply (s_intake_t *self, zmsg_t **envelope_p, gf_reply_t *reply)
{
    reply->at = gf_clock_now_ms ();
    zframe_t *body = gf_reply_encode (reply);
    zmsg_t *msg = *envelope_p;
    *envelope_p = NULL;
    zmsg_append (msg, &body);
    if (zmsg_send (&msg, self->router) != 0)
        zmsg_destroy (&msg);
}

static void s_reply (s_intake_t *self, zmsg_t **envelope_p, const char *id, gf_code_t code,
                     int64_t case_id, bool duplicate, const char *message)
{
    gf_reply_t reply = {.id = (char *)id,
                        .ok = code == GF_OK,
                        .case_id = case_id,
                        .duplicate = duplicate,
                        .code = code,
                        .message = (char *)message};
    s_send_reply (self, envelope_p, &reply);
}

static json_t *s_batch_json (s_intake_t *self, int from, int to)
{
    json_t *rows = json_array ();
    for (int i = from; i < to; i++) {
        gf_complaint_t *c = &self->items[i].c;
        json_t *row = json_pack (
            "{s:i, s:s, s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:b, s:s?, s:s?, s:s?, s:s?}",
            "i", i, "rid", c->id, "source", c->source, "source_ref", c->source_ref, "description",
            c->description, "category", c->category, "grid", c->grid, "address", c->address, "name",
            c->name, "phone", c->phone, "urgent", c->urgent, "reporter", c->reporter, "household",
            c->household, "groups", c->groups, "uid", self->items[i].uid);
        if (c->reported_at > 0)
            json_object_set_new (row, "reported_at", json_integer (c->reported_at));
        json_array_append_new (rows, row);
    }
    return rows;
}

/*  Stores items [from, to) in one transaction, waiting for the server
    until `deadline` (zclock_mono ms), and fills their results.  Returns 0,
    or -1: nothing stored (gf_db_code names the failure), or *late: the
    deadline passed (a COMMIT cut by it may have committed locally). */
static int s_store (s_intake_t *self, int from, int to, int64_t deadline, bool *late)
{
    json_t *rows = s_batch_json (self, from, to);
    char *rows_text = json_dumps (rows, JSON_COMPACT);
    json_decref (rows);
    const char *route[7] = {NULL};
    if (self->config->intake_route)
        gf_case_route_params (&self->route, "[]", route);
    const char *params[] = {rows_text, self->config->root, route[1], route[2],
                            route[3],  route[4],           route[5], route[6]};

    int rc = -1, fresh = 0;
    uint64_t routed = 0, unroutable = 0;
    PGresult *res = NULL;
    if (gf_db_begin (self->db) == 0 &&
        (res = gf_intake_db_exec (self->db, SQL_STORE, 8, params, deadline, late))) {
        rc = *late ? -1 : 0;
        for (int r = 0; r < PQntuples (res) && rc == 0; r++) {
            s_item_t *item = &self->items[gf_db_get_ll (res, r, "i")];
            const char *err = gf_db_get (res, r, "err");
            const char *went = gf_db_get (res, r, "routed");
            item->code = err ? gf_code_from_name (err) : GF_OK;
            item->case_id = gf_db_get_ll (res, r, "case_id");
            item->duplicate = streq (gf_db_get (res, r, "duplicate"), "t");
            if (item->code == GF_OK && item->case_id == 0)
                rc = -1; /* cannot happen: gf_intake_store raises instead */
            else if (item->code == GF_OK && !item->duplicate)
                fresh++;
            if (went && streq (went, "t"))
                routed++;
            else if (went)
                unroutable++;
        }
        PQclear (res);
        /* Nothing new stored: the duplicates' answers wait for what was
           found to be durable (gf_intake_db_commit_found). */
        if (rc == 0)
            rc = fresh > 0 ? gf_intake_db_commit (self->db, deadline, late)
                           : gf_intake_db_commit_found (self->db, deadline, late);
    }
    if (rc != 0)
        gf_db_rollback (self->db);
    else {
        gf_metrics_inc ("gf_intake_routed_total", NULL, routed);
        gf_metrics_inc ("gf_intake_unroutable_total", NULL, unroutable);
        if (fresh > 0) /* a COMMIT that had to wait for the WAL (and standbys) was in time */
            gf_intake_db_committed (true);
    }
    free (rows_text);
    return rc;
}

/*  Why a store failed: `unavailable` for the server's conditions and a
    missed deadline (resend), `bad_value` for a value the database refuses,
    `internal` for a bug (gf_code_from_sqlstate). */
static gf_code_t s_failure (s_intake_t *self, bool late)
{
    return late ? GF_E_UNAVAILABLE : gf_db_code (self->db);
}

static void s_flush (s_intake_t *self)
{
    if (self->count == 0)
        return;
    gf_code_t failure = GF_OK;
    gf_metric_add (self->m_batches, 1);
    /* Every request of the batch is answered by then (intake/deadline). */
    int64_t deadline = zclock_mono () + self->config->deadline_ms;
    bool late = false;
    if (s_store (self, 0, self->count, deadline, &late) != 0) {
        if (s_failure (self, late) == GF_E_UNAVAILABLE)
            failure = GF_E_UNAVAILABLE; /* the server's condition, not a request's */
        else {
            /* A request the database refuses, or a bug: isolate the
               request that causes it so the others still get stored. */
            zsys_warning ("intake: batch of %d failed (%s); storing one by one", self->count,
                          gf_db_sqlstate (self->db));
            for (int i = 0; i < self->count; i++) {
                s_item_t *item = &self->items[i];
                if (failure == GF_OK && zclock_mono () >= deadline)
                    failure = GF_E_UNAVAILABLE; /* out of time: the rest are resent */
                if (failure != GF_OK)
                    item->code = failure;
                else if (s_store (self, i, i + 1, deadline, &late) != 0) {
                    item->code = s_failure (self, late);
                    snprintf (item->sqlstate, sizeof item->sqlstate, "%s",
                              gf_db_sqlstate (self->db));
                    if (item->code == GF_E_UNAVAILABLE)
                        failure = GF_E_UNAVAILABLE;
                }
            }
            failure = GF_OK; /* each item has its own code */
        }
    }
    for (int i = 0; i < self->count; i++) {
        s_item_t *item = &self->items[i];
        gf_code_t code = failure != GF_OK ? failure : item->code;
        char message[128] = "";
        if (code == GF_OK) {
            item->duplicate ? self->duplicates++ : self->stored++;
            gf_metric_add (item->duplicate ? self->m_duplicates : self->m_stored, 1);
        } else {
            self->rejected++;
            s_count_rejected (code);
            if (code == GF_E_BAD_VALUE || code == GF_E_INTERNAL)
                zsys_warning ("intake: request %s refused by the database (SQLSTATE %s): %s",
                              item->c.id, item->sqlstate, gf_code_name (code));
            snprintf (message, sizeof message, "%s",
                      code == GF_E_UNAVAILABLE ? "storage unavailable, retry later"
                      : code == GF_E_BAD_VALUE ? "a value was refused by the database"
                      : code == GF_E_FORBIDDEN
                          ? "this client's identity may not submit for this source or grid"
                      : code == GF_E_UNKNOWN_GRID     ? "grid code is not in the directory"
                      : code == GF_E_UNKNOWN_CATEGORY ? "category is not in the directory"
                                                      : "internal error, logged");
            zsys_info ("intake: request %s (%s/%s) from %.8s rejected: %s", item->c.id,
                       item->c.source, item->c.source_ref, item->uid ? item->uid : "(plain)",
                       gf_code_name (code));
        }
        s_reply (self, &item->envelope, item->c.id, code, item->case_id, item->duplicate,
                 code == GF_OK ? NULL : message);
        gf_complaint_reset (&item->c);
        zstr_free (&item->uid);
    }
    self->count = 0;
}

/*  The answer to a request of type `type`, reply.id from id: one log line
    naming what and who, the counters, the reply sent.  envelope_p:
    consumed. */
static void s_answer_as (s_intake_t *self, zmsg_t **envelope_p, const char *type, const char *id,
                         const char *what, const char *actor, const char *uid, gf_reply_t *reply)
{
    reply->id = id ? strdup (id) : NULL;
    zsys_info ("intake: %s %s by %s from %.8s: %s%s%s", type, what ? what : "?",
               actor ? actor : "?", uid ? uid : "(plain)",
               reply->ok ? "ok" : gf_code_name (reply->code), reply->ok ? "" : ": ",
               reply->ok ? "" : reply->message);
    reply->ok ? self->actions++ : self->rejected++;
    if (reply->ok)
        gf_metric_add (self->m_actions, 1);
    else
        s_count_rejected (reply->code);
    s_send_reply (self, envelope_p, reply);
    gf_reply_reset (reply);
}

/*  The answer to a request applied on its own (an action, a meeting
    record, a log, a register change, an attachment), as s_answer_as:
    reply.id from id, else the envelope's.  err: the decoder's error when
    the request was not applied (reply still empty). */
static void s_answer (s_intake_t *self, zmsg_t **envelope_p, gf_msg_t *request, const char *id,
                      const char *what, const char *actor, const char *uid, gf_reply_t *reply,
                      const gf_error_t *err)
{
    if (err) {
        reply->code = err->code;
        reply->message = strdup (err->message);
    }
    s_answer_as (self, envelope_p, gf_msg_type (request), id ? id : gf_msg_id (request), what,
                 actor, uid, reply);
}

/*  Whether the group's transaction is still open and in no error. */
static bool s_group_intact (s_intake_t *self)
{
    PGconn *conn = gf_db_conn (self->db);
    return conn && PQtransactionStatus (conn) == PQTRANS_INTRANS;
}

/*  Case actions are applied in groups (intake/action_group): the actions
    taken up one after the other share one transaction, each in its own
    savepoint, and are answered after its one COMMIT; a complaint batch, a
    request of another type, the group's size or the end of a round ends
    the group.  One COMMIT (and one numbering of the log) for the group
    instead of one per action.  Opens the group's transaction when none is
    open; false when groups are off or the BEGIN failed (the action then
    runs alone). */
static bool s_group_open (s_intake_t *self)
{
    if (self->config->action_group <= 1)
        return false;
    if (!self->group_open && gf_db_begin (self->db) == 0)
        self->group_open = true;
    return self->group_open;
}

/*  Ends the open group: its COMMIT (commit true and the transaction
    intact), then every held answer; when the COMMIT fails or is late, or
    the transaction was lost, every action of the group is answered
    `unavailable` (nothing of it was stored, or a COMMIT cut by the
    deadline may have been: a resend finds it by its request id). */
static void s_group_end (s_intake_t *self, bool commit)
{
    if (!self->group_open)
        return;
    self->group_open = false;
    int64_t until = INT64_MAX;
    for (s_held_t *h = (s_held_t *)zlistx_first (self->held); h;
         h = (s_held_t *)zlistx_next (self->held))
        if (h->until < until)
            until = h->until;
    bool late = false;
    bool ok = commit && s_group_intact (self) &&
              (zlistx_size (self->held) == 0 ? gf_db_run (self->db, "COMMIT", 0, NULL) == 0
                                             : gf_intake_db_commit (self->db, until, &late) == 0);
    if (ok && zlistx_size (self->held)) {
        gf_intake_db_committed (true);
        gf_metric_add (self->m_groups, 1);
    }
    if (!ok)
        gf_db_rollback (self->db);
    s_held_t *h;
    while ((h = (s_held_t *)zlistx_detach (self->held, NULL))) {
        if (!ok) {
            /* What the action saw inside the group is not the case's
               state any more: the answer names none. */
            gf_intake_db_refuse (&h->reply, GF_E_UNAVAILABLE,
                                 late ? "storage did not answer in time, retry later"
                                      : "storage unavailable, retry later");
            zstr_free (&h->reply.state);
            h->reply.version = 0;
            h->reply.duplicate = false;
        }
        s_answer_as (self, &h->envelope, GF_TYPE_CASE_ACTION, h->id, h->what, h->actor, h->uid,
                     &h->reply);
        zmsg_destroy (&h->envelope);
        free (h->id);
        free (h->what);
        free (h->actor);
        free (h->uid);
        free (h);
    }
}

/*  Keeps an action's answer until its group commits (takes the envelope
    and the reply's strings); ends the group when it is full or its
    transaction was lost. */
static void s_group_hold (s_intake_t *self, zmsg_t **envelope_p, const gf_action_t *action,
                          const char *what, const char *uid, gf_reply_t *reply, int64_t until)
{
    s_held_t *h = (s_held_t *)zmalloc (sizeof *h);
    h->envelope = *envelope_p;
    *envelope_p = NULL;
    h->id = action->id ? strdup (action->id) : NULL;
    h->what = strdup (what);
    h->actor = action->actor ? strdup (action->actor) : NULL;
    h->uid = uid ? strdup (uid) : NULL;
    h->reply = *reply;
    memset (reply, 0, sizeof *reply);
    h->until = until;
    zlistx_add_end (self->held, h);
    if (!s_group_intact (self))
        s_group_end (self, false);
    else if ((int)zlistx_size (self->held) >= self->config->action_group)
        s_group_end (self, true);
}

/*  A meeting.action (issue 14), as a case action is. */
static void s_accept_meeting (s_intake_t *self, gf_msg_t *request, zmsg_t **envelope_p,
                              const char *uid)
{
    gf_meeting_action_t action = {0};
    gf_error_t err = {GF_OK, ""};
    gf_reply_t reply = {0};
    bool ok = gf_meeting_action_from_msg (request, &action, &err) == 0;
    if (ok)
        gf_intake_meeting_apply (self->db, &action, uid, zclock_mono () + self->config->deadline_ms,
                                 &reply);
    char *what =
        zsys_sprintf ("%" PRId64 " %s", action.meeting, action.action ? action.action : "?");
    s_answer (self, envelope_p, request, action.id, what, action.actor, uid, &reply,
              ok ? NULL : &err);
    zstr_free (&what);
    gf_meeting_action_reset (&action);
}

/*  A field log (issue 15: patrol, visit, self-check). */
static void s_accept_field (s_intake_t *self, gf_msg_t *request, zmsg_t **envelope_p,
                            const char *uid)
{
    gf_fieldlog_t log = {.follow_up_urgent = -1};
    gf_error_t err = {GF_OK, ""};
    gf_reply_t reply = {0};
    bool ok = gf_fieldlog_from_msg (request, &log, &err) == 0;
    if (ok)
        gf_intake_field_apply (self->db, &log, uid, zclock_mono () + self->config->deadline_ms,
                               &reply);
    s_answer (self, envelope_p, request, log.id, log.id, log.actor, uid, &reply, ok ? NULL : &err);
    gf_fieldlog_reset (&log);
}

/*  A household.register or household.group (issue 15); the log names the
    household by its opaque id only. */
static void s_accept_household (s_intake_t *self, gf_msg_t *request, zmsg_t **envelope_p,
                                const char *uid)
{
    gf_household_msg_t h = {0};
    gf_error_t err = {GF_OK, ""};
    gf_reply_t reply = {0};
    bool ok = gf_household_msg_from_msg (request, &h, &err) == 0;
    if (ok)
        gf_intake_household_apply (self->db, &h, uid, zclock_mono () + self->config->deadline_ms,
                                   &reply);
    s_answer (self, envelope_p, request, h.id, h.household, h.actor, uid, &reply, ok ? NULL : &err);
    gf_household_msg_reset (&h);
}

/*  A programme.action (issue 15). */
static void s_accept_programme (s_intake_t *self, gf_msg_t *request, zmsg_t **envelope_p,
                                const char *uid)
{
    gf_programme_action_t action = {.score = -1};
    gf_error_t err = {GF_OK, ""};
    gf_reply_t reply = {0};
    bool ok = gf_programme_action_from_msg (request, &action, &err) == 0;
    if (ok)
        gf_intake_programme_apply (self->db, &action, uid,
                                   zclock_mono () + self->config->deadline_ms, &reply);
    s_answer (self, envelope_p, request, action.id, action.action, action.actor, uid, &reply,
              ok ? NULL : &err);
    gf_programme_action_reset (&action);
}

/*  Whether a request on case_id waits in self->parked. */
static bool s_case_parked (s_intake_t *self, int64_t case_id)
{
    for (s_parked_t *p = (s_parked_t *)zlistx_first (self->parked); p;
         p = (s_parked_t *)zlistx_next (self->parked))
        if (p->case_id == case_id)
            return true;
    return false;
}

/*  Sets a request aside (envelope + body: consumed) until next_try, in
    its place by seq (0: a new one, last). */
static void s_park (s_intake_t *self, zmsg_t **envelope_p, zframe_t **body_p, uint64_t seq,
                    int64_t case_id, int64_t deadline, int64_t next_try)
{
    s_parked_t *p = (s_parked_t *)zmalloc (sizeof (s_parked_t));
    p->msg = *envelope_p;
    *envelope_p = NULL;
    zmsg_append (p->msg, body_p);
    p->seq = seq ? seq : ++self->parked_seq;
    p->case_id = case_id;
    p->deadline = deadline;
    p->next_try = next_try;
    zlistx_insert (self->parked, p, seq != 0);
}

/*  A request on case_id that must wait is set aside (envelope and body
    consumed): when an earlier request on its case waits (behind), or its
    case was held by another transaction (busy) and there is time left
    before `until`.  Returns whether it was.  type and id name the request
    in the log when it starts to wait (first). */
static bool s_wait_for_case (s_intake_t *self, zmsg_t **envelope_p, zframe_t **body_p, uint64_t seq,
                             int64_t case_id, int64_t until, bool behind, bool busy, bool first,
                             const char *type, const char *id)
{
    int64_t now = zclock_mono ();
    if (!behind && !(busy && now + LOCK_RETRY_MS + LOCK_TRY_MS <= until))
        return false;
    if (first)
        zsys_info ("intake: %s %s on case %" PRId64 " waits: %s", type, id ? id : "", case_id,
                   behind ? "an earlier request on it waits"
                          : "another transaction holds the case");
    s_park (self, envelope_p, body_p, seq, case_id, until, behind ? now : now + LOCK_RETRY_MS);
    return true;
}

/*  An attachment.add (issue 14): evidence on a case, within its own size
    limit (intake/max_attachment), in its own transaction; set aside as a
    case.action is when its case is held elsewhere (deadline and seq as
    s_accept's). */
static void s_accept_attachment (s_intake_t *self, gf_msg_t *request, zmsg_t **envelope_p,
                                 zframe_t **body_p, const char *uid, int64_t deadline, uint64_t seq)
{
    gf_attachment_t att = {0};
    gf_error_t err = {GF_OK, ""};
    gf_reply_t reply = {0};
    bool ok = gf_attachment_from_msg (request, &att, &err) == 0;
    int64_t until = deadline ? deadline : zclock_mono () + self->config->deadline_ms;
    bool behind = ok && !deadline && s_case_parked (self, att.case_id);
    bool busy = ok && !behind &&
                gf_intake_attachment_apply (self->db, &att, uid,
                                            (size_t)self->config->max_attachment, until, &reply);
    if (ok && s_wait_for_case (self, envelope_p, body_p, seq, att.case_id, until, behind, busy,
                               !deadline, GF_TYPE_ATTACHMENT_ADD, att.id))
        gf_reply_reset (&reply);
    else {
        char *what = zsys_sprintf ("on case %" PRId64 " (%zu bytes)", att.case_id, att.size);
        s_answer (self, envelope_p, request, NULL, what, att.actor, uid, &reply, ok ? NULL : &err);
        zstr_free (&what);
    }
    gf_attachment_reset (&att);
}

static int s_parked_compare (const void *a, const void *b)
{
    uint64_t x = ((const s_parked_t *)a)->seq, y = ((const s_parked_t *)b)->seq;
    return x < y ? -1 : x > y;
}

static void s_parked_destroy (void **item)
{
    s_parked_t *p = (s_parked_t *)*item;
    if (p) {
        zmsg_destroy (&p->msg);
        free (p);
        *item = NULL;
    }
}

/*  Decodes one request; a valid complaint joins the batch, anything else
    is answered at once (a case.action whose case is locked elsewhere may
    be set aside, see s_parked_t).  Takes ownership of msg (routing frames
    + body).  deadline and seq: a set-aside action's (zclock_mono ms, its
    place), 0 for a new request. */
static void s_accept (s_intake_t *self, zmsg_t *msg, int64_t deadline, uint64_t seq)
{
    if (!deadline)
        gf_metric_add (self->m_received, 1);
    zframe_t *body = zmsg_last (msg);
    if (!body || zmsg_size (msg) < 2) { /* no routing id: not from a ROUTER peer */
        zmsg_destroy (&msg);
        return;
    }
    zmsg_remove (msg, body); /* msg is now the envelope */
    /* Who sent it: the public key zauth accepted (CURVE), else nobody. */
    const char *uid = gf_auth_user_id (body);
    if (gf_auth_curve (self->auth) && !uid) {
        /* Cannot happen with ZAP enforced; refuse rather than trust. */
        self->rejected++;
        zsys_warning ("intake: request without an authenticated key refused");
        s_reply (self, &msg, NULL, GF_E_FORBIDDEN, 0, false, "no authenticated client key");
        zframe_destroy (&body);
        return;
    }
    gf_error_t err = {GF_OK, ""};
    gf_msg_t *request = gf_msg_decode (zframe_data (body), zframe_size (body), &err);
    /* An attachment has its own limit (intake/max_attachment), every other
       type GF_MAX_BODY: decoded again with the larger one only when the
       body says it is an attachment.add. */
    if (!request && (err.code == GF_E_TOO_LARGE || err.code == GF_E_TOO_LONG) &&
        self->config->max_attachment > 0) {
        char *type = gf_msg_peek_type (zframe_data (body), zframe_size (body));
        if (type && streq (type, GF_TYPE_ATTACHMENT_ADD))
            request =
                gf_msg_decode_limits (zframe_data (body), zframe_size (body),
                                      (size_t)self->config->max_attachment + GF_MAX_BODY,
                                      (size_t)self->config->max_attachment + GF_MAX_BODY, &err);
        free (type);
    }
    s_item_t *item = &self->items[self->count];
    memset (item, 0, sizeof *item);
    gf_action_t action = {0};
    if (request && streq (gf_msg_type (request), GF_TYPE_CASE_ACTION) &&
        gf_action_from_msg (request, &action, &err) == 0) {
        /* Each action needs its own row lock and checks: a savepoint each
           in the group's transaction (s_group_open), answered after its
           COMMIT, unless its case is locked elsewhere (then set aside and
           tried again until its deadline). */
        int64_t until = deadline ? deadline : zclock_mono () + self->config->deadline_ms;
        gf_reply_t reply = {0};
        bool behind = !deadline && s_case_parked (self, action.case_id);
        bool grouped = !behind && s_group_open (self);
        bool busy =
            !behind && gf_intake_action_apply (self->db, &action, uid, until, &reply, grouped);
        if (s_wait_for_case (self, &msg, &body, seq, action.case_id, until, behind, busy, !deadline,
                             GF_TYPE_CASE_ACTION, action.id))
            gf_reply_reset (&reply);
        else {
            char *what = zsys_sprintf ("%" PRId64 " %s", action.case_id, action.action);
            if (grouped)
                s_group_hold (self, &msg, &action, what, uid, &reply, until);
            else
                s_answer (self, &msg, request, action.id, what, action.actor, uid, &reply, NULL);
            zstr_free (&what);
        }
        gf_action_reset (&action);
    } else if (request && streq (gf_msg_type (request), GF_TYPE_MEETING_ACTION)) {
        s_group_end (self, true); /* each of these in a transaction of its own */
        s_accept_meeting (self, request, &msg, uid);
    } else if (request && streq (gf_msg_type (request), GF_TYPE_ATTACHMENT_ADD)) {
        s_group_end (self, true);
        s_accept_attachment (self, request, &msg, &body, uid, deadline, seq);
    } else if (request && streq (gf_msg_type (request), GF_TYPE_PROGRAMME_ACTION)) {
        s_group_end (self, true);
        s_accept_programme (self, request, &msg, uid);
    } else if (request && (streq (gf_msg_type (request), GF_TYPE_HOUSEHOLD_REGISTER) ||
                           streq (gf_msg_type (request), GF_TYPE_HOUSEHOLD_GROUP))) {
        s_group_end (self, true);
        s_accept_household (self, request, &msg, uid);
    } else if (request && gf_fieldlog_is_type (gf_msg_type (request))) {
        s_group_end (self, true);
        s_accept_field (self, request, &msg, uid);
    } else if (request && streq (gf_msg_type (request), GF_TYPE_CASE_ACTION)) {
        const char *id = gf_msg_id (request);
        self->rejected++;
        s_count_rejected (err.code);
        zsys_info ("intake: request %s rejected: %s: %s", id ? id : "(no id)",
                   gf_code_name (err.code), err.message);
        s_reply (self, &msg, id, err.code, 0, false, err.message);
    } else if (request && gf_complaint_from_msg (request, &item->c, &err) == 0) {
        item->envelope = msg;
        item->uid = uid ? strdup (uid) : NULL;
        self->count++;
    } else {
        /* Name the request even when its body broke the envelope (a bad
           string elsewhere): a pipelining client must match the answer. */
        char *peeked = request ? NULL : gf_msg_peek_id (zframe_data (body), zframe_size (body));
        const char *id = request ? gf_msg_id (request) : peeked;
        self->rejected++;
        s_count_rejected (err.code);
        zsys_info ("intake: request %s rejected: %s: %s", id ? id : "(unreadable)",
                   gf_code_name (err.code), err.message);
        s_reply (self, &msg, id, err.code, 0, false, err.message);
        free (peeked);
    }
    gf_msg_destroy (&request);
    zframe_destroy (&body);
}

/*  The set-aside actions that are due, each the first of its case still
    waiting, tried again in arrival order (set aside again, in their place,
    while their case stays locked).  Returns the ms until the next is due
    (-1: none waits). */
static long s_retry_parked (s_intake_t *self)
{
    size_t n = zlistx_size (self->parked);
    if (n == 0)
        return -1;
    int64_t now = zclock_mono ();
    int64_t *cases = (int64_t *)zmalloc (n * sizeof (int64_t));
    s_parked_t **due = (s_parked_t **)zmalloc (n * sizeof (s_parked_t *));
    size_t ncases = 0, ndue = 0;
    for (s_parked_t *p = (s_parked_t *)zlistx_first (self->parked); p;
         p = (s_parked_t *)zlistx_next (self->parked)) {
        bool first = true;
        for (size_t i = 0; i < ncases && first; i++)
            first = cases[i] != p->case_id;
        if (first && p->next_try <= now)
            due[ndue++] = (s_parked_t *)zlistx_detach_cur (self->parked);
        cases[ncases++] = p->case_id;
    }
    for (size_t i = 0; i < ndue; i++) {
        s_accept (self, due[i]->msg, due[i]->deadline, due[i]->seq);
        free (due[i]);
    }
    free (due);
    free (cases);
    long wait = -1;
    now = zclock_mono ();
    for (s_parked_t *p = (s_parked_t *)zlistx_first (self->parked); p;
         p = (s_parked_t *)zlistx_next (self->parked))
        if (wait < 0 || p->next_try - now < wait)
            wait = p->next_try <= now ? 0 : (long)(p->next_try - now);
    return wait;
}

/*  `unavailable` to a request not taken (msg: envelope + body, consumed).
    Returns 1, or 0 for a message that was not a request. */
static int s_hand_back_one (s_intake_t *self, zmsg_t *msg)
{
    int handed = 0;
    zframe_t *body = zmsg_last (msg);
    if (body && zmsg_size (msg) >= 2) {
        zmsg_remove (msg, body);
        char *id = gf_msg_peek_id (zframe_data (body), zframe_size (body));
        s_reply (self, &msg, id, GF_E_UNAVAILABLE, 0, false, "intake stopping, retry later");
        free (id);
        zframe_destroy (&body);
        handed = 1;
    }
    zmsg_destroy (&msg);
    return handed;
}

/*  On stop: requests already queued are not taken, and the actions set
    aside are not tried again; each gets `unavailable` so that its client
    resends it (to this intake once restarted, or to another) without
    waiting for its timeout. */
static void s_hand_back (s_intake_t *self)
{
    int handed = 0;
    s_parked_t *p;
    while ((p = (s_parked_t *)zlistx_detach (self->parked, NULL))) {
        handed += s_hand_back_one (self, p->msg);
        free (p);
    }
    while (zsock_events (self->router) & ZMQ_POLLIN) {
        zmsg_t *msg = zmsg_recv (self->router);
        if (!msg)
            break;
        handed += s_hand_back_one (self, msg);
    }
    if (handed)
        zsys_info ("intake: handed back %d queued requests (unavailable)", handed);
}

void gf_intake_actor (zsock_t *pipe, void *args)
{
    s_intake_t self = {.config = (gf_config_t *)args};
    self.m_received = gf_metrics_counter ("gf_intake_received_total", NULL);
    self.m_stored = gf_metrics_counter ("gf_intake_stored_total", NULL);
    self.m_duplicates = gf_metrics_counter ("gf_intake_duplicates_total", NULL);
    self.m_actions = gf_metrics_counter ("gf_intake_actions_total", NULL);
    self.m_batches = gf_metrics_counter ("gf_intake_batches_total", NULL);
    self.m_groups = gf_metrics_counter ("gf_intake_action_groups_total", NULL);
    self.db = gf_db_new (self.config->db, "gf-intake");
    if (gf_case_route_init (&self.route) != 0) {
        zsys_error ("intake: the transition table has no route step");
        zsock_signal (pipe, 1);
        goto done;
    }
    self.items = (s_item_t *)zmalloc (sizeof (s_item_t) * self.config->batch);
    self.parked = zlistx_new ();
    zlistx_set_destructor (self.parked, s_parked_destroy);
    self.held = zlistx_new ();
    zlistx_set_comparator (self.parked, s_parked_compare);
    self.router = zsock_new (ZMQ_ROUTER);
    gf_auth_limits (self.router, self.config, MAX_WIRE_MESSAGE);
    /* Attachments (intake/max_attachment) need larger messages: the socket
       takes one attachment and its envelope, other bodies are still
       refused over GF_MAX_BODY (too_large). */
    if (self.config->max_attachment > 0 &&
        zsock_maxmsgsize (self.router) < self.config->max_attachment + 2 * GF_MAX_BODY)
        zsock_set_maxmsgsize (self.router, self.config->max_attachment + 2 * GF_MAX_BODY);
    zsock_set_sndhwm (self.router, 100000);
    /* Authentication before the bind: no connection may skip it. */
    self.auth = gf_auth_server_new (self.router, self.config, self.config->intake);
    if (!self.auth) {
        zsock_signal (pipe, 1);
        goto done;
    }
    if (zsock_bind (self.router, "%s", self.config->intake) < 0) {
        zsys_error ("intake: cannot bind %s: %s", self.config->intake, zmq_strerror (zmq_errno ()));
        zsock_signal (pipe, 1); /* zactor_new waits for this; our exit then stops main */
        goto done;
    }
    zsys_info ("intake: listening on %s", self.config->intake);
    zsock_signal (pipe, 0);

    zmq_pollitem_t items[] = {{zsock_resolve (pipe), 0, ZMQ_POLLIN, 0},
                              {zsock_resolve (self.router), 0, ZMQ_POLLIN, 0}};
    int64_t last_log = zclock_mono ();
    long parked_wait = -1; /* ms until a set-aside action is due */
    while (!zsys_interrupted) {
        if (zmq_poll (items, 2, parked_wait >= 0 && parked_wait < 1000 ? parked_wait : 1000) < 0)
            break;
        if ((items[0].revents & ZMQ_POLLIN) && gf_service_pipe_term (pipe))
            break;
        /* Take everything already queued, up to one batch, then commit it:
           the batch grows by itself while the previous one commits. */
        while (self.count < self.config->batch && (zsock_events (self.router) & ZMQ_POLLIN)) {
            zmsg_t *msg = zmsg_recv (self.router);
            if (!msg)
                break;
            s_accept (&self, msg, 0, 0);
        }
        s_group_end (&self, true); /* the actions' group before the complaints' batch */
        if (self.count == 0)
            gf_db_ping (self.db, 1000); /* idle: keep /healthz true to the database */
        s_flush (&self);
        parked_wait = s_retry_parked (&self);
        s_group_end (&self, true);
        if (zclock_mono () - last_log >= 60000) {
            zsys_info ("intake: stored %" PRIu64 ", duplicates %" PRIu64 ", rejected %" PRIu64,
                       self.stored, self.duplicates, self.rejected);
            last_log = zclock_mono ();
        }
    }
    s_hand_back (&self);
    zsys_info ("intake: stopping: stored %" PRIu64 ", duplicates %" PRIu64 ", rejected %" PRIu64,
               self.stored, self.duplicates, self.rejected);
done:
    zsock_destroy (&self.router);
    gf_auth_destroy (&self.auth);
    free (self.items);
    zlistx_destroy (&self.parked);
    zlistx_destroy (&self.held);
    gf_db_destroy (&self.db);
}
