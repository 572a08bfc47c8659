#!/usr/bin/env bash
# Nemeses (issue 18, item 6): while complaints (hotline feeds through the
# intake), staff actions (gridctl case sign/resolve) and the escalator's
# meetings (the simulated clock moved a working day each round) run, one
# nemesis at a time, then the end-of-run invariants of tests/chaos after
# each: every acknowledged complaint stored once, every effect exactly once
# (one case per record, routed once, notifications = notification.created,
# SMS delivered once by dedupe key, staff actions and meetings once), the
# log dense 1..max(seq), a subscriber's stream equal to the log (and in a
# partition round the partitioned host's subscriber's too).
#
#   pause      SIGSTOP, hold, SIGCONT: router, notifier, relay, intake in turn
#              (the leased roles' standby takes over; the woken holder is
#              fenced and stands by)
#   fds        a service's file descriptors exhausted (prlimit --nofile on
#              the running intake and notifier, then its database session
#              ended, so it must open a socket), then given back
#   skew       router, notifier and escalator restarted under libfaketime
#              (faketime) hours ahead / behind and made the lease holders,
#              while the clock moves to a meeting slot
#   disk       PostgreSQL's disk full: the database lives in a tablespace on
#              a small loop filesystem (root), filled until writes fail
#              (the intake answers `unavailable`, the adapter resends), freed
#   partition  the router holding the lease, in a network namespace (gfnm-*)
#              reaching PostgreSQL over TCP across a veth pair, cut from the
#              database by an nft drop rule (root), then healed; a second
#              intake on that host, fed by an adapter there, cut with it;
#              a subscriber there (gridctl watch, to the relay's PUB and
#              replay sockets across the veth pair) cut from the relay by
#              the same rule: it sees nothing while cut, and once healed
#              catches up by itself (gap detection, replay)
#   failover   (make nemesis only; alone: NEMESIS_LIST=failover) the
#              database on a pg_auto_failover formation (deploy/pg-auto.sh):
#              the primary crashes (keeper and PostgreSQL, -9), the monitor
#              promotes the standby, the node rejoins; then the standby the
#              monitor chose crashes, the primary goes on alone, it rejoins
# A nemesis that cannot be made here (not root, no faketime, no namespaces)
# prints a "# skip" line.  docs/chaos.md, "Nemeses".
#
# Knobs (environment):
#   NEMESIS_LIST      the nemeses, in order (default: all of the above but
#                     failover, which runs alone: make nemesis runs both)
#   NEMESIS_COUNT     complaints per round, at least (default 2000; the feed
#                     goes on until the nemesis is over)
#   NEMESIS_PACE_MS   pause between two chunks of 20 records (default 300)
#   NEMESIS_REPEAT    how many times the list is gone through (default 2)
#   NEMESIS_HOLD_S    how long each nemesis holds (default 10)
#   NEMESIS_SEED      seed of the random choices (default: from the time;
#                     printed, so a failing run can be repeated)
#   NEMESIS_SETTLE_S  how long each drain may take (default 300)
#   NEMESIS_DISK_MB   the loop filesystem's size (default 512)
#   NEMESIS_PGPORT    this run's PostgreSQL port (default TEST_PORT_BASE + 18)
#   NEMESIS_PAF_PORT  failover: the monitor's port, a and b the next two
#                     (default TEST_PORT_BASE + 14)
#   NEMESIS_RELAY_SNDHWM  the relay's queue per subscriber (GF_RELAY_SNDHWM,
#                     default 200; its kernel send buffer 16 KiB): small,
#                     so that a cut of seconds overflows it and leaves a gap
# Ports: TEST_PORT_BASE + 0..18.  Clusters under var/nemesis/, removed after.
# Short version (make check): tests/nemesis/nemesis_short.sh.  Long: make nemesis.
# Its own clusters have no LOGIN users (deploy/pg.sh users makes them on the
# private cluster only): the services connect as the owner here.
export GF_TEST_AS_OWNER=1
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
source "$ROOT/deploy/lib.sh" # gf_ensure_user
PGBIN=${GF_PGBIN:-/usr/lib/postgresql/15/bin}
LIST=${NEMESIS_LIST:-pause fds skew disk partition}
COUNT=${NEMESIS_COUNT:-2000}
REPEAT=${NEMESIS_REPEAT:-2}
PACE_MS=${NEMESIS_PACE_MS:-300}
HOLD_S=${NEMESIS_HOLD_S:-10}
SEED=${NEMESIS_SEED:-$(($(date +%s) % 100000))}
SETTLE=${NEMESIS_SETTLE_S:-300}
DISK_MB=${NEMESIS_DISK_MB:-512}
PGPORT=${NEMESIS_PGPORT:-$((PORT_BASE + 18))}
RELAY_HWM=${NEMESIS_RELAY_SNDHWM:-200}
RANDOM=$SEED
T0=$SECONDS
VAR=$ROOT/var/nemesis${GF_TEST_TAG:-}
NS=gfnm-$$             # the partitioned host's network namespace
VETH=gfnm$$            # its link, root side
NET=10.218.7           # root side .1 (PostgreSQL listens there too), namespace .2
G="$BIN/gridctl"
export GF_LEASE_MS=${GF_LEASE_MS:-2000}
note "nemesis: $LIST (x$REPEAT); $COUNT complaints a round, each nemesis held ${HOLD_S}s; seed $SEED (repeat with NEMESIS_SEED=$SEED)"

ROOTUSER=0
[ "$(id -u)" -eq 0 ] && ROOTUSER=1
as_pg() { if [ $ROOTUSER -eq 1 ]; then runuser -u gridflow -- "$@"; else "$@"; fi; }
BG=() # background helpers (feeds, staff, subscribers, SMS gateway)
DISK='' NETNS=0
cleanup() {
  rm -f "$ART/staff.run"
  local p
  for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null; done
  for p in "${BG[@]}"; do kill "$p" 2>/dev/null; done
  [ ${#PIDS[@]} -eq 0 ] || stop_all 6
  [ -f "$VAR/data/PG_VERSION" ] && as_pg "$PGBIN/pg_ctl" -D "$VAR/data" -m immediate -w stop >/dev/null 2>&1
  cp "$VAR/postgresql.log" "$ART/" 2>/dev/null
  [ -n "$DISK" ] && { umount "$VAR/disk" 2>/dev/null || umount -l "$VAR/disk"; }
  if [ $NETNS -eq 1 ]; then
    ip netns del "$NS" 2>/dev/null; ip link del "$VETH" 2>/dev/null; nft delete table ip "$VETH" 2>/dev/null
  fi
  [ -n "${PAF_UP:-}" ] && GF_VAR=$VAR "$ROOT/deploy/pg-auto.sh" destroy >/dev/null 2>&1
  rm -rf "$VAR"
}
trap cleanup EXIT

# ---- the host of the partitioned service: a namespace and a veth pair ------
if [[ " $LIST " == *" partition "* ]]; then
  if [ $ROOTUSER -eq 1 ] && command -v nft >/dev/null && ip netns add "$NS" 2>/dev/null; then
    NETNS=1
    ip link add "$VETH" type veth peer name eth0 netns "$NS" &&
      ip addr add "$NET.1/24" dev "$VETH" && ip link set "$VETH" up &&
      ip -n "$NS" addr add "$NET.2/24" dev eth0 && ip -n "$NS" link set eth0 up &&
      ip -n "$NS" link set lo up || { not_ok "namespace $NS and its link"; exit 1; }
    # The relay's PUB and replay sockets reached from that host at $NET.1:
    # under curve=off the relay binds loopback only (gf_auth_is_local), so
    # the root namespace forwards those two ports arriving on the veth to
    # 127.0.0.1 (DNAT; route_localnet on this link alone).  The relay's TCP
    # connection is the subscriber's own: a cut link stalls it.
    sysctl -qw "net.ipv4.conf.$VETH.route_localnet=1" && nft -f - <<NFT || { not_ok "DNAT of the relay's ports on $VETH"; exit 1; }
table ip $VETH {
  chain pre {
    type nat hook prerouting priority -100
    iifname "$VETH" ip daddr $NET.1 tcp dport { $((PORT_BASE + 1)), $((PORT_BASE + 2)) } dnat to 127.0.0.1
  }
}
NFT
  else
    echo "# skip $TEST_NAME partition: no network namespaces or nft (needs root, ip netns, nftables)"
    LIST=${LIST/partition/}
  fi
fi

# ---- libfaketime (Debian package faketime): multithreaded services need its MT flavour
FAKETIME_LIB=''
for f in /usr/lib/*/faketime/libfaketimeMT.so.1 /usr/lib/faketime/libfaketimeMT.so.1; do [ -f "$f" ] && FAKETIME_LIB=$f && break; done
if [[ " $LIST " == *" skew "* ]] && [ -z "$FAKETIME_LIB" ]; then
  echo "# skip $TEST_NAME skew: no libfaketime (apt-get install faketime)"
  LIST=${LIST/skew/}
fi

# own_cluster: this run's own PostgreSQL, the database in a tablespace on a
# loop filesystem (disk) and listening on the veth pair too (partition).
own_cluster() {
  rm -rf "$VAR" && mkdir -p "$VAR/run"
  if [ $ROOTUSER -eq 1 ]; then
    gf_ensure_user "$VAR" "$TEST_NAME"
    chown gridflow "$VAR" "$VAR/run"
  fi
  as_pg "$PGBIN/initdb" -D "$VAR/data" -N -U gridflow --auth=trust -E UTF8 --locale=C.UTF-8 >"$ART/initdb.log" 2>&1 \
    || { not_ok "initdb (see initdb.log)"; exit 1; }
  LISTEN=127.0.0.1
  [ $NETNS -eq 1 ] && LISTEN="127.0.0.1,$NET.1"
  cat >>"$VAR/data/postgresql.conf" <<CONF
listen_addresses = '$LISTEN'
unix_socket_directories = '$VAR/run'
port = $PGPORT
max_connections = 80
shared_buffers = 64MB
# deploy/pg.sh's WAL settings (docs/operations.md, "WAL settings")
wal_compression = lz4
backend_flush_after = 256kB
tcp_keepalives_idle = 2
tcp_keepalives_interval = 1
tcp_keepalives_count = 2
tcp_user_timeout = 5000
log_min_messages = warning
log_line_prefix = '%m [%p] %a '
CONF
  echo "host all all $NET.0/24 trust" >>"$VAR/data/pg_hba.conf"
  as_pg "$PGBIN/pg_ctl" -D "$VAR/data" -l "$VAR/postgresql.log" -w -t 60 start >/dev/null \
    || { not_ok "PostgreSQL starts"; exit 1; }
  PSQL_SU=("$PSQL_BIN" -X -q -t -A -h "$VAR/run" -p "$PGPORT" -U gridflow -d postgres)

  # ---- the disk: a tablespace on a loop filesystem ------------------------------
  TABLESPACE=''
  if [[ " $LIST " == *" disk "* ]]; then
    if [ $ROOTUSER -eq 1 ] && truncate -s "${DISK_MB}M" "$VAR/disk.img" && mkfs.ext4 -q -m 0 "$VAR/disk.img" 2>"$ART/mkfs.log" &&
       mkdir -p "$VAR/disk" && mount -o loop "$VAR/disk.img" "$VAR/disk" 2>>"$ART/mkfs.log"; then
      DISK=$VAR/disk
      mkdir "$DISK/pg" && chown gridflow "$DISK/pg"
      "${PSQL_SU[@]}" -c "CREATE TABLESPACE gfnm LOCATION '$DISK/pg'" >/dev/null || { not_ok "tablespace"; exit 1; }
      TABLESPACE="TABLESPACE gfnm"
    else
      echo "# skip $TEST_NAME disk: no loop filesystem (needs root and a loop device; see mkfs.log)"
      LIST=${LIST/disk/}
    fi
  fi
  "${PSQL_SU[@]}" -c "CREATE DATABASE gfnm $TABLESPACE" >/dev/null || { not_ok "CREATE DATABASE"; exit 1; }
  SQL_DB="host=$VAR/run port=$PGPORT user=gridflow dbname=gfnm"
  # The services reach it over TCP, with keepalives and a user timeout: a cut
  # link breaks their connection within seconds.
  conninfo() {
    echo "host=$1 port=$PGPORT user=gridflow dbname=gfnm connect_timeout=3 keepalives=1 keepalives_idle=2 keepalives_interval=1 keepalives_count=2 tcp_user_timeout=5000"
  }
  export GF_DB="$(conninfo 127.0.0.1)"
  migrate_db
  note "PostgreSQL on port $PGPORT${TABLESPACE:+ (database on the loop filesystem, ${DISK_MB} MB)}; set up in $((SECONDS - T0)) s"
}

# ---- the database: a pg_auto_failover formation (failover), or this run's own cluster
PAF=0
if [[ " $LIST " == *" failover "* ]]; then
  [ "$(echo $LIST | wc -w)" -eq 1 ] || { not_ok "failover runs alone (NEMESIS_LIST=failover): its database is a formation"; exit 1; }
  PAF=1
fi
if [ $PAF -eq 1 ]; then
  export GF_PAF_PORT_MONITOR=${NEMESIS_PAF_PORT:-$((PORT_BASE + 14))}
  export GF_PAF_PORT_A=$((GF_PAF_PORT_MONITOR + 1)) GF_PAF_PORT_B=$((GF_PAF_PORT_MONITOR + 2))
  PA() { GF_VAR=$VAR "$ROOT/deploy/pg-auto.sh" "$@"; }
  rm -rf "$VAR" && mkdir -p "$VAR"
  PAF_UP=1
  PA start >"$ART/pg-auto.log" 2>&1 || { not_ok "monitor, primary and standby set up (see pg-auto.log)"; exit 1; }
  # Tuned for one machine as in tests/ha/test_ha_auto.sh.
  PA tune health_check_period=1000 health_check_timeout=1000 health_check_max_retries=1 \
    health_check_retry_delay=500 node_considered_unhealthy_timeout=3000 primary_demote_timeout=3000 >>"$ART/pg-auto.log" 2>&1
  PA psql "$(PA primary)" -d postgres -q -c "CREATE DATABASE gfnm" >/dev/null || { not_ok "CREATE DATABASE"; exit 1; }
  export GF_DB="$(PA conninfo gfnm)"
  SQL_DB=$GF_DB
  # A node that died answers nothing: statements give up after 5 s.
  export GF_DB_RESPONSE_TIMEOUT_MS=5000
  migrate_db
  note "pg_auto_failover formation (monitor, a, b) on ports $GF_PAF_PORT_MONITOR..$GF_PAF_PORT_B; set up in $((SECONDS - T0)) s"
else
  own_cluster
fi

# ---- set-up: SMS gateway, notification policy, clock ---------------------------
start_sms_gateway "$ART/gateway.log"
BG+=("$GW")
sms_to_leaders_only --no-reminders
"$G" calendar import >"$ART/calendar.out" 2>&1 || not_ok "calendar import"
clock_set "2026-11-02T08:00:00+08:00" # a Monday, before the meetings

# ---- the services: one relay and intake, two of each leased role ---------------
# start_in NAME WRAPPER...: start gf-NAME (an instance: router@2) through a
# wrapper (ip netns exec ..., faketime ...).
start_in() {
  local name=$1; shift
  "$@" "$BIN/gf-${name%@*}" >>"$ART/$name.log" 2>&1 &
  PIDS[$name]=$!
}
# Each notifier instance pushes to the app on a port of its own (GF_APP).
app() { echo "GF_APP=tcp://127.0.0.1:$((PORT_BASE + 10 + ${1#*@}))"; }
# The relay's queue per subscriber (GF_RELAY_SNDHWM; 100,000 in production)
# and kernel send buffer kept small, as in tests/e2e/test_streams_python.sh:
# a few seconds of partition overflow them, as minutes would at the
# defaults, so that the cut subscriber must find the gap and replay it.
start_in relay env GF_RELAY_SNDHWM="$RELAY_HWM" GF_RELAY_SNDBUF=16384
start intake
start router@1
for r in notifier@1 notifier@2; do start_in "$r" env "$(app $r)"; done
for r in escalator@1 escalator@2; do start "$r"; done
if [ $NETNS -eq 1 ]; then
  # router@2 lives on the other host: PostgreSQL over the veth pair (the
  # relay's wake-ups do not reach it there; it looks at the log every second).
  start_in router@2 env GF_DB="$(conninfo "$NET.1")" ip netns exec "$NS"
else
  start router@2
fi
wait_for "intake port" 30 port_open $((PORT_BASE + 0))
wait_for "relay ports" 30 port_open $((PORT_BASE + 2))
wait_for "consumers" 20 sql_eq "SELECT count(*) FROM consumer_checkpoints" 2
wait_for "three leases held, each with a standby (and the one relay's)" 20 sql_eq \
  "SELECT count(*) FROM lease_instances WHERE name <> 'relay' AND seen_at > clock_timestamp () - interval '2 s'" 6

# A subscriber from the start (gridctl watch: gf_stream, replays what it missed).
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 stdbuf -oL "$G" watch --since 0 --json \
  >"$ART/watch.jsonl" 2>"$ART/watch.err" &
BG+=($!)

# ---- the load: feeds, staff actions ---------------------------------------------
# feed ROUND: hotline records in chunks of 20, one gf-hotline after the
# other with PACE ms between them, in the background (FEED is its pid), from
# a pool of 5 x COUNT: at least COUNT records, and on until the nemesis is
# over (feed_stop), so that complaints flow during the whole of it.
FED=0
feed() {
  gen_hotline $((COUNT * 5)) $((SEED + $1)) --prefix "NM$1-" >"$ART/feed$1.jsonl" 2>/dev/null
  split -l 20 -d -a 4 "$ART/feed$1.jsonl" "$ART/feed$1.part."
  (
    n=0
    for f in "$ART/feed$1.part."*; do
      [ $n -ge "$COUNT" ] && [ -f "$ART/feed$1.stop" ] && break
      "$BIN/gf-hotline" --window 8 --timeout 1000 --attempts 600 --quiet "$f" >"$f.out" 2>"$f.err"
      n=$((n + $(wc -l <"$f")))
      ms_sleep "$PACE_MS"
    done
  ) &
  FEED=$!
  BG+=("$FEED")
}
feed_stop() { touch "$ART/feed$1.stop"; }
ms_sleep() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; } # pacing: the subject, not a wait
# The staff: a grid leader signs a routed case, then resolves it; each
# action with its own request id, resent until answered (an answer lost
# in a nemesis: the resend is found done).  Acknowledged ones in staff.acked.
touch "$ART/staff.acked"
staff_act() { # CASE ACTION ACTOR
  local i
  for i in $(seq 1 120); do
    if "$G" case "$2" "$1" --actor "$3" --note "nemesis" --request-id "nm-$2-$1" >>"$ART/staff.out" 2>>"$ART/staff.err"; then
      echo "$1 $2" >>"$ART/staff.acked"
      return 0
    fi
    sleep 0.3
  done
  echo "case $2 $1 never answered" >>"$ART/staff.failed"
  return 1
}
staff() {
  local c p
  while [ -f "$ART/staff.run" ]; do
    read -r c p < <(sql "SELECT c.id, p.id FROM cases c JOIN people p ON p.grid = c.grid AND p.role = 'leader'
                          WHERE c.state = 'routed' ORDER BY random () LIMIT 1" 2>/dev/null | tr '|' ' ')
    if [ -n "${c:-}" ]; then
      staff_act "$c" sign "$p" && staff_act "$c" resolve "$p"
    fi
    sleep 0.2
  done
}
staff_start() { touch "$ART/staff.run"; staff & STAFF=$!; BG+=("$STAFF"); }
# staff_stop: no new case taken; the one in hand is finished (resent until answered).
staff_stop() { rm -f "$ART/staff.run"; wait "$STAFF"; }

# ---- the invariants -----------------------------------------------------------
urgent_done() { sql_eq "SELECT count(*) FROM gf_urgent_candidates(gf_now())" 0; }
settled() { urgent_done && meetings_due_held; }
# last_seq FILE: the seq of a subscriber's last event (0: none yet).
last_seq() { tail -n 1 "$1" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["seq"])' 2>/dev/null || echo 0; }
reached() { [ "$(last_seq "$1")" -ge "$2" ]; } # reached FILE SEQ
watch_at_head() { [ "$(last_seq "${1:-$ART/watch.jsonl}")" == "$(sql "SELECT max(seq) FROM case_events")" ]; }
# stream_equals_log LABEL FILE: the subscriber's events up to log.txt's head
# are the log's, each once, in order.
stream_equals_log() {
  python3 -c 'import json,sys
for l in sys.stdin:
    e = json.loads(l)
    if e["seq"] <= int(sys.argv[1]): print(e["seq"], e["id"])' "$HEAD" <"$2" >"${2%.jsonl}.txt" 2>"${2%.jsonl}.parse.err"
  check "$1" "$(md5sum <"$ART/log.txt")" "$(md5sum <"${2%.jsonl}.txt")"
}
sms_sent() { sql_eq "SELECT count(*) FROM deliveries WHERE channel = 'sms' AND state <> 'sent'" 0; }
# invariants ROUND LABEL: wait for the round's feed and the pipeline to drain, then check.
invariants() {
  local f bad=0 n u r=$2
  UNAVAILABLE=0
  wait "$FEED"
  for f in "$ART/feed$1.part."*.out; do
    n=$(wc -l <"${f%.out}")
    FED=$((FED + n))
    [ "$(cat "$f")" == "accepted $n, duplicate 0, rejected 0, failed 0" ] || { bad=$((bad + 1)); note "$r: $(basename "$f"): $(cat "$f")"; }
    u=$(sed -n "s/.*: \([0-9]*\) answers were 'unavailable'.*/\1/p" "${f%.out}.err" | head -1)
    UNAVAILABLE=$((UNAVAILABLE + ${u:-0}))
  done
  check "$r: the hotline feed: every record acknowledged as stored, none rejected or failed" 0 "$bad"
  [ "$UNAVAILABLE" -eq 0 ] || note "$r: the adapter resent $UNAVAILABLE records answered 'unavailable'"
  wait_for "$r: pipeline to drain" "$SETTLE" quiescent
  wait_for "$r: escalation to settle" "$SETTLE" settled
  wait_for "$r: every SMS sent" "$SETTLE" sms_sent
  wait_for "$r: the stream subscriber at the head" "$SETTLE" watch_at_head
  note "$r: the complaints, $FED in all:"
  check_cases_once "$FED"
  check_notified_once "$r"
  local total; total=$(sql "SELECT count(*) FROM deliveries WHERE channel = 'sms'")
  check "$r: SMS: the gateway delivered each outbox key once ($total)" "$total $total" \
    "$(sql "SELECT count(DISTINCT dedupe_key) FROM deliveries WHERE channel = 'sms'") $(gw delivered)"
  curl -s "http://127.0.0.1:$GW_PORT/keys" >"$ART/gateway.keys"
  sql "SELECT dedupe_key FROM deliveries WHERE channel = 'sms' ORDER BY 1" >"$ART/outbox.keys"
  check "$r: ... exactly the outbox's keys, no dead letters" "0" \
    "$(LC_ALL=C diff "$ART/outbox.keys" "$ART/gateway.keys" | head -3)$(sql "SELECT count(*) FROM deliveries WHERE state = 'dead'")"
  # Staff actions: each acknowledged one happened once; nothing unacknowledged happened.
  local acked; acked=$(sort -u "$ART/staff.acked" | wc -l)
  check "$r: staff: every action answered in the end" "" "$(head -3 "$ART/staff.failed" 2>/dev/null)"
  check "$r: staff actions: one event per acknowledged action ($acked), none other" "$acked 0" \
    "$(sql "SELECT count(*) FROM case_events WHERE type IN ('case.signed', 'case.resolved')") $(sql "SELECT count(*) FROM (
            SELECT case_id, type FROM case_events WHERE type IN ('case.signed', 'case.resolved')
             GROUP BY 1, 2 HAVING count(*) > 1) d")"
  check "$r: meetings: none held twice, one meeting.opened each" "0 $(sql "SELECT count(*) FROM meetings")" \
    "$(sql "SELECT count(*) FROM (SELECT grid, kind, day FROM meetings GROUP BY 1, 2, 3 HAVING count(*) > 1) d") $(sql "SELECT count(*) FROM case_events WHERE type = 'meeting.opened'")"
  check "$r: escalations: none twice to a level, one case.escalated each" "0 $(sql "SELECT count(*) FROM escalations")" \
    "$(sql "SELECT count(*) FROM (SELECT case_id, to_level FROM escalations GROUP BY 1, 2 HAVING count(*) > 1) d") $(sql "SELECT count(*) FROM case_events WHERE type = 'case.escalated'")"
  check "$r: event log dense 1..max(seq)" t \
    "$(sql "SELECT count(*) = max(seq) AND min(seq) = 1 AND count(*) = count(DISTINCT seq) FROM case_events")"
  HEAD=$(sql "SELECT max(seq) FROM case_events")
  sql "SELECT seq || ' ' || id FROM case_events WHERE seq <= $HEAD ORDER BY seq" >"$ART/log.txt"
  stream_equals_log "$r: the subscriber's stream equals the log (every event once, in order)" "$ART/watch.jsonl"
  if [ -n "$WATCH_NS" ]; then
    # The subscriber on the partitioned host (partition): caught up by itself.
    wait_for "$r: the partitioned host's subscriber at the head" "$SETTLE" watch_at_head "$WATCH_NS_OUT.jsonl"
    HEAD=$(sql "SELECT max(seq) FROM case_events")
    sql "SELECT seq || ' ' || id FROM case_events WHERE seq <= $HEAD ORDER BY seq" >"$ART/log.txt"
    stream_equals_log "$r: the partitioned host's subscriber's stream equals the log (every event once, in order)" \
      "$WATCH_NS_OUT.jsonl"
    kill -TERM "$WATCH_NS"
    wait "$WATCH_NS"
    n=$(sed -n 's/^watch: \([0-9]*\) events were recovered by replay.*/\1/p' "$WATCH_NS_OUT.err")
    [ "${n:-0}" -gt 0 ] && ok "$r: ... $n of them recovered by replay after the gap the cut left" ||
      not_ok "$r: the partitioned host's subscriber recovered nothing by replay (the cut left no gap?)"
    WATCH_NS=''
  fi
  note "$r: $(counts) cases/events/notifications, $(sort -u "$ART/staff.acked" | wc -l) staff actions, $(sql "SELECT count(*) FROM meetings") meetings; at $((SECONDS - T0)) s"
}

# ---- helpers of the nemeses -----------------------------------------------------
lease() { sql "SELECT $2 FROM leases WHERE name = '$1'"; }
# holder ROLE: the instance (router@1 ...) whose process holds the lease.
holder() {
  local pid n; pid=$(lease "$1" holder | sed 's/^.*:\([0-9]*\)\..*$/\1/')
  for n in "$1@1" "$1@2"; do [ "${PIDS[$n]:-}" == "$pid" ] && echo "$n"; done
}
other() { [ "${1#*@}" == 1 ] && echo "${1%@*}@2" || echo "${1%@*}@1"; }
hold() { sleep "$1"; } # the nemesis' duration: the subject, not a wait
DAY=0
# next_day: the simulated clock a working day on, at 09:00 (the first: the
# Monday slot of the weekly and monthly meetings), during the nemesis.
next_day() {
  local at; at=$(date -d "2026-11-02 +$DAY days" +%u)
  while [ "$at" -ge 6 ]; do DAY=$((DAY + 1)); at=$(date -d "2026-11-02 +$DAY days" +%u); done
  clock_set "$(date -d "2026-11-02 +$DAY days" +%Y-%m-%d)T09:00:00+08:00"
  DAY=$((DAY + 1))
}

# pause: SIGSTOP then SIGCONT each of router, notifier, relay, intake (the
# leased ones: their holder), in a seeded order.
nemesis_pause() {
  local victims=(router notifier relay intake) i j t v name epoch
  for ((i = 3; i > 0; i--)); do j=$((RANDOM % (i + 1))); t=${victims[i]}; victims[i]=${victims[j]}; victims[j]=$t; done
  for v in "${victims[@]}"; do
    name=$v
    if [ "$v" = router ] || [ "$v" = notifier ]; then name=$(holder "$v"); epoch=$(lease "$v" epoch); fi
    [ -n "$name" ] || { not_ok "pause: no holder of $v"; continue; }
    kill -STOP "${PIDS[$name]}"
    echo "$((SECONDS - T0)) s: SIGSTOP $name" >>"$ART/nemesis.log"
    if [ "$v" = router ] || [ "$v" = notifier ]; then
      wait_for "pause: $v's standby to take over from the frozen $name" $((HOLD_S + 20)) \
        sql_eq "SELECT epoch > $epoch FROM leases WHERE name = '$v'" t && ok "pause: $v: $(other "$name") took over from the frozen $name"
    fi
    hold $((HOLD_S / 2 > 2 ? HOLD_S / 2 : 2))
    kill -CONT "${PIDS[$name]}"
    echo "$((SECONDS - T0)) s: SIGCONT $name" >>"$ART/nemesis.log"
    if [ "$v" = router ] || [ "$v" = notifier ]; then
      wait_for "pause: the woken $name to stand by" 20 grep -q "lease lost at epoch $epoch" "$ART/$name.log" &&
        ok "pause: $v: the woken $name found its lease lost and stands by"
    fi
  done
}

# fds: the intake and the notifier's holder each get no file descriptor
# more than they hold (prlimit on the running process), and their database
# session is ended, so that they must open a new one; then the limit is
# given back.
nemesis_fds() {
  local name p n soft ports epoch victims=(intake "$(holder notifier)")
  epoch=$(lease notifier epoch)
  for name in "${victims[@]}"; do
    p=${PIDS[$name]}
    soft=$(prlimit --pid "$p" --nofile --output SOFT --noheadings | tr -d ' ')
    # RLIMIT_NOFILE bounds the descriptor's number, not the count: at 3 no
    # new descriptor (a socket to PostgreSQL, to the SMS gateway, a
    # client's connection to the intake) can be had, whatever is closed.
    # The soft limit only: giving back a lowered hard limit needs
    # CAP_SYS_RESOURCE.
    n=3
    prlimit --pid "$p" --nofile="$n:" || { not_ok "fds: prlimit on $name"; continue; }
    echo "$((SECONDS - T0)) s: $name limited to $n descriptors (was $soft)" >>"$ART/nemesis.log"
    # Its own database sessions (by their client ports) ended: it must reconnect.
    ports=$(ss -Htnp state established "( dport = :$PGPORT )" | grep "pid=$p," | awk '{print $3}' | sed 's/.*://' | paste -sd,)
    [ -n "$ports" ] && sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE client_port IN ($ports)" >/dev/null
    hold $(((HOLD_S + 1) / 2))
    ls "/proc/$p/fd" >/dev/null 2>&1 || not_ok "fds: $name died with its descriptors exhausted (see $name.log)"
    grep -q "Too many open files" "$ART/$name.log" &&
      ok "fds: $name ran out of descriptors (its log: Too many open files)" ||
      not_ok "fds: nothing in $name.log shows the exhaustion"
    prlimit --pid "$p" --nofile="$soft:" || not_ok "fds: $name's limit given back"
    echo "$((SECONDS - T0)) s: $name given back $soft" >>"$ART/nemesis.log"
  done
  check "fds: the notifier's standby took over from the starved holder" t \
    "$(sql "SELECT epoch > $epoch FROM leases WHERE name = 'notifier'")"
}

# skew: a second instance of each leased role under libfaketime, one ahead
# by hours and one behind by minutes (seeded), becomes the holder (the
# unskewed instance is stopped); the clock moves to a meeting slot while
# they hold; then the unskewed instances come back and the skewed ones
# leave.
nemesis_skew() {
  local r off name old
  for r in notifier escalator router; do
    if [ $((RANDOM % 2)) -eq 0 ]; then off="+$((1 + RANDOM % 6))h"; else off="-$((5 + RANDOM % 50))m"; fi
    name=$r@3
    if [ "$r" = router ] && [ $NETNS -eq 1 ]; then
      start_in "$name" env GF_DB="$(conninfo "$NET.1")" LD_PRELOAD="$FAKETIME_LIB" FAKETIME="$off" ip netns exec "$NS"
    else
      start_in "$name" env "$(app $name)" LD_PRELOAD="$FAKETIME_LIB" FAKETIME="$off"
    fi
    echo "$((SECONDS - T0)) s: $name started under faketime $off" >>"$ART/nemesis.log"
    SKEW[$r]=$off
  done
  wait_for "skew: the skewed instances stand by" 20 sql_eq \
    "SELECT count(*) FROM lease_instances WHERE name <> 'relay' AND seen_at > clock_timestamp () - interval '2 s'" 9
  # Hand each role to its skewed instance: stop the others (SIGTERM releases).
  # (The escalator's lease is its L1 root's, escalator.root.QNL: one root here.)
  for r in notifier escalator router; do
    for old in "$r@1" "$r@2"; do kill -TERM "${PIDS[$old]}"; wait "${PIDS[$old]}"; unset "PIDS[$old]"; done
    wait_for "skew: the skewed $r holds its lease" 20 sql_eq \
      "SELECT holder LIKE '%:${PIDS[$r@3]}.%' FROM leases
        WHERE name = '$([ "$r" = escalator ] && echo escalator.root.QNL || echo "$r")'" t &&
      ok "skew: $r@3 (faketime ${SKEW[$r]}) holds the $r lease"
  done
  grep -q "$(LD_PRELOAD="$FAKETIME_LIB" FAKETIME="${SKEW[escalator]}" date +%y-%m-%d\ %H:%M)" "$ART/escalator@3.log" &&
    ok "skew: the escalator's own clock is skewed (its log's time is ${SKEW[escalator]} off)" ||
    note "skew: could not match the escalator's log time (TZ); its log: $(tail -1 "$ART/escalator@3.log")"
  check "skew: every lease expires within a lease time of the database's clock" 0 \
    "$(sql "SELECT count(*) FROM leases WHERE expires_at > clock_timestamp () + interval '$GF_LEASE_MS ms' + interval '1 s'
              OR expires_at < clock_timestamp () - interval '1 s'")"
  hold "$HOLD_S"
  # Back: the unskewed instances, then the skewed ones leave.
  for r in notifier escalator router; do
    if [ "$r" = router ] && [ $NETNS -eq 1 ]; then
      start router@1
      start_in router@2 env GF_DB="$(conninfo "$NET.1")" ip netns exec "$NS"
    else
      start_in "$r@1" env "$(app $r@1)"; start_in "$r@2" env "$(app $r@2)"
    fi
  done
  wait_for "skew: the unskewed instances stand by" 20 sql_eq \
    "SELECT count(*) FROM lease_instances WHERE name <> 'relay' AND seen_at > clock_timestamp () - interval '2 s'" 9
  for r in notifier escalator router; do
    kill -TERM "${PIDS[$r@3]}"; wait "${PIDS[$r@3]}"; unset "PIDS[$r@3]"
  done
}
declare -A SKEW=()

# disk: fill the loop filesystem that holds the database until writes fail;
# the intake must answer `unavailable`; hold; free it.
nemesis_disk() {
  local avail
  avail=$(df --output=avail -B1 "$DISK" | tail -1)
  fallocate -l "$avail" "$DISK/balloon" 2>/dev/null
  dd if=/dev/zero of="$DISK/balloon2" bs=64k >/dev/null 2>&1 # what fallocate left
  echo "$((SECONDS - T0)) s: disk full ($(df --output=avail -B1 "$DISK" | tail -1) bytes left)" >>"$ART/nemesis.log"
  wait_for "disk: the database refuses writes (disk full)" 60 grep -q "No space left on device" "$VAR/postgresql.log" &&
    ok "disk: PostgreSQL: No space left on device"
  wait_for "disk: the intake answers unavailable" 60 grep -q "rejected: unavailable" "$ART/intake.log" &&
    ok "disk: the intake answered unavailable while the disk was full"
  hold "$HOLD_S"
  rm -f "$DISK/balloon" "$DISK/balloon2"
  echo "$((SECONDS - T0)) s: disk freed" >>"$ART/nemesis.log"
}

# partition: router@2 (in the namespace) takes the lease; an nft rule in its
# namespace drops everything to PostgreSQL; router@1 takes over when the
# lease lapses; healed, router@2 is fenced and stands by.  A second intake
# on that host, fed by an adapter there, is cut too: it must answer
# `unavailable` (no hang, not `internal`), and the adapter resends.  A
# subscriber on that host (gridctl watch --since 0 --json, to the relay
# across the veth pair) is cut from the relay by the same rule, until the
# relay has published 5 x its HWM since: it must see none of it, catch up
# by itself once healed (how long it took is printed), and at the round's
# invariants its stream must equal the log, part of it recovered by replay.
nemesis_partition() {
  local epoch f=$ART/feed$ROUND.p
  in_ns() { ip netns exec "$NS" "$@"; }
  ns_port_open() { in_ns bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
  start_in intake@2 env GF_DB="$(conninfo "$NET.1")" ip netns exec "$NS"
  wait_for "partition: intake@2 listening on its host" 30 ns_port_open $((PORT_BASE + 0))
  # Its feed: chunks of 20 (named as the round's, so that they are counted)
  # until the partition is healed.
  gen_hotline $((COUNT * 5)) $((SEED + 1000 + ROUND)) --prefix "NMP$ROUND-" >"$f.jsonl" 2>/dev/null
  split -l 20 -d -a 4 "$f.jsonl" "$ART/feed$ROUND.part.p"
  (
    for c in "$ART/feed$ROUND.part.p"*; do
      [ -f "$f.stop" ] && break
      in_ns "$BIN/gf-hotline" --window 8 --timeout 1000 --attempts 600 --quiet "$c" >"$c.out" 2>"$c.err"
      ms_sleep "$PACE_MS"
    done
  ) &
  local pfeed=$!
  BG+=("$pfeed")
  wait_for "partition: the feed on the partitioned host under way" 30 sql_eq \
    "SELECT count(*) > 0 FROM cases WHERE source_ref LIKE 'NMP$ROUND-%'" t
  # A subscriber on that host: gridctl watch through the veth pair to the
  # relay's PUB and replay sockets (from seq 0: it replays the log so far,
  # then goes live).
  WATCH_NS_OUT=$ART/watch-ns$ROUND
  ip netns exec "$NS" env GF_PUB="tcp://$NET.1:$((PORT_BASE + 1))" GF_REPLAY="tcp://$NET.1:$((PORT_BASE + 2))" \
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 stdbuf -oL "$G" watch --since 0 --json \
    >"$WATCH_NS_OUT.jsonl" 2>"$WATCH_NS_OUT.err" &
  WATCH_NS=$!
  BG+=("$WATCH_NS")
  local h; h=$(sql "SELECT max(seq) FROM case_events")
  wait_for "partition: the subscriber on the partitioned host live (at seq $h)" 60 \
    reached "$WATCH_NS_OUT.jsonl" "$h"
  if [ "$(holder router)" != router@2 ]; then
    kill9 router@1
    wait_for "partition: router@2 holds the lease" 20 sql_eq \
      "SELECT holder LIKE '%:${PIDS[router@2]}.%' FROM leases WHERE name = 'router'" t
    start router@1
  fi
  epoch=$(lease router epoch)
  ip netns exec "$NS" nft -f - <<NFT || { not_ok "partition: nft rule"; return; }
table inet gfnm {
  chain out { type filter hook output priority 0; ip daddr $NET.1 tcp dport { $PGPORT, $RELAY_PORTS } drop; }
  chain in { type filter hook input priority 0; ip saddr $NET.1 tcp sport { $PGPORT, $RELAY_PORTS } drop; }
}
NFT
  local cut_at; cut_at=$(sql "SELECT max(seq) FROM case_events")
  echo "$((SECONDS - T0)) s: the partitioned host cut from PostgreSQL and the relay (log at seq $cut_at)" >>"$ART/nemesis.log"
  wait_for "partition: router@1 takes over from the cut router@2" $((HOLD_S + 30)) sql_eq \
    "SELECT epoch > $epoch AND holder LIKE '%:${PIDS[router@1]}.%' FROM leases WHERE name = 'router'" t &&
    ok "partition: router@1 took over from the cut router@2"
  wait_for "partition: the cut intake@2 answers unavailable" $((HOLD_S + 30)) grep -q "rejected: unavailable" "$ART/intake@2.log" &&
    ok "partition: the cut intake@2 answered unavailable"
  hold "$HOLD_S"
  # On until the relay has published enough to overflow what it queues for
  # the cut subscriber (its HWM, its kernel buffer): the cut leaves a gap.
  wait_for "partition: $((5 * RELAY_HWM)) events published while cut" $((HOLD_S + 30)) \
    sql_eq "SELECT max(seq) >= $cut_at + $((5 * RELAY_HWM)) FROM case_events" t
  # The cut is real: what the relay published since, its subscriber there has not seen.
  local seen heal_at t0 ms
  seen=$(last_seq "$WATCH_NS_OUT.jsonl")
  heal_at=$(sql "SELECT max(seq) FROM case_events")
  [ "$seen" -le "$cut_at" ] && [ "$heal_at" -gt "$cut_at" ] &&
    ok "partition: while cut, the subscriber there saw none of the $((heal_at - cut_at)) events published (its last: $seen, the cut at $cut_at)" ||
    not_ok "partition: while cut, the subscriber there saw up to $seen (the cut at $cut_at, the log at $heal_at)"
  ip netns exec "$NS" nft delete table inet gfnm
  t0=${EPOCHREALTIME/./}
  echo "$((SECONDS - T0)) s: partition healed" >>"$ART/nemesis.log"
  # By itself (gap detection, replay), it catches up with what it missed.
  if wait_for "partition: the subscriber there catches up (seq $heal_at)" 60 reached "$WATCH_NS_OUT.jsonl" "$heal_at"; then
    ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
    ok "partition: healed, the subscriber there caught up with seq $heal_at in $ms ms"
    echo "$((SECONDS - T0)) s: the partitioned host's subscriber caught up in $ms ms" >>"$ART/nemesis.log"
  fi
  wait_for "partition: router@2 back, standing by" 30 sql_eq \
    "SELECT count(*) FROM lease_instances WHERE name = 'router' AND NOT holding AND seen_at > clock_timestamp () - interval '2 s'" 1 &&
    ok "partition: healed, router@2 stands by"
  touch "$f.stop"
  wait "$pfeed"
  kill -TERM "${PIDS[intake@2]}"
  wait "${PIDS[intake@2]}" || not_ok "partition: intake@2 exited with status $? after SIGTERM"
  unset "PIDS[intake@2]"
}

# failover: the primary node crashes (its keeper and PostgreSQL, -9): the
# monitor promotes the standby; the keeper is started again (as systemd
# would) and the node rejoins as the standby.  Then the standby the monitor
# chose crashes: the primary drops synchronous replication (wait_primary),
# COMMITs go on; it is started again and rejoins.
nemesis_failover() {
  local old new standby
  settled_paf() { local st; st=$(PA psql monitor -d pg_auto_failover -tAc \
    "SELECT string_agg(nodename || ':' || reportedstate, ' ' ORDER BY nodename) FROM pgautofailover.node")
    [ "$st" == "a:primary b:secondary" ] || [ "$st" == "a:secondary b:primary" ]; }
  old=$(PA primary)
  kill -9 -- "-$(PA keeper-pid "$old")"
  echo "$((SECONDS - T0)) s: primary $old crashed (keeper and PostgreSQL, -9)" >>"$ART/nemesis.log"
  moved() { new=$(PA primary) && [ -n "$new" ] && [ "$new" != "$old" ]; }
  wait_for "failover: a new primary" 90 moved && ok "failover: the monitor promoted $(PA primary) after $old crashed"
  hold "$HOLD_S"
  PA start-node "$old" >>"$ART/pg-auto.log" 2>&1
  wait_for "failover: $old back as the standby" 120 settled_paf && ok "failover: $old rejoined as the standby"
  standby=$old
  new=$(PA primary)
  kill -9 -- "-$(PA keeper-pid "$standby")"
  echo "$((SECONDS - T0)) s: the monitor's standby $standby crashed" >>"$ART/nemesis.log"
  node_is() { [ "$(PA psql monitor -d pg_auto_failover -tAc "SELECT reportedstate FROM pgautofailover.node WHERE nodename = '$1'")" == "$2" ]; }
  wait_for "failover: the monitor drops synchronous replication" 60 node_is "$new" wait_primary &&
    ok "failover: $new went on alone (wait_primary) when its standby $standby crashed"
  hold "$HOLD_S"
  PA start-node "$standby" >>"$ART/pg-auto.log" 2>&1
  wait_for "failover: $standby back as the standby" 120 settled_paf && ok "failover: $standby rejoined as the standby"
}

RELAY_PORTS="$((PORT_BASE + 1)), $((PORT_BASE + 2))" # PUB, replay
WATCH_NS='' # the partitioned host's subscriber (its pid), during a partition round

# ---- the rounds -------------------------------------------------------------------
ROUND=0
for nemesis in $(for i in $(seq 1 "$REPEAT"); do echo $LIST; done); do
  ROUND=$((ROUND + 1))
  r="$ROUND $nemesis"
  t=$SECONDS
  feed "$ROUND"
  staff_start
  sleep 1 # the feed under way
  next_day
  "nemesis_$nemesis"
  feed_stop "$ROUND"
  staff_stop
  invariants "$ROUND" "$r"
  note "$r: $((SECONDS - t)) s"
done
note "nemeses: $(tr '\n' ';' <"$ART/nemesis.log")"
note "seed $SEED; total $((SECONDS - T0)) s"
for p in "${BG[@]}"; do kill "$p" 2>/dev/null; done
BG=()
finish cleanup
