/*  gf_notices — the signed-in staff member's own notices in the browser
    (issue 16 item 4; docs/gateway.md "Notices").

      GET  /notices.json  the same messages at once, a page of at most 50
                          after ?after= (a delivery id): {"notices": [...]}
                          (the workbench app reads this when the /stream it
                          already holds brings a notification for its
                          person: a browser keeps few connections to one
                          host over HTTP/1.1)
      GET  /notices       server-sent events: each app message of the
                          session's person not yet acknowledged, oldest
                          first, as
                              id: <delivery>
                              event: notice
                              data: {"delivery","case","text","urgent","at"}
                          ("case" absent for a notice without one), after
                          Last-Event-ID (or ?after=), else from the oldest
                          outstanding.  401 without a session.
      POST /notices/ack   delivery (form or JSON) with X-CSRF-Token: the
                          receipt (送达有签收); 200 {"acked": true} when it was
                          outstanding, false when it was not (already
                          acknowledged, or not this person's).

    These are the app deliveries the notifier's app push serves to a phone
    app (docs/notifications.md): one inbox, read here without changing its
    state, so a phone signed in at the same time still gets its push, and
    one receipt from either side ends both.  Web Push would need an
    internet push service that a government intranet often lacks.

    The stream looks into the inbox (gf_app_inbox) at once when the hub
    brings a notification.created event that names the person, and at
    least every gateway/notice_poll_ms (the safety net behind the wake-up:
    a stream whose hub lagged, a gateway cut off from the relay).  Messages
    held by quiet hours are shown too: the person is looking.  At each of those it checks the
   session again and ends when the session has (logout, logout everywhere, expiry; the check counts
   as use, so an open stream keeps its session from idling out, never past gateway/session_max). The
   streams share the /stream slots (gateway/sse_max, gateway/sse_per_ip). */
#define _GNU_SOURCE /* asprintf */
#include "gf_gw.h"

#include <arpa/inet.h>

#define S_PAGE          50  /* messages fetched at once */
#define S_CHECK_WAIT_MS 500 /* the longest wait between shutdown checks */

static const char *SQL_INBOX = "SELECT * FROM gf_app_inbox ($1, $2, $3)";
static const char *SQL_ACK = "SELECT gf_app_ack ($1, $2) AS acked";

typedef struct {
    gf_gw_t *gw;
    char *person;                      /* whose notices                        */
    char *needle;                      /* "\"<person>\"", as events name them  */
    json_t *viewer;                    /* the session, to check again          */
    uint64_t after;                    /* delivery id of the last one written  */
    uint64_t cursor;                   /* hub seq of the last event looked at  */
    bool due;                          /* look into the inbox now              */
    int64_t next_poll;                 /* zclock_mono of the next look         */
    zlistx_t *frames;                  /* SSE frames waiting to be written     */
    char client[INET6_ADDRSTRLEN + 1]; /* its address (per-address count)      */
    gf_sse_out_t out;                  /* the frame being written              */
} s_notices_t;

static void s_free_text (void **item)
{
    free (*item);
    *item = NULL;
}

//  One page of person's inbox after delivery `after`: a JSON array of
//  {"delivery","case","text","urgent","at"} ("case" absent for a notice
//  without one), or NULL when the database did not answer.
static json_t *s_inbox (gf_gw_t *gw, const char *person, uint64_t after)
{
    char after_text[24], limit[8];
    snprintf (after_text, sizeof after_text, "%" PRIu64, after);
    snprintf (limit, sizeof limit, "%d", S_PAGE);
    const char *params[] = {person, after_text, limit};
    PGresult *res = gf_gw_query (gw, SQL_INBOX, 3, params);
    if (!res)
        return NULL;
    json_t *notices = json_array ();
    for (int r = 0; r < PQntuples (res); r++) {
        json_t *notice = json_pack ("{sI}", "delivery", (json_int_t)gf_db_get_ll (res, r, "id"));
        if (gf_db_get (res, r, "case_id"))
            json_object_set_new (notice, "case",
                                 json_integer ((json_int_t)gf_db_get_ll (res, r, "case_id")));
        json_object_set_new (notice, "text", json_string (gf_db_get (res, r, "text")));
        json_object_set_new (notice, "urgent",
                             json_boolean (streq (gf_db_get (res, r, "urgent"), "t")));
        json_object_set_new (notice, "at", json_string (gf_db_get (res, r, "at")));
        json_array_append_new (notices, notice);
    }
    PQclear (res);
    return notices;
}

//  One page of the inbox after self->after into self->frames.  -1 when the
//  database did not answer (tried again at the next poll).
static int s_fetch (s_notices_t *self)
{
    json_t *notices = s_inbox (self->gw, self->person, self->after);
    if (!notices)
        return -1;
    size_t i;
    json_t *notice;
    json_array_foreach (notices, i, notice)
    {
        uint64_t id = (uint64_t)json_integer_value (json_object_get (notice, "delivery"));
        char *data = json_dumps (notice, JSON_COMPACT);
        char *frame = NULL;
        if (data &&
            asprintf (&frame, "id: %" PRIu64 "\nevent: notice\ndata: %s\n\n", id, data) >= 0)
            zlistx_add_end (self->frames, frame);
        free (data);
        self->after = id;
    }
    //  A full page: there may be more at once.
    self->due = json_array_size (notices) == S_PAGE;
    json_decref (notices);
    return 0;
}

//  The session still holds (a database that does not answer is not a
//  reason to end the stream).
static bool s_session_holds (s_notices_t *self)
{
    bool down = false;
    return gf_auth_viewer_valid (self->gw, self->viewer, &down) || down;
}

static ssize_t s_read (void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    s_notices_t *self = cls;
    gf_gw_t *gw = self->gw;
    while (true) {
        bool event;
        size_t n = gf_sse_out_take (&self->out, buf, max, &event);
        if (n)
            return (ssize_t)n;
        if (gf_hub_stopped (gw->hub) || zsys_interrupted)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (zlistx_size (self->frames)) {
            gf_sse_out_set (&self->out, zlistx_detach (self->frames, NULL));
            continue;
        }
        int64_t now = zclock_mono ();
        if (now >= self->next_poll) {
            if (!s_session_holds (self))
                return MHD_CONTENT_READER_END_OF_STREAM;
            self->due = true;
        }
        if (self->due) {
            self->next_poll = now + gw->config->notice_poll_ms;
            if (s_fetch (self) == 0)
                continue;
            self->due = false;
        }
        int64_t wait = self->out.last_write + gw->heartbeat_ms - now;
        if (wait <= 0) {
            //  A comment keeps proxies from timing out and finds closed clients.
            gf_sse_out_set (&self->out, strdup (":\n\n"));
            continue;
        }
        if (wait > self->next_poll - now)
            wait = self->next_poll - now;
        if (wait > S_CHECK_WAIT_MS)
            wait = S_CHECK_WAIT_MS;
        if (wait < 1)
            wait = 1;
        //  Events: a notification for this person makes the inbox due now.
        uint64_t seq = 0;
        char *type = NULL, *grid = NULL, *text = NULL;
        gf_hub_status_t status =
            gf_hub_next (gw->hub, self->cursor, (int)wait, &seq, &type, &grid, &text);
        if (status == GF_HUB_EVENT) {
            self->cursor = seq;
            if (type && text && streq (type, "notification.created") && strstr (text, self->needle))
                self->due = true;
        } else if (status == GF_HUB_OVERFLOW)
            //  Too far behind to look at each event: look into the inbox.
            self->cursor = gf_hub_last (gw->hub), self->due = true;
        else if (status == GF_HUB_STOPPED)
            return MHD_CONTENT_READER_END_OF_STREAM;
        free (type);
        free (grid);
        free (text);
    }
}

static void s_free (void *cls)
{
    s_notices_t *self = cls;
    gf_sse_slot_give (self->gw, self->client);
    zlistx_destroy (&self->frames);
    free (self->person);
    free (self->needle);
    json_decref (self->viewer);
    gf_sse_out_set (&self->out, NULL);
    free (self);
}

//  The resume point: Last-Event-ID (a delivery id) or ?after=, else 0.
static bool s_after (struct MHD_Connection *conn, uint64_t *after)
{
    const char *text = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, "Last-Event-ID");
    if (!text)
        text = MHD_lookup_connection_value (conn, MHD_GET_ARGUMENT_KIND, "after");
    *after = 0;
    if (!text)
        return true;
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull (text, &end, 10);
    if (errno || !*text || *end || *text == '-' || n > INT64_MAX)
        return false;
    *after = n;
    return true;
}

static enum MHD_Result s_serve (gf_gw_t *gw, struct MHD_Connection *conn, json_t *who)
{
    uint64_t after;
    if (!s_after (conn, &after))
        return gf_gw_error (gw, conn, 400, "Last-Event-ID / after must be a delivery id", 0);
    char client[INET6_ADDRSTRLEN + 1];
    enum MHD_Result refused;
    if (!gf_sse_slot_take (gw, conn, client, &refused))
        return refused;
    s_notices_t *self = calloc (1, sizeof *self);
    self->gw = gw;
    self->person = strdup (json_string_value (json_object_get (who, "person")));
    self->needle = zsys_sprintf ("\"%s\"", self->person);
    self->viewer = json_incref (who);
    snprintf (self->client, sizeof self->client, "%s", client);
    self->after = after;
    self->cursor = gf_hub_last (gw->hub);
    self->due = true;
    self->frames = zlistx_new ();
    zlistx_set_destructor (self->frames, s_free_text);
    gf_sse_out_set (&self->out, strdup ("retry: 2000\n: gridflow notices\n\n"));
    self->out.last_write = zclock_mono ();
    return gf_sse_respond (gw, conn, s_read, self, s_free, 4 * 1024);
}

//  GET /notices.json: one page of the inbox.
static void s_page (gf_gw_t *gw, struct MHD_Connection *conn, json_t *who, gf_gw_reply_t *reply)
{
    uint64_t after;
    if (!s_after (conn, &after)) {
        gf_gw_reply_json (reply, 400, strdup ("{\"error\":\"after must be a delivery id\"}"));
        return;
    }
    json_t *notices = s_inbox (gw, json_string_value (json_object_get (who, "person")), after);
    if (!notices) {
        gf_gw_reply_json (reply, 503, strdup ("{\"error\":\"unavailable\"}"));
        return;
    }
    json_t *body = json_pack ("{so}", "notices", notices);
    gf_gw_reply_json (reply, 200, json_dumps (body, JSON_COMPACT));
    json_decref (body);
}

//  POST /notices/ack: the delivery of a form field or a JSON body.
static void s_ack (gf_gw_t *gw, json_t *who, zhashx_t *form, const char *raw, gf_gw_reply_t *reply)
{
    char id[24] = "";
    const char *field = form ? zhashx_lookup (form, "delivery") : NULL;
    json_t *body = raw ? json_loads (raw, 0, NULL) : NULL;
    json_t *value = json_object_get (body, "delivery");
    if (field)
        snprintf (id, sizeof id, "%s", field);
    else if (json_is_integer (value))
        snprintf (id, sizeof id, "%" JSON_INTEGER_FORMAT, json_integer_value (value));
    json_decref (body);
    char *end = NULL;
    errno = 0;
    long long n = *id ? strtoll (id, &end, 10) : 0;
    if (!*id || errno || *end || n <= 0) {
        gf_gw_reply_json (reply, 400, strdup ("{\"error\":\"delivery must be a delivery id\"}"));
        return;
    }
    const char *params[] = {id, json_string_value (json_object_get (who, "person"))};
    PGresult *res = gf_gw_query (gw, SQL_ACK, 2, params);
    if (!res || PQntuples (res) != 1)
        gf_gw_reply_json (reply, 503, strdup ("{\"error\":\"unavailable\"}"));
    else
        gf_gw_reply_json (reply, 200,
                          strdup (streq (gf_db_get (res, 0, "acked"), "t") ? "{\"acked\":true}"
                                                                           : "{\"acked\":false}"));
    if (res)
        PQclear (res);
}

int gf_notices_handle (gf_gw_t *gw, struct MHD_Connection *conn, const char *method,
                       const char *path, zhashx_t *form, const char *raw, gf_gw_reply_t *reply,
                       enum MHD_Result *served)
{
    bool stream = streq (path, ""), ack = streq (path, "/ack"), page = streq (path, ".json");
    if (!stream && !ack && !page)
        return -1;
    bool post = streq (method, MHD_HTTP_METHOD_POST);
    if (((stream || page) && !streq (method, MHD_HTTP_METHOD_GET)) || (ack && !post)) {
        gf_gw_reply_json (reply, 405, strdup ("{\"error\":\"method not allowed\"}"));
        reply->allow = stream ? "GET" : "POST";
        return 0;
    }
    if (post && !gf_auth_origin_ok (gw, conn)) {
        gf_gw_reply_json (reply, 403, strdup ("{\"error\":\"cross-site request refused\"}"));
        return 0;
    }
    //  A session, never a kiosk token: a big screen has no notices.
    bool down = false;
    json_t *who = stream ? gf_auth_viewer (gw, conn, &down) : gf_auth_session (gw, conn, &down);
    const char *kind = json_string_value (json_object_get (who, "kind"));
    if (stream && who && !streq (kind, "session")) {
        json_decref (who);
        who = NULL;
    }
    if (!who) {
        gf_gw_reply_json (
            reply, down ? 503 : 401,
            strdup (down ? "{\"error\":\"unavailable\"}" : "{\"error\":\"no valid session\"}"));
        return 0;
    }
    if (stream)
        *served = s_serve (gw, conn, who);
    else if (page)
        s_page (gw, conn, who, reply);
    else if (!gf_auth_csrf_ok (conn, who))
        gf_gw_reply_json (reply, 403, strdup ("{\"error\":\"missing or wrong X-CSRF-Token\"}"));
    else
        s_ack (gw, who, form, raw, reply);
    json_decref (who);
    return stream ? 1 : 0;
}
