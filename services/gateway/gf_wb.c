/*  gf_wb — the staff workbench's API (issue 16; docs/gateway.md
    "Workbench").  Path after "/api/wb/"; every request needs a staff
    session (gf_auth_session: 401 without one).

      POST action       one action through the intake, JSON {id: a UUID the
                        app chose (a resend with it is a duplicate), kind:
                        case.action | visit.logged | patrol.logged |
                        meeting.action | attachment.add | complaint.submit,
                        and the message's own keys}.  Same origin and the
                        session's X-CSRF-Token (403 otherwise).  The gateway
                        sends it with its own CurveZMQ identity (kind
                        workbench, gateway/workbench_cert) and the session's
                        person as the actor (reporter for a complaint): a
                        body naming actor, reporter or any key the gateway
                        sets is refused (400), so no browser chooses who
                        acts.  The intake applies that person's rights.
                        Answer {result: ok | duplicate, case, state,
                        version} (200), or {result: refused, code, message
                        (Chinese), detail (English)} with 409 for conflict
                        (then state and version: the case as it is now), 403
                        forbidden, 404 unknown case, 503 unavailable, 422
                        the rest.
      GET  queue        my queue (gf_wb_queue, workbench.sql)
      GET  case/ID      the case page, with `allowed`: the actions the
                        state and the person's level allow (common/gf_case.c
                        decides, the intake's own rule); 404 outside scope
      GET  meeting[?id=N] the meeting page of an L1/L2 person (404 else)
      GET  attachment/ID a photo or document of a case in the person's
                        subtree, its bytes (404 outside it or unknown)
      GET  households?q=TEXT  the household picker: the subtree's households
                        whose address or head's name holds TEXT (<= 20)
    The person's notices are GET /notices (gf_notices.c).
*/
#define _GNU_SOURCE /* asprintf */
#include "gf_gw.h"
#include "gf_case.h"
#include "gf_client.h"
#include "gf_clock.h"

#include <sodium.h>

static const char *SQL_QUEUE = "SELECT gf_wb_queue ($1, $2::int)::text";
static const char *SQL_CASE = "SELECT gf_wb_case ($1, $2::bigint)::text";
static const char *SQL_MEETING = "SELECT gf_wb_meeting ($1, $2::bigint)::text";
static const char *SQL_HOUSEHOLDS = "SELECT gf_wb_households ($1, $2)::text";
static const char *SQL_ATTACHMENT = "SELECT * FROM gf_wb_attachment ($1, $2::bigint)";
static const char *SQL_IN_SCOPE =
    "SELECT gf_in_subtree ($2, s.grid) AS ok, s.grid FROM gf_wb_scope ($1) s";

/*  Keys a body may not carry: the gateway sets them. */
static const char *s_reserved[] = {"v", "type", "at", "actor", "reporter", "source_ref", NULL};

static void s_error (gf_gw_reply_t *reply, unsigned status, const char *what)
{
    json_t *body = json_pack ("{ss}", "error", what);
    gf_gw_reply_json (reply, status, json_dumps (body, JSON_COMPACT));
    json_decref (body);
}

//  A canonical UUID (36 characters, hex and dashes at 8, 13, 18, 23).
static bool s_is_uuid (const char *text)
{
    if (!text || strlen (text) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? text[i] != '-' : !isxdigit ((unsigned char)text[i]))
            return false;
    }
    return true;
}

//  What staff read for a refusal.
static const char *s_chinese (gf_code_t code)
{
    switch (code) {
    case GF_E_CONFLICT:
        return "该案件刚被他人处理过，请查看当前状态后重试";
    case GF_E_FORBIDDEN:
        return "无权操作：不在您的网格范围内，或超出您的职责";
    case GF_E_ILLEGAL_TRANSITION:
        return "案件当前状态不允许此操作";
    case GF_E_UNKNOWN_CASE:
        return "案件不存在";
    case GF_E_UNKNOWN_ACTOR:
        return "您的账号不在人员名录中";
    case GF_E_ARCHIVED:
        return "案件已归档，不能再操作";
    case GF_E_UNKNOWN_DEPARTMENT:
        return "该部门不存在或不可转办";
    case GF_E_UNKNOWN_HOUSEHOLD:
        return "户籍台账中没有这一户";
    case GF_E_UNKNOWN_GRID:
        return "网格不存在";
    case GF_E_UNKNOWN_CATEGORY:
        return "类别不存在";
    case GF_E_MISSING_FIELD:
        return "缺少必填项";
    case GF_E_TOO_LONG:
    case GF_E_TOO_LARGE:
        return "内容过长或文件过大";
    case GF_E_UNAVAILABLE:
        return "系统繁忙，请稍后重试（已保存的操作不会重复）";
    case GF_E_INTERNAL:
        return "系统内部错误，请联系管理员";
    default:
        return "提交的内容有误";
    }
}

static unsigned s_status_of (gf_code_t code)
{
    switch (code) {
    case GF_E_CONFLICT:
        return 409;
    case GF_E_FORBIDDEN:
        return 403;
    case GF_E_UNKNOWN_CASE:
        return 404;
    case GF_E_UNAVAILABLE:
        return 503;
    case GF_E_INTERNAL:
        return 500;
    default:
        return 422;
    }
}

static void s_refused (gf_gw_reply_t *reply, gf_code_t code, const char *detail, const char *state,
                       int64_t version)
{
    json_t *body = json_pack ("{ss ss ss ss}", "result", "refused", "code", gf_code_name (code),
                              "message", s_chinese (code), "detail", detail ? detail : "");
    if (state) {
        json_object_set_new (body, "state", json_string (state));
        json_object_set_new (body, "version", json_integer (version));
    }
    gf_gw_reply_json (reply, s_status_of (code), json_dumps (body, JSON_COMPACT));
    json_decref (body);
}

//  attachment.add: its bytes come as base64 in `data` (the app downsizes a
//  photo first); the message carries them as msgpack bin.
static zframe_t *s_attachment (json_t *msg, gf_gw_reply_t *reply)
{
    const char *b64 = json_string_value (json_object_get (msg, "data"));
    json_t *cid = json_object_get (msg, "case");
    if (!b64 || !json_is_integer (cid)) {
        s_refused (reply, GF_E_MISSING_FIELD, "attachment.add needs case and data (base64)", NULL,
                   0);
        return NULL;
    }
    size_t max = strlen (b64) / 4 * 3 + 3, size = 0;
    unsigned char *bytes = malloc (max);
    if (!bytes || sodium_base642bin (bytes, max, b64, strlen (b64), NULL, &size, NULL,
                                     sodium_base64_VARIANT_ORIGINAL) != 0) {
        free (bytes);
        s_refused (reply, GF_E_BAD_VALUE, "data is not base64", NULL, 0);
        return NULL;
    }
    json_t *pub = json_object_get (msg, "public");
    gf_attachment_t a = {
        .id = (char *)json_string_value (json_object_get (msg, "id")),
        .at = json_integer_value (json_object_get (msg, "at")),
        .case_id = json_integer_value (cid),
        .actor = (char *)json_string_value (json_object_get (msg, "actor")),
        .filename = (char *)json_string_value (json_object_get (msg, "filename")),
        .public = json_is_true (pub),
        .action = (char *)json_string_value (json_object_get (msg, "action")),
        .note = (char *)json_string_value (json_object_get (msg, "note")),
        .data = bytes,
        .size = size,
    };
    if (!a.filename)
        a.filename = (char *)"photo.jpg";
    zframe_t *frame = gf_attachment_encode (&a);
    free (bytes);
    return frame;
}

static const char *s_type_of (const char *kind)
{
    static const char *kinds[] = {GF_TYPE_CASE_ACTION,    GF_TYPE_VISIT_LOGGED,
                                  GF_TYPE_PATROL_LOGGED,  GF_TYPE_MEETING_ACTION,
                                  GF_TYPE_ATTACHMENT_ADD, GF_TYPE_COMPLAINT_SUBMIT};
    for (size_t i = 0; kind && i < sizeof kinds / sizeof kinds[0]; i++)
        if (streq (kind, kinds[i]))
            return kinds[i];
    return NULL;
}

//  complaint.submit for a resident: source app (walk-in, 代访), patrol or
//  visit; the grid the person's own unless named, and inside the person's
//  subtree.  Returns false with reply set.
static bool s_complaint (gf_gw_t *gw, json_t *msg, const char *person, const char *id,
                         gf_gw_reply_t *reply)
{
    const char *source = json_string_value (json_object_get (msg, "source"));
    if (!source)
        json_object_set_new (msg, "source", json_string ("app"));
    else if (!streq (source, "app") && !streq (source, "patrol") && !streq (source, "visit")) {
        s_refused (reply, GF_E_BAD_VALUE, "source must be app, patrol or visit", NULL, 0);
        return false;
    }
    json_object_set_new (msg, "reporter", json_string (person));
    char *ref = zsys_sprintf ("wb:%s", id);
    json_object_set_new (msg, "source_ref", json_string (ref));
    zstr_free (&ref);
    const char *grid = json_string_value (json_object_get (msg, "grid"));
    const char *params[] = {person, grid ? grid : ""};
    PGresult *res = gf_gw_query (gw, SQL_IN_SCOPE, 2, params);
    bool ok = false;
    if (!res || PQntuples (res) != 1)
        s_refused (reply, res ? GF_E_UNKNOWN_ACTOR : GF_E_UNAVAILABLE, "scope", NULL, 0);
    else if (!grid) {
        json_object_set_new (msg, "grid", json_string (gf_db_get (res, 0, "grid")));
        ok = true;
    } else if (!streq (gf_db_get (res, 0, "ok"), "t"))
        s_refused (reply, GF_E_FORBIDDEN, "the grid is outside the person's subtree", NULL, 0);
    else
        ok = true;
    if (res)
        PQclear (res);
    return ok;
}

static void s_action (gf_gw_t *gw, json_t *who, const char *raw, gf_gw_reply_t *reply)
{
    json_error_t jerr;
    json_t *msg = raw ? json_loads (raw, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    const char *id = json_string_value (json_object_get (msg, "id"));
    const char *type = s_type_of (json_string_value (json_object_get (msg, "kind")));
    const char *person = json_string_value (json_object_get (who, "person"));
    if (!json_is_object (msg)) {
        s_error (reply, 400, "body must be a JSON object");
        json_decref (msg);
        return;
    }
    if (!s_is_uuid (id) || !type) {
        s_error (reply, 400,
                 "id must be a UUID and kind one of case.action, visit.logged, "
                 "patrol.logged, meeting.action, attachment.add, complaint.submit");
        json_decref (msg);
        return;
    }
    for (int i = 0; s_reserved[i]; i++)
        if (json_object_get (msg, s_reserved[i])) {
            char *what = zsys_sprintf ("%s is set by the gateway (the session's person acts)",
                                       s_reserved[i]);
            s_error (reply, 400, what);
            zstr_free (&what);
            json_decref (msg);
            return;
        }
    json_object_del (msg, "kind");
    json_object_set_new (msg, "v", json_integer (GF_PROTO_VERSION));
    json_object_set_new (msg, "type", json_string (type));
    json_object_set_new (msg, "at", json_integer (gf_clock_now_ms ()));
    if (streq (type, GF_TYPE_COMPLAINT_SUBMIT)) {
        if (!s_complaint (gw, msg, person, id, reply)) {
            json_decref (msg);
            return;
        }
    } else
        json_object_set_new (msg, "actor", json_string (person));
    zframe_t *frame = NULL;
    if (streq (type, GF_TYPE_ATTACHMENT_ADD))
        frame = s_attachment (msg, reply);
    else {
        char *text = json_dumps (msg, JSON_COMPACT | JSON_PRESERVE_ORDER);
        frame = text ? gf_json_encode (text) : NULL;
        free (text);
        if (!frame)
            s_error (reply, 400, "body could not be encoded");
    }
    if (!frame) {
        json_decref (msg);
        return;
    }
    /* The workbench identity (docs/security.md); plain when curve is off. */
    const char *cert = gw->config->workbench_cert;
    gf_client_t *client =
        *cert || !*gw->config->server_cert
            ? gf_client_new_secure (gw->config->intake, cert, gw->config->server_cert)
            : NULL;
    gf_reply_t r = {0};
    if (!client)
        s_refused (reply, GF_E_UNAVAILABLE, "the workbench identity is not configured", NULL, 0);
    else if (gf_client_request (client, frame, id, &r, gw->intake_timeout, 2) != 0)
        s_refused (reply, GF_E_UNAVAILABLE, "the intake did not answer; resend the same id", NULL,
                   0);
    else if (!r.ok)
        s_refused (reply, r.code, r.message, r.code == GF_E_CONFLICT ? r.state : NULL, r.version);
    else {
        json_t *body = json_pack ("{ss sI}", "result", r.duplicate ? "duplicate" : "ok", "case",
                                  (json_int_t)r.case_id);
        if (r.state) {
            json_object_set_new (body, "state", json_string (r.state));
            json_object_set_new (body, "version", json_integer (r.version));
        }
        gf_gw_reply_json (reply, 200, json_dumps (body, JSON_COMPACT));
        json_decref (body);
    }
    gf_reply_reset (&r);
    gf_client_destroy (&client);
    zframe_destroy (&frame);
    json_decref (msg);
}

//  The actions the case's state and the person allow: the lifecycle's own
//  decision (gf_case_transition) with every key an action may need, so
//  only the state, the scope and the level decide.
static json_t *s_allowed (json_t *page)
{
    gf_case_view_t view = {
        .state = (gf_case_state_t)gf_case_state_from_name (
            json_string_value (json_object_get (page, "state"))),
        .grid = json_string_value (json_object_get (page, "grid")),
        .satisfied = json_is_true (json_object_get (page, "satisfied"))    ? 1
                     : json_is_false (json_object_get (page, "satisfied")) ? 0
                                                                           : -1,
        .actor_grid = json_string_value (json_object_get (page, "actor_grid")),
        .actor_level = (int)json_integer_value (json_object_get (page, "actor_level")),
        .grid_level = (int)json_integer_value (json_object_get (page, "grid_level")),
    };
    json_t *out = json_array ();
    if ((int)view.state < 0 || !view.grid || !view.actor_grid)
        return out;
    static const char *actions[] = {"sign",      "progress", "refer",  "resolve", "callback",
                                    "close",     "reopen",   "return", "assign",  "merge",
                                    "supervise", "classify", "reject", "unreject"};
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
        gf_action_t a = {.action = (char *)actions[i],
                         .actor = (char *)"-",
                         .note = (char *)"-",
                         .department = (char *)"-",
                         .grid = (char *)view.grid,
                         .into = 1,
                         .satisfied = 1,
                         .tier = (char *)"pending",
                         .urgent = -1,
                         .category = (char *)"-",
                         .reason = (char *)"invalid"};
        gf_case_step_t step;
        gf_error_t err = {GF_OK, ""};
        if (gf_case_transition (&view, &a, &step, &err) == 0 || err.code == GF_E_MISSING_FIELD ||
            err.code == GF_E_BAD_VALUE)
            json_array_append_new (out, json_string (actions[i]));
    }
    return out;
}

//  GET attachment/ID: the bytes, with their type (one of the four the
//  intake accepts), for staff in scope; 404 otherwise.
static void s_attachment_get (gf_gw_t *gw, const char *person, const char *id, gf_gw_reply_t *reply)
{
    static const char *types[] = {"image/jpeg", "image/png", "image/webp", "application/pdf"};
    if (!*id || strspn (id, "0123456789") != strlen (id) || strlen (id) > 18) {
        s_error (reply, 400, "the id must be a number");
        return;
    }
    const char *params[] = {person, id};
    PGresult *res = gf_gw_query (gw, SQL_ATTACHMENT, 2, params);
    if (!res) {
        s_error (reply, 503, "database unavailable");
        return;
    }
    const char *type = NULL;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (PQntuples (res) == 1 && PQgetisnull (res, 0, 0) &&
            streq (gf_db_get (res, 0, "content_type"), types[i]))
            type = types[i];
    size_t size = 0;
    unsigned char *bytes =
        type ? PQunescapeBytea ((const unsigned char *)gf_db_get (res, 0, "data"), &size) : NULL;
    PQclear (res);
    if (!bytes || !size || !(reply->body = malloc (size))) {
        if (bytes)
            PQfreemem (bytes);
        s_error (reply, type ? 503 : 404,
                 type ? "unavailable" : "not found (or outside your grids)");
        return;
    }
    memcpy (reply->body, bytes, size);
    PQfreemem (bytes);
    reply->size = size;
    reply->status = 200;
    reply->type = type;
}

int gf_wb_handle (gf_gw_t *gw, struct MHD_Connection *conn, const char *method, const char *path,
                  const char *raw, gf_gw_reply_t *reply)
{
    bool post = streq (method, MHD_HTTP_METHOD_POST);
    bool get = streq (method, MHD_HTTP_METHOD_GET) || streq (method, MHD_HTTP_METHOD_HEAD);
    bool action = streq (path, "action");
    if (!action && !streq (path, "queue") && !streq (path, "meeting") &&
        !streq (path, "households") && strncmp (path, "case/", 5) != 0 &&
        strncmp (path, "attachment/", 11) != 0)
        return -1;
    if (action ? !post : !get) {
        s_error (reply, 405, "method not allowed");
        reply->allow = action ? "POST" : "GET, HEAD";
        return 0;
    }
    if (post && !gf_auth_origin_ok (gw, conn)) {
        s_error (reply, 403, "cross-site request refused");
        return 0;
    }
    bool down = false;
    json_t *who = gf_auth_session (gw, conn, &down);
    if (!who) {
        s_error (reply, down ? 503 : 401, down ? "unavailable" : "no valid session");
        return 0;
    }
    const char *person = json_string_value (json_object_get (who, "person"));
    if (action) {
        if (!gf_auth_csrf_ok (conn, who))
            s_error (reply, 403, "missing or wrong X-CSRF-Token");
        else
            s_action (gw, who, raw, reply);
        json_decref (who);
        return 0;
    }
    if (strncmp (path, "attachment/", 11) == 0) {
        s_attachment_get (gw, person, path + 11, reply);
        json_decref (who);
        return 0;
    }
    char *json = NULL;
    bool found = true;
    if (streq (path, "households")) {
        const char *q = MHD_lookup_connection_value (conn, MHD_GET_ARGUMENT_KIND, "q");
        if (!q || !*q || strlen (q) > 200) {
            s_error (reply, 400, "q must be 1..200 bytes");
            json_decref (who);
            return 0;
        }
        const char *params[] = {person, q};
        json = gf_gw_query_json (gw, SQL_HOUSEHOLDS, 2, params);
    } else if (streq (path, "queue")) {
        const char *limit = MHD_lookup_connection_value (conn, MHD_GET_ARGUMENT_KIND, "limit");
        char *end = NULL;
        long n = limit ? strtol (limit, &end, 10) : 200;
        if (limit && (*end || n < 1 || n > 1000)) {
            s_error (reply, 400, "limit must be 1..1000");
            json_decref (who);
            return 0;
        }
        char text[16];
        snprintf (text, sizeof text, "%ld", n);
        const char *params[] = {person, text};
        json = gf_gw_query_json (gw, SQL_QUEUE, 2, params);
    } else {
        const char *id = strncmp (path, "case/", 5) == 0
                             ? path + 5
                             : MHD_lookup_connection_value (conn, MHD_GET_ARGUMENT_KIND, "id");
        if (id && (!*id || strspn (id, "0123456789") != strlen (id) || strlen (id) > 18)) {
            s_error (reply, 400, "the id must be a number");
            json_decref (who);
            return 0;
        }
        const char *params[] = {person, id};
        PGresult *res =
            gf_gw_query (gw, strncmp (path, "case/", 5) == 0 ? SQL_CASE : SQL_MEETING, 2, params);
        if (res && PQntuples (res) == 1 && !PQgetisnull (res, 0, 0)) {
            json_error_t jerr;
            json_t *page = json_loads (PQgetvalue (res, 0, 0), 0, &jerr);
            if (page && strncmp (path, "case/", 5) == 0)
                json_object_set_new (page, "allowed", s_allowed (page));
            json = page ? json_dumps (page, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
            json_decref (page);
        } else if (res)
            found = false;
        if (res)
            PQclear (res);
    }
    json_decref (who);
    if (!found)
        s_error (reply, 404, "not found (or outside your grids)");
    else if (json)
        gf_gw_reply_json (reply, 200, json);
    else
        s_error (reply, 503, "database unavailable");
    return 0;
}
