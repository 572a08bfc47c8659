-- 016_baseline: the schema as 001-015 left it, squashed (tables, sequences,
-- defaults, constraints, indexes, and the vocabulary and rule rows those
-- migrations inserted).  Functions, views, triggers and grants are not
-- here: they live in deploy/sql/repeatable/, one file per concept.
--
-- A database already at 015 (created by the old numbered migrations) is
-- recognised by `gridctl db migrate`, which records this file as carried
-- over instead of running it (docs/DESIGN.md, "Where the SQL lives").  The
-- old files are kept, for that test only, in tests/sql/legacy/; their
-- comments tell the history of each table.
--
-- Needs gf_normalize_address () (repeatable/text.sql, phase "before").

CREATE TABLE addresses (
    address text NOT NULL,
    grid text NOT NULL,
    CONSTRAINT addresses_address_check CHECK ((address = gf_normalize_address(address)))
);

CREATE TABLE api_keys (
    name text NOT NULL,
    key_sha256 text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    revoked_at timestamp with time zone,
    CONSTRAINT api_keys_key_sha256_check CHECK ((key_sha256 ~ '^[0-9a-f]{64}$'::text)),
    CONSTRAINT api_keys_name_check CHECK ((name ~ '^[a-z0-9][a-z0-9_.-]{0,31}$'::text))
);

CREATE TABLE app_tokens (
    person text NOT NULL,
    token_sha256 bytea NOT NULL,
    issued_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE calendar_days (
    day date NOT NULL,
    workday boolean NOT NULL,
    name text,
    CONSTRAINT calendar_days_day_check CHECK (((EXTRACT(year FROM day) >= (1900)::numeric) AND (EXTRACT(year FROM day) <= (2199)::numeric)))
);

CREATE TABLE calendar_years (
    year integer NOT NULL,
    papers text,
    imported_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT calendar_years_year_check CHECK (((year >= 1900) AND (year <= 2199)))
);

CREATE TABLE case_actions (
    id bigint NOT NULL,
    case_id bigint NOT NULL,
    request_id text NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    from_state text NOT NULL,
    to_state text NOT NULL,
    version integer NOT NULL,
    note text,
    at timestamp with time zone NOT NULL
);

CREATE TABLE case_events (
    id bigint NOT NULL,
    seq bigint,
    type text NOT NULL,
    topic text NOT NULL,
    case_id bigint,
    grid text,
    at timestamp with time zone NOT NULL,
    payload jsonb DEFAULT '{}'::jsonb NOT NULL
);

CREATE TABLE case_state_names (
    state text NOT NULL,
    name text NOT NULL
);

CREATE TABLE cases (
    id bigint NOT NULL,
    source text NOT NULL,
    source_ref text NOT NULL,
    request_id text,
    root text NOT NULL,
    grid text NOT NULL,
    requested_grid text,
    state text DEFAULT 'registered'::text NOT NULL,
    level smallint DEFAULT 3 NOT NULL,
    tier text DEFAULT 'pending'::text NOT NULL,
    category text,
    description text NOT NULL,
    address text,
    name text,
    phone text,
    urgent boolean DEFAULT false NOT NULL,
    reported_at timestamp with time zone,
    received_at timestamp with time zone NOT NULL,
    routed_at timestamp with time zone,
    version integer DEFAULT 1 NOT NULL,
    groups text[] DEFAULT '{}'::text[] NOT NULL,
    reporter text,
    household text,
    supervised boolean DEFAULT false NOT NULL,
    merged_into bigint,
    returned_from text[] DEFAULT '{}'::text[] NOT NULL,
    department text,
    satisfied boolean,
    reopen_count integer DEFAULT 0 NOT NULL,
    signed_at timestamp with time zone,
    resolved_at timestamp with time zone,
    closed_at timestamp with time zone,
    updated_at timestamp with time zone,
    CONSTRAINT cases_groups_known CHECK ((groups <@ ARRAY['hardship'::text, 'petitioner'::text, 'bereaved'::text, 'left_behind'::text, 'dibao'::text, 'disabled'::text])),
    CONSTRAINT cases_level_check CHECK (((level >= 1) AND (level <= 3))),
    CONSTRAINT cases_state_check CHECK ((state = ANY (ARRAY['registered'::text, 'routed'::text, 'unroutable'::text, 'signed'::text, 'in_progress'::text, 'referred'::text, 'replied'::text, 'resolved'::text, 'called_back'::text, 'closed'::text, 'reopened'::text, 'merged'::text]))),
    CONSTRAINT cases_tier_check CHECK ((tier = ANY (ARRAY['resolved'::text, 'pending'::text, 'hard'::text])))
);

CREATE TABLE categories (
    code text NOT NULL,
    name text NOT NULL,
    CONSTRAINT categories_code_check CHECK ((code ~ '^[a-z][a-z0-9_]{0,63}$'::text))
);

CREATE TABLE consumer_checkpoints (
    consumer text NOT NULL,
    last_seq bigint DEFAULT 0 NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE deliveries (
    id bigint NOT NULL,
    notification bigint NOT NULL,
    channel text NOT NULL,
    address text NOT NULL,
    dedupe_key text NOT NULL,
    urgent boolean NOT NULL,
    state text DEFAULT 'pending'::text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    not_before timestamp with time zone NOT NULL,
    next_at timestamp with time zone DEFAULT now() NOT NULL,
    last_error text,
    created_at timestamp with time zone NOT NULL,
    sent_at timestamp with time zone,
    sent_real timestamp with time zone,
    acked_at timestamp with time zone,
    CONSTRAINT deliveries_state_check CHECK ((state = ANY (ARRAY['pending'::text, 'sent'::text, 'acked'::text, 'dead'::text])))
);

CREATE TABLE delivery_policy (
    channel text NOT NULL,
    max_attempts integer NOT NULL,
    backoff_ms integer NOT NULL,
    backoff_max_ms integer NOT NULL,
    rate_limit integer NOT NULL,
    rate_window interval NOT NULL,
    CONSTRAINT delivery_policy_backoff_max_ms_check CHECK ((backoff_max_ms > 0)),
    CONSTRAINT delivery_policy_backoff_ms_check CHECK ((backoff_ms > 0)),
    CONSTRAINT delivery_policy_channel_check CHECK ((channel = ANY (ARRAY['app'::text, 'sms'::text, 'email'::text]))),
    CONSTRAINT delivery_policy_max_attempts_check CHECK (((max_attempts >= 1) AND (max_attempts <= 100))),
    CONSTRAINT delivery_policy_rate_limit_check CHECK ((rate_limit >= 0))
);

CREATE TABLE delivery_quiet (
    id boolean DEFAULT true NOT NULL,
    day_start time without time zone NOT NULL,
    day_end time without time zone NOT NULL,
    CONSTRAINT delivery_quiet_check CHECK ((day_start < day_end)),
    CONSTRAINT delivery_quiet_id_check CHECK (id)
);

CREATE TABLE escalation_rules (
    root text NOT NULL,
    rule text NOT NULL,
    params jsonb NOT NULL,
    enabled boolean DEFAULT true NOT NULL,
    CONSTRAINT escalation_rules_rule_check CHECK ((rule = ANY (ARRAY['sign_reminder'::text, 'weekly_l2'::text, 'monthly_l1'::text, 'urgent'::text, 'referral_reply'::text])))
);

CREATE TABLE escalation_state (
    root text NOT NULL,
    since timestamp with time zone NOT NULL
);

CREATE TABLE escalations (
    id bigint NOT NULL,
    case_id bigint NOT NULL,
    rule text NOT NULL,
    meeting_id bigint,
    from_level smallint NOT NULL,
    to_level smallint NOT NULL,
    at timestamp with time zone NOT NULL
);

CREATE TABLE grids (
    code text NOT NULL,
    level smallint NOT NULL,
    parent text,
    name text NOT NULL,
    commitment text,
    CONSTRAINT grids_check CHECK (((level = 1) = (parent IS NULL))),
    CONSTRAINT grids_check1 CHECK (((parent IS NULL) OR starts_with(code, (parent || '.'::text)))),
    CONSTRAINT grids_code_check CHECK ((code ~ '^[A-Z][A-Z0-9]*(\.[A-Z0-9]+){0,2}$'::text)),
    CONSTRAINT grids_level_check CHECK (((level >= 1) AND (level <= 3)))
);

CREATE TABLE identities (
    name text NOT NULL,
    public_key text NOT NULL,
    kind text NOT NULL,
    sources text[] DEFAULT '{}'::text[] NOT NULL,
    grid text NOT NULL,
    person text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    revoked_at timestamp with time zone,
    CONSTRAINT identities_check CHECK (((kind = 'staff'::text) OR (person IS NULL))),
    CONSTRAINT identities_kind_check CHECK ((kind = ANY (ARRAY['adapter'::text, 'staff'::text]))),
    CONSTRAINT identities_name_check CHECK ((name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'::text)),
    CONSTRAINT identities_public_key_check CHECK ((char_length(public_key) = 40)),
    CONSTRAINT identities_sources_check CHECK ((sources <@ ARRAY['hotline'::text, 'suggestbox'::text, 'patrol'::text, 'visit'::text, 'web'::text, 'app'::text, 'open311'::text]))
);

CREATE TABLE ledger_entries (
    meeting_id bigint NOT NULL,
    case_id bigint NOT NULL,
    tier text NOT NULL,
    state text NOT NULL,
    level smallint NOT NULL,
    category text,
    priority text NOT NULL,
    age_days integer NOT NULL,
    owner text NOT NULL,
    last_action text,
    last_action_at timestamp with time zone,
    escalated boolean DEFAULT false NOT NULL,
    CONSTRAINT ledger_entries_tier_check CHECK ((tier = ANY (ARRAY['resolved'::text, 'pending'::text, 'hard'::text])))
);

CREATE TABLE meeting_schedule (
    grid text NOT NULL,
    kind text NOT NULL,
    dow smallint NOT NULL,
    hour smallint NOT NULL,
    minute smallint NOT NULL,
    CONSTRAINT meeting_schedule_dow_check CHECK (((dow >= 1) AND (dow <= 7))),
    CONSTRAINT meeting_schedule_hour_check CHECK (((hour >= 0) AND (hour <= 23))),
    CONSTRAINT meeting_schedule_kind_check CHECK ((kind = ANY (ARRAY['weekly'::text, 'monthly'::text]))),
    CONSTRAINT meeting_schedule_minute_check CHECK (((minute >= 0) AND (minute <= 59)))
);

CREATE TABLE meetings (
    id bigint NOT NULL,
    grid text NOT NULL,
    kind text NOT NULL,
    day date NOT NULL,
    slot_at timestamp with time zone NOT NULL,
    held_at timestamp with time zone NOT NULL,
    period_from timestamp with time zone NOT NULL,
    topic text,
    CONSTRAINT meetings_kind_check CHECK ((kind = ANY (ARRAY['weekly'::text, 'monthly'::text, 'consultation'::text])))
);

CREATE TABLE notification_rules (
    event_type text NOT NULL,
    audience text NOT NULL,
    kind text NOT NULL,
    template text NOT NULL,
    enabled boolean DEFAULT true NOT NULL,
    CONSTRAINT notification_rules_audience_check CHECK ((audience = ANY (ARRAY['grid_leader'::text, 'grid_members'::text, 'resident'::text])))
);

CREATE TABLE notification_templates (
    kind text NOT NULL,
    lang text DEFAULT 'zh'::text NOT NULL,
    body text NOT NULL
);

CREATE TABLE notifications (
    id bigint NOT NULL,
    case_id bigint NOT NULL,
    kind text NOT NULL,
    recipient text,
    channel text DEFAULT 'app'::text NOT NULL,
    text text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    audience text DEFAULT 'staff'::text NOT NULL,
    CONSTRAINT notifications_audience_check CHECK ((audience = ANY (ARRAY['staff'::text, 'resident'::text]))),
    CONSTRAINT notifications_check CHECK (((audience = 'staff'::text) = (recipient IS NOT NULL)))
);

CREATE TABLE people (
    id text NOT NULL,
    grid text NOT NULL,
    role text NOT NULL,
    name text NOT NULL,
    "position" text,
    phone text,
    commitment text,
    email text,
    channels text[] DEFAULT '{app,sms}'::text[] NOT NULL,
    CONSTRAINT people_channels_check CHECK ((channels <@ ARRAY['app'::text, 'sms'::text, 'email'::text])),
    CONSTRAINT people_email_check CHECK (((email IS NULL) OR (email ~ '^[^@\s<>]+@[^@\s<>]+$'::text))),
    CONSTRAINT people_id_check CHECK (((length(id) >= 1) AND (length(id) <= 64))),
    CONSTRAINT people_role_check CHECK ((role = ANY (ARRAY['leader'::text, 'member'::text, 'triage'::text])))
);

CREATE TABLE service_status (
    service text NOT NULL,
    instance text NOT NULL,
    host text NOT NULL,
    pid integer NOT NULL,
    version text NOT NULL,
    started_at timestamp with time zone NOT NULL,
    seen_at timestamp with time zone NOT NULL,
    interval_ms integer NOT NULL,
    ready boolean NOT NULL,
    metrics jsonb DEFAULT '{}'::jsonb NOT NULL,
    stopped_at timestamp with time zone
);

CREATE TABLE sim_clock (
    id boolean DEFAULT true NOT NULL,
    at timestamp with time zone NOT NULL,
    CONSTRAINT sim_clock_id_check CHECK (id)
);

CREATE SEQUENCE case_actions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

CREATE SEQUENCE case_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

CREATE SEQUENCE cases_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

CREATE SEQUENCE deliveries_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

CREATE SEQUENCE escalations_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

CREATE SEQUENCE meetings_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

CREATE SEQUENCE notifications_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE case_actions_id_seq OWNED BY case_actions.id;

ALTER SEQUENCE case_events_id_seq OWNED BY case_events.id;

ALTER SEQUENCE cases_id_seq OWNED BY cases.id;

ALTER SEQUENCE deliveries_id_seq OWNED BY deliveries.id;

ALTER SEQUENCE escalations_id_seq OWNED BY escalations.id;

ALTER SEQUENCE meetings_id_seq OWNED BY meetings.id;

ALTER SEQUENCE notifications_id_seq OWNED BY notifications.id;

ALTER TABLE ONLY case_actions ALTER COLUMN id SET DEFAULT nextval('case_actions_id_seq'::regclass);

ALTER TABLE ONLY case_events ALTER COLUMN id SET DEFAULT nextval('case_events_id_seq'::regclass);

ALTER TABLE ONLY cases ALTER COLUMN id SET DEFAULT nextval('cases_id_seq'::regclass);

ALTER TABLE ONLY deliveries ALTER COLUMN id SET DEFAULT nextval('deliveries_id_seq'::regclass);

ALTER TABLE ONLY escalations ALTER COLUMN id SET DEFAULT nextval('escalations_id_seq'::regclass);

ALTER TABLE ONLY meetings ALTER COLUMN id SET DEFAULT nextval('meetings_id_seq'::regclass);

ALTER TABLE ONLY notifications ALTER COLUMN id SET DEFAULT nextval('notifications_id_seq'::regclass);

ALTER TABLE ONLY addresses
    ADD CONSTRAINT addresses_pkey PRIMARY KEY (address);

ALTER TABLE ONLY api_keys
    ADD CONSTRAINT api_keys_key_sha256_key UNIQUE (key_sha256);

ALTER TABLE ONLY api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (name);

ALTER TABLE ONLY app_tokens
    ADD CONSTRAINT app_tokens_pkey PRIMARY KEY (person);

ALTER TABLE ONLY calendar_days
    ADD CONSTRAINT calendar_days_pkey PRIMARY KEY (day);

ALTER TABLE ONLY calendar_years
    ADD CONSTRAINT calendar_years_pkey PRIMARY KEY (year);

ALTER TABLE ONLY case_actions
    ADD CONSTRAINT case_actions_actor_request_id_key UNIQUE (actor, request_id);

ALTER TABLE ONLY case_actions
    ADD CONSTRAINT case_actions_pkey PRIMARY KEY (id);

ALTER TABLE ONLY case_events
    ADD CONSTRAINT case_events_pkey PRIMARY KEY (id);

ALTER TABLE ONLY case_events
    ADD CONSTRAINT case_events_seq_key UNIQUE (seq);

ALTER TABLE ONLY case_state_names
    ADD CONSTRAINT case_state_names_pkey PRIMARY KEY (state);

ALTER TABLE ONLY cases
    ADD CONSTRAINT cases_pkey PRIMARY KEY (id);

ALTER TABLE ONLY cases
    ADD CONSTRAINT cases_source_source_ref_key UNIQUE (source, source_ref);

ALTER TABLE ONLY categories
    ADD CONSTRAINT categories_pkey PRIMARY KEY (code);

ALTER TABLE ONLY consumer_checkpoints
    ADD CONSTRAINT consumer_checkpoints_pkey PRIMARY KEY (consumer);

ALTER TABLE ONLY deliveries
    ADD CONSTRAINT deliveries_dedupe_key_key UNIQUE (dedupe_key);

ALTER TABLE ONLY deliveries
    ADD CONSTRAINT deliveries_notification_channel_key UNIQUE (notification, channel);

ALTER TABLE ONLY deliveries
    ADD CONSTRAINT deliveries_pkey PRIMARY KEY (id);

ALTER TABLE ONLY delivery_policy
    ADD CONSTRAINT delivery_policy_pkey PRIMARY KEY (channel);

ALTER TABLE ONLY delivery_quiet
    ADD CONSTRAINT delivery_quiet_pkey PRIMARY KEY (id);

ALTER TABLE ONLY escalation_rules
    ADD CONSTRAINT escalation_rules_pkey PRIMARY KEY (root, rule);

ALTER TABLE ONLY escalation_state
    ADD CONSTRAINT escalation_state_pkey PRIMARY KEY (root);

ALTER TABLE ONLY escalations
    ADD CONSTRAINT escalations_pkey PRIMARY KEY (id);

ALTER TABLE ONLY grids
    ADD CONSTRAINT grids_pkey PRIMARY KEY (code);

ALTER TABLE ONLY identities
    ADD CONSTRAINT identities_pkey PRIMARY KEY (name);

ALTER TABLE ONLY identities
    ADD CONSTRAINT identities_public_key_key UNIQUE (public_key);

ALTER TABLE ONLY ledger_entries
    ADD CONSTRAINT ledger_entries_pkey PRIMARY KEY (meeting_id, case_id);

ALTER TABLE ONLY meeting_schedule
    ADD CONSTRAINT meeting_schedule_pkey PRIMARY KEY (grid, kind);

ALTER TABLE ONLY meetings
    ADD CONSTRAINT meetings_grid_kind_day_key UNIQUE (grid, kind, day);

ALTER TABLE ONLY meetings
    ADD CONSTRAINT meetings_pkey PRIMARY KEY (id);

ALTER TABLE ONLY notification_rules
    ADD CONSTRAINT notification_rules_pkey PRIMARY KEY (event_type, audience);

ALTER TABLE ONLY notification_templates
    ADD CONSTRAINT notification_templates_pkey PRIMARY KEY (kind, lang);

ALTER TABLE ONLY notifications
    ADD CONSTRAINT notifications_case_id_kind_recipient_key UNIQUE (case_id, kind, recipient);

ALTER TABLE ONLY notifications
    ADD CONSTRAINT notifications_pkey PRIMARY KEY (id);

ALTER TABLE ONLY people
    ADD CONSTRAINT people_pkey PRIMARY KEY (id);

ALTER TABLE ONLY service_status
    ADD CONSTRAINT service_status_pkey PRIMARY KEY (service, instance);

ALTER TABLE ONLY sim_clock
    ADD CONSTRAINT sim_clock_pkey PRIMARY KEY (id);

CREATE INDEX case_actions_case ON case_actions USING btree (case_id);

CREATE INDEX case_events_at ON case_events USING btree (at, case_id);

CREATE INDEX case_events_case ON case_events USING btree (case_id, id);

CREATE INDEX case_events_type_seq ON case_events USING btree (type, seq) WHERE (seq IS NOT NULL);

CREATE INDEX case_events_unsequenced ON case_events USING btree (id) WHERE (seq IS NULL);

CREATE INDEX cases_grid ON cases USING btree (grid text_pattern_ops, state);

CREATE INDEX cases_merged_into ON cases USING btree (merged_into) WHERE (merged_into IS NOT NULL);

CREATE INDEX cases_open_grid ON cases USING btree (grid text_pattern_ops) WHERE (state <> ALL (ARRAY['resolved'::text, 'called_back'::text, 'closed'::text, 'merged'::text]));

CREATE INDEX cases_state ON cases USING btree (state);

CREATE INDEX cases_urgent_open ON cases USING btree (id) WHERE ((urgent OR (groups <> '{}'::text[])) AND (state <> ALL (ARRAY['resolved'::text, 'called_back'::text, 'closed'::text, 'merged'::text])));

CREATE INDEX deliveries_app ON deliveries USING btree (address) WHERE ((channel = 'app'::text) AND (state = ANY (ARRAY['pending'::text, 'sent'::text])));

CREATE INDEX deliveries_claim ON deliveries USING btree (channel, urgent DESC, id) WHERE (state = 'pending'::text);

CREATE INDEX deliveries_dead ON deliveries USING btree (id) WHERE (state = 'dead'::text);

CREATE INDEX deliveries_due ON deliveries USING btree (next_at) WHERE (state = 'pending'::text);

CREATE INDEX deliveries_rate ON deliveries USING btree (channel, address, sent_real) WHERE (sent_real IS NOT NULL);

CREATE UNIQUE INDEX escalations_once ON escalations USING btree (case_id, rule, COALESCE(meeting_id, (0)::bigint));

CREATE UNIQUE INDEX notifications_resident ON notifications USING btree (case_id, kind) WHERE (recipient IS NULL);

CREATE UNIQUE INDEX people_one_leader ON people USING btree (grid) WHERE (role = 'leader'::text);

ALTER TABLE ONLY addresses
    ADD CONSTRAINT addresses_grid_fkey FOREIGN KEY (grid) REFERENCES grids(code);

ALTER TABLE ONLY app_tokens
    ADD CONSTRAINT app_tokens_person_fkey FOREIGN KEY (person) REFERENCES people(id);

ALTER TABLE ONLY case_actions
    ADD CONSTRAINT case_actions_actor_fkey FOREIGN KEY (actor) REFERENCES people(id);

ALTER TABLE ONLY case_actions
    ADD CONSTRAINT case_actions_case_id_fkey FOREIGN KEY (case_id) REFERENCES cases(id);

ALTER TABLE ONLY case_events
    ADD CONSTRAINT case_events_case_id_fkey FOREIGN KEY (case_id) REFERENCES cases(id);

ALTER TABLE ONLY cases
    ADD CONSTRAINT cases_category_fkey FOREIGN KEY (category) REFERENCES categories(code);

ALTER TABLE ONLY cases
    ADD CONSTRAINT cases_grid_fkey FOREIGN KEY (grid) REFERENCES grids(code);

ALTER TABLE ONLY cases
    ADD CONSTRAINT cases_merged_into_fkey FOREIGN KEY (merged_into) REFERENCES cases(id);

ALTER TABLE ONLY cases
    ADD CONSTRAINT cases_reporter_fkey FOREIGN KEY (reporter) REFERENCES people(id);

ALTER TABLE ONLY cases
    ADD CONSTRAINT cases_root_fkey FOREIGN KEY (root) REFERENCES grids(code);

ALTER TABLE ONLY deliveries
    ADD CONSTRAINT deliveries_channel_fkey FOREIGN KEY (channel) REFERENCES delivery_policy(channel);

ALTER TABLE ONLY deliveries
    ADD CONSTRAINT deliveries_notification_fkey FOREIGN KEY (notification) REFERENCES notifications(id);

ALTER TABLE ONLY escalation_state
    ADD CONSTRAINT escalation_state_root_fkey FOREIGN KEY (root) REFERENCES grids(code);

ALTER TABLE ONLY escalations
    ADD CONSTRAINT escalations_case_id_fkey FOREIGN KEY (case_id) REFERENCES cases(id);

ALTER TABLE ONLY escalations
    ADD CONSTRAINT escalations_meeting_id_fkey FOREIGN KEY (meeting_id) REFERENCES meetings(id);

ALTER TABLE ONLY grids
    ADD CONSTRAINT grids_parent_fkey FOREIGN KEY (parent) REFERENCES grids(code);

ALTER TABLE ONLY identities
    ADD CONSTRAINT identities_grid_fkey FOREIGN KEY (grid) REFERENCES grids(code);

ALTER TABLE ONLY identities
    ADD CONSTRAINT identities_person_fkey FOREIGN KEY (person) REFERENCES people(id);

ALTER TABLE ONLY ledger_entries
    ADD CONSTRAINT ledger_entries_case_id_fkey FOREIGN KEY (case_id) REFERENCES cases(id);

ALTER TABLE ONLY ledger_entries
    ADD CONSTRAINT ledger_entries_meeting_id_fkey FOREIGN KEY (meeting_id) REFERENCES meetings(id);

ALTER TABLE ONLY meeting_schedule
    ADD CONSTRAINT meeting_schedule_grid_fkey FOREIGN KEY (grid) REFERENCES grids(code);

ALTER TABLE ONLY meetings
    ADD CONSTRAINT meetings_grid_fkey FOREIGN KEY (grid) REFERENCES grids(code);

ALTER TABLE ONLY notifications
    ADD CONSTRAINT notifications_case_id_fkey FOREIGN KEY (case_id) REFERENCES cases(id);

ALTER TABLE ONLY notifications
    ADD CONSTRAINT notifications_recipient_fkey FOREIGN KEY (recipient) REFERENCES people(id);

ALTER TABLE ONLY people
    ADD CONSTRAINT people_grid_fkey FOREIGN KEY (grid) REFERENCES grids(code);


--
-- PostgreSQL database dump complete
--


-- Vocabularies and rules as 001-015 left them (operators edit rules and
-- templates with gridctl or SQL; later changes are new migrations).

INSERT INTO case_state_names (state, name) VALUES
    ('registered', '已登记'),
    ('routed', '已分派'),
    ('unroutable', '待分流'),
    ('signed', '已签收'),
    ('in_progress', '办理中'),
    ('referred', '已转办'),
    ('replied', '部门已回复'),
    ('resolved', '已办结'),
    ('called_back', '已回访'),
    ('closed', '已归档'),
    ('reopened', '重办'),
    ('merged', '已合并');
INSERT INTO delivery_policy (channel, max_attempts, backoff_ms, backoff_max_ms, rate_limit, rate_window) VALUES
    ('app', 100, 1000, 60000, 0, '01:00:00'),
    ('sms', 8, 2000, 600000, 30, '01:00:00'),
    ('email', 8, 5000, 1800000, 60, '01:00:00');
INSERT INTO delivery_quiet (id, day_start, day_end) VALUES
    (true, '08:00:00', '20:00:00');
INSERT INTO escalation_rules (root, rule, params, enabled) VALUES
    ('*', 'sign_reminder', '{"hours": 24, "l2_factor": 2, "urgent_hours": 1}', true),
    ('*', 'weekly_l2', '{"dow": 1, "hour": 9, "minute": 0, "grace_working_days": 2}', true),
    ('*', 'monthly_l1', '{"dow": 1, "hour": 9, "minute": 0}', true),
    ('*', 'urgent', '{"to_l1_hours": 72, "to_l2_hours": 24}', true),
    ('*', 'referral_reply', '{"hours": 72}', true);
INSERT INTO notification_rules (event_type, audience, kind, template, enabled) VALUES
    ('case.routed', 'grid_leader', 'case.routed', 'case.routed', true),
    ('case.routed', 'grid_members', 'case.routed', 'case.routed', true),
    ('case.received', 'resident', 'resident.receipt', 'resident.receipt', true),
    ('case.resolved', 'resident', 'resident.resolved', 'resident.resolved', true),
    ('case.supervised', 'grid_leader', 'case.supervised', 'case.supervised', true);
INSERT INTO notification_templates (kind, lang, body) VALUES
    ('case.escalated', 'zh', '【升级通知】案件 %1$s（%2$s，网格 %3$s %4$s）已按规则升级至%6$s处理。内容：%5$s。'),
    ('case.escalated', 'en', '[Escalation] Case %1$s (%2$s, grid %3$s %4$s) escalated to %6$s. %5$s'),
    ('sign.reminder', 'zh', '【签收提醒】案件 %1$s（%2$s，网格 %3$s %4$s）已分派但尚未签收，请尽快签收。内容：%5$s。'),
    ('sign.reminder', 'en', '[Reminder] Case %1$s (%2$s, grid %3$s %4$s) is not signed for yet. %5$s'),
    ('case.routed', 'zh', '【网格通知】新民情诉求待签收：案件 %1$s，类别 %2$s，网格 %3$s（%4$s），来电 %8$s。内容：%5$s。请于 %7$s 前签收办理。'),
    ('case.routed', 'en', '[Grid notice] New case %1$s to sign for by %7$s: category %2$s, grid %3$s (%4$s), caller %8$s. %5$s'),
    ('resident.receipt', 'zh', '【民情受理】您反映的问题已登记，案件编号 %1$s（%2$s）。我们将尽快安排网格员办理，请留意后续回复。'),
    ('resident.receipt', 'en', '[Received] Your report is registered as case %1$s (%2$s). A grid worker will handle it.'),
    ('resident.resolved', 'zh', '【办结告知】您反映的案件 %1$s（%2$s）已办结。工作人员将回访听取您的意见，如仍未解决请回复或致电热线。'),
    ('resident.resolved', 'en', '[Resolved] Case %1$s (%2$s) is resolved. We will call you back for your opinion.'),
    ('case.supervised', 'zh', '【督办通知】案件 %1$s（%2$s，网格 %3$s %4$s）已列入督办，请加快办理。内容：%5$s。'),
    ('case.supervised', 'en', '[Supervision] Case %1$s (%2$s, grid %3$s %4$s) is now supervised. %5$s'),
    ('referral.overdue', 'zh', '【转办超期】案件 %1$s（%2$s，网格 %3$s %4$s）转办至%6$s后逾期未获部门回复，请跟进。'),
    ('referral.overdue', 'en', '[Referral overdue] Case %1$s (%2$s, grid %3$s %4$s): no reply from %6$s yet.');
