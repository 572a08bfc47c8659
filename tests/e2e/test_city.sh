#!/usr/bin/env bash
# test: long 50 (seconds on a quiet machine: the long ones start first)
# Issue 18 item 5, a city above the districts: two districts (east, west),
# each its own PostgreSQL cluster with its own relay, intake and router, and
# a city cluster that subscribes to both (deploy/city.sh: publication
# gf_city on each district, one replica database per district on the city,
# PostgreSQL's built-in logical replication).  Complaints go into both
# districts through their intakes (gf-hotline); some are signed and resolved
# through the intake.  Then:
#   - the city monthly report (gridctl city report) equals the sum of the
#     districts' own monthly reports (gridctl report monthly on each), row by
#     row, by category, by priority, the total and the escalations; its
#     district rows are each district's total;
#   - west's PostgreSQL is stopped: the city says west is stale and east live
#     (gridctl city status), while complaints go on into east; the city
#     report has east's new numbers and west's last ones;
#   - west restarted, complaints into west: it catches up, the report equals
#     the sum again, both districts live.
#   - the city dashboard: a gateway on the city's database (as
#     gridflow_gateway, a kiosk link of the city office's grid) serves
#     /api/city.json with gridctl city report's figures and the page /city.
# Its own three clusters under var/city-<port>/ on ports B+6, B+7, B+8 (the
# city's gateway on B+9), removed after the run.  Starts three clusters: runs once in make check
# (the line below; not again under ASan).
# test: once
source "$(dirname "$0")/lib.sh"
G="$BIN/gridctl"
CV=$ROOT/var/city-$PORT_BASE
declare -A PGP=([east]=$((PORT_BASE + 6)) [west]=$((PORT_BASE + 7)) [city]=$((PORT_BASE + 8)))
declare -A OFF=([east]=0 [west]=3)
declare -A DB

pgc() { local c=$1; shift; GF_VAR=$CV/$c GF_PGPORT=${PGP[$c]} "$ROOT/deploy/pg.sh" "$@"; }
city_sh() { GF_VAR=$CV/city GF_PGPORT=${PGP[city]} GF_GRIDCTL="$G" "$ROOT/deploy/city.sh" "$@"; }
cleanup() {
  local c
  [ -z "${GF_CITY_KEEP:-}" ] || return 0 # debugging: leave the clusters running
  for c in east west city; do pgc "$c" stop >/dev/null 2>&1; done
  rm -rf "$CV"
}
trap 'stop_all; cleanup' EXIT
cleanup
started=$SECONDS

# --- the two districts: a cluster, the gridflow database, the directory, users
for d in east west; do
  pgc "$d" start >>"$ART/pg-$d.log" 2>&1 || { not_ok "$d cluster started (see pg-$d.log)"; exit 1; }
  DB[$d]=$(pgc "$d" conninfo gridflow)
  GF_DB=${DB[$d]} migrate_db
  pgc "$d" users >>"$ART/pg-$d.log" 2>&1 || not_ok "$d: service users"
done
check "districts run with wal_level = logical (deploy/pg.sh's default)" "logical logical" \
  "$(SQL_DB=${DB[east]} sql "SHOW wal_level") $(SQL_DB=${DB[west]} sql "SHOW wal_level")"

# stack DISTRICT: its relay, intake and router, on its ports.
stack() {
  local d=$1 b=$((PORT_BASE + ${OFF[$1]}))
  local -a env=(GF_DB="${DB[$d]}" GF_INTAKE=tcp://127.0.0.1:$b GF_PUB=tcp://127.0.0.1:$((b + 1))
                GF_REPLAY=tcp://127.0.0.1:$((b + 2)))
  local s
  for s in relay intake router; do
    env "${env[@]}" "$BIN/gf-$s" >>"$ART/$s@$d.log" 2>&1 &
    PIDS[$s@$d]=$!
  done
  wait_for "$d intake" 30 port_open "$b"
  wait_for "$d relay" 30 port_open $((b + 2))
}
# feed DISTRICT COUNT SEED: COUNT hotline complaints into DISTRICT's intake,
# every one acknowledged.
feed() {
  local d=$1 b=$((PORT_BASE + ${OFF[$1]}))
  gen_hotline "$2" "$3" --prefix "HL-$d-$3" >"$ART/feed-$d-$3.jsonl" 2>/dev/null
  GF_INTAKE=tcp://127.0.0.1:$b "$BIN/gf-hotline" --window 16 --timeout 2000 --attempts 20 \
    "$ART/feed-$d-$3.jsonl" >"$ART/feed-$d-$3.out" 2>"$ART/feed-$d-$3.err"
  check "$d: $2 complaints acknowledged by its intake" "$2" \
    "$(awk -F'[ ,]+' '{print $2 + $4}' "$ART/feed-$d-$3.out")"
}
# routed DISTRICT: every case of DISTRICT routed or unroutable.
routed() { SQL_DB=${DB[$1]} sql_eq "SELECT count(*) FROM cases WHERE state = 'registered'" 0; }
# resolve DISTRICT N: sign and resolve N routed cases through the intake;
# the first is classified too (a special group: the priority rows).
resolve() {
  local d=$1 b=$((PORT_BASE + ${OFF[$1]})) id
  id=$(SQL_DB=${DB[$d]} sql "SELECT id FROM cases WHERE state = 'routed' ORDER BY id LIMIT 1")
  GF_DB=${DB[$d]} GF_INTAKE=tcp://127.0.0.1:$b act "$id" classify --actor P-QNL-1 --tier hard --groups dibao
  for id in $(SQL_DB=${DB[$d]} sql "SELECT id FROM cases WHERE state = 'routed' ORDER BY id LIMIT $2"); do
    GF_DB=${DB[$d]} GF_INTAKE=tcp://127.0.0.1:$b act "$id" sign --actor P-QNL-1
    GF_DB=${DB[$d]} GF_INTAKE=tcp://127.0.0.1:$b act "$id" resolve --actor P-QNL-1 --note "已办结"
  done
}

for d in east west; do stack "$d"; done
feed east 60 11
feed west 40 12
for d in east west; do wait_for "$d routed" 30 routed "$d"; done
resolve east 6
resolve west 4

# --- the city: its cluster and both districts added
city_sh init >"$ART/city-init.log" 2>&1 || { not_ok "city init (see city-init.log)"; exit 1; }
for d in east west; do
  if city_sh add-district "$d" "${DB[$d]}" >>"$ART/city-add.log" 2>&1; then ok "district $d added to the city"
  else not_ok "add-district $d: $(tail -2 "$ART/city-add.log")"; exit 1; fi
done
check "a second add of the same district is refused" 1 \
  "$(city_sh add-district east "${DB[east]}" >/dev/null 2>&1; echo $?)"
# gridctl reads the city as gridflow_ctl (gf_ctl), not as the owner.
CITY="$(pgc city conninfo gridflow) user=gridflow_ctl"
MONTH=$(GF_DB=$CITY "$G" city report --format csv 2>>"$ART/report.err" | awk -F, 'NR == 2 {print $1}')
note "the month: $MONTH; districts and city ready $((SECONDS - started)) s after the start"

# caught_up DISTRICT: the city's replica of DISTRICT has its cases, events and seq.
replica() { echo "$(pgc city conninfo "gridflow_$1") user=gridflow_ctl"; }
figures() { SQL_DB=$1 sql "SELECT (SELECT count(*) FROM cases) || '/' || (SELECT count(*) FROM case_events) || '/' || (SELECT coalesce(max(version), 0) FROM cases) || '/' || (SELECT coalesce(sum(version), 0) FROM cases)"; }
caught_up() { [ "$(figures "${DB[$1]}")" == "$(figures "$(replica "$1")")" ]; }
# freshness DISTRICT: its state in gridctl city status (live|stale).
freshness() { GF_DB=$CITY "$G" city status --format csv --stale-after "${2:-120}" | awk -F, -v d="$1" '$1 == d {print $2}'; }

# compare WHAT: the city report against the sum of the districts' own.
# Counts (received, resolved, open, on time, late, escalations) of the
# total, each category, each priority and each escalation rule.
compare() {
  for d in east west; do
    GF_DB=${DB[$d]} "$G" report monthly --grid QNL --month "$MONTH" --format csv >"$ART/report-$d.csv" 2>>"$ART/report.err" ||
      not_ok "$d: report monthly"
  done
  GF_DB=$CITY "$G" city report --month "$MONTH" --format csv >"$ART/report-city.csv" 2>>"$ART/report.err" ||
    not_ok "city report"
  # district: month,grid,section,key,name,received,resolved,open,rate,on_time,late,rate,avg,escalations
  awk -F, 'FNR > 1 && $3 != "l2" {k = $3 "|" $4; r[k] += $6; s[k] += $7; o[k] += $8; t[k] += $10; l[k] += $11; e[k] += $14}
           END {for (k in r) print k, r[k], s[k], o[k], t[k], l[k], e[k]}' \
    "$ART/report-east.csv" "$ART/report-west.csv" | sort >"$ART/sum-districts.txt"
  # city: month,section,key,name,received,resolved,open,rate,on_time,late,rate,avg,escalations
  awk -F, 'NR > 1 && $2 != "district" {print $2 "|" $3, $5 + 0, $6 + 0, $7 + 0, $9 + 0, $10 + 0, $13 + 0}' \
    "$ART/report-city.csv" | sort >"$ART/sum-city.txt"
  local rows; rows=$(wc -l <"$ART/sum-city.txt")
  note "$1: special group dibao, city: $(grep '^priority|dibao ' "$ART/sum-city.txt")"
  if [ "$rows" -gt 10 ] && diff "$ART/sum-districts.txt" "$ART/sum-city.txt" >"$ART/sum.diff"; then
    ok "$1: the city report equals the sum of the districts' ($rows rows; total $(grep '^total|' "$ART/sum-city.txt"))"
  else
    not_ok "$1: city report differs from the districts' sum ($rows rows): $(head -c 600 "$ART/sum.diff")"
  fi
  check "$1: the city's district rows are each district's total received" \
    "$(awk -F, '$3 == "total" {print $6}' "$ART/report-east.csv") $(awk -F, '$3 == "total" {print $6}' "$ART/report-west.csv")" \
    "$(awk -F, '$2 == "district" && $3 == "east" {print $5}' "$ART/report-city.csv") $(awk -F, '$2 == "district" && $3 == "west" {print $5}' "$ART/report-city.csv")"
}

for d in east west; do wait_for "the city to catch up with $d" 30 caught_up "$d" && ok "the city has $d's cases and events ($(figures "${DB[$d]}"))"; done
compare "both districts up"
check "both districts live" "live live" "$(freshness east) $(freshness west)"
check "the city's replica holds no resident's phone or clear text" "0 0" \
  "$(SQL_DB=$(pgc city conninfo gridflow_east) sql "SELECT count(phone) || ' ' || count(description) FROM cases")"
check "both districts' case 1 kept apart in the city (one replica database each)" "HL-east-11 HL-west-12" \
  "$(SQL_DB=$(replica east) sql "SELECT left(source_ref, 10) FROM cases WHERE id = 1") $(SQL_DB=$(replica west) sql "SELECT left(source_ref, 10) FROM cases WHERE id = 1")"

# --- east cut off from the city (its pg_hba refuses the subscription user,
# --- the walsender is ended) while it takes complaints: a backlog in its slot
HBA=$CV/east/pg/data/pg_hba.conf
cp "$HBA" "$ART/pg_hba.east"
{ echo "local all gridflow_city reject"; cat "$ART/pg_hba.east"; } >"$HBA"
cut_off() {
  SQL_DB=${DB[east]} sql "SELECT pg_reload_conf()" >/dev/null
  sleep 0.5
  SQL_DB=${DB[east]} sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_replication WHERE usename = 'gridflow_city'" >/dev/null
}
cut_off
stale_east() { [ "$(freshness east)" == stale ]; }
wait_for "east stale" 20 stale_east && ok "east shown stale while the city cannot reach it"
before=$(figures "$(replica east)")
feed east 20 15
wait_for "east routed" 30 routed east
sleep 1
check "nothing of the backlog reaches the city while cut off" "$before" "$(figures "$(replica east)")"
cat "$ART/pg_hba.east" >"$HBA"
SQL_DB=${DB[east]} sql "SELECT pg_reload_conf()" >/dev/null
cut_at=$SECONDS
wait_for "the city to catch up with east's backlog" 30 caught_up east &&
  ok "east's backlog ($(figures "${DB[east]}")) reached the city $((SECONDS - cut_at)) s after it could connect again"

# --- west's PostgreSQL stopped for a while; east goes on
west_cases=$(SQL_DB=${DB[west]} sql "SELECT count(*) FROM cases")
pgc west stop
down_at=$SECONDS
stale_west() { [ "$(freshness west)" == stale ]; }
wait_for "west stale" 20 stale_west && ok "west shown stale $((SECONDS - down_at)) s after its PostgreSQL stopped"
GF_DB=$CITY "$G" city status >"$ART/status-down.txt" 2>&1
note "$(grep west "$ART/status-down.txt")"
feed east 30 13
wait_for "east routed" 30 routed east
resolve east 3
wait_for "the city to catch up with east while west is down" 30 caught_up east &&
  ok "east's new complaints reach the city while west is down"
check "east live while west is down" "live stale" "$(freshness east) $(freshness west)"
GF_DB=$CITY "$G" city report --month "$MONTH" --format csv >"$ART/report-city-down.csv" 2>>"$ART/report.err"
check "the city report while west is down: east's new total, west's last" \
  "$(SQL_DB=${DB[east]} sql "SELECT count(*) FROM cases") $west_cases" \
  "$(awk -F, '$2 == "district" && $3 == "east" {print $5}' "$ART/report-city-down.csv") $(awk -F, '$2 == "district" && $3 == "west" {print $5}' "$ART/report-city-down.csv")"
# West stays down a while: its apply worker fails and retries (every
# wal_retrieve_retry_interval, 5 s) more than once.
while [ $((SECONDS - down_at)) -lt 12 ]; do sleep 0.5; done

# --- west back: its services reconnect, complaints into it, the city catches up
pgc west start >>"$ART/pg-west.log" 2>&1 || not_ok "west restarted"
note "west down $((SECONDS - down_at)) s"
feed west 30 14
wait_for "west routed" 30 routed west
resolve west 2
if wait_for "the city to catch up with west" 30 caught_up west; then
  ok "west caught up in the city ($(figures "${DB[west]}")) $((SECONDS - down_at)) s after it stopped"
fi
live_west() { [ "$(freshness west)" == live ]; }
wait_for "west live" 20 live_west && ok "west live again"
compare "after west's return"
GF_DB=$CITY "$G" city report --month "$MONTH" >"$ART/report-city.txt" 2>&1 || not_ok "city report (table)"
note "$(sed -n 2,4p "$ART/report-city.txt" | tr '\n' ' ')"

# remove-district: the subscription (and its slot on the district) and the replica go.
if city_sh remove-district west >>"$ART/city-add.log" 2>&1 &&
   SQL_DB=${DB[west]} sql_eq "SELECT count(*) FROM pg_replication_slots" 0; then
  ok "west removed from the city, its replication slot dropped on west"
else
  not_ok "remove-district west: $(tail -2 "$ART/city-add.log")"
fi
check "the city lists east alone" "east gridflow_east" "$(city_sh list)"
# Added again (the runbook's answer to a district restored from a backup):
# a fresh copy, and the report equals the sum again.
if city_sh add-district west "${DB[west]}" >>"$ART/city-add.log" 2>&1 && caught_up west; then
  ok "west added again: a fresh copy ($(figures "$(replica west)"))"
else
  not_ok "west added again: $(tail -2 "$ART/city-add.log")"
fi
compare "west added again"

# --- the city dashboard: the gateway on the city's database, as its own
# --- LOGIN user; the city office's directory (one grid) and a kiosk link
cat >"$ART/city-directory.json" <<'JSON'
{"grids": [{"code": "CITY", "level": 1, "parent": null, "name": "市级指挥中心"}],
 "people": [{"id": "P-CITY-1", "grid": "CITY", "role": "leader", "name": "市级值班", "position": "值班长"}],
 "addresses": []}
JSON
GF_DB=$CITY "$G" grids import "$ART/city-directory.json" >>"$ART/city-dash.log" 2>&1 || not_ok "city directory imported"
KIOSK=$(GF_DB=$CITY "$G" kiosk add --grid CITY --label 市级大屏 | sed -n 's/^token: //p')
CITY_URL=http://127.0.0.1:$((PORT_BASE + 9))
env GF_DB="$(pgc city conninfo gridflow) user=gridflow_gateway" GF_HTTP=127.0.0.1:$((PORT_BASE + 9)) \
  GF_PUB=tcp://127.0.0.1:$((PORT_BASE + 1)) GF_REPLAY=tcp://127.0.0.1:$((PORT_BASE + 2)) \
  "$BIN/gf-gateway" >>"$ART/gateway-city.log" 2>&1 &
PIDS[gateway]=$!
wait_for "the city's gateway" 20 curl -sf "$CITY_URL/healthz"
check "city dashboard: no session or kiosk link, no figures (401)" 401 \
  "$(curl -s -o /dev/null -w '%{http_code}' "$CITY_URL/api/city.json")"
check "city dashboard: a bad month is refused (400)" 400 \
  "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KIOSK" "$CITY_URL/api/city.json?month=2026-13")"
code=$(curl -s -o "$ART/city.json" -w '%{http_code}' -H "Authorization: Bearer $KIOSK" "$CITY_URL/api/city.json?month=$MONTH")
check "city dashboard: /api/city.json read as gridflow_gateway" 200 "$code"
# The same figures as gridctl city report (the last compare's CSV): the
# total and each district's received, and both districts live.
check "city dashboard: the report's total and district rows are gridctl city report's" \
  "$(awk -F, '$2 == "total" || $2 == "district" {print $2 "|" $3 "|" $5 "|" $6}' "$ART/report-city.csv" | paste -sd' ')" \
  "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(" ".join("%s|%s|%s|%s" % (r["section"], r["key"] or "", r["received"], r["resolved"]) for r in d["report"] if r["section"] in ("total", "district")))' "$ART/city.json")"
check "city dashboard: a freshness line per district, both live" "east:live west:live" \
  "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(" ".join("%s:%s" % (f["district"], f["state"]) for f in d["freshness"]))' "$ART/city.json")"
check "city dashboard: the page (/city) is served" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$CITY_URL/city")"
note "whole run: $((SECONDS - started)) s"
finish cleanup
