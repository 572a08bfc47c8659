-- 028_sorting: sorting at L3 (梳理分类) and triage that is seen (issue 14).
--
-- A grid marks a matter it will not handle as 'rejected' (不予办理) with a
-- reason: invalid (无效诉求), duplicate (重复诉求) or out of jurisdiction
-- (非本辖区或职责范围).  A rejected case is not open (gf_case_open) and not
-- resolved; the resident is told (resident.rejected) and Open311 shows it
-- closed with the reason in status_notes.  An L2/L1 leader puts it back
-- (`unreject`, 恢复办理): it goes to its grid again (routed), or to L1
-- triage when its grid is the L1 grid.  rejected_reason is the reason of the
-- last rejection while the case is rejected (NULL otherwise).
ALTER TABLE cases ADD COLUMN rejected_reason text;
ALTER TABLE cases DROP CONSTRAINT cases_state_check;
ALTER TABLE cases ADD CONSTRAINT cases_state_check CHECK (state = ANY (ARRAY[
    'registered', 'routed', 'unroutable', 'signed', 'in_progress', 'referred', 'replied',
    'resolved', 'called_back', 'closed', 'reopened', 'merged', 'rejected']));
ALTER TABLE cases ADD CONSTRAINT cases_rejected_reason_check
    CHECK ((state = 'rejected') = (rejected_reason IS NOT NULL));

CREATE TABLE reject_reasons (
    code    text PRIMARY KEY,
    name    text NOT NULL,
    name_en text NOT NULL,
    ord     smallint NOT NULL UNIQUE
);
INSERT INTO reject_reasons (code, name, name_en, ord) VALUES
    ('invalid', '无效诉求', 'invalid', 1),
    ('duplicate', '重复诉求', 'duplicate', 2),
    ('out_of_jurisdiction', '非本辖区或职责范围', 'out of jurisdiction', 3);
ALTER TABLE cases ADD CONSTRAINT cases_rejected_reason_fkey
    FOREIGN KEY (rejected_reason) REFERENCES reject_reasons (code);

INSERT INTO case_state_names (state, name, name_en, ord) VALUES
    ('rejected', '不予办理', 'rejected', 13);

-- The partial indexes on open cases carry gf_case_open's list (cases.sql).
DROP INDEX cases_open_grid;
CREATE INDEX cases_open_grid ON cases USING btree (grid text_pattern_ops)
    WHERE state <> ALL (ARRAY['resolved', 'called_back', 'closed', 'merged', 'rejected']);
DROP INDEX cases_urgent_open;
CREATE INDEX cases_urgent_open ON cases USING btree (id)
    WHERE (urgent OR groups <> '{}'::text[])
      AND state <> ALL (ARRAY['resolved', 'called_back', 'closed', 'merged', 'rejected']);

INSERT INTO event_types (type, name, name_en) VALUES
    ('case.rejected', '不予办理', 'rejected'),
    ('case.unrejected', '恢复办理', 'rejection reversed'),
    ('triage.reminder', '分流提醒', 'triage reminder')
ON CONFLICT (type) DO NOTHING;

-- Triage that is seen: an unroutable case notifies the triage staff of its
-- L1 grid (audience l1_triage: people of the L1 grid with role 'triage'),
-- and the escalator reminds them while it waits (triage.reminder, rule
-- triage_reminder: after `hours` (urgent_hours for an urgent case), and
-- the L1 leader too after leader_factor times that; no leader_factor, no
-- copy to the leader).
ALTER TABLE notification_rules
    DROP CONSTRAINT notification_rules_audience_check,
    ADD CONSTRAINT notification_rules_audience_check
        CHECK (audience IN ('grid_leader', 'grid_members', 'resident', 'owner_leader',
                            'previous_owner_leader', 'l2_leader', 'l1_triage'));

-- (the rule names' check gains triage_reminder; merged with other
-- migrations of issue 14 that add rules: keep every name they add)
ALTER TABLE escalation_rules DROP CONSTRAINT escalation_rules_rule_check;
ALTER TABLE escalation_rules ADD CONSTRAINT escalation_rules_rule_check CHECK (rule = ANY (ARRAY[
    'sign_reminder', 'weekly_l2', 'monthly_l1', 'urgent', 'referral_reply', 'triage_reminder']));
INSERT INTO escalation_rules (root, rule, params, enabled) VALUES
    ('*', 'triage_reminder', '{"hours": 4, "urgent_hours": 1, "leader_factor": 3}', true)
ON CONFLICT DO NOTHING;

INSERT INTO notification_rules (event_type, audience, kind, template, enabled, raised_by) VALUES
    ('case.unroutable', 'l1_triage', 'case.unroutable', 'case.unroutable', true, 'notifier'),
    ('triage.reminder', 'l1_triage', 'triage.reminder', 'triage.reminder', true, 'escalator'),
    ('triage.reminder', 'grid_leader', 'triage.reminder.l1', 'triage.reminder', true, 'escalator'),
    ('case.rejected', 'resident', 'resident.rejected', 'resident.rejected', true, 'notifier'),
    ('case.unrejected', 'resident', 'resident.unrejected', 'resident.unrejected', true, 'notifier')
ON CONFLICT (event_type, audience) DO NOTHING;

-- %6$s of resident.rejected is the reason's name (reject_reasons.name).
INSERT INTO notification_templates (kind, lang, body) VALUES
    ('case.unroutable', 'zh', '【待分流】案件 %1$s（%2$s）（%3$s %4$s）未能按地址分派到三级网格，请分流专员尽快分派。内容：%5$s。'),
    ('case.unroutable', 'en', '[Triage] Case %1$s (%2$s) could not be routed to a grid; please assign it. %5$s'),
    ('triage.reminder', 'zh', '【分流提醒】案件 %1$s（%2$s）仍待分流，尚未分派到网格，请尽快处理。内容：%5$s。'),
    ('triage.reminder', 'en', '[Triage reminder] Case %1$s (%2$s) is still waiting for triage. %5$s'),
    ('resident.rejected', 'zh', '【受理告知】您反映的案件 %1$s（%2$s）经网格核实，属%6$s，不予办理。如有异议，请致电热线，上级网格将复核。'),
    ('resident.rejected', 'en', '[Not handled] Case %1$s (%2$s) was found to be: %6$s. Call the hotline to ask for a review.'),
    ('resident.unrejected', 'zh', '【受理告知】您反映的案件 %1$s（%2$s）经上级网格复核，恢复办理，请留意后续回复。'),
    ('resident.unrejected', 'en', '[Reopened] Case %1$s (%2$s) is handled again after review.')
ON CONFLICT (kind, lang) DO NOTHING;
