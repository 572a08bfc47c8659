/*  gf_channel_email — e-mail through SMTP (libcurl).

    notifier/smtp_url (smtp://host:port or smtps://...), smtp_from (the
    sender), smtp_user / smtp_password (optional), smtp_timeout (ms).  The Message-ID is the
    dedupe key, so a receiving system can drop a resend.  A 5xx reply to the
    recipient is permanent; other failures are retried.  No URL: the channel
    is off and its messages wait.
*/
#include "gf_channel.h"
#include "gf_curl.h"

#include <czmq.h>

typedef struct {
    CURLM *multi; /* its connection cache lives across batches */
    char *url, *from, *user, *password;
    long timeout_ms;
} s_email_t;

typedef struct {
    char *data;
    size_t size, offset;
} s_payload_t;

static size_t s_read (char *buffer, size_t size, size_t count, void *arg)
{
    s_payload_t *payload = (s_payload_t *)arg;
    size_t room = size * count, left = payload->size - payload->offset;
    size_t n = left < room ? left : room;
    memcpy (buffer, payload->data + payload->offset, n);
    payload->offset += n;
    return n;
}

static char *s_dup_set (const char *value)
{
    return value && *value ? strdup (value) : NULL;
}

static void *s_create (gf_config_t *config)
{
    const char *url = config->smtp_url;
    if (!url || !*url)
        return NULL;
    s_email_t *self = calloc (1, sizeof *self);
    self->multi = curl_multi_init ();
    self->url = strdup (url);
    self->from = strdup (config->smtp_from);
    self->user = s_dup_set (config->smtp_user);
    self->password = s_dup_set (config->smtp_password);
    self->timeout_ms = config->smtp_timeout_ms;
    return self;
}

static void s_destroy (void **self_p)
{
    s_email_t *self = (s_email_t *)*self_p;
    if (!self)
        return;
    curl_multi_cleanup (self->multi);
    free (self->url);
    free (self->from);
    free (self->user);
    free (self->password);
    free (self);
    *self_p = NULL;
}

/*  RFC 5322 message: UTF-8 body, RFC 2047 encoded subject. */
static char *s_message (s_email_t *self, gf_delivery_t *d)
{
    char subject[96];
    if (d->case_id)
        snprintf (subject, sizeof subject, "网格通知：案件 %lld", (long long)d->case_id);
    else /* a field reminder's notice (missed patrol, overdue visit) */
        snprintf (subject, sizeof subject, "网格提醒");
    zarmour_t *armour = zarmour_new ();
    zarmour_set_mode (armour, ZARMOUR_MODE_BASE64_STD);
    char *encoded = zarmour_encode (armour, (const byte *)subject, strlen (subject));
    zarmour_destroy (&armour);
    char *message = zsys_sprintf ("From: <%s>\r\nTo: <%s>\r\nSubject: =?UTF-8?B?%s?=\r\n"
                                  "Message-ID: <%s@gridflow>\r\nMIME-Version: 1.0\r\n"
                                  "Content-Type: text/plain; charset=UTF-8\r\n"
                                  "Content-Transfer-Encoding: 8bit\r\n\r\n%s\r\n",
                                  self->from, d->address, encoded, d->dedupe_key, d->text);
    zstr_free (&encoded);
    return message;
}

static void s_send (void *arg, gf_delivery_t *batch, size_t n)
{
    s_email_t *self = (s_email_t *)arg;
    CURL **handles = calloc (n, sizeof *handles);
    s_payload_t *payloads = calloc (n, sizeof *payloads);
    struct curl_slist **rcpts = calloc (n, sizeof *rcpts);
    CURLcode *codes = calloc (n, sizeof *codes);
    long *status = calloc (n, sizeof *status);
    char from[300];
    snprintf (from, sizeof from, "<%s>", self->from);
    for (size_t i = 0; i < n; i++) {
        gf_delivery_t *d = &batch[i];
        payloads[i].data = s_message (self, d);
        payloads[i].size = strlen (payloads[i].data);
        char rcpt[300];
        snprintf (rcpt, sizeof rcpt, "<%s>", d->address);
        rcpts[i] = curl_slist_append (NULL, rcpt);
        CURL *c = handles[i] = curl_easy_init ();
        curl_easy_setopt (c, CURLOPT_URL, self->url);
        curl_easy_setopt (c, CURLOPT_MAIL_FROM, from);
        curl_easy_setopt (c, CURLOPT_MAIL_RCPT, rcpts[i]);
        curl_easy_setopt (c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt (c, CURLOPT_READFUNCTION, s_read);
        curl_easy_setopt (c, CURLOPT_READDATA, &payloads[i]);
        curl_easy_setopt (c, CURLOPT_TIMEOUT_MS, self->timeout_ms);
        curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
        if (self->user)
            curl_easy_setopt (c, CURLOPT_USERNAME, self->user);
        if (self->password)
            curl_easy_setopt (c, CURLOPT_PASSWORD, self->password);
    }
    gf_curl_perform (self->multi, handles, n, codes, status);
    for (size_t i = 0; i < n; i++) {
        gf_delivery_t *d = &batch[i];
        d->error[0] = 0;
        if (codes[i] == CURLE_OK)
            d->result = GF_SEND_OK;
        else if (status[i] >= 550 && status[i] <= 554) {
            d->result = GF_SEND_REJECTED;
            snprintf (d->error, sizeof d->error, "SMTP server refused: %ld", status[i]);
        } else
            gf_curl_fail (d, codes[i]);
        curl_easy_cleanup (handles[i]);
        curl_slist_free_all (rcpts[i]);
        zstr_free (&payloads[i].data);
    }
    free (handles);
    free (payloads);
    free (rcpts);
    free (codes);
    free (status);
}

const gf_channel_t gf_channel_email = {"email", s_create, s_destroy, s_send};
