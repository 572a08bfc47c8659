-- pgTAP: deploy/sql/repeatable/clock.sql — gf_now is the simulated time when
-- set, frozen until moved; the real time otherwise.  gf_clock_move never
-- moves it backwards or further than the largest jump without force.
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (15);
DELETE FROM sim_clock;
SELECT ok (gf_now () = now (), 'without a simulated time: the transaction''s real time');
INSERT INTO sim_clock (at) VALUES ('2026-02-16 09:00+08');
SELECT is (gf_now (), timestamptz '2026-02-16 09:00+08', 'with one: the simulated time');
UPDATE sim_clock SET at = at + interval '3 days';
SELECT is (gf_now (), timestamptz '2026-02-19 09:00+08', 'it moves only when moved');
SET LOCAL gridflow.sim_clock = 'off';
SELECT ok (gf_now () = now (), 'a session that does not follow the simulated clock (production) reads the real time');
RESET gridflow.sim_clock;
SELECT is (gf_now (), timestamptz '2026-02-19 09:00+08', 'the session''s own setting (PGOPTIONS) again');

DELETE FROM sim_clock;
SELECT is (gf_clock_move ('2020-01-06 08:00+08', false, interval '8 days'),
           timestamptz '2020-01-06 08:00+08', 'the first setting starts a simulation anywhere');
SELECT is (gf_clock_move ('2020-01-13 08:00+08', false, interval '8 days'),
           timestamptz '2020-01-13 08:00+08', 'forward within the largest jump');
SELECT throws_ok ($$SELECT gf_clock_move ('2020-01-13 07:59+08', false, interval '8 days')$$,
                  '22023', NULL, 'backwards without force: refused');
SELECT throws_ok ($$SELECT gf_clock_move ('2020-02-13 08:00+08', false, interval '8 days')$$,
                  '22023', NULL, 'a month''s jump without force: refused');
SELECT is (gf_now (), timestamptz '2020-01-13 08:00+08', 'refused moves leave the clock');
SELECT is (gf_clock_move ('2020-02-13 08:00+08', false, NULL), timestamptz '2020-02-13 08:00+08',
           'no largest jump given: no limit');
SELECT is (gf_clock_move ('2020-01-01 08:00+08', true, interval '8 days'),
           timestamptz '2020-01-01 08:00+08', 'backwards with force');
UPDATE sim_clock SET at = now () + interval '1 day';
SELECT throws_ok ($$SELECT gf_clock_move (NULL, false, interval '8 days')$$, '22023', NULL,
                  'back to the system clock, when it is behind: refused without force');
UPDATE sim_clock SET at = now () - interval '60 days';
SELECT is (gf_clock_move (NULL, false, interval '8 days'), now (),
           'back to the system clock when it is ahead: allowed, whatever the jump');
SELECT is ((SELECT count (*) FROM sim_clock), 0::bigint, '... and the simulated time is gone');
SELECT * FROM finish ();
ROLLBACK;
