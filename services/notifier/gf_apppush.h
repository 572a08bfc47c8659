/*  gf_apppush — app push over ZeroMQ with receipts (送达有签收).

    A ROUTER on notifier/app (GF_APP, default tcp://127.0.0.1:5573).  Frames after the
    routing id: a verb and one JSON object.
      app → notifier  hello {"person", "token"}     sign in (token from
                                                    `gridctl notify token`)
                      ack   {"delivery"}            receipt for a message
      notifier → app  welcome {"person", "pending"} signed in
                      message {"delivery", "case", "text", "urgent", "at"}
                      error {"code", "message"}     unauthorized / bad_request
    On hello, every app message of the person not yet acknowledged is sent
    (again): an app that disconnected before acknowledging gets it on
    reconnect; an acknowledged one never comes back.  While signed in, new
    due messages are pushed as they appear (read every 500 ms: quiet hours
    end without a notification), each once per session: the session
    remembers what it pushed, and the push writes nothing (a message its
    queue had no room for is tried again at the next read).  A session
    ends when a message cannot be routed to it (ROUTER_MANDATORY: the app
    is gone) or the same person signs in again.
*/
#ifndef GF_APPPUSH_H_INCLUDED
#define GF_APPPUSH_H_INCLUDED

#include <czmq.h>

/*  args: gf_part_args_t * (gf_notifier.h). */
void gf_apppush_actor (zsock_t *pipe, void *args);

#endif
