/*  gf_channel — one delivery channel driver (SMS gateway, SMTP, ...).

    A driver sends a batch of messages and reports each one's outcome; the
    dispatcher (gf_dispatch) owns the outbox, retries and dead letters.  A
    new channel (WeCom, DingTalk) is one file that fills a gf_channel_t,
    plus its row in delivery_policy and its name in gf_dispatch's table.
*/
#ifndef GF_CHANNEL_H_INCLUDED
#define GF_CHANNEL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gf_config.h"

typedef enum {
    GF_SEND_OK,       /* accepted (or recognised as a duplicate) by the far end */
    GF_SEND_RETRY,    /* transient failure (5xx, 429, timeout): retry later    */
    GF_SEND_REJECTED, /* permanent failure (bad address, 4xx): dead letter now */
    GF_SEND_DOWN      /* far end unreachable: retry without using an attempt   */
} gf_send_result_t;

typedef struct {
    /* in */
    int64_t id;             /* delivery id                         */
    int64_t case_id;        /* the case it is about; 0: none (a field reminder's notice) */
    const char *address;    /* phone number, e-mail address, ...   */
    const char *text;       /* message (UTF-8)                     */
    const char *dedupe_key; /* the same on every resend            */
    bool urgent;
    /* out */
    gf_send_result_t result;
    char error[160]; /* why, for last_error (English) */
} gf_delivery_t;

typedef struct {
    const char *name; /* delivery_policy.channel */
    /*  Returns the driver's state, or NULL when the channel is not
        configured (its deliveries then wait). */
    void *(*create) (gf_config_t *config);
    void (*destroy) (void **self_p);
    /*  Sends n messages (concurrently where it can) and sets each result. */
    void (*send) (void *self, gf_delivery_t *batch, size_t n);
} gf_channel_t;

extern const gf_channel_t gf_channel_sms;
extern const gf_channel_t gf_channel_email;

#endif
