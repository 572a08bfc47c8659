-- 002_lifecycle: the full case lifecycle (登记 → 分派 → 签收 → 办理 → [转办/代访 →
-- 部门回复] → 办结 → 回访 → 归档 | 重办), staff actions, priority and special groups.

ALTER TABLE cases DROP CONSTRAINT cases_state_check;
ALTER TABLE cases ADD CONSTRAINT cases_state_check CHECK (state IN (
    'registered', 'routed', 'unroutable', 'signed', 'in_progress', 'referred', 'replied',
    'resolved', 'called_back', 'closed', 'reopened', 'merged'));

ALTER TABLE cases
    ADD COLUMN groups        text[] NOT NULL DEFAULT '{}',     -- special groups (困难户 ...)
    ADD COLUMN reporter      text REFERENCES people (id),      -- staff who recorded it (patrol, visit)
    ADD COLUMN household     text,
    ADD COLUMN supervised    boolean NOT NULL DEFAULT false,   -- 督办
    ADD COLUMN merged_into   bigint REFERENCES cases (id),
    ADD COLUMN returned_from text[] NOT NULL DEFAULT '{}',     -- grids that returned it (退单)
    ADD COLUMN department    text,                             -- referred to (转办/代访)
    ADD COLUMN satisfied     boolean,                          -- last callback's answer
    ADD COLUMN reopen_count  integer NOT NULL DEFAULT 0,
    ADD COLUMN signed_at     timestamptz,
    ADD COLUMN resolved_at   timestamptz,
    ADD COLUMN closed_at     timestamptz,
    ADD COLUMN updated_at    timestamptz;
ALTER TABLE cases ADD CONSTRAINT cases_groups_known CHECK (groups <@ ARRAY[
    'hardship', 'petitioner', 'bereaved', 'left_behind', 'dibao', 'disabled']);
CREATE INDEX cases_state ON cases (state);
CREATE INDEX cases_merged_into ON cases (merged_into) WHERE merged_into IS NOT NULL;

-- Every staff action: who, when, why; (actor, request_id) makes a resent
-- request answer with its first result instead of acting twice.
CREATE TABLE case_actions (
    id         bigserial PRIMARY KEY,
    case_id    bigint NOT NULL REFERENCES cases (id),
    request_id text NOT NULL,
    actor      text NOT NULL REFERENCES people (id),
    action     text NOT NULL,
    from_state text NOT NULL,
    to_state   text NOT NULL,
    version    integer NOT NULL,   -- the case's version after the action
    note       text,
    at         timestamptz NOT NULL,
    UNIQUE (actor, request_id)
);
CREATE INDEX case_actions_case ON case_actions (case_id);

-- Chinese names for people reading ledgers, lists and timelines.
CREATE TABLE case_state_names (
    state text PRIMARY KEY,
    name  text NOT NULL
);
INSERT INTO case_state_names VALUES
    ('registered', '已登记'), ('routed', '已分派'), ('unroutable', '待分流'),
    ('signed', '已签收'), ('in_progress', '办理中'), ('referred', '已转办'),
    ('replied', '部门已回复'), ('resolved', '已办结'), ('called_back', '已回访'),
    ('closed', '已归档'), ('reopened', '重办'), ('merged', '已合并');
