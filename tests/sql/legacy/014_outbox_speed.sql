-- 014_outbox_speed: the dispatcher's claim (pending, due, by urgency then id, LIMIT, FOR
-- UPDATE SKIP LOCKED) had no index in its order: it sorted every pending SMS
-- at each claim (3 s a claim with 40,000 pending at the end of the chaos
-- run; 14 ms with this index).  (The fan-out's quiet-hours release, once per
-- statement, is in 013.)
CREATE INDEX deliveries_claim ON deliveries (channel, urgent DESC, id) WHERE state = 'pending';
