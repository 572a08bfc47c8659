/*  app_client — a staff app for the notifier's tests.

    app_client ENDPOINT PERSON TOKEN ack|noack MS
    Signs in, prints "welcome" or "error CODE", then one line per message
    received within MS milliseconds ("message DELIVERY CASE URGENT"),
    acknowledging each one when told to ack.  Exits 0 if signed in.
*/
#include <czmq.h>
#include <jansson.h>
#include "gf_auth.h"

int main (int argc, char **argv)
{
    if (argc != 6) {
        fprintf (stderr, "usage: app_client ENDPOINT PERSON TOKEN ack|noack MS\n");
        return 2;
    }
    bool ack = streq (argv[4], "ack");
    int64_t until = zclock_mono () + atoi (argv[5]);
    /* GF_CERT + GF_SERVER_CERT (the notifier's): CurveZMQ; else plain. */
    zsock_t *app = zsock_new (ZMQ_DEALER);
    if (gf_auth_client_apply (app, getenv ("GF_CERT"), getenv ("GF_SERVER_CERT")) != 0 ||
        zsock_connect (app, "%s", argv[1]) != 0)
        return 2;
    zsock_set_linger (app, 2000);
    /* A DEALER blocks on send while it has no peer: a refused CurveZMQ
       handshake can drop the pipe before the hello goes out.  Wait no
       longer than the run (nothing received is then the answer). */
    zsock_set_sndtimeo (app, atoi (argv[5]));
    json_t *hello = json_pack ("{s:s, s:s}", "person", argv[2], "token", argv[3]);
    char *text = json_dumps (hello, JSON_COMPACT);
    json_decref (hello);
    if (zstr_sendm (app, "hello") == 0)
        zstr_send (app, text);
    free (text);
    int rc = 1;
    zpoller_t *poller = zpoller_new (app, NULL);
    while (zclock_mono () < until) {
        if (!zpoller_wait (poller, (int)(until - zclock_mono ())))
            break;
        char *verb = zstr_recv (app), *body_text = zstr_recv (app);
        json_t *body = body_text ? json_loads (body_text, 0, NULL) : NULL;
        if (verb && streq (verb, "welcome")) {
            printf ("welcome\n");
            rc = 0;
        } else if (verb && streq (verb, "error"))
            printf ("error %s\n", json_string_value (json_object_get (body, "code")));
        else if (verb && streq (verb, "message")) {
            json_int_t id = json_integer_value (json_object_get (body, "delivery"));
            printf ("message %" JSON_INTEGER_FORMAT " %" JSON_INTEGER_FORMAT " %s\n", id,
                    json_integer_value (json_object_get (body, "case")),
                    json_is_true (json_object_get (body, "urgent")) ? "urgent" : "normal");
            if (ack) {
                char *ack_text = zsys_sprintf ("{\"delivery\":%" JSON_INTEGER_FORMAT "}", id);
                zstr_sendm (app, "ack");
                zstr_send (app, ack_text);
                zstr_free (&ack_text);
            }
        }
        fflush (stdout);
        json_decref (body);
        zstr_free (&verb);
        zstr_free (&body_text);
    }
    zpoller_destroy (&poller);
    zsock_destroy (&app);
    return rc;
}
