-- 042_leases: the leases of the single-active roles (router, notifier,
-- escalator; issue 18 item 2, deploy/sql/repeatable/leases.sql,
-- docs/operations.md "Leases").  One row per role: who holds it, until when
-- (the database's clock_timestamp (), never the simulated gf_now ()), and
-- its epoch, raised at each takeover; every effect transaction of the role
-- checks its epoch (gf_lease_fence), so a holder that was paused past its
-- expiry and woke up after a standby took over cannot write.
CREATE TABLE leases (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_.-]{0,63}$'),
    holder      text NOT NULL,                      -- host:pid.tag of the holder, '' none yet
    backend     integer NOT NULL,                   -- the holder's pg_backend_pid (): its session
    epoch       bigint NOT NULL CHECK (epoch >= 0), -- raised at each takeover
    duration_ms integer NOT NULL CHECK (duration_ms > 0),
    expires_at  timestamptz NOT NULL,
    taken_at    timestamptz NOT NULL,               -- the current epoch's start
    renewed_at  timestamptz NOT NULL
);
-- Every instance that holds or waits for a lease, with its last look
-- (a standby's heartbeat, every third of the lease): `gridctl status`.
CREATE TABLE lease_instances (
    name      text NOT NULL,
    instance  text NOT NULL,
    holding   boolean NOT NULL,
    epoch     bigint NOT NULL, -- the lease's epoch at that look
    seen_at   timestamptz NOT NULL,
    PRIMARY KEY (name, instance)
);
