/*  gf_open311 — Open311 GeoReport v2, JSON only (docs/gateway.md).

      GET  services.json               the categories
      GET  services/{code}.json        one category's definition (its attributes)
      POST requests.json               a complaint, through the intake (api_key)
      GET  requests.json               filtered list (service_request_id, service_code,
                                       start_date, end_date, status)
      GET  requests/{id}.json          one request

    Errors are Open311's [{"code": HTTP status, "description": "..."}] with
    the spec's statuses: 400 bad or missing argument, 403 api_key missing or
    invalid, 404 unknown service_code / service_request_id / path, 405
    method, plus 503 when the intake or the database cannot answer.
    Reads are read-only SQL functions with parameters, reading cases through
    cases_public: no resident's name or phone is ever returned, and
    addresses are masked as in events.
*/
#define _GNU_SOURCE /* asprintf, strndup */
#include "gf_gw.h"
#include "gf_gwargs.h"
#include "gf_client.h"
#include "gf_clock.h"
#include <jansson.h>

static void s_error (gf_gw_reply_t *reply, unsigned status, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static void s_error (gf_gw_reply_t *reply, unsigned status, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    char *text = zsys_vprintf (fmt, args);
    va_end (args);
    json_t *err = json_pack ("[{s:i, s:s}]", "code", (int)status, "description", text ? text : "");
    gf_gw_reply_json (reply, status, json_dumps (err, JSON_COMPACT));
    json_decref (err);
    zstr_free (&text);
}

/*  One function per read (deploy/sql/repeatable/open311.sql): services,
    a service's definition (NULL: no such code), one request ([] when
    unknown), and the filtered list: $1 ids (array or NULL: when given, the
    other filters are ignored, as the spec says), $2 service codes, $3
    start, $4 end, $5 statuses; without ids or dates the last 90 days (by
    the gridflow clock); newest first, at most 1000.  Open: not resolved
    (gf_case_resolved; docs/gateway.md has the mapping). */
static const char *SQL_SERVICES = "SELECT gf_open311_services ()::text";
static const char *SQL_SERVICE_DEF = "SELECT gf_open311_service ($1)::text";
static const char *SQL_REQUEST_ONE = "SELECT gf_open311_request ($1::bigint)::text";
/*  media_url: public attachments only (the view attachments_public). */
static const char *SQL_MEDIA =
    "SELECT content_type, data FROM attachments_public WHERE id = $1::bigint";

/*  GET media/ID: a public attachment's bytes, else 404 (a non-public one
    is not found here, whoever asks). */
static void s_media (gf_gw_t *gw, const char *id, gf_gw_reply_t *reply)
{
    if (!gf_gwargs_is_id (id))
        return s_error (reply, 404, "media '%s' not found", id);
    const char *params[] = {id};
    PGresult *res = gf_gw_query (gw, SQL_MEDIA, 1, params);
    if (!res)
        return s_error (reply, 503, "the database is unavailable; try again");
    if (PQntuples (res) != 1) {
        PQclear (res);
        return s_error (reply, 404, "media '%s' not found", id);
    }
    size_t size = 0;
    unsigned char *bytes = PQunescapeBytea ((const unsigned char *)PQgetvalue (res, 0, 1), &size);
    const char *type = PQgetvalue (res, 0, 0);
    reply->type = streq (type, "image/jpeg")   ? "image/jpeg"
                  : streq (type, "image/png")  ? "image/png"
                  : streq (type, "image/webp") ? "image/webp"
                                               : "application/pdf";
    reply->status = 200;
    reply->body = bytes ? (char *)malloc (size ? size : 1) : NULL;
    if (reply->body)
        memcpy (reply->body, bytes, size);
    reply->size = size;
    PQfreemem (bytes);
    PQclear (res);
    if (!reply->body)
        s_error (reply, 503, "out of memory");
}
static const char *SQL_REQUESTS = "SELECT gf_open311_requests ($1::bigint[], $2::text[],"
                                  " $3::timestamptz, $4::timestamptz, $5::text[])::text";

static const char *s_arg (struct MHD_Connection *conn, const char *key)
{
    const char *v = MHD_lookup_connection_value (conn, MHD_GET_ARGUMENT_KIND, key);
    return v && *v ? v : NULL;
}

static void s_get_requests (gf_gw_t *gw, struct MHD_Connection *conn, gf_gw_reply_t *reply)
{
    gf_gwargs_filter_t f;
    char *why = gf_gwargs_filter (s_arg (conn, "service_request_id"), s_arg (conn, "service_code"),
                                  s_arg (conn, "start_date"), s_arg (conn, "end_date"),
                                  s_arg (conn, "status"), &f);
    if (why)
        s_error (reply, 400, "%s", why);
    else {
        const char *params[5] = {f.ids, f.codes, f.start, f.end, f.statuses};
        char *json = gf_gw_query_json (gw, SQL_REQUESTS, 5, params);
        if (json)
            gf_gw_reply_json (reply, 200, json);
        else
            s_error (reply, 503, "the database is unavailable; try again");
    }
    zstr_free (&why);
    gf_gwargs_filter_reset (&f);
}

//  Maps the intake's error code to Open311's status.
static unsigned s_status_of (gf_code_t code)
{
    switch (code) {
    case GF_E_UNKNOWN_CATEGORY:
        return 404;
    case GF_E_FORBIDDEN:
    case GF_E_UNKNOWN_ACTOR:
        return 403;
    case GF_E_UNAVAILABLE:
        return 503;
    case GF_E_INTERNAL:
        return 500;
    default:
        return 400;
    }
}

static void s_post_inner (gf_gw_t *gw, struct MHD_Connection *conn, zhashx_t *form,
                          gf_gw_reply_t *reply)
{
    const char *key = gf_gwargs_form (form, "api_key");
    if (!key) {
        return s_error (reply, 403, "api_key was not provided");
    }
    const char *kp[] = {key};
    PGresult *res = gf_gw_query (gw,
                                 "SELECT gf_api_key_client ($1) AS client,"
                                 "       gf_api_key_may_set_priority ($1) AS may_set_priority",
                                 1, kp);
    if (!res) {
        return s_error (reply, 503, "the database is unavailable; try again");
    }
    char *client_name = gf_db_get (res, 0, "client") ? strdup (gf_db_get (res, 0, "client")) : NULL;
    bool may_set_priority = streq (gf_db_get (res, 0, "may_set_priority"), "t");
    PQclear (res);
    if (!client_name) {
        return s_error (reply, 403, "api_key is invalid");
    }
    /* Urgency and special groups (petitioner, dibao, ...) change how a
       case is escalated and who sees it: only keys whose api_keys row
       allows it may set them; the request is refused, not stripped. */
    const char *want_urgent = gf_gwargs_form (form, "attribute[urgent]");
    const char *want_groups = gf_gwargs_form (form, "attribute[groups]");
    if (!may_set_priority &&
        ((want_urgent && streq (want_urgent, "true")) || (want_groups && *want_groups))) {
        free (client_name);
        return s_error (reply, 403,
                        "this api_key may not set attribute[urgent] or attribute[groups] "
                        "(api_keys.may_set_priority)");
    }
    const char *code = gf_gwargs_form (form, "service_code");
    const char *address = gf_gwargs_form (form, "address_string");
    const char *lat = gf_gwargs_form (form, "lat"), *lon = gf_gwargs_form (form, "long");
    const char *grid = gf_gwargs_form (form, "attribute[grid]");
    const char *urgent = gf_gwargs_form (form, "attribute[urgent]");
    const char *token = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, "Idempotency-Key");
    if (!token || !*token)
        token = gf_gwargs_form (form, "client_request_id");
    char *location = NULL;
    const char *why = gf_gwargs_post_check (form, token);
    if (why) {
        s_error (reply, 400, "%s", why);
    } else {
        if (!address && lat && lon)
            location = zsys_sprintf ("经纬度 %s,%s", lat, lon);
        else if (!address && gf_gwargs_form (form, "address_id"))
            location = zsys_sprintf ("地址编号 %s", gf_gwargs_form (form, "address_id"));
        //  Chinese names: family name (last_name) first.
        char *name = NULL;
        if (gf_gwargs_form (form, "last_name") || gf_gwargs_form (form, "first_name"))
            name = zsys_sprintf (
                "%s%s",
                gf_gwargs_form (form, "last_name") ? gf_gwargs_form (form, "last_name") : "",
                gf_gwargs_form (form, "first_name") ? gf_gwargs_form (form, "first_name") : "");
        char *uuid = NULL;
        if (!token) {
            zuuid_t *u = zuuid_new ();
            uuid = strdup (zuuid_str_canonical (u));
            zuuid_destroy (&u);
        }
        char *source_ref = zsys_sprintf ("%s:%s", client_name, token ? token : uuid);
        char *id = zsys_sprintf ("open311-%s", source_ref);
        gf_complaint_t c = {
            .id = id,
            .at = gf_clock_now_ms (),
            .source = (char *)"open311",
            .source_ref = source_ref,
            .description = (char *)zhashx_lookup (form, "description"),
            .category = (char *)code,
            .grid = (char *)grid,
            .address = (char *)(address ? address : location),
            .name = name,
            .phone = (char *)gf_gwargs_form (form, "phone"),
            .urgent = urgent && streq (urgent, "true"),
            .groups = (char *)gf_gwargs_form (form, "attribute[groups]"),
        };
        /* security/cert + server_cert: CurveZMQ to the intake (an adapter
           identity with source open311, docs/security.md). */
        gf_client_t *client =
            gf_client_new_secure (gw->config->intake, gw->config->cert, gw->config->server_cert);
        gf_reply_t r = {0};
        if (!client || gf_client_submit (client, &c, &r, gw->intake_timeout, 2) != 0) {
            s_error (reply, 503,
                     "the intake did not answer; try again with the same "
                     "client_request_id");
        } else if (!r.ok) {
            s_error (reply, s_status_of (r.code), "%s: %s", gf_code_name (r.code),
                     r.message ? r.message : "");
        } else {
            atomic_fetch_add (r.duplicate ? &gw->posts_dup : &gw->posts_ok, 1);
            char case_id[24];
            snprintf (case_id, sizeof case_id, "%" PRId64, r.case_id);
            json_t *out =
                json_pack ("[{s:s, s:s, s:n}]", "service_request_id", case_id, "service_notice",
                           r.duplicate ? "该诉求已登记过，返回原案件编号"
                                       : "已受理，将按地址分派到所在网格办理",
                           "account_id");
            gf_gw_reply_json (reply, r.duplicate ? 200 : 201, json_dumps (out, JSON_COMPACT));
            json_decref (out);
        }
        gf_reply_reset (&r);
        gf_client_destroy (&client);
        zstr_free (&id);
        zstr_free (&source_ref);
        free (uuid);
        zstr_free (&name);
    }
    zstr_free (&location);
    free (client_name);
}

static void s_post_request (gf_gw_t *gw, struct MHD_Connection *conn, zhashx_t *form,
                            gf_gw_reply_t *reply)
{
    s_post_inner (gw, conn, form, reply);
    if (reply->status >= 400)
        atomic_fetch_add (&gw->posts_err, 1);
}

//  "name.json" -> "name" (new string), NULL if it does not end in .json.
static char *s_strip_json (const char *path)
{
    size_t n = strlen (path);
    if (n <= 5 || !streq (path + n - 5, ".json"))
        return NULL;
    return strndup (path, n - 5);
}

void gf_open311_handle (gf_gw_t *gw, struct MHD_Connection *conn, const char *method,
                        const char *path, zhashx_t *form, gf_gw_reply_t *reply)
{
    bool get = streq (method, "GET") || streq (method, "HEAD");
    bool post = streq (method, "POST");
    size_t n = strlen (path);
    if (n > 4 && streq (path + n - 4, ".xml"))
        return s_error (reply, 400, "only the JSON format is supported (use .json)");
    if (streq (path, "services.json")) {
        if (!get) {
            reply->allow = "GET";
            return s_error (reply, 405, "services.json accepts GET");
        }
        char *json = gf_gw_query_json (gw, SQL_SERVICES, 0, NULL);
        return json ? gf_gw_reply_json (reply, 200, json)
                    : s_error (reply, 503, "the database is unavailable; try again");
    }
    if (streq (path, "requests.json")) {
        if (post)
            return s_post_request (gw, conn, form, reply);
        if (get)
            return s_get_requests (gw, conn, reply);
        reply->allow = "GET, POST";
        return s_error (reply, 405, "requests.json accepts GET and POST");
    }
    if (strncmp (path, "media/", 6) == 0) {
        if (!get) {
            reply->allow = "GET";
            return s_error (reply, 405, "media accepts GET");
        }
        return s_media (gw, path + 6, reply);
    }
    bool services = strncmp (path, "services/", 9) == 0;
    bool requests = strncmp (path, "requests/", 9) == 0;
    char *key = (services || requests) ? s_strip_json (path + 9) : NULL;
    if (!key)
        return s_error (reply, 404, "no such resource: %s", path);
    if (!get) {
        free (key);
        reply->allow = "GET";
        return s_error (reply, 405, "%s accepts GET", path);
    }
    const char *params[] = {key};
    if (services && !gf_gwargs_is_code (key))
        s_error (reply, 404, "service_code '%s' not found", key);
    else if (requests && !gf_gwargs_is_id (key))
        s_error (reply, 404, "service_request_id '%s' not found", key);
    else {
        char *json = gf_gw_query_json (gw, services ? SQL_SERVICE_DEF : SQL_REQUEST_ONE, 1, params);
        if (services && json)
            gf_gw_reply_json (reply, 200, json);
        else if (requests && json && !streq (json, "[]"))
            gf_gw_reply_json (reply, 200, json);
        else if (requests && json) {
            free (json);
            s_error (reply, 404, "service_request_id '%s' not found", key);
        } else {
            //  No row for a service code, or the database failed: tell which.
            PGresult *ok = gf_gw_query (gw, "SELECT 1", 0, NULL);
            if (ok)
                s_error (reply, 404, "service_code '%s' not found", key);
            else
                s_error (reply, 503, "the database is unavailable; try again");
            if (ok)
                PQclear (ok);
        }
    }
    free (key);
}
