-- pgTAP: deploy/sql/repeatable/meeting_records.sql — meeting.action's checks
-- (who may act, the agenda, the meeting's state, decision kinds, deadlines,
-- one decision per case, resends), its effects (attendees, decisions, a
-- take_over's explicit escalation, minutes, closing with the ledger's
-- counts, opinions) and decision outcomes (kept, late, done), on a small
-- weekly meeting of QNL.01 built here (rolled back).
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (31);

INSERT INTO sim_clock (at) VALUES ('2026-11-09 10:00+08') ON CONFLICT (id) DO UPDATE SET at = excluded.at;
INSERT INTO cases (id, source, source_ref, root, grid, state, tier, description, received_at, updated_at, level)
VALUES (920001, 't', 'mr1', 'QNL', 'QNL.01.001', 'signed', 'pending', 'd', '2026-11-02 10:00+08', '2026-11-02 11:00+08', 3),
       (920002, 't', 'mr2', 'QNL', 'QNL.01.001', 'signed', 'pending', 'd', '2026-11-02 10:00+08', '2026-11-02 11:00+08', 3),
       (920003, 't', 'mr3', 'QNL', 'QNL.01.002', 'routed', 'pending', 'd', '2026-11-02 10:00+08', '2026-11-02 11:00+08', 3),
       (920004, 't', 'mr4', 'QNL', 'QNL.01.002', 'signed', 'pending', 'd', '2026-11-02 10:00+08', '2026-11-02 11:00+08', 3);
INSERT INTO meetings (id, grid, kind, day, slot_at, held_at, period_from)
VALUES (920100, 'QNL.01', 'weekly', '2026-11-09', '2026-11-09 09:00+08', '2026-11-09 09:00+08', '2026-11-02 09:00+08'),
       (920101, 'QNL', 'consultation', '2026-11-10', '2026-11-10 09:00+08', '2026-11-10 09:00+08', '2026-11-10 09:00+08');
INSERT INTO ledger_entries (meeting_id, case_id, tier, state, level, age_days, owner, priority)
VALUES (920100, 920001, 'pending', 'signed', 3, 7, 'QNL.01.001', ''),
       (920100, 920002, 'pending', 'signed', 3, 7, 'QNL.01.001', ''),
       (920100, 920003, 'pending', 'routed', 3, 7, 'QNL.01.002', '');

CREATE FUNCTION pg_temp.err (p_meeting bigint, p_actor text, p_action text, p_args jsonb, p_request text DEFAULT 'x')
RETURNS text LANGUAGE sql AS $$
    SELECT coalesce (err, 'ok') FROM gf_meeting_check (p_meeting, p_request, p_actor, p_action, NULL, p_args)
$$;
-- deadline in ms, p_days from the simulated now
CREATE FUNCTION pg_temp.dl (p_days int) RETURNS text LANGUAGE sql AS $$
    SELECT (extract (epoch FROM gf_now () + make_interval (days => p_days)) * 1000)::bigint::text
$$;

-- Who may act ----------------------------------------------------------------
SELECT is (pg_temp.err (999999, 'P-QNL.01-1', 'close', '{}'), 'bad_value', 'an unknown meeting is refused');
SELECT is (pg_temp.err (920100, 'P-NOBODY', 'close', '{}'), 'unknown_actor', 'an actor not in the directory');
SELECT is (pg_temp.err (920100, 'P-QNL.02-1', 'close', '{}'), 'forbidden', 'another L2 grid''s staff is refused');
SELECT is (pg_temp.err (920100, 'P-QNL.01.001-1', 'close', '{}'), 'forbidden', 'L3 staff do not hold the L2 meeting');
SELECT is (pg_temp.err (920100, 'P-QNL-1', 'close', '{}'), 'ok', 'the L1 grid''s staff may hold a weekly meeting');
SELECT is (pg_temp.err (920101, 'P-QNL.01-1', 'opinion', '{"speaker": "王大爷", "opinion": "同意"}'), 'forbidden',
           'a consultation meeting is the L1 grid''s');

-- Decisions refused ----------------------------------------------------------
SELECT is (pg_temp.err (920100, 'P-QNL.01-1', 'decide', format ('{"case": 920004, "decision": "keep_l3", "deadline": %s}', pg_temp.dl (3))::jsonb),
           'bad_value', 'a case not on the agenda');
SELECT is (pg_temp.err (920100, 'P-QNL.01-1', 'decide', format ('{"case": 920001, "decision": "supervise", "deadline": %s}', pg_temp.dl (3))::jsonb),
           'bad_value', 'a monthly kind at a weekly meeting');
SELECT is (pg_temp.err (920100, 'P-QNL.01-1', 'decide', '{"case": 920001, "decision": "keep_l3"}'),
           'missing_field', 'keep_l3 without its deadline');
SELECT is (pg_temp.err (920100, 'P-QNL.01-1', 'decide', format ('{"case": 920001, "decision": "keep_l3", "deadline": %s}', pg_temp.dl (-1))::jsonb),
           'bad_value', 'a deadline in the past');
SELECT is (pg_temp.err (920100, 'P-QNL.01-1', 'decide', format ('{"case": 920001, "decision": "rectify", "deadline": %s, "owner": "P-QNL.02-1"}', pg_temp.dl (3))::jsonb),
           'ok', 'rectify with an owner of the L1 subtree');
SELECT is (pg_temp.err (920100, 'P-QNL.01-1', 'decide', format ('{"case": 920001, "decision": "rectify", "deadline": %s, "owner": "P-X"}', pg_temp.dl (3))::jsonb),
           'bad_value', 'rectify with an unknown owner');

-- Effects ------------------------------------------------------------------
SELECT is ((SELECT version FROM gf_meeting_apply (920100, 'a1', 'P-QNL.01-1', 'attend', '{"person": "P-QNL.01.001-1"}', NULL)),
           2, 'attend: the meeting''s version moves on');
SELECT is ((SELECT name || '/' || role FROM meeting_attendees WHERE meeting_id = 920100 AND person = 'P-QNL.01.001-1'),
           (SELECT name FROM people WHERE id = 'P-QNL.01.001-1') || '/staff', 'a directory attendee has its name and role staff');
SELECT is ((SELECT duplicate::text || version FROM gf_meeting_check (920100, 'a1', 'P-QNL.01-1', 'attend', NULL, '{"person": "P-QNL.01.001-1"}')),
           'true2', 'the same request again is a duplicate with its first version');
SELECT is (pg_temp.err (920100, 'P-QNL.01-1', 'attend', '{"person": "P-QNL.01.001-1"}', 'a2'), 'conflict',
           'the same attendee twice under another request id');
SELECT lives_ok ($$SELECT gf_meeting_apply (920100, 'a3', 'P-QNL.01-1', 'attend', '{"name": "李三长", "role": "three_heads"}', NULL)$$,
                 'an outside attendee with a role');

SELECT lives_ok (format ($$SELECT gf_meeting_apply (920100, 'd1', 'P-QNL.01-1', 'decide', '{"case": 920001, "decision": "keep_l3", "deadline": %s}', NULL)$$,
                         pg_temp.dl (2)), 'keep_l3 decided');
SELECT is (pg_temp.err (920100, 'P-QNL.01-1', 'decide', format ('{"case": 920001, "decision": "report_up"}')::jsonb, 'd9'),
           'conflict', 'a second decision for the same case');
SELECT is (gf_decision_outcome ((SELECT id FROM meeting_decisions WHERE case_id = 920001)), 'kept', 'kept before its deadline');
UPDATE sim_clock SET at = '2026-11-12 10:00+08';
SELECT is (gf_decision_outcome ((SELECT id FROM meeting_decisions WHERE case_id = 920001)), 'late', 'late after it');
INSERT INTO case_actions (case_id, request_id, actor, action, from_state, to_state, version, at)
VALUES (920001, 'res1', 'P-QNL.01.001-1', 'resolve', 'signed', 'resolved', 2, gf_now ());
SELECT is (gf_decision_outcome ((SELECT id FROM meeting_decisions WHERE case_id = 920001)), 'done', 'done once the case is resolved');

SET LOCAL ROLE gf_intake;
SELECT lives_ok ($$SELECT gf_meeting_apply (920100, 'd2', 'P-QNL.01-1', 'decide', '{"case": 920002, "decision": "take_over", "note": "二级网格协调"}', NULL)$$,
                 'take_over, as the intake''s role');
RESET ROLE;
SELECT is ((SELECT level FROM cases WHERE id = 920002), 2::smallint, 'take_over: the case is at L2');
SELECT is ((SELECT rule || ' ' || automatic || ' ' || from_level || '>' || to_level FROM escalations WHERE case_id = 920002),
           'decision_l2 false 3>2', 'take_over: an explicit escalation, not automatic');
SELECT is ((SELECT payload->>'automatic' FROM case_events WHERE case_id = 920002 AND type = 'case.escalated'), 'false',
           'its case.escalated says so');

SELECT lives_ok ($$SELECT gf_meeting_apply (920100, 'm1', 'P-QNL.01-1', 'minutes', '{"text": "会议研判三件，联系电话13800001234"}', NULL)$$, 'minutes');
SELECT is ((SELECT payload->>'text' FROM case_events WHERE type = 'meeting.minutes' AND payload->>'meeting' = '920100'),
           '会议研判三件，联系电话[电话]', 'minutes travel redacted');
SELECT lives_ok ($$SELECT gf_meeting_apply (920100, 'c1', 'P-QNL.01-1', 'close', '{}', NULL)$$, 'close');
SELECT is ((SELECT payload - 'meeting' FROM case_events WHERE type = 'ledger.published' AND payload->>'meeting' = '920100'),
           '{"kind": "weekly", "hard": 0, "entries": 3, "pending": 3, "resolved": 0, "undecided": 1, "attendees": 2, "automatic": false, "decisions": {"keep_l3": 1, "take_over": 1}}'::jsonb,
           'ledger.published at close: tiers, decisions by kind, undecided, attendees');
SELECT is (pg_temp.err (920100, 'P-QNL.01-1', 'decide', '{"case": 920003, "decision": "report_up"}', 'd3'), 'illegal_transition',
           'a closed meeting takes no decision');

SELECT * FROM finish ();
ROLLBACK;
