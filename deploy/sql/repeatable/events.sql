-- events.sql — the event log (case_events, the outbox): waking the relay at
-- commit and LISTEN by parameter.
-- Owns: gf_events_notify, gf_listen; trigger case_events_notify.

-- Wake the relay when events commit (notifications are delivered at commit).
CREATE OR REPLACE FUNCTION gf_events_notify () RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify ('gf_events', '');
    RETURN NULL;
END
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
