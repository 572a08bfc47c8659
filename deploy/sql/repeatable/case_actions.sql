-- case_actions.sql — staff actions on a case (services/intake/gf_intake_action.c):
-- applying a step the lifecycle decided, its case_actions record and its event.
-- The lifecycle itself (which action is allowed in which state, the state
-- after it, its event type) is common/gf_case.c's: these functions apply
-- what it decided and check nothing of it.
-- Owns: gf_case_act.

-- Applies one staff action to a case the caller has locked (SELECT ... FOR
-- UPDATE) and checked (rights, version, transition, targets), in one call:
--   1. the case: state p_to, version + 1, updated_at, and the columns the
--      action changes (assign: grid, routed_at; return: grid back to the
--      root, the grid it leaves appended to returned_from; resolve/reopen:
--      tier, resolved_at; classify: tier (only while not resolved), urgent,
--      groups (comma-separated; '' clears), category (p_category, a known
--      code: the caller checked it); reject: rejected_reason (p_reason);
--      unreject: rejected_reason cleared, routed_at (the grid's sign-for
--      clock starts again); supervise; refer: department;
--      callback/reopen: satisfied; merge: merged_into; reopen: reopen_count;
--      sign: signed_at; close: closed_at);
--   2. its case_actions row (p_request: the request id, unique per actor)
--      and its event p_event, on topic p_event || '/' || the event's grid:
--      p_event_grid, or when NULL the case's grid after the change (the
--      lifecycle announces a returned case to the grid that returned it);
--      the payload has action, actor, from, to, version, note (redacted:
--      gf_redact_text, with the caller's name), l2 (the event grid's parent) and the action's own
--      keys (refer: department; callback: satisfied; assign: grid, via;
--      merge: into; supervise: supervised; classify: tier, urgent, category
--      as after the change; reject: reason); restricted (staff only, never published) has the clear
--      note when redaction changed it and a classification's groups;
--   3. the cases merged into it that follow it: the lifecycle's 'follow'
--      step (common/gf_case.c), passed by the caller only when they follow
--      (this case resolved): those in a p_follow_from state move to
--      p_follow_to (resolved: tier resolved, resolved_at), each with its
--      p_follow_event naming this case in 'follows'.  NULL: none follow;
--   4. p_repoint (the lifecycle's gf_case_merged_repoint: a merge): the
--      cases merged into this one are re-pointed to p_into, each with a
--      p_event naming p_into in 'into' and this case in 'via' (merges stay
--      one level deep, so they follow p_into when it is resolved).
-- Times come from gf_now () (the simulated clock when one is set), read once.
-- Returns the case's new version.  Any error leaves nothing (the caller's
-- transaction is rolled back).
CREATE OR REPLACE FUNCTION gf_case_act (p_case bigint, p_request text, p_actor text,
                                        p_action text, p_from text, p_to text, p_event text,
                                        p_event_grid text, p_note text, p_grid text,
                                        p_tier text, p_urgent boolean, p_groups text,
                                        p_department text, p_satisfied boolean, p_into bigint,
                                        p_follow_from text[] DEFAULT NULL,
                                        p_follow_to text DEFAULT NULL,
                                        p_follow_event text DEFAULT NULL,
                                        p_repoint boolean DEFAULT false,
                                        p_category text DEFAULT NULL,
                                        p_reason text DEFAULT NULL)
    RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_version integer;
    v_grid text;
    v_tier text;
    v_urgent boolean;
    v_groups text[];
    v_name text;
    v_note text;
    v_event_grid text;
    v_category text;
    v_now timestamptz := gf_now ();  -- read once, not once per use
BEGIN
    UPDATE cases SET state = p_to, version = version + 1, updated_at = v_now,
           grid = CASE p_action WHEN 'assign' THEN p_grid WHEN 'return' THEN root ELSE grid END,
           returned_from = CASE p_action WHEN 'return' THEN returned_from || grid
                                         ELSE returned_from END,
           tier = CASE WHEN p_action = 'resolve' THEN 'resolved'
                       WHEN p_action = 'reopen' THEN 'pending'
                       WHEN p_action = 'classify' AND p_tier IS NOT NULL
                            AND NOT gf_case_resolved (state) THEN p_tier
                       ELSE tier END,
           urgent = CASE WHEN p_action = 'classify' AND p_urgent IS NOT NULL THEN p_urgent
                         ELSE urgent END,
           category = CASE WHEN p_action = 'classify' AND p_category IS NOT NULL THEN p_category
                           ELSE category END,
           rejected_reason = CASE p_action WHEN 'reject' THEN p_reason WHEN 'unreject' THEN NULL
                                           ELSE rejected_reason END,
           groups = CASE WHEN p_action = 'classify' AND p_groups IS NOT NULL
                         THEN coalesce (string_to_array (nullif (p_groups, ''), ','), '{}')
                         ELSE groups END,
           supervised = supervised OR p_action = 'supervise',
           department = CASE p_action WHEN 'refer' THEN p_department ELSE department END,
           satisfied = CASE p_action WHEN 'callback' THEN p_satisfied WHEN 'reopen' THEN NULL
                                     ELSE satisfied END,
           merged_into = CASE p_action WHEN 'merge' THEN p_into ELSE merged_into END,
           reopen_count = reopen_count + CASE p_action WHEN 'reopen' THEN 1 ELSE 0 END,
           signed_at = CASE p_action WHEN 'sign' THEN v_now ELSE signed_at END,
           routed_at = CASE WHEN p_action IN ('assign', 'unreject') THEN v_now
                            ELSE routed_at END,
           resolved_at = CASE p_action WHEN 'resolve' THEN v_now
                                       WHEN 'reopen' THEN NULL ELSE resolved_at END,
           closed_at = CASE p_action WHEN 'close' THEN v_now ELSE closed_at END
     WHERE id = p_case
    RETURNING version, grid, tier, urgent, groups, name, category
         INTO v_version, v_grid, v_tier, v_urgent, v_groups, v_name, v_category;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'gf_case_act: no case %', p_case USING ERRCODE = 'no_data_found';
    END IF;

    v_event_grid := coalesce (p_event_grid, v_grid);
    -- the note as it may travel: redacted, the caller's name too
    v_note := gf_redact_text (p_note, v_name);
    INSERT INTO case_actions (case_id, request_id, actor, action, from_state, to_state, version,
                              note, at)
    VALUES (p_case, p_request, p_actor, p_action, p_from, p_to, v_version, p_note, v_now);
    -- The payload travels on the stream: the note redacted (gf_redact_text),
    -- no special groups.  What only staff may see (the clear note when the
    -- redaction changed it, a classification's groups) goes to restricted.
    INSERT INTO event_stage (type, topic, case_id, grid, at, payload, restricted)
    VALUES (p_event, p_event || '/' || v_event_grid, p_case, v_event_grid, v_now,
            jsonb_build_object ('action', p_action, 'actor', p_actor, 'from', p_from, 'to', p_to,
                                'version', v_version, 'note', v_note,
                                'l2', (SELECT parent FROM grids WHERE code = v_event_grid))
            || CASE p_action
                   WHEN 'refer' THEN jsonb_build_object ('department', p_department)
                   WHEN 'callback' THEN jsonb_build_object ('satisfied', coalesce (p_satisfied, false))
                   WHEN 'assign' THEN jsonb_build_object ('grid', p_grid, 'via', 'assign')
                   WHEN 'merge' THEN jsonb_build_object ('into', p_into)
                   WHEN 'supervise' THEN jsonb_build_object ('supervised', true)
                   WHEN 'classify' THEN jsonb_build_object ('tier', v_tier, 'urgent', v_urgent,
                                                            'category', v_category)
                   WHEN 'reject' THEN jsonb_build_object ('reason', p_reason)
                   ELSE '{}'::jsonb
               END,
            nullif (jsonb_strip_nulls (jsonb_build_object (
                        'note', CASE WHEN v_note IS DISTINCT FROM p_note THEN p_note END,
                        -- an array, as in case.received's
                        'groups', CASE WHEN p_action = 'classify' THEN to_jsonb (v_groups) END)),
                    '{}'::jsonb));

    -- The cases merged into this one follow it when the lifecycle says so.
    IF p_follow_to IS NOT NULL THEN
        WITH f AS (
            UPDATE cases c SET state = p_follow_to, version = c.version + 1, updated_at = v_now,
                   tier = CASE WHEN gf_case_resolved (p_follow_to) THEN 'resolved' ELSE c.tier END,
                   resolved_at = CASE WHEN gf_case_resolved (p_follow_to) THEN v_now
                                      ELSE c.resolved_at END
              FROM cases o  -- the row before the update: its state is the step's 'from'
             WHERE o.id = c.id AND c.merged_into = p_case AND c.state = ANY (p_follow_from)
            RETURNING c.id, c.grid, c.version, o.state AS from_state
        )
        INSERT INTO event_stage (type, topic, case_id, grid, at, payload)
        SELECT p_follow_event, p_follow_event || '/' || f.grid, f.id, f.grid, v_now,
               jsonb_build_object ('action', p_action, 'actor', p_actor, 'from', f.from_state,
                                   'to', p_follow_to, 'version', f.version,
                                   'note', v_note,
                                   'follows', p_case)
          FROM f;
    END IF;
    -- Merges are one level deep: the cases merged into this one go with it.
    IF p_repoint AND p_into IS NOT NULL THEN
        WITH r AS (
            UPDATE cases c SET merged_into = p_into, version = c.version + 1,
                   updated_at = v_now
             WHERE c.merged_into = p_case AND c.state = 'merged'
            RETURNING c.id, c.grid, c.version
        )
        INSERT INTO event_stage (type, topic, case_id, grid, at, payload)
        SELECT p_event, p_event || '/' || r.grid, r.id, r.grid, v_now,
               jsonb_build_object ('action', p_action, 'actor', p_actor, 'from', 'merged',
                                   'to', 'merged', 'version', r.version, 'note', p_note,
                                   'into', p_into, 'via', p_case,
                                   'l2', (SELECT parent FROM grids WHERE code = r.grid))
          FROM r;
    END IF;
    RETURN v_version;
END
$$;
