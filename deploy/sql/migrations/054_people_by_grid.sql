-- 054_people_by_grid: the people of a grid in a role, by index (issue 17,
-- item 4 "only the indexes a query needs").  It serves gf_notify_many's
-- recipients (notify.sql): a grid's members, an L1 grid's triage staff, a
-- grid's leader, for every notice of the notifier and the escalator.
-- Without it each call read and hashed the whole of people (6,000 rows in
-- a county: 1.5 ms of a notifier's step for one event).  people_one_leader
-- (grid, leaders only) stays: it is the one-leader-per-grid rule.
CREATE INDEX IF NOT EXISTS people_grid_role ON people (grid, role);
