-- 017_vocabulary: the names people read, as data that gridctl, the dashboard
-- and Open311 read (instead of copies in C and JS).  Chinese for staff and
-- residents, English for operators.  case_state_names gains English names
-- and its order; event types and special groups get tables of their own.
-- (Categories already are one: `categories`, from the directory import.)

ALTER TABLE case_state_names
    ADD COLUMN name_en text,
    ADD COLUMN ord smallint;
UPDATE case_state_names s SET name_en = v.name_en, ord = v.ord
  FROM (VALUES ('registered', 'registered', 1), ('routed', 'routed', 2),
               ('unroutable', 'awaiting triage', 3), ('signed', 'signed for', 4),
               ('in_progress', 'in progress', 5), ('referred', 'referred', 6),
               ('replied', 'department replied', 7), ('resolved', 'resolved', 8),
               ('called_back', 'called back', 9), ('closed', 'closed', 10),
               ('reopened', 'reopened', 11), ('merged', 'merged', 12)) v (state, name_en, ord)
 WHERE s.state = v.state;
ALTER TABLE case_state_names
    ALTER COLUMN name_en SET NOT NULL,
    ALTER COLUMN ord SET NOT NULL;

-- What happened, as staff read it on timelines, ledgers and the dashboard.
CREATE TABLE event_types (
    type    text PRIMARY KEY,
    name    text NOT NULL,
    name_en text NOT NULL
);
INSERT INTO event_types (type, name, name_en) VALUES
    ('case.received', '受理登记', 'received'),
    ('case.routed', '分派网格', 'routed'),
    ('case.unroutable', '待分流', 'unroutable'),
    ('case.signed', '签收', 'signed for'),
    ('case.progress', '办理进展', 'progress'),
    ('case.referred', '转办', 'referred'),
    ('case.department_replied', '部门回复', 'department replied'),
    ('case.resolved', '办结', 'resolved'),
    ('case.callback', '回访', 'called back'),
    ('case.closed', '归档', 'closed'),
    ('case.reopened', '重办', 'reopened'),
    ('case.returned', '退单', 'returned'),
    ('case.assigned', '改派', 'reassigned'),
    ('case.merged', '合并', 'merged'),
    ('case.supervised', '督办', 'supervised'),
    ('case.classified', '分类', 'classified'),
    ('case.escalated', '升级', 'escalated'),
    ('notification.created', '通知网格长', 'notification'),
    ('meeting.held', '召开例会', 'meeting held'),
    ('ledger.published', '台账发布', 'ledger published'),
    ('sign.reminder', '签收提醒', 'sign-for reminder');

-- Special groups (重点人群) a case may carry; ord is their order in reports
-- (紧急 comes first, 一般 last).
CREATE TABLE special_groups (
    code    text PRIMARY KEY,
    name    text NOT NULL,
    name_en text NOT NULL,
    ord     smallint NOT NULL UNIQUE
);
INSERT INTO special_groups (code, name, name_en, ord) VALUES
    ('hardship', '困难户', 'hardship household', 2),
    ('petitioner', '上访户', 'petitioner', 3),
    ('bereaved', '失独家庭', 'bereaved family', 4),
    ('left_behind', '留守儿童家庭', 'left-behind children', 5),
    ('dibao', '低保', 'minimum living allowance', 6),
    ('disabled', '重残', 'severe disability', 7);
