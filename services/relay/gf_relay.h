/*  gf_relay — the only publisher of events.

    The writers number their own events: each transaction stages its
    events and the append moves them into the log at its COMMIT, numbered
    after the head under one transaction-scoped lock (events.sql), so seq
    is dense and in commit order and no row is updated afterwards.  The
    relay holding the leadership advisory lock reads the committed rows
    after the last seq it published and publishes them on PUB as [topic,
    body]; it writes nothing.  A later commit can never appear below a seq
    already visible (DESIGN.md guarantee 4).  A new leader starts at the
    head: subscribers repair what nobody published live from the
    heartbeat's head and replay.

    A second actor answers replay requests on a ROUTER socket: pages of
    "events with seq > from whose topic starts with prefix", each page
    closed by a replay.end carrying where to continue.  It also publishes
    relay.hb (the head seq) every second, after the events it covers on the
    same socket, so subscribers can tell exactly that they missed something
    (and, with a topic prefix, probe the replay server: docs/streams.md).

    A slow subscriber never slows the relay: PUB has a per-subscriber send
    HWM (GF_RELAY_SNDHWM, default 100000 messages; GF_RELAY_SNDBUF sets the
    kernel buffer) beyond which ZeroMQ drops that subscriber's messages, and
    every send is DONTWAIT.  The publish rate is logged at stop.
*/
#ifndef GF_RELAY_H_INCLUDED
#define GF_RELAY_H_INCLUDED

#include <czmq.h>
#include "gf_auth.h"
#include "gf_config.h"

/*  The actor: args is a gf_config_t * (borrowed). */
void gf_relay_actor (zsock_t *pipe, void *args);

/*  What gf_relay_actor hands the replay server. */
typedef struct {
    gf_config_t *config; /* borrowed                                   */
    gf_auth_t *auth;     /* the relay's authenticator (one ZAP handler) */
} gf_relay_args_t;

/*  The replay server actor, started by gf_relay_actor; args is a
    gf_relay_args_t * (borrowed). */
void gf_relay_replay_actor (zsock_t *pipe, void *args);

#endif
