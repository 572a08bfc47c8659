-- calendar.sql — the China statutory working calendar (calendar_years,
-- calendar_days, loaded by `gridctl calendar import`).  The rule: a day
-- listed in calendar_days is a working day iff its `workday` says so
-- (holidays off even on a weekday, make-up days 调休 worked even on a
-- weekend); any other day is a working day iff it is Monday to Friday.  A year
-- missing from calendar_years has not been announced: the weekday rule is all
-- we have (gf_calendar_has_year tells callers who want to warn).  Local days
-- are Asia/Shanghai.  The only implementation: gridctl calendar and every
-- deadline call these.
-- Owns: gf_calendar_has_year, gf_is_workday, gf_next_workday, gf_next_workday_at,
-- gf_add_working_days, gf_due_days.

CREATE OR REPLACE FUNCTION gf_calendar_has_year (y integer) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT EXISTS (SELECT 1 FROM calendar_years WHERE year = y)
$$;

CREATE OR REPLACE FUNCTION gf_is_workday (d date) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce ((SELECT workday FROM calendar_days WHERE day = d),
                     extract (isodow FROM d) < 6)
$$;

-- The first working day after d.
CREATE OR REPLACE FUNCTION gf_next_workday (d date) RETURNS date
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
BEGIN
    LOOP
        d := d + 1;
        EXIT WHEN gf_is_workday (d);
    END LOOP;
    RETURN d;
END
$$;

-- The first local working day at hh:mm that is not before t: today if today
-- is a working day and hh:mm has not passed, else the next working day.
CREATE OR REPLACE FUNCTION gf_next_workday_at (t timestamptz, hh integer, mm integer) RETURNS timestamptz
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
DECLARE
    d date := (t AT TIME ZONE 'Asia/Shanghai')::date;
BEGIN
    IF (d + make_time (hh, mm, 0)) AT TIME ZONE 'Asia/Shanghai' < t OR NOT gf_is_workday (d) THEN
        d := gf_next_workday (d);
    END IF;
    RETURN (d + make_time (hh, mm, 0)) AT TIME ZONE 'Asia/Shanghai';
END
$$;

-- The same local time of day n working days later (n <= 0: t itself).  From a
-- non-working day counting starts at the next working day, so a case received
-- on Saturday with 2 days' grace is due on Wednesday, not Tuesday.
CREATE OR REPLACE FUNCTION gf_add_working_days (t timestamptz, n integer) RETURNS timestamptz
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
DECLARE
    local timestamp := t AT TIME ZONE 'Asia/Shanghai';
    d date := local::date;
BEGIN
    IF n <= 0 THEN
        RETURN t;
    END IF;
    IF NOT gf_is_workday (d) THEN
        d := gf_next_workday (d);
    END IF;
    FOR i IN 1 .. n LOOP
        d := gf_next_workday (d);
    END LOOP;
    RETURN (d + (local - local::date)) AT TIME ZONE 'Asia/Shanghai';
END
$$;

-- The instant each local day's cases become due: received on day d at time
-- of day x, a case is due at (the n-th working day after d) + x.  One row
-- per day from `first` to the slot's day, so the grace rule costs a join,
-- not a calendar walk per case.  Set-based: the days from `first` on are
-- numbered by the working days up to each (r), and a day's due day is the
-- working day numbered r + n (r + n + 1 from a day off: counting starts at
-- the next working day), as gf_add_working_days walks it.  The span read
-- reaches (n + 1) weeks and 30 days past `last`, more than any statutory
-- break; a due day beyond it (a calendar with longer breaks) is walked by
-- gf_add_working_days itself.  (The walk for every day cost about 1.5 ms
-- of each weekly lapse: 25-odd days, a calendar lookup per day walked.)
CREATE OR REPLACE FUNCTION gf_due_days (first date, last date, n integer)
RETURNS TABLE (day date, due_day date)
LANGUAGE sql STABLE AS $$
    WITH span AS (
        SELECT s::date AS day, coalesce (cd.workday, extract (isodow FROM s) < 6) AS work
          FROM generate_series (first, last + (greatest (n, 0) + 1) * 7 + 30, interval '1 day') s
          LEFT JOIN calendar_days cd ON cd.day = s::date
    ), numbered AS (
        SELECT span.day, span.work, count (*) FILTER (WHERE span.work) OVER (ORDER BY span.day) AS r
          FROM span
    )
    SELECT a.day,
           CASE WHEN n <= 0 THEN a.day
                ELSE coalesce (w.day, (gf_add_working_days ((a.day + time '12:00') AT TIME ZONE 'Asia/Shanghai', n)
                                       AT TIME ZONE 'Asia/Shanghai')::date) END
      FROM numbered a
      LEFT JOIN numbered w ON w.work AND w.r = a.r + n + CASE WHEN a.work THEN 0 ELSE 1 END
     WHERE a.day <= last
     ORDER BY a.day
$$;
