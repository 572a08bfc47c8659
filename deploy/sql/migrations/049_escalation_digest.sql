-- 049_escalation_digest: a lapse that escalates many cases is told as a
-- digest, one notice per leader and meeting, not one per case (issue 17
-- item 6).
--
-- When the safety net lapses a weekly or monthly meeting
-- (meetings.sql gf_lapse_meeting) and more than the rule's digest_over
-- cases are due to escalate, no case.escalated notice is written per case
-- (two per case before: the new owner's and the previous owner's leader).
-- Instead the meeting grid's leader gets the lapse notice (036, which
-- already counts the escalations) and the leader of every grid whose cases
-- went up gets one digest: how many of its cases, to which level, and the
-- first ten case numbers (the ledger lists them all).  Each escalation
-- still has its case.escalated event on the log.  At or below digest_over
-- nothing changes: each case is told as before.  An office that wants
-- every case told sets digest_over very high; one that wants digests
-- always sets it to 0.
UPDATE escalation_rules SET params = params || '{"digest_over": 10}'
 WHERE rule IN ('weekly_l2', 'monthly_l1') AND NOT params ? 'digest_over';

-- The rule (raised by the escalator, in gf_lapse_meeting, only for a
-- digest lapse): previous_owner_leader is the leader of each grid whose
-- cases the lapse escalated.  Disable the row to send no digests (the
-- lapse notice to the meeting grid's leader stays).
INSERT INTO notification_rules (event_type, audience, kind, template, enabled, raised_by) VALUES
    ('meeting.lapsed', 'previous_owner_leader', 'escalated.digest', 'escalated.digest', true, 'escalator')
ON CONFLICT (event_type, audience) DO NOTHING;

-- The texts (notify.sql gf_notify_meeting): %1$s 周 or 月, %2$s the
-- meeting's day (YYYY-MM-DD), %3$s how many of the grid's cases escalated,
-- %4$s the grid's code, %5$s its name, %6$s the level they went to
-- (二级网格, 一级网格), %7$s the first ten case numbers (等 when there are
-- more).  Numbers only: nothing of the register.
INSERT INTO notification_templates (kind, lang, body) VALUES
    ('escalated.digest', 'zh', '【升级汇总】%2$s %1$s例会逾期未结，网格 %4$s（%5$s）%3$s 件案件已按规则自动升级至%6$s：%7$s。详见例会台账。'),
    ('escalated.digest', 'en', '[Escalation digest] The meeting (%1$s) of %2$s lapsed unclosed: %3$s cases of grid %4$s (%5$s) escalated to %6$s automatically: %7$s. See the ledger.')
ON CONFLICT (kind, lang) DO NOTHING;
