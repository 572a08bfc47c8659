/*  gf_metrics — process-wide counters, gauges and histograms, served with
    the readiness probe over HTTP (libmicrohttpd).

    One registry per process (a gridflow process is one service).  A metric
    is a name plus an optional Prometheus label set ("code=\"bad_msgpack\"");
    its handle, once looked up, stays valid until gf_metrics_stop and is
    updated with atomics, so hot paths look a metric up once and keep it.
    Every function is safe from any thread.

      GET /metrics   Prometheus text format 0.0.4
      GET /healthz   200 "ready" when every readiness condition holds,
                     503 "not ready: <conditions>" otherwise

    Readiness is a set of named conditions (gf_db sets "db:<app name>" for
    each connection, the relay sets "publishing"); a process with no
    condition registered is ready.
*/
#ifndef GF_METRICS_H_INCLUDED
#define GF_METRICS_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

typedef struct _gf_metric_t gf_metric_t;

/*  Starts the HTTP endpoint on 0.0.0.0:port for service `name` (port 0:
    no endpoint, the registry still counts).  Returns 0, or -1 after
    logging when the port cannot be bound. */
int gf_metrics_start (const char *name, int port);

/*  Stops the endpoint.  Handles stay valid (the registry lives until exit). */
void gf_metrics_stop (void);

/*  Looks up (creating on first use) a metric.  `labels` is NULL or the
    text between the braces.  Never returns NULL (a full registry returns a
    shared overflow slot that is not rendered, and logs once). */
gf_metric_t *gf_metrics_counter (const char *name, const char *labels);
gf_metric_t *gf_metrics_gauge (const char *name, const char *labels);
gf_metric_t *gf_metrics_histogram (const char *name, const char *labels);

/*  Counter: add; gauge: set; histogram: observe a value in seconds. */
void gf_metric_add (gf_metric_t *self, uint64_t delta);
void gf_metric_set (gf_metric_t *self, int64_t value);
void gf_metric_observe (gf_metric_t *self, double seconds);

/*  Shorthands that look the metric up on each call (cold paths). */
void gf_metrics_inc (const char *name, const char *labels, uint64_t delta);
void gf_metrics_set (const char *name, const char *labels, int64_t value);

/*  Current value of a counter or gauge (0 if unknown), for status reports
    and tests. */
int64_t gf_metrics_value (const char *name, const char *labels);

/*  Sets a readiness condition. */
void gf_metrics_ready (const char *condition, bool ready);

/*  True when every readiness condition holds. */
bool gf_metrics_is_ready (void);

/*  The registry in Prometheus text format.  Caller frees. */
char *gf_metrics_render (void);

/*  Counters and gauges as a JSON object {"name{labels}": value, ...}, for
    the status heartbeat.  Caller frees. */
char *gf_metrics_json (void);

#endif
