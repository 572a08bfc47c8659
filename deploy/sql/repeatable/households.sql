-- households.sql — the household register (issue 15, migrations 029/030):
-- households per L3 grid, their special-group memberships over time, the
-- change log, and when a special household is next due a visit.  Staff-only
-- personal data: changes come through the intake (household.register,
-- household.group: services/intake/gf_intake_household.c) or an operator's
-- bulk import (gridctl household import, audited: audit.sql); the event a
-- change puts on the stream (household.changed) carries the household's
-- opaque id, its grid and the kind of change, never a name, an address or
-- a phone number.  docs/households.md describes the messages and codes.
-- Owns: gf_household_members_check, gf_household_apply, gf_household_import,
-- gf_visit_interval, gf_visit_period, gf_visit_last, gf_visit_due, gf_visit_due_set,
-- gf_visit_due_at, gf_visits_due,
-- gf_household_history.

-- NULL when members (a JSON array) holds only what the work needs: at most
-- 20 objects, each with a name and only the keys name, relation, phone,
-- note; else why not.
CREATE OR REPLACE FUNCTION gf_household_members_check (p_members jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN jsonb_typeof (p_members) <> 'array' THEN 'members must be a JSON array'
        WHEN jsonb_array_length (p_members) > 20 THEN 'at most 20 members'
        WHEN EXISTS (SELECT 1 FROM jsonb_array_elements (p_members) m
                      WHERE jsonb_typeof (m) <> 'object' OR coalesce (m->>'name', '') = ''
                         OR char_length (m->>'name') > 64
                         OR EXISTS (SELECT 1 FROM jsonb_object_keys (m) k
                                     WHERE k <> ALL (ARRAY['name', 'relation', 'phone', 'note'])))
            THEN 'each member is an object with a name (at most 64 characters) and only relation, phone, note'
    END
$$;

-- One household.register or household.group message, checked then applied
-- in the caller's transaction (nothing is written when err is set).
-- p_type: the message type; p_args: its keys (household, grid, address,
-- head_name, phone, members (JSON text), version; group, op (add|end),
-- from, to (YYYY-MM-DD), source).  p_identity: the sender's public key on
-- a CURVE endpoint, NULL on a plain one.  err: NULL, or the error code's
-- name (proto/gf_proto.h) with message; duplicate: the request was applied
-- before (version as then).
CREATE OR REPLACE FUNCTION gf_household_apply (p_type text, p_request text, p_actor text,
                                               p_identity text, p_args jsonb,
                                               OUT err text, OUT message text,
                                               OUT duplicate boolean, OUT household text,
                                               OUT version integer, OUT change text)
LANGUAGE plpgsql AS $$
DECLARE
    idn record;
    who record;
    done record;
    h record;
    g record;
    v_grid text := p_args->>'grid';
    v_expect integer := coalesce ((p_args->>'version')::integer, 0);
    v_members jsonb;
    v_from date;
    v_to date;
    v_group text := p_args->>'group';
    v_idgrid text;
BEGIN
    duplicate := false;
    household := p_args->>'household';
    IF coalesce (household, '') = '' THEN
        err := 'missing_field'; message := 'field ''household'' is required'; RETURN;
    END IF;
    IF p_identity IS NOT NULL THEN
        SELECT i.name, i.kind, i.grid, i.person, i.revoked_at IS NOT NULL AS revoked INTO idn
          FROM identities i WHERE i.public_key = p_identity;
        IF NOT FOUND THEN
            err := 'forbidden'; message := 'this client''s key is not a known identity'; RETURN;
        ELSIF idn.revoked THEN
            err := 'forbidden'; message := format ('identity %s is revoked', idn.name); RETURN;
        ELSIF idn.kind NOT IN ('staff', 'workbench') THEN
            err := 'forbidden'; message := format ('identity %s (%s) may not change the register', idn.name, idn.kind); RETURN;
        ELSIF idn.person IS NOT NULL AND idn.person <> p_actor THEN
            err := 'forbidden'; message := format ('identity %s may act only as %s', idn.name, idn.person); RETURN;
        END IF;
        v_idgrid := idn.grid;
    END IF;
    SELECT p.grid INTO who FROM people p WHERE p.id = p_actor;
    IF NOT FOUND THEN
        err := 'unknown_actor'; message := format ('actor ''%s'' is not in the directory', p_actor); RETURN;
    END IF;
    -- A resend answers as the first time.
    SELECT c.household, c.version, c.kind INTO done FROM household_changes c
     WHERE c.actor = p_actor AND c.request_id = p_request;
    IF FOUND THEN
        IF done.household <> household THEN
            err := 'bad_value';
            message := format ('request id ''%s'' of %s was already used for another household', p_request, p_actor);
            RETURN;
        END IF;
        duplicate := true; version := done.version; change := done.kind; RETURN;
    END IF;
    SELECT * INTO h FROM households x WHERE x.id = household FOR UPDATE;
    IF FOUND AND NOT (gf_in_subtree (h.grid, who.grid)
                      AND (v_idgrid IS NULL OR gf_in_subtree (h.grid, v_idgrid))) THEN
        err := 'forbidden'; message := format ('household %s is outside %s''s grid subtree', household, p_actor); RETURN;
    END IF;

    IF p_type = 'household.register' THEN
        IF NOT FOUND AND v_expect > 0 THEN
            err := 'unknown_household'; message := format ('no household %s', household); RETURN;
        ELSIF FOUND AND v_expect = 0 THEN
            err := 'conflict'; message := format ('household %s exists (version %s): an update names its version', household, h.version); RETURN;
        ELSIF FOUND AND v_expect <> h.version THEN
            err := 'conflict'; message := format ('household %s is at version %s, not %s', household, h.version, v_expect); RETURN;
        END IF;
        IF h.id IS NULL AND (v_grid IS NULL OR coalesce (p_args->>'address', '') = ''
                             OR coalesce (p_args->>'head_name', '') = '') THEN
            err := 'missing_field'; message := 'a new household needs ''grid'', ''address'' and ''head_name'''; RETURN;
        END IF;
        IF v_grid IS NOT NULL THEN
            SELECT * INTO g FROM grids x WHERE x.code = v_grid;
            IF NOT FOUND THEN
                err := 'unknown_grid'; message := format ('grid %s is not in the directory', v_grid); RETURN;
            ELSIF g.level <> 3 THEN
                err := 'bad_value'; message := format ('grid %s is not an L3 grid: households belong to L3 grids', v_grid); RETURN;
            ELSIF NOT (gf_in_subtree (v_grid, who.grid) AND (v_idgrid IS NULL OR gf_in_subtree (v_grid, v_idgrid))) THEN
                err := 'forbidden'; message := format ('grid %s is outside %s''s grid subtree', v_grid, p_actor); RETURN;
            END IF;
        END IF;
        IF p_args ? 'members' THEN
            BEGIN
                v_members := (p_args->>'members')::jsonb;
            EXCEPTION WHEN others THEN
                err := 'bad_value'; message := 'field ''members'' is not JSON'; RETURN;
            END;
            message := gf_household_members_check (v_members);
            IF message IS NOT NULL THEN
                err := 'bad_value'; RETURN;
            END IF;
        END IF;
        IF h.id IS NULL THEN
            INSERT INTO households (id, grid, address, head_name, phone, members, version, created_at, updated_at)
            VALUES (household, v_grid, p_args->>'address', p_args->>'head_name', p_args->>'phone',
                    coalesce (v_members, '[]'), 1, gf_now (), gf_now ())
            RETURNING * INTO h;
            change := 'created';
        ELSE
            UPDATE households x
               SET grid = coalesce (v_grid, x.grid), address = coalesce (p_args->>'address', x.address),
                   head_name = coalesce (p_args->>'head_name', x.head_name),
                   phone = CASE WHEN p_args ? 'phone' THEN nullif (p_args->>'phone', '') ELSE x.phone END,
                   members = coalesce (v_members, x.members), version = x.version + 1, updated_at = gf_now ()
             WHERE x.id = household RETURNING x.* INTO h;
            change := 'updated';
        END IF;
    ELSIF p_type = 'household.group' THEN
        IF NOT FOUND THEN
            err := 'unknown_household'; message := format ('no household %s', household); RETURN;
        ELSIF coalesce (v_group, '') = '' OR coalesce (p_args->>'op', '') = '' THEN
            err := 'missing_field'; message := 'household.group needs ''group'' and ''op'' (add or end)'; RETURN;
        ELSIF NOT EXISTS (SELECT 1 FROM special_groups s WHERE s.code = v_group) THEN
            err := 'bad_value';
            message := format ('unknown special group ''%s'' (%s)', v_group,
                               (SELECT string_agg (s.code, ', ' ORDER BY s.ord) FROM special_groups s));
            RETURN;
        END IF;
        BEGIN
            v_from := coalesce ((p_args->>'from')::date, (gf_now () AT TIME ZONE 'Asia/Shanghai')::date);
            v_to := coalesce ((p_args->>'to')::date, (gf_now () AT TIME ZONE 'Asia/Shanghai')::date);
        EXCEPTION WHEN others THEN
            err := 'bad_value'; message := 'fields ''from'' and ''to'' are dates (YYYY-MM-DD)'; RETURN;
        END;
        SELECT * INTO g FROM household_groups x WHERE x.household = h.id AND x.grp = v_group AND x.valid_to IS NULL;
        IF p_args->>'op' = 'add' THEN
            IF FOUND THEN
                err := 'conflict'; message := format ('household %s is in group %s since %s', household, v_group, g.valid_from); RETURN;
            END IF;
            INSERT INTO household_groups (household, grp, valid_from, source)
            VALUES (h.id, v_group, v_from, coalesce (nullif (p_args->>'source', ''), 'staff:' || p_actor));
            change := 'group_added';
        ELSIF p_args->>'op' = 'end' THEN
            IF NOT FOUND THEN
                err := 'bad_value'; message := format ('household %s is not in group %s', household, v_group); RETURN;
            ELSIF v_to <= g.valid_from THEN
                err := 'bad_value'; message := format ('end %s is not after the start %s', v_to, g.valid_from); RETURN;
            END IF;
            UPDATE household_groups x SET valid_to = v_to WHERE x.id = g.id;
            change := 'group_ended';
        ELSE
            err := 'bad_value'; message := format ('op ''%s'' is not add or end', p_args->>'op'); RETURN;
        END IF;
        UPDATE households x SET version = x.version + 1, updated_at = gf_now ()
         WHERE x.id = h.id RETURNING x.* INTO h;
    ELSE
        err := 'unknown_type'; message := format ('type ''%s'' is not a household message', p_type); RETURN;
    END IF;
    version := h.version;
    INSERT INTO household_changes (household, request_id, actor, kind, grp, version, at)
    VALUES (h.id, p_request, p_actor, change, CASE WHEN p_type = 'household.group' THEN v_group END,
            h.version, gf_now ());
    INSERT INTO event_stage (type, topic, grid, at, payload)
    VALUES ('household.changed', 'household.changed/' || h.grid, h.grid, gf_now (),
            jsonb_build_object ('household', h.id, 'change', change, 'version', h.version));
END
$$;

-- An operator's bulk import (gridctl household import): p_data
-- {households: [{id, grid, address, head_name, phone?, members?, groups?:
-- [{group, from?, source?}]}]}, p_actor 'gridctl:<user>'.  Creates new
-- households, updates changed ones (version + 1), leaves unchanged ones
-- untouched (members absent: kept as they are, e.g. from a CSV file); a listed household's groups become the listed ones (missing
-- ones added from `from`, default today; unlisted current ones ended
-- today).  Raises (nothing changed) on an unknown or non-L3 grid, an
-- unknown group or members the work does not need.  Every change is
-- logged and put on the stream as a household.changed event.
CREATE OR REPLACE FUNCTION gf_household_import (p_data jsonb, p_actor text,
                                                OUT created integer, OUT updated integer,
                                                OUT groups_added integer, OUT groups_ended integer)
LANGUAGE plpgsql AS $$
DECLARE
    x record;
    h record;
    m record;
    v_today date := (gf_now () AT TIME ZONE 'Asia/Shanghai')::date;
    v_kind text;
    v_why text;
    v_changes jsonb := '[]';
BEGIN
    created := 0; updated := 0; groups_added := 0; groups_ended := 0;
    FOR x IN SELECT * FROM jsonb_to_recordset (coalesce (p_data->'households', '[]'))
                        AS r (id text, grid text, address text, head_name text, phone text,
                              members jsonb, groups jsonb)
    LOOP
        IF NOT EXISTS (SELECT 1 FROM grids g WHERE g.code = x.grid AND g.level = 3) THEN
            RAISE EXCEPTION 'household %: grid % is not an L3 grid of the directory', x.id, x.grid
                USING ERRCODE = 'foreign_key_violation';
        END IF;
        v_why := gf_household_members_check (coalesce (x.members, '[]'));
        IF v_why IS NOT NULL THEN
            RAISE EXCEPTION 'household %: %', x.id, v_why USING ERRCODE = 'check_violation';
        END IF;
        v_kind := NULL;
        SELECT * INTO h FROM households WHERE id = x.id FOR UPDATE;
        IF NOT FOUND THEN
            INSERT INTO households (id, grid, address, head_name, phone, members, version, created_at, updated_at)
            VALUES (x.id, x.grid, x.address, x.head_name, x.phone, coalesce (x.members, '[]'), 1, gf_now (), gf_now ())
            RETURNING * INTO h;
            v_kind := 'created'; created := created + 1;
        ELSIF (h.grid, h.address, h.head_name, h.phone, h.members)
              IS DISTINCT FROM (x.grid, x.address, x.head_name, x.phone, coalesce (x.members, h.members)) THEN
            UPDATE households SET grid = x.grid, address = x.address, head_name = x.head_name, phone = x.phone,
                                  members = coalesce (x.members, h.members), version = version + 1, updated_at = gf_now ()
             WHERE id = x.id RETURNING * INTO h;
            v_kind := 'updated'; updated := updated + 1;
        END IF;
        IF v_kind IS NOT NULL THEN
            v_changes := v_changes || jsonb_build_object ('h', h.id, 'k', v_kind, 'g', NULL);
        END IF;
        FOR m IN SELECT * FROM jsonb_to_recordset (coalesce (x.groups, '[]'))
                            AS r ("group" text, "from" date, source text)
        LOOP
            IF NOT EXISTS (SELECT 1 FROM special_groups s WHERE s.code = m."group") THEN
                RAISE EXCEPTION 'household %: unknown special group %', x.id, m."group"
                    USING ERRCODE = 'foreign_key_violation';
            END IF;
            IF NOT EXISTS (SELECT 1 FROM household_groups hg
                            WHERE hg.household = h.id AND hg.grp = m."group" AND hg.valid_to IS NULL) THEN
                INSERT INTO household_groups (household, grp, valid_from, source)
                VALUES (h.id, m."group", coalesce (m."from", v_today), coalesce (m.source, p_actor));
                groups_added := groups_added + 1;
                v_changes := v_changes || jsonb_build_object ('h', h.id, 'k', 'group_added', 'g', m."group");
            END IF;
        END LOOP;
        FOR m IN UPDATE household_groups hg SET valid_to = greatest (v_today, hg.valid_from + 1)
                  WHERE hg.household = h.id AND hg.valid_to IS NULL
                    AND hg.grp <> ALL (SELECT r->>'group' FROM jsonb_array_elements (coalesce (x.groups, '[]')) r)
                 RETURNING hg.grp
        LOOP
            groups_ended := groups_ended + 1;
            v_changes := v_changes || jsonb_build_object ('h', h.id, 'k', 'group_ended', 'g', m.grp);
        END LOOP;
    END LOOP;
    -- One version step per group change too, as through the intake.
    FOR m IN SELECT c->>'h' AS h, c->>'k' AS k, c->>'g' AS g FROM jsonb_array_elements (v_changes) c
    LOOP
        IF m.k LIKE 'group_%' THEN
            UPDATE households SET version = version + 1, updated_at = gf_now () WHERE id = m.h;
        END IF;
        INSERT INTO household_changes (household, request_id, actor, kind, grp, version, at)
        SELECT m.h, NULL, p_actor, m.k, m.g, x2.version, gf_now () FROM households x2 WHERE x2.id = m.h;
        INSERT INTO event_stage (type, topic, grid, at, payload)
        SELECT 'household.changed', 'household.changed/' || x2.grid, x2.grid, gf_now (),
               jsonb_build_object ('household', x2.id, 'change', m.k, 'version', x2.version)
          FROM households x2 WHERE x2.id = m.h;
    END LOOP;
END
$$;

-- A visit_rules period as an interval (week, month, quarter, year).
CREATE OR REPLACE FUNCTION gf_visit_interval (p_period text) RETURNS interval
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_period WHEN 'week' THEN interval '7 days' WHEN 'month' THEN interval '1 month'
                         WHEN 'quarter' THEN interval '3 months' WHEN 'year' THEN interval '1 year' END
$$;

-- How often a household is visited now: the shortest period of its
-- current groups (the L1 root's rule, else the '*' default), with the
-- start of the newest current membership that has it; NULL: in no group.
CREATE OR REPLACE FUNCTION gf_visit_period (p_household text, p_on date DEFAULT NULL,
                                            OUT period text, OUT since date)
LANGUAGE sql STABLE AS $$
    SELECT r.period, max (hg.valid_from)
      FROM households h
      JOIN household_groups hg ON hg.household = h.id
      CROSS JOIN LATERAL (SELECT v.period FROM visit_rules v
                           WHERE v.grp = hg.grp AND v.root IN (split_part (h.grid, '.', 1), '*')
                           ORDER BY v.root = '*' LIMIT 1) r
     WHERE h.id = p_household
       AND hg.valid_from <= coalesce (p_on, (gf_now () AT TIME ZONE 'Asia/Shanghai')::date)
       AND (hg.valid_to IS NULL OR hg.valid_to > coalesce (p_on, (gf_now () AT TIME ZONE 'Asia/Shanghai')::date))
     GROUP BY r.period
     ORDER BY gf_visit_interval (r.period)
     LIMIT 1
$$;

-- The household's last visit (visits, patrols.sql's visit.logged) up to
-- now; NULL when never visited.
CREATE OR REPLACE FUNCTION gf_visit_last (p_household text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT max (done_at) FROM visits WHERE household = p_household AND done_at <= gf_now ()
$$;

-- The due rule, set-wise: the special households of p_grid's subtree (NULL:
-- every grid), or only p_household (NULL: all), as of the instant p_at —
-- their groups on p_at's local day, the shortest period of those groups
-- (visit_rules: the L1 root's, else '*'), since: the newest start of a
-- membership with that period, the last visit up to p_at, and due: the
-- later of the last visit and since, plus the period.  One row per
-- special household; gf_visit_due_at is the same for one.
CREATE OR REPLACE FUNCTION gf_visit_due_set (p_grid text, p_household text, p_at timestamptz)
RETURNS TABLE (household text, grid text, period text, since date, last_visit timestamptz, due date)
LANGUAGE sql STABLE AS $$
    WITH m AS (
        SELECT h.id, h.grid, hg.valid_from, r.period
          FROM households h
          JOIN household_groups hg ON hg.household = h.id
         CROSS JOIN LATERAL (SELECT v.period FROM visit_rules v
                              WHERE v.grp = hg.grp AND v.root IN (split_part (h.grid, '.', 1), '*')
                              ORDER BY v.root = '*' LIMIT 1) r
         WHERE (p_household IS NULL OR h.id = p_household)
           AND (p_grid IS NULL OR h.grid = p_grid
                OR (h.grid >= gf_subtree_lo (p_grid) AND h.grid < gf_subtree_hi (p_grid)))
           AND hg.valid_from <= (p_at AT TIME ZONE 'Asia/Shanghai')::date
           AND (hg.valid_to IS NULL OR hg.valid_to > (p_at AT TIME ZONE 'Asia/Shanghai')::date)
    ), p AS (
        SELECT DISTINCT ON (m.id) m.id, m.grid, m.period, max (m.valid_from) OVER (PARTITION BY m.id, m.period) AS since
          FROM m ORDER BY m.id, gf_visit_interval (m.period)
    )
    SELECT p.id, p.grid, p.period, p.since, l.last,
           (greatest ((l.last AT TIME ZONE 'Asia/Shanghai')::date, p.since) + gf_visit_interval (p.period))::date
      FROM p CROSS JOIN LATERAL (SELECT max (v.done_at) AS last FROM visits v
                                  WHERE v.household = p.id AND v.done_at <= p_at) l
$$;

-- When a special household's next visit is due as of an instant p_at (the
-- monthly report's month end; gf_visit_due: now); NULL: in no group then.
CREATE OR REPLACE FUNCTION gf_visit_due_at (p_household text, p_at timestamptz) RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT d.due FROM gf_visit_due_set (NULL, p_household, p_at) d
$$;

-- The date a special household's next visit is due (Asia/Shanghai dates):
-- the later of its last visit and the start of the membership that sets
-- its period, plus the shortest period of its current groups.  NULL: the
-- household is in no special group (no visit is due).
CREATE OR REPLACE FUNCTION gf_visit_due (p_household text) RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT gf_visit_due_at (p_household, gf_now ())
$$;

-- The special households of a grid subtree with their period, last visit
-- and due date, soonest first (gridctl household due; the L2 view).
CREATE OR REPLACE FUNCTION gf_visits_due (p_grid text)
RETURNS TABLE (household text, grid text, groups text[], period text, last_visit timestamptz,
               due date, overdue boolean)
LANGUAGE sql STABLE AS $$
    -- (set-wise: one pass of gf_visit_due_set, not the rule per household)
    SELECT d.household, d.grid,
           (SELECT array_agg (hg.grp ORDER BY hg.grp) FROM household_groups hg
             WHERE hg.household = d.household AND hg.valid_to IS NULL),
           d.period, d.last_visit, d.due,
           -- its due day has come: to be visited now (gf_visits_overdue, the reminders)
           d.due <= (gf_now () AT TIME ZONE 'Asia/Shanghai')::date
      FROM gf_visit_due_set (p_grid, NULL, gf_now ()) d
     ORDER BY 6, 1
$$;

-- A household's history: every change it took, in order, with the group
-- a membership change concerned (gridctl household history; the
-- memberships themselves with their start and end are household_groups).
CREATE OR REPLACE FUNCTION gf_household_history (p_household text)
RETURNS TABLE (at timestamptz, change text, grp text, actor text, version integer)
LANGUAGE sql STABLE AS $$
    SELECT c.at, c.kind, c.grp, c.actor, c.version FROM household_changes c
     WHERE c.household = p_household ORDER BY c.id
$$;
