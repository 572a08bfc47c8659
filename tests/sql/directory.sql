-- pgTAP: deploy/sql/repeatable/directory.sql — gf_in_subtree (segment
-- boundaries; '_' and '%' in codes are plain characters), the index range
-- gf_subtree_lo/hi (the same set as gf_in_subtree, less the root), the
-- owner grid at a level and a grid's leader, on the sample directory.
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (30);

SELECT ok (gf_in_subtree ('QNL.07.063', 'QNL.07'), 'an L3 grid is inside its L2 grid');
SELECT ok (gf_in_subtree ('QNL.07.063', 'QNL'), 'and inside its L1 grid');
SELECT ok (gf_in_subtree ('QNL.07', 'QNL.07'), 'a grid is inside its own subtree');
SELECT ok (NOT gf_in_subtree ('QNL.070.001', 'QNL.07'), 'QNL.070 is not inside QNL.07 (segment boundary)');
SELECT ok (NOT gf_in_subtree ('QNL.07', 'QNL.07.063'), 'a parent is not inside its child');
SELECT ok (NOT gf_in_subtree ('QNLX.01', 'QNL'), 'a code that only starts with the same letters is not inside');
SELECT ok (NOT gf_in_subtree ('QNLA.01', 'QNL_'), '''_'' in a subtree code matches only ''_''');
SELECT ok (gf_in_subtree ('QNL_.01', 'QNL_'), 'and a code with ''_'' is inside its own subtree');
SELECT ok (NOT gf_in_subtree ('QXYZL.01', 'Q%L'), '''%'' in a subtree code matches only ''%''');
SELECT ok (gf_in_subtree ('Q%L.01', 'Q%L'), 'and a code with ''%'' is inside its own subtree');
SELECT is (gf_in_subtree (NULL, 'QNL'), NULL, 'no code: unknown');

-- The range is the same set, for every subtree of the sample and odd codes.
CREATE TEMP TABLE codes AS
    SELECT code FROM grids
    UNION SELECT unnest (ARRAY['QNL_.01', 'QNL%.01', 'QNLA.01', 'QNL/01', 'QNL-01', 'QNL.', 'QNL.07a',
                               'QNL.07.063.9', 'QNL.07/063', 'QNL.07-063', 'Q%L.01', 'QXYZL.01', 'QNL.07' || chr (127)]);
SELECT is ((SELECT count (*) FROM codes s, codes c
             WHERE (c.code ~>=~ gf_subtree_lo (s.code) AND c.code ~<~ gf_subtree_hi (s.code))
                   IS DISTINCT FROM (gf_in_subtree (c.code, s.code) AND c.code <> s.code)),
           0::bigint, 'gf_subtree_lo/hi holds exactly the codes gf_in_subtree holds, but the root');
SELECT is ((SELECT count (*) FROM grids WHERE code ~>=~ gf_subtree_lo ('QNL.07') AND code ~<~ gf_subtree_hi ('QNL.07')),
           (SELECT count (*) FROM grids WHERE parent = 'QNL.07'), 'QNL.07''s range: its L3 grids');

SELECT is (gf_owner_grid ('QNL.07.063', 3), 'QNL.07.063', 'the owner at L3: the grid itself');
SELECT is (gf_owner_grid ('QNL.07.063', 2), 'QNL.07', 'the owner at L2');
SELECT is (gf_owner_grid ('QNL.07.063', 1), 'QNL', 'the owner at L1');

SELECT is (gf_leader ('QNL'), 'P-QNL-1', 'the leader of QNL (not its triage officer)');
SELECT is (gf_leader ('QNL.07.063'), (SELECT id FROM people WHERE grid = 'QNL.07.063' AND role = 'leader'),
           'the leader of an L3 grid');
SELECT is (gf_leader ('QNL.99'), NULL, 'a grid without a leader (or unknown): NULL');

-- Codes whose text prefixes overlap outside their subtree are refused
-- (stream rights are topic prefixes); a child's code is of course fine.
SELECT throws_ok ($$INSERT INTO grids (code, level, parent, name) VALUES ('QNL.070', 2, 'QNL', 'x')$$,
                  '23514', NULL, 'QNL.070 beside QNL.07 is refused');
SELECT throws_ok ($$INSERT INTO grids (code, level, parent, name) VALUES ('QNL.07.06', 3, 'QNL.07', 'x')$$,
                  '23514', NULL, 'QNL.07.06 beside QNL.07.063 is refused');
SELECT throws_ok ($$INSERT INTO grids (code, level, name) VALUES ('QN', 1, 'x')$$,
                  '23514', NULL, 'a root QN beside QNL is refused');
SELECT lives_ok ($$INSERT INTO grids (code, level, parent, name) VALUES ('QNL.07.999', 3, 'QNL.07', 'x')$$,
                 'a new L3 grid under QNL.07 is fine');

-- The versioned roles (person_roles, issue 15): an edit closes the old row
-- and opens a new one, unchanged rows stay, old timelines keep their names.
INSERT INTO sim_clock (at) VALUES ('2026-12-01 02:00+00') ON CONFLICT (id) DO UPDATE SET at = excluded.at;
SELECT is (gf_person_role_at ('QNL.01', 'leader', '2026-06-01'), 'P-QNL.01-1', 'who led QNL.01 before any edit');
SELECT is (gf_person_roles_sync ('P-QNL.01-1', '[{"grid":"QNL.01","role":"leader"}]'), 0, 'an unchanged set touches nothing');
SELECT is (gf_person_roles_sync ('P-QNL.01-1', '[{"grid":"QNL.01","role":"member"},
    {"grid":"QNL.02.011","role":"cadre","home_unit":"区民政局"},{"grid":"QNL.01.001","role":"team_member","team":"mediators"}]'),
    4, 'a new set closes the leader row and opens three');
SELECT is (gf_person_roles_sync ('P-QNL-2', '[{"grid":"QNL.01","role":"leader"}]') > 0, true, 'another person leads QNL.01');
UPDATE sim_clock SET at = '2026-12-02 02:00+00';
SELECT is (gf_person_role_at ('QNL.01', 'leader', '2026-06-01'), 'P-QNL.01-1', 'an old timeline keeps its leader');
SELECT is (gf_person_role_at ('QNL.01', 'leader', gf_now ()), 'P-QNL-2', 'the new leader now');
SELECT is ((SELECT string_agg (grid || '/' || role || coalesce ('/' || team, '') || coalesce ('/' || home_unit, '')
                               || CASE WHEN valid_to IS NULL THEN '' ELSE '/closed' END, ',')
              FROM gf_person_history ('P-QNL.01-1', NULL)),
           'QNL.01/leader/closed,QNL.01/member,QNL.01.001/team_member/mediators,QNL.02.011/cadre/区民政局',
           'the person''s history: one person, several grids');
SELECT * FROM finish ();
ROLLBACK;
