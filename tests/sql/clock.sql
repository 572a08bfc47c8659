-- pgTAP: deploy/sql/repeatable/clock.sql — gf_now is the simulated time when
-- set, frozen until moved; the real time otherwise.
BEGIN;
SELECT plan (3);
DELETE FROM sim_clock;
SELECT ok (gf_now () = now (), 'without a simulated time: the transaction''s real time');
INSERT INTO sim_clock (at) VALUES ('2026-02-16 09:00+08');
SELECT is (gf_now (), timestamptz '2026-02-16 09:00+08', 'with one: the simulated time');
UPDATE sim_clock SET at = at + interval '3 days';
SELECT is (gf_now (), timestamptz '2026-02-19 09:00+08', 'it moves only when moved');
SELECT * FROM finish ();
ROLLBACK;
