-- directory.sql — the grid tree and who leads it.  A code's prefix names its
-- subtree (QNL ⊃ QNL.07 ⊃ QNL.07.063): gf_in_subtree is the one definition of
-- "inside a grid subtree"; gf_subtree_lo/hi are the same set as an index range.
-- Owns: gf_in_subtree, gf_subtree_lo, gf_subtree_hi, gf_owner_grid, gf_leader,
-- gf_grid_code_check, gf_person_role_at, gf_person_roles_sync, gf_person_roles_import,
-- gf_person_history.

-- True if code is the subtree root or inside it (QNL.07 holds QNL.07.063),
-- without LIKE, so that '_' or '%' in a code mean nothing special.
CREATE OR REPLACE FUNCTION gf_in_subtree (code text, subtree text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT code = subtree OR left (code, char_length (subtree) + 1) = subtree || '.'
$$;

-- A subtree as a range of grid codes: the codes that start with 'X.' are
-- exactly those from 'X.' (inclusive) to 'X/' (exclusive) byte-wise, since
-- '/' follows '.'.  Written with ~>=~ / ~<~ the range matches the
-- text_pattern_ops indexes whether the plan is custom or generic.
CREATE OR REPLACE FUNCTION gf_subtree_lo (p_grid text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT p_grid || '.' $$;

CREATE OR REPLACE FUNCTION gf_subtree_hi (p_grid text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT p_grid || '/' $$;

-- The leader of the grid that owns a case at a level (3: its own grid).
-- STABLE, as array_to_string is: declared IMMUTABLE it was never inlined,
-- and ran as a function call of its own per row (64,000 of them in one
-- sub-district's 09:00 round).
CREATE OR REPLACE FUNCTION gf_owner_grid (grid text, lvl integer) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT array_to_string ((string_to_array (grid, '.'))[1:lvl], '.')
$$;

CREATE OR REPLACE FUNCTION gf_leader (p_grid text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT id FROM people WHERE grid = p_grid AND role = 'leader'
$$;

-- The event stream's topics are '<type>/<grid>' and a client's rights are
-- topic prefixes (streams.sql: ZeroMQ subscriptions match by prefix), so a
-- code that is a text prefix of another grid's code outside its own subtree
-- (QNL.07 and QNL.070) would give QNL.07's readers QNL.070's events.  The
-- directory refuses such a pair (check_violation, naming both codes);
-- a transaction-scoped advisory lock orders concurrent imports.
CREATE OR REPLACE FUNCTION gf_grid_code_check () RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    other text;
BEGIN
    PERFORM pg_advisory_xact_lock (hashtext ('gridflow.grid_codes'));
    SELECT g.code INTO other FROM grids g
     WHERE g.code <> NEW.code
       AND ((starts_with (g.code, NEW.code) AND NOT gf_in_subtree (g.code, NEW.code))
            OR (starts_with (NEW.code, g.code) AND NOT gf_in_subtree (NEW.code, g.code)))
     LIMIT 1;
    IF other IS NOT NULL THEN
        RAISE EXCEPTION 'grid code % is a text prefix of % (or the reverse) outside its subtree: '
                        'stream rights by topic prefix would overlap', NEW.code, other
              USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER grids_code_prefix BEFORE INSERT OR UPDATE OF code ON grids
    FOR EACH ROW EXECUTE FUNCTION gf_grid_code_check ();

-- Who served a grid in a role at a time (person_roles, 029: the versioned
-- directory, so that old timelines keep their names): the person whose row
-- covers p_at, the latest appointed if several (NULL: nobody).
CREATE OR REPLACE FUNCTION gf_person_role_at (p_grid text, p_role text, p_at timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT r.person FROM person_roles r
     WHERE r.grid = p_grid AND r.role = p_role AND r.valid_from <= p_at
       AND (r.valid_to IS NULL OR r.valid_to > p_at)
     ORDER BY r.valid_from DESC, r.id DESC LIMIT 1
$$;

-- A person's roles become p_roles ([{grid, role, team?, home_unit?}], the
-- whole current set): a current row not in it is closed (valid_to = now;
-- removed if opened at this very instant), a missing one opened from now
-- (from the start of time for a person without any row yet, as 029 did for
-- the people it found: their first import names them in old timelines
-- too), an unchanged one untouched.  Returns the number of rows closed and opened.
CREATE OR REPLACE FUNCTION gf_person_roles_sync (p_person text, p_roles jsonb) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_closed integer;
    v_removed integer;
    v_opened integer;
    v_from timestamptz := CASE WHEN EXISTS (SELECT 1 FROM person_roles r WHERE r.person = p_person)
                               THEN gf_now () ELSE '-infinity' END;
BEGIN
    DELETE FROM person_roles r
     WHERE r.person = p_person AND r.valid_to IS NULL AND r.valid_from >= gf_now ()
       AND NOT EXISTS (SELECT 1 FROM jsonb_to_recordset (p_roles) AS w (grid text, role text, team text, home_unit text)
                        WHERE (w.grid, w.role, w.team, w.home_unit)
                              IS NOT DISTINCT FROM (r.grid, r.role, r.team, r.home_unit));
    GET DIAGNOSTICS v_removed = ROW_COUNT;
    UPDATE person_roles r SET valid_to = gf_now ()
     WHERE r.person = p_person AND r.valid_to IS NULL
       AND NOT EXISTS (SELECT 1 FROM jsonb_to_recordset (p_roles) AS w (grid text, role text, team text, home_unit text)
                        WHERE (w.grid, w.role, w.team, w.home_unit)
                              IS NOT DISTINCT FROM (r.grid, r.role, r.team, r.home_unit));
    GET DIAGNOSTICS v_closed = ROW_COUNT;
    INSERT INTO person_roles (person, grid, role, team, home_unit, valid_from)
    SELECT DISTINCT p_person, w.grid, w.role, w.team, w.home_unit, v_from
      FROM jsonb_to_recordset (p_roles) AS w (grid text, role text, team text, home_unit text)
     WHERE NOT EXISTS (SELECT 1 FROM person_roles r
                        WHERE r.person = p_person AND r.valid_to IS NULL
                          AND (w.grid, w.role, w.team, w.home_unit)
                              IS NOT DISTINCT FROM (r.grid, r.role, r.team, r.home_unit));
    GET DIAGNOSTICS v_opened = ROW_COUNT;
    RETURN v_removed + v_closed + v_opened;
END
$$;

-- gridctl grids import: each person of the file serves its own grid in its
-- own role, plus its "roles" list ([{grid, role, team?, home_unit?}]:
-- cadres sent down with their home unit, the three heads, household
-- representatives, team members), versioned by gf_person_roles_sync.  A
-- file without "roles" keeps the people's rows as they are.
CREATE OR REPLACE FUNCTION gf_person_roles_import (p_data jsonb) RETURNS integer
LANGUAGE sql AS $$
    SELECT coalesce (sum (gf_person_roles_sync (
               x.id, jsonb_build_array (jsonb_build_object ('grid', x.grid, 'role', x.role))
                     || coalesce (x.roles, '[]'))), 0)::integer
      FROM jsonb_to_recordset (coalesce (p_data->'people', '[]')) AS x (id text, grid text, role text, roles jsonb)
$$;

-- A person's roles over time, or a grid's (p_person NULL), in order
-- (gridctl people history).
CREATE OR REPLACE FUNCTION gf_person_history (p_person text, p_grid text)
RETURNS TABLE (person text, name text, grid text, role text, team text, home_unit text,
               valid_from timestamptz, valid_to timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT r.person, p.name, r.grid, r.role, r.team, r.home_unit, r.valid_from, r.valid_to
      FROM person_roles r JOIN people p ON p.id = r.person
     WHERE (p_person IS NULL OR r.person = p_person) AND (p_grid IS NULL OR r.grid = p_grid)
     ORDER BY r.grid, r.valid_from, r.role, r.person
$$;
