-- 044_lean_notifications: the foreign keys checked once per row on the
-- notifier's hot path go (issue 17, "lean rows").  Measured on one batch of
-- 500 routed complaints (1,739 notifications, 3,478 deliveries; the
-- notifier's statement with and without them, three runs each on a quiet
-- machine): 185-226 ms with, 132-159 ms without, about 30 % of the batch.
-- What they guarded holds by construction:
--   notifications.case_id, .recipient: written only by notify.sql from rows
--     of cases and people read in the same statement; neither table ever
--     loses a row (gridctl versions people, a case is never deleted).
--   deliveries.notification: written only by the fan-out trigger from the
--     notifications rows just inserted (delivery.sql).
--   deliveries.channel: a person's channels or 'sms' for a resident; a
--     channel without a delivery_policy row is never claimed (gf_delivery_claim
--     joins delivery_policy), so such a row waits, visible in gridctl notify.
-- The keys of a field reminder's and a meeting's notice stay: NULL on the
-- hot path, they cost nothing there.
ALTER TABLE notifications DROP CONSTRAINT notifications_case_id_fkey,
                          DROP CONSTRAINT notifications_recipient_fkey;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_notification_fkey,
                       DROP CONSTRAINT deliveries_channel_fkey;
-- deliveries.dedupe_key is 'n' || notification || '.' || channel (the
-- fan-out writes it so): unique by deliveries_notification_channel_key
-- already, and no query looks a row up by it (it is only sent, as the SMS
-- gateway's Idempotency-Key and the e-mail's Message-ID).  One index fewer
-- for each of the seven deliveries of a complaint.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_dedupe_key_key;
