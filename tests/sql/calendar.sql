-- pgTAP: deploy/sql/repeatable/calendar.sql — the working-day rule, the next
-- working day, working-day arithmetic and slots' day-off moves, on a
-- calendar of our own (rolled back).
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (17);

\ir fixtures/national_day_2026.sql

SELECT ok (gf_calendar_has_year (2026), 'an imported year is known');
SELECT ok (NOT gf_calendar_has_year (2027), 'a year not imported is not known');
SELECT ok (NOT gf_is_workday ('2026-10-01'), 'a holiday on a Thursday is a day off');
SELECT ok (gf_is_workday ('2026-10-10'), 'a make-up Saturday is a working day');
SELECT ok (NOT gf_is_workday ('2026-10-11'), 'an ordinary Sunday is a day off');
SELECT ok (gf_is_workday ('2027-03-03'), 'a Wednesday of a year not imported: the weekday rule');
SELECT is (gf_next_workday ('2026-09-30'), date '2026-10-09', 'the next working day skips the holiday');
SELECT is (gf_next_workday ('2026-10-09'), date '2026-10-10', 'the next working day after Friday 9 October is the make-up Saturday');
SELECT is (gf_next_workday_at ('2026-09-30 10:00+08', 9, 0), timestamptz '2026-10-09 09:00+08',
           'at 09:00: after the slot on a working day, the next working day');
SELECT is (gf_next_workday_at ('2026-09-30 08:00+08', 9, 0), timestamptz '2026-09-30 09:00+08',
           'at 09:00: before the slot on a working day, the same day');
SELECT is (gf_add_working_days ('2026-11-07 15:30+08', 2), timestamptz '2026-11-11 15:30+08',
           'received on a Saturday with 2 working days: due on Wednesday, same time of day');
SELECT is (gf_add_working_days ('2026-09-29 10:00+08', 2), timestamptz '2026-10-09 10:00+08',
           'two working days from Tuesday 29 September cross the holiday');
SELECT is (gf_add_working_days ('2026-09-29 10:00+08', 0), timestamptz '2026-09-29 10:00+08',
           'zero working days: the instant itself');
SELECT is ((SELECT due_day FROM gf_due_days ('2026-09-30', '2026-09-30', 1)), date '2026-10-09',
           'gf_due_days: a case of 30 September with 1 working day is due on 9 October');

-- The set-based gf_due_days gives, for every day, the day the walk
-- (gf_add_working_days) gives: each day of September 2026 to February 2027
-- (the National Day holiday and its make-up days, weekends, a year not
-- imported), for 0 to 5 working days.
SELECT is ((SELECT count (*) FROM generate_series (0, 5) n,
                   gf_due_days ('2026-09-01', '2027-02-28', n) d
             WHERE d.due_day IS DISTINCT FROM
                   (gf_add_working_days ((d.day + time '12:00') AT TIME ZONE 'Asia/Shanghai', n)
                    AT TIME ZONE 'Asia/Shanghai')::date),
           0::bigint, 'gf_due_days: every day of six months, 0-5 working days, as the walk gives it');
SELECT is ((SELECT count (*) FROM gf_due_days ('2026-09-01', '2027-02-28', 2)), 181::bigint,
           'gf_due_days: one row per day from first to last');
-- A break longer than the span it reads (a calendar of 90 days off from
-- 1 March 2027): the due day comes from the walk.
INSERT INTO calendar_days (day, workday, name)
SELECT d::date, false, 'test break' FROM generate_series (date '2027-03-01', date '2027-05-29', interval '1 day') d
    ON CONFLICT (day) DO UPDATE SET workday = false;
SELECT is ((SELECT due_day FROM gf_due_days ('2027-02-26', '2027-02-26', 2)),
           (gf_add_working_days ('2027-02-26 12:00+08', 2) AT TIME ZONE 'Asia/Shanghai')::date,
           'gf_due_days: a due day past the span it reads is walked');

SELECT * FROM finish ();
ROLLBACK;
