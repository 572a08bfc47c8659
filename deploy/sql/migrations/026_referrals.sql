-- 026_referrals: 代访 (the grid leader acts for the resident), issue 14 part 5.
--
-- Departments are directory entities; a referral (the `refer` case action)
-- names a known department and is a record: its report (代访有报告: what was
-- taken, to whom, when), the department's receipt (送达有签收: signed by a
-- department contact through the department's own identity, or recorded by
-- the grid leader with the contact's name and time), its deadline (the
-- department's rule in working days on the statutory calendar, or given
-- explicitly), the department's reply, the lateness reminder and the
-- escalation to L2 when late.  The functions are deploy/sql/repeatable/
-- referrals.sql's; docs/referrals.md describes the workflow.

-- A department (转办部门): its code (what `refer` names), name, contact
-- person and phone, the L1 grid it serves ('*': every one) and its own
-- reply deadline in working days (NULL: the referral_reply rule's
-- working_days).
CREATE TABLE departments (
    code text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    name text NOT NULL CHECK (name <> '' AND char_length (name) <= 64),
    contact text CHECK (char_length (contact) <= 64),
    phone text CHECK (char_length (phone) <= 32),
    root text NOT NULL DEFAULT '*',
    reply_working_days integer CHECK (reply_working_days BETWEEN 1 AND 60),
    created_at timestamptz NOT NULL DEFAULT now ()
);

-- One row per refer action (action_id: its case_actions row).  A case is
-- referred again only after the department replied (the lifecycle: refer
-- is allowed in working states only), so at most one referral per case is
-- open (no reply yet).
CREATE TABLE referrals (
    id bigserial PRIMARY KEY,
    case_id bigint NOT NULL REFERENCES cases (id),
    action_id bigint NOT NULL UNIQUE REFERENCES case_actions (id),
    department text NOT NULL REFERENCES departments (code),
    referred_by text NOT NULL,               -- person id of the grid leader
    referred_at timestamptz NOT NULL,
    report text NOT NULL,                    -- 代访报告: what was taken (the refer note)
    deadline timestamptz NOT NULL,
    deadline_explicit boolean NOT NULL DEFAULT false,
    received_at timestamptz,                 -- 签收: when the department received it
    received_by text,                        -- the department contact's name
    receipt_via text CHECK (receipt_via = ANY (ARRAY['department', 'leader'])),
    receipt_recorded_by text,                -- the identity name or the leader's person id
    receipt_action_id bigint REFERENCES case_actions (id),
    replied_at timestamptz,
    reply text,
    replied_by text,
    reply_action_id bigint REFERENCES case_actions (id),
    reminded_at timestamptz,                 -- the lateness reminder (once)
    escalated_at timestamptz,                -- the escalation to L2 (once)
    CHECK ((received_at IS NULL) = (receipt_via IS NULL)),
    CHECK ((received_at IS NULL) = (received_by IS NULL))
);
CREATE UNIQUE INDEX referrals_one_open ON referrals (case_id) WHERE replied_at IS NULL;
CREATE INDEX referrals_open_deadline ON referrals (deadline) WHERE replied_at IS NULL;

-- A department's own identity (CurveZMQ like every other): it signs the
-- receipt of, and replies to, the cases referred to that department only.
ALTER TABLE identities ADD COLUMN department text REFERENCES departments (code);
ALTER TABLE identities DROP CONSTRAINT identities_kind_check;
ALTER TABLE identities ADD CONSTRAINT identities_kind_check
    CHECK (kind = ANY (ARRAY['adapter', 'staff', 'subscriber', 'app', 'department']));
ALTER TABLE identities ADD CONSTRAINT identities_department_check
    CHECK ((kind = 'department') = (department IS NOT NULL));
-- Who acted: a person of the directory, or (its receipt and reply through
-- its identity) a department.  A foreign key cannot name two tables: the
-- trigger case_actions_actor_known (referrals.sql) checks it instead.
ALTER TABLE case_actions DROP CONSTRAINT case_actions_actor_fkey;

-- The referral_reply rule: the default reply deadline in working days, and
-- how many working days after the deadline an unanswered referral goes to
-- L2 (l2_after_working_days; absent or null: never).  Replaces the 72 hours.
UPDATE escalation_rules
   SET params = (params - 'hours')
                || jsonb_build_object ('working_days', 3, 'l2_after_working_days', 2)
 WHERE rule = 'referral_reply' AND root = '*';
UPDATE escalation_rules
   SET params = (params - 'hours')
                || jsonb_build_object ('working_days',
                                       greatest (1, coalesce ((params->>'hours')::int, 72) / 24))
 WHERE rule = 'referral_reply' AND root <> '*' AND params ? 'hours';

INSERT INTO event_types (type, name, name_en) VALUES
    ('referral.received', '部门签收', 'department receipt'),
    ('referral.late', '转办逾期', 'referral late')
ON CONFLICT (type) DO NOTHING;

-- Escalation records may name the referral rule (ord 50: clear of the
-- other helpers' additions).
INSERT INTO escalation_rule_names (rule, name, name_en, ord)
VALUES ('referral_l2', '转办逾期升级至二级网格', 'referral late, to L2', 50)
ON CONFLICT DO NOTHING;

-- Evidence on a case (photos, scans, documents), uploaded through the
-- intake (attachment.add), idempotent per (actor, request_id).  The type is
-- read from the bytes (JPEG, PNG, WebP, PDF only); the size limit is the
-- intake's (intake/max_attachment).  `public`: the gateway may serve it
-- (Open311 media_url); anything else is served to staff in scope only.
CREATE TABLE attachments (
    id bigserial PRIMARY KEY,
    case_id bigint NOT NULL REFERENCES cases (id),
    action_id bigint REFERENCES case_actions (id),   -- the case action it is evidence for
    request_id text NOT NULL,
    actor text NOT NULL REFERENCES people (id),
    filename text NOT NULL CHECK (char_length (filename) BETWEEN 1 AND 255
                                  AND filename !~ '[/\\]'),
    content_type text NOT NULL CHECK (content_type = ANY (ARRAY['image/jpeg', 'image/png',
                                                               'image/webp', 'application/pdf'])),
    size integer NOT NULL CHECK (size > 0),
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    public boolean NOT NULL DEFAULT false,
    note text,
    data bytea NOT NULL,
    at timestamptz NOT NULL,
    UNIQUE (actor, request_id),
    CHECK (octet_length (data) = size)
);
CREATE INDEX attachments_case ON attachments (case_id);

INSERT INTO event_types (type, name, name_en) VALUES
    ('attachment.added', '上传附件', 'attachment added')
ON CONFLICT (type) DO NOTHING;
