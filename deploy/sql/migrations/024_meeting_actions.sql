-- 024_meeting_actions: the staff side of issue 14's meetings (023): every
-- meeting.action the intake applied (attend, decide, minutes, close,
-- opinion), once per (actor, request id) so that a resend is a duplicate
-- and not a second effect, with the answer it got; the events these
-- actions put on the stream; the escalation rules a decision is recorded
-- under (take_over: explicit, not automatic).
CREATE TABLE meeting_actions (
    id bigserial PRIMARY KEY,
    meeting_id bigint NOT NULL REFERENCES meetings (id),
    request_id text NOT NULL,
    actor text NOT NULL,
    action text NOT NULL CHECK (action = ANY (ARRAY['attend', 'decide', 'minutes', 'close', 'opinion'])),
    case_id bigint REFERENCES cases (id),      -- decide: the case
    decision_id bigint REFERENCES meeting_decisions (id),
    version integer NOT NULL,                  -- the meeting's version after it
    at timestamptz NOT NULL,
    UNIQUE (actor, request_id)
);
CREATE INDEX meeting_actions_meeting ON meeting_actions (meeting_id);

INSERT INTO event_types (type, name, name_en) VALUES
    ('meeting.attended', '例会签到', 'meeting attendee recorded'),
    ('meeting.decided', '例会决定', 'meeting decision'),
    ('meeting.minutes', '会议纪要', 'meeting minutes'),
    ('meeting.closed', '例会结束', 'meeting closed'),
    ('meeting.opinion', '征询意见', 'consultation opinion')
ON CONFLICT (type) DO NOTHING;

INSERT INTO escalation_rule_names (rule, name, name_en, ord) VALUES
    ('decision_l2', '周例会决定由二级网格接办', 'weekly meeting decision, to L2', 21),
    ('decision_l1', '月例会决定由一级网格接办', 'monthly meeting decision, to L1', 22)
ON CONFLICT (rule) DO NOTHING;

-- The kinds of decision and what each needs, as data (meeting_records.sql
-- reads it; documented in docs/escalation.md).  deadline: 'required',
-- 'optional' or 'none'.
CREATE TABLE meeting_decision_kinds (
    meeting_kind text NOT NULL CHECK (meeting_kind = ANY (ARRAY['weekly', 'monthly'])),
    kind text NOT NULL,
    deadline text NOT NULL CHECK (deadline = ANY (ARRAY['required', 'optional', 'none'])),
    needs text[] NOT NULL DEFAULT '{}',        -- keys it needs: department, owner, consultation, note
    name text NOT NULL,
    name_en text NOT NULL,
    ord smallint NOT NULL,
    PRIMARY KEY (meeting_kind, kind)
);
INSERT INTO meeting_decision_kinds (meeting_kind, kind, deadline, needs, name, name_en, ord) VALUES
    ('weekly', 'resolved', 'none', '{note}', '会上解决', 'resolved at the meeting', 1),
    ('weekly', 'keep_l3', 'required', '{}', '三级网格继续办理', 'kept at L3', 2),
    ('weekly', 'take_over', 'optional', '{}', '二级网格接办', 'taken over by L2', 3),
    ('weekly', 'refer', 'required', '{department}', '转办部门', 'referred to a department', 4),
    ('weekly', 'rectify', 'required', '{owner}', '整改', 'rectification', 5),
    ('weekly', 'report_up', 'none', '{}', '上报一级网格', 'reported up to L1', 6),
    ('monthly', 'supervise', 'required', '{}', '督办', 'supervised', 7),
    ('monthly', 'take_over', 'optional', '{}', '一级网格接办', 'taken over by L1', 8),
    ('monthly', 'consult', 'none', '{consultation}', '召开民情征询会', 'consultation meeting', 9),
    ('monthly', 'send_back', 'optional', '{note}', '发回二级网格', 'sent back to L2', 10);
