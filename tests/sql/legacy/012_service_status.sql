-- 012: service heartbeats for `gridctl status` (docs/operations.md).
-- Every long-running service upserts its row every service/status ms
-- (default 5 s) from its own connection: version, start time, readiness
-- and a snapshot of its counters.  A row not refreshed for three periods
-- belongs to a stopped or stuck instance; stopped_at is set on a clean stop.
CREATE TABLE service_status (
    service    text NOT NULL,                -- gf-intake, gf-relay, ...
    instance   text NOT NULL,                -- host:pid
    host       text NOT NULL,
    pid        integer NOT NULL,
    version    text NOT NULL,
    started_at timestamptz NOT NULL,
    seen_at    timestamptz NOT NULL,
    interval_ms integer NOT NULL,            -- heartbeat period
    ready      boolean NOT NULL,
    metrics    jsonb NOT NULL DEFAULT '{}',  -- counters and gauges, "name{labels}": value
    stopped_at timestamptz,
    PRIMARY KEY (service, instance)
);
