-- 027_indicators: the indicators offices are judged by (issue 14, What to
-- build 7; repeatable/indicators.sql computes them).
--
-- The resolution deadline (办理时限) is data: working days on the statutory
-- calendar (gf_add_working_days) from receipt, per L1 grid, category and
-- priority, each '*' for any.  priority: 'urgent', a special group's code
-- (special_groups) or 'general' (neither urgent nor in a group).  A case
-- takes the most specific row (root, then category, then priority) for each
-- of its priorities, and the shortest of those (gf_resolution_due).  Until
-- now the monthly report's deadline was 5 working days for every case, a
-- constant in gridctl: that is the '*' default here.
CREATE TABLE resolution_deadlines (
    root text NOT NULL,
    category text NOT NULL,
    priority text NOT NULL,
    working_days integer NOT NULL CHECK (working_days BETWEEN 0 AND 365),
    PRIMARY KEY (root, category, priority)
);
INSERT INTO resolution_deadlines (root, category, priority, working_days) VALUES ('*', '*', '*', 5);

-- The assessment (考核) of an L1 grid's units, '*' the default: a unit (L2
-- grid, L3 grid, leader) is ranked only with at least min_sample cases in
-- the month; its score is the weighted mean of its rates (weights by key:
-- response, resolution, on_time, satisfaction; a rate without cases is left
-- out of the mean).
CREATE TABLE indicator_rules (
    root text PRIMARY KEY,
    min_sample integer NOT NULL CHECK (min_sample >= 1),
    weights jsonb NOT NULL CHECK (jsonb_typeof (weights) = 'object')
);
INSERT INTO indicator_rules (root, min_sample, weights) VALUES
    ('*', 5, '{"response": 0.2, "resolution": 0.3, "on_time": 0.2, "satisfaction": 0.3}');
