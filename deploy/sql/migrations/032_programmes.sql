-- 032_programmes: the programmes of grid work (issue 15, "What to build"
-- 4-8): 1+10+N links (a cadre's households), things done (办实事), help
-- pairs (结对帮扶) with their reviews, relief cases (救助), star ratings
-- (星级评定: criteria as data, rounds, scores, publication), campaigns
-- (e.g. 111在行动: targets and a ledger of items) and team members helping
-- on a case.  Every change is a programme.action through the intake
-- (deploy/sql/repeatable/programmes.sql); programme_actions makes each one
-- idempotent by (actor, request id).  Household ids are opaque; no name,
-- address or phone is stored here (notes are free text, redacted on the
-- stream).

-- Settings, as data (documented defaults; docs/programmes.md).
CREATE TABLE programme_settings (
    key   text PRIMARY KEY,
    value text NOT NULL,
    note  text NOT NULL
);
INSERT INTO programme_settings (key, value, note) VALUES
    ('links_per_cadre', '10', '1+10+N: the most households one cadre keeps open links with');

-- 1+10+N: a cadre's households, with start and end.
CREATE TABLE care_links (
    id         bigserial PRIMARY KEY,
    cadre      text NOT NULL REFERENCES people (id),
    household  text NOT NULL REFERENCES households (id),
    grid       text NOT NULL REFERENCES grids (code),   -- the household's grid then
    valid_from date NOT NULL,
    valid_to   date,
    opened_by  text NOT NULL,
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE UNIQUE INDEX care_links_open ON care_links (cadre, household) WHERE valid_to IS NULL;
CREATE INDEX care_links_household ON care_links (household);

-- The kinds of things done (办实事), as data.
CREATE TABLE thing_kinds (
    code    text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,31}$'),
    name    text NOT NULL,
    name_en text NOT NULL,
    ord     smallint NOT NULL
);
INSERT INTO thing_kinds (code, name, name_en, ord) VALUES
    ('repair', '维修帮办', 'repair', 1),
    ('errand', '代办跑腿', 'errand run', 2),
    ('policy', '政策帮办', 'benefit or policy paperwork', 3),
    ('care', '生活照料', 'daily care', 4),
    ('health', '就医帮扶', 'help with health care', 5),
    ('employment', '就业帮扶', 'help finding work', 6),
    ('dispute', '矛盾调解', 'dispute mediated', 7),
    ('donation', '慰问物资', 'goods or donation', 8),
    ('other', '其他实事', 'other', 9);

-- A thing done (办实事): what, when, by whom, for which household (or
-- link), carried by a visit (031's visits, by id) or a case.
CREATE TABLE things_done (
    id         bigserial PRIMARY KEY,
    kind       text NOT NULL REFERENCES thing_kinds (code),
    note       text NOT NULL CHECK (char_length (note) BETWEEN 1 AND 4000),
    day        date NOT NULL,
    actor      text NOT NULL REFERENCES people (id),
    household  text REFERENCES households (id),
    link_id    bigint REFERENCES care_links (id),
    visit_id   bigint REFERENCES visits (id), -- the visit.logged record (031) that carried it
    case_id    bigint REFERENCES cases (id),
    grid       text NOT NULL REFERENCES grids (code),
    at         timestamptz NOT NULL,
    CHECK (household IS NOT NULL OR case_id IS NOT NULL)
);
CREATE INDEX things_done_grid ON things_done (grid, day);
CREATE INDEX things_done_link ON things_done (link_id);

-- 结对帮扶: a helper and a household, a goal, reviews, an outcome.
CREATE TABLE help_pairs (
    id         bigserial PRIMARY KEY,
    helper     text NOT NULL REFERENCES people (id),
    household  text NOT NULL REFERENCES households (id),
    grid       text NOT NULL REFERENCES grids (code),
    goal       text NOT NULL CHECK (char_length (goal) BETWEEN 1 AND 4000),
    started    date NOT NULL,
    state      text NOT NULL DEFAULT 'active' CHECK (state = ANY (ARRAY['active', 'closed'])),
    outcome    text CHECK (outcome = ANY (ARRAY['achieved', 'partly', 'not_achieved', 'moved_away'])),
    closed_on  date,
    opened_by  text NOT NULL,
    CHECK ((state = 'closed') = (outcome IS NOT NULL AND closed_on IS NOT NULL))
);
CREATE UNIQUE INDEX help_pairs_active ON help_pairs (helper, household) WHERE state = 'active';
CREATE TABLE help_pair_reviews (
    id      bigserial PRIMARY KEY,
    pair_id bigint NOT NULL REFERENCES help_pairs (id),
    day     date NOT NULL,
    note    text NOT NULL CHECK (char_length (note) BETWEEN 1 AND 4000),
    actor   text NOT NULL,
    at      timestamptz NOT NULL
);

-- 救助: relief cases as their own record (homeless aided, sent home ...);
-- people: how many persons the case aided.  No names.
CREATE TABLE relief_kinds (
    code    text PRIMARY KEY,
    name    text NOT NULL,
    name_en text NOT NULL
);
INSERT INTO relief_kinds (code, name, name_en) VALUES
    ('homeless_aided', '流浪乞讨人员救助', 'homeless person aided'),
    ('sent_home', '护送返乡', 'sent home'),
    ('emergency', '临时救助', 'emergency relief');
CREATE TABLE relief_cases (
    id     bigserial PRIMARY KEY,
    kind   text NOT NULL REFERENCES relief_kinds (code),
    grid   text NOT NULL REFERENCES grids (code),
    people integer NOT NULL CHECK (people BETWEEN 1 AND 1000),
    day    date NOT NULL,
    note   text NOT NULL CHECK (char_length (note) BETWEEN 1 AND 4000),
    actor  text NOT NULL,
    at     timestamptz NOT NULL
);
CREATE INDEX relief_cases_grid ON relief_cases (grid, day);

-- 星级评定: criteria as data (max points each), star levels as data (the
-- least share of the points a star level needs).
CREATE TABLE rating_criteria (
    code    text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,31}$'),
    name    text NOT NULL,
    name_en text NOT NULL,
    max_points integer NOT NULL CHECK (max_points > 0),
    active  boolean NOT NULL DEFAULT true,
    ord     smallint NOT NULL
);
INSERT INTO rating_criteria (code, name, name_en, max_points, ord) VALUES
    ('participation', '参与度', 'participation', 20, 1),
    ('hygiene', '环境卫生', 'hygiene', 20, 2),
    ('safety', '平安建设', 'safety', 20, 3),
    ('mediation', '矛盾调解', 'dispute mediation', 20, 4),
    ('civility', '文明新风', 'civility', 20, 5);
CREATE TABLE rating_star_levels (
    stars     smallint PRIMARY KEY CHECK (stars BETWEEN 0 AND 5),
    min_share numeric NOT NULL CHECK (min_share BETWEEN 0 AND 1)
);
INSERT INTO rating_star_levels (stars, min_share) VALUES
    (5, 0.90), (4, 0.80), (3, 0.70), (2, 0.60), (1, 0.50), (0, 0);

-- A rating round: an L2 grid scores its self-governance groups (L3 grids,
-- 1+X+Y) or its households, then publishes.
CREATE TABLE rating_rounds (
    id           bigserial PRIMARY KEY,
    grid         text NOT NULL REFERENCES grids (code),
    period       text NOT NULL CHECK (char_length (period) BETWEEN 1 AND 64),  -- e.g. 2026-Q4
    subject_kind text NOT NULL CHECK (subject_kind = ANY (ARRAY['grid', 'household'])),
    state        text NOT NULL DEFAULT 'open' CHECK (state = ANY (ARRAY['open', 'published'])),
    opened_by    text NOT NULL,
    opened_at    timestamptz NOT NULL,
    published_at timestamptz,
    UNIQUE (grid, period, subject_kind)
);
CREATE TABLE rating_scores (
    round_id  bigint NOT NULL REFERENCES rating_rounds (id),
    subject   text NOT NULL,     -- an L3 grid code or a household id
    grid      text NOT NULL REFERENCES grids (code),  -- the subject's L3 grid (public results group by it)
    criterion text NOT NULL REFERENCES rating_criteria (code),
    points    integer NOT NULL CHECK (points >= 0),
    actor     text NOT NULL,
    at        timestamptz NOT NULL,
    PRIMARY KEY (round_id, subject, criterion)
);

-- Campaigns (e.g. 111在行动): per-grid or per-leader targets and a ledger.
CREATE TABLE campaigns (
    code       text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    name       text NOT NULL CHECK (char_length (name) BETWEEN 1 AND 64),
    grid       text NOT NULL REFERENCES grids (code),   -- the L1 grid that runs it
    unit       text NOT NULL DEFAULT '件',
    state      text NOT NULL DEFAULT 'open' CHECK (state = ANY (ARRAY['open', 'closed'])),
    opened_by  text NOT NULL,
    opened_at  timestamptz NOT NULL
);
CREATE TABLE campaign_targets (
    id       bigserial PRIMARY KEY,
    campaign text NOT NULL REFERENCES campaigns (code),
    grid     text REFERENCES grids (code),
    person   text REFERENCES people (id),
    target   integer NOT NULL CHECK (target > 0),
    CHECK ((grid IS NULL) <> (person IS NULL))
);
CREATE UNIQUE INDEX campaign_targets_key ON campaign_targets (campaign, coalesce (grid, ''), coalesce (person, ''));
CREATE TABLE campaign_items (
    id       bigserial PRIMARY KEY,
    campaign text NOT NULL REFERENCES campaigns (code),
    grid     text NOT NULL REFERENCES grids (code),
    person   text REFERENCES people (id),
    qty      integer NOT NULL CHECK (qty BETWEEN 1 AND 100000),
    day      date NOT NULL,
    note     text NOT NULL CHECK (char_length (note) BETWEEN 1 AND 4000),
    actor    text NOT NULL,
    at       timestamptz NOT NULL
);
CREATE INDEX campaign_items_campaign ON campaign_items (campaign, grid);

-- Teams on cases: a team member helping on a case (the owner grid stays).
CREATE TABLE case_helpers (
    id          bigserial PRIMARY KEY,
    case_id     bigint NOT NULL REFERENCES cases (id),
    person      text NOT NULL REFERENCES people (id),
    team        text NOT NULL REFERENCES teams (code),
    assigned_by text NOT NULL,
    at          timestamptz NOT NULL
);
CREATE UNIQUE INDEX case_helpers_once ON case_helpers (case_id, person);

-- Every programme.action applied, once per (actor, request id), with the
-- record it made (ref) so that a resend answers as the first time.
CREATE TABLE programme_actions (
    id         bigserial PRIMARY KEY,
    request_id text NOT NULL,
    actor      text NOT NULL,
    action     text NOT NULL,
    ref        text NOT NULL,
    at         timestamptz NOT NULL,
    UNIQUE (actor, request_id)
);

INSERT INTO event_types (type, name, name_en) VALUES
    ('link.opened', '1+10+N 联户', '1+10+N link opened'),
    ('link.closed', '1+10+N 联户结束', '1+10+N link closed'),
    ('thing.done', '办实事', 'thing done'),
    ('pair.opened', '结对帮扶', 'help pair opened'),
    ('pair.reviewed', '帮扶回访', 'help pair reviewed'),
    ('pair.closed', '帮扶结束', 'help pair closed'),
    ('relief.recorded', '救助', 'relief case recorded'),
    ('rating.opened', '星级评定开始', 'star rating round opened'),
    ('rating.scored', '星级评分', 'star rating scored'),
    ('rating.published', '星级评定公布', 'star rating round published'),
    ('campaign.opened', '专项行动', 'campaign opened'),
    ('campaign.targeted', '专项行动目标', 'campaign target set'),
    ('campaign.item', '专项行动台账', 'campaign ledger item'),
    ('case.helper', '协办', 'team member helps on a case')
ON CONFLICT (type) DO NOTHING;
