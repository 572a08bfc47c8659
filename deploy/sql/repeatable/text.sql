-- text.sql — pure text functions: the normalised address (both sides of the
-- address -> grid lookup) and the masks of personal data in event payloads.
-- Owns: gf_normalize_address, gf_mask_phone, gf_mask_address.
-- gridflow:phase=before  (addresses' CHECK uses gf_normalize_address, so this
-- file runs before the versioned migrations; it reads no table).

-- Normalised form used on both sides of the address -> grid lookup.
CREATE OR REPLACE FUNCTION gf_normalize_address (a text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT nullif (regexp_replace (translate (a, '０１２３４５６７８９－', '0123456789-'),
                                   '\s+', '', 'g'), '')
$$;

-- Personal data is masked in every event payload (138****1234).
CREATE OR REPLACE FUNCTION gf_mask_phone (p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p IS NULL THEN NULL
                WHEN char_length (p) >= 7 THEN left (p, 3) || '****' || right (p, 4)
                ELSE '****' END
$$;

CREATE OR REPLACE FUNCTION gf_mask_address (a text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN a IS NULL THEN NULL
                ELSE left (a, greatest (char_length (a) * 6 / 10, 1)) || '**' END
$$;
