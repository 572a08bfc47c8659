-- 025_safety_net: the escalator opens meetings and closes only the ones
-- people left open (issue 14).
--
-- At its slot a weekly or monthly meeting is opened with its agenda
-- (meeting.opened); no case moves then.  A meeting still open
-- close_within_hours (023: 48) after its slot is lapsed by the safety net
-- (meeting.lapsed): the rule-based escalation happens then, for the agenda
-- cases without a decision, each escalation automatic.
INSERT INTO event_types (type, name, name_en) VALUES
    ('meeting.opened', '例会开始', 'meeting opened'),
    ('meeting.lapsed', '例会逾期未结（自动升级）', 'meeting lapsed (automatic escalation)')
ON CONFLICT (type) DO NOTHING;

-- Special groups (上访户, 失独 ...) are attention, not urgency: the urgent
-- SLAs apply to urgent cases; an office that wants its special-group cases
-- escalated like urgent ones sets urgent.special_groups to true.  Their own,
-- shorter sign-for reminder: sign_reminder.special_hours.
UPDATE escalation_rules SET params = params || '{"special_groups": false}'
 WHERE rule = 'urgent' AND NOT params ? 'special_groups';
UPDATE escalation_rules SET params = params || '{"special_hours": 12}'
 WHERE rule = 'sign_reminder' AND NOT params ? 'special_hours';
