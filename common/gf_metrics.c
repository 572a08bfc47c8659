/*  gf_metrics — counters, gauges, histograms and readiness over HTTP. */
#include "gf_metrics.h"

#include <czmq.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

#define MAX_METRICS    256
#define MAX_CONDITIONS 16

typedef enum { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM } s_kind_t;

/*  Histogram bucket upper bounds, seconds (DB statements, meetings). */
static const double s_bounds[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30};
#define BUCKETS (sizeof s_bounds / sizeof s_bounds[0])

struct _gf_metric_t {
    char name[64];                     /* metric name                          */
    char labels[128];                  /* label text without braces, or ""     */
    s_kind_t kind;                     /* what it is                           */
    _Atomic int64_t value;             /* counter / gauge value; histogram count */
    _Atomic uint64_t buckets[BUCKETS]; /* histogram: observations <= bound     */
    _Atomic uint64_t sum_us;           /* histogram: sum of observations, µs   */
};

/*  What each metric means, for # HELP lines. */
static const struct {
    const char *name;
    const char *help;
} s_help[] = {
    {"gf_up", "1 while the service runs"},
    {"gf_start_time_seconds", "Unix time the process started"},
    {"gf_ready", "1 when every readiness condition holds"},
    {"gf_intake_received_total", "Requests received by the intake"},
    {"gf_intake_stored_total", "Complaints stored (new cases)"},
    {"gf_intake_duplicates_total", "Complaints already stored (same source and source_ref)"},
    {"gf_intake_rejected_total", "Requests refused, by error code"},
    {"gf_intake_actions_total", "Case actions applied"},
    {"gf_intake_batches_total", "Intake transactions committed"},
    {"gf_relay_published_total", "Events published on the bus"},
    {"gf_relay_head_seq", "Last sequence number assigned"},
    {"gf_relay_leader", "1 while this relay holds the lease \"relay\" and publishes"},
    {"gf_consumer_events_total", "Events handled by a durable consumer"},
    {"gf_consumer_lag_events", "Log head seq minus the consumer's checkpoint"},
    {"gf_consumer_checkpoint_seq", "The consumer's checkpoint"},
    {"gf_consumer_retries_total", "Consumer steps that failed and will be retried"},
    {"gf_router_routed_total", "Cases routed to an L3 grid"},
    {"gf_router_unroutable_total", "Cases sent to L1 triage"},
    {"gf_notifier_created_total", "Notifications created"},
    {"gf_dead_letters_total", "Deliveries given up after their last attempt"},
    {"gf_escalator_meetings_total", "Meetings held, by kind"},
    {"gf_escalator_meeting_seconds", "Time to hold one meeting (ledger and escalations)"},
    {"gf_escalator_escalations_total", "Escalations outside meetings (urgent, special groups)"},
    {"gf_escalator_reminders_total", "Sign-for reminders sent"},
    {"gf_escalator_tick_failures_total", "Escalator ticks that failed and will be retried"},
    {"gf_db_query_seconds", "Latency of each database statement"},
    {"gf_db_errors_total", "Statements that failed, by kind (lost or statement)"},
    {"gf_db_reconnects_total", "Database connections re-established after a loss"},
    {"gf_db_up", "1 while the database connection is up"},
};

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static gf_metric_t s_metrics[MAX_METRICS]; /* registry, append only         */
static _Atomic int s_count;                /* entries in use                */
static gf_metric_t s_overflow;             /* handed out when full          */
static bool s_overflow_logged;             /* logged the overflow once      */
static struct {
    char name[64]; /* condition name                 */
    bool ready;    /* current value                  */
} s_conditions[MAX_CONDITIONS];
static int s_condition_count;
static struct MHD_Daemon *s_daemon; /* the HTTP endpoint, or NULL    */
static char s_service[64];          /* service name for the up gauge */

static gf_metric_t *s_lookup (const char *name, const char *labels, s_kind_t kind)
{
    if (!labels)
        labels = "";
    int count = atomic_load (&s_count);
    for (int i = 0; i < count; i++)
        if (streq (s_metrics[i].name, name) && streq (s_metrics[i].labels, labels))
            return &s_metrics[i];
    pthread_mutex_lock (&s_lock);
    gf_metric_t *found = NULL;
    count = atomic_load (&s_count);
    for (int i = 0; i < count && !found; i++)
        if (streq (s_metrics[i].name, name) && streq (s_metrics[i].labels, labels))
            found = &s_metrics[i];
    if (!found && count < MAX_METRICS) {
        found = &s_metrics[count];
        snprintf (found->name, sizeof found->name, "%s", name);
        snprintf (found->labels, sizeof found->labels, "%s", labels);
        found->kind = kind;
        atomic_store (&s_count, count + 1); /* publish after the fields */
    }
    if (!found) {
        found = &s_overflow;
        if (!s_overflow_logged)
            zsys_error ("metrics: registry full, %s{%s} not recorded", name, labels);
        s_overflow_logged = true;
    }
    pthread_mutex_unlock (&s_lock);
    return found;
}

gf_metric_t *gf_metrics_counter (const char *name, const char *labels)
{
    return s_lookup (name, labels, KIND_COUNTER);
}

gf_metric_t *gf_metrics_gauge (const char *name, const char *labels)
{
    return s_lookup (name, labels, KIND_GAUGE);
}

gf_metric_t *gf_metrics_histogram (const char *name, const char *labels)
{
    return s_lookup (name, labels, KIND_HISTOGRAM);
}

void gf_metric_add (gf_metric_t *self, uint64_t delta)
{
    atomic_fetch_add (&self->value, (int64_t)delta);
}

void gf_metric_set (gf_metric_t *self, int64_t value)
{
    atomic_store (&self->value, value);
}

void gf_metric_observe (gf_metric_t *self, double seconds)
{
    if (seconds < 0)
        seconds = 0;
    for (size_t b = 0; b < BUCKETS; b++)
        if (seconds <= s_bounds[b])
            atomic_fetch_add (&self->buckets[b], 1);
    atomic_fetch_add (&self->sum_us, (uint64_t)(seconds * 1e6));
    atomic_fetch_add (&self->value, 1);
}

void gf_metrics_inc (const char *name, const char *labels, uint64_t delta)
{
    gf_metric_add (gf_metrics_counter (name, labels), delta);
}

void gf_metrics_set (const char *name, const char *labels, int64_t value)
{
    gf_metric_set (gf_metrics_gauge (name, labels), value);
}

int64_t gf_metrics_value (const char *name, const char *labels)
{
    if (!labels)
        labels = "";
    int count = atomic_load (&s_count);
    for (int i = 0; i < count; i++)
        if (streq (s_metrics[i].name, name) && streq (s_metrics[i].labels, labels))
            return atomic_load (&s_metrics[i].value);
    return 0;
}

void gf_metrics_ready (const char *condition, bool ready)
{
    pthread_mutex_lock (&s_lock);
    int i = 0;
    while (i < s_condition_count && !streq (s_conditions[i].name, condition))
        i++;
    if (i == s_condition_count && i < MAX_CONDITIONS) {
        snprintf (s_conditions[i].name, sizeof s_conditions[i].name, "%s", condition);
        s_condition_count++;
    }
    if (i < MAX_CONDITIONS)
        s_conditions[i].ready = ready;
    pthread_mutex_unlock (&s_lock);
}

/*  Names of the conditions that do not hold, comma separated, into buf. */
static bool s_readiness (char *buf, size_t size)
{
    bool ready = true;
    buf[0] = 0;
    pthread_mutex_lock (&s_lock);
    for (int i = 0; i < s_condition_count; i++)
        if (!s_conditions[i].ready) {
            size_t len = strlen (buf);
            snprintf (buf + len, size - len, "%s%s", ready ? "" : ", ", s_conditions[i].name);
            ready = false;
        }
    pthread_mutex_unlock (&s_lock);
    return ready;
}

bool gf_metrics_is_ready (void)
{
    char buf[512];
    return s_readiness (buf, sizeof buf);
}

static const char *s_help_for (const char *name)
{
    for (size_t i = 0; i < sizeof s_help / sizeof s_help[0]; i++)
        if (streq (s_help[i].name, name))
            return s_help[i].help;
    return "gridflow metric";
}

static const char *s_type_name (s_kind_t kind)
{
    return kind == KIND_COUNTER ? "counter" : kind == KIND_GAUGE ? "gauge" : "histogram";
}

char *gf_metrics_render (void)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    if (!out)
        return NULL;
    fprintf (out, "# HELP gf_ready %s\n# TYPE gf_ready gauge\ngf_ready %d\n",
             s_help_for ("gf_ready"), gf_metrics_is_ready () ? 1 : 0);
    int count = atomic_load (&s_count);
    for (int i = 0; i < count; i++) {
        bool first = true;
        for (int j = 0; j < i && first; j++)
            first = !streq (s_metrics[j].name, s_metrics[i].name);
        if (!first)
            continue; /* rendered with the first of its name */
        const char *name = s_metrics[i].name;
        fprintf (out, "# HELP %s %s\n# TYPE %s %s\n", name, s_help_for (name), name,
                 s_type_name (s_metrics[i].kind));
        for (int j = i; j < count; j++) {
            gf_metric_t *m = &s_metrics[j];
            if (!streq (m->name, name))
                continue;
            const char *sep = *m->labels ? "," : "";
            if (m->kind != KIND_HISTOGRAM) {
                fprintf (out, "%s%s%s%s %" PRId64 "\n", name, *m->labels ? "{" : "", m->labels,
                         *m->labels ? "}" : "", atomic_load (&m->value));
                continue;
            }
            for (size_t b = 0; b < BUCKETS; b++)
                fprintf (out, "%s_bucket{%s%sle=\"%g\"} %" PRIu64 "\n", name, m->labels, sep,
                         s_bounds[b], atomic_load (&m->buckets[b]));
            int64_t n = atomic_load (&m->value);
            fprintf (out, "%s_bucket{%s%sle=\"+Inf\"} %" PRId64 "\n", name, m->labels, sep, n);
            fprintf (out, "%s_sum%s%s%s %.6f\n", name, *m->labels ? "{" : "", m->labels,
                     *m->labels ? "}" : "", atomic_load (&m->sum_us) / 1e6);
            fprintf (out, "%s_count%s%s%s %" PRId64 "\n", name, *m->labels ? "{" : "", m->labels,
                     *m->labels ? "}" : "", n);
        }
    }
    fclose (out);
    return text;
}

char *gf_metrics_json (void)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    if (!out)
        return NULL;
    fputc ('{', out);
    int count = atomic_load (&s_count);
    bool first = true;
    for (int i = 0; i < count; i++) {
        gf_metric_t *m = &s_metrics[i];
        if (m->kind == KIND_HISTOGRAM)
            continue;
        fputs (first ? "\"" : ",\"", out);
        first = false;
        fputs (m->name, out);
        if (*m->labels) { /* label values are our own codes: only quotes need escaping */
            fputc ('{', out);
            for (const char *c = m->labels; *c; c++)
                fprintf (out, *c == '"' ? "\\\"" : "%c", *c);
            fputc ('}', out);
        }
        fprintf (out, "\":%" PRId64, atomic_load (&m->value));
    }
    fputc ('}', out);
    fclose (out);
    return text;
}

static enum MHD_Result s_answer (void *cls, struct MHD_Connection *connection, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    unsigned int status = MHD_HTTP_OK;
    char *body = NULL;
    const char *type = "text/plain; charset=utf-8";
    if (!streq (method, "GET") && !streq (method, "HEAD")) {
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
        body = strdup ("method not allowed\n");
    } else if (streq (url, "/metrics")) {
        body = gf_metrics_render ();
        type = "text/plain; version=0.0.4; charset=utf-8";
    } else if (streq (url, "/healthz") || streq (url, "/readyz")) {
        char why[512];
        if (s_readiness (why, sizeof why))
            body = strdup ("ready\n");
        else {
            status = MHD_HTTP_SERVICE_UNAVAILABLE;
            body = zsys_sprintf ("not ready: %s\n", why);
        }
    } else if (streq (url, "/livez")) {
        body = strdup ("alive\n");
    } else {
        status = MHD_HTTP_NOT_FOUND;
        body = strdup ("not found: try /metrics or /healthz\n");
    }
    if (!body)
        return MHD_NO;
    struct MHD_Response *response =
        MHD_create_response_from_buffer (strlen (body), body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header (response, "Content-Type", type);
    enum MHD_Result rc = MHD_queue_response (connection, status, response);
    MHD_destroy_response (response);
    return rc;
}

int gf_metrics_start (const char *name, int port)
{
    snprintf (s_service, sizeof s_service, "%s", name);
    char *labels = zsys_sprintf ("service=\"%s\"", name);
    gf_metrics_set ("gf_up", labels, 1);
    gf_metrics_set ("gf_start_time_seconds", labels, (int64_t)time (NULL));
    zstr_free (&labels);
    if (port <= 0)
        return 0;
    //  Its own thread and listening socket, apart from what a service does
    //  with its other sockets: the gateway's probe path (issue 13).  poll(),
    //  not select(): a busy process's descriptors pass 1024.
    s_daemon =
        MHD_start_daemon (MHD_USE_POLL_INTERNAL_THREAD, (uint16_t)port, NULL, NULL, s_answer, NULL,
                          MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_CONNECTION_LIMIT, 256u,
                          MHD_OPTION_PER_IP_CONNECTION_LIMIT, 16u, MHD_OPTION_END);
    if (!s_daemon) {
        zsys_error ("metrics: cannot listen on port %d", port);
        return -1;
    }
    zsys_info ("metrics: /metrics and /healthz on port %d", port);
    return 0;
}

void gf_metrics_stop (void)
{
    if (s_daemon)
        MHD_stop_daemon (s_daemon);
    s_daemon = NULL;
}
