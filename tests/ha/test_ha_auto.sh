#!/usr/bin/env bash
# Issue 18, automatic PostgreSQL failover with pg_auto_failover
# (deploy/pg-auto.sh): a monitor, a primary and a synchronous standby.  The
# services connect with a multi-host libpq string and
# target_session_attrs=read-write.  No manual step anywhere:
#   round 1: during a hotline feed the primary's postmaster is killed (-9):
#            its keeper reports it, the monitor fails over (or, when the
#            keeper's restart wins the race, the node recovers in place);
#   round 2: the primary node crashes (its keeper and PostgreSQL, -9): the
#            monitor fails over; the keeper is started again (as systemd
#            would) and the node rejoins;
#   round 3: during a third feed the primary's postmaster and all its
#            processes are frozen (SIGSTOP) and stay frozen until the
#            services have moved on, then woken (SIGCONT);
#   then:    the standby dies (its keeper and PostgreSQL, -9): the monitor
#            drops synchronous replication, so a COMMIT waits a bounded
#            time, never forever.
# Each time: the monitor promotes the standby, every service follows by
# itself, every acknowledged complaint is stored once (none lost, none
# doubled), and the time from the fault to the first acknowledgement after
# the outage is printed; the old primary rejoins as the standby by itself.
# The monitor's health checks are tuned for a test on one machine (see
# "tune" below and docs/operations.md).
# Uses its own three clusters under var/ha-auto/paf/, on this test's ports B+20..B+22,
# made fresh for the run and removed after it.  Run by make check-ha and once
# by make check.
# Its own clusters have no LOGIN users (deploy/pg.sh users makes them on the
# private cluster only): the services connect as the owner here.
export GF_TEST_AS_OWNER=1
source "$(dirname "$0")/../e2e/lib.sh"
export GF_PAF_PORT_MONITOR=$((PORT_BASE + 20)) GF_PAF_PORT_A=$((PORT_BASE + 21)) GF_PAF_PORT_B=$((PORT_BASE + 22))
# Under var/ha-auto/paf/, not var/paf/: a `make run-ha` cluster is left alone.
PA_VAR=$ROOT/var/ha-auto
PA() { GF_VAR=$PA_VAR "$ROOT/deploy/pg-auto.sh" "$@"; }
trap 'stop_all; PA destroy >/dev/null 2>&1' EXIT

PA destroy >/dev/null 2>&1
started=$SECONDS
if ! PA start >"$ART/pg-auto.log" 2>&1; then
  not_ok "monitor, primary and standby set up (see pg-auto.log and var/paf/log)"
  exit 1
fi
note "monitor, primary and standby made in $((SECONDS - started)) s"
# Tuned for one machine: a health check each second, 1 s to answer, one
# retry after 0.5 s; a node whose keeper has not reported for 3 s and
# that fails its health check is unhealthy; a primary that does not confirm
# its demotion is taken as demoted after 3 s (default 30 s: the time a
# partitioned primary's keeper needs to demote itself; here the old primary
# cannot acknowledge a COMMIT anyway, its synchronous standby is gone).
PA tune health_check_period=1000 health_check_timeout=1000 health_check_max_retries=1 \
  health_check_retry_delay=500 node_considered_unhealthy_timeout=3000 primary_demote_timeout=3000

state() { PA psql monitor -d pg_auto_failover -tAc \
  "SELECT string_agg(nodename || ':' || reportedstate, ' ' ORDER BY nodename) FROM pgautofailover.node"; }
state_is() { [ "$(state)" == "$1" ]; }
# sync_of NODE: the standbys the node's COMMITs wait for, and their state.
sync_of() { PA psql "$1" -d postgres -tAc \
  "SELECT current_setting('synchronous_standby_names') || '|' || coalesce(string_agg(sync_state, ','), '') FROM pg_stat_replication"; }
wait_for "a primary, b its synchronous standby" 30 state_is "a:primary b:secondary"
check "a's COMMITs wait for b (quorum of one)" "ANY 1 (pgautofailover_standby_2)|quorum" "$(sync_of a)"

PA psql a -d postgres -q -c "CREATE DATABASE gft_ha_auto" >/dev/null
export GF_DB="$(PA conninfo gft_ha_auto)"
migrate_db
# A frozen primary answers nothing: the services give up on a statement
# after db/response_timeout and reconnect (to whichever node accepts writes).
export GF_DB_RESPONSE_TIMEOUT_MS=5000
start_stack --metrics

# acked_lost ACKS FEED: how many acknowledged records (lines of FEED named
# in ACKS, tests/tools via gf-hotline --acks) have no stored case; their ids
# in $ART/lost.txt.
acked_lost() {
  awk 'NR == FNR {acked[$2] = 1; next} (FNR in acked)' "$1" "$2" |
    jq -r .call_id | LC_ALL=C sort -u >"$ART/acked.txt"
  sql "SELECT source_ref FROM cases ORDER BY 1" | LC_ALL=C sort >"$ART/stored.txt"
  LC_ALL=C comm -23 "$ART/acked.txt" "$ART/stored.txt" >"$ART/lost.txt"
  wc -l <"$ART/lost.txt"
}
# outage ACKS T0: ms from T0 (unix ms) to the acknowledgement that ends the
# longest pause in ACKS after T0 (the first ack the new primary gave), and
# that pause.
outage() {
  awk -v t0="$2" '$1 >= t0 - 200 { if (prev && $1 - prev > gap) { gap = $1 - prev; end = $1 } prev = $1 }
    END { printf "%d ms (acknowledgements paused %d ms)", end - t0, gap }' "$1"
}
now_ms() { date +%s%3N; }

# lost_report NAME T0: "#" lines: the acknowledgements (ms after T0) of the
# records acked_lost found missing (kept in lost-NAME.txt), and the
# monitor's last 40 events (kept in events-NAME.txt).
lost_report() {
  mv "$ART/lost.txt" "$ART/lost-$1.txt"
  awk -v t0="$2" 'NR == FNR {lost[$0] = 1; next} FILENAME ~ /jsonl$/ {
      if (match($0, /"call_id":"[^"]*"/)) { id = substr($0, RSTART + 11, RLENGTH - 12); if (id in lost) want[FNR] = 1 } next }
      ($2 in want) {print $1 - t0}' "$ART/lost-$1.txt" "$ART/feed-$1.jsonl" "$ART/acks-$1.txt" |
    sort -n | awk '{a[NR] = $1} END {if (NR) printf "# %s: the lost were acknowledged %d..%d ms after the fault\n", name, a[1], a[NR]}' name="$1"
  PA psql monitor -d pg_auto_failover -tAc "SELECT eventtime, nodename, reportedstate, goalstate,
      reportedlsn, description FROM pgautofailover.event ORDER BY eventid DESC LIMIT 40" \
    >"$ART/events-$1.txt" 2>&1
  sed 's/^/# monitor: /' "$ART/events-$1.txt" | cut -c1-220 | tac
}

# round NAME FAULT COUNT: feed COUNT records; once some are stored, apply
# FAULT (kill or freeze) to the current primary; wait for the standby to be
# promoted and the feed to end; check nothing acknowledged was lost.
TOTAL=0
round() {
  local name=$1 fault=$2 count=$3 old new pm t0 p
  gen_hotline "$count" "$((count + ${#name}))" --prefix "HL-$name" >"$ART/feed-$name.jsonl" 2>/dev/null
  # --backoff 1000: resend an `unavailable` record at least every second
  # (default up to 10 s), so that the time to the first new ack measures
  # the failover, not the adapter's back-off.
  "$BIN/gf-hotline" --window 16 --timeout 1000 --attempts 300 --backoff 1000 --acks "$ART/acks-$name.txt" \
    "$ART/feed-$name.jsonl" >"$ART/feed-$name.out" 2>"$ART/feed-$name.err" &
  local feed=$!
  wait_for "$name: a third of the feed stored" 60 sql_eq \
    "SELECT count(*) >= $((count / 3)) FROM cases WHERE source_ref LIKE 'HL-$name%'" t
  old=$(PA primary)
  pm=$(PA pid "$old")
  t0=$(now_ms)
  case $fault in
    kill) kill -9 "$pm" ;;
    crash) kill -9 -- "-$(PA keeper-pid "$old")" ;; # the keeper's process group: keeper and PostgreSQL
    freeze)
      kill -STOP "$pm"
      for p in $(pgrep -P "$pm"); do kill -STOP "$p"; done
      ;;
  esac
  note "$name: $fault of $old ($([ "$fault" == crash ] && echo "its keeper and PostgreSQL" || echo "postmaster $pm"))"
  # A killed postmaster alone: its keeper reports it and restarts it; the
  # monitor fails over unless the restart wins the race (both happen).
  # A crashed node or a frozen one: only the monitor can help.
  moved() { p=$(PA primary) && [ -n "$p" ] && [ "$p" != "$old" ]; }
  settled_now() { state_is "a:primary b:secondary" || state_is "a:secondary b:primary"; }
  new=""
  if [ "$fault" != kill ] && wait_for "$name: a new primary" 60 moved; then
    new=$(PA primary)
    ok "$name: $new promoted by the monitor $(($(now_ms) - t0)) ms after the $fault, no manual step"
  fi
  if ! timeout 120 tail --pid="$feed" -f /dev/null; then
    not_ok "$name: feed still running 120 s after the $fault (intake stuck?)"
    kill -TERM "$feed"
  fi
  wait "$feed"
  check "$name: adapter: every record acknowledged, none rejected or failed" "$count 0 0" \
    "$(awk -F'[ ,]+' '{print $2 + $4, $6, $8}' "$ART/feed-$name.out")"
  note "$name: $fault to the first new acknowledgement: $(outage "$ART/acks-$name.txt" "$t0")"
  # The requests cut by the fault were answered `unavailable` (outcome
  # unknown, resend), never acknowledged and lost, never left hanging.
  local resent
  resent=$(sed -n "s/.*: \([0-9]*\) answers were 'unavailable'.*/\1/p" "$ART/feed-$name.err")
  if [ "${resent:-0}" -gt 0 ]; then ok "$name: $resent answers 'unavailable' during the failover, each resent"
  else not_ok "$name: no 'unavailable' answer: was anything in flight?"; fi
  local lost
  lost=$(acked_lost "$ART/acks-$name.txt" "$ART/feed-$name.jsonl")
  check "$name: no acknowledged complaint lost" 0 "$lost"
  # For whoever reads a failure: when the lost ones were acknowledged
  # (ms after the fault), and what the monitor did meanwhile.
  [ "$lost" -eq 0 ] || lost_report "$name" "$t0"
  if [ "$fault" == freeze ]; then
    # Still frozen: every service must reach the new primary without it
    # (a connection to a frozen server hears nothing, not even a reset:
    # db/response_timeout drops it).
    if wait_for "$name: pipeline to drain while $old is still frozen" 60 quiescent; then
      ok "$name: router and notifier caught up on the new primary while $old is frozen"
    fi
    if wait_for "$name: relay to publish the head while $old is frozen" 30 relay_at_head; then
      ok "$name: relay publishing from the new primary while $old is frozen"
    fi
    for p in $(pgrep -P "$pm"); do kill -CONT "$p"; done
    kill -CONT "$pm"
    note "$name: $old woken"
  fi
  TOTAL=$((TOTAL + count))
  # A crashed node comes back when its keeper is started again (at boot,
  # by systemd); it then rejoins as a standby (pg_rewind where needed) by
  # itself, as the killed and the frozen ones do.
  [ "$fault" == crash ] && PA start-node "$old"
  if wait_for "$name: $old back as the synchronous standby" 90 settled_now; then
    if [ "$fault" == kill ]; then
      # Decided by now: failed over, or recovered in place (the keeper
      # restarted PostgreSQL before the monitor acted).
      new=$(PA primary)
      if [ "$new" != "$old" ]; then ok "$name: $new promoted by the monitor, no manual step; $old rejoined as the standby"
      else ok "$name: $old recovered in place (its keeper restarted PostgreSQL before the monitor failed over), no manual step"; fi
    else
      ok "$name: $old rejoined as the standby"
    fi
  fi
}

round kill kill 500
wait_for "pipeline to drain after the kill" 60 quiescent
# Each service reconnects by itself; an idle one (the relay, when nothing is
# left to publish) only at its next back-off step, which can come after the
# pipeline drained: wait for it to be ready, as test_ha_failover does.
for s in relay intake router notifier; do
  wait_for "$s ready again" 45 health_is "${MPORT[$s]}" 200
  check_reconnected "$s"
done
round crash crash 500
round freeze freeze 500

wait_for "pipeline to drain" 60 quiescent
check_effects_once "$TOTAL"
check_notification_fanout
# The relay publishes a moment after the last commit (its wake-up follows
# it): wait for it, as test_ops_status does, then compare.
wait_for "the relay to publish up to the head" 15 relay_at_head
check "relay published up to the head" "$(sql "SELECT max(seq) FROM case_events")" \
  "$(metric "${MPORT[relay]}" gf_relay_head_seq)"

# The standby dies: the monitor drops synchronous replication (wait_primary)
# and a COMMIT on the primary waits a bounded time: the intake answers
# `unavailable` within its deadline while the primary still waits for the
# standby, and acknowledges again once the monitor has dropped it.
primary=$(PA primary)
standby=$(if [ "$primary" == a ]; then echo b; else echo a; fi)
quorum() { [ "$(sync_of "$primary" | cut -d'|' -f2)" == quorum ]; }
wait_for "$standby streaming as a synchronous standby" 30 quorum
kill -9 -- "-$(PA keeper-pid "$standby")"
t0=$(now_ms)
longest=0 answer=""
for i in $(seq 1 60); do
  sent=$(now_ms)
  answer=$("$TOOLS/intake_probe" "$GF_INTAKE" HL-standby-dead 10000 2>>"$ART/probe.err")
  took=$(($(now_ms) - sent))
  [ $took -gt $longest ] && longest=$took
  echo "$(($(now_ms) - t0)) $answer" >>"$ART/probe.out"
  [ "${answer%% *}" == ok ] && break
  sleep 0.2
done
note "standby $standby killed: acknowledged again after $(($(now_ms) - t0)) ms; longest wait for an answer $longest ms"
check "a complaint is acknowledged while the standby is dead" ok "${answer%% *}"
if [ $longest -le 4000 ]; then ok "every answer within the intake's deadline (longest $longest ms)"
else not_ok "an answer took $longest ms"; fi
alone() { [ "$(state | tr ' ' '\n' | grep "^$primary:")" == "$primary:wait_primary" ]; }
wait_for "the primary to run alone (wait_primary)" 30 alone
check "the primary waits for no standby" "|" "$(sync_of "$primary")"
check "the complaint stored once" 1 "$(sql "SELECT count(*) FROM cases WHERE source_ref = 'HL-standby-dead'")"

destroy_clusters() {
  PA destroy >/dev/null 2>&1
  rmdir "$PA_VAR" 2>/dev/null
  [ -d "$PA_VAR" ] && not_ok "$PA_VAR left behind"
}
finish destroy_clusters
