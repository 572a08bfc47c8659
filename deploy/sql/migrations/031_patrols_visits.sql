-- 031_patrols_visits: issue 15's logs of field work — daily patrols
-- (日巡查, "nothing found" is a patrol too), household visits (逐一登门走访)
-- with an optional follow-up complaint opened in the same transaction, and
-- the weekly self-check (周自查) of an L3 grid as a checklist whose items
-- are data.  Each row is written by the intake (patrols.sql) once per
-- request id: a resend with the same keys answers duplicate, the same id
-- with other keys is refused (conflict).  body keeps the request's keys to
-- tell the two apart.  The free texts stay here (staff-only); the stream
-- carries them redacted and names a household by its opaque id.

CREATE TABLE patrols (
    id         bigserial PRIMARY KEY,
    request_id text NOT NULL UNIQUE,
    actor      text NOT NULL REFERENCES people (id),
    grid       text NOT NULL REFERENCES grids (code),
    done_at    timestamptz NOT NULL,
    members    text[] NOT NULL DEFAULT '{}',   -- who went along (people ids)
    places     text[] NOT NULL DEFAULT '{}',   -- the route or places walked
    findings   text[] NOT NULL DEFAULT '{}',   -- empty: nothing found (无异常)
    note       text,
    body       jsonb NOT NULL,
    logged_at  timestamptz NOT NULL
);
CREATE INDEX patrols_grid_done ON patrols (grid, done_at);

CREATE TABLE visits (
    id          bigserial PRIMARY KEY,
    request_id  text NOT NULL UNIQUE,
    actor       text NOT NULL REFERENCES people (id),
    household   text NOT NULL REFERENCES households (id),
    grid        text NOT NULL REFERENCES grids (code),  -- the household's grid then
    done_at     timestamptz NOT NULL,
    learned     text,                                   -- what was learned (民情)
    -- Things done (办实事) as free lines; the typed record things_done (032)
    -- may name the visit that carried it.
    things_done text[] NOT NULL DEFAULT '{}',
    case_id     bigint REFERENCES cases (id),           -- the follow-up complaint
    body        jsonb NOT NULL,
    logged_at   timestamptz NOT NULL
);
CREATE INDEX visits_household_done ON visits (household, done_at);
CREATE INDEX visits_grid_done ON visits (grid, done_at);

-- The weekly self-check's items, as data (an L1 may add its own later: root).
CREATE TABLE self_check_items (
    code    text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,31}$'),
    name    text NOT NULL,
    name_en text NOT NULL,
    ord     smallint NOT NULL,
    active  boolean NOT NULL DEFAULT true
);
INSERT INTO self_check_items (code, name, name_en, ord) VALUES
    ('safety', '安全隐患排查', 'safety hazards checked', 1),
    ('disputes', '矛盾纠纷排查', 'disputes checked', 2),
    ('sanitation', '环境卫生', 'sanitation', 3),
    ('special_households', '特殊群体走访', 'special households visited', 4),
    ('ledger', '台账更新', 'ledger up to date', 5);

-- One self-check per L3 grid and week (week: its Monday, Asia/Shanghai).
-- items: {code: "ok" | "issue"} for every active item; issues: free lines.
CREATE TABLE self_checks (
    id         bigserial PRIMARY KEY,
    request_id text NOT NULL UNIQUE,
    actor      text NOT NULL REFERENCES people (id),
    grid       text NOT NULL REFERENCES grids (code),
    week       date NOT NULL CHECK (extract (isodow FROM week) = 1),
    items      jsonb NOT NULL CHECK (jsonb_typeof (items) = 'object'),
    note       text,
    body       jsonb NOT NULL,
    logged_at  timestamptz NOT NULL,
    UNIQUE (grid, week)
);

-- The parameters of field work, per L1 root ('*' the default); see
-- docs/patrols.md.  clock_skew_minutes: how far in the future a patrol or a
-- visit may say it happened (a phone's clock); remind_hour/remind_minute:
-- when on a working day the L2 leaders are reminded of yesterday's missed
-- patrols and of overdue visits; lookback_days: how many past working days
-- a missed patrol is still reminded of; patrols_from (absent: the day of
-- the root's first logged patrol): from when patrols are expected at all.
CREATE TABLE field_rules (
    root   text PRIMARY KEY,
    params jsonb NOT NULL CHECK (jsonb_typeof (params) = 'object')
);
INSERT INTO field_rules (root, params) VALUES
    ('*', '{"clock_skew_minutes": 10, "remind_hour": 9, "remind_minute": 0, "lookback_days": 3}');

-- Reminders to L2 of missed patrols and overdue visits, once per period:
-- subject the L3 grid (patrol.missed, period the day) or the household
-- (visit.overdue, period the due date).  not_before: quiet hours and the
-- working calendar (gf_quiet_release).
CREATE TABLE field_reminders (
    id         bigserial PRIMARY KEY,
    kind       text NOT NULL CHECK (kind = ANY (ARRAY['patrol.missed', 'visit.overdue'])),
    subject    text NOT NULL,
    period     date NOT NULL,
    grid       text NOT NULL REFERENCES grids (code),     -- the L3 grid
    recipient  text NOT NULL REFERENCES people (id),      -- the L2 leader
    created_at timestamptz NOT NULL,
    not_before timestamptz NOT NULL,
    UNIQUE (kind, subject, period, recipient)
);

INSERT INTO event_types (type, name, name_en) VALUES
    ('patrol.logged', '巡查记录', 'patrol logged'),
    ('visit.logged', '走访记录', 'visit logged'),
    ('selfcheck.logged', '周自查', 'weekly self-check logged'),
    ('patrol.missed', '未巡查提醒', 'missed patrol reminded'),
    ('visit.overdue', '走访逾期提醒', 'overdue visit reminded')
ON CONFLICT (type) DO NOTHING;
