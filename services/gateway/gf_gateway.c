/*  gf_gateway — see gf_gateway.h.  The actor, the HTTP dispatcher, static
    files, /healthz, /metrics and the read-connection pool. */
#define _GNU_SOURCE /* asprintf, strndup */
#include "gf_gateway.h"
#include "gf_gw.h"
#include "gf_gwargs.h"
#include "gf_metrics.h"
#include "gf_service.h"
#include "gf_stream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_POOL_WAIT_MS 2000         /* a handler's wait for a database connection     */
#define S_STACK        (512 * 1024) /* stack of a connection thread                */
#define S_RETRY_SECS   5            /* Retry-After of a 429 or a pool-full 503         */

/* ---------------------------------------------------------------------------
   The read-connection pool: handlers run on many threads, each borrows a
   connection for one statement. */

struct _gf_dbpool_t {
    pthread_mutex_t lock; /* guards everything below    */
    pthread_cond_t freed; /* a connection came back     */
    char *conninfo;       /* libpq connection string    */
    gf_db_t **idle;       /* connections not in use     */
    size_t nidle;         /* how many are in idle       */
    size_t nopen;         /* idle + lent                */
    size_t max;           /* connections at most        */
};

gf_dbpool_t *gf_dbpool_new (const char *conninfo, size_t max)
{
    gf_dbpool_t *self = calloc (1, sizeof *self);
    self->conninfo = strdup (conninfo);
    self->idle = calloc (max, sizeof *self->idle);
    self->max = max;
    pthread_mutex_init (&self->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init (&attr);
    pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
    pthread_cond_init (&self->freed, &attr);
    pthread_condattr_destroy (&attr);
    return self;
}

void gf_dbpool_destroy (gf_dbpool_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    gf_dbpool_t *self = *self_p;
    for (size_t i = 0; i < self->nidle; i++)
        gf_db_destroy (&self->idle[i]);
    free (self->idle);
    free (self->conninfo);
    pthread_cond_destroy (&self->freed);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

//  An idle connection, a new one while fewer than max are open, or NULL
//  after S_POOL_WAIT_MS: PostgreSQL never sees more than max connections
//  from the gateway however many requests arrive at once.
static gf_db_t *s_pool_take (gf_dbpool_t *self)
{
    struct timespec deadline = gf_hub_deadline (CLOCK_MONOTONIC, S_POOL_WAIT_MS);
    gf_db_t *db = NULL;
    bool open = false;
    pthread_mutex_lock (&self->lock);
    while (!self->nidle && self->nopen >= self->max)
        if (pthread_cond_timedwait (&self->freed, &self->lock, &deadline) == ETIMEDOUT)
            break;
    if (self->nidle)
        db = self->idle[--self->nidle];
    else if (self->nopen < self->max) {
        self->nopen++;
        open = true;
    }
    pthread_mutex_unlock (&self->lock);
    if (open && !(db = gf_db_new (self->conninfo, "gf-gateway"))) {
        pthread_mutex_lock (&self->lock);
        self->nopen--;
        pthread_cond_signal (&self->freed);
        pthread_mutex_unlock (&self->lock);
    }
    return db;
}

static void s_pool_give (gf_dbpool_t *self, gf_db_t *db)
{
    pthread_mutex_lock (&self->lock);
    if (!gf_db_lost (db)) {
        self->idle[self->nidle++] = db;
        db = NULL;
    } else
        self->nopen--;
    pthread_cond_signal (&self->freed);
    pthread_mutex_unlock (&self->lock);
    gf_db_destroy (&db);
}

PGresult *gf_gw_query (gf_gw_t *gw, const char *sql, int nparams, const char *const *params)
{
    gf_db_t *db = s_pool_take (gw->pool);
    PGresult *res = NULL;
    if (db && gf_db_connect (db, 2000) == 0) {
        res = gf_db_exec (db, sql, nparams, params);
        //  A connection that dropped while idle in the pool: one retry.
        if (!res && gf_db_lost (db) && gf_db_connect (db, 2000) == 0)
            res = gf_db_exec (db, sql, nparams, params);
    }
    if (db)
        s_pool_give (gw->pool, db);
    return res;
}

char *gf_gw_query_json (gf_gw_t *gw, const char *sql, int nparams, const char *const *params)
{
    PGresult *res = gf_gw_query (gw, sql, nparams, params);
    char *json = NULL;
    if (res && PQntuples (res) == 1 && PQnfields (res) >= 1 && !PQgetisnull (res, 0, 0))
        json = strdup (PQgetvalue (res, 0, 0));
    if (res)
        PQclear (res);
    return json;
}

void gf_gw_reply_json (gf_gw_reply_t *reply, unsigned status, char *body)
{
    reply->status = status;
    reply->type = "application/json; charset=utf-8";
    free (reply->body);
    reply->body = body;
    reply->size = body ? strlen (body) : 0;
}

/* ---------------------------------------------------------------------------
   Request rate per client IP: a token bucket each (gateway/per_ip_rate
   tokens a second, gateway/per_ip_burst deep). */

typedef struct {
    double tokens; /* requests it may make now */
    int64_t at;    /* zclock_mono when tokens was computed */
} s_bucket_t;

struct _gf_ratelimit_t {
    pthread_mutex_t lock; /* guards buckets and streams */
    zhashx_t *buckets;    /* client address text -> s_bucket_t */
    zhashx_t *streams;    /* client address text -> SSE streams open (as a pointer-sized count) */
    double rate, burst;
};

static void s_free_item (void **item)
{
    free (*item);
    *item = NULL;
}

static gf_ratelimit_t *s_rate_new (double rate, int burst)
{
    gf_ratelimit_t *self = calloc (1, sizeof *self);
    pthread_mutex_init (&self->lock, NULL);
    self->buckets = zhashx_new ();
    zhashx_set_destructor (self->buckets, s_free_item);
    self->streams = zhashx_new ();
    self->rate = rate;
    self->burst = burst;
    return self;
}

static void s_rate_destroy (gf_ratelimit_t **self_p)
{
    if (!*self_p)
        return;
    zhashx_destroy (&(*self_p)->buckets);
    zhashx_destroy (&(*self_p)->streams);
    pthread_mutex_destroy (&(*self_p)->lock);
    free (*self_p);
    *self_p = NULL;
}

//  Takes a token for a request from `client`; false when its bucket is empty.
static bool s_rate_take (gf_ratelimit_t *self, const char *client)
{
    if (self->rate <= 0)
        return true;
    int64_t now = zclock_mono ();
    pthread_mutex_lock (&self->lock);
    s_bucket_t *b = zhashx_lookup (self->buckets, client);
    if (!b) {
        //  Forget buckets that have filled up again before the table grows big.
        if (zhashx_size (self->buckets) >= 65536) {
            zlistx_t *keys = zhashx_keys (self->buckets);
            for (char *k = zlistx_first (keys); k; k = zlistx_next (keys)) {
                s_bucket_t *old = zhashx_lookup (self->buckets, k);
                if (old->tokens + (double)(now - old->at) * self->rate / 1000.0 >= self->burst)
                    zhashx_delete (self->buckets, k);
            }
            zlistx_destroy (&keys);
        }
        b = calloc (1, sizeof *b);
        b->tokens = self->burst;
        b->at = now;
        zhashx_insert (self->buckets, client, b);
    }
    b->tokens += (double)(now - b->at) * self->rate / 1000.0;
    if (b->tokens > self->burst)
        b->tokens = self->burst;
    b->at = now;
    bool ok = b->tokens >= 1.0;
    if (ok)
        b->tokens -= 1.0;
    pthread_mutex_unlock (&self->lock);
    return ok;
}

static const char *s_client (struct MHD_Connection *conn, char *buf, size_t size);

bool gf_gw_login_admit (gf_gw_t *gw, const char *client)
{
    return s_rate_take (gw->login_rate, client);
}

const char *gf_gw_client (struct MHD_Connection *conn, char *buf, size_t size)
{
    return s_client (conn, buf, size);
}

bool gf_gw_sse_enter (gf_gw_t *gw, struct MHD_Connection *conn, char *client)
{
    s_client (conn, client, INET6_ADDRSTRLEN + 1);
    gf_ratelimit_t *self = gw->rate;
    pthread_mutex_lock (&self->lock);
    uintptr_t n = (uintptr_t)zhashx_lookup (self->streams, client);
    bool ok = gw->config->sse_per_ip == 0 || n < (uintptr_t)gw->config->sse_per_ip;
    if (ok)
        zhashx_update (self->streams, client, (void *)(n + 1));
    pthread_mutex_unlock (&self->lock);
    return ok;
}

void gf_gw_sse_leave (gf_gw_t *gw, const char *client)
{
    gf_ratelimit_t *self = gw->rate;
    pthread_mutex_lock (&self->lock);
    uintptr_t n = (uintptr_t)zhashx_lookup (self->streams, client);
    if (n > 1)
        zhashx_update (self->streams, client, (void *)(n - 1));
    else
        zhashx_delete (self->streams, client);
    pthread_mutex_unlock (&self->lock);
}

/* ---------------------------------------------------------------------------
   Headers every response carries, the Host check and CORS */

//  The dashboard's scripts and styles are same-origin files (web/dist);
//  its tables set widths with style attributes, hence style-src-attr.
#define S_CSP                                                                                      \
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "    \
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "               \
    "form-action 'self'; frame-ancestors 'none'"

//  A comma list as a NULL-terminated array of trimmed, lower-case items.
static char **s_split (const char *text)
{
    size_t n = 1;
    for (const char *p = text; *p; p++)
        n += *p == ',';
    char **list = calloc (n + 1, sizeof *list);
    char *copy = strdup (text), *save = NULL;
    size_t i = 0;
    for (char *t = strtok_r (copy, ", ", &save); t && i < n; t = strtok_r (NULL, ", ", &save)) {
        for (char *c = t; *c; c++)
            *c = (char)tolower ((unsigned char)*c);
        list[i++] = strdup (t);
    }
    free (copy);
    return list;
}

static void s_list_free (char ***list_p)
{
    for (char **p = *list_p; p && *p; p++)
        free (*p);
    free (*list_p);
    *list_p = NULL;
}

static bool s_listed (char **list, const char *item, size_t len)
{
    for (char **p = list; p && *p; p++)
        if (strlen (*p) == len && strncasecmp (*p, item, len) == 0)
            return true;
    return false;
}

//  The Host header names this gateway: one of gateway/hosts (any port), or
//  with none configured a loopback name or the listen address.  HTTP/1.0
//  clients may send none.
static bool s_host_ok (gf_gw_t *gw, const char *host)
{
    if (!host)
        return true;
    size_t len = strlen (host);
    if (host[0] == '[') { //  [v6]:port
        const char *close = strchr (host, ']');
        len = close ? (size_t)(close - host + 1) : len;
    } else {
        const char *colon = strchr (host, ':');
        if (colon)
            len = (size_t)(colon - host);
    }
    return len > 0 && s_listed (gw->hosts, host, len);
}

bool gf_gw_origin_listed (gf_gw_t *gw, const char *origin)
{
    return s_listed (gw->origins, origin, strlen (origin));
}

void gf_gw_headers (gf_gw_t *gw, struct MHD_Connection *conn, struct MHD_Response *resp)
{
    MHD_add_response_header (resp, "Content-Security-Policy", S_CSP);
    MHD_add_response_header (resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header (resp, "X-Frame-Options", "DENY");
    MHD_add_response_header (resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header (resp, "Cross-Origin-Resource-Policy", "same-origin");
    //  Cross-origin reads only for the configured origins (default none).
    const char *origin = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, "Origin");
    if (origin && s_listed (gw->origins, origin, strlen (origin))) {
        MHD_add_response_header (resp, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        MHD_add_response_header (resp, MHD_HTTP_HEADER_VARY, "Origin");
    }
}

enum MHD_Result gf_gw_error (gf_gw_t *gw, struct MHD_Connection *conn, unsigned status,
                             const char *what, int retry_after)
{
    char *body = NULL;
    if (asprintf (&body, "{\"error\":\"%s\"}", what) < 0)
        return MHD_NO;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer (strlen (body), body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free (body);
        return MHD_NO;
    }
    MHD_add_response_header (resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json; charset=utf-8");
    MHD_add_response_header (resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (retry_after > 0) {
        char secs[16];
        snprintf (secs, sizeof secs, "%d", retry_after);
        MHD_add_response_header (resp, MHD_HTTP_HEADER_RETRY_AFTER, secs);
    }
    gf_gw_headers (gw, conn, resp);
    enum MHD_Result rc = MHD_queue_response (conn, status, resp);
    MHD_destroy_response (resp);
    if (status >= 100 && status < 600)
        atomic_fetch_add (&gw->requests[status / 100], 1);
    return rc;
}

/* ---------------------------------------------------------------------------
   /healthz and /metrics */

static void s_healthz (gf_gw_t *gw, gf_gw_reply_t *reply)
{
    PGresult *res =
        gf_gw_query (gw, "SELECT coalesce (max (seq), 0) AS head FROM case_events", 0, NULL);
    bool db_ok = res != NULL;
    long long db_head = res ? gf_db_get_ll (res, 0, "head") : -1;
    if (res)
        PQclear (res);
    /* A statement refused for want of a privilege (gf_db), or a user
       that is not a member of gf_gateway (gf_service): not ready. */
    bool granted = gf_db_privileges_ok () && gf_service_role_ok ();
    char *body = NULL;
    if (asprintf (&body,
                  "{\"status\":\"%s\",\"database\":%s,\"privileges\":%s,\"log_head\":%lld,"
                  "\"stream_last_seq\":%" PRIu64 ",\"relay_head\":%" PRIu64 ",\"sse_clients\":%ld}",
                  !db_ok    ? "unavailable"
                  : granted ? "ok"
                            : "permission denied",
                  db_ok ? "true" : "false", granted ? "true" : "false", db_head,
                  gf_hub_last (gw->hub), (uint64_t)atomic_load (&gw->relay_head),
                  atomic_load (&gw->sse_clients)) < 0)
        body = NULL;
    gf_gw_reply_json (reply, db_ok && granted ? 200 : 503, body);
}

/*  The month's indicators as gauges, per L1 and L2 grid (gf_indicator_metrics:
    deploy/sql/repeatable/indicators.sql); nothing when the database is
    away (the other metrics still answer). */
static const char *SQL_INDICATOR_METRICS = "SELECT * FROM gf_indicator_metrics ()";

static void s_metrics_indicators (gf_gw_t *gw, FILE *out)
{
    PGresult *res = gf_gw_query (gw, SQL_INDICATOR_METRICS, 0, NULL);
    const char *last = "";
    for (int r = 0; res && r < PQntuples (res); r++) {
        const char *metric = gf_db_get (res, r, "metric");
        if (!streq (metric, last))
            fprintf (out, "# HELP %s %s\n# TYPE %s gauge\n", metric, gf_db_get (res, r, "help"),
                     metric);
        fprintf (out, "%s{grid=\"%s\"} %s\n", metric, gf_db_get (res, r, "grid"),
                 gf_db_get (res, r, "value"));
        last = metric;
    }
    if (res)
        PQclear (res);
}

static void s_metrics (gf_gw_t *gw, gf_gw_reply_t *reply)
{
    char *body = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&body, &size);
    if (!out)
        return;
    fprintf (out, "# HELP gf_gateway_http_responses_total HTTP responses sent, by status class.\n"
                  "# TYPE gf_gateway_http_responses_total counter\n");
    for (int c = 1; c <= 5; c++)
        fprintf (out, "gf_gateway_http_responses_total{class=\"%dxx\"} %" PRIu64 "\n", c,
                 (uint64_t)atomic_load (&gw->requests[c]));
    fprintf (out,
             "# HELP gf_gateway_sse_clients Server-sent-event streams open now.\n"
             "# TYPE gf_gateway_sse_clients gauge\n"
             "gf_gateway_sse_clients %ld\n"
             "# HELP gf_gateway_sse_streams_total Server-sent-event streams opened.\n"
             "# TYPE gf_gateway_sse_streams_total counter\n"
             "gf_gateway_sse_streams_total %" PRIu64 "\n"
             "# HELP gf_gateway_sse_events_total Events written to server-sent-event streams.\n"
             "# TYPE gf_gateway_sse_events_total counter\n"
             "gf_gateway_sse_events_total %" PRIu64 "\n"
             "# HELP gf_gateway_sse_overflows_total Streams closed because the client lagged "
             "past the buffer.\n"
             "# TYPE gf_gateway_sse_overflows_total counter\n"
             "gf_gateway_sse_overflows_total %" PRIu64 "\n"
             "# HELP gf_gateway_sse_replays_total Streams that resumed through a relay replay.\n"
             "# TYPE gf_gateway_sse_replays_total counter\n"
             "gf_gateway_sse_replays_total %" PRIu64 "\n"
             "# HELP gf_gateway_open311_posts_total Open311 POST requests.json, by result.\n"
             "# TYPE gf_gateway_open311_posts_total counter\n"
             "gf_gateway_open311_posts_total{result=\"created\"} %" PRIu64 "\n"
             "gf_gateway_open311_posts_total{result=\"duplicate\"} %" PRIu64 "\n"
             "gf_gateway_open311_posts_total{result=\"refused\"} %" PRIu64 "\n"
             "# HELP gf_gateway_stream_last_seq Newest event seq the gateway holds.\n"
             "# TYPE gf_gateway_stream_last_seq gauge\n"
             "gf_gateway_stream_last_seq %" PRIu64 "\n"
             "# HELP gf_gateway_stream_first_seq Oldest event seq in the SSE buffer (0: empty).\n"
             "# TYPE gf_gateway_stream_first_seq gauge\n"
             "gf_gateway_stream_first_seq %" PRIu64 "\n"
             "# HELP gf_gateway_relay_head The relay's head seq as last heard.\n"
             "# TYPE gf_gateway_relay_head gauge\n"
             "gf_gateway_relay_head %" PRIu64 "\n"
             "# HELP gf_gateway_head_regressions_total Times the event log's head went below a "
             "seq already seen (failover, restore): the buffer restarted at the new head.\n"
             "# TYPE gf_gateway_head_regressions_total counter\n"
             "gf_gateway_head_regressions_total %" PRIu64 "\n",
             atomic_load (&gw->sse_clients), (uint64_t)atomic_load (&gw->sse_streams),
             (uint64_t)atomic_load (&gw->sse_events), (uint64_t)atomic_load (&gw->sse_overflows),
             (uint64_t)atomic_load (&gw->sse_replays), (uint64_t)atomic_load (&gw->posts_ok),
             (uint64_t)atomic_load (&gw->posts_dup), (uint64_t)atomic_load (&gw->posts_err),
             gf_hub_last (gw->hub), gf_hub_first (gw->hub), (uint64_t)atomic_load (&gw->relay_head),
             gf_hub_epoch (gw->hub, NULL, NULL));
    fprintf (out, "# HELP gf_gateway_http_refused_total Requests refused before they were "
                  "handled, by reason.\n"
                  "# TYPE gf_gateway_http_refused_total counter\n");
    const char *reasons[] = {"rate", "host", "body", "sse_full", "sse_ip"};
    for (int r = 0; r < 5; r++)
        fprintf (out, "gf_gateway_http_refused_total{reason=\"%s\"} %" PRIu64 "\n", reasons[r],
                 (uint64_t)atomic_load (&gw->refused[r]));
    s_metrics_indicators (gw, out);
    /* Then what every service reports (database latency, reconnects, ...). */
    char *common = gf_metrics_render ();
    if (common)
        fputs (common, out);
    free (common);
    fclose (out);
    reply->status = 200;
    reply->type = "text/plain; version=0.0.4; charset=utf-8";
    reply->body = body;
    reply->size = size;
}

/* ---------------------------------------------------------------------------
   Static files of the dashboard */

static const char *s_mime (const char *path)
{
    const char *dot = strrchr (path, '.');
    static const char *map[][2] = {{".html", "text/html; charset=utf-8"},
                                   {".js", "text/javascript; charset=utf-8"},
                                   {".css", "text/css; charset=utf-8"},
                                   {".svg", "image/svg+xml"},
                                   {".png", "image/png"},
                                   {".ico", "image/x-icon"},
                                   {".json", "application/json; charset=utf-8"},
                                   {".webmanifest", "application/manifest+json"},
                                   {".txt", "text/plain; charset=utf-8"},
                                   {".woff2", "font/woff2"}};
    for (size_t i = 0; dot && i < sizeof map / sizeof map[0]; i++)
        if (streq (dot, map[i][0]))
            return map[i][1];
    return "application/octet-stream";
}

//  Only plain relative names below web_dir: letters, digits, '.', '_', '-',
//  '/', no "..", no hidden files.
static bool s_safe_path (const char *path)
{
    if (!*path || strstr (path, "..") || strstr (path, "/.") || *path == '.')
        return false;
    for (const char *p = path; *p; p++)
        if (!isalnum ((unsigned char)*p) && !strchr ("._-/", *p))
            return false;
    return true;
}

static struct MHD_Response *s_static (gf_gw_t *gw, const char *url, const char **type)
{
    const char *rel = url + 1;
    if (streq (url, "/"))
        rel = "index.html";
    else if (streq (url, "/directory"))
        rel = "directory.html";
    else if (streq (url, "/ratings"))
        rel = "ratings.html";
    else if (streq (url, "/city"))
        rel = "city.html"; //  the city dashboard (issue 18)
    else if (streq (url, "/wb") || streq (url, "/wb/"))
        rel = "wb/index.html"; //  the staff workbench (issue 16)
    else if (streq (url, "/login"))
        rel = "login.html";
    if (!s_safe_path (rel))
        return NULL;
    char *file = zsys_sprintf ("%s/%s", gw->web_dir, rel);
    int fd = open (file, O_RDONLY | O_CLOEXEC);
    zstr_free (&file);
    struct stat st;
    if (fd < 0)
        return NULL;
    if (fstat (fd, &st) || !S_ISREG (st.st_mode)) {
        close (fd);
        return NULL;
    }
    *type = s_mime (rel);
    return MHD_create_response_from_fd ((uint64_t)st.st_size, fd);
}

/* ---------------------------------------------------------------------------
   The dispatcher */

typedef struct {
    struct MHD_PostProcessor *post; /* parses the form body              */
    zhashx_t *form;                 /* field -> value                    */
    size_t bytes;                   /* body bytes received               */
    bool bad_form;                  /* not a form MHD can parse          */
    char *raw;                      /* a body that is not a form (JSON), NUL-terminated */
} s_request_t;

static enum MHD_Result s_form_field (void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *filename, const char *content_type,
                                     const char *encoding, const char *data, uint64_t off,
                                     size_t size)
{
    gf_gwargs_form_add (cls, key, data, off, size);
    return MHD_YES;
}

static void s_request_done (void *cls, struct MHD_Connection *conn, void **con_cls,
                            enum MHD_RequestTerminationCode toe)
{
    s_request_t *req = *con_cls;
    if (!req)
        return;
    if (req->post)
        MHD_destroy_post_processor (req->post);
    zhashx_destroy (&req->form);
    free (req->raw);
    free (req);
    *con_cls = NULL;
}

static enum MHD_Result s_queue (gf_gw_t *gw, struct MHD_Connection *conn, gf_gw_reply_t *reply,
                                const char *url)
{
    bool unavailable = false;
    if (!reply->body) {
        //  A handler that could not build its answer (database down or every
        //  pooled connection busy, out of memory).
        reply->status = reply->status >= 400 ? reply->status : 503;
        reply->type = "application/json; charset=utf-8";
        reply->body = strdup ("{\"error\":\"unavailable\"}");
        reply->size = strlen (reply->body);
        unavailable = reply->status == 503;
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer (reply->size, reply->body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free (reply->body);
        reply->body = NULL;
        return MHD_NO;
    }
    reply->body = NULL;
    MHD_add_response_header (resp, MHD_HTTP_HEADER_CONTENT_TYPE, reply->type);
    MHD_add_response_header (resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (unavailable)
        MHD_add_response_header (resp, MHD_HTTP_HEADER_RETRY_AFTER, "5");
    else if (reply->retry_after > 0) {
        char secs[16];
        snprintf (secs, sizeof secs, "%d", reply->retry_after);
        MHD_add_response_header (resp, MHD_HTTP_HEADER_RETRY_AFTER, secs);
    }
    if (reply->cookie) {
        MHD_add_response_header (resp, MHD_HTTP_HEADER_SET_COOKIE, reply->cookie);
        free (reply->cookie);
        reply->cookie = NULL;
    }
    gf_gw_headers (gw, conn, resp);
    if (reply->allow)
        MHD_add_response_header (resp, MHD_HTTP_HEADER_ALLOW, reply->allow);
    if (reply->location)
        MHD_add_response_header (resp, MHD_HTTP_HEADER_LOCATION, reply->location);
    enum MHD_Result rc = MHD_queue_response (conn, reply->status, resp);
    MHD_destroy_response (resp);
    if (reply->status >= 100 && reply->status < 600)
        atomic_fetch_add (&gw->requests[reply->status / 100], 1);
    return rc;
}

//  A refusal in the dialect of the URL: Open311's error list, else {"error": ...}.
static enum MHD_Result s_refuse (gf_gw_t *gw, struct MHD_Connection *conn, const char *url,
                                 unsigned status, const char *what, int retry_after)
{
    if (strncmp (url, "/open311/", 9) != 0)
        return gf_gw_error (gw, conn, status, what, retry_after);
    gf_gw_reply_t reply = {0};
    char *body = NULL;
    if (asprintf (&body, "[{\"code\":%u,\"description\":\"%s\"}]", status, what) < 0)
        body = NULL;
    gf_gw_reply_json (&reply, status, body);
    if (strncmp (url, "/open311/", 9) == 0 && status == 413)
        atomic_fetch_add (&gw->posts_err, 1);
    return s_queue (gw, conn, &reply, url);
}

static const char *s_client (struct MHD_Connection *conn, char *buf, size_t size)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info (conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf (buf, size, "?");
    if (info && info->client_addr) {
        const struct sockaddr *sa = info->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop (AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)size);
        else if (sa->sa_family == AF_INET6)
            inet_ntop (AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
                       (socklen_t)size);
    }
    return buf;
}

//  The first call of a request, before any body byte is read: the request
//  rate of its address, its Host, and a declared body over the limit.
//  Returns true when it may go on (else a refusal was queued into *rc).
static bool s_admit (gf_gw_t *gw, struct MHD_Connection *conn, const char *url, bool post,
                     enum MHD_Result *rc)
{
    char client[INET6_ADDRSTRLEN + 1];
    if (!s_rate_take (gw->rate, s_client (conn, client, sizeof client))) {
        atomic_fetch_add (&gw->refused[0], 1);
        *rc = s_refuse (gw, conn, url, 429, "too many requests from this address; retry later",
                        S_RETRY_SECS);
        return false;
    }
    const char *host = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (!s_host_ok (gw, host)) {
        atomic_fetch_add (&gw->refused[1], 1);
        *rc = s_refuse (gw, conn, url, 400,
                        "the Host header is not a name of this gateway (gateway/hosts)", 0);
        return false;
    }
    const char *length =
        MHD_lookup_connection_value (conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length) {
        char *end = NULL;
        errno = 0;
        unsigned long long n = strtoull (length, &end, 10);
        if (errno || *end || n > (unsigned long long)gw->config->http_max_body) {
            atomic_fetch_add (&gw->refused[2], 1);
            char *what = zsys_sprintf ("request body over %d bytes", gw->config->http_max_body);
            *rc = s_refuse (gw, conn, url, 413, what, 0);
            zstr_free (&what);
            return false;
        }
    }
    (void)post;
    return true;
}

static enum MHD_Result s_handle (void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_size, void **con_cls)
{
    gf_gw_t *gw = cls;
    bool post = streq (method, MHD_HTTP_METHOD_POST);
    s_request_t *req = *con_cls;
    if (!req) {
        req = calloc (1, sizeof *req);
        if (!req)
            return MHD_NO;
        *con_cls = req;
        enum MHD_Result rc = MHD_NO;
        if (!s_admit (gw, conn, url, post, &rc))
            return rc; //  refused before any body byte was read
        if (post) {
            //  A POST body arrives in pieces: collect the form first.
            req->form = zhashx_new ();
            zhashx_set_destructor (req->form, s_free_item);
            req->post = MHD_create_post_processor (conn, 16 * 1024, s_form_field, req->form);
            req->bad_form = req->post == NULL;
            return MHD_YES;
        }
    }
    if (post && *upload_size) {
        req->bytes += *upload_size;
        if (req->bytes > (size_t)gw->config->http_max_body) {
            //  A chunked body (no Content-Length) past the limit: stop reading
            //  and close the connection.
            atomic_fetch_add (&gw->refused[2], 1);
            return MHD_NO;
        }
        if (req->post && MHD_post_process (req->post, upload_data, *upload_size) != MHD_YES)
            req->bad_form = true;
        else if (!req->post) {
            //  Not a form (JSON for /auth/login): kept whole, within max_body.
            char *raw = realloc (req->raw, req->bytes + 1);
            if (!raw)
                return MHD_NO;
            memcpy (raw + req->bytes - *upload_size, upload_data, *upload_size);
            raw[req->bytes] = 0;
            req->raw = raw;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    gf_gw_reply_t reply = {0};
    if (strncmp (url, "/open311/v2/", 12) == 0) {
        if (post && req->bad_form) {
            atomic_fetch_add (&gw->posts_err, 1);
            return s_refuse (gw, conn, url, 400,
                             "body must be application/x-www-form-urlencoded or "
                             "multipart/form-data",
                             0);
        }
        gf_open311_handle (gw, conn, method, url + 12, post ? req->form : NULL, &reply);
        return s_queue (gw, conn, &reply, url);
    }
    if (strncmp (url, "/notices", 8) == 0) {
        enum MHD_Result served = MHD_NO;
        int rc = gf_notices_handle (gw, conn, method, url + 8, post ? req->form : NULL, req->raw,
                                    &reply, &served);
        if (rc == 1) {
            atomic_fetch_add (&gw->requests[2], 1);
            return served;
        }
        if (rc == 0)
            return s_queue (gw, conn, &reply, url);
    }
    if (strncmp (url, "/auth/", 6) == 0 &&
        gf_auth_handle (gw, conn, method, url + 6, post ? req->form : NULL, req->raw, &reply) == 0)
        return s_queue (gw, conn, &reply, url);
    if (strncmp (url, "/api/wb/", 8) == 0 &&
        gf_wb_handle (gw, conn, method, url + 8, post ? req->raw : NULL, &reply) == 0)
        return s_queue (gw, conn, &reply, url);
    if (!streq (method, MHD_HTTP_METHOD_GET) && !streq (method, MHD_HTTP_METHOD_HEAD)) {
        gf_gw_reply_json (&reply, 405, strdup ("{\"error\":\"method not allowed\"}"));
        reply.allow = "GET, HEAD";
        return s_queue (gw, conn, &reply, url);
    }
    if (streq (url, "/stream")) {
        atomic_fetch_add (&gw->requests[2], 1);
        return gf_sse_serve (gw, conn);
    }
    if (streq (url, "/healthz")) {
        s_healthz (gw, &reply);
        return s_queue (gw, conn, &reply, url);
    }
    if (streq (url, "/metrics")) {
        s_metrics (gw, &reply);
        return s_queue (gw, conn, &reply, url);
    }
    if (strncmp (url, "/api/", 5) == 0) {
        if (gf_dash_handle (gw, conn, url + 5, &reply) != 0)
            gf_gw_reply_json (&reply, 404, strdup ("{\"error\":\"not found\"}"));
        return s_queue (gw, conn, &reply, url);
    }
    //  A big screen's kiosk link (?kiosk=TOKEN): the token becomes a cookie.
    if (gf_auth_kiosk_link (gw, conn, url, &reply) == 0)
        return s_queue (gw, conn, &reply, url);
    const char *type = NULL;
    struct MHD_Response *resp = s_static (gw, url, &type);
    if (!resp) {
        reply.status = 404;
        reply.type = "text/plain; charset=utf-8";
        reply.body = strdup ("404 未找到 not found\n");
        reply.size = strlen (reply.body);
        return s_queue (gw, conn, &reply, url);
    }
    MHD_add_response_header (resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    //  Built assets carry a content hash in their names; pages do not.
    MHD_add_response_header (resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                             strncmp (url, "/assets/", 8) == 0 ? "max-age=31536000, immutable"
                                                               : "no-cache");
    gf_gw_headers (gw, conn, resp);
    enum MHD_Result rc = MHD_queue_response (conn, MHD_HTTP_OK, resp);
    MHD_destroy_response (resp);
    atomic_fetch_add (&gw->requests[2], 1);
    return rc;
}

/* ---------------------------------------------------------------------------
   The actor */

//  GF_HTTP: "PORT" or "ADDR:PORT" (IPv4); default 127.0.0.1:8080.
static int s_parse_listen (const char *spec, struct sockaddr_in *addr)
{
    memset (addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    const char *colon = strrchr (spec, ':');
    const char *port = colon ? colon + 1 : spec;
    if (colon) {
        char host[64];
        size_t n = (size_t)(colon - spec);
        if (n == 0 || n >= sizeof host)
            return -1;
        memcpy (host, spec, n);
        host[n] = 0;
        if (inet_pton (AF_INET, host, &addr->sin_addr) != 1)
            return -1;
    }
    char *end = NULL;
    long p = strtol (port, &end, 10);
    if (!*port || *end || p <= 0 || p > 65535)
        return -1;
    addr->sin_port = htons ((uint16_t)p);
    return 0;
}

static long s_env_long (const char *name, long def, long min, long max)
{
    const char *v = getenv (name);
    char *end = NULL;
    long n = v ? strtol (v, &end, 10) : def;
    if (v && (*end || !*v || n < min || n > max)) {
        zsys_warning ("%s=%s is not in %ld..%ld; using %ld", name, v, min, max, def);
        n = def;
    }
    return n;
}

//  Where the built dashboard is: GF_WEB, else services/gateway/web/dist
//  beside the binary's bin/ (the source tree), else share/gridflow/web beside
//  it (make install), else under the cwd.
static char *s_web_dir (void)
{
    if (getenv ("GF_WEB") && *getenv ("GF_WEB"))
        return strdup (getenv ("GF_WEB"));
    char exe[4096];
    ssize_t n = readlink ("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        //  bin/gf-gateway or build/asan/bin/gf-gateway: try one to three levels up.
        for (int up = 0; up < 3; up++) {
            char *slash = strrchr (exe, '/');
            if (!slash)
                break;
            *slash = 0;
            //  The source tree, or an installed tree (PREFIX/share/gridflow/web).
            const char *below[] = {"services/gateway/web/dist", "share/gridflow/web"};
            for (size_t i = 0; i < 2; i++) {
                char *dir = zsys_sprintf ("%s/../%s", exe, below[i]);
                struct stat st;
                if (stat (dir, &st) == 0 && S_ISDIR (st.st_mode)) {
                    char *real = realpath (dir, NULL);
                    zstr_free (&dir);
                    return real;
                }
                zstr_free (&dir);
            }
        }
    }
    return strdup ("services/gateway/web/dist");
}

//  The seq to start following from: keep up to `keep` recent events so
//  reconnecting browsers are served from memory.  -1 while the database is
//  unreachable.
static int64_t s_start_seq (gf_gw_t *gw, uint64_t keep)
{
    PGresult *res =
        gf_gw_query (gw, "SELECT coalesce (max (seq), 0) AS head FROM case_events", 0, NULL);
    if (!res)
        return -1;
    long long head = gf_db_get_ll (res, 0, "head");
    PQclear (res);
    return head > (long long)keep ? head - (long long)keep : 0;
}

void gf_gateway_actor (zsock_t *pipe, void *args)
{
    gf_config_t *config = args;
    gf_gw_t gw = {.config = config};
    gw.heartbeat_ms = (int)s_env_long ("GF_SSE_HEARTBEAT_MS", 15000, 100, 600000);
    gw.intake_timeout = (int)s_env_long ("GF_INTAKE_TIMEOUT_MS", 3000, 100, 60000);
    long capacity = s_env_long ("GF_SSE_BUFFER", 10000, 16, 10000000);
    const char *listen = config->http;
    struct sockaddr_in addr;
    if (s_parse_listen (listen, &addr)) {
        zsys_error ("gateway/http (GF_HTTP) '%s' is not PORT or IPv4ADDR:PORT", listen);
        zsock_signal (pipe, 1);
        return;
    }
    if (gf_auth_init () != 0) {
        zsys_error ("libsodium cannot start");
        zsock_signal (pipe, 1);
        return;
    }
    gw.pool = gf_dbpool_new (config->db, (size_t)config->http_db_pool);
    gw.web_dir = s_web_dir ();
    gw.rate = s_rate_new (config->http_rate, config->http_burst);
    //  Login attempts: their own buckets, gateway/login_ip_rate a minute.
    gw.login_rate = s_rate_new (config->login_ip_rate / 60.0, config->login_ip_burst);
    gw.origins = s_split (config->http_cors);
    if (*config->http_hosts)
        gw.hosts = s_split (config->http_hosts);
    else {
        //  No names configured: loopback names and the listen address only.
        char *local = zsys_sprintf ("localhost,127.0.0.1,[::1],%s", inet_ntoa (addr.sin_addr));
        gw.hosts = s_split (local);
        zstr_free (&local);
    }

    //  Wait for the database: the stream's starting point comes from it.
    int64_t start = -1;
    zpoller_t *poller = zpoller_new (pipe, NULL);
    bool term = false;
    zsock_signal (pipe, 0);
    while (!term && (start = s_start_seq (&gw, (uint64_t)capacity)) < 0) {
        zsys_warning ("database unavailable; retrying");
        if (zpoller_wait (poller, 1000) == pipe)
            term = gf_service_pipe_term (pipe);
        term = term || zsys_interrupted;
    }
    struct MHD_Daemon *daemon = NULL;
    gf_stream_t *stream = NULL;
    if (!term) {
        gw.hub = gf_hub_new ((size_t)capacity, (uint64_t)start);
        stream = gf_stream_new_secure (config->pub, config->replay, "", (uint64_t)start, 0, 0,
                                       config->cert, config->relay_cert);
        gw.replayer = gf_replayer_new (config);
        //  Thread per connection (SSE streams wait in their threads), at most
        //  gateway/connections of them and gateway/per_ip_connections per
        //  client address; a connection silent for gateway/idle_timeout
        //  seconds is closed.
        daemon = MHD_start_daemon (
            MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
                MHD_USE_POLL,
            0, NULL, NULL, s_handle, &gw, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
            MHD_OPTION_NOTIFY_COMPLETED, s_request_done, NULL, MHD_OPTION_CONNECTION_LIMIT,
            (unsigned)config->http_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
            (unsigned)config->http_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
            (unsigned)config->http_timeout, MHD_OPTION_THREAD_STACK_SIZE, (size_t)S_STACK,
            MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024, MHD_OPTION_END);
        if (!daemon || !stream) {
            zsys_error ("cannot listen on %s (or reach the relay)", listen);
            term = true;
        } else
            zsys_info ("listening on http://%s:%d/ (dashboard files: %s), following the relay "
                       "from seq %" PRId64,
                       inet_ntoa (addr.sin_addr), ntohs (addr.sin_port), gw.web_dir, start);
    }
    while (!term && !zsys_interrupted) {
        if (zpoller_wait (poller, 0) == pipe && gf_service_pipe_term (pipe))
            break;
        char *topic = NULL;
        gf_msg_t *event = gf_stream_next (stream, 100, &topic);
        atomic_store (&gw.relay_head, gf_stream_head (stream));
        if (gf_stream_regressions (stream) > gf_hub_epoch (gw.hub, NULL, NULL)) {
            //  The log went back (gf_stream logged it): the hub restarts
            //  at the new log's head, before this event of the new log.
            //  Each SSE stream is told (gf_sse.c) and goes on from there.
            uint64_t base = gf_stream_regressed_at (stream);
            zsys_warning ("head regression: the buffer restarts after seq %" PRIu64
                          " (it held up to %" PRIu64 ")",
                          base, gf_hub_last (gw.hub));
            gf_hub_reset (gw.hub, base);
        }
        if (!event)
            continue;
        uint64_t seq = 0;
        char *grid = NULL;
        gf_msg_get_uint (event, "seq", false, &seq, NULL);
        gf_msg_get_str (event, "grid", false, 0, &grid, NULL);
        char *json = gf_msg_to_json (event);
        const char *type = gf_msg_type (event);
        char *text = zsys_sprintf ("id: %" PRIu64 "\nevent: %s\ndata: %s\n\n", seq, type,
                                   json ? json : "{}");
        gf_hub_append (gw.hub, seq, type, grid, text);
        zstr_free (&text);
        free (json);
        free (grid);
        free (topic);
        gf_msg_destroy (&event);
    }
    //  Wake every SSE stream so its thread ends, then stop the server.
    if (gw.hub)
        gf_hub_stop (gw.hub);
    if (daemon)
        MHD_stop_daemon (daemon);
    gf_stream_destroy (&stream);
    gf_replayer_destroy (&gw.replayer);
    gf_hub_destroy (&gw.hub);
    gf_dbpool_destroy (&gw.pool);
    s_rate_destroy (&gw.rate);
    s_rate_destroy (&gw.login_rate);
    s_list_free (&gw.hosts);
    s_list_free (&gw.origins);
    free (gw.web_dir);
    zpoller_destroy (&poller);
}
