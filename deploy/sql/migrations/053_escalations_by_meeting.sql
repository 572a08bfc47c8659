-- 053_escalations_by_meeting: escalations are read by meeting, and no index
-- served it, so each such read scanned every escalation ever made (issue
-- 17, item 4 "only the indexes a query needs": this one has three):
--   gf_notify_meeting: the digest of each lapse, who owned each escalated
--     case before (notify.sql; 180 lapses in a county's round);
--   gf_meeting_escalations: a meeting's escalations on its ledger
--     (`gridctl ledger show`, the workbench's meeting page);
--   the meeting reports' count of escalations per meeting (reports.sql).
-- After a year a county holds about 600,000 escalations.  Partial: urgent
-- escalations have no meeting and are never read this way.
CREATE INDEX IF NOT EXISTS escalations_meeting ON escalations (meeting_id)
    WHERE meeting_id IS NOT NULL;
