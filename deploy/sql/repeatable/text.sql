-- text.sql — pure text functions: the normalised address (both sides of the
-- address -> grid lookup), the masks of personal data and the redaction of
-- free text (what leaves the staff view).
-- Owns: gf_normalize_address, gf_mask_phone, gf_mask_address, gf_redact_text.
-- gridflow:phase=before  (addresses' CHECK uses gf_normalize_address, so this
-- file runs before the versioned migrations; it reads no table).

-- Normalised form used on both sides of the address -> grid lookup.
CREATE OR REPLACE FUNCTION gf_normalize_address (a text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT nullif (regexp_replace (translate (a, '０１２３４５６７８９－', '0123456789-'),
                                   '\s+', '', 'g'), '')
$$;

-- The masks and the redaction of personal data: the one place that decides
-- what of a phone, an address or a free text leaves the staff view
-- (repeatable/privacy.sql's views, every event payload, notification texts).

-- A phone, masked: a mobile (11 digits or more, separators ignored) keeps
-- its first 3 and last 4 digits (138****1234); a shorter number (a 7- or
-- 8-digit landline) only its last 2 (****32): with 3 + 4 shown it would be
-- shown in full.
CREATE OR REPLACE FUNCTION gf_mask_phone (p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p IS NULL THEN NULL
                WHEN char_length (regexp_replace (p, '[^0-9]', '', 'g')) >= 11
                THEN left (regexp_replace (p, '[^0-9]', '', 'g'), 3) || '****'
                     || right (regexp_replace (p, '[^0-9]', '', 'g'), 4)
                WHEN char_length (regexp_replace (p, '[^0-9]', '', 'g')) >= 7
                THEN '****' || right (regexp_replace (p, '[^0-9]', '', 'g'), 2)
                ELSE '****' END
$$;

-- An address, coarse: the part before the first digit (the street or
-- village, not the house number), at most 60% of it, then '**'
-- (青年路街道西街村1组2号 -> 青年路街道西街**).  Coordinates (the Open311
-- intake stores lat/long as '经纬度 LAT,LONG') are rounded to 2 decimals
-- (about 1 km); anything else with digits keeps no digit.  Every part of
-- the body is immutable (text || numeric is not: hence the ::text casts),
-- so the planner inlines it into the caller's query instead of calling it
-- once per row (tests/sql/text.sql).
CREATE OR REPLACE FUNCTION gf_mask_address (a text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN a IS NULL THEN NULL
                WHEN a ~ '^\s*经纬度\s*-?[0-9]{1,3}(\.[0-9]{1,20})?\s*,\s*-?[0-9]{1,3}(\.[0-9]{1,20})?\s*$'
                THEN '经纬度 ' || round ((regexp_match (a, '(-?[0-9.]+)\s*,'))[1]::numeric, 2)::text
                     || ',' || round ((regexp_match (a, ',\s*(-?[0-9.]+)'))[1]::numeric, 2)::text
                ELSE left (substring (a FROM '^[^0-9０-９]*'),
                           greatest (char_length (a) * 6 / 10, 1)) || '**' END
$$;

-- A free text (a complaint's description, a staff note, a notification
-- text) as it may leave the staff view: full-width digits read as digits,
-- then replaced by a label -- e-mail addresses [邮箱]; 18-digit ID numbers
-- (last character may be X; separators between its 6/8/4 parts) [证件号];
-- bank card numbers (16-19 digits, in groups of 4 or not) [卡号]; mobiles
-- (11 digits from 1, +86 and separators allowed) and landlines (7 or 8
-- digits, an area code in brackets or not, separators allowed) [电话]; and
-- any other run of 7 or more digits [号码].  p_name (the caller's name,
-- when known; 2 characters or more) is replaced by [姓名] wherever it
-- occurs.  Other names in the text are not recognised.
CREATE OR REPLACE FUNCTION gf_redact_text (p_text text, p_name text DEFAULT NULL) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT regexp_replace (regexp_replace (regexp_replace (regexp_replace (regexp_replace (
           regexp_replace (
             CASE WHEN char_length (btrim (p_name)) >= 2
                  THEN replace (translate (p_text, '０１２３４５６７８９Ｘｘ', '0123456789Xx'),
                                btrim (p_name), '[姓名]')
                  ELSE translate (p_text, '０１２３４５６７８９Ｘｘ', '0123456789Xx') END,
             '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}', '[邮箱]', 'g'),
           '(?<![0-9])[0-9]{6}[ -]?[0-9]{8}[ -]?[0-9]{3}[0-9Xx](?![0-9])', '[证件号]', 'g'),
           '(?<![0-9])[0-9]{4}([ -]?[0-9]{4}){3}([ -]?[0-9]{1,3})?(?![0-9])', '[卡号]', 'g'),
           '(?<![0-9])(\+?86[ -]?)?1[3-9][0-9]([ -]?[0-9]{4}){2}(?![0-9])', '[电话]', 'g'),
           '(?<![0-9])(\(0[0-9]{2,3}\)[ -]?|（0[0-9]{2,3}）[ -]?|0[0-9]{2,3}[ -])?[0-9]{3,4}[ -]?[0-9]{4}(?![0-9])',
           '[电话]', 'g'),
           '(?<![0-9])[0-9]{7,}(?![0-9])', '[号码]', 'g')
$$;
