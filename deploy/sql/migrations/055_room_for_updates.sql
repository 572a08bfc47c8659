-- 055_room_for_updates: room on each page of cases and ledger_entries for
-- the updates that change no indexed column (issue 17, item 4), so that
-- they stay on the page (HOT: no new index entries, less WAL).  An
-- escalation (level, version, updated_at) and the escalated flag of its
-- agenda line are such updates; a lapse makes both for every case it
-- escalates.  At fillfactor 100 the new version went to another page and
-- every index of cases (6) took a new entry: in a county's lapse round
-- (bench/escalation_bench.sh) the lapse's CPU fell by about a third with
-- 85 (docs/performance.md, 8 Dec 2026).  Pages written from now on keep
-- the room; existing pages are left as they are (VACUUM FULL or
-- pg_repack would rewrite them; not needed).  The tables grow by about
-- 15 %.
ALTER TABLE cases SET (fillfactor = 85);
ALTER TABLE ledger_entries SET (fillfactor = 85);
