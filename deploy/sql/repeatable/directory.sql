-- directory.sql — the grid tree and who leads it.  A code's prefix names its
-- subtree (QNL ⊃ QNL.07 ⊃ QNL.07.063): gf_in_subtree is the one definition of
-- "inside a grid subtree"; gf_subtree_lo/hi are the same set as an index range.
-- Owns: gf_in_subtree, gf_subtree_lo, gf_subtree_hi, gf_owner_grid, gf_leader,
-- gf_grid_code_check.

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
CREATE OR REPLACE FUNCTION gf_owner_grid (grid text, lvl integer) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
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
