-- 051_lean_deliveries: the deliveries' indexes each serve a query (issue
-- 17, item 4 "only the indexes a query needs"); a complaint writes about
-- seven deliveries, half of them the app's.
--   deliveries_due (next_at) WHERE pending served no query: the claim
--     (gf_delivery_claim) reads deliveries_claim, gridctl's counts read
--     the table; every pending row was an entry in it, every change of
--     state a new one.
--   deliveries_claim leaves out the app's rows: the dispatcher claims only
--     the channels it sends (SMS, e-mail); the app push serves the app's
--     by person through deliveries_app (gf_app_push).  The claim names its
--     channel, which the planner proves is not 'app'.
-- The indexes left: the primary key, (notification, channel) unique (the
-- fan-out's once per channel), deliveries_app (the app push and the
-- workbench's inbox), deliveries_claim (the claim), deliveries_dead
-- (gridctl's dead letters), deliveries_rate (the claim's rate limit).
DROP INDEX IF EXISTS deliveries_due;
DROP INDEX IF EXISTS deliveries_claim;
CREATE INDEX deliveries_claim ON deliveries (channel, urgent DESC, id)
    WHERE state = 'pending' AND channel <> 'app';
