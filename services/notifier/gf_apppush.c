/*  gf_apppush — app push with receipts. */
#include "gf_apppush.h"
#include "gf_auth.h"
#include "gf_db.h"
#include "gf_metrics.h"
#include "gf_notifier.h"
#include "gf_service.h"

#include <jansson.h>

#define TICK_MS     500
#define MAX_REQUEST 4096
/*  The most requests taken from the apps before their receipts are
    recorded (one statement for them). */
#define MAX_TAKE 1000
/*  The largest message accepted from an app (verb + body), ZMQ_MAXMSGSIZE. */
#define MAX_WIRE 8192

static const char *SQL_AUTH =
    "SELECT 1 FROM app_tokens t JOIN people p ON p.id = t.person"
    " WHERE t.person = $1 AND t.token_sha256 = sha256 (convert_to ($2, 'UTF8'))";

/*  Under CURVE: whether the app's key may receive for the person
    (streams.sql). */
static const char *SQL_MAY = "SELECT gf_app_may_receive ($1, $2) AS may";

/*  Due app messages of the persons in $1 (JSON array) not yet acknowledged,
    a read (delivery.sql): what was pushed is remembered here, per session. */
static const char *SQL_DUE = "SELECT * FROM gf_app_due ($1::jsonb)";

/*  Receipts, many at once: $1 [{delivery, person}] (delivery.sql). */
static const char *SQL_ACK = "SELECT gf_app_ack_many ($1::jsonb) AS acked";

/*  A signed-in app. */
typedef struct {
    zframe_t *route;  /* its routing id                                       */
    zhashx_t *pushed; /* delivery ids (decimal) pushed to it and still
                         unacknowledged when last read: pushed once per
                         sign-in                                              */
    zhashx_t *due;    /* the same, being read (s_push); NULL when none        */
} s_session_t;

typedef struct {
    gf_db_t *db;
    zsock_t *router;
    gf_auth_t *auth;     /* CurveZMQ (zauth), or plain loopback */
    zhashx_t *by_person; /* person → s_session_t                */
    zhashx_t *by_route;  /* routing id (hex) → person (char *)  */
    json_t *acks;        /* receipts received, not yet recorded */
    uint64_t pushed, acked;
} s_apppush_t;

/*  Sends verb and body to the app at route.  Returns 0, or the error
    (EHOSTUNREACH: the app is gone; EAGAIN: its queue is full); the
    messages of an app that did not get them stay unacknowledged. */
static int s_reply (s_apppush_t *self, zframe_t *route, const char *verb, json_t *body)
{
    char *text = json_dumps (body, JSON_COMPACT);
    json_decref (body);
    zmsg_t *msg = zmsg_new ();
    zmsg_append (msg, &(zframe_t *){zframe_dup (route)});
    zmsg_addstr (msg, verb);
    zmsg_addstr (msg, text);
    free (text);
    if (zmsg_send (&msg, self->router) == 0)
        return 0;
    int error = zmq_errno ();
    zmsg_destroy (&msg);
    return error;
}

static void s_error (s_apppush_t *self, zframe_t *route, const char *code, const char *message)
{
    s_reply (self, route, "error", json_pack ("{s:s, s:s}", "code", code, "message", message));
}

static void s_session_destroy (s_session_t **self_p)
{
    s_session_t *self = *self_p;
    if (self) {
        zframe_destroy (&self->route);
        zhashx_destroy (&self->pushed);
        zhashx_destroy (&self->due);
        free (self);
        *self_p = NULL;
    }
}

/*  The session of person, or NULL. */
static s_session_t *s_session (s_apppush_t *self, const char *person)
{
    return (s_session_t *)zhashx_lookup (self->by_person, person);
}

static void s_session_end (s_apppush_t *self, const char *person)
{
    s_session_t *session = s_session (self, person);
    if (session) {
        char *hex = zframe_strhex (session->route);
        zhashx_delete (self->by_route, hex);
        free (hex);
        zhashx_delete (self->by_person, person);
    }
}

/*  Keeps delivery id among those the session has been pushed, as it is
    being read. */
static void s_session_keep (s_session_t *self, const char *id)
{
    if (!self->due)
        self->due = zhashx_new ();
    zhashx_insert (self->due, id, self); /* any non-NULL item */
}

/*  Pushes the due messages of persons (a JSON array) that their sessions
    have not been pushed yet.  What a session remembers becomes what was
    read for it, so that a message acknowledged elsewhere (the workbench in
    a browser) is forgotten here too.  Returns the number pushed, or -1 on
    a database error. */
static int s_push (s_apppush_t *self, json_t *persons)
{
    char *persons_text = json_dumps (persons, JSON_COMPACT);
    const char *params[] = {persons_text};
    PGresult *res = gf_db_exec (self->db, SQL_DUE, 1, params);
    free (persons_text);
    if (!res)
        return -1;
    int n = PQntuples (res), pushed = 0;
    for (int r = 0; r < n; r++) {
        const char *person = gf_db_get (res, r, "address");
        const char *id = gf_db_get (res, r, "id");
        s_session_t *session = s_session (self, person);
        if (!session)
            continue;
        if (zhashx_lookup (session->pushed, id)) {
            s_session_keep (session, id);
            continue;
        }
        /* {"delivery", "case", "text", "urgent", "at"}; no "case" for a
           field reminder's notice (missed patrol, overdue visit) */
        json_t *message = json_pack ("{s:I}", "delivery", (json_int_t)gf_db_get_ll (res, r, "id"));
        if (gf_db_get (res, r, "case_id"))
            json_object_set_new (message, "case",
                                 json_integer ((json_int_t)gf_db_get_ll (res, r, "case_id")));
        json_object_set_new (message, "text", json_string (gf_db_get (res, r, "text")));
        json_object_set_new (message, "urgent",
                             json_boolean (streq (gf_db_get (res, r, "urgent"), "t")));
        json_object_set_new (message, "at", json_string (gf_db_get (res, r, "at")));
        int error = s_reply (self, session->route, "message", message);
        if (error == EHOSTUNREACH) { /* gone: its next sign-in gets everything */
            s_session_end (self, person);
            continue;
        }
        if (error)
            continue; /* tried again at the next read */
        s_session_keep (session, id);
        self->pushed++;
        pushed++;
        gf_metrics_inc ("gf_notifier_sent_total", "channel=\"app\"", 1);
    }
    PQclear (res);
    for (size_t i = 0; i < json_array_size (persons); i++) {
        s_session_t *session = s_session (self, json_string_value (json_array_get (persons, i)));
        if (session && session->due) {
            zhashx_destroy (&session->pushed);
            session->pushed = session->due;
            session->due = NULL;
        } else if (session)
            zhashx_purge (session->pushed); /* nothing due is unacknowledged */
    }
    return pushed;
}

/*  The apps signed in, and the messages pushed to them and not yet
    acknowledged (what the outbox showed as an app row's "sent" before the
    push stopped writing it). */
static void s_gauges (s_apppush_t *self)
{
    int64_t unacknowledged = 0;
    for (s_session_t *session = (s_session_t *)zhashx_first (self->by_person); session;
         session = (s_session_t *)zhashx_next (self->by_person))
        unacknowledged += (int64_t)zhashx_size (session->pushed);
    gf_metrics_set ("gf_notifier_app_sessions", NULL, (int64_t)zhashx_size (self->by_person));
    gf_metrics_set ("gf_notifier_app_unacknowledged", NULL, unacknowledged);
}

/*  Under CURVE, whether the app identity with key uid may receive for
    person; answers the app when not.  Always true on a plain endpoint. */
static bool s_may (s_apppush_t *self, zframe_t *route, const char *uid, const char *person)
{
    if (!gf_auth_curve (self->auth))
        return true;
    const char *params[] = {uid, person};
    PGresult *res = uid ? gf_db_exec (self->db, SQL_MAY, 2, params) : NULL;
    bool may = res && streq (gf_db_get (res, 0, "may"), "t");
    if (!res && uid)
        s_error (self, route, "unavailable", "database unavailable, try again");
    else if (!may) {
        zsys_warning ("notifier: app key %.8s may not receive for %s", uid ? uid : "-", person);
        s_error (self, route, "forbidden", "this app key may not receive for that person");
    }
    if (res)
        PQclear (res);
    return may;
}

static void s_hello (s_apppush_t *self, zframe_t *route, json_t *body, const char *uid)
{
    const char *person = json_string_value (json_object_get (body, "person"));
    const char *token = json_string_value (json_object_get (body, "token"));
    if (!person || !token || strlen (person) > 64 || strlen (token) > 128) {
        s_error (self, route, "bad_request", "hello needs person and token");
        return;
    }
    if (!s_may (self, route, uid, person))
        return;
    const char *params[] = {person, token};
    PGresult *res = gf_db_exec (self->db, SQL_AUTH, 2, params);
    if (!res) {
        s_error (self, route, "unavailable", "database unavailable, try again");
        return;
    }
    bool known = PQntuples (res) == 1;
    PQclear (res);
    if (!known) {
        zsys_warning ("notifier: app sign-in refused for %s", person);
        s_error (self, route, "unauthorized", "unknown person or token");
        return;
    }
    s_session_end (self, person); /* a new connection replaces the old one */
    char *hex = zframe_strhex (route);
    s_session_t *session = (s_session_t *)zmalloc (sizeof (s_session_t));
    session->route = zframe_dup (route);
    session->pushed = zhashx_new ();
    zhashx_insert (self->by_person, person, session);
    zhashx_insert (self->by_route, hex, strdup (person));
    free (hex);
    s_reply (self, route, "welcome", json_pack ("{s:s}", "person", person));
    json_t *persons = json_pack ("[s]", person);
    s_push (self, persons); /* a new session: everything unacknowledged */
    json_decref (persons);
}

/*  A receipt: kept for s_record, with the person its app signed in as. */
static void s_ack (s_apppush_t *self, zframe_t *route, json_t *body)
{
    char *hex = zframe_strhex (route);
    const char *person = (const char *)zhashx_lookup (self->by_route, hex);
    free (hex);
    json_t *id = json_object_get (body, "delivery");
    if (!person) {
        s_error (self, route, "unauthorized", "sign in first");
        return;
    }
    if (!json_is_integer (id)) {
        s_error (self, route, "bad_request", "ack needs an integer delivery");
        return;
    }
    /* Forgotten at once: should the receipt not be recorded (the database
       away), the next push reads the message again and sends it again. */
    s_session_t *session = s_session (self, person);
    char key[24];
    snprintf (key, sizeof key, "%" JSON_INTEGER_FORMAT, json_integer_value (id));
    if (session)
        zhashx_delete (session->pushed, key);
    json_array_append_new (self->acks, json_pack ("{s:O, s:s}", "delivery", id, "person", person));
}

/*  Records the receipts received (one statement and one commit for all of
    them).  A database error drops them: the deliveries stay unacknowledged
    and are pushed again (s_ack forgot them), and acknowledged again. */
static void s_record (s_apppush_t *self)
{
    if (json_array_size (self->acks) == 0)
        return;
    char *acks_text = json_dumps (self->acks, JSON_COMPACT);
    json_array_clear (self->acks);
    const char *params[] = {acks_text};
    PGresult *res = gf_db_exec (self->db, SQL_ACK, 1, params);
    free (acks_text);
    if (res) {
        long long acked = gf_db_get_ll (res, 0, "acked");
        self->acked += (uint64_t)acked;
        gf_metrics_inc ("gf_notifier_receipts_total", NULL, (uint64_t)acked);
        PQclear (res);
    }
}

static void s_receive (s_apppush_t *self)
{
    zmsg_t *msg = zmsg_recv (self->router);
    if (!msg)
        return;
    zframe_t *route = zmsg_pop (msg);
    char *verb = zmsg_popstr (msg);
    zframe_t *body_frame = zmsg_pop (msg);
    json_t *body = NULL;
    if (body_frame && zframe_size (body_frame) <= MAX_REQUEST)
        body =
            json_loadb ((const char *)zframe_data (body_frame), zframe_size (body_frame), 0, NULL);
    if (!route || !verb || !json_is_object (body) || zmsg_size (msg) != 0)
        s_error (self, route, "bad_request", "expected: verb, one JSON object");
    else if (streq (verb, "hello"))
        s_hello (self, route, body, gf_auth_user_id (body_frame));
    else if (streq (verb, "ack"))
        s_ack (self, route, body);
    else
        s_error (self, route, "bad_request", "unknown verb");
    json_decref (body);
    zframe_destroy (&body_frame);
    zstr_free (&verb);
    zframe_destroy (&route);
    zmsg_destroy (&msg);
}

void gf_apppush_actor (zsock_t *pipe, void *args)
{
    gf_part_args_t *part = (gf_part_args_t *)args;
    const char *endpoint = part->config->app;
    s_apppush_t self = {.db = gf_db_new (part->config->db, "gf-notifier/app")};
    self.router = zsock_new (ZMQ_ROUTER);
    zsock_set_router_mandatory (self.router, 1);
    zsock_set_sndtimeo (self.router, 0);
    gf_auth_limits (self.router, part->config, MAX_WIRE);
    /* Authentication before the bind: no connection may skip it. */
    self.auth = gf_auth_server_new (self.router, part->config, endpoint);
    if (!self.auth)
        part->status = 1;
    else if (zsock_bind (self.router, "%s", endpoint) < 0) {
        zsys_error ("notifier: cannot bind app endpoint %s", endpoint);
        part->status = 1;
    } else
        part->status = self.db ? 0 : 1;
    self.by_person = zhashx_new ();
    zhashx_set_destructor (self.by_person, (zhashx_destructor_fn *)s_session_destroy);
    self.by_route = zhashx_new ();
    zhashx_set_destructor (self.by_route, (zhashx_destructor_fn *)zstr_free);
    self.acks = json_array ();
    zsock_signal (pipe, (byte)part->status);
    if (part->status == 0)
        zsys_info ("notifier: app push on %s", endpoint);

    zpoller_t *poller = zpoller_new (pipe, self.router, NULL);
    int64_t next_tick = 0;
    while (part->status == 0 && !zsys_interrupted) {
        void *which = zpoller_wait (poller, TICK_MS);
        if (which == pipe && gf_service_pipe_term (pipe))
            break;
        if (which == self.router) {
            /* Everything queued now, then its receipts at once. */
            for (int k = 0; k < MAX_TAKE && (zsock_events (self.router) & ZMQ_POLLIN); k++)
                s_receive (&self);
            s_record (&self);
        }
        if (zclock_mono () >= next_tick) {
            if (zhashx_size (self.by_person)) {
                json_t *persons = json_array ();
                for (void *r = zhashx_first (self.by_person); r; r = zhashx_next (self.by_person))
                    json_array_append_new (
                        persons, json_string ((const char *)zhashx_cursor (self.by_person)));
                s_push (&self, persons);
                json_decref (persons);
            }
            s_gauges (&self);
            next_tick = zclock_mono () + TICK_MS;
        }
    }
    if (part->status == 0)
        zsys_info ("notifier: app pushed %" PRIu64 ", receipts %" PRIu64, self.pushed, self.acked);
    zpoller_destroy (&poller);
    zhashx_destroy (&self.by_person);
    zhashx_destroy (&self.by_route);
    json_decref (self.acks);
    zsock_destroy (&self.router);
    gf_auth_destroy (&self.auth);
    gf_db_destroy (&self.db);
}
