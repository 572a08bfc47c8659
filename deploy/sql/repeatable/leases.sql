-- leases.sql — leases and fencing of the single-active roles (router,
-- notifier, escalator: common/gf_lease.c; migration 042; docs/operations.md
-- "Leases").  Time here is the database's clock_timestamp (): a lease is
-- about processes, not business time, so the simulated gf_now () (which
-- `gridctl clock` moves by days) must never make one lapse or last.
-- Owns: gf_lease_take, gf_lease_fence, gf_lease_release, gf_lease_status.

-- One look of instance p_instance at lease p_name lasting p_ms: renews it
-- when p_instance holds it (same epoch, even if it lapsed meanwhile: nobody
-- took it, so nobody wrote), takes it over at epoch + 1 when it lapsed or
-- when the holder's session is gone (a holder that crashed or was killed:
-- its connection closed, so it cannot be in an effect transaction, and any
-- new session of it is refused by the fence), else leaves it.  A frozen
-- holder keeps its session: its lease must lapse.  A lease row locked by a holder's effect transaction in
-- flight (gf_lease_fence: FOR KEY SHARE) or by another standby's takeover is
-- skipped, never waited for: a standby never blocks behind a paused holder.
-- The look is also the instance's heartbeat (lease_instances), and it caps
-- this session's idle_in_transaction_session_timeout at p_ms, so that a
-- holder paused inside a transaction loses it (and its locks) within the
-- lease time.  Call it outside a transaction (autocommit).
CREATE OR REPLACE FUNCTION gf_lease_take (p_name text, p_instance text, p_ms integer)
RETURNS TABLE (held boolean, took boolean, epoch bigint, holder text, expires_ms bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_now timestamptz := clock_timestamp ();
    v_row leases%ROWTYPE;
    v_idle integer;
BEGIN
    IF p_ms IS NULL OR p_ms < 1 THEN
        RAISE EXCEPTION 'lease duration must be positive, got %', p_ms USING ERRCODE = '22023';
    END IF;
    SELECT s.setting::integer INTO v_idle
      FROM pg_settings s WHERE s.name = 'idle_in_transaction_session_timeout';
    IF v_idle = 0 OR v_idle > p_ms THEN
        PERFORM set_config ('idle_in_transaction_session_timeout', p_ms::text, false);
    END IF;
    INSERT INTO leases (name, holder, backend, epoch, duration_ms, expires_at, taken_at, renewed_at)
        VALUES (p_name, '', 0, 0, p_ms, '-infinity', v_now, v_now)
        ON CONFLICT (name) DO NOTHING;
    took := false;
    UPDATE leases l SET expires_at = v_now + p_ms * interval '1 millisecond', renewed_at = v_now,
                        duration_ms = p_ms, backend = pg_backend_pid ()
     WHERE l.name = p_name AND l.holder = p_instance
    RETURNING l.* INTO v_row;
    IF NOT FOUND THEN
        PERFORM 1 FROM leases l
          WHERE l.name = p_name
            AND (l.expires_at <= v_now
                 OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = l.backend))
            FOR UPDATE OF l SKIP LOCKED;
        IF FOUND THEN
            UPDATE leases l SET holder = p_instance, backend = pg_backend_pid (),
                                epoch = l.epoch + 1, duration_ms = p_ms,
                                expires_at = v_now + p_ms * interval '1 millisecond',
                                taken_at = v_now, renewed_at = v_now
             WHERE l.name = p_name
            RETURNING l.* INTO v_row;
            took := true;
        ELSE
            SELECT * INTO v_row FROM leases l WHERE l.name = p_name;
        END IF;
    END IF;
    held := v_row.holder = p_instance;
    INSERT INTO lease_instances AS i (name, instance, holding, epoch, seen_at)
        VALUES (p_name, p_instance, held, v_row.epoch, v_now)
        ON CONFLICT (name, instance) DO UPDATE
        SET holding = excluded.holding, epoch = excluded.epoch, seen_at = excluded.seen_at;
    -- Instances gone for an hour (restarted under another pid) are forgotten.
    DELETE FROM lease_instances i WHERE i.name = p_name AND i.seen_at < v_now - interval '1 hour';
    epoch := v_row.epoch;
    holder := v_row.holder;
    expires_ms := greatest (0, (extract (epoch FROM v_row.expires_at - v_now) * 1000)::bigint);
    RETURN NEXT;
END
$$;

-- The fence: the first statement of each effect transaction of a lease
-- holder.  It succeeds only while lease p_name is still at epoch p_epoch and
-- unexpired, and then keeps the row share-locked (FOR KEY SHARE) until the
-- transaction ends: a takeover (FOR UPDATE) cannot happen in between, and an
-- effect transaction cannot start after one.  A holder that was paused and
-- woke up after a standby took over gets SQLSTATE GF409 and writes nothing.
CREATE OR REPLACE FUNCTION gf_lease_fence (p_name text, p_epoch bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM leases l
      WHERE l.name = p_name AND l.epoch = p_epoch AND l.expires_at > clock_timestamp ()
        FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'lease % is no longer held at epoch %', p_name, p_epoch
            USING ERRCODE = 'GF409', HINT = 'a standby took over: this instance stands by';
    END IF;
END
$$;

-- A clean stop: the holder gives the lease up (it lapses now, the epoch
-- stays) so that a standby takes it at its next look; its heartbeat row goes.
CREATE OR REPLACE FUNCTION gf_lease_release (p_name text, p_instance text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_released boolean;
BEGIN
    UPDATE leases l SET expires_at = clock_timestamp ()
     WHERE l.name = p_name AND l.holder = p_instance AND l.expires_at > clock_timestamp ();
    v_released := FOUND;
    DELETE FROM lease_instances i WHERE i.name = p_name AND i.instance = p_instance;
    RETURN v_released;
END
$$;

-- Each lease with its holder and each instance seen within three lease
-- durations (the holder's row first): `gridctl status`.
CREATE OR REPLACE FUNCTION gf_lease_status ()
RETURNS TABLE (name text, holder text, epoch bigint, duration_ms integer, expires_ms bigint,
               instance text, holding boolean, seen_ms bigint)
LANGUAGE sql AS $$
    SELECT l.name, l.holder, l.epoch, l.duration_ms,
           (extract (epoch FROM l.expires_at - clock_timestamp ()) * 1000)::bigint,
           i.instance, coalesce (i.instance = l.holder, false),
           (extract (epoch FROM clock_timestamp () - i.seen_at) * 1000)::bigint
      FROM leases l
      LEFT JOIN lease_instances i
        ON i.name = l.name
       AND i.seen_at > clock_timestamp () - 3 * l.duration_ms * interval '1 millisecond'
     ORDER BY l.name, i.instance = l.holder DESC NULLS LAST, i.instance
$$;
