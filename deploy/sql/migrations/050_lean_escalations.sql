-- 050_lean_escalations: the two foreign keys checked once per escalation go
-- (issue 17, "lean rows"; as 044 did for the notices).  A lapse after an
-- outage escalates thousands of cases in one statement, and each escalation
-- row checked its case and its meeting.  Measured on the catch-up bench's
-- database (100,000 cases): gf_escalate_many of 8,000 cases, rolled back,
-- three runs in each order on a quiet machine: 596-1,089 ms (mean 969) with
-- the keys, 514-823 ms (mean 698) without.
-- What they guarded holds by construction: escalations are written only by
-- gf_escalate_many (escalation.sql), from the cases rows it locks in the
-- same statement and the meeting its caller holds locked (gf_lapse_meeting)
-- or none, and by a take_over decision (meeting_records.sql), from the case
-- and the meeting it read under lock; neither a case nor a meeting is ever
-- deleted.
ALTER TABLE escalations DROP CONSTRAINT escalations_case_id_fkey,
                        DROP CONSTRAINT escalations_meeting_id_fkey;
