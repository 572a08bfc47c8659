/*  bench_sinks — the far ends of the notifier's channels for make bench
    (docs/performance.md): an SMS gateway and the staff's phone apps, both
    receiving and acknowledging everything, as fast as they can.

    usage: bench_sinks APP PERSONS SMS_PORT
      APP       the notifier's app push endpoint (notifier/app); one DEALER
                per person signs in and acknowledges every message
                ({"delivery": id}), as tests/tools/app_client does
      PERSONS   a file, one "person token" per line (app_tokens)
      SMS_PORT  an HTTP port on 127.0.0.1: POST /sms is answered 200 and
                counted by its Idempotency-Key (notifier/sms_url); a key
                seen before is counted as a duplicate and answered 200, as
                a gateway that honours the key does

    Runs until SIGINT or SIGTERM, then prints one JSON object: the apps
    signed in, the messages received, the distinct deliveries among them
    and the acknowledgements sent; the SMS requests, the distinct keys and
    the duplicates.  Exit status 0 when every person signed in. */
#include <czmq.h>
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>

typedef struct {
    pthread_mutex_t lock;
    zhashx_t *keys; /* Idempotency-Key → "" */
    size_t requests, duplicates, bad;
} s_sms_t;

/*  POST /sms: the body is read and dropped (the key is in the header). */
static enum MHD_Result s_sms_request (void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_size, void **state)
{
    (void)version;
    (void)upload_data;
    s_sms_t *self = (s_sms_t *)cls;
    if (*state == NULL) { /* headers only: wait for the body */
        *state = self;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    const char *key = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, "Idempotency-Key");
    bool good = streq (method, "POST") && streq (url, "/sms") && key && *key;
    pthread_mutex_lock (&self->lock);
    if (!good)
        self->bad++;
    else {
        self->requests++;
        if (zhashx_insert (self->keys, key, (void *)"") != 0)
            self->duplicates++;
    }
    pthread_mutex_unlock (&self->lock);
    static const char ok[] = "{}", bad[] = "{\"error\":\"POST /sms with an Idempotency-Key\"}";
    struct MHD_Response *resp =
        good
            ? MHD_create_response_from_buffer (sizeof ok - 1, (void *)ok, MHD_RESPMEM_PERSISTENT)
            : MHD_create_response_from_buffer (sizeof bad - 1, (void *)bad, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header (resp, "Content-Type", "application/json");
    enum MHD_Result rc = MHD_queue_response (conn, good ? MHD_HTTP_OK : MHD_HTTP_BAD_REQUEST, resp);
    MHD_destroy_response (resp);
    return rc;
}

int main (int argc, char **argv)
{
    if (argc != 4) {
        fprintf (stderr, "usage: bench_sinks APP PERSONS SMS_PORT\n");
        return 2;
    }
    zsys_init ();
    zsys_set_linger (0);
    zsys_set_max_sockets (0);
    s_sms_t sms = {.keys = zhashx_new ()};
    pthread_mutex_init (&sms.lock, NULL);
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons ((uint16_t)atoi (argv[3])),
                               .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    struct MHD_Daemon *http =
        MHD_start_daemon (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL, NULL,
                          s_sms_request, &sms, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                          MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1000, MHD_OPTION_END);
    if (!http) {
        fprintf (stderr, "bench_sinks: cannot listen on 127.0.0.1:%s\n", argv[3]);
        return 1;
    }

    FILE *f = fopen (argv[2], "r");
    if (!f) {
        fprintf (stderr, "bench_sinks: cannot read %s\n", argv[2]);
        return 1;
    }
    zlistx_t *apps = zlistx_new ();
    char person[128], token[256];
    while (fscanf (f, "%127s %255s", person, token) == 2) {
        zsock_t *app = zsock_new (ZMQ_DEALER);
        zsock_set_sndhwm (app, 0);
        zsock_set_rcvhwm (app, 0);
        if (zsock_connect (app, "%s", argv[1]) != 0) {
            fprintf (stderr, "bench_sinks: cannot connect to %s\n", argv[1]);
            return 1;
        }
        char *hello = zsys_sprintf ("{\"person\":\"%s\",\"token\":\"%s\"}", person, token);
        zstr_sendm (app, "hello");
        zstr_send (app, hello);
        zstr_free (&hello);
        zlistx_add_end (apps, app);
    }
    fclose (f);
    size_t napps = zlistx_size (apps);
    zmq_pollitem_t *items = (zmq_pollitem_t *)calloc (napps ? napps : 1, sizeof *items);
    zsock_t **socks = (zsock_t **)calloc (napps ? napps : 1, sizeof *socks);
    size_t n = 0;
    for (zsock_t *app = (zsock_t *)zlistx_first (apps); app; app = (zsock_t *)zlistx_next (apps)) {
        socks[n] = app;
        items[n++] = (zmq_pollitem_t){zsock_resolve (app), 0, ZMQ_POLLIN, 0};
    }
    size_t welcomed = 0, refused = 0, messages = 0, acks = 0;
    zhashx_t *seen = zhashx_new (); /* delivery id → "" */
    while (!zsys_interrupted) {
        if (zmq_poll (items, (int)napps, 200) < 0)
            break;
        for (size_t k = 0; k < napps; k++) {
            while (zsock_events (socks[k]) & ZMQ_POLLIN) {
                char *verb = zstr_recv (socks[k]), *body = zstr_recv (socks[k]);
                if (verb && streq (verb, "welcome"))
                    welcomed++;
                else if (verb && streq (verb, "error")) {
                    if (refused++ < 3)
                        fprintf (stderr, "bench_sinks: app refused: %s\n", body ? body : "");
                } else if (verb && streq (verb, "message")) {
                    json_t *msg = body ? json_loads (body, 0, NULL) : NULL;
                    json_int_t id = json_integer_value (json_object_get (msg, "delivery"));
                    json_decref (msg);
                    messages++;
                    char key[24];
                    snprintf (key, sizeof key, "%" JSON_INTEGER_FORMAT, id);
                    zhashx_insert (seen, key, (void *)"");
                    char *ack = zsys_sprintf ("{\"delivery\":%" JSON_INTEGER_FORMAT "}", id);
                    zstr_sendm (socks[k], "ack");
                    zstr_send (socks[k], ack);
                    zstr_free (&ack);
                    acks++;
                }
                zstr_free (&verb);
                zstr_free (&body);
            }
        }
    }
    MHD_stop_daemon (http);
    printf (
        "{\"apps\": %zu, \"apps_signed_in\": %zu, \"apps_refused\": %zu, "
        "\"app_messages\": %zu, \"app_deliveries\": %zu, \"app_acks\": %zu, "
        "\"sms_requests\": %zu, \"sms_keys\": %zu, \"sms_duplicates\": %zu, \"sms_bad\": %zu}\n",
        napps, welcomed, refused, messages, zhashx_size (seen), acks, sms.requests,
        zhashx_size (sms.keys), sms.duplicates, sms.bad);
    bool all_in = welcomed == napps;
    zhashx_destroy (&seen);
    zhashx_destroy (&sms.keys);
    for (size_t k = 0; k < napps; k++)
        zsock_destroy (&socks[k]);
    zlistx_destroy (&apps);
    free (items);
    free (socks);
    return all_in ? 0 : 1;
}
