-- 040_sequence_at_commit: writers number their own events as the last step
-- before COMMIT (issue 17, "sequence at insert"; events.sql).  A writer's
-- events wait in event_stage during its transaction; a deferred constraint
-- trigger moves them into case_events at commit, numbered after the head
-- under one transaction-scoped lock held only for that move and the commit
-- itself, so seq is dense and in commit order, and no event row is ever
-- updated.  The relay only reads committed rows by seq and publishes them.
--
-- event_stage is UNLOGGED: its rows live only inside the transaction that
-- wrote them (moved and deleted at its commit, gone with its abort), so
-- they need no WAL and a crash loses nothing that was acknowledged.  xid
-- finds a transaction's own rows through an index, not through the dead
-- rows of the transactions before it.
CREATE UNLOGGED TABLE event_stage (
    id         bigint NOT NULL DEFAULT nextval ('case_events_id_seq'),
    xid        bigint NOT NULL DEFAULT txid_current (),
    type       text NOT NULL,
    topic      text NOT NULL,
    case_id    bigint,
    grid       text,
    at         timestamptz NOT NULL,
    payload    jsonb NOT NULL DEFAULT '{}',
    restricted jsonb
) WITH (autovacuum_vacuum_threshold = 5000, autovacuum_vacuum_scale_factor = 0,
        autovacuum_vacuum_insert_threshold = 5000, autovacuum_vacuum_insert_scale_factor = 0);
CREATE INDEX event_stage_xid ON event_stage (xid);

-- Events a relay had not numbered yet when the database was migrated: the
-- last numbering of the old way, in the order they were written.
UPDATE case_events e SET seq = h.head + n.rn
  FROM (SELECT id, row_number () OVER (ORDER BY id) AS rn FROM case_events WHERE seq IS NULL) n,
       (SELECT coalesce (max (seq), 0) AS head FROM case_events) h
 WHERE e.id = n.id;
ALTER TABLE case_events ALTER COLUMN seq SET NOT NULL;
-- Served the relay's search for unnumbered rows: there are none any more.
DROP INDEX case_events_unsequenced;
-- An append-only log needs no foreign key: its rows are written by the
-- append alone (which may not wait on a case's row lock while it holds the
-- numbering lock), and a case is never deleted.
ALTER TABLE case_events DROP CONSTRAINT case_events_case_id_fkey;
