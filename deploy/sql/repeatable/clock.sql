-- clock.sql — the one clock for everything durable: the simulated time when
-- sim_clock holds a row (frozen until `gridctl clock set/advance` moves it),
-- else now().  Owns: gf_now.

CREATE OR REPLACE FUNCTION gf_now () RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT coalesce ((SELECT at FROM sim_clock), now ())
$$;
