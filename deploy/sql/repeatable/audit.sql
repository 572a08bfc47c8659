-- audit.sql — the audit trail of administration (migration 021: audit_log;
-- docs/security.md, "Audit trail").  Every change to an administered table
-- — the directory (grids, categories, people, addresses), identities, API
-- keys and app tokens, the simulated clock, rules and templates
-- (escalation_rules, notification_rules, notification_templates,
-- delivery_policy, delivery_quiet, meeting_schedule), the versioned roles
-- and the household register (person_roles, households, household_groups:
-- issue 15, whether through gridctl or the intake), staff accounts
-- (issue 16: pw_hash shown as "(secret)"; logins: accounts.sql) — and every redriven
-- delivery is written to audit_log by the triggers below, whatever the path
-- (gridctl or plain SQL).  audit_log is append-only: the trigger
-- audit_log_append_only refuses UPDATE, DELETE and TRUNCATE to everyone.
-- Owns: gf_audit_mask, gf_audit_write, gf_audit_row, gf_audit_redrive, gf_audit_refuse,
-- gf_audit_list.

-- A row as jsonb with its secret columns (key hashes) shown as '(secret)'.
CREATE OR REPLACE FUNCTION gf_audit_mask (p_row jsonb, p_secrets text[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_row IS NULL THEN NULL
                ELSE (SELECT coalesce (jsonb_object_agg (key, CASE WHEN key = ANY (p_secrets)
                                                                  THEN to_jsonb ('(secret)'::text)
                                                                  ELSE value END), '{}')
                        FROM jsonb_each (p_row)) END
$$;

-- One audit_log row: what changed, with who and when taken from the session
-- (its role, and what gridctl set: gridflow.os_user, .actor, .command).
-- SECURITY INVOKER: only the triggers below (SECURITY DEFINER) can write
-- through it; a writer calling it directly has no right on audit_log.
CREATE OR REPLACE FUNCTION gf_audit_write (p_tab text, p_op text, p_object text, p_before jsonb,
                                           p_after jsonb) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO audit_log (sim_at, db_role, os_user, actor, command, application, client_addr,
                           tab, op, object, before, after)
    VALUES ((SELECT at FROM sim_clock), nullif (current_setting ('role'), 'none'),
            nullif (current_setting ('gridflow.os_user', true), ''),
            nullif (current_setting ('gridflow.actor', true), ''),
            nullif (current_setting ('gridflow.command', true), ''),
            nullif (current_setting ('application_name'), ''), inet_client_addr (),
            p_tab, p_op, p_object, p_before, p_after)
$$;

-- The row trigger of every administered table: one audit_log row per row
-- inserted, updated (changed columns only; the triggers skip unchanged
-- rows) or deleted.  TG_ARGV[0]: the key columns (comma-separated), the
-- row's `object`; TG_ARGV[1]: secret columns, if any.  SECURITY DEFINER:
-- the writers (gf_ctl, ...) may not write audit_log themselves; who they
-- are is session_user and the role they set.
CREATE OR REPLACE FUNCTION gf_audit_row () RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_old jsonb := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb (OLD) END;
    v_new jsonb := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN to_jsonb (NEW) END;
    v_row jsonb := coalesce (v_new, v_old);
    v_secrets text[] := CASE WHEN TG_NARGS > 1 THEN string_to_array (TG_ARGV[1], ',') ELSE '{}' END;
    v_before jsonb;
    v_after jsonb;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        SELECT jsonb_object_agg (o.key, o.value), jsonb_object_agg (o.key, v_new -> o.key)
          INTO v_before, v_after
          FROM jsonb_each (v_old) o WHERE v_new -> o.key IS DISTINCT FROM o.value;
        IF v_before IS NULL THEN
            RETURN NULL;
        END IF;
    ELSE
        v_before := v_old;
        v_after := v_new;
    END IF;
    PERFORM gf_audit_write (TG_TABLE_NAME, lower (TG_OP),
                            (SELECT string_agg (v_row ->> k, '/' ORDER BY n)
                               FROM unnest (string_to_array (TG_ARGV[0], ','))
                                    WITH ORDINALITY AS x (k, n)),
                            gf_audit_mask (v_before, v_secrets), gf_audit_mask (v_after, v_secrets));
    RETURN NULL;
END
$$;

-- A dead delivery made pending again (`gridctl notify redrive`, or SQL):
-- fired only for that change (the trigger's WHEN), never for the
-- notifier's own updates.
CREATE OR REPLACE FUNCTION gf_audit_redrive () RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM gf_audit_write (TG_TABLE_NAME, 'update', OLD.id::text,
                            jsonb_build_object ('state', OLD.state, 'attempts', OLD.attempts,
                                                'last_error', OLD.last_error),
                            jsonb_build_object ('state', NEW.state, 'attempts', NEW.attempts,
                                                'last_error', NEW.last_error));
    RETURN NULL;
END
$$;

-- audit_log is append-only, for everyone.
CREATE OR REPLACE FUNCTION gf_audit_refuse () RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE OR REPLACE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION gf_audit_refuse ();
CREATE OR REPLACE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION gf_audit_refuse ();

-- The audited tables, their keys and secret columns: three triggers each
-- (an UPDATE that changes nothing is not recorded).
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM (VALUES
            ('grids', 'code', ''), ('categories', 'code', ''), ('people', 'id', ''),
            ('addresses', 'address', ''), ('identities', 'name', ''),
            ('api_keys', 'name', 'key_sha256'), ('app_tokens', 'person', 'token_sha256'),
            ('sim_clock', 'id', ''), ('escalation_rules', 'root,rule', ''),
            ('notification_rules', 'event_type,audience', ''),
            ('notification_templates', 'kind,lang', ''), ('delivery_policy', 'channel', ''),
            ('delivery_quiet', 'id', ''), ('meeting_schedule', 'grid,kind', ''),
            ('departments', 'code', ''), ('person_roles', 'id', ''), ('households', 'id', ''),
            ('household_groups', 'id', ''), ('accounts', 'person', 'pw_hash'),
            ('kiosk_tokens', 'id', 'token_sha256'), ('account_totp', 'person', 'sealed'))
        AS x (tab, keys, secrets)
    LOOP
        EXECUTE format ('CREATE OR REPLACE TRIGGER %I AFTER INSERT ON %I FOR EACH ROW '
                        'EXECUTE FUNCTION gf_audit_row (%L, %L)',
                        t.tab || '_audit_ins', t.tab, t.keys, t.secrets);
        EXECUTE format ('CREATE OR REPLACE TRIGGER %I AFTER UPDATE ON %I FOR EACH ROW '
                        'WHEN (OLD.* IS DISTINCT FROM NEW.*) '
                        'EXECUTE FUNCTION gf_audit_row (%L, %L)',
                        t.tab || '_audit_upd', t.tab, t.keys, t.secrets);
        EXECUTE format ('CREATE OR REPLACE TRIGGER %I AFTER DELETE ON %I FOR EACH ROW '
                        'EXECUTE FUNCTION gf_audit_row (%L, %L)',
                        t.tab || '_audit_del', t.tab, t.keys, t.secrets);
    END LOOP;
END $$;

CREATE OR REPLACE TRIGGER deliveries_audit_redrive AFTER UPDATE ON deliveries FOR EACH ROW
    WHEN (OLD.state = 'dead' AND NEW.state <> 'dead')
    EXECUTE FUNCTION gf_audit_redrive ();

-- `gridctl audit [--since T]`: the trail from p_since (NULL: all), oldest
-- first, as text columns and each row as one JSON object.  SECURITY
-- INVOKER: only a member of gf_auditor may read audit_log.
CREATE OR REPLACE FUNCTION gf_audit_list (p_since timestamptz)
    RETURNS TABLE (id bigint, at text, who text, tab text, op text, object text,
                   change text, json text)
LANGUAGE sql STABLE AS $$
    SELECT a.id,
           to_char (a.at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS') || '+08:00',
           a.db_user || coalesce ('(' || a.db_role || ')', '')
               || coalesce (' os=' || a.os_user, '') || coalesce (' actor=' || a.actor, ''),
           a.tab, a.op, coalesce (a.object, ''),
           coalesce (a.before::text, '-') || ' -> ' || coalesce (a.after::text, '-'),
           to_jsonb (a)::text
      FROM audit_log a
     WHERE p_since IS NULL OR a.at >= p_since
     ORDER BY a.id
$$;
