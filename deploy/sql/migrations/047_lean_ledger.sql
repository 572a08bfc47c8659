-- 047_lean_ledger: the two foreign keys of ledger_entries go (issue 17,
-- "lean rows").  A monthly L1 meeting writes one entry per case of the
-- root (100,000 in make chaos), and each entry paid two key checks, each a
-- row lock on the referenced row: about half of gf_open_meeting's time on
-- that database (the meeting's INSERT alone 5.0 s of 11.6 s in one
-- EXPLAIN ANALYZE; alternated runs at load 6: 5.8 and 7.9 s with them, 3.0
-- and 6.1 s without).  What they guarded holds by construction:
--   ledger_entries.meeting_id: written only by gf_open_meeting
--     (meetings.sql), for the meeting row it inserted in the same
--     transaction; meetings are never deleted.
--   ledger_entries.case_id: the same statement reads the case from cases
--     (the agenda joins cases); a case is never deleted.
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_case_id_fkey,
                           DROP CONSTRAINT ledger_entries_meeting_id_fkey;
