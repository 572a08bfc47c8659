/*  gf_notifier — who is told what, and how it reaches them.

    The notifier actor runs three parts:
    - the rules consumer (this file): consumes, durably (gf_consumer), the
      event types named in notification_rules (those it raises) and creates
      one notification per (case, kind, recipient) from the Chinese
      templates in notification_templates, with a notification.created
      event on topic notify/<person id> (notify/resident for residents), by
      gf_notify_many (notify.sql).  Idempotent by the unique indexes, in the
      consumer step's transaction.  The escalation engine raises its own
      occasions (escalations, sign-for reminders, overdue referrals) through
      the same rules and function, in its transactions.  A trigger fans
      each notification out into the delivery outbox (`deliveries`), one row
      per channel of its recipient, whoever created it.
    - gf_dispatch: sends due SMS and e-mail deliveries through the channel
      drivers, with retries, back-off, dead letters and rate limits;
    - gf_apppush: pushes app deliveries to connected staff apps and records
      their receipts.
*/
#ifndef GF_NOTIFIER_H_INCLUDED
#define GF_NOTIFIER_H_INCLUDED

#include <czmq.h>
#include "gf_config.h"

/*  Start status of the notifier's parts, written before their signal. */
typedef struct {
    gf_config_t *config; /* borrowed              */
    int status;          /* 0 started, else failed */
} gf_part_args_t;

void gf_notifier_actor (zsock_t *pipe, void *args);

#endif
