#!/usr/bin/env bash
# Issue 8, PostgreSQL high availability: a primary and a synchronous standby
# (deploy/pg-ha.sh, PostgreSQL's own streaming replication).  The services
# connect with a multi-host libpq string and target_session_attrs=read-write.
# In the middle of a hotline feed the primary crashes (pg_ctl stop -m
# immediate) and the standby is promoted: every service follows on its own,
# every acknowledged complaint is stored once, routed once, notified once,
# and the relay's sequence stays dense.  Before that, with the standby frozen:
# a resend that finds a complaint committed on the primary only is not
# acknowledged until the standby has it.
# Uses its own two clusters under var/ha/, on this test's ports B+7 and B+8,
# made fresh for the run and removed after it.
# Run by make check-ha, and once by make check (about 1 min, 2 under load).
# Its own clusters have no LOGIN users (deploy/pg.sh users makes them on the
# private cluster only): the services connect as the owner here.
export GF_TEST_AS_OWNER=1
source "$(dirname "$0")/../e2e/lib.sh"
export GF_PGPORT_A=$((PORT_BASE + 7)) GF_PGPORT_B=$((PORT_BASE + 8))
HA() { "$ROOT/deploy/pg-ha.sh" "$@"; }
trap 'stop_all; HA destroy >/dev/null 2>&1' EXIT

HA destroy >/dev/null 2>&1
started=$SECONDS
if ! HA init >"$ART/pg-ha.log" 2>&1; then not_ok "primary and standby set up (see pg-ha.log)"; exit 1; fi
note "primary and standby made in $((SECONDS - started)) s"
# The standby reports 'async' until its first reply to the primary: wait for it.
replication() { HA psql a -d postgres -tAc "SELECT application_name || '|' || sync_state FROM pg_stat_replication"; }
replication_is() { [ "$(replication)" == "$1" ]; }
wait_for "b to be a synchronous standby" 20 replication_is "b|sync"
check "node a is the primary, b a synchronous standby" "b|sync" "$(replication)"
HA psql a -d postgres -q -c "CREATE DATABASE gft_ha" >/dev/null
export GF_DB="$(HA conninfo gft_ha)"
migrate_db
# Metrics on B+3..B+6 (no escalator: B+7 and B+8 are the clusters').
start_stack --metrics

# --- a duplicate is answered only once what it found is on the standby -----
# The crash window: a COMMIT that reached a's WAL but not b (b frozen here:
# a's COMMIT waits for it, the intake cancels at its deadline and answers
# `unavailable`, the transaction committed locally).  A resend finds the
# case; a transaction that only read commits without waiting for any
# standby, so before the fix the resend was acknowledged `duplicate` at
# once, and a failover to b then lost an acknowledged complaint (seen in
# test_ha_auto).  Now its COMMIT waits for b as a write's does.
b_signal() {
  local pm; pm=$(head -1 "$ROOT/var/ha/b/postmaster.pid")
  kill "-$1" "$pm" $(pgrep -P "$pm")
}
b_signal STOP
first=$("$TOOLS/intake_probe" "$GF_INTAKE" HL-HA-DURABLE 10000 2>>"$ART/probe.err")
check "b frozen: a complaint is answered unavailable (committed on a only)" unavailable "${first%% *}"
check "... and is on a" 1 "$(sql "SELECT count(*) FROM cases WHERE source_ref = 'HL-HA-DURABLE'")"
resent=$("$TOOLS/intake_probe" "$GF_INTAKE" HL-HA-DURABLE 10000 2>>"$ART/probe.err")
check "b frozen: its resend, which finds it, is not acknowledged before b has it" unavailable "${resent%% *}"
b_signal CONT
wait_for "b to be a synchronous standby again" 20 replication_is "b|sync"
resent=$("$TOOLS/intake_probe" "$GF_INTAKE" HL-HA-DURABLE 10000 2>>"$ART/probe.err")
check "b back: the resend is acknowledged as the duplicate it is" "ok duplicate" "$(cut -d' ' -f1,3 <<<"$resent")"
check "... and the case is on b" 1 "$(HA psql b -d gft_ha -tAc "SELECT count(*) FROM cases WHERE source_ref = 'HL-HA-DURABLE'")"

gen_hotline 1200 88 --prefix HL-HA >"$ART/feed.jsonl" 2>"$ART/feed.summary"
run_feed --window 16 --timeout 1000 --attempts 300 &
FEED=$!

wait_for "some cases" 60 more_than cases 300
# Every case committed on a before the crash: with a synchronous standby each
# of them is on b too (with an asynchronous one the newest could be lost, and
# the adapter, already answered, would not resend them).
HA psql a -d gft_ha -tAc "SELECT source_ref FROM cases ORDER BY 1" >"$ART/committed-on-a.txt"
HA stop-node a immediate
down_at=$SECONDS
committed=$(wc -l <"$ART/committed-on-a.txt")
if [ "$committed" -ge 300 ]; then ok "$committed cases committed on a when it crashed"; else not_ok "only $committed cases on a"; fi
for s in relay intake router notifier; do
  wait_for "$s to notice" 15 health_is "${MPORT[$s]}" 503 && ok "$s not ready while there is no primary"
done
HA promote b
note "standby b promoted $((SECONDS - down_at)) s after the crash"
check "node b is now the primary" "f" "$(HA psql b -d postgres -tAc "SELECT pg_is_in_recovery()")"
for s in relay intake router notifier; do
  if wait_for "$s ready again" 45 health_is "${MPORT[$s]}" 200; then
    ok "$s follows the new primary by itself"
  else
    note "$s /healthz: $(curl -s "http://127.0.0.1:${MPORT[$s]}/healthz")"
  fi
  check_reconnected "$s"
done
note "services ready $((SECONDS - down_at)) s after the crash"

wait "$FEED"
note "feed done $((SECONDS - down_at)) s after the crash: $(cat "$ART/feed.out")"
# A COMMIT cut by the crash is answered `unavailable` and resent; if it had
# reached b it is then answered `duplicate`.
check "adapter: every record acknowledged (accepted + duplicate), none rejected or failed" "1200 0 0" \
  "$(awk -F'[ ,]+' '{print $2 + $4, $6, $8}' "$ART/feed.out")"
wait_for "pipeline to drain" 60 quiescent
check "the data is on node b" "$(sql "SELECT inet_server_port()")" "$(HA psql b -d postgres -tAc "SHOW port")"
check_effects_once 1201
check "every case committed on a before the crash is on b" "" \
  "$(sql "SELECT source_ref FROM cases ORDER BY 1" | LC_ALL=C comm -23 "$ART/committed-on-a.txt" -)"
check_notification_fanout
# The relay publishes a moment after the last commit (its wake-up follows
# it): wait for it, as test_ops_status does, then compare.
wait_for "the relay to publish up to the head" 15 relay_at_head
check "relay published up to the head" "$(sql "SELECT max(seq) FROM case_events")" \
  "$(metric "${MPORT[relay]}" gf_relay_head_seq)"
# finish, and remove the two clusters (finish clears the EXIT trap).
destroy_clusters() {
  HA destroy >/dev/null 2>&1
  [ -d "$ROOT/var/ha" ] && not_ok "var/ha left behind"
}
finish destroy_clusters
