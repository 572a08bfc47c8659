-- 029_people_and_households: the people side of grid work (issue 15), the
-- shared entities: who serves which grid in which role and when, the teams
-- of the 1680 method, and the household register with its special-group
-- memberships and visit frequencies.  The register is staff-only personal
-- data: no grant to the gateway's public views, never on the stream (events
-- name a household by its opaque id only).

-- The 1680 method's teams (调解员, 青年志愿者, 道德之星 ...): data, not code.
CREATE TABLE teams (
    code    text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,31}$'),
    name    text NOT NULL,
    name_en text NOT NULL
);
INSERT INTO teams (code, name, name_en) VALUES
    ('mediators', '调解员队伍', 'mediators'),
    ('volunteers', '青年志愿者队伍', 'youth volunteers'),
    ('moral_stars', '道德之星队伍', 'moral stars'),
    ('party_members', '党员先锋队伍', 'party member vanguard'),
    ('elders', '乡贤能人队伍', 'respected elders'),
    ('security', '治安巡防队伍', 'security patrol'),
    ('sanitation', '环境卫生队伍', 'sanitation'),
    ('culture', '文体活动队伍', 'culture and sports');

-- Who served which grid in which role, when (一岗多责: one person, several
-- rows).  valid_to NULL: serving now.  people keeps the person (name,
-- contact, channels) and the home grid; person_roles is the history that
-- old timelines read ("who led QNL.07.063 on 3 March").  Existing people
-- get their current role from the start of time.
CREATE TABLE person_roles (
    id         bigserial PRIMARY KEY,
    person     text NOT NULL REFERENCES people (id),
    grid       text NOT NULL REFERENCES grids (code),
    role       text NOT NULL CHECK (role = ANY (ARRAY['leader', 'member', 'triage', 'cadre', 'three_heads',
                                                      'household_rep', 'team_member'])),
    team       text REFERENCES teams (code),
    home_unit  text,          -- 下派干部: the cadre's own unit
    valid_from timestamptz NOT NULL,
    valid_to   timestamptz,
    CHECK (valid_to IS NULL OR valid_to > valid_from),
    CHECK ((role = 'team_member') = (team IS NOT NULL))
);
CREATE INDEX person_roles_current ON person_roles (grid, role) WHERE valid_to IS NULL;
CREATE INDEX person_roles_person ON person_roles (person, valid_from);
INSERT INTO person_roles (person, grid, role, valid_from)
SELECT id, grid, role, '-infinity' FROM people;

-- The household register, per L3 grid.  Members only as the work needs
-- (members: a JSON array of {name, relation, phone?, note?}).
CREATE TABLE households (
    id         text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    grid       text NOT NULL REFERENCES grids (code),
    address    text NOT NULL CHECK (char_length (address) BETWEEN 1 AND 200),
    head_name  text NOT NULL CHECK (char_length (head_name) BETWEEN 1 AND 64),
    phone      text,
    members    jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof (members) = 'array'),
    version    integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX households_grid ON households (grid);

-- Special-group memberships with start, end and source (who or what said
-- so: 民政 list, a visit, an import).
CREATE TABLE household_groups (
    id         bigserial PRIMARY KEY,
    household  text NOT NULL REFERENCES households (id),
    grp        text NOT NULL REFERENCES special_groups (code),
    valid_from date NOT NULL,
    valid_to   date,
    source     text NOT NULL CHECK (char_length (source) BETWEEN 1 AND 64),
    CHECK (valid_to IS NULL OR valid_to > valid_from)
);
CREATE UNIQUE INDEX household_groups_current ON household_groups (household, grp) WHERE valid_to IS NULL;

-- How often a special household is visited, per group (per L1 root, '*'
-- the default): 'week', 'month', 'quarter' or 'year'.  A household in
-- several groups is visited at the shortest of its groups' periods.
CREATE TABLE visit_rules (
    root   text NOT NULL,
    grp    text NOT NULL REFERENCES special_groups (code),
    period text NOT NULL CHECK (period = ANY (ARRAY['week', 'month', 'quarter', 'year'])),
    PRIMARY KEY (root, grp)
);
INSERT INTO visit_rules (root, grp, period) VALUES
    ('*', 'bereaved', 'month'), ('*', 'petitioner', 'month'), ('*', 'left_behind', 'month'),
    ('*', 'hardship', 'quarter'), ('*', 'dibao', 'quarter'), ('*', 'disabled', 'quarter');
