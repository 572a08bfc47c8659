-- 019_escalation_rule_names: the names of the escalation rules an
-- escalation is recorded under (escalations.rule), as data like the other
-- vocabularies of 017, for the dashboard (and reports) instead of copies in
-- JS and C.  Chinese for staff, English for operators; ord is their order in
-- reports.
CREATE TABLE escalation_rule_names (
    rule    text PRIMARY KEY,
    name    text NOT NULL,
    name_en text NOT NULL,
    ord     smallint NOT NULL UNIQUE
);
INSERT INTO escalation_rule_names (rule, name, name_en, ord) VALUES
    ('weekly_l2', '周例会升级至二级网格', 'weekly meeting, to L2', 1),
    ('monthly_l1', '月例会升级至一级网格', 'monthly meeting, to L1', 2),
    ('urgent_l2', '紧急升级至二级网格', 'urgent, to L2', 3),
    ('urgent_l1', '紧急升级至一级网格', 'urgent, to L1', 4);
