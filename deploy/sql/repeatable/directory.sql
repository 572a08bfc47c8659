-- directory.sql — the grid tree and who leads it.  A code's prefix names its
-- subtree (QNL ⊃ QNL.07 ⊃ QNL.07.063): gf_in_subtree is the one definition of
-- "inside a grid subtree"; gf_subtree_lo/hi are the same set as an index range.
-- Owns: gf_in_subtree, gf_subtree_lo, gf_subtree_hi, gf_owner_grid, gf_leader.

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
