-- events.sql — the event log (case_events): writers stage their events and
-- the append numbers them at commit; the relay reads committed events by
-- seq; the relay's wake-up; LISTEN by parameter.
-- Owns: gf_events_notify, gf_events_seal, gf_events_queue_once, gf_events_commit, gf_events_flush, gf_events_after, gf_events_of, gf_events_window, gf_listen; triggers case_events_notify, event_stage_append.
--
-- How an event is written (040, docs/DESIGN.md "The event log"): a writer
-- inserts into event_stage, never into case_events.  At its COMMIT the
-- deferred trigger event_stage_append calls gf_events_seal once, which takes
-- the numbering lock, reads the head and moves the transaction's staged
-- events into case_events numbered head+1.. in the order they were staged.
-- The lock is transaction-scoped: it is released only after the commit is
-- durable and visible, so the next writer's head already counts these
-- events.  Hence seq is dense (an abort takes its staged rows and its
-- numbers with it), in commit order (on a standby too: commit records are
-- replayed in order), and no event row is updated after it is written.
-- The lock is taken as the last step before COMMIT, after every row lock
-- the writer needs, and the move waits on nothing else (case_events has no
-- foreign key): it cannot take part in a deadlock.

-- Wake the relay when events commit (notifications are delivered at commit).
CREATE OR REPLACE FUNCTION gf_events_notify () RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify ('gf_events', '');
    RETURN NULL;
END
$$;

-- The append: numbers this transaction's staged events after the head and
-- moves them into the log.  Returns the largest staged id moved (0: none).
-- READ COMMITTED only: the head must be read with a snapshot taken after the
-- lock was granted, which a transaction snapshot (REPEATABLE READ) is not.
-- The transaction's staged rows are found through event_stage_xid, never by
-- a scan: the statement's plan is cached by the session's first commit,
-- when event_stage looks empty, and a sequential scan then read every page
-- the table had grown to (auto_explain in the benchmark: 1,432 pages for
-- 138 rows, 1.3 ms of every commit).  (jit off: a disabled scan's cost
-- would otherwise make any session with jit on compile the statement.)
CREATE OR REPLACE FUNCTION gf_events_seal () RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    SET enable_seqscan = off SET jit = off AS $$
DECLARE
    head bigint;
    upto bigint;
BEGIN
    IF current_setting ('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'events are appended only in READ COMMITTED transactions'
            USING ERRCODE = 'invalid_transaction_state';
    END IF;
    PERFORM pg_advisory_xact_lock (7146203004);
    SELECT coalesce (max (e.seq), 0) INTO head FROM case_events e;
    WITH moved AS (
        DELETE FROM event_stage s WHERE s.xid = txid_current ()
        RETURNING s.id, s.type, s.topic, s.case_id, s.grid, s.at, s.payload, s.restricted
    ), ins AS (
        INSERT INTO case_events (id, seq, type, topic, case_id, grid, at, payload, restricted)
        SELECT m.id, head + row_number () OVER (ORDER BY m.id), m.type, m.topic, m.case_id, m.grid,
               m.at, m.payload, m.restricted
          FROM moved m ORDER BY m.id
        RETURNING case_events.id
    )
    SELECT coalesce (max (ins.id), 0) INTO upto FROM ins;
    RETURN upto;
END
$$;

-- Whether a staged row queues the deferred trigger (its WHEN, evaluated as
-- the row is staged): only the first since the transaction began or since
-- its last append.  One queued firing appends every row staged before it
-- fires, so the others need none; each one fired at COMMIT, under the
-- numbering lock the first firing took (a plpgsql call and a fetch of its
-- row, about 1,700 of them after a notifier's batch), held every other
-- writer's COMMIT back.  The flag is transaction-local: a savepoint rolled
-- back takes both its queued firing and the flag it set with it, so the
-- next staged row queues again.
CREATE OR REPLACE FUNCTION gf_events_queue_once () RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting ('gf.events_queued', true) = 'on' THEN
        RETURN false;
    END IF;
    PERFORM set_config ('gf.events_queued', 'on', true);
    RETURN true;
END
$$;

-- The deferred trigger: fires at COMMIT (or at the end of the statement
-- under SET CONSTRAINTS ... IMMEDIATE, which gf_events_flush uses) for the
-- first row staged since the last append (gf_events_queue_once); it appends
-- every row staged so far and lets the next staged row queue a firing of
-- its own.  A firing that finds its row already appended (ids only grow
-- within a session) returns.
CREATE OR REPLACE FUNCTION gf_events_commit () RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config ('gf.events_queued', '', true);
    IF NEW.id > coalesce (nullif (current_setting ('gf.events_sealed', true), '')::bigint, 0) THEN
        PERFORM set_config ('gf.events_sealed', gf_events_seal ()::text, true);
    END IF;
    RETURN NULL;
END
$$;

-- Appends the events staged so far in this transaction now instead of at
-- COMMIT, so that the transaction can read them back from case_events (the
-- pgTAP suites).  The numbering lock is then held until the transaction
-- ends: not for services.
CREATE OR REPLACE FUNCTION gf_events_flush () RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    SET CONSTRAINTS event_stage_append IMMEDIATE;
END
$$;

-- The relay's read: committed events after p_after in seq order (at in epoch
-- milliseconds, payload as text), at most p_limit.  Commit order is seq
-- order, so what a snapshot shows after the relay's head is a dense run.
-- Read at every publish, as are the consumers' below: plpgsql, each with a
-- generic plan kept for the session (force_generic_plan), always the index
-- scan by seq (enable_seqscan off: a plan made while the log was young and
-- kept afterwards must not be a scan of the whole log).  Left to choose,
-- PostgreSQL planned these reads again at every run, since a generic plan's
-- estimate of "seq > $1 ... LIMIT $2" (a third of the log) looks dearer
-- than a custom plan's of the head, though both are this index scan; the
-- planning cost as much as the read (docs/performance.md, eighth look).
-- (A session-wide force_generic_plan, tried first, froze the plans of the
-- notifier's own statements too, made for tables that then grew: its batch
-- took 0.3 to 1.4 s within the county's 09:00 round.)
CREATE OR REPLACE FUNCTION gf_events_after (p_after bigint, p_limit integer)
RETURNS TABLE (seq bigint, id bigint, type text, topic text, case_id bigint, grid text,
               at_ms bigint, payload text)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
BEGIN
    RETURN QUERY
    SELECT e.seq, e.id, e.type, e.topic, e.case_id, e.grid,
           (extract (epoch FROM e.at) * 1000)::bigint, e.payload::text
      FROM case_events e WHERE e.seq > p_after ORDER BY e.seq LIMIT p_limit;
END
$$;

-- A consumer's batch (common/gf_consumer.c): the next events of the types
-- p_types (comma-separated) after p_after in seq order, at most p_limit.
CREATE OR REPLACE FUNCTION gf_events_of (p_types text, p_after bigint, p_limit integer)
RETURNS TABLE (seq bigint, id bigint, type text, case_id bigint, grid text, at_ms bigint,
               payload text)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
BEGIN
    RETURN QUERY
    SELECT e.seq, e.id, e.type, e.case_id, e.grid, (extract (epoch FROM e.at) * 1000)::bigint,
           e.payload::text
      FROM case_events e
     WHERE e.type = ANY (string_to_array (p_types, ',')) AND e.seq > p_after
     ORDER BY e.seq LIMIT p_limit;
END
$$;

-- A partition's batch (work/partitions > 1): a window of the next events of
-- the types (p_limit times the p_count partitions), of which partition
-- p_index's own, its cases' (events without a case: partition 0), in log
-- order, each row with the window's size and last seq; one row of NULL
-- events and the window when none is ours.  Filtering the window keeps the
-- plan an index scan by seq at a fixed cost (a filter in the scan itself
-- let the planner guess 1/200 of the rows match and sort the whole tail:
-- 33 ms a batch over 120,000 events instead of 3.5 ms).
CREATE OR REPLACE FUNCTION gf_events_window (p_types text, p_after bigint, p_limit integer,
                                             p_count integer, p_index integer)
RETURNS TABLE (seq bigint, id bigint, type text, case_id bigint, grid text, at_ms bigint,
               payload text, window_n bigint, window_end bigint)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
BEGIN
    RETURN QUERY
    WITH w AS (
        SELECT e.* FROM case_events e
         WHERE e.type = ANY (string_to_array (p_types, ',')) AND e.seq > p_after
         ORDER BY e.seq LIMIT p_limit * p_count
    ), n AS (
        SELECT count (*) AS window_n, max (w.seq) AS window_end FROM w
    )
    SELECT w.seq, w.id, w.type, w.case_id, w.grid, (extract (epoch FROM w.at) * 1000)::bigint,
           w.payload::text, n.window_n, n.window_end
      FROM n LEFT JOIN w ON coalesce (w.case_id, 0) % p_count = p_index
     ORDER BY w.seq;
END
$$;

-- LISTEN takes no bind parameters; this lets clients LISTEN on a channel
-- passed as a parameter, quoted as an identifier.
CREATE OR REPLACE FUNCTION gf_listen (channel text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format ('LISTEN %I', channel);
END
$$;

DROP FUNCTION IF EXISTS gf_sequence_events (integer);

CREATE OR REPLACE TRIGGER case_events_notify AFTER INSERT ON case_events
    FOR EACH STATEMENT EXECUTE FUNCTION gf_events_notify ();

-- A constraint trigger cannot be replaced in place.
DROP TRIGGER IF EXISTS event_stage_append ON event_stage;
CREATE CONSTRAINT TRIGGER event_stage_append AFTER INSERT ON event_stage
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (gf_events_queue_once ())
    EXECUTE FUNCTION gf_events_commit ();
