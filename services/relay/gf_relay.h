/*  gf_relay — the only publisher of events.

    The relay is the single sequencer of the event log.  Writers insert
    events with seq NULL in their own transactions; the relay, holding the
    leadership advisory lock, gives the committed-but-unsequenced events
    the next dense sequence numbers in one short transaction, commits, and
    then publishes them on PUB as [topic, body].  Because a number is only
    given to a committed row, and only by one leader at a time, no later
    commit can ever appear below a published seq (DESIGN.md guarantee 4).

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
