-- referrals.sql — 代访 (issue 14, part 5): departments as directory
-- entities and the referral record of every `refer` action (migration 026,
-- docs/referrals.md): its report, deadline, the department's receipt and
-- reply, the lateness reminder and the escalation to L2 when late.
-- Whatever applies a refer or a reply (a staff case.action through the
-- intake, a meeting decision of kind 'refer') writes its case_actions row;
-- the trigger below makes the referral record of it, so every path gets one.
-- Owns: gf_department_upsert, gf_department_import, gf_department_usable,
-- gf_referral_deadline, gf_referral_on_action, gf_referral_set_deadline,
-- gf_referral_receipt, gf_referrals_overdue, gf_referral_list,
-- gf_case_action_actor_check.

-- A case action's actor is a person of the directory or a department (026
-- replaced the foreign key to people): the same SQLSTATE as the key.
CREATE OR REPLACE FUNCTION gf_case_action_actor_check () RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM people WHERE id = NEW.actor)
       AND NOT EXISTS (SELECT 1 FROM departments WHERE code = NEW.actor) THEN
        RAISE EXCEPTION 'case action actor % is neither a person nor a department', NEW.actor
              USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER case_actions_actor_known BEFORE INSERT OR UPDATE OF actor
    ON case_actions FOR EACH ROW EXECUTE FUNCTION gf_case_action_actor_check ();

-- `gridctl department add` and each row of `import`: insert or update one
-- department.  p_days NULL: the referral_reply rule's working_days.
CREATE OR REPLACE FUNCTION gf_department_upsert (p_code text, p_name text, p_contact text,
                                                 p_phone text, p_root text, p_days integer)
    RETURNS text
LANGUAGE sql AS $$
    INSERT INTO departments (code, name, contact, phone, root, reply_working_days)
    VALUES (p_code, p_name, nullif (p_contact, ''), nullif (p_phone, ''),
            coalesce (nullif (p_root, ''), '*'), p_days)
    ON CONFLICT (code) DO UPDATE
       SET name = excluded.name, contact = excluded.contact, phone = excluded.phone,
           root = excluded.root, reply_working_days = excluded.reply_working_days
    RETURNING code
$$;

-- `gridctl department import FILE`: a JSON array of {code, name, contact,
-- phone, root, reply_working_days}; all or nothing.  Returns how many.
CREATE OR REPLACE FUNCTION gf_department_import (p_rows jsonb) RETURNS integer
LANGUAGE sql AS $$
    SELECT count (gf_department_upsert (r->>'code', r->>'name', r->>'contact', r->>'phone',
                                        r->>'root', (r->>'reply_working_days')::int))::int
      FROM jsonb_array_elements (p_rows) r
$$;

-- Whether a department may be referred to from a case of L1 grid p_root.
CREATE OR REPLACE FUNCTION gf_department_usable (p_code text, p_root text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM departments WHERE code = p_code AND root IN ('*', p_root))
$$;

-- The reply deadline of a referral made at p_at: the department's working
-- days, else the referral_reply rule's (default 3), on the statutory
-- working calendar (gf_add_working_days: same time of day).
CREATE OR REPLACE FUNCTION gf_referral_deadline (p_department text, p_root text,
                                                 p_at timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT gf_add_working_days (p_at, coalesce (
               (SELECT reply_working_days FROM departments WHERE code = p_department),
               (gf_rule (p_root, 'referral_reply')->>'working_days')::int, 3))
$$;

-- The referral record of a refer or reply, whoever applied it: a refer
-- opens a referral to the case's department (set by the same action) with
-- its report (the note: what was taken), referred_by/at and the deadline;
-- a reply is recorded on the open referral.  An unknown department fails
-- the action (foreign key): callers check first (gf_department_usable) to
-- answer unknown_department.
CREATE OR REPLACE FUNCTION gf_referral_on_action () RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_case cases%ROWTYPE;
BEGIN
    IF NEW.action = 'refer' THEN
        SELECT * INTO v_case FROM cases WHERE id = NEW.case_id;
        INSERT INTO referrals (case_id, action_id, department, referred_by, referred_at, report,
                               deadline)
        VALUES (NEW.case_id, NEW.id, v_case.department, NEW.actor, NEW.at,
                coalesce (NEW.note, ''),
                gf_referral_deadline (v_case.department, v_case.root, NEW.at));
    ELSIF NEW.action = 'reply' THEN
        UPDATE referrals SET replied_at = NEW.at, reply = NEW.note, replied_by = NEW.actor,
               reply_action_id = NEW.id
         WHERE case_id = NEW.case_id AND replied_at IS NULL;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER case_actions_referral AFTER INSERT ON case_actions FOR EACH ROW
    WHEN (NEW.action IN ('refer', 'reply')) EXECUTE FUNCTION gf_referral_on_action ();

-- An explicit deadline for the case's open referral (a refer action's
-- `deadline`, a meeting decision's).  Returns whether there was one.
CREATE OR REPLACE FUNCTION gf_referral_set_deadline (p_case bigint, p_deadline timestamptz)
    RETURNS boolean
LANGUAGE sql AS $$
    WITH u AS (
        UPDATE referrals SET deadline = p_deadline, deadline_explicit = true
         WHERE case_id = p_case AND replied_at IS NULL RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM u)
$$;

-- The department's receipt (送达有签收) of the case's open referral, as a
-- case action 'receipt' (the state stays 'referred'): the case's version,
-- its case_actions row, the referral's receipt and the referral.received
-- event (department, contact, received_at, via).  p_via 'department' (the
-- department's own identity, p_recorded_by its name) or 'leader' (the grid
-- leader records the contact's name and time, p_recorded_by the person).
-- Refuses (SQLSTATE GF001 with the reason) when the case has no open
-- referral or it was signed for already.  Returns the new version.
CREATE OR REPLACE FUNCTION gf_referral_receipt (p_case bigint, p_request text, p_actor text,
                                                p_contact text, p_received_at timestamptz,
                                                p_via text, p_recorded_by text)
    RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    r referrals%ROWTYPE;
    v_version integer;
    v_grid text;
    v_action bigint;
    v_at timestamptz := coalesce (p_received_at, gf_now ());
BEGIN
    SELECT * INTO r FROM referrals WHERE case_id = p_case AND replied_at IS NULL FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'case % has no open referral', p_case USING ERRCODE = 'GF001';
    ELSIF r.received_at IS NOT NULL THEN
        RAISE EXCEPTION 'the referral of case % was signed for by % already', p_case,
              r.received_by USING ERRCODE = 'GF001';
    ELSIF v_at < r.referred_at OR v_at > gf_now () THEN
        RAISE EXCEPTION 'receipt time must be between the referral and now' USING ERRCODE = 'GF002';
    END IF;
    UPDATE cases SET version = version + 1, updated_at = gf_now () WHERE id = p_case
    RETURNING version, grid INTO v_version, v_grid;
    INSERT INTO case_actions (case_id, request_id, actor, action, from_state, to_state, version,
                              note, at)
    VALUES (p_case, p_request, p_actor, 'receipt', 'referred', 'referred', v_version,
            p_contact, gf_now ())
    RETURNING id INTO v_action;
    UPDATE referrals SET received_at = v_at, received_by = p_contact, receipt_via = p_via,
           receipt_recorded_by = p_recorded_by, receipt_action_id = v_action
     WHERE id = r.id;
    -- The contact's name is a department official's, not a resident's.
    INSERT INTO event_stage (type, topic, case_id, grid, at, payload)
    VALUES ('referral.received', 'referral.received/' || v_grid, p_case, v_grid, gf_now (),
            jsonb_build_object ('action', 'receipt', 'actor', p_actor, 'version', v_version,
                                'department', r.department, 'contact', p_contact,
                                'received_at', to_char (v_at AT TIME ZONE 'Asia/Shanghai',
                                                        'YYYY-MM-DD"T"HH24:MI:SS') || '+08:00',
                                'via', p_via,
                                'l2', (SELECT parent FROM grids WHERE code = v_grid)));
    RETURN v_version;
END
$$;

-- The escalator's every-tick referral step (moved here from escalation.sql,
-- same name and call): every open referral past its deadline gets one
-- reminder (referral.overdue to whom notification_rules say: the grid's
-- leader; key the refer action, so once per referral; the notifier holds it
-- through quiet hours) and one referral.late event; one past its deadline
-- by the referral_reply rule's l2_after_working_days working days is
-- escalated to L2 (rule 'referral_l2', gf_escalate_many: once per case).
-- Returns reminders sent plus cases escalated.  p_roots: only the cases of
-- these L1 roots (an escalator instance's share; NULL: every root).
DROP FUNCTION IF EXISTS gf_referrals_overdue ();
CREATE OR REPLACE FUNCTION gf_referrals_overdue (p_roots text[] DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_now timestamptz := gf_now ();
    v_sent integer;
    v_moved integer;
BEGIN
    WITH due AS (
        UPDATE referrals r SET reminded_at = v_now
          FROM cases c, departments d
         WHERE r.replied_at IS NULL AND r.reminded_at IS NULL AND r.deadline <= v_now
           AND c.id = r.case_id AND d.code = r.department AND c.state = 'referred'
           AND (p_roots IS NULL OR c.root = ANY (p_roots))
        RETURNING r.case_id, r.action_id, r.deadline, c.grid, d.code, d.name
    ), ev AS (
        INSERT INTO event_stage (type, topic, case_id, grid, at, payload)
        SELECT 'referral.late', 'referral.late/' || due.grid, due.case_id, due.grid, v_now,
               jsonb_build_object ('department', due.code, 'deadline',
                                   to_char (due.deadline AT TIME ZONE 'Asia/Shanghai',
                                            'YYYY-MM-DD"T"HH24:MI:SS') || '+08:00',
                                   'l2', (SELECT parent FROM grids WHERE code = due.grid))
          FROM due
    )
    SELECT coalesce (gf_notify_many ('escalator', jsonb_agg (jsonb_build_object (
               'case_id', case_id, 'type', 'referral.overdue', 'grid', grid,
               'key', action_id::text, 'extra', name))), 0)
      INTO v_sent FROM due;

    WITH late AS (
        UPDATE referrals r SET escalated_at = v_now
          FROM cases c, departments d
         WHERE r.replied_at IS NULL AND r.escalated_at IS NULL AND r.deadline <= v_now
           AND c.id = r.case_id AND d.code = r.department AND c.state = 'referred'
           AND (p_roots IS NULL OR c.root = ANY (p_roots))
           AND (gf_rule (c.root, 'referral_reply')->>'l2_after_working_days') IS NOT NULL
           AND gf_add_working_days (r.deadline,
                   (gf_rule (c.root, 'referral_reply')->>'l2_after_working_days')::int) <= v_now
        RETURNING r.case_id, r.deadline, c.level, d.name
    )
    SELECT gf_escalate_many ('referral_l2', NULL, 2::smallint,
                             array_agg (case_id ORDER BY case_id),
                             array_agg (format ('转办%s逾期未回复（期限 %s）', name,
                                                to_char (deadline AT TIME ZONE 'Asia/Shanghai',
                                                         'MM-DD HH24:MI'))
                                        ORDER BY case_id))
      INTO v_moved FROM late WHERE level > 2;
    RETURN v_sent + coalesce (v_moved, 0);
END
$$;

-- A case's referrals for `gridctl case show` and the archive: report,
-- receipt, deadline, reply, lateness, as text (local time).
CREATE OR REPLACE FUNCTION gf_referral_list (p_case bigint)
    RETURNS TABLE (id bigint, department text, department_name text, referred_by text,
                   referred_at text, report text, deadline text, received_at text,
                   received_by text, receipt_via text, receipt_recorded_by text,
                   replied_at text, reply text, replied_by text, reminded_at text,
                   escalated_at text)
LANGUAGE sql STABLE AS $$
    SELECT r.id, r.department, d.name, r.referred_by,
           to_char (r.referred_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS'),
           r.report,
           to_char (r.deadline AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS'),
           to_char (r.received_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS'),
           r.received_by, r.receipt_via, r.receipt_recorded_by,
           to_char (r.replied_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS'),
           r.reply, r.replied_by,
           to_char (r.reminded_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS'),
           to_char (r.escalated_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS')
      FROM referrals r JOIN departments d ON d.code = r.department
     WHERE r.case_id = p_case ORDER BY r.id
$$;
