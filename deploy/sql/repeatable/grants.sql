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
    BEGIN CREATE ROLE gf_city NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
END $$;

-- Start from nothing.
REVOKE ALL ON ALL TABLES IN SCHEMA public
    FROM gf_intake, gf_relay, gf_router, gf_notifier, gf_escalator, gf_gateway, gf_ctl, gf_auditor,
         gf_city;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public
    FROM gf_intake, gf_relay, gf_router, gf_notifier, gf_escalator, gf_gateway, gf_ctl, gf_auditor,
         gf_city;

-- Nobody but the owner creates anything.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO gf_intake, gf_relay, gf_router, gf_notifier, gf_escalator,
    gf_gateway, gf_ctl, gf_auditor, gf_city;

-- What every service reads: the clock (gf_now), the calendar, the directory.
GRANT SELECT ON sim_clock, calendar_years, calendar_days, grids, categories
    TO gf_intake, gf_router, gf_notifier, gf_escalator, gf_gateway, gf_ctl;
GRANT SELECT ON sim_clock TO gf_relay;

-- Every service's heartbeat (common/gf_service.c): an upsert of its own row
-- in service_status for `gridctl status`.
GRANT SELECT, INSERT, UPDATE ON service_status
    TO gf_intake, gf_relay, gf_router, gf_notifier, gf_escalator, gf_gateway;

-- The leases of the single-active roles (042, leases.sql): a look takes or
-- renews (UPDATE; FOR UPDATE / FOR KEY SHARE need it too) and writes the
-- instance's heartbeat, forgetting instances gone for an hour (DELETE).
GRANT SELECT, INSERT, UPDATE ON leases TO gf_relay, gf_router, gf_notifier, gf_escalator;
GRANT SELECT, INSERT, UPDATE, DELETE ON lease_instances TO gf_relay, gf_router, gf_notifier, gf_escalator;

-- intake: stores complaints and applies staff actions; deletes nothing.
GRANT SELECT ON people, identities, case_state_names TO gf_intake;
-- The vocabularies (017, 019, 028) are read by every reader of names.
GRANT SELECT ON case_state_names, event_types, special_groups, escalation_rule_names, categories,
    reject_reasons
    TO gf_intake, gf_router, gf_notifier, gf_escalator, gf_gateway, gf_ctl;
GRANT SELECT, INSERT, UPDATE ON cases, case_actions TO gf_intake;
-- intake/route: the intake routes what it stores with the router's
-- statement (routing.sql gf_route_cases), which reads the address book.
GRANT SELECT ON addresses TO gf_intake;
GRANT SELECT ON case_events TO gf_intake;
-- Every writer stages its events; the append numbers them at commit (events.sql).
-- SELECT: a writer reads back what it staged (RETURNING); it sees only its own.
GRANT SELECT, INSERT ON event_stage TO gf_intake, gf_router, gf_notifier, gf_escalator, gf_ctl;
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
-- intake: 代访 (026, referrals.sql): a refer's department, its referral
-- record (the case_actions trigger), receipts and replies.
GRANT SELECT ON departments TO gf_intake;
-- the referral's deadline when the department has none: the referral_reply
-- rule (gf_referral_deadline reads gf_rule)
GRANT SELECT ON escalation_rules TO gf_intake;
GRANT SELECT, INSERT, UPDATE ON referrals TO gf_intake;
GRANT USAGE ON SEQUENCE referrals_id_seq TO gf_intake;
-- intake: attachments (attachments.sql gf_attachment_add).
GRANT SELECT, INSERT ON attachments TO gf_intake;
GRANT USAGE ON SEQUENCE attachments_id_seq TO gf_intake;
-- intake: patrol.logged, visit.logged, selfcheck.logged (patrols.sql,
-- issue 15): the register and the roles read for the rights, the logs
-- written (a visit's follow-up complaint as any complaint, above).
GRANT SELECT ON households, household_groups, person_roles, self_check_items, field_rules
    TO gf_intake;
GRANT SELECT, INSERT ON patrols, visits, self_checks TO gf_intake;
GRANT USAGE ON SEQUENCE patrols_id_seq, visits_id_seq, self_checks_id_seq TO gf_intake;

-- intake: household.register and household.group (households.sql,
-- issue 15): the register locked, created or updated, memberships opened
-- and ended, the change log written (its request ids: duplicates).
GRANT SELECT, INSERT, UPDATE ON households, household_groups TO gf_intake;
GRANT SELECT, INSERT ON household_changes TO gf_intake;
GRANT USAGE ON SEQUENCE household_groups_id_seq, household_changes_id_seq TO gf_intake;

-- relay: reads the numbered log and publishes it; no case, no personal data.
-- Not case_events.restricted (020: special groups, clear notes), which is
-- never published.
GRANT SELECT (id, seq, type, topic, case_id, grid, at, payload) ON case_events TO gf_relay;
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
-- 028: a slip's clock (gf_clock_start: source, reported_at) in the sign-for
-- deadline of its texts, a rejected case's reason in the resident's.
GRANT SELECT (source, reported_at, rejected_reason) ON cases TO gf_notifier;
GRANT INSERT ON notifications TO gf_notifier;
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
-- escalator: reminders of missed patrols and overdue visits (patrols.sql,
-- gf_field_reminders): when, where and whom only, no register text.
GRANT SELECT (id, grid) ON households TO gf_escalator;
GRANT SELECT (household, grp, valid_from, valid_to) ON household_groups TO gf_escalator;
GRANT SELECT (household, done_at) ON visits TO gf_escalator;
GRANT SELECT (grid, done_at) ON patrols TO gf_escalator;
GRANT SELECT ON visit_rules, field_rules TO gf_escalator;
GRANT SELECT, INSERT ON field_reminders TO gf_escalator;
-- escalator: late referrals (referrals.sql gf_referrals_overdue).
GRANT SELECT ON departments TO gf_escalator;
GRANT SELECT, UPDATE ON referrals TO gf_escalator;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO gf_escalator;
-- The agenda carries undone decisions and reports up; the safety net leaves
-- the cases with a decision alone (meetings.sql, issue 14).
GRANT SELECT ON meeting_decisions TO gf_escalator;

-- gateway (HTTP, dashboards, Open311 queries): reads, never writes.
GRANT SELECT ON cases_public, case_state_names TO gf_gateway;
-- gateway: public attachments only (attachments.sql's view), never the table.
GRANT SELECT ON attachments_public TO gf_gateway;
-- The log as published: not its restricted column (020).
GRANT SELECT (id, seq, type, topic, case_id, grid, at, payload) ON case_events TO gf_gateway;
-- What the dashboard's and Open311's functions (dashboard.sql, open311.sql)
-- read besides cases_public, as the gateway's statements always did: the
-- escalations, meetings and ledgers shown, the sign-for rule (gf_rule), the
-- API keys' hashes (gf_api_key_client) and the directory's public columns
-- of staff.  Still no column of cases.
GRANT SELECT ON escalations, meetings, ledger_entries, escalation_rules, api_keys TO gf_gateway;
GRANT SELECT (grid, role, name, position, phone, commitment) ON people TO gf_gateway;
-- The indicators (indicators.sql) for the dashboard and /metrics: counts
-- and rates only, through two SECURITY DEFINER functions (the gateway may
-- not read cases), which no one else but gridctl may call.
REVOKE EXECUTE ON FUNCTION gf_dash_indicators (text), gf_indicator_metrics () FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gf_dash_indicators (text), gf_indicator_metrics () TO gf_gateway, gf_ctl;

-- intake: programme.action (programmes.sql, 032): links, things done, help
-- pairs, relief, star ratings, campaigns, case helpers, each with its event.
GRANT SELECT ON programme_settings, thing_kinds, relief_kinds, rating_criteria, teams, households,
    person_roles TO gf_intake;
GRANT SELECT, INSERT, UPDATE ON care_links, help_pairs, rating_rounds, rating_scores, campaigns,
    campaign_targets TO gf_intake;
GRANT SELECT, INSERT ON things_done, help_pair_reviews, relief_cases, campaign_items, case_helpers,
    programme_actions TO gf_intake;
GRANT USAGE ON SEQUENCE care_links_id_seq, things_done_id_seq, help_pairs_id_seq,
    help_pair_reviews_id_seq, relief_cases_id_seq, rating_rounds_id_seq, campaign_targets_id_seq,
    campaign_items_id_seq, case_helpers_id_seq, programme_actions_id_seq TO gf_intake;
-- gateway: the public star ratings (gf_rating_public_json): criteria, grid
-- codes and points only.  The dashboard's programme figures
-- (gf_dash_programmes: with patrols and visits, the register's) are counts
-- through a SECURITY DEFINER function that no one else but gridctl may call.
GRANT SELECT ON rating_rounds, rating_criteria, rating_star_levels TO gf_gateway;
GRANT SELECT (round_id, subject, grid, criterion, points) ON rating_scores TO gf_gateway;
REVOKE EXECUTE ON FUNCTION gf_dash_programmes (text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gf_dash_programmes (text) TO gf_gateway, gf_ctl;

-- gridctl (operators): reads everything, manages the directory, the
-- calendar, the clock, identities and meetings; never rewrites the log.
GRANT SELECT ON ALL TABLES IN SCHEMA public TO gf_ctl;
GRANT INSERT, UPDATE, DELETE ON grids, categories, people, addresses, calendar_years,
    calendar_days, sim_clock, identities, escalation_rules, meeting_schedule,
    notification_templates, notification_rules, delivery_policy, delivery_quiet, app_tokens,
    departments
    TO gf_ctl;
GRANT UPDATE ON deliveries TO gf_ctl; -- gridctl notify redrive
-- gridctl grids import / people edit version the roles; gridctl household
-- import is the operator's path into the register (audited, audit.sql).
GRANT INSERT, UPDATE, DELETE ON person_roles TO gf_ctl;
GRANT INSERT, UPDATE ON households, household_groups TO gf_ctl;
GRANT INSERT ON household_changes TO gf_ctl;
GRANT INSERT, UPDATE ON meetings, escalation_state TO gf_ctl;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO gf_ctl;

-- The audit trail (021, audit.sql): written only by its triggers (SECURITY
-- DEFINER), read only by gf_auditor; gf_ctl's SELECT ON ALL TABLES above
-- and the escalator's sequences are taken back for it.  Nobody but the
-- owner holds any other privilege on it.
REVOKE ALL ON audit_log FROM PUBLIC, gf_ctl;
REVOKE ALL ON SEQUENCE audit_log_id_seq FROM PUBLIC, gf_ctl, gf_escalator;
GRANT SELECT ON audit_log TO gf_auditor;

-- Staff accounts and sessions (035, accounts.sql; docs/security.md
-- "Accounts and sessions").  gridctl user add|reset|disable|list: the
-- account rows but never the password hashes (taken back from its SELECT ON
-- ALL TABLES above), the login state it clears, the sessions it ends.  The
-- gateway holds nothing on these tables: it calls accounts.sql's four
-- SECURITY DEFINER functions, which nobody else may execute.
REVOKE ALL ON accounts, account_logins, sessions FROM PUBLIC, gf_ctl;
GRANT SELECT (person, disabled_at, created_at, updated_at, must_change), INSERT,
    UPDATE (pw_hash, disabled_at, updated_at, must_change) ON accounts TO gf_ctl;
GRANT SELECT, UPDATE ON account_logins TO gf_ctl;
GRANT SELECT (person, ended_at), UPDATE (ended_at, ended_why) ON sessions TO gf_ctl;
REVOKE EXECUTE ON FUNCTION gf_login_begin (text, text, integer),
    gf_login_finish (text, boolean, text, text, text, integer, integer, text, bigint),
    gf_session_check (text, integer, integer), gf_session_end (text, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gf_login_begin (text, text, integer),
    gf_login_finish (text, boolean, text, text, text, integer, integer, text, bigint),
    gf_session_check (text, integer, integer), gf_session_end (text, boolean, text) TO gf_gateway;

-- App receipts and the workbench's notices (delivery.sql, issue 16): the
-- gateway reads one person's app inbox and records its receipts through
-- two SECURITY DEFINER functions; the notifier records its apps' receipts
-- many at once (gf_app_ack_many, the same rule).
REVOKE EXECUTE ON FUNCTION gf_app_inbox (text, bigint, integer), gf_app_ack (bigint, text),
                gf_app_ack_many (jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gf_app_inbox (text, bigint, integer) TO gf_gateway;
GRANT EXECUTE ON FUNCTION gf_app_ack (bigint, text) TO gf_gateway;
GRANT EXECUTE ON FUNCTION gf_app_ack_many (jsonb) TO gf_notifier;
-- The workbench's reads (workbench.sql, issue 16): SECURITY DEFINER with
-- their own subtree check, for the gateway alone (its role reads no
-- resident's contact otherwise).
REVOKE EXECUTE ON FUNCTION gf_wb_scope (text), gf_wb_queue (text, integer), gf_wb_case (text, bigint),
    gf_wb_meeting (text, bigint), gf_wb_households (text, text), gf_wb_attachment (text, bigint)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gf_wb_scope (text), gf_wb_queue (text, integer), gf_wb_case (text, bigint),
    gf_wb_meeting (text, bigint), gf_wb_households (text, text), gf_wb_attachment (text, bigint)
    TO gf_gateway;

-- Kiosk tokens (037, accounts.sql; docs/security.md "Kiosk tokens"):
-- gridctl kiosk add|list|revoke; the gateway only through gf_kiosk_check,
-- which nobody else may execute.  Nobody reads the hashes but the owner.
REVOKE ALL ON kiosk_tokens FROM PUBLIC, gf_ctl;
GRANT SELECT (id, grid, label, created_at, expires_at, revoked_at), INSERT,
    UPDATE (revoked_at) ON kiosk_tokens TO gf_ctl;
REVOKE EXECUTE ON FUNCTION gf_kiosk_check (text, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gf_kiosk_check (text, boolean, text) TO gf_gateway;

-- TOTP (039, accounts.sql; docs/security.md "TOTP"): gridctl user totp
-- writes a sealed secret but reads none; the gateway reads it only through
-- gf_login_totp, which nobody else may execute.
REVOKE ALL ON account_totp FROM PUBLIC, gf_ctl;
GRANT SELECT (person, enrolled_at), INSERT, UPDATE (sealed, enrolled_at) ON account_totp TO gf_ctl;
REVOKE EXECUTE ON FUNCTION gf_login_totp (text), gf_login_password_set (text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gf_login_totp (text), gf_login_password_set (text, text) TO gf_gateway;

-- The city's subscription (issue 18, city.sql, docs/operations.md "Adding a
-- district to a city"): it connects to the district as gridflow_city, a
-- LOGIN REPLICATION user in gf_city (deploy/pg.sh users), and its initial
-- copy reads what the publication gf_city sends, column by column: no
-- resident's name, phone, address, household or clear description, no
-- event's restricted part, no person's phone, e-mail or channels.  It writes
-- nothing.  (pg_hba should allow it the gridflow database only, not the
-- `replication` pseudo-database: its REPLICATION attribute would otherwise
-- let it take a physical base backup.)
GRANT SELECT ON meetings, meeting_decisions, escalations, escalation_rules, grids, categories,
    special_groups, escalation_rule_names, case_state_names, event_types, resolution_deadlines,
    indicator_rules, calendar_years, calendar_days, sim_clock
    TO gf_city;
GRANT SELECT (id, source, source_ref, request_id, root, grid, requested_grid, state, level, tier,
              category, urgent, reported_at, received_at, routed_at, version, groups, reporter,
              supervised, merged_into, returned_from, department, satisfied, reopen_count,
              signed_at, resolved_at, closed_at, updated_at, rejected_reason) ON cases TO gf_city;
GRANT SELECT (id, seq, type, topic, case_id, grid, at, payload) ON case_events TO gf_city;
GRANT SELECT (id, grid, role, name, position) ON people TO gf_city;
-- Making the publication and emptying a new replica are the owner's (deploy/city.sh).
REVOKE EXECUTE ON FUNCTION gf_city_publish (), gf_city_prepare_replica () FROM PUBLIC;
-- A replica's report (SECURITY DEFINER, counts only): gridctl city and the
-- gateway's city dashboard.
REVOKE EXECUTE ON FUNCTION gf_city_district_report (text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gf_city_district_report (text, integer) TO gf_ctl, gf_gateway;
