/*  gf_channel_sms — SMS through an HTTP gateway (JSON webhook).

    POST notifier/sms_url with {"to", "text", "dedupe_key", "case"},
    headers "Authorization: Bearer <notifier/sms_token>" (when set) and
    "Idempotency-Key" (the dedupe key), timeout notifier/sms_timeout.  2xx and 409
    (duplicate) are delivered; 408, 429 and 5xx are retried; other 4xx are
    permanent (dead letter).  No URL: the channel is off and its messages
    wait.
*/
#include "gf_channel.h"
#include "gf_curl.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    CURLM *multi; /* its connection cache lives across batches */
    char *url;
    struct curl_slist *headers; /* shared by every request */
    long timeout_ms;
} s_sms_t;

static size_t s_discard (char *data, size_t size, size_t count, void *arg)
{
    (void)data;
    (void)arg;
    return size * count;
}

static void *s_create (gf_config_t *config)
{
    const char *url = config->sms_url;
    if (!url || !*url)
        return NULL;
    s_sms_t *self = calloc (1, sizeof *self);
    self->multi = curl_multi_init ();
    self->url = strdup (url);
    self->timeout_ms = config->sms_timeout_ms;
    self->headers = curl_slist_append (NULL, "Content-Type: application/json; charset=utf-8");
    const char *token = config->sms_token;
    if (token && *token) {
        char header[512];
        snprintf (header, sizeof header, "Authorization: Bearer %s", token);
        self->headers = curl_slist_append (self->headers, header);
    }
    return self;
}

static void s_destroy (void **self_p)
{
    s_sms_t *self = (s_sms_t *)*self_p;
    if (!self)
        return;
    curl_multi_cleanup (self->multi);
    curl_slist_free_all (self->headers);
    free (self->url);
    free (self);
    *self_p = NULL;
}

static void s_send (void *arg, gf_delivery_t *batch, size_t n)
{
    s_sms_t *self = (s_sms_t *)arg;
    CURL **handles = calloc (n, sizeof *handles);
    char **bodies = calloc (n, sizeof *bodies);
    struct curl_slist **headers = calloc (n, sizeof *headers);
    CURLcode *codes = calloc (n, sizeof *codes);
    long *status = calloc (n, sizeof *status);
    for (size_t i = 0; i < n; i++) {
        gf_delivery_t *d = &batch[i];
        json_t *body = json_pack ("{s:s, s:s, s:s}", "to", d->address, "text", d->text,
                                  "dedupe_key", d->dedupe_key);
        if (d->case_id) /* a field reminder's notice has no case */
            json_object_set_new (body, "case", json_integer ((json_int_t)d->case_id));
        bodies[i] = json_dumps (body, JSON_COMPACT);
        json_decref (body);
        char key[200];
        snprintf (key, sizeof key, "Idempotency-Key: %s", d->dedupe_key);
        /* Per-request list: the shared headers, then this request's key. */
        for (struct curl_slist *h = self->headers; h; h = h->next)
            headers[i] = curl_slist_append (headers[i], h->data);
        headers[i] = curl_slist_append (headers[i], key);
        CURL *c = handles[i] = curl_easy_init ();
        curl_easy_setopt (c, CURLOPT_URL, self->url);
        curl_easy_setopt (c, CURLOPT_HTTPHEADER, headers[i]);
        curl_easy_setopt (c, CURLOPT_POSTFIELDS, bodies[i]);
        curl_easy_setopt (c, CURLOPT_TIMEOUT_MS, self->timeout_ms);
        curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, s_discard);
    }
    gf_curl_perform (self->multi, handles, n, codes, status);
    for (size_t i = 0; i < n; i++) {
        gf_delivery_t *d = &batch[i];
        d->error[0] = 0;
        if (codes[i] != CURLE_OK)
            gf_curl_fail (d, codes[i]);
        else if ((status[i] >= 200 && status[i] < 300) || status[i] == 409)
            d->result = GF_SEND_OK;
        else {
            d->result = status[i] == 408 || status[i] == 429 || status[i] >= 500 ? GF_SEND_RETRY
                                                                                 : GF_SEND_REJECTED;
            snprintf (d->error, sizeof d->error, "SMS gateway answered HTTP %ld", status[i]);
        }
        curl_easy_cleanup (handles[i]);
        curl_slist_free_all (headers[i]);
        free (bodies[i]);
    }
    free (handles);
    free (bodies);
    free (headers);
    free (codes);
    free (status);
}

const gf_channel_t gf_channel_sms = {"sms", s_create, s_destroy, s_send};
