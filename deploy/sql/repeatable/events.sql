-- events.sql — the event log (case_events, the outbox): waking the relay at
-- commit, numbering committed events for the relay, and LISTEN by parameter.
-- Owns: gf_events_notify, gf_sequence_events, gf_listen; trigger case_events_notify.

-- Wake the relay when events commit (notifications are delivered at commit).
CREATE OR REPLACE FUNCTION gf_events_notify () RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify ('gf_events', '');
    RETURN NULL;
END
$$;

-- The relay's sequencing step: numbers the oldest committed, unsequenced
-- events (at most p_limit) after the current head and returns them in seq
-- order, ready to publish (at in epoch milliseconds, payload as text).
-- Only the relay that holds the sequencer lock calls it.
CREATE OR REPLACE FUNCTION gf_sequence_events (p_limit integer)
RETURNS TABLE (seq bigint, id bigint, type text, topic text, case_id bigint, grid text,
               at_ms bigint, payload text)
LANGUAGE sql AS $$
    WITH todo AS (
        SELECT e.id FROM case_events e WHERE e.seq IS NULL ORDER BY e.id LIMIT p_limit FOR UPDATE
    ), head AS (
        SELECT coalesce (max (e.seq), 0) AS h FROM case_events e
    ), num AS (
        SELECT todo.id, head.h + row_number () OVER (ORDER BY todo.id) AS s FROM todo, head
    ), upd AS (
        UPDATE case_events e SET seq = num.s FROM num WHERE e.id = num.id
        RETURNING e.seq, e.id, e.type, e.topic, e.case_id, e.grid,
                  (extract (epoch FROM e.at) * 1000)::bigint AS at_ms, e.payload::text AS payload
    )
    SELECT * FROM upd ORDER BY seq
$$;

-- LISTEN takes no bind parameters; this lets clients LISTEN on a channel
-- passed as a parameter, quoted as an identifier.
CREATE OR REPLACE FUNCTION gf_listen (channel text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format ('LISTEN %I', channel);
END
$$;

CREATE OR REPLACE TRIGGER case_events_notify AFTER INSERT ON case_events
    FOR EACH STATEMENT EXECUTE FUNCTION gf_events_notify ();
