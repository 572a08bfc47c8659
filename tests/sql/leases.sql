-- pgTAP: deploy/sql/repeatable/leases.sql — a lease is taken, renewed by its
-- holder, taken over at the next epoch only once it lapsed, and every
-- effect transaction's fence refuses an epoch that is not the current one
-- (or a lapsed lease).  Time is the database's clock, not the simulated one.
-- (Two sessions — a takeover skipping a lease row share-locked by a holder's
-- transaction — are exercised by tests/e2e/test_leases.sh.)
BEGIN;
SELECT plan (29);

SELECT results_eq ($$SELECT held, took, epoch, holder FROM gf_lease_take ('t.router', 'a:1', 60000)$$,
                   $$VALUES (true, true, 1::bigint, 'a:1')$$, 'the first look takes the lease at epoch 1');
SELECT results_eq ($$SELECT held, took, epoch, holder FROM gf_lease_take ('t.router', 'b:2', 60000)$$,
                   $$VALUES (false, false, 1::bigint, 'a:1')$$, 'a standby''s look while it is held: not taken');
SELECT results_eq ($$SELECT held, took, epoch FROM gf_lease_take ('t.router', 'a:1', 60000)$$,
                   $$VALUES (true, false, 1::bigint)$$, 'the holder''s look renews it at the same epoch');
SELECT ok ((SELECT expires_ms FROM gf_lease_take ('t.router', 'a:1', 60000)) BETWEEN 59000 AND 60000,
           'a renewal lasts the duration from now');
SELECT lives_ok ($$SELECT gf_lease_fence ('t.router', 1)$$, 'the fence passes at the current epoch');
SELECT throws_ok ($$SELECT gf_lease_fence ('t.router', 0)$$, 'GF409', NULL,
                  'the fence refuses another epoch');
SELECT throws_ok ($$SELECT gf_lease_fence ('t.none', 1)$$, 'GF409', NULL,
                  'the fence refuses a lease that does not exist');
SELECT results_eq ($$SELECT held, took, epoch FROM gf_lease_take ('escalator.root.QNL', 'a:1', 60000)$$,
                   $$VALUES (true, true, 1::bigint)$$,
                   'an escalator root''s lease (048): named by the root''s code, upper case');
SELECT throws_ok ($$SELECT gf_lease_take ('Escalator', 'a:1', 60000)$$, '23514', NULL,
                  'other names stay lower case');

-- The simulated clock moves business time, never a lease.
INSERT INTO sim_clock (at) VALUES ('2099-01-01 09:00+08')
    ON CONFLICT (id) DO UPDATE SET at = excluded.at;
SET LOCAL gridflow.sim_clock = 'on';
SELECT results_eq ($$SELECT held, epoch FROM gf_lease_take ('t.router', 'b:2', 60000)$$,
                   $$VALUES (false, 1::bigint)$$, 'a simulated clock in 2099 does not make a lease lapse');

-- Lapsing: renewed for 20 ms, then 50 ms pass (the database's clock_timestamp ()).
-- The look capped this session's idle_in_transaction_session_timeout at
-- 20 ms; the suite lifts it again, or a loaded machine's pause between two
-- of its statements ends the session.
DO $$BEGIN PERFORM gf_lease_take ('t.router', 'a:1', 20); PERFORM pg_sleep (0.05);
         PERFORM set_config ('idle_in_transaction_session_timeout', '0', false); END$$;
SELECT throws_ok ($$SELECT gf_lease_fence ('t.router', 1)$$, 'GF409', NULL,
                  'the fence refuses a lapsed lease, even at its epoch');
SELECT results_eq ($$SELECT held, took, epoch, holder FROM gf_lease_take ('t.router', 'b:2', 60000)$$,
                   $$VALUES (true, true, 2::bigint, 'b:2')$$, 'a lapsed lease is taken over at epoch + 1');
SELECT results_eq ($$SELECT held, took, epoch, holder FROM gf_lease_take ('t.router', 'a:1', 60000)$$,
                   $$VALUES (false, false, 2::bigint, 'b:2')$$, 'the old holder''s next look: not held (it stands by)');
SELECT throws_ok ($$SELECT gf_lease_fence ('t.router', 1)$$, 'GF409', NULL,
                  'the old holder''s fence refuses its effect transaction');
SELECT lives_ok ($$SELECT gf_lease_fence ('t.router', 2)$$, 'the new holder''s fence passes');

-- A holder whose lease lapsed with nobody taking it keeps its epoch.
DO $$BEGIN PERFORM gf_lease_take ('t.router', 'b:2', 20); PERFORM pg_sleep (0.05);
         PERFORM set_config ('idle_in_transaction_session_timeout', '0', false); END$$;
SELECT results_eq ($$SELECT held, took, epoch FROM gf_lease_take ('t.router', 'b:2', 60000)$$,
                   $$VALUES (true, false, 2::bigint)$$, 'lapsed but not taken: the holder renews at its epoch');

-- Heartbeats and status.
SELECT bag_eq ($$SELECT instance, holding, epoch FROM lease_instances WHERE name = 't.router'$$,
               $$VALUES ('a:1', false, 2::bigint), ('b:2', true, 2::bigint)$$,
               'each look is the instance''s heartbeat, holder and standby');
SELECT results_eq ($$SELECT holder, epoch, instance, holding FROM gf_lease_status () WHERE name = 't.router'$$,
                   $$VALUES ('b:2', 2::bigint, 'b:2', true), ('b:2', 2::bigint, 'a:1', false)$$,
                   'gf_lease_status: the holder first, then its standbys');
UPDATE lease_instances SET seen_at = clock_timestamp () - interval '2 hours' WHERE instance = 'a:1';
DO $$BEGIN PERFORM gf_lease_take ('t.router', 'b:2', 60000); END$$;
SELECT is ((SELECT count (*) FROM lease_instances WHERE name = 't.router'), 1::bigint,
           'an instance gone for an hour is forgotten');

-- A holder whose session is gone (crashed, killed) is taken over at once.
UPDATE leases SET backend = 0 WHERE name = 't.router';
SELECT results_eq ($$SELECT held, took, epoch, holder, expires_ms > 59000 FROM gf_lease_take ('t.router', 'c:3', 60000)$$,
                   $$VALUES (true, true, 3::bigint, 'c:3', true)$$,
                   'a holder whose session is gone: taken over before its lease lapsed');
SELECT results_eq ($$SELECT held, epoch FROM gf_lease_take ('t.router', 'b:2', 60000)$$,
                   $$VALUES (false, 3::bigint)$$, 'a holder whose session lives (this one): not taken over');
SELECT is ((SELECT backend FROM leases WHERE name = 't.router'), pg_backend_pid (),
           'the lease names its holder''s session');
UPDATE leases SET holder = 'b:2' WHERE name = 't.router';

-- A clean stop hands over at once.
SELECT is (gf_lease_release ('t.router', 'a:1'), false, 'a standby releases nothing');
SELECT is (gf_lease_release ('t.router', 'b:2'), true, 'the holder releases its lease');
SELECT results_eq ($$SELECT held, took, epoch FROM gf_lease_take ('t.router', 'a:1', 60000)$$,
                   $$VALUES (true, true, 4::bigint)$$, 'a released lease is taken at the next look');

-- The session's idle_in_transaction_session_timeout is capped at the lease.
SET LOCAL idle_in_transaction_session_timeout = '1min';
DO $$BEGIN PERFORM gf_lease_take ('t.router', 'a:1', 1500); END$$;
SELECT is (current_setting ('idle_in_transaction_session_timeout'), '1500ms',
           'a look caps idle_in_transaction_session_timeout at the lease duration');
SELECT throws_ok ($$SELECT * FROM gf_lease_take ('t.router', 'a:1', 0)$$, '22023', NULL,
                  'a lease of 0 ms is refused');

-- The roles that hold leases can (SECURITY INVOKER: their own privileges).
SET LOCAL ROLE gf_escalator;
SELECT results_eq ($$SELECT held, epoch FROM gf_lease_take ('t.escalator', 'e:1', 60000)$$,
                   $$VALUES (true, 1::bigint)$$, 'gf_escalator takes its lease');
SELECT lives_ok ($$SELECT gf_lease_fence ('t.escalator', 1)$$, 'gf_escalator''s fence');
RESET ROLE;

SELECT * FROM finish ();
ROLLBACK;
