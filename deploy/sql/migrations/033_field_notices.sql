-- 033_field_notices: the reminders of field work (031's field_reminders:
-- missed patrols, overdue visits) reach people as every other staff notice
-- does — a notification, its deliveries (app, SMS, ... as people.channels
-- says), quiet hours and the working calendar — without a case.
--
-- A notification is about a case (case_id) or about a field reminder
-- (field_reminder), exactly one of the two, and a field reminder's is a
-- staff notice.  One notification per field reminder: the field_reminders
-- row (once per kind, subject, period and recipient) is the dedupe key.
-- case_id stays a column of its own (every reader of a case's notices is
-- unchanged); the notifier's drivers see no case (case_id NULL) for these.
ALTER TABLE notifications
    ALTER COLUMN case_id DROP NOT NULL,
    ADD COLUMN field_reminder bigint REFERENCES field_reminders (id),
    ADD CONSTRAINT notifications_subject_check CHECK ((case_id IS NULL) <> (field_reminder IS NULL)),
    ADD CONSTRAINT notifications_field_staff_check CHECK (field_reminder IS NULL OR audience = 'staff');
CREATE UNIQUE INDEX notifications_field_reminder ON notifications (field_reminder)
    WHERE field_reminder IS NOT NULL;

-- Who a field reminder is for, by the audience of the notification_rules
-- row that made it: grid_leader (the L3 grid's leader) or l2_leader.
ALTER TABLE field_reminders
    ADD COLUMN audience text NOT NULL DEFAULT 'l2_leader'
        CONSTRAINT field_reminders_audience_check CHECK (audience IN ('grid_leader', 'l2_leader'));
ALTER TABLE field_reminders ALTER COLUMN audience DROP DEFAULT;

-- The rules (raised by the escalator, gf_field_reminders): a missed patrol
-- to the L3 grid's leader and the L2 leader; an overdue visit to the
-- household's L3 leader, and to the L2 leader once the visit is
-- visit_l2_grace_working_days (field_rules, default 5: a working week)
-- working days past its due day.  Disable a row to stop that audience's
-- reminders.
INSERT INTO notification_rules (event_type, audience, kind, template, enabled, raised_by) VALUES
    ('patrol.missed', 'grid_leader', 'patrol.missed', 'patrol.missed', true, 'escalator'),
    ('patrol.missed', 'l2_leader', 'patrol.missed.l2', 'patrol.missed.l2', true, 'escalator'),
    ('visit.overdue', 'grid_leader', 'visit.overdue', 'visit.overdue', true, 'escalator'),
    ('visit.overdue', 'l2_leader', 'visit.overdue.l2', 'visit.overdue.l2', true, 'escalator')
ON CONFLICT (event_type, audience) DO NOTHING;

UPDATE field_rules SET params = params || '{"visit_l2_grace_working_days": 5}'
 WHERE root = '*' AND NOT params ? 'visit_l2_grace_working_days';

-- The texts (gf_field_notice_text): %1$s the subject (the household's
-- opaque id; the grid code for a patrol), %2$s the period (the day without
-- a patrol; the day the visit was due), %3$s the L3 grid's code, %4$s its
-- name, %5$s the L2 grace in working days.  Never a name, an address or a
-- phone number of the register: a household is "一户重点户" and its id.
INSERT INTO notification_templates (kind, lang, body) VALUES
    ('patrol.missed', 'zh', '【巡查提醒】网格 %3$s（%4$s）%2$s（工作日）没有日巡查记录。无异常也请记录巡查；已巡查的请补录。'),
    ('patrol.missed', 'en', '[Patrol] Grid %3$s (%4$s) has no patrol logged on %2$s (a working day).'),
    ('patrol.missed.l2', 'zh', '【巡查督促】所辖网格 %3$s（%4$s）%2$s（工作日）没有日巡查记录，请督促落实日巡查。'),
    ('patrol.missed.l2', 'en', '[Patrol] Grid %3$s (%4$s) under you has no patrol logged on %2$s (a working day).'),
    ('visit.overdue', 'zh', '【走访提醒】网格 %3$s（%4$s）一户重点户（编号 %1$s）应于 %2$s 走访，现已逾期，请尽快登门走访并记录。'),
    ('visit.overdue', 'en', '[Visit] Grid %3$s (%4$s): the visit to special household %1$s was due on %2$s.'),
    ('visit.overdue.l2', 'zh', '【走访督促】所辖网格 %3$s（%4$s）一户重点户（编号 %1$s）应于 %2$s 走访，逾期已超过 %5$s 个工作日，请督促落实。'),
    ('visit.overdue.l2', 'en', '[Visit] Grid %3$s (%4$s) under you: the visit to special household %1$s due on %2$s is over %5$s working days late.')
ON CONFLICT (kind, lang) DO NOTHING;
