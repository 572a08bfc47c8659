-- 036_meeting_notices: a weekly or monthly meeting the safety net lapsed
-- (meetings.sql gf_lapse_meeting, meeting.lapsed) is told to the office
-- that held it: the meeting grid's leader (the L2 grid's leader for a
-- weekly meeting, the L1 grid's for a monthly one) gets one staff notice,
-- delivered as every staff notice (app, SMS, quiet hours, the calendar).
--
-- A notification is about exactly one of a case, a field reminder (033) or
-- a meeting.  One notice per lapsed meeting and recipient (the unique
-- index); it is written in the lapse's own transaction.
ALTER TABLE notifications
    ADD COLUMN meeting_id bigint REFERENCES meetings (id),
    DROP CONSTRAINT notifications_subject_check,
    ADD CONSTRAINT notifications_subject_check CHECK (num_nonnulls (case_id, field_reminder, meeting_id) = 1),
    ADD CONSTRAINT notifications_meeting_staff_check CHECK (meeting_id IS NULL OR audience = 'staff');
CREATE UNIQUE INDEX notifications_meeting ON notifications (meeting_id, recipient)
    WHERE meeting_id IS NOT NULL;

-- The rule (raised by the escalator, in gf_lapse_meeting): grid_leader is
-- the leader of the meeting's grid (the L2 grid of a weekly meeting, the
-- L1 grid of a monthly one).  Disable the row to stop these notices.
INSERT INTO notification_rules (event_type, audience, kind, template, enabled, raised_by) VALUES
    ('meeting.lapsed', 'grid_leader', 'meeting.lapsed', 'meeting.lapsed', true, 'escalator')
ON CONFLICT (event_type, audience) DO NOTHING;

-- The texts (gf_notify_meeting): %1$s the meeting's kind (周 or 月:
-- 周例会, 月例会), %2$s its day (YYYY-MM-DD), %3$s the number of
-- automatic escalations, %4$s the grid's code, %5$s its name.  No case,
-- no person: nothing of the register.
INSERT INTO notification_templates (kind, lang, body) VALUES
    ('meeting.lapsed', 'zh', '【例会提醒】网格 %4$s（%5$s）%2$s %1$s例会逾期未结，已按规则自动升级 %3$s 件。'),
    ('meeting.lapsed', 'en', '[Meeting] Grid %4$s (%5$s): the meeting (%1$s) of %2$s lapsed unclosed; %3$s cases escalated automatically.')
ON CONFLICT (kind, lang) DO NOTHING;
