-- pgTAP: deploy/sql/repeatable/grants.sql — each service role holds exactly
-- the privileges listed here (a grant added or dropped in grants.sql without
-- this list fails the first two tests), and, acting as the role (SET LOCAL
-- ROLE: the suite's own user owns the tables, which proves nothing), what
-- its service runs works and what it must not do is refused.
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (54);

CREATE TEMP TABLE want_tables (role text, tab text, privs text);
INSERT INTO want_tables VALUES
    -- the city's subscription (city.sql): what the publication gf_city sends
    ('gf_city', 'meetings', 'SELECT'),
    ('gf_city', 'meeting_decisions', 'SELECT'),
    ('gf_city', 'escalations', 'SELECT'),
    ('gf_city', 'escalation_rules', 'SELECT'),
    ('gf_city', 'grids', 'SELECT'),
    ('gf_city', 'categories', 'SELECT'),
    ('gf_city', 'special_groups', 'SELECT'),
    ('gf_city', 'escalation_rule_names', 'SELECT'),
    ('gf_city', 'case_state_names', 'SELECT'),
    ('gf_city', 'event_types', 'SELECT'),
    ('gf_city', 'resolution_deadlines', 'SELECT'),
    ('gf_city', 'indicator_rules', 'SELECT'),
    ('gf_city', 'calendar_years', 'SELECT'),
    ('gf_city', 'calendar_days', 'SELECT'),
    ('gf_city', 'sim_clock', 'SELECT'),
    -- programmes (032)
    ('gf_ctl', 'care_links', 'SELECT'),
    ('gf_ctl', 'campaign_items', 'SELECT'),
    ('gf_ctl', 'campaign_targets', 'SELECT'),
    ('gf_ctl', 'campaigns', 'SELECT'),
    ('gf_ctl', 'case_helpers', 'SELECT'),
    ('gf_ctl', 'help_pair_reviews', 'SELECT'),
    ('gf_ctl', 'help_pairs', 'SELECT'),
    ('gf_ctl', 'programme_actions', 'SELECT'),
    ('gf_ctl', 'programme_settings', 'SELECT'),
    ('gf_ctl', 'rating_criteria', 'SELECT'),
    ('gf_ctl', 'rating_rounds', 'SELECT'),
    ('gf_ctl', 'rating_scores', 'SELECT'),
    ('gf_ctl', 'rating_star_levels', 'SELECT'),
    ('gf_ctl', 'relief_cases', 'SELECT'),
    ('gf_ctl', 'relief_kinds', 'SELECT'),
    ('gf_ctl', 'thing_kinds', 'SELECT'),
    ('gf_ctl', 'things_done', 'SELECT'),
    ('gf_intake', 'programme_settings', 'SELECT'),
    ('gf_intake', 'thing_kinds', 'SELECT'),
    ('gf_intake', 'relief_kinds', 'SELECT'),
    ('gf_intake', 'rating_criteria', 'SELECT'),
    ('gf_intake', 'teams', 'SELECT'),
    ('gf_intake', 'care_links', 'SELECT,INSERT,UPDATE'),
    ('gf_intake', 'help_pairs', 'SELECT,INSERT,UPDATE'),
    ('gf_intake', 'rating_rounds', 'SELECT,INSERT,UPDATE'),
    ('gf_intake', 'rating_scores', 'SELECT,INSERT,UPDATE'),
    ('gf_intake', 'campaigns', 'SELECT,INSERT,UPDATE'),
    ('gf_intake', 'campaign_targets', 'SELECT,INSERT,UPDATE'),
    ('gf_intake', 'things_done', 'SELECT,INSERT'),
    ('gf_intake', 'help_pair_reviews', 'SELECT,INSERT'),
    ('gf_intake', 'relief_cases', 'SELECT,INSERT'),
    ('gf_intake', 'campaign_items', 'SELECT,INSERT'),
    ('gf_intake', 'case_helpers', 'SELECT,INSERT'),
    ('gf_intake', 'programme_actions', 'SELECT,INSERT'),
    ('gf_gateway', 'rating_rounds', 'SELECT'),
    ('gf_gateway', 'rating_criteria', 'SELECT'),
    ('gf_gateway', 'rating_star_levels', 'SELECT'),
    ('gf_auditor', 'audit_log', 'SELECT'),
    -- accounts (035): gridctl user; the gateway only through functions
    ('gf_ctl', 'accounts', 'INSERT'),
    -- kiosk tokens (037): gridctl kiosk; the gateway only through gf_kiosk_check
    ('gf_ctl', 'kiosk_tokens', 'INSERT'),
    ('gf_ctl', 'account_totp', 'INSERT'),
    ('gf_ctl', 'account_logins', 'SELECT,UPDATE'),
    ('gf_ctl', 'addresses', 'SELECT,INSERT,UPDATE,DELETE'),
    ('gf_ctl', 'api_keys', 'SELECT'),
    ('gf_ctl', 'app_tokens', 'SELECT,INSERT,UPDATE,DELETE'),
    ('gf_ctl', 'calendar_days', 'SELECT,INSERT,UPDATE,DELETE'),
    ('gf_ctl', 'calendar_years', 'SELECT,INSERT,UPDATE,DELETE'),
    ('gf_ctl', 'departments', 'SELECT,INSERT,UPDATE,DELETE'),
    ('gf_ctl', 'referrals', 'SELECT'),
    ('gf_escalator', 'departments', 'SELECT'),
    ('gf_escalator', 'referrals', 'SELECT,UPDATE'),
    ('gf_intake', 'departments', 'SELECT'),
    ('gf_intake', 'attachments', 'SELECT,INSERT'),
    ('gf_intake', 'addresses', 'SELECT'),
    ('gf_gateway', 'attachments_public', 'SELECT'),
    ('gf_ctl', 'attachments', 'SELECT'),
    ('gf_ctl', 'attachments_public', 'SELECT'),
    ('gf_intake', 'referrals', 'SELECT,INSERT,UPDATE'),
    ('gf_ctl', 'case_actions', 'SELECT'),
    ('gf_ctl', 'case_events', 'SELECT'),
    ('gf_ctl', 'event_stage', 'SELECT,INSERT'),
    ('gf_ctl', 'case_state_names', 'SELECT'),
    ('gf_ctl', 'cases', 'SELECT'),
    ('gf_ctl', 'cases_public', 'SELECT'),
    ('gf_ctl', 'categories', 'SELECT,INSERT,UPDATE,DELETE'),
    ('gf_ctl', 'consultation_opinions', 'SELECT'),
    ('gf_ctl', 'consumer_checkpoints', 'SELECT'),
    ('gf_ctl', 'deliveries', 'SELECT,UPDATE'),
    ('gf_ctl', 'delivery_policy', 'SELECT,INSERT,UPDATE,DELETE'),
    ('gf_ctl', 'delivery_quiet', 'SELECT,INSERT,UPDATE,DELETE'),
    ('gf_ctl', 'escalation_rule_names', 'SELECT'),
    ('gf_ctl', 'escalation_rules', 'SELECT,INSERT,UPDATE,DELETE'),
    ('gf_ctl', 'escalation_state', 'SELECT,INSERT,UPDATE'),
    ('gf_ctl', 'escalations', 'SELECT'),
    ('gf_ctl', 'event_types', 'SELECT'),
    ('gf_ctl', 'field_reminders', 'SELECT'),
    ('gf_ctl', 'field_rules', 'SELECT'),
    ('gf_ctl', 'grids', 'SELECT,INSERT,UPDATE,DELETE'),
    ('gf_ctl', 'household_changes', 'SELECT,INSERT'),
    ('gf_ctl', 'household_groups', 'SELECT,INSERT,UPDATE'),
    ('gf_ctl', 'households', 'SELECT,INSERT,UPDATE'),
    ('gf_ctl', 'identities', 'SELECT,INSERT,UPDATE,DELETE'),
    ('gf_ctl', 'indicator_rules', 'SELECT'),
    ('gf_ctl', 'ledger_entries', 'SELECT'),
    ('gf_ctl', 'meeting_actions', 'SELECT'),
    ('gf_ctl', 'meeting_attendees', 'SELECT'),
    ('gf_ctl', 'meeting_decision_kinds', 'SELECT'),
    ('gf_ctl', 'meeting_decisions', 'SELECT'),
    ('gf_ctl', 'meeting_schedule', 'SELECT,INSERT,UPDATE,DELETE'),
    ('gf_ctl', 'meetings', 'SELECT,INSERT,UPDATE'),
    ('gf_ctl', 'notification_rules', 'SELECT,INSERT,UPDATE,DELETE'),
    ('gf_ctl', 'notification_templates', 'SELECT,INSERT,UPDATE,DELETE'),
    ('gf_ctl', 'notifications', 'SELECT'),
    ('gf_ctl', 'patrols', 'SELECT'),
    ('gf_ctl', 'people', 'SELECT,INSERT,UPDATE,DELETE'),
    ('gf_ctl', 'person_roles', 'SELECT,INSERT,UPDATE,DELETE'),
    ('gf_ctl', 'resolution_deadlines', 'SELECT'),
    ('gf_ctl', 'schema_migrations', 'SELECT'),
    ('gf_ctl', 'schema_repeatables', 'SELECT'),
    ('gf_ctl', 'service_status', 'SELECT'),
    -- leases (042): every look of a router, notifier, escalator; gridctl status reads
    ('gf_ctl', 'leases', 'SELECT'),
    ('gf_ctl', 'lease_instances', 'SELECT'),
    ('gf_relay', 'leases', 'SELECT,INSERT,UPDATE'),
    ('gf_relay', 'lease_instances', 'SELECT,INSERT,UPDATE,DELETE'),
    ('gf_router', 'leases', 'SELECT,INSERT,UPDATE'),
    ('gf_router', 'lease_instances', 'SELECT,INSERT,UPDATE,DELETE'),
    ('gf_notifier', 'leases', 'SELECT,INSERT,UPDATE'),
    ('gf_notifier', 'lease_instances', 'SELECT,INSERT,UPDATE,DELETE'),
    ('gf_escalator', 'leases', 'SELECT,INSERT,UPDATE'),
    ('gf_escalator', 'lease_instances', 'SELECT,INSERT,UPDATE,DELETE'),
    ('gf_ctl', 'self_check_items', 'SELECT'),
    ('gf_ctl', 'self_checks', 'SELECT'),
    ('gf_ctl', 'sim_clock', 'SELECT,INSERT,UPDATE,DELETE'),
    ('gf_ctl', 'special_groups', 'SELECT'),
    ('gf_ctl', 'teams', 'SELECT'),
    ('gf_ctl', 'visit_rules', 'SELECT'),
    ('gf_ctl', 'visits', 'SELECT'),
    ('gf_escalator', 'calendar_days', 'SELECT'),
    ('gf_escalator', 'calendar_years', 'SELECT'),
    ('gf_escalator', 'case_actions', 'SELECT'),
    ('gf_escalator', 'case_events', 'SELECT'),
    ('gf_escalator', 'event_stage', 'SELECT,INSERT'),
    ('gf_escalator', 'case_state_names', 'SELECT'),
    ('gf_escalator', 'cases', 'SELECT,UPDATE'),
    ('gf_escalator', 'categories', 'SELECT'),
    ('gf_escalator', 'deliveries', 'INSERT'),
    ('gf_escalator', 'delivery_policy', 'SELECT'),
    ('gf_escalator', 'delivery_quiet', 'SELECT'),
    ('gf_escalator', 'escalation_rule_names', 'SELECT'),
    ('gf_escalator', 'escalation_rules', 'SELECT'),
    ('gf_escalator', 'escalation_state', 'SELECT,INSERT,UPDATE'),
    ('gf_escalator', 'escalations', 'SELECT,INSERT,UPDATE'),
    ('gf_escalator', 'event_types', 'SELECT'),
    ('gf_escalator', 'field_reminders', 'SELECT,INSERT'),
    ('gf_escalator', 'field_rules', 'SELECT'),
    ('gf_escalator', 'grids', 'SELECT'),
    ('gf_escalator', 'ledger_entries', 'SELECT,INSERT,UPDATE'),
    ('gf_escalator', 'meeting_decision_kinds', 'SELECT'),
    ('gf_escalator', 'meeting_decisions', 'SELECT'),
    ('gf_escalator', 'meeting_schedule', 'SELECT'),
    ('gf_escalator', 'meetings', 'SELECT,INSERT,UPDATE'),
    ('gf_escalator', 'notification_rules', 'SELECT'),
    ('gf_escalator', 'notification_templates', 'SELECT'),
    ('gf_escalator', 'notifications', 'SELECT,INSERT,UPDATE'),
    ('gf_escalator', 'people', 'SELECT'),
    ('gf_escalator', 'service_status', 'SELECT,INSERT,UPDATE'),
    ('gf_escalator', 'sim_clock', 'SELECT'),
    ('gf_escalator', 'special_groups', 'SELECT'),
    ('gf_escalator', 'visit_rules', 'SELECT'),
    ('gf_gateway', 'api_keys', 'SELECT'),
    ('gf_gateway', 'calendar_days', 'SELECT'),
    ('gf_gateway', 'calendar_years', 'SELECT'),
    ('gf_gateway', 'case_state_names', 'SELECT'),
    ('gf_gateway', 'cases_public', 'SELECT'),
    ('gf_gateway', 'categories', 'SELECT'),
    ('gf_gateway', 'escalation_rule_names', 'SELECT'),
    ('gf_gateway', 'escalation_rules', 'SELECT'),
    ('gf_gateway', 'escalations', 'SELECT'),
    ('gf_gateway', 'event_types', 'SELECT'),
    ('gf_gateway', 'grids', 'SELECT'),
    ('gf_gateway', 'ledger_entries', 'SELECT'),
    ('gf_gateway', 'meetings', 'SELECT'),
    ('gf_gateway', 'service_status', 'SELECT,INSERT,UPDATE'),
    ('gf_gateway', 'sim_clock', 'SELECT'),
    ('gf_gateway', 'special_groups', 'SELECT'),
    ('gf_intake', 'calendar_days', 'SELECT'),
    ('gf_intake', 'calendar_years', 'SELECT'),
    ('gf_intake', 'case_actions', 'SELECT,INSERT,UPDATE'),
    ('gf_intake', 'case_events', 'SELECT'),
    ('gf_intake', 'event_stage', 'SELECT,INSERT'),
    ('gf_intake', 'case_state_names', 'SELECT'),
    ('gf_intake', 'cases', 'SELECT,INSERT,UPDATE'),
    ('gf_intake', 'categories', 'SELECT'),
    ('gf_intake', 'consultation_opinions', 'SELECT,INSERT'),
    ('gf_intake', 'escalation_rule_names', 'SELECT'),
    ('gf_intake', 'escalation_rules', 'SELECT'),
    ('gf_intake', 'escalations', 'SELECT,INSERT'),
    ('gf_intake', 'event_types', 'SELECT'),
    ('gf_intake', 'field_rules', 'SELECT'),
    ('gf_intake', 'grids', 'SELECT'),
    ('gf_intake', 'household_changes', 'SELECT,INSERT'),
    ('gf_intake', 'household_groups', 'SELECT,INSERT,UPDATE'),
    ('gf_intake', 'households', 'SELECT,INSERT,UPDATE'),
    ('gf_intake', 'identities', 'SELECT'),
    ('gf_intake', 'ledger_entries', 'SELECT'),
    ('gf_intake', 'meeting_actions', 'SELECT,INSERT'),
    ('gf_intake', 'meeting_attendees', 'SELECT,INSERT'),
    ('gf_intake', 'meeting_decision_kinds', 'SELECT'),
    ('gf_intake', 'meeting_decisions', 'SELECT,INSERT'),
    ('gf_intake', 'meetings', 'SELECT,UPDATE'),
    ('gf_intake', 'people', 'SELECT'),
    ('gf_intake', 'patrols', 'SELECT,INSERT'),
    ('gf_intake', 'person_roles', 'SELECT'),
    ('gf_intake', 'self_check_items', 'SELECT'),
    ('gf_intake', 'self_checks', 'SELECT,INSERT'),
    ('gf_intake', 'service_status', 'SELECT,INSERT,UPDATE'),
    ('gf_intake', 'sim_clock', 'SELECT'),
    ('gf_intake', 'special_groups', 'SELECT'),
    ('gf_intake', 'visits', 'SELECT,INSERT'),
    ('gf_notifier', 'app_tokens', 'SELECT'),
    ('gf_notifier', 'calendar_days', 'SELECT'),
    ('gf_notifier', 'calendar_years', 'SELECT'),
    ('gf_notifier', 'case_events', 'SELECT'),
    ('gf_notifier', 'event_stage', 'SELECT,INSERT'),
    ('gf_notifier', 'case_state_names', 'SELECT'),
    ('gf_notifier', 'categories', 'SELECT'),
    ('gf_notifier', 'consumer_checkpoints', 'SELECT,INSERT,UPDATE'),
    ('gf_notifier', 'deliveries', 'SELECT,INSERT,UPDATE'),
    ('gf_notifier', 'delivery_policy', 'SELECT'),
    ('gf_notifier', 'delivery_quiet', 'SELECT'),
    ('gf_notifier', 'escalation_rule_names', 'SELECT'),
    ('gf_notifier', 'escalation_rules', 'SELECT'),
    ('gf_notifier', 'event_types', 'SELECT'),
    ('gf_notifier', 'grids', 'SELECT'),
    ('gf_notifier', 'notification_rules', 'SELECT'),
    ('gf_notifier', 'notification_templates', 'SELECT'),
    ('gf_notifier', 'notifications', 'SELECT,INSERT'),
    ('gf_notifier', 'people', 'SELECT'),
    ('gf_notifier', 'service_status', 'SELECT,INSERT,UPDATE'),
    ('gf_notifier', 'sim_clock', 'SELECT'),
    ('gf_notifier', 'special_groups', 'SELECT'),
    ('gf_relay', 'event_types', 'SELECT'),
    ('gf_relay', 'service_status', 'SELECT,INSERT,UPDATE'),
    ('gf_relay', 'sim_clock', 'SELECT'),
    ('gf_router', 'addresses', 'SELECT'),
    ('gf_router', 'calendar_days', 'SELECT'),
    ('gf_router', 'calendar_years', 'SELECT'),
    ('gf_router', 'case_events', 'SELECT'),
    ('gf_router', 'event_stage', 'SELECT,INSERT'),
    ('gf_router', 'case_state_names', 'SELECT'),
    ('gf_router', 'categories', 'SELECT'),
    ('gf_router', 'consumer_checkpoints', 'SELECT,INSERT,UPDATE'),
    ('gf_router', 'escalation_rule_names', 'SELECT'),
    ('gf_router', 'event_types', 'SELECT'),
    ('gf_router', 'grids', 'SELECT'),
    ('gf_router', 'service_status', 'SELECT,INSERT,UPDATE'),
    ('gf_router', 'sim_clock', 'SELECT'),
    ('gf_router', 'special_groups', 'SELECT'),
    -- 028: the reject reasons' names, a vocabulary like the others
    ('gf_ctl', 'reject_reasons', 'SELECT'),
    ('gf_escalator', 'reject_reasons', 'SELECT'),
    ('gf_gateway', 'reject_reasons', 'SELECT'),
    ('gf_intake', 'reject_reasons', 'SELECT'),
    ('gf_notifier', 'reject_reasons', 'SELECT'),
    ('gf_router', 'reject_reasons', 'SELECT');
CREATE TEMP TABLE want_columns (role text, tab text, col text, privs text);
INSERT INTO want_columns VALUES
    -- the city's subscription (city.sql): no name, phone, address, household, clear text
    ('gf_city', 'cases', 'id', 'SELECT'),
    ('gf_city', 'cases', 'source', 'SELECT'),
    ('gf_city', 'cases', 'source_ref', 'SELECT'),
    ('gf_city', 'cases', 'request_id', 'SELECT'),
    ('gf_city', 'cases', 'root', 'SELECT'),
    ('gf_city', 'cases', 'grid', 'SELECT'),
    ('gf_city', 'cases', 'requested_grid', 'SELECT'),
    ('gf_city', 'cases', 'state', 'SELECT'),
    ('gf_city', 'cases', 'level', 'SELECT'),
    ('gf_city', 'cases', 'tier', 'SELECT'),
    ('gf_city', 'cases', 'category', 'SELECT'),
    ('gf_city', 'cases', 'urgent', 'SELECT'),
    ('gf_city', 'cases', 'reported_at', 'SELECT'),
    ('gf_city', 'cases', 'received_at', 'SELECT'),
    ('gf_city', 'cases', 'routed_at', 'SELECT'),
    ('gf_city', 'cases', 'version', 'SELECT'),
    ('gf_city', 'cases', 'groups', 'SELECT'),
    ('gf_city', 'cases', 'reporter', 'SELECT'),
    ('gf_city', 'cases', 'supervised', 'SELECT'),
    ('gf_city', 'cases', 'merged_into', 'SELECT'),
    ('gf_city', 'cases', 'returned_from', 'SELECT'),
    ('gf_city', 'cases', 'department', 'SELECT'),
    ('gf_city', 'cases', 'satisfied', 'SELECT'),
    ('gf_city', 'cases', 'reopen_count', 'SELECT'),
    ('gf_city', 'cases', 'signed_at', 'SELECT'),
    ('gf_city', 'cases', 'resolved_at', 'SELECT'),
    ('gf_city', 'cases', 'closed_at', 'SELECT'),
    ('gf_city', 'cases', 'updated_at', 'SELECT'),
    ('gf_city', 'cases', 'rejected_reason', 'SELECT'),
    ('gf_city', 'case_events', 'id', 'SELECT'),
    ('gf_city', 'case_events', 'seq', 'SELECT'),
    ('gf_city', 'case_events', 'type', 'SELECT'),
    ('gf_city', 'case_events', 'topic', 'SELECT'),
    ('gf_city', 'case_events', 'case_id', 'SELECT'),
    ('gf_city', 'case_events', 'grid', 'SELECT'),
    ('gf_city', 'case_events', 'at', 'SELECT'),
    ('gf_city', 'case_events', 'payload', 'SELECT'),
    ('gf_city', 'people', 'id', 'SELECT'),
    ('gf_city', 'people', 'grid', 'SELECT'),
    ('gf_city', 'people', 'role', 'SELECT'),
    ('gf_city', 'people', 'name', 'SELECT'),
    ('gf_city', 'people', 'position', 'SELECT'),
    -- programmes (032)
    ('gf_gateway', 'rating_scores', 'round_id', 'SELECT'),
    ('gf_gateway', 'rating_scores', 'subject', 'SELECT'),
    ('gf_gateway', 'rating_scores', 'grid', 'SELECT'),
    ('gf_gateway', 'rating_scores', 'criterion', 'SELECT'),
    ('gf_gateway', 'rating_scores', 'points', 'SELECT'),
    ('gf_ctl', 'accounts', 'person', 'SELECT'),
    ('gf_ctl', 'accounts', 'pw_hash', 'UPDATE'),
    ('gf_ctl', 'accounts', 'disabled_at', 'SELECT,UPDATE'),
    ('gf_ctl', 'accounts', 'created_at', 'SELECT'),
    ('gf_ctl', 'accounts', 'updated_at', 'SELECT,UPDATE'),
    ('gf_ctl', 'accounts', 'must_change', 'SELECT,UPDATE'),
    ('gf_ctl', 'sessions', 'person', 'SELECT'),
    ('gf_ctl', 'sessions', 'ended_at', 'SELECT,UPDATE'),
    ('gf_ctl', 'sessions', 'ended_why', 'UPDATE'),
    ('gf_ctl', 'kiosk_tokens', 'id', 'SELECT'),
    ('gf_ctl', 'account_totp', 'person', 'SELECT'),
    ('gf_ctl', 'account_totp', 'sealed', 'UPDATE'),
    ('gf_ctl', 'account_totp', 'enrolled_at', 'SELECT,UPDATE'),
    ('gf_ctl', 'kiosk_tokens', 'grid', 'SELECT'),
    ('gf_ctl', 'kiosk_tokens', 'label', 'SELECT'),
    ('gf_ctl', 'kiosk_tokens', 'created_at', 'SELECT'),
    ('gf_ctl', 'kiosk_tokens', 'expires_at', 'SELECT'),
    ('gf_ctl', 'kiosk_tokens', 'revoked_at', 'SELECT,UPDATE'),
    ('gf_gateway', 'case_events', 'at', 'SELECT'),
    ('gf_gateway', 'case_events', 'case_id', 'SELECT'),
    ('gf_gateway', 'case_events', 'grid', 'SELECT'),
    ('gf_gateway', 'case_events', 'id', 'SELECT'),
    ('gf_gateway', 'case_events', 'payload', 'SELECT'),
    ('gf_gateway', 'case_events', 'seq', 'SELECT'),
    ('gf_gateway', 'case_events', 'topic', 'SELECT'),
    ('gf_gateway', 'case_events', 'type', 'SELECT'),
    ('gf_gateway', 'people', 'commitment', 'SELECT'),
    ('gf_gateway', 'people', 'grid', 'SELECT'),
    ('gf_gateway', 'people', 'name', 'SELECT'),
    ('gf_gateway', 'people', 'phone', 'SELECT'),
    ('gf_gateway', 'people', 'position', 'SELECT'),
    ('gf_gateway', 'people', 'role', 'SELECT'),
    ('gf_escalator', 'household_groups', 'grp', 'SELECT'),
    ('gf_escalator', 'household_groups', 'household', 'SELECT'),
    ('gf_escalator', 'household_groups', 'valid_from', 'SELECT'),
    ('gf_escalator', 'household_groups', 'valid_to', 'SELECT'),
    ('gf_escalator', 'households', 'grid', 'SELECT'),
    ('gf_escalator', 'households', 'id', 'SELECT'),
    ('gf_escalator', 'patrols', 'done_at', 'SELECT'),
    ('gf_escalator', 'patrols', 'grid', 'SELECT'),
    ('gf_escalator', 'visits', 'done_at', 'SELECT'),
    ('gf_escalator', 'visits', 'household', 'SELECT'),
    ('gf_intake', 'ledger_entries', 'escalated', 'UPDATE'),
    ('gf_notifier', 'cases', 'category', 'SELECT'),
    ('gf_notifier', 'identities', 'grid', 'SELECT'),
    ('gf_notifier', 'identities', 'kind', 'SELECT'),
    ('gf_notifier', 'identities', 'person', 'SELECT'),
    ('gf_notifier', 'identities', 'public_key', 'SELECT'),
    ('gf_notifier', 'identities', 'revoked_at', 'SELECT'),
    ('gf_notifier', 'cases', 'description_redacted', 'SELECT'),
    ('gf_notifier', 'cases', 'grid', 'SELECT'),
    ('gf_notifier', 'cases', 'groups', 'SELECT'),
    ('gf_notifier', 'cases', 'id', 'SELECT'),
    ('gf_notifier', 'cases', 'level', 'SELECT'),
    ('gf_notifier', 'cases', 'phone', 'SELECT'),
    ('gf_notifier', 'cases', 'root', 'SELECT'),
    ('gf_notifier', 'cases', 'routed_at', 'SELECT'),
    ('gf_notifier', 'cases', 'state', 'SELECT'),
    ('gf_notifier', 'cases', 'urgent', 'SELECT'),
    ('gf_notifier', 'cases', 'source', 'SELECT'),
    ('gf_notifier', 'cases', 'reported_at', 'SELECT'),
    ('gf_notifier', 'cases', 'rejected_reason', 'SELECT'),
    ('gf_relay', 'case_events', 'at', 'SELECT'),
    ('gf_relay', 'case_events', 'case_id', 'SELECT'),
    ('gf_relay', 'case_events', 'grid', 'SELECT'),
    ('gf_relay', 'case_events', 'id', 'SELECT'),
    ('gf_relay', 'case_events', 'payload', 'SELECT'),
    ('gf_relay', 'case_events', 'seq', 'SELECT'),
    ('gf_relay', 'case_events', 'topic', 'SELECT'),
    ('gf_relay', 'case_events', 'type', 'SELECT'),
    ('gf_relay', 'identities', 'grid', 'SELECT'),
    ('gf_relay', 'identities', 'kind', 'SELECT'),
    ('gf_relay', 'identities', 'public_key', 'SELECT'),
    ('gf_relay', 'identities', 'revoked_at', 'SELECT'),
    ('gf_relay', 'identities', 'topics', 'SELECT'),
    ('gf_relay', 'people', 'grid', 'SELECT'),
    ('gf_relay', 'people', 'id', 'SELECT'),
    ('gf_router', 'cases', 'address', 'SELECT'),
    ('gf_router', 'cases', 'category', 'SELECT'),
    ('gf_router', 'cases', 'grid', 'SELECT,UPDATE'),
    ('gf_router', 'cases', 'groups', 'SELECT'),
    ('gf_router', 'cases', 'id', 'SELECT'),
    ('gf_router', 'cases', 'requested_grid', 'SELECT'),
    ('gf_router', 'cases', 'returned_from', 'SELECT'),
    ('gf_router', 'cases', 'root', 'SELECT'),
    ('gf_router', 'cases', 'routed_at', 'SELECT,UPDATE'),
    ('gf_router', 'cases', 'state', 'SELECT,UPDATE'),
    ('gf_router', 'cases', 'updated_at', 'SELECT,UPDATE'),
    ('gf_router', 'cases', 'urgent', 'SELECT'),
    ('gf_router', 'cases', 'version', 'SELECT,UPDATE');

SELECT bag_eq (
    $$ SELECT r.rolname::text AS role, c.relname::text AS tab, array_to_string (ARRAY (SELECT p FROM unnest (ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE']) p WHERE has_table_privilege (r.rolname, c.oid, p)), ',') AS privs
      FROM pg_roles r CROSS JOIN pg_class c
     WHERE r.rolname IN ('gf_intake','gf_relay','gf_router','gf_notifier','gf_escalator','gf_gateway','gf_ctl','gf_auditor','gf_city')
       AND c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r','v') AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e') AND EXISTS (SELECT 1 FROM unnest (ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE']) p WHERE has_table_privilege (r.rolname, c.oid, p)) $$,
    'SELECT role, tab, privs FROM want_tables',
    'table privileges of the service roles are exactly the list');
SELECT bag_eq (
    $$ SELECT r.rolname::text AS role, c.relname::text AS tab, a.attname::text AS col, array_to_string (ARRAY (SELECT p FROM unnest (ARRAY['SELECT','UPDATE']) p WHERE has_column_privilege (r.rolname, c.oid, a.attnum, p) AND NOT has_table_privilege (r.rolname, c.oid, p)), ',') AS privs
      FROM pg_roles r CROSS JOIN pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE r.rolname IN ('gf_intake','gf_relay','gf_router','gf_notifier','gf_escalator','gf_gateway','gf_ctl','gf_auditor','gf_city')
       AND c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND EXISTS (SELECT 1 FROM unnest (ARRAY['SELECT','UPDATE']) p WHERE has_column_privilege (r.rolname, c.oid, a.attnum, p) AND NOT has_table_privilege (r.rolname, c.oid, p)) $$,
    'SELECT role, tab, col, privs FROM want_columns',
    'column privileges of the service roles are exactly the list');

\ir fixtures/as_role.sql

INSERT INTO cases (source, source_ref, root, grid, description, phone, name, address, received_at)
VALUES ('hotline', 'grants-1', 'QNL', 'QNL.01.001', '测试', '13800001234', '张三', '西街村1组2号', gf_now ());

SELECT is (pg_temp.as_role ('gf_gateway', 'SELECT count (*) FROM cases'), '42501',
           'gateway: the cases table (names, phones) is refused');
SELECT is (pg_temp.as_role ('gf_gateway', 'SELECT phone_masked FROM cases_public'), '00000',
           'gateway: the masked view is allowed');
SELECT is (pg_temp.as_role ('gf_gateway', 'INSERT INTO case_events (type, topic, at) VALUES (''x'', ''x'', now ())'),
           '42501', 'gateway: writing the log is refused');
-- The household register is staff-only (issue 15): not the gateway's, not the relay's.
SELECT is (pg_temp.as_role ('gf_gateway', 'SELECT count (*) FROM households'), '42501',
           'gateway: the household register is refused');
SELECT is (pg_temp.as_role ('gf_gateway', 'SELECT count (*) FROM household_groups'), '42501',
           'gateway: special-group memberships are refused');
SELECT is (pg_temp.as_role ('gf_relay', 'SELECT count (*) FROM households h JOIN household_groups g ON g.household = h.id'),
           '42501', 'relay: the household register is refused');
SELECT is (pg_temp.as_role ('gf_relay', 'SELECT count (*) FROM cases'), '42501',
           'relay: cases are refused');
SELECT is (pg_temp.as_role ('gf_relay', 'SELECT restricted FROM case_events'), '42501',
           'relay: the events'' restricted part (special groups, clear notes) is refused');
SELECT is (pg_temp.as_role ('gf_gateway', 'SELECT restricted FROM case_events'), '42501',
           'gateway: the events'' restricted part is refused');
SELECT is (pg_temp.as_role ('gf_relay', 'UPDATE case_events SET type = type'), '42501',
           'relay: rewriting an event is refused');
SELECT is (pg_temp.as_role ('gf_relay', 'UPDATE case_events SET seq = seq'), '42501',
           'relay: renumbering events is refused (the append numbers them, 040)');
SELECT is (pg_temp.as_role ('gf_intake', 'INSERT INTO case_events (seq, type, topic, at) VALUES (1, ''x'', ''x'', now ())'),
           '42501', 'intake: writing the log around the append is refused');
SELECT is (pg_temp.as_role ('gf_intake', 'INSERT INTO event_stage (type, topic, at) VALUES (''x'', ''x'', now ())'),
           '00000', 'intake: staging an event is allowed');
SELECT is (pg_temp.as_role ('gf_router', 'SELECT phone FROM cases'), '42501',
           'router: the resident''s phone is refused');
SELECT is (pg_temp.as_role ('gf_router', 'SELECT name FROM cases'), '42501',
           'router: the resident''s name is refused');
SELECT is (pg_temp.as_role ('gf_router', 'UPDATE cases SET state = ''routed'', grid = grid, version = version + 1'),
           '00000', 'router: routing a case is allowed');
SELECT is (pg_temp.as_role ('gf_router', 'UPDATE cases SET description = ''x'''), '42501',
           'router: changing a complaint''s text is refused');
SELECT is (pg_temp.as_role ('gf_notifier', 'UPDATE cases SET state = ''closed'''), '42501',
           'notifier: changing a case is refused');
SELECT is (pg_temp.as_role ('gf_notifier', 'SELECT name, address FROM cases'), '42501',
           'notifier: the resident''s name and address are refused');
SELECT is (pg_temp.as_role ('gf_notifier', 'SELECT description FROM cases'), '42501',
           'notifier: the clear description is refused (it reads description_redacted)');
SELECT is (pg_temp.as_role ('gf_router', 'SELECT held FROM gf_lease_take (''router'', ''x:1'', 5000)'),
           '00000', 'router: looks at its lease (042, leases.sql)');
SELECT is (pg_temp.as_role ('gf_relay', 'SELECT held FROM gf_lease_take (''relay'', ''x:1'', 5000)'),
           '00000', 'relay: looks at its lease (only its holder publishes)');
SELECT is (pg_temp.as_role ('gf_intake', 'SELECT held FROM gf_lease_take (''router'', ''x:1'', 5000)'),
           '42501', 'intake: taking a lease is refused');
SELECT is (pg_temp.as_role ('gf_notifier', 'DELETE FROM leases'), '42501',
           'notifier: deleting a lease (to reset its epoch) is refused');
SELECT is (pg_temp.as_role ('gf_intake', 'DELETE FROM cases'), '42501',
           'intake: deleting a case is refused');
SELECT is (pg_temp.as_role ('gf_intake', 'UPDATE case_events SET seq = 1'), '42501',
           'intake: numbering or rewriting events is refused');
SELECT is (pg_temp.as_role ('gf_escalator', 'DELETE FROM case_events'), '42501',
           'escalator: deleting events is refused');
SELECT is (pg_temp.as_role ('gf_ctl', 'UPDATE case_events SET payload = ''{}'''), '42501',
           'gridctl: rewriting the log is refused');
SELECT is (pg_temp.as_role ('gf_ctl', 'UPDATE sim_clock SET at = at'), '00000',
           'gridctl: moving the clock is allowed');
SELECT is (pg_temp.as_role ('gf_ctl', 'CREATE TABLE public.x (i int)'), '42501',
           'gridctl: creating objects in the schema is refused');
SELECT is (pg_temp.as_role ('gf_intake', 'CREATE FUNCTION public.f () RETURNS int LANGUAGE sql AS ''SELECT 1'''),
           '42501', 'intake: creating functions is refused');
SELECT is (pg_temp.as_role ('gf_escalator', 'SELECT gf_now (), gf_is_workday (current_date), gf_rule (''QNL'', ''weekly_l2'')'),
           '00000', 'escalator: the clock, the calendar and the rules are readable');

-- Every service writes its heartbeat (common/gf_service.c's upsert) as its role.
SELECT is ((SELECT string_agg (pg_temp.as_role (r,
              'INSERT INTO service_status (service, instance, host, pid, version, started_at, seen_at, interval_ms, ready, metrics)
               VALUES (''gf-x'', ''h:1'', ''h'', 1, ''v'', now (), now (), 5000, true, ''{}'')
               ON CONFLICT (service, instance) DO UPDATE SET seen_at = now (), ready = EXCLUDED.ready,
                 metrics = EXCLUDED.metrics, stopped_at = EXCLUDED.stopped_at, version = EXCLUDED.version,
                 interval_ms = EXCLUDED.interval_ms'), ',' ORDER BY r)
              FROM unnest (ARRAY['gf_escalator','gf_gateway','gf_intake','gf_notifier','gf_relay','gf_router']) r),
           '00000,00000,00000,00000,00000,00000', 'every service role may write its heartbeat');
SELECT is (pg_temp.as_role ('gf_gateway', 'DELETE FROM service_status'), '42501',
           'gateway: deleting heartbeats is refused');

-- Staff accounts (035, accounts.sql): the hashes are nobody's but the
-- owner's; the login functions are the gateway's alone.
SELECT is (pg_temp.as_role ('gf_ctl', 'SELECT pw_hash FROM accounts'), '42501',
           'gridctl: reading password hashes is refused');
SELECT is (pg_temp.as_role ('gf_gateway', 'SELECT count (*) FROM sessions'), '42501',
           'gateway: the sessions table is refused (functions only)');
SELECT is ((SELECT string_agg (r, ',' ORDER BY r) FROM unnest (ARRAY['gf_intake','gf_relay','gf_router',
              'gf_notifier','gf_escalator','gf_gateway','gf_ctl','gf_auditor']) r
             WHERE has_function_privilege (r, 'gf_login_begin (text, text, integer)', 'EXECUTE')
               AND has_function_privilege (r, 'gf_login_finish (text, boolean, text, text, text, integer, integer, text, bigint)', 'EXECUTE')
               AND has_function_privilege (r, 'gf_login_totp (text)', 'EXECUTE')
               AND has_function_privilege (r, 'gf_login_password_set (text, text)', 'EXECUTE')
               AND has_function_privilege (r, 'gf_session_check (text, integer, integer)', 'EXECUTE')
               AND has_function_privilege (r, 'gf_session_end (text, boolean, text)', 'EXECUTE')),
           'gf_gateway', 'the login and session functions: the gateway''s alone');
SELECT is ((SELECT string_agg (r, ',' ORDER BY r) FROM unnest (ARRAY['gf_intake','gf_relay','gf_router',
              'gf_notifier','gf_escalator','gf_gateway','gf_ctl','gf_auditor']) r
             WHERE has_function_privilege (r, 'gf_login_begin (text, text, integer)', 'EXECUTE')
                OR has_function_privilege (r, 'gf_session_check (text, integer, integer)', 'EXECUTE')),
           'gf_gateway', 'no other role may call any of them');
SELECT is ((SELECT string_agg (r, ',' ORDER BY r) FROM unnest (ARRAY['gf_intake','gf_relay','gf_router',
              'gf_notifier','gf_escalator','gf_gateway','gf_ctl','gf_auditor']) r
             WHERE has_function_privilege (r, 'gf_wb_scope (text)', 'EXECUTE')
                OR has_function_privilege (r, 'gf_wb_queue (text, integer)', 'EXECUTE')
                OR has_function_privilege (r, 'gf_wb_case (text, bigint)', 'EXECUTE')
                OR has_function_privilege (r, 'gf_wb_meeting (text, bigint)', 'EXECUTE')
                OR has_function_privilege (r, 'gf_wb_households (text, text)', 'EXECUTE')
                OR has_function_privilege (r, 'gf_wb_attachment (text, bigint)', 'EXECUTE')),
           'gf_gateway', 'the workbench reads (workbench.sql): the gateway''s alone');

-- The app inbox and receipts (delivery.sql): the gateway reads and
-- acknowledges one, the notifier many at once; nobody else.
SELECT is ((SELECT string_agg (r, ',' ORDER BY r) FROM unnest (ARRAY['gf_intake','gf_relay','gf_router',
              'gf_notifier','gf_escalator','gf_gateway','gf_ctl','gf_auditor']) r
             WHERE has_function_privilege (r, 'gf_app_inbox (text, bigint, integer)', 'EXECUTE')),
           'gf_gateway', 'the app inbox: the gateway''s alone');
SELECT is ((SELECT string_agg (r, ',' ORDER BY r) FROM unnest (ARRAY['gf_intake','gf_relay','gf_router',
              'gf_notifier','gf_escalator','gf_gateway','gf_ctl','gf_auditor']) r
             WHERE has_function_privilege (r, 'gf_app_ack (bigint, text)', 'EXECUTE')),
           'gf_gateway', 'app receipts one by one: the gateway''s (the workbench)');
SELECT is ((SELECT string_agg (r, ',' ORDER BY r) FROM unnest (ARRAY['gf_intake','gf_relay','gf_router',
              'gf_notifier','gf_escalator','gf_gateway','gf_ctl','gf_auditor']) r
             WHERE has_function_privilege (r, 'gf_app_ack_many (jsonb)', 'EXECUTE')),
           'gf_notifier', 'app receipts many at once: the notifier''s (its app push)');

-- Kiosk tokens (037): the hashes are the owner's; the check is the gateway's alone.
SELECT is (pg_temp.as_role ('gf_ctl', 'SELECT sealed FROM account_totp'), '42501',
           'gridctl: reading sealed TOTP secrets is refused');
SELECT is (pg_temp.as_role ('gf_ctl', 'SELECT token_sha256 FROM kiosk_tokens'), '42501',
           'gridctl: reading kiosk token hashes is refused');
SELECT is ((SELECT string_agg (r, ',' ORDER BY r) FROM unnest (ARRAY['gf_intake','gf_relay','gf_router',
              'gf_notifier','gf_escalator','gf_gateway','gf_ctl','gf_auditor']) r
             WHERE has_function_privilege (r, 'gf_kiosk_check (text, boolean, text)', 'EXECUTE')),
           'gf_gateway', 'the kiosk check: the gateway''s alone');

-- The city's subscription user (city.sql): what the publication sends, nothing else.
SELECT is (pg_temp.as_role ('gf_city', 'SELECT id, category, groups, state, received_at FROM cases'), '00000',
           'city: the cases'' report columns are readable');
SELECT is (pg_temp.as_role ('gf_city', 'SELECT phone FROM cases'), '42501',
           'city: the resident''s phone is refused');
SELECT is (pg_temp.as_role ('gf_city', 'SELECT description FROM cases'), '42501',
           'city: the clear description is refused');
SELECT is (pg_temp.as_role ('gf_city', 'SELECT restricted FROM case_events'), '42501',
           'city: the events'' restricted part is refused');
SELECT is (pg_temp.as_role ('gf_city', 'SELECT phone FROM people'), '42501',
           'city: a person''s phone is refused');
SELECT is (pg_temp.as_role ('gf_city', 'UPDATE grids SET name = name'), '42501',
           'city: writing is refused');
SELECT is (pg_temp.as_role ('gf_city', 'SELECT gf_city_publish ()'), '42501',
           'city: making the publication is the owner''s');

SELECT * FROM finish ();
ROLLBACK;
