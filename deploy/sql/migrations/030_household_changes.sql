-- 030_household_changes: the household register's change log (issue 15).
-- One row per change the register took — a household.register or
-- household.group message through the intake (once per (actor, request
-- id): a resend is a duplicate, not a second effect) or a bulk import by
-- an operator (request_id NULL, actor 'gridctl:<user>') — with the kind of
-- change and the household's version after it.  `gridctl household
-- history` reads it with the memberships (household_groups).  The event a
-- change puts on the stream (household.changed) names the household by
-- its opaque id and the kind only.
CREATE TABLE household_changes (
    id         bigserial PRIMARY KEY,
    household  text NOT NULL REFERENCES households (id),
    request_id text,
    actor      text NOT NULL,
    kind       text NOT NULL CHECK (kind = ANY (ARRAY['created', 'updated', 'group_added', 'group_ended'])),
    grp        text REFERENCES special_groups (code),
    version    integer NOT NULL,
    at         timestamptz NOT NULL,
    UNIQUE (actor, request_id)
);
CREATE INDEX household_changes_household ON household_changes (household, id);

INSERT INTO event_types (type, name, name_en) VALUES
    ('household.changed', '户籍登记变更', 'household register changed')
ON CONFLICT (type) DO NOTHING;
