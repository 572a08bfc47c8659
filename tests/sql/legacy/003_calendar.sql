-- 003_calendar: the China statutory working calendar (holiday-cn data, loaded by
-- `gridctl calendar import`), and the working-day functions the escalator uses
-- in SQL.  They follow common/gf_calendar.c exactly; keep the two in step
-- (tests/e2e/test_calendar.sh compares them day by day).
--
-- The rule: a day listed in calendar_days is a working day iff its `workday`
-- says so (holidays off even on a weekday, make-up days 调休 worked even on a
-- weekend); any other day is a working day iff it is Monday to Friday.  A
-- year missing from calendar_years has not been announced: the weekday rule
-- is all we have (gf_calendar_has_year tells callers who want to warn).
-- Local days are Asia/Shanghai.

-- One row per imported notice (State Council, usually published in November
-- for the next year).  A year with no exception in some month is still here.
CREATE TABLE calendar_years (
    year        integer PRIMARY KEY CHECK (year BETWEEN 1900 AND 2199),
    papers      text,                -- URLs of the notice, one per line
    imported_at timestamptz NOT NULL DEFAULT now ()
);

-- The notice's exception days only; `gridctl calendar import` replaces a
-- year's rows as a whole.
CREATE TABLE calendar_days (
    day     date PRIMARY KEY CHECK (extract (year FROM day) BETWEEN 1900 AND 2199),
    workday boolean NOT NULL,        -- true: make-up working day; false: day off
    name    text                     -- the holiday (春节, 国庆节 ...)
);

CREATE FUNCTION gf_calendar_has_year (y integer) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT EXISTS (SELECT 1 FROM calendar_years WHERE year = y)
$$;

CREATE FUNCTION gf_is_workday (d date) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce ((SELECT workday FROM calendar_days WHERE day = d),
                     extract (isodow FROM d) < 6)
$$;

-- The first working day after d.
CREATE FUNCTION gf_next_workday (d date) RETURNS date
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
CREATE FUNCTION gf_next_workday_at (t timestamptz, hh integer, mm integer) RETURNS timestamptz
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
CREATE FUNCTION gf_add_working_days (t timestamptz, n integer) RETURNS timestamptz
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
