-- clock.sql — the one clock for everything durable: the simulated time when
-- the session follows it and sim_clock holds a row (frozen until `gridctl
-- clock set/advance` moves it), else now().  gf_clock_move is how gridctl moves it (docs/security.md,
-- "The simulated clock").
-- Owns: gf_now, gf_clock_move.

-- Only a session that says gridflow.sim_clock = on follows sim_clock: the
-- services and gridctl say so when their config enables the simulated clock
-- (clock/simulated, off by default), so a sim_clock row written in
-- production (it is audited) moves no deadline of a service that does not.
CREATE OR REPLACE FUNCTION gf_now () RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN current_setting ('gridflow.sim_clock', true) = 'on'
                THEN coalesce ((SELECT at FROM sim_clock), now ()) ELSE now () END
$$;

-- Moves the simulated clock to p_at, or back to the system clock when p_at
-- is NULL, and wakes the services (NOTIFY gf_clock).  Unless p_force:
--   - it never moves backwards (22023 'backwards'): meetings held and
--     deadlines passed cannot be undone;
--   - it never jumps forward by more than p_max_jump (22023 'jump'; NULL: no
--     limit): every meeting in the gap would be held at once.
-- The first setting (no simulated time yet) starts a simulation and is
-- measured against nothing; the return to the system clock is checked for
-- going backwards only (the system clock is where time really is).
-- Returns the time after the move.
CREATE OR REPLACE FUNCTION gf_clock_move (p_at timestamptz, p_force boolean,
                                          p_max_jump interval)
    RETURNS timestamptz
LANGUAGE plpgsql AS $$
DECLARE
    v_from timestamptz;
    v_to timestamptz := coalesce (p_at, now ());
BEGIN
    SELECT at INTO v_from FROM sim_clock FOR UPDATE;
    IF v_from IS NOT NULL AND NOT coalesce (p_force, false) THEN
        IF v_to < v_from THEN
            RAISE EXCEPTION 'backwards: the clock is at %, not moved back to % without --force',
                v_from, v_to USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF p_at IS NOT NULL AND p_max_jump IS NOT NULL AND v_to - v_from > p_max_jump THEN
            RAISE EXCEPTION 'jump: moving the clock from % to % is more than % (clock/max_jump) without --force',
                v_from, v_to, p_max_jump USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;
    IF p_at IS NULL THEN
        DELETE FROM sim_clock;
    ELSE
        INSERT INTO sim_clock (id, at) VALUES (true, p_at)
        ON CONFLICT (id) DO UPDATE SET at = excluded.at;
    END IF;
    PERFORM pg_notify ('gf_clock', '');
    RETURN gf_now ();
END
$$;
