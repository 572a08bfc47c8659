/*  gf_gateway — the HTTP face of gridflow (docs/gateway.md).

    Serves, on GF_HTTP ([ADDR:]PORT, default 127.0.0.1:8080):
      /open311/v2/...   Open311 GeoReport v2 (JSON); POST requests.json goes
                        through the intake over ZeroMQ like any adapter
      /stream           server-sent events from the relay, resumable with
                        Last-Event-ID (= the relay's seq) or ?since=
      /api/...          JSON for the dashboard and the public grid directory
      /healthz /metrics health and Prometheus metrics
      /                 the dashboard's built files (GF_WEB)
    The actor follows the relay's stream (gf_stream) and feeds the hub that
    every SSE connection reads; resumes from further back go through the
    gateway's one replay connection (gf_replayer).  Connections, requests,
    streams, bodies and database connections are bounded (gateway/... keys,
    docs/gateway.md "Limits").
*/
#ifndef GF_GATEWAY_H_INCLUDED
#define GF_GATEWAY_H_INCLUDED

#include <czmq.h>

/*  The actor: args is a gf_config_t * (borrowed). */
void gf_gateway_actor (zsock_t *pipe, void *args);

#endif
