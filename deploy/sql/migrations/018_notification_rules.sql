-- 018_notification_rules: every notification is decided by a rule row —
-- escalation notices, sign-for reminders and overdue referrals too (until
-- now the escalation engine picked their recipients in code).
--
-- raised_by: who raises the occasion a rule answers.  'notifier': an event
-- type the notifier consumes from the log (it subscribes to these types
-- only); 'escalator': an occasion the escalation engine raises in its own
-- transaction (case.escalated, sign.reminder, referral.overdue).
--
-- New audiences for the escalator's occasions: owner_leader (the leader of
-- the grid that owns the case after an escalation), previous_owner_leader
-- (the owner before it) and l2_leader (the leader of the case's L2 grid).
-- grid_leader and grid_members are the leader and members of the
-- occasion's grid (an event's grid; the case's grid for reminders).
--
-- kind is a format() pattern when the occasion carries a key: %s is the
-- level escalated to ('escalated.to2') or the referral's case_actions id
-- ('referral.overdue.81'), so a notice is sent once per escalation level
-- and once per referral (unique (case_id, kind, recipient)).  These are the
-- kinds the engine always used: existing notifications keep their meaning.
ALTER TABLE notification_rules
    ADD COLUMN raised_by text NOT NULL DEFAULT 'notifier'
        CONSTRAINT notification_rules_raised_by_check CHECK (raised_by IN ('notifier', 'escalator')),
    DROP CONSTRAINT notification_rules_audience_check,
    ADD CONSTRAINT notification_rules_audience_check
        CHECK (audience IN ('grid_leader', 'grid_members', 'resident', 'owner_leader',
                            'previous_owner_leader', 'l2_leader'));

INSERT INTO notification_rules (event_type, audience, kind, template, enabled, raised_by) VALUES
    ('case.escalated', 'owner_leader', 'escalated.to%s', 'case.escalated', true, 'escalator'),
    ('case.escalated', 'previous_owner_leader', 'escalated.to%s', 'case.escalated', true, 'escalator'),
    ('sign.reminder', 'grid_leader', 'sign.reminder', 'sign.reminder', true, 'escalator'),
    ('sign.reminder', 'l2_leader', 'sign.reminder.l2', 'sign.reminder', true, 'escalator'),
    ('referral.overdue', 'grid_leader', 'referral.overdue.%s', 'referral.overdue', true, 'escalator')
ON CONFLICT (event_type, audience) DO NOTHING;
