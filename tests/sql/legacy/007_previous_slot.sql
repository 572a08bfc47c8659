-- 007_previous_slot: gf_previous_slot (006) as an SQL function was inlined
-- into a plan that took 2 s per call (its parts take 15 ms); in plpgsql each
-- part is planned on its own.
CREATE OR REPLACE FUNCTION gf_previous_slot (p_grid text, p_kind text, p_slot timestamptz)
RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_kind = 'weekly' THEN
        RETURN (SELECT max (w.slot)
                  FROM (SELECT * FROM gf_weekly_slots (p_slot - interval '15 days',
                                                       p_slot - interval '1 microsecond')
                        OFFSET 0) w  -- no pushdown of the grid filter into the function
                 WHERE w.grid = p_grid);
    END IF;
    RETURN (SELECT max (m.slot)
              FROM (SELECT * FROM gf_monthly_slots (p_slot - interval '70 days',
                                                    p_slot - interval '1 microsecond')
                    OFFSET 0) m
             WHERE m.grid = p_grid);
END
$$;
