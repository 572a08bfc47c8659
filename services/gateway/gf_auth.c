/*  gf_auth — staff login and sessions on the gateway (issue 16, part 1;
    docs/gateway.md "Staff sessions", docs/security.md "Accounts and
    sessions").

      POST /auth/login        person, password (form or JSON): a session
                              cookie gf_session (Secure, HttpOnly,
                              SameSite=Strict, Path=/) and who signed in;
                              401 for any refusal (no account, disabled,
                              locked, wrong password: the same answer);
                              429 past gateway/login_ip_rate per address
      GET  /auth/me           who (person, name, grid, role), the session's
                              CSRF token and expiry; 401 without a session
      POST /auth/logout       ends this session
      POST /auth/logout-all   ends every session of the person

    The token is 256 random bits (hex) and the database holds only its
    sha256.  A state-changing request needs a valid session AND the header
    X-CSRF-Token equal to the session's CSRF token (403 otherwise), and a
    POST whose Origin is neither this host nor a configured origin is
    refused (403) before anything else.  Argon2id is verified here
    (libsodium): the database (accounts.sql) hands over the hash of an
    enabled, unlocked account only, through gf_login_begin.  Every login,
    failure, lockout and logout is in the audit trail (written by the
    SQL functions). */
#define _GNU_SOURCE /* asprintf */
#include "gf_gw.h"
#include "gf_gwargs.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <oath.h>
#include <pthread.h>
#include <sodium.h>

#define S_KIOSK_COOKIE "gf_kiosk"
/*  The kiosk cookie's lifetime: the browsers' cap (400 days).  Not a
    security rule: every request checks the token (revoked, expired). */
#define S_KIOSK_MAX_AGE (400 * 86400)

static const char *SQL_BEGIN = "SELECT status, pw_hash FROM gf_login_begin ($1, $2, $3)";
static const char *SQL_FINISH =
    "SELECT gf_login_finish ($1, $2, $3, $4, $5, $6, $7, $8, $9::bigint) AS result";
static const char *SQL_TOTP = "SELECT level, sealed, step, must_change FROM gf_login_totp ($1)";
static const char *SQL_PW_SET = "SELECT gf_login_password_set ($1, $2) AS ok";
#define S_TOTP_STEP 30 /* seconds of a TOTP time step (RFC 6238, every authenticator app) */
static const char *SQL_CHECK =
    "SELECT person, name, grid, role, csrf, expires_at FROM gf_session_check ($1, $2, $3)";
static const char *SQL_END = "SELECT gf_session_end ($1, $2, $3) AS n";
static const char *SQL_KIOSK = "SELECT id, grid, label FROM gf_kiosk_check ($1, $2, $3)";

/*  A dummy Argon2id string: an unknown, disabled or locked account costs
    the same verification time as a real one. */
static char s_dummy[crypto_pwhash_STRBYTES];

int gf_auth_init (void)
{
    if (sodium_init () < 0 || oath_init () != OATH_OK)
        return -1;
    char pw[16];
    randombytes_buf (pw, sizeof pw);
    return crypto_pwhash_str (s_dummy, pw, sizeof pw, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE);
}

//  n random bytes as 2n hex digits into out (2n + 1 bytes).
static void s_random_hex (char *out, size_t n)
{
    unsigned char raw[32];
    randombytes_buf (raw, n);
    sodium_bin2hex (out, 2 * n + 1, raw, n);
    sodium_memzero (raw, sizeof raw);
}

//  The sha256 of a token's text, as 64 hex digits into out (65 bytes).
static void s_token_sha256 (const char *token, char *out)
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256 (digest, (const unsigned char *)token, strlen (token));
    sodium_bin2hex (out, 65, digest, sizeof digest);
}

static bool s_is_hex64 (const char *text)
{
    if (!text || strlen (text) != 64)
        return false;
    for (const char *p = text; *p; p++)
        if (!isxdigit ((unsigned char)*p) || isupper ((unsigned char)*p))
            return false;
    return true;
}

static void s_reply (gf_gw_reply_t *reply, unsigned status, json_t *body)
{
    gf_gw_reply_json (reply, status, json_dumps (body, JSON_COMPACT));
    json_decref (body);
}

static void s_error (gf_gw_reply_t *reply, unsigned status, const char *what)
{
    s_reply (reply, status, json_pack ("{ss}", "error", what));
}

static void s_set_cookie (gf_gw_reply_t *reply, const char *token, int max_age)
{
    free (reply->cookie);
    if (asprintf (&reply->cookie,
                  GF_AUTH_COOKIE "=%s; Path=/; Max-Age=%d; Secure; HttpOnly; SameSite=Strict",
                  token, max_age) < 0)
        reply->cookie = NULL;
}

/*  The session of the request's cookie as JSON {person, name, grid, role,
    csrf, expires_at} (caller decrefs), or NULL (no valid session); the
    token's sha256 into sha (65 bytes).  *down: the database did not answer. */
static json_t *s_session_sha (gf_gw_t *gw, const char *sha, bool *down);

static json_t *s_session_of (gf_gw_t *gw, const char *token, char *sha, bool *down)
{
    *down = false;
    if (!s_is_hex64 (token))
        return NULL;
    s_token_sha256 (token, sha);
    return s_session_sha (gw, sha, down);
}

//  The open session of a token's sha256 (as s_session_of).
static json_t *s_session_sha (gf_gw_t *gw, const char *sha, bool *down)
{
    *down = false;
    char idle[16], max[16];
    snprintf (idle, sizeof idle, "%d", gw->config->session_idle);
    snprintf (max, sizeof max, "%d", gw->config->session_max);
    const char *params[] = {sha, idle, max};
    PGresult *res = gf_gw_query (gw, SQL_CHECK, 3, params);
    if (!res) {
        *down = true;
        return NULL;
    }
    json_t *who = NULL;
    if (PQntuples (res) == 1)
        who = json_pack ("{ss ss ss ss ss ss}", "person", gf_db_get (res, 0, "person"), "name",
                         gf_db_get (res, 0, "name"), "grid", gf_db_get (res, 0, "grid"), "role",
                         gf_db_get (res, 0, "role"), "csrf", gf_db_get (res, 0, "csrf"),
                         "expires_at", gf_db_get (res, 0, "expires_at"));
    PQclear (res);
    return who;
}

static json_t *s_session (gf_gw_t *gw, struct MHD_Connection *conn, char *sha, bool *down)
{
    return s_session_of (gw, MHD_lookup_connection_value (conn, MHD_COOKIE_KIND, GF_AUTH_COOKIE),
                         sha, down);
}

//  The field of a form or of a JSON object body, or NULL.
static const char *s_field (zhashx_t *form, json_t *body, const char *name)
{
    const char *value = form ? zhashx_lookup (form, name) : NULL;
    if (!value && body)
        value = json_string_value (json_object_get (body, name));
    return value;
}

/*  The key pair that opens the sealed TOTP secrets: the file of
    gateway/totp_key (64 hex digits: the secret half), read once. */
static pthread_mutex_t s_key_lock = PTHREAD_MUTEX_INITIALIZER;
static bool s_key_read, s_key_ok;
static unsigned char s_key_pk[crypto_box_PUBLICKEYBYTES], s_key_sk[crypto_box_SECRETKEYBYTES];

static bool s_totp_key (gf_gw_t *gw)
{
    pthread_mutex_lock (&s_key_lock);
    if (!s_key_read) {
        s_key_read = true;
        const char *path = gw->config->totp_key;
        FILE *file = *path ? fopen (path, "r") : NULL;
        char hex[80] = "";
        if (file && fgets (hex, sizeof hex, file))
            hex[strcspn (hex, "\r\n")] = 0;
        if (file)
            fclose (file);
        size_t n = 0;
        s_key_ok =
            strlen (hex) == 2 * sizeof s_key_sk &&
            sodium_hex2bin (s_key_sk, sizeof s_key_sk, hex, strlen (hex), NULL, &n, NULL) == 0 &&
            n == sizeof s_key_sk && crypto_scalarmult_base (s_key_pk, s_key_sk) == 0;
        sodium_memzero (hex, sizeof hex);
        if (!s_key_ok)
            zsys_error ("gateway/totp_key '%s' is not a readable TOTP key file (gridctl user "
                        "totp-key): logins that need a TOTP code are refused",
                        path);
    }
    pthread_mutex_unlock (&s_key_lock);
    return s_key_ok;
}

//  level is one of gateway/totp_levels ("1,2").
static bool s_level_listed (const char *levels, int level)
{
    char digit[12];
    snprintf (digit, sizeof digit, "%d", level);
    char *copy = strdup (levels), *save = NULL;
    bool found = false;
    for (char *t = strtok_r (copy, ", ", &save); t && !found; t = strtok_r (NULL, ", ", &save))
        found = streq (t, digit);
    free (copy);
    return found;
}

/*  The TOTP step of a person whose password was verified: 0 when no code
    is needed (not enrolled, level not in gateway/totp_levels), 1 when otp
    is the code of a step after the last accepted one (*step set), -1 when
    refused (no code, a wrong or replayed one, not enrolled though
    required, no key), -2 when the database did not answer.  *must_change:
    the password is a one-time one (user import) to be replaced now. */
static int s_totp (gf_gw_t *gw, const char *person, const char *otp, long long *step,
                   bool *must_change)
{
    const char *params[] = {person};
    PGresult *res = gf_gw_query (gw, SQL_TOTP, 1, params);
    if (!res)
        return -2;
    int rc = -1;
    const char *sealed = PQntuples (res) == 1 ? gf_db_get (res, 0, "sealed") : NULL;
    bool required =
        PQntuples (res) == 1 &&
        (sealed || s_level_listed (gw->config->totp_levels, (int)gf_db_get_ll (res, 0, "level")));
    unsigned char box[256], secret[256];
    size_t n = 0;
    *must_change = PQntuples (res) == 1 && streq (gf_db_get (res, 0, "must_change"), "t");
    if (PQntuples (res) == 1 && !required)
        rc = 0;
    else if (sealed && otp && strlen (otp) >= 6 && strlen (otp) <= 8 &&
             strspn (otp, "0123456789") == strlen (otp) && s_totp_key (gw) &&
             sodium_hex2bin (box, sizeof box, sealed, strlen (sealed), NULL, &n, NULL) == 0 &&
             n > crypto_box_SEALBYTES &&
             crypto_box_seal_open (secret, box, n, s_key_pk, s_key_sk) == 0) {
        time_t now = time (NULL);
        int pos = 0;
        if (oath_totp_validate2 ((const char *)secret, n - crypto_box_SEALBYTES, now, S_TOTP_STEP,
                                 0, 1, &pos, otp) >= 0) {
            *step = (long long)(now / S_TOTP_STEP) + pos;
            rc = *step > gf_db_get_ll (res, 0, "step") ? 1 : -1; //  a code is good once
        }
    }
    sodium_memzero (secret, sizeof secret);
    PQclear (res);
    return rc;
}

/*  The first login of an account with a one-time password: new (8..1024
    bytes, not the old one) becomes its password (Argon2id here, the same
    limits as gridctl).  1 done, -1 refused (missing or unfit), -2 the
    database did not answer. */
static int s_password_change (gf_gw_t *gw, const char *person, const char *old, const char *new)
{
    if (!new || strlen (new) < 8 || strlen (new) > 1024 || streq (new, old))
        return -1;
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str (hash, new, strlen (new), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                           crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return -2;
    const char *params[] = {person, hash};
    PGresult *res = gf_gw_query (gw, SQL_PW_SET, 2, params);
    int rc = !res ? -2 : PQntuples (res) == 1 && streq (gf_db_get (res, 0, "ok"), "t") ? 1 : -1;
    if (res)
        PQclear (res);
    return rc;
}

static void s_login (gf_gw_t *gw, const char *client, zhashx_t *form, const char *raw,
                     gf_gw_reply_t *reply)
{
    if (!gf_gw_login_admit (gw, client)) {
        zsys_info ("login from %s refused: over gateway/login_ip_rate", client);
        s_error (reply, 429, "too many login attempts from this address; retry later");
        reply->retry_after = 60;
        return;
    }
    json_t *body = raw ? json_loads (raw, 0, NULL) : NULL;
    const char *person = s_field (form, body, "person");
    const char *password = s_field (form, body, "password");
    if (!person || !*person || strlen (person) > 64 || !password || strlen (password) > 1024) {
        json_decref (body);
        s_error (reply, 400, "person and password are required (form or JSON)");
        return;
    }
    char window[16];
    snprintf (window, sizeof window, "%d", gw->config->login_window);
    const char *begin[] = {person, client, window};
    PGresult *res = gf_gw_query (gw, SQL_BEGIN, 3, begin);
    if (!res) {
        json_decref (body);
        s_error (reply, 503, "unavailable");
        return;
    }
    bool may = PQntuples (res) == 1 && streq (gf_db_get (res, 0, "status"), "ok");
    //  Verify against the account's hash, or the dummy: the same time either way.
    bool ok = crypto_pwhash_str_verify (may ? gf_db_get (res, 0, "pw_hash") : s_dummy, password,
                                        strlen (password)) == 0 &&
              may;
    PQclear (res);
    if (!may) {
        json_decref (body);
        s_error (reply, 401, "invalid credentials");
        return;
    }
    //  The second factor, after a verified password: a missing, wrong or
    //  replayed code is a failed attempt like a wrong password (reason totp).
    long long step = 0;
    bool must_change = false;
    int totp = ok ? s_totp (gw, person, s_field (form, body, "otp"), &step, &must_change) : 0;
    if (totp == -2) {
        json_decref (body);
        s_error (reply, 503, "unavailable");
        return;
    }
    char step_text[24] = "";
    if (totp == 1)
        snprintf (step_text, sizeof step_text, "%lld", step);
    const char *reason = ok && totp < 0 ? "totp" : "password";
    ok = ok && totp >= 0;
    //  A one-time password (gridctl user import): the login carries the
    //  person's new one (new_password), or it is refused (reason must_change).
    int changed = ok && must_change ? s_password_change (gw, person, password,
                                                         s_field (form, body, "new_password"))
                                    : 0;
    if (changed == -2) {
        json_decref (body);
        s_error (reply, 503, "unavailable");
        return;
    }
    if (changed < 0) {
        ok = false;
        reason = "must_change";
    }
    char token[65], sha[65], csrf[65], failures[16], lockout[16];
    s_random_hex (token, 32);
    s_random_hex (csrf, 32);
    s_token_sha256 (token, sha);
    snprintf (failures, sizeof failures, "%d", gw->config->login_failures);
    snprintf (lockout, sizeof lockout, "%d", gw->config->login_lockout);
    const char *finish[] = {person,  ok ? "t" : "f", client,
                            sha,     csrf,           failures,
                            lockout, reason,         totp == 1 ? step_text : NULL};
    res = gf_gw_query (gw, SQL_FINISH, 9, finish);
    const char *result = res && PQntuples (res) == 1 ? gf_db_get (res, 0, "result") : NULL;
    if (!result)
        s_error (reply, 503, "unavailable");
    else if (!streq (result, "login")) {
        if (streq (result, "locked"))
            zsys_info ("account %s locked after %d failures (from %s)", person,
                       gw->config->login_failures, client);
        if (changed < 0 && streq (result, "failed"))
            s_reply (reply, 403,
                     json_pack ("{ss sb}", "error",
                                "a new password (new_password, 8..1024 bytes, not the one-time "
                                "one) is required",
                                "must_change", 1));
        else
            s_error (reply, 401, "invalid credentials");
    } else {
        bool down = false;
        //  Answer what /auth/me would: read it through the new session.
        char again[65];
        json_t *who = s_session_of (gw, token, again, &down);
        if (!who)
            s_error (reply, 503, "unavailable");
        else {
            s_set_cookie (reply, token, gw->config->session_max);
            s_reply (reply, 200, who);
        }
    }
    if (res)
        PQclear (res);
    json_decref (body); //  person pointed into it
    sodium_memzero (token, sizeof token);
}

//  Same-origin or a configured origin (gateway/cors_origins): a POST from
//  any other page is a cross-site request.
bool gf_auth_origin_ok (gf_gw_t *gw, struct MHD_Connection *conn)
{
    const char *origin = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, "Origin");
    if (!origin)
        return true; //  not a browser's cross-site POST (they always send one)
    const char *host = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    const char *sep = strstr (origin, "://");
    if (host && sep && streq (sep + 3, host))
        return true;
    return gf_gw_origin_listed (gw, origin);
}

json_t *gf_auth_session (gf_gw_t *gw, struct MHD_Connection *conn, bool *down)
{
    char sha[65];
    return s_session (gw, conn, sha, down);
}

/*  The kiosk token of a sha256 as a viewer {kind, grid, kiosk, label}, or
    NULL.  open: a kiosk link being exchanged (audited, with client). */
static json_t *s_kiosk_of (gf_gw_t *gw, const char *sha, bool open, const char *client, bool *down)
{
    const char *params[] = {sha, open ? "t" : "f", client};
    PGresult *res = gf_gw_query (gw, SQL_KIOSK, 3, params);
    *down = res == NULL;
    json_t *viewer = NULL;
    if (res && PQntuples (res) == 1)
        viewer = json_pack ("{ss ss sI ss}", "kind", "kiosk", "grid", gf_db_get (res, 0, "grid"),
                            "kiosk", (json_int_t)gf_db_get_ll (res, 0, "id"), "label",
                            gf_db_get (res, 0, "label"));
    if (res)
        PQclear (res);
    return viewer;
}

/*  The viewer's credential stays in it as "_sha" (the sha256 of the
    cookie's or the kiosk's token, never the token), so that a long stream
    can check it again (gf_auth_viewer_valid). */
json_t *gf_auth_viewer (gf_gw_t *gw, struct MHD_Connection *conn, bool *down)
{
    char sha[65];
    json_t *who = s_session (gw, conn, sha, down);
    if (who) {
        json_object_set_new (who, "kind", json_string ("session"));
        json_object_set_new (who, "_sha", json_string (sha));
        return who;
    }
    if (*down)
        return NULL;
    const char *auth =
        MHD_lookup_connection_value (conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *token = auth && strncasecmp (auth, "Bearer ", 7) == 0
                            ? auth + 7
                            : MHD_lookup_connection_value (conn, MHD_COOKIE_KIND, S_KIOSK_COOKIE);
    if (!s_is_hex64 (token))
        return NULL;
    s_token_sha256 (token, sha);
    json_t *kiosk = s_kiosk_of (gw, sha, false, NULL, down);
    if (kiosk)
        json_object_set_new (kiosk, "_sha", json_string (sha));
    return kiosk;
}

bool gf_auth_viewer_valid (gf_gw_t *gw, json_t *viewer, bool *down)
{
    const char *sha = json_string_value (json_object_get (viewer, "_sha"));
    const char *kind = json_string_value (json_object_get (viewer, "kind"));
    *down = false;
    if (!sha || !kind)
        return false;
    json_t *again = streq (kind, "session") ? s_session_sha (gw, sha, down)
                                            : s_kiosk_of (gw, sha, false, NULL, down);
    const char *grid = json_string_value (json_object_get (again, "grid"));
    bool valid = grid && streq (grid, gf_auth_scope (viewer));
    json_decref (again);
    return valid;
}

const char *gf_auth_scope (json_t *viewer)
{
    return json_string_value (json_object_get (viewer, "grid"));
}

bool gf_auth_in_scope (json_t *viewer, const char *grid)
{
    return gf_gwargs_in_subtree (grid, gf_auth_scope (viewer));
}

int gf_auth_kiosk_link (gf_gw_t *gw, struct MHD_Connection *conn, const char *url,
                        gf_gw_reply_t *reply)
{
    const char *token = MHD_lookup_connection_value (conn, MHD_GET_ARGUMENT_KIND, "kiosk");
    if (!token)
        return -1;
    char client[INET6_ADDRSTRLEN + 1], sha[65];
    gf_gw_client (conn, client, sizeof client);
    //  Any text is audited when refused (its hash); only 64 hex digits can match.
    s_token_sha256 (strlen (token) <= 1024 ? token : "", sha);
    bool down = false;
    json_t *viewer = s_kiosk_of (gw, sha, true, client, &down);
    if (!viewer || !s_is_hex64 (token)) {
        json_decref (viewer);
        s_error (reply, down ? 503 : 401,
                 down ? "unavailable" : "invalid, expired or revoked kiosk token");
        return 0;
    }
    zsys_info ("kiosk token %" JSON_INTEGER_FORMAT " (%s) opened from %s",
               json_integer_value (json_object_get (viewer, "kiosk")), gf_auth_scope (viewer),
               client);
    free (reply->cookie);
    if (asprintf (&reply->cookie,
                  S_KIOSK_COOKIE "=%s; Path=/; Max-Age=%d; Secure; HttpOnly; SameSite=Strict",
                  token, S_KIOSK_MAX_AGE) < 0)
        reply->cookie = NULL;
    //  Away from the URL that holds the token (history, Referer): the same page.
    reply->location = url;
    json_object_set_new (viewer, "location", json_string (url));
    s_reply (reply, 303, viewer);
    return 0;
}

bool gf_auth_csrf_ok (struct MHD_Connection *conn, json_t *who)
{
    const char *csrf = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, "X-CSRF-Token");
    const char *want = json_string_value (json_object_get (who, "csrf"));
    return csrf && want && strlen (csrf) == strlen (want) &&
           sodium_memcmp (csrf, want, strlen (want)) == 0;
}

int gf_auth_handle (gf_gw_t *gw, struct MHD_Connection *conn, const char *method, const char *path,
                    zhashx_t *form, const char *raw, gf_gw_reply_t *reply)
{
    bool post = streq (method, MHD_HTTP_METHOD_POST);
    bool login = streq (path, "login"), logout = streq (path, "logout"),
         all = streq (path, "logout-all"), me = streq (path, "me");
    if (!login && !logout && !all && !me)
        return -1;
    if ((me && !streq (method, MHD_HTTP_METHOD_GET)) || (!me && !post)) {
        s_error (reply, 405, "method not allowed");
        reply->allow = me ? "GET" : "POST";
        return 0;
    }
    if (post && !gf_auth_origin_ok (gw, conn)) {
        s_error (reply, 403, "cross-site request refused");
        return 0;
    }
    char client[INET6_ADDRSTRLEN + 1];
    gf_gw_client (conn, client, sizeof client);
    if (login) {
        s_login (gw, client, form, raw, reply);
        return 0;
    }
    char sha[65];
    bool down = false;
    json_t *who = s_session (gw, conn, sha, &down);
    if (!who) {
        s_error (reply, down ? 503 : 401, down ? "unavailable" : "no valid session");
        return 0;
    }
    if (me) {
        s_reply (reply, 200, who);
        return 0;
    }
    if (!gf_auth_csrf_ok (conn, who)) {
        json_decref (who);
        s_error (reply, 403, "missing or wrong X-CSRF-Token");
        return 0;
    }
    json_decref (who);
    const char *params[] = {sha, all ? "t" : "f", client};
    PGresult *res = gf_gw_query (gw, SQL_END, 3, params);
    if (!res || PQntuples (res) != 1)
        s_error (reply, 503, "unavailable");
    else {
        s_reply (reply, 200, json_pack ("{sI}", "ended", (json_int_t)gf_db_get_ll (res, 0, "n")));
        s_set_cookie (reply, "", 0);
    }
    if (res)
        PQclear (res);
    return 0;
}
