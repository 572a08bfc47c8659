-- 023_meeting_records: meetings become records people make (issue 14).
--
-- A weekly L2 or monthly L1 meeting is generated at its slot by the
-- escalator with its agenda (ledger_entries), state 'open'.  Staff then
-- record attendees, a decision per agenda case, minutes, and close it, each
-- through the intake (`meeting.action`).  A meeting not closed within its
-- rule's `close_within_hours` after the slot is closed by the safety net
-- (state 'lapsed', automatic = true): the rule-based escalation happens then
-- for the agenda cases without a decision, and those escalations are marked
-- automatic.  Meetings held before this migration were held by the timer:
-- they are 'lapsed' and automatic.
ALTER TABLE meetings ADD COLUMN state text NOT NULL DEFAULT 'open'
    CHECK (state = ANY (ARRAY['open', 'closed', 'lapsed']));
ALTER TABLE meetings ADD COLUMN minutes text;
ALTER TABLE meetings ADD COLUMN closed_at timestamptz;
ALTER TABLE meetings ADD COLUMN closed_by text;          -- person id; NULL when lapsed
ALTER TABLE meetings ADD COLUMN automatic boolean NOT NULL DEFAULT false;
ALTER TABLE meetings ADD COLUMN version integer NOT NULL DEFAULT 1;
UPDATE meetings SET state = 'lapsed', automatic = true, closed_at = held_at
 WHERE kind <> 'consultation';
UPDATE meetings SET state = 'closed', closed_at = held_at WHERE kind = 'consultation';
ALTER TABLE meetings ADD CONSTRAINT meetings_closed_check
    CHECK ((state = 'open') = (closed_at IS NULL));
CREATE INDEX meetings_open ON meetings (slot_at) WHERE state = 'open';

-- The agenda is the meeting's ledger_entries.  Why each case is on it:
-- 'ledger' (open or touched in the period, as before), 'carried' (an
-- earlier meeting's decision on it: carried_from), 'special' (a special
-- group's case: always on the agenda), 'triage' (unroutable, L1 only),
-- 'reported_up' (an L2 decision reported it to L1; monthly only).
ALTER TABLE ledger_entries ADD COLUMN reason text NOT NULL DEFAULT 'ledger'
    CHECK (reason = ANY (ARRAY['ledger', 'carried', 'special', 'triage', 'reported_up']));
ALTER TABLE ledger_entries ADD COLUMN carried_from bigint;   -- meeting_decisions.id

-- Who attended: a person of the directory (person) or an outside role with
-- a name (role, name).
CREATE TABLE meeting_attendees (
    id bigserial PRIMARY KEY,
    meeting_id bigint NOT NULL REFERENCES meetings (id),
    person text,
    name text NOT NULL CHECK (char_length (name) BETWEEN 1 AND 64),
    role text NOT NULL CHECK (role = ANY (ARRAY['staff', 'cadre', 'three_heads', 'household_rep',
                                                'property', 'village_committee', 'owners_committee',
                                                'department', 'resident', 'other'])),
    request_id text NOT NULL,
    actor text NOT NULL,
    at timestamptz NOT NULL
);
CREATE UNIQUE INDEX meeting_attendees_once ON meeting_attendees (meeting_id, role, name);

-- One decision per agenda case.  kind, by meeting kind:
--   weekly:  resolved (resolved at the meeting), keep_l3 (stays at L3 with a
--            deadline), take_over (L2 coordinates: the case goes to L2),
--            refer (to a department with a deadline), rectify (整改: owner
--            and deadline), report_up (on the next monthly L1 agenda)
--   monthly: supervise (督办: deadline and a required reply), take_over
--            (L1 takes the case), consult (民情征询会: consultation meeting
--            id), send_back (to L2 with instructions in note)
-- outcome is derived (gf_decision_outcome): kept / late / done.
CREATE TABLE meeting_decisions (
    id bigserial PRIMARY KEY,
    meeting_id bigint NOT NULL REFERENCES meetings (id),
    case_id bigint NOT NULL REFERENCES cases (id),
    kind text NOT NULL CHECK (kind = ANY (ARRAY['resolved', 'keep_l3', 'take_over', 'refer', 'rectify',
                                                'report_up', 'supervise', 'consult', 'send_back'])),
    deadline timestamptz,
    department text,
    owner text,
    consultation bigint REFERENCES meetings (id),
    note text,
    actor text NOT NULL,
    request_id text NOT NULL,
    at timestamptz NOT NULL,
    done_at timestamptz,             -- when what it asked for happened (reply, resolve, ...)
    UNIQUE (meeting_id, case_id)
);
CREATE INDEX meeting_decisions_case ON meeting_decisions (case_id);

-- Escalations the safety net made (rather than a decision).
ALTER TABLE escalations ADD COLUMN automatic boolean NOT NULL DEFAULT true;
ALTER TABLE escalations ALTER COLUMN automatic SET DEFAULT false;

-- Opinions collected at a consultation meeting (民情征询会) and the response.
CREATE TABLE consultation_opinions (
    id bigserial PRIMARY KEY,
    meeting_id bigint NOT NULL REFERENCES meetings (id),
    speaker text NOT NULL CHECK (char_length (speaker) BETWEEN 1 AND 64),
    opinion text NOT NULL,
    response text,
    request_id text NOT NULL,
    actor text NOT NULL,
    at timestamptz NOT NULL
);

-- Rule parameters of the safety net (documented in docs/escalation.md).
UPDATE escalation_rules SET params = params || '{"close_within_hours": 48}'
 WHERE rule = ANY (ARRAY['weekly_l2', 'monthly_l1']) AND NOT params ? 'close_within_hours';
