-- 020_privacy: personal data minimised by design (docs/security.md,
-- "Personal data").
--
-- cases.description_redacted: the description as everyone but staff in
-- scope reads it (events, SSE, Open311, the dashboard, notification texts):
-- gf_redact_text (repeatable/text.sql) of the description and the caller's
-- name, computed by the server on every write, so no writer can forget it
-- and no reader needs the clear text (the notifier reads only this one).
-- After a change of gf_redact_text, recompute with
--   UPDATE cases SET description = description;
--
-- case_events.restricted: the part of an event only staff in scope may see
-- (special groups on case.received and case.classified).  The relay
-- publishes payload only: this never reaches the stream, SSE or a replay;
-- the ledgers and audits read it from the database.
ALTER TABLE cases ADD COLUMN description_redacted text
    GENERATED ALWAYS AS (gf_redact_text (description, name)) STORED;
ALTER TABLE case_events ADD COLUMN restricted jsonb;

-- Events written before 020 carried the groups and the clear description
-- in payload: move the groups to restricted and redact the description and
-- the notes, so that a replay from seq 0 publishes no more than new events.
UPDATE case_events e
   SET restricted = jsonb_build_object ('groups', e.payload->'groups'),
       payload = e.payload - 'groups' - 'phone_masked'
 WHERE e.payload ? 'groups';
UPDATE case_events e SET payload = jsonb_set (e.payload, '{description}',
                                              to_jsonb (c.description_redacted))
  FROM cases c
 WHERE e.type = 'case.received' AND c.id = e.case_id AND e.payload ? 'description';
UPDATE case_events e
   SET restricted = coalesce (e.restricted, '{}') || jsonb_build_object ('note', e.payload->>'note'),
       payload = jsonb_set (e.payload, '{note}', to_jsonb (gf_redact_text (e.payload->>'note', c.name)))
  FROM cases c
 WHERE c.id = e.case_id AND jsonb_typeof (e.payload->'note') = 'string'
   AND gf_redact_text (e.payload->>'note', c.name) IS DISTINCT FROM e.payload->>'note';
UPDATE case_events SET payload = jsonb_set (payload, '{topic}', to_jsonb (gf_redact_text (payload->>'topic')))
 WHERE type = 'meeting.held' AND jsonb_typeof (payload->'topic') = 'string';
UPDATE case_events SET payload = jsonb_set (payload, '{address_masked}',
                                            to_jsonb (gf_mask_address (c.address)))
  FROM cases c
 WHERE c.id = case_events.case_id AND case_events.payload ? 'address_masked';
-- Texts rendered before 020: the description excerpt (its first 60
-- characters) becomes the redacted one, and a phone under 11 characters,
-- which the old mask showed in full (3 + 4), the new mask.
UPDATE notifications n
   SET text = replace (replace (n.text, left (c.description, 60), left (c.description_redacted, 60)),
                       CASE WHEN char_length (c.phone) BETWEEN 7 AND 10
                            THEN left (c.phone, 3) || '****' || right (c.phone, 4) ELSE '' END,
                       coalesce (gf_mask_phone (c.phone), ''))
  FROM cases c
 WHERE c.id = n.case_id;
UPDATE case_events e SET payload = jsonb_set (e.payload, '{text}', to_jsonb (n.text))
  FROM notifications n
 WHERE e.type = 'notification.created' AND n.id = (e.payload->>'notification')::bigint
   AND e.payload->>'text' IS DISTINCT FROM n.text;
