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

/*  Due app messages of the persons in $1 (JSON array) not yet acknowledged;
    $2 = 't' includes those already pushed (a sign-in), else only new ones
    (delivery.sql). */
/*  Under CURVE: whether the app's key may receive for the person
    (streams.sql). */
static const char *SQL_MAY = "SELECT gf_app_may_receive ($1, $2) AS may";

static const char *SQL_PUSH = "SELECT * FROM gf_app_push ($1::jsonb, $2::boolean)";

/*  Receipts, many at once: $1 [{delivery, person}] (delivery.sql). */
static const char *SQL_ACK = "SELECT gf_app_ack_many ($1::jsonb) AS acked";

typedef struct {
    gf_db_t *db;
    zsock_t *router;
    gf_auth_t *auth;     /* CurveZMQ (zauth), or plain loopback */
    zhashx_t *by_person; /* person → routing id (zframe_t)    */
    zhashx_t *by_route;  /* routing id (hex) → person (char *) */
    json_t *acks;        /* receipts received, not yet recorded */
    uint64_t pushed, acked;
} s_apppush_t;

static void s_reply (s_apppush_t *self, zframe_t *route, const char *verb, json_t *body)
{
    char *text = json_dumps (body, JSON_COMPACT);
    json_decref (body);
    zmsg_t *msg = zmsg_new ();
    zmsg_append (msg, &(zframe_t *){zframe_dup (route)});
    zmsg_addstr (msg, verb);
    zmsg_addstr (msg, text);
    free (text);
    if (zmsg_send (&msg, self->router) != 0)
        zmsg_destroy (&msg); /* the app is gone; its messages stay unacknowledged */
}

static void s_error (s_apppush_t *self, zframe_t *route, const char *code, const char *message)
{
    s_reply (self, route, "error", json_pack ("{s:s, s:s}", "code", code, "message", message));
}

static void s_session_end (s_apppush_t *self, const char *person)
{
    zframe_t *route = (zframe_t *)zhashx_lookup (self->by_person, person);
    if (route) {
        char *hex = zframe_strhex (route);
        zhashx_delete (self->by_route, hex);
        free (hex);
        zhashx_delete (self->by_person, person);
    }
}

/*  Pushes what SQL_PUSH returns for persons (a JSON array).  Returns the
    number pushed, or -1 on a database error. */
static int s_push (s_apppush_t *self, json_t *persons, bool again)
{
    char *persons_text = json_dumps (persons, JSON_COMPACT);
    const char *params[] = {persons_text, again ? "t" : "f"};
    PGresult *res = gf_db_exec (self->db, SQL_PUSH, 2, params);
    free (persons_text);
    if (!res)
        return -1;
    int n = PQntuples (res);
    for (int r = 0; r < n; r++) {
        const char *person = gf_db_get (res, r, "address");
        zframe_t *route = (zframe_t *)zhashx_lookup (self->by_person, person);
        if (!route)
            continue;
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
        s_reply (self, route, "message", message);
        self->pushed++;
        gf_metrics_inc ("gf_notifier_sent_total", "channel=\"app\"", 1);
    }
    PQclear (res);
    return n;
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
    zhashx_insert (self->by_person, person, zframe_dup (route));
    zhashx_insert (self->by_route, hex, strdup (person));
    free (hex);
    s_reply (self, route, "welcome", json_pack ("{s:s}", "person", person));
    json_t *persons = json_pack ("[s]", person);
    s_push (self, persons, true);
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
    json_array_append_new (self->acks, json_pack ("{s:O, s:s}", "delivery", id, "person", person));
}

/*  Records the receipts received (one statement and one commit for all of
    them).  A database error drops them: the deliveries stay unacknowledged
    and are pushed again at the app's next sign-in, which acknowledges them
    again. */
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
    zhashx_set_destructor (self.by_person, (zhashx_destructor_fn *)zframe_destroy);
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
        if (zclock_mono () >= next_tick && zhashx_size (self.by_person)) {
            json_t *persons = json_array ();
            for (void *r = zhashx_first (self.by_person); r; r = zhashx_next (self.by_person))
                json_array_append_new (persons,
                                       json_string ((const char *)zhashx_cursor (self.by_person)));
            s_push (&self, persons, false);
            json_decref (persons);
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
