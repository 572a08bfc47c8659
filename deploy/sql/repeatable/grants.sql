-- grants.sql — who may do what: one NOLOGIN role per service, each with only
-- the privileges its statements need (docs/security.md).  LOGIN users (one
-- per host or instance) are made members of them.  This file is the whole
-- truth: it first takes every table and sequence privilege from the service
-- roles, then grants what is listed here, so a grant removed here is removed
-- from the database at the next `gridctl db migrate`.
-- tests/sql/grants.sql checks each role's privileges against the statements
-- its service runs.
-- gridflow:phase=after  (runs after every other file, whenever anything ran).

-- Roles are cluster-wide while this file runs once per database: create
-- each only if it does not exist (two databases migrating at once: both
-- may try; the loser's duplicate_object is ignored).
DO $$
BEGIN
    BEGIN CREATE ROLE gf_intake NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
    BEGIN CREATE ROLE gf_relay NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
    BEGIN CREATE ROLE gf_router NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
    BEGIN CREATE ROLE gf_notifier NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
    BEGIN CREATE ROLE gf_escalator NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
    BEGIN CREATE ROLE gf_gateway NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
    BEGIN CREATE ROLE gf_ctl NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
    BEGIN CREATE ROLE gf_auditor NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
END $$;

-- Start from nothing.
REVOKE ALL ON ALL TABLES IN SCHEMA public
    FROM gf_intake, gf_relay, gf_router, gf_notifier, gf_escalator, gf_gateway, gf_ctl, gf_auditor;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public
    FROM gf_intake, gf_relay, gf_router, gf_notifier, gf_escalator, gf_gateway, gf_ctl, gf_auditor;

-- Nobody but the owner creates anything.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO gf_intake, gf_relay, gf_router, gf_notifier, gf_escalator,
    gf_gateway, gf_ctl, gf_auditor;

-- What every service reads: the clock (gf_now), the calendar, the directory.
GRANT SELECT ON sim_clock, calendar_years, calendar_days, grids, categories
    TO gf_intake, gf_router, gf_notifier, gf_escalator, gf_gateway, gf_ctl;
GRANT SELECT ON sim_clock TO gf_relay;

-- Every service's heartbeat (common/gf_service.c): an upsert of its own row
-- in service_status for `gridctl status`.
GRANT SELECT, INSERT, UPDATE ON service_status
    TO gf_intake, gf_relay, gf_router, gf_notifier, gf_escalator, gf_gateway;

-- intake: stores complaints and applies staff actions; deletes nothing.
GRANT SELECT ON people, identities, case_state_names TO gf_intake;
-- The vocabularies (017, 019) are read by every reader of names.
GRANT SELECT ON case_state_names, event_types, special_groups, escalation_rule_names, categories
    TO gf_intake, gf_router, gf_notifier, gf_escalator, gf_gateway, gf_ctl;
GRANT SELECT, INSERT, UPDATE ON cases, case_actions TO gf_intake;
GRANT SELECT, INSERT ON case_events TO gf_intake;
GRANT USAGE ON SEQUENCE cases_id_seq, case_events_id_seq, case_actions_id_seq TO gf_intake;
-- intake: meeting.action (meeting_records.sql): the meeting locked and its
-- version, minutes and state; its agenda read; attendees, decisions,
-- opinions and the action records written; a take_over decision's
-- escalation row and ledger mark (issue 14).
GRANT SELECT, UPDATE ON meetings TO gf_intake;
GRANT SELECT, UPDATE (escalated) ON ledger_entries TO gf_intake;
GRANT SELECT ON meeting_decision_kinds TO gf_intake;
GRANT SELECT, INSERT ON meeting_attendees, meeting_decisions, consultation_opinions,
    meeting_actions, escalations TO gf_intake;
GRANT USAGE ON SEQUENCE meeting_attendees_id_seq, meeting_decisions_id_seq,
    consultation_opinions_id_seq, meeting_actions_id_seq, escalations_id_seq TO gf_intake;

-- intake: household.register and household.group (households.sql,
-- issue 15): the register locked, created or updated, memberships opened
-- and ended, the change log written (its request ids: duplicates).
GRANT SELECT, INSERT, UPDATE ON households, household_groups TO gf_intake;
GRANT SELECT, INSERT ON household_changes TO gf_intake;
GRANT USAGE ON SEQUENCE household_groups_id_seq, household_changes_id_seq TO gf_intake;

-- relay: reads the log and numbers it (seq only); no case, no personal data.
-- Not case_events.restricted (020: special groups, clear notes), which is
-- never published.
GRANT SELECT (id, seq, type, topic, case_id, grid, at, payload) ON case_events TO gf_relay;
GRANT UPDATE (seq) ON case_events TO gf_relay;
-- relay: the stream rights of its subscribers (streams.sql gf_stream_rights).
GRANT SELECT (public_key, kind, grid, topics, revoked_at) ON identities TO gf_relay;
GRANT SELECT ON event_types TO gf_relay;
GRANT SELECT (id, grid) ON people TO gf_relay;

-- router: routes registered cases (state, grid, routed_at, version) and
-- writes its events and checkpoint.
GRANT SELECT ON case_events, addresses, consumer_checkpoints TO gf_router;
GRANT SELECT (id, root, grid, requested_grid, state, address, returned_from, version, category,
              urgent, groups, routed_at, updated_at) ON cases TO gf_router;
GRANT UPDATE (state, grid, routed_at, updated_at, version) ON cases TO gf_router;
GRANT INSERT ON case_events TO gf_router;
GRANT INSERT, UPDATE ON consumer_checkpoints TO gf_router;
GRANT USAGE ON SEQUENCE case_events_id_seq TO gf_router;

-- notifier: notifications from the rules (notification_rules) and their deliveries; changes
-- no case.  It reads the resident's phone (SMS to the resident, the masked
-- number in texts) and the redacted description (020), never the name, the
-- address or the clear description.
GRANT SELECT ON case_events, people, notification_templates, notification_rules, notifications,
    consumer_checkpoints, escalation_rules, delivery_policy, delivery_quiet, app_tokens
    TO gf_notifier;
GRANT SELECT (id, root, grid, state, level, category, description_redacted, urgent, groups,
              routed_at, phone)
    ON cases TO gf_notifier;
GRANT INSERT ON notifications, case_events TO gf_notifier;
-- notifier: which people an app identity may receive for (gf_app_may_receive).
GRANT SELECT (public_key, kind, grid, person, revoked_at) ON identities TO gf_notifier;
GRANT SELECT, INSERT, UPDATE ON deliveries TO gf_notifier;
GRANT INSERT, UPDATE ON consumer_checkpoints TO gf_notifier;
GRANT USAGE ON SEQUENCE notifications_id_seq, case_events_id_seq, deliveries_id_seq
    TO gf_notifier;

-- escalator: meetings, ledgers, escalations, reminders.
GRANT SELECT ON case_events, case_actions, people, notification_templates, notification_rules,
    escalation_rules, meeting_schedule, delivery_policy, delivery_quiet TO gf_escalator;
-- A notification fans out to its deliveries (008's trigger runs as the writer).
GRANT INSERT ON deliveries TO gf_escalator;
GRANT SELECT, INSERT, UPDATE ON escalation_state, meetings, ledger_entries, escalations,
    notifications TO gf_escalator;
GRANT SELECT, UPDATE ON cases TO gf_escalator;
-- escalator: the next agenda reads the decisions' outcomes (gf_decision_outcome).
GRANT SELECT ON meeting_decisions, meeting_decision_kinds TO gf_escalator;
GRANT INSERT ON case_events TO gf_escalator;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO gf_escalator;

-- gateway (HTTP, dashboards, Open311 queries): reads, never writes.
GRANT SELECT ON cases_public, case_state_names TO gf_gateway;
-- The log as published: not its restricted column (020).
GRANT SELECT (id, seq, type, topic, case_id, grid, at, payload) ON case_events TO gf_gateway;
-- What the dashboard's and Open311's functions (dashboard.sql, open311.sql)
-- read besides cases_public, as the gateway's statements always did: the
-- escalations, meetings and ledgers shown, the sign-for rule (gf_rule), the
-- API keys' hashes (gf_api_key_client) and the directory's public columns
-- of staff.  Still no column of cases.
GRANT SELECT ON escalations, meetings, ledger_entries, escalation_rules, api_keys TO gf_gateway;
GRANT SELECT (grid, role, name, position, phone, commitment) ON people TO gf_gateway;

-- gridctl (operators): reads everything, manages the directory, the
-- calendar, the clock, identities and meetings; never rewrites the log.
GRANT SELECT ON ALL TABLES IN SCHEMA public TO gf_ctl;
GRANT INSERT, UPDATE, DELETE ON grids, categories, people, addresses, calendar_years,
    calendar_days, sim_clock, identities, escalation_rules, meeting_schedule,
    notification_templates, notification_rules, delivery_policy, delivery_quiet, app_tokens
    TO gf_ctl;
GRANT UPDATE ON deliveries TO gf_ctl; -- gridctl notify redrive
-- gridctl grids import / people edit version the roles; gridctl household
-- import is the operator's path into the register (audited, audit.sql).
GRANT INSERT, UPDATE, DELETE ON person_roles TO gf_ctl;
GRANT INSERT, UPDATE ON households, household_groups TO gf_ctl;
GRANT INSERT ON household_changes TO gf_ctl;
GRANT INSERT, UPDATE ON meetings, escalation_state TO gf_ctl;
GRANT INSERT ON case_events TO gf_ctl;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO gf_ctl;

-- The audit trail (021, audit.sql): written only by its triggers (SECURITY
-- DEFINER), read only by gf_auditor; gf_ctl's SELECT ON ALL TABLES above
-- and the escalator's sequences are taken back for it.  Nobody but the
-- owner holds any other privilege on it.
REVOKE ALL ON audit_log FROM PUBLIC, gf_ctl;
REVOKE ALL ON SEQUENCE audit_log_id_seq FROM PUBLIC, gf_ctl, gf_escalator;
GRANT SELECT ON audit_log TO gf_auditor;
