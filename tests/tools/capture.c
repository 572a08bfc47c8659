/*  capture — a raw subscriber for tests: SUB to everything on the relay's
    PUB socket, print "seq id topic" per event (relay.hb excluded), touch
    READY_FILE on the first heartbeat (it is then surely subscribed), and
    exit after IDLE_MS without any event once at least one arrived, or on
    SIGTERM.  With BODIES_FILE, also appends every event's topic and raw
    msgpack body there (one "topic<TAB>body" record per line, body bytes as
    sent: msgpack strings are plain UTF-8, so grep finds text in them).
    usage: capture PUB_ENDPOINT READY_FILE IDLE_MS [BODIES_FILE] */
#include "gf_auth.h"
#include "gf_proto.h"

int main (int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf (stderr, "usage: capture PUB_ENDPOINT READY_FILE IDLE_MS [BODIES_FILE]\n");
        return 2;
    }
    FILE *bodies = argc == 5 ? fopen (argv[4], "w") : NULL;
    if (argc == 5 && !bodies) {
        fprintf (stderr, "capture: cannot write %s\n", argv[4]);
        return 2;
    }
    zsys_init ();
    zsock_t *sub = zsock_new (ZMQ_SUB);
    zsock_set_rcvhwm (sub, 0); /* never drop: we are checking the publisher */
    zsock_set_subscribe (sub, "");
    /* GF_CERT + GF_RELAY_CERT: a CurveZMQ client (docs/security.md). */
    const char *relay_cert = getenv ("GF_RELAY_CERT");
    if (relay_cert && *relay_cert && gf_auth_client_apply (sub, getenv ("GF_CERT"), relay_cert))
        return 2;
    zsock_connect (sub, "%s", argv[1]);
    int idle = atoi (argv[3]);
    bool ready = false;
    uint64_t events = 0;
    setvbuf (stdout, NULL, _IOLBF, 0); /* tests follow the file while we run */
    int64_t last_event = zclock_mono ();
    while (!zsys_interrupted) {
        /* Heartbeats keep coming: idle means no event for IDLE_MS. */
        if (zclock_mono () - last_event > (events ? idle : 60000))
            break;
        zmq_pollitem_t item = {zsock_resolve (sub), 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll (&item, 1, 100);
        if (rc < 0)
            break;
        if (rc == 0)
            continue;
        zmsg_t *msg = zmsg_recv (sub);
        if (!msg || zmsg_size (msg) != 2) {
            fprintf (stderr, "capture: bad message\n");
            zmsg_destroy (&msg);
            return 1;
        }
        char *topic = zmsg_popstr (msg);
        zframe_t *body = zmsg_first (msg);
        gf_error_t err;
        gf_msg_t *event = gf_msg_decode (zframe_data (body), zframe_size (body), &err);
        if (!event) {
            fprintf (stderr, "capture: undecodable body on %s: %s\n", topic, err.message);
            return 1;
        }
        if (streq (topic, GF_TOPIC_RELAY_HB)) {
            if (!ready) {
                FILE *f = fopen (argv[2], "w");
                if (f)
                    fclose (f);
                ready = true;
            }
        } else {
            uint64_t seq = 0;
            char *id = NULL;
            gf_msg_get_uint (event, "seq", true, &seq, &err);
            gf_msg_get_str (event, "id", true, 0, &id, &err);
            printf ("%" PRIu64 " %s %s\n", seq, id ? id : "?", topic);
            if (bodies) {
                fprintf (bodies, "%s\t", topic);
                fwrite (zframe_data (body), 1, zframe_size (body), bodies);
                fputc ('\n', bodies);
            }
            free (id);
            events++;
            last_event = zclock_mono ();
        }
        gf_msg_destroy (&event);
        free (topic);
        zmsg_destroy (&msg);
    }
    fflush (stdout);
    if (bodies)
        fclose (bodies);
    zsock_destroy (&sub);
    return 0;
}
