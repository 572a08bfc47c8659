-- notify.sql — notifications: who is told what (notification_rules), the text
-- (notification_templates) and the notification.created event.
-- Owns: gf_notify.

-- ---------------------------------------------------------------------------
-- Effects.  Each runs inside the caller's transaction, together with the
-- events and notifications it produces; the unique indexes make them
-- happen at most once however many escalators run.
-- One notification (from a template) and its notification.created event.
CREATE OR REPLACE FUNCTION gf_notify (p_case bigint, p_kind text, p_template text, p_person text,
                           p_extra text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n_id bigint;
    n_text text;
    c record;
BEGIN
    IF p_person IS NULL THEN
        RETURN 0;
    END IF;
    SELECT c2.id, c2.grid, coalesce (cat.name, '未分类') AS category, g.name AS grid_name,
           left (c2.description, 60) AS excerpt
      INTO c FROM cases c2 JOIN grids g ON g.code = c2.grid
      LEFT JOIN categories cat ON cat.code = c2.category WHERE c2.id = p_case;
    SELECT format (t.body, c.id, c.category, c.grid, c.grid_name, c.excerpt, p_extra)
      INTO n_text FROM notification_templates t WHERE t.kind = p_template AND t.lang = 'zh';
    INSERT INTO notifications (case_id, kind, recipient, channel, text, created_at)
    VALUES (p_case, p_kind, p_person, 'app', n_text, gf_now ())
    ON CONFLICT (case_id, kind, recipient) DO NOTHING
    RETURNING id INTO n_id;
    IF n_id IS NULL THEN
        RETURN 0;
    END IF;
    INSERT INTO case_events (type, topic, case_id, grid, at, payload)
    VALUES ('notification.created', 'notify/' || p_person, p_case, c.grid, gf_now (),
            jsonb_build_object ('notification', n_id, 'recipient', p_person, 'kind', p_kind,
                                'channel', 'app', 'text', n_text, 'case', p_case));
    RETURN 1;
END
$$;
