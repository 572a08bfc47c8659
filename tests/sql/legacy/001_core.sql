-- 001_core: grid directory, cases, the event log (outbox), consumer checkpoints,
-- notifications.  Applied by `gridctl db migrate`.

CREATE TABLE categories (
    code text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,63}$'),
    name text NOT NULL
);

-- The grid tree: a code's prefix names its subtree (QNL ⊃ QNL.07 ⊃ QNL.07.063).
CREATE TABLE grids (
    code       text PRIMARY KEY CHECK (code ~ '^[A-Z][A-Z0-9]*(\.[A-Z0-9]+){0,2}$'),
    level      smallint NOT NULL CHECK (level BETWEEN 1 AND 3),
    parent     text REFERENCES grids (code),
    name       text NOT NULL,
    commitment text,
    CHECK ((level = 1) = (parent IS NULL)),
    CHECK (parent IS NULL OR starts_with (code, parent || '.'))
);

CREATE TABLE people (
    id         text PRIMARY KEY CHECK (length (id) BETWEEN 1 AND 64),
    grid       text NOT NULL REFERENCES grids (code),
    role       text NOT NULL CHECK (role IN ('leader', 'member', 'triage')),
    name       text NOT NULL,
    position   text,
    phone      text,
    commitment text
);
CREATE UNIQUE INDEX people_one_leader ON people (grid) WHERE role = 'leader';

-- Normalised form used on both sides of the address -> grid lookup.
CREATE FUNCTION gf_normalize_address (a text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT nullif (regexp_replace (translate (a, '０１２３４５６７８９－', '0123456789-'),
                                   '\s+', '', 'g'), '')
$$;

CREATE TABLE addresses (
    address text PRIMARY KEY CHECK (address = gf_normalize_address (address)),
    grid    text NOT NULL REFERENCES grids (code)
);

-- Personal data is masked in every event payload (138****1234).
CREATE FUNCTION gf_mask_phone (p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p IS NULL THEN NULL
                WHEN char_length (p) >= 7 THEN left (p, 3) || '****' || right (p, 4)
                ELSE '****' END
$$;
CREATE FUNCTION gf_mask_address (a text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN a IS NULL THEN NULL
                ELSE left (a, greatest (char_length (a) * 6 / 10, 1)) || '**' END
$$;

CREATE TABLE cases (
    id             bigserial PRIMARY KEY,
    source         text NOT NULL,
    source_ref     text NOT NULL,
    request_id     text,
    root           text NOT NULL REFERENCES grids (code),   -- L1 grid (triage owner)
    grid           text NOT NULL REFERENCES grids (code),   -- current owner grid
    requested_grid text,                                   -- explicit grid given at intake
    state          text NOT NULL DEFAULT 'registered'
                   CHECK (state IN ('registered', 'routed', 'unroutable')),
    level          smallint NOT NULL DEFAULT 3 CHECK (level BETWEEN 1 AND 3),
    tier           text NOT NULL DEFAULT 'pending' CHECK (tier IN ('resolved', 'pending', 'hard')),
    category       text REFERENCES categories (code),
    description    text NOT NULL,
    address        text,
    name           text,
    phone          text,
    urgent         boolean NOT NULL DEFAULT false,
    reported_at    timestamptz,
    received_at    timestamptz NOT NULL,
    routed_at      timestamptz,
    version        integer NOT NULL DEFAULT 1,
    UNIQUE (source, source_ref)
);
CREATE INDEX cases_grid ON cases (grid text_pattern_ops, state);

-- The append-only event log and outbox.  Writers insert with seq NULL in the
-- same transaction as their effect; the relay (single sequencer) assigns the
-- dense seq in commit order and publishes.  Consumers follow seq.
CREATE TABLE case_events (
    id      bigserial PRIMARY KEY,
    seq     bigint UNIQUE,
    type    text NOT NULL,
    topic   text NOT NULL,
    case_id bigint REFERENCES cases (id),
    grid    text,
    at      timestamptz NOT NULL,
    payload jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX case_events_unsequenced ON case_events (id) WHERE seq IS NULL;
CREATE INDEX case_events_type_seq ON case_events (type, seq) WHERE seq IS NOT NULL;
CREATE INDEX case_events_case ON case_events (case_id);

-- Wake the relay when events commit (notifications are delivered at commit).
CREATE FUNCTION gf_events_notify () RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify ('gf_events', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER case_events_notify AFTER INSERT ON case_events
    FOR EACH STATEMENT EXECUTE FUNCTION gf_events_notify ();

-- Durable consumers' positions in the event log.
CREATE TABLE consumer_checkpoints (
    consumer   text PRIMARY KEY,
    last_seq   bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now ()
);

-- Message templates are data: format() with positional arguments
-- %1$s case id, %2$s category name, %3$s grid code, %4$s grid name, %5$s description excerpt.
CREATE TABLE notification_templates (
    kind text NOT NULL,
    lang text NOT NULL DEFAULT 'zh',
    body text NOT NULL,
    PRIMARY KEY (kind, lang)
);
INSERT INTO notification_templates (kind, lang, body) VALUES
    ('case.routed', 'zh', '【网格通知】新民情诉求待签收：案件 %1$s，类别 %2$s，网格 %3$s（%4$s）。内容：%5$s。请及时签收办理。'),
    ('case.routed', 'en', '[Grid notice] New case %1$s to sign for: category %2$s, grid %3$s (%4$s). %5$s');

CREATE TABLE notifications (
    id         bigserial PRIMARY KEY,
    case_id    bigint NOT NULL REFERENCES cases (id),
    kind       text NOT NULL,
    recipient  text NOT NULL REFERENCES people (id),
    channel    text NOT NULL DEFAULT 'app',
    text       text NOT NULL,
    created_at timestamptz NOT NULL,
    UNIQUE (case_id, kind, recipient)
);

-- LISTEN takes no bind parameters; this lets clients LISTEN on a channel
-- passed as a parameter, quoted as an identifier.
CREATE FUNCTION gf_listen (channel text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format ('LISTEN %I', channel);
END
$$;
