#!/usr/bin/env bash
# test: long 26 (seconds on a quiet machine: the long ones start first)
# Issue 15, acceptance "test_households": the people side's register and
# directory.  A generated register (fake names, numbers, addresses: tests/
# tools/gen_households.py) for every L3 grid of the sample is imported by
# an operator (gridctl household import: audited, idempotent); staff change
# it through the intake (household.register / household.group): a new
# household, a membership added and ended, a resend answered duplicate,
# bad input refused with its code and nothing changed; the history lists
# the changes; special households' visit deadlines (gf_visit_due: the
# shortest period of the current groups, from the start of membership when
# never visited).  The directory's roles are versioned (grids import with
# "roles", gridctl people edit): who led a grid at a time keeps its name.
# Then every planted name, phone and address is searched in the published
# stream (raw subscriber and replay from 0), SSE, Open311, the dashboard's
# JSON, the public pages and every log: zero hits; staff (gridctl household
# show) see them (positive control).  docs/households.md.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/gateway_lib.sh"
new_db
G="$BIN/gridctl"
"$G" calendar import >"$ART/calendar.out" 2>&1 || not_ok "calendar import"
clock_set "2026-12-01T10:00:00+08:00" # a Tuesday
as_role() { echo "$GF_DB options=-crole=$1"; }
start relay -v --db "$(as_role gf_relay)"
start intake -v --db "$(as_role gf_intake)"
start router -v --db "$(as_role gf_router)"
start notifier -v --db "$(as_role gf_notifier)"
wait_for "intake port" 30 port_open $((PORT_BASE + 0))
wait_for "consumers" 10 sql_eq "SELECT count(*) FROM consumer_checkpoints" 2
start_gateway GF_DB="$(as_role gf_gateway)"
gw_kiosk # the staff reads (/api/*, /stream) need a session or a kiosk token (issue 16)
"$TOOLS/capture" "$GF_PUB" "$ART/capture.ready" 600000 "$ART/bodies.bin" >"$ART/capture.txt" 2>"$ART/capture.err" &
CAPTURE=$!
wait_for "subscriber to be connected" 10 test -f "$ART/capture.ready"

# --- the register, imported by an operator ------------------------------------------
python3 "$ROOT/tests/tools/gen_households.py" --grids "$SAMPLE" --per-grid 3 --seed 7 \
  --out "$ART/register.json" --secrets "$ART/secrets.txt" --csv "$ART/register.csv" || not_ok "gen_households"
N=$(jq '.households | length' "$ART/register.json")
NG=$(jq '[.households[].groups // [] | length] | add' "$ART/register.json")
GF_ACTOR=ops-wang "$G" household import "$ART/register.json" >"$ART/import.out" 2>&1 || not_ok "household import: $(cat "$ART/import.out")"
check "import: every household created, every membership added" \
  "imported: $N created, 0 updated, $NG memberships added, 0 ended" "$(cat "$ART/import.out")"
check "every L3 grid of the sample has its households" "111 $N $NG" \
  "$(sql "SELECT count(DISTINCT grid) || ' ' || count(*) || ' ' || (SELECT count(*) FROM household_groups) FROM households")"
GF_ACTOR=ops-wang "$G" household import "$ART/register.json" >"$ART/import2.out" 2>&1
check "a second import of the same file changes nothing" \
  "imported: 0 created, 0 updated, 0 memberships added, 0 ended|$((N + NG))" \
  "$(cat "$ART/import2.out")|$(sql "SELECT count(*) FROM case_events WHERE type = 'household.changed'")"
"$G" household import "$ART/register.csv" >"$ART/import-csv.out" 2>&1 || not_ok "household import (CSV): $(cat "$ART/import-csv.out")"
check "the same register as CSV (no members: kept) changes nothing" \
  "imported: 0 created, 0 updated, 0 memberships added, 0 ended" "$(cat "$ART/import-csv.out")"
check "the import is in the audit trail, with the operator" "t" \
  "$(sql "SELECT count(*) = $((N + NG)) AND bool_and (actor = 'ops-wang') FROM audit_log
           WHERE tab IN ('households', 'household_groups') AND op = 'insert'")"
H0=$(jq -r '.households[0].id' "$ART/register.json")
H0_NAME=$(jq -r '.households[0].head_name' "$ART/register.json")
jq '.households[0].head_name = "上官秘错" | .households[5].grid = "QNL.07"' "$ART/register.json" >"$ART/bad.json"
before=$(sql "SELECT count(*) FROM household_changes")
"$G" household import "$ART/bad.json" >"$ART/bad-import.out" 2>&1
check "an import with a non-L3 grid fails and changes nothing, not even its good rows" \
  "1|$before|$H0_NAME" \
  "$(grep -c 'nothing changed' "$ART/bad-import.out")|$(sql "SELECT count(*) FROM household_changes")|$(sql "SELECT head_name FROM households WHERE id = '$H0'")"

# --- staff change the register through the intake ------------------------------------
NEW_NAME=诸葛秘新 NEW_PHONE=19755501234 NEW_ADDR=花园村第一网格秘户巷999号1201室
printf '%s\n%s\n%s\n' "$NEW_NAME" "$NEW_PHONE" "$NEW_ADDR" >>"$ART/secrets.txt"
hh() { "$G" household "$@" >>"$ART/hh.out" 2>>"$ART/hh.err" || not_ok "household $*: $(tail -1 "$ART/hh.err")"; }
snapshot() {
  sql "SELECT (SELECT count(*) FROM households) || ' ' || (SELECT sum(version) FROM households) || ' ' ||
              (SELECT count(*) FROM household_groups) || ' ' || (SELECT count(*) FROM household_changes) || ' ' ||
              (SELECT count(*) FROM case_events) || ' ' || (SELECT count(*) FILTER (WHERE valid_to IS NULL) FROM household_groups)"
}
refused() { # refused CODE WHAT ARGS...: gridctl household ARGS refused with CODE, nothing changed
  local code=$1 what=$2 before after got
  before=$(snapshot)
  "$G" household "${@:3}" >/dev/null 2>"$ART/refused.err"
  got=$(sed -n 's/^error: \([a-z_]*\):.*/\1/p' "$ART/refused.err")
  after=$(snapshot)
  if [ "$got" == "$code" ] && [ "$before" == "$after" ]; then
    ok "refused: $what ($code, nothing changed)"
  else
    not_ok "refused: $what: got '$got' ($(cat "$ART/refused.err")), want $code; before '$before' after '$after'"
  fi
}
HN=hh-e2e-new
hh register $HN --actor "$L3" --grid QNL.07.063 --address "$NEW_ADDR" --head-name "$NEW_NAME" \
  --phone "$NEW_PHONE" --members '[{"name":"诸葛秘幼","relation":"子女"}]' --request-id reg-1
echo 诸葛秘幼 >>"$ART/secrets.txt"
check "the L3 leader registered a household in its grid" "QNL.07.063 $NEW_NAME 1" \
  "$(sql "SELECT grid || ' ' || head_name || ' ' || version FROM households WHERE id = '$HN'")"
hh group $HN --actor "$L3" --add bereaved --from 2026-11-10 --source 民政名单 --request-id grp-1
hh group $HN --actor "$L3" --add dibao --from 2026-10-01 --request-id grp-2
before=$(snapshot)
out=$("$G" household group $HN --actor "$L3" --add bereaved --from 2026-11-10 --request-id grp-1 2>&1)
check "a resend (same request id) is a duplicate and changes nothing" "1|$before" \
  "$(grep -c 'already done' <<<"$out")|$(snapshot)"
check "memberships with start and source" "bereaved 2026-11-10 民政名单|dibao 2026-10-01 staff:$L3" \
  "$(sql "SELECT string_agg (grp || ' ' || valid_from || ' ' || source, '|' ORDER BY grp) FROM household_groups WHERE household = '$HN'")"
# Visit deadlines: the shortest period of the current groups (bereaved:
# monthly, dibao: quarterly), from the start of that membership (never visited).
check "visit due a month after joining bereaved (the shortest period)" "2026-12-10" "$(sql "SELECT gf_visit_due ('$HN')")"
hh group $HN --actor "$L2" --end bereaved --to 2026-11-30 --request-id grp-3
check "bereaved ended: the quarterly dibao period from its start" "2027-01-01|false" \
  "$(sql "SELECT gf_visit_due ('$HN') || '|' || (gf_visit_due ('$HN') < '2026-12-01')")"
"$G" household show $HN >"$ART/show.txt" 2>&1
check "household show (staff): head, phone, members, groups, next due" "t" \
  "$(grep -q -F "$NEW_NAME" "$ART/show.txt" && grep -q -F "$NEW_PHONE" "$ART/show.txt" && grep -q -F 诸葛秘幼 "$ART/show.txt" &&
     grep -q 'period quarter   next due 2027-01-01' "$ART/show.txt" && grep -q 'bereaved .* 2026-11-10 .. 2026-11-30' "$ART/show.txt" && echo t || echo f)"
"$G" household history $HN >"$ART/history.txt" 2>&1
check "household history: the changes in order, the memberships over time" \
  "created group_added group_added group_ended|bereaved 2026-11-10 .. 2026-11-30|dibao 2026-10-01 .. -" \
  "$(awk '$3 ~ /^(created|updated|group_)/ {printf "%s%s", s, $3; s=" "}' "$ART/history.txt")|$(grep -E '^  bereaved' "$ART/history.txt" | awk '{print $1, $2, $3, $4}')|$(grep -E '^  dibao' "$ART/history.txt" | awk '{print $1, $2, $3, $4}')"
hh register $HN --actor "$L3" --version 4 --phone 19755509999 --request-id reg-2
echo 19755509999 >>"$ART/secrets.txt"
check "an update at the version seen" "19755509999 5" "$(sql "SELECT phone || ' ' || version FROM households WHERE id = '$HN'")"

refused unknown_grid "a household in a grid not in the directory" register hh-e2e-x --actor "$L2" --grid QNL.07.999 --address a --head-name b
refused bad_value "a household in an L2 grid" register hh-e2e-x --actor "$L2" --grid QNL.07 --address a --head-name b
refused forbidden "an actor outside the household's grid subtree" group $HN --actor "$L3C" --add hardship
refused forbidden "a grid outside the actor's subtree" register hh-e2e-x --actor "$L3B" --grid QNL.07.063 --address a --head-name b
refused unknown_household "a membership of an unknown household" group hh-e2e-none --actor "$L2" --add dibao
refused bad_value "an unknown group" group $HN --actor "$L3" --add millionaire
refused bad_value "an end before the start" group $HN --actor "$L3" --end dibao --to 2026-09-01
refused conflict "a stale version" register $HN --actor "$L3" --version 2 --phone 19755500000
refused conflict "joining a group twice" group $HN --actor "$L3" --add dibao
refused unknown_actor "an actor not in the directory" group $HN --actor nobody --add hardship
refused missing_field "a new household without its head" register hh-e2e-x --actor "$L3" --grid QNL.07.063 --address a
refused bad_value "members beyond what the work needs" register hh-e2e-x --actor "$L3" --grid QNL.07.063 --address a --head-name b --members '[{"name":"c","id_card":"1"}]'

# Special households due in QNL.07, soonest first (the L2 view).
"$G" household due QNL.07 >"$ART/due.txt" 2>&1
check "household due QNL.07: the special households of its grids, soonest first" \
  "$(sql "SELECT count(*) FROM gf_visits_due ('QNL.07')")|1|sorted" \
  "$(wc -l <"$ART/due.txt")|$(grep -c "^$HN " "$ART/due.txt")|$(grep -o 'due [0-9-]*' "$ART/due.txt" | sort -c 2>/dev/null && echo sorted)"
# (A missed visit reminded once per period on working days: below, after
# the directory's roles, as the simulated clock only moves forward.)

# --- the directory's roles, versioned ------------------------------------------------
check "the sample's roles: cadres sent down (home unit) serving two grids, three heads, mediators" \
  "$(jq '[.people[].roles // [] | .[]] | length' "$SAMPLE")|t" \
  "$(sql "SELECT count(*) FROM person_roles WHERE role IN ('cadre', 'three_heads', 'team_member')")|$(sql "SELECT count(*) > 0 FROM (SELECT person FROM person_roles WHERE role = 'cadre' AND home_unit IS NOT NULL GROUP BY person HAVING count(*) = 2) x")"
jq '(.people[] | select(.id == "P-QNL-2")).roles = [{"grid":"QNL.07.063","role":"cadre","home_unit":"区民政局"},
                                                   {"grid":"QNL.07.064","role":"cadre","home_unit":"区民政局"}]
    | (.people[] | select(.id == "P-QNL.07.058-2")).roles = [{"grid":"QNL.07.058","role":"team_member","team":"mediators"},
                                                           {"grid":"QNL.07.058","role":"household_rep"}]' \
  "$SAMPLE" >"$ART/dir-roles.json"
rows=$(sql "SELECT count(*) FROM person_roles")
"$G" grids import "$ART/dir-roles.json" >>"$ART/dir.out" 2>&1 || not_ok "grids import with roles"
check "grids import with roles: a cadre in two grids, a mediator and household representative (4 rows)" \
  "$((rows + 4))|QNL.07.063 QNL.07.064" \
  "$(sql "SELECT count(*) FROM person_roles")|$(sql "SELECT string_agg (grid, ' ' ORDER BY grid) FROM person_roles WHERE person = 'P-QNL-2' AND role = 'cadre' AND home_unit = '区民政局' AND valid_to IS NULL")"
"$G" grids import "$ART/dir-roles.json" >>"$ART/dir.out" 2>&1
clock_set "2026-12-01T11:00:00+08:00"
"$G" grids import "$SAMPLE" >>"$ART/dir.out" 2>&1 || not_ok "grids import of the old file"
check "the same file again touches nothing; the old file (no roles) closes the extra roles, keeps the rest" \
  "$((rows + 4))|4|0" \
  "$(sql "SELECT count(*) FROM person_roles")|$(sql "SELECT count(*) FROM person_roles WHERE valid_to IS NOT NULL")|$(sql "SELECT count(*) FROM person_roles WHERE valid_to IS NOT NULL AND role IN ('leader','member','triage')")"
clock_set "2026-12-02T09:00:00+08:00"
"$G" people edit "$L2" --roles '[]' >/dev/null 2>&1 # unchanged: still the QNL.07 leader
jq '(.people[] | select(.id == "P-QNL.07-1")).role = "member" | (.people[] | select(.id == "P-QNL.07.058-1")).roles = [{"grid":"QNL.07","role":"leader"}]' \
  "$SAMPLE" >"$ART/dir-new-leader.json"
"$G" grids import "$ART/dir-new-leader.json" >>"$ART/dir.out" 2>&1 || not_ok "grids import, new leader"
check "who led QNL.07: before the change its old leader, now the new one" "P-QNL.07-1|P-QNL.07.058-1" \
  "$(sql "SELECT gf_person_role_at ('QNL.07', 'leader', '2026-11-15')")|$(sql "SELECT gf_person_role_at ('QNL.07', 'leader', gf_now ())")"
"$G" people history --grid QNL.07 >"$ART/people-history.txt" 2>&1
check "people history --grid QNL.07: both leaders with their times" "t" \
  "$(grep -q 'P-QNL.07-1 .* leader .* always .. 2026-12-02 09:00' "$ART/people-history.txt" &&
     grep -q 'P-QNL.07.058-1 .* leader .* 2026-12-02 09:00 .. now' "$ART/people-history.txt" && echo t || echo f)"
"$G" people edit P-QNL.07.058-2 --roles '[{"grid":"QNL.07.058","role":"team_member","team":"volunteers"}]' >"$ART/edit.out" 2>&1
check "people edit: one person's roles versioned through gridctl" "t" \
  "$(sql "SELECT count(*) FILTER (WHERE team = 'volunteers' AND valid_to IS NULL) = 1 FROM person_roles WHERE person = 'P-QNL.07.058-2'")"

# --- a missed visit reminded once per period on working days (033) -------------------
# The escalator reminds of overdue visits (gf_field_reminders): the
# household's L3 leader from remind_hour (09:00) on the due day or the
# first working day after it, its L2 leader once visit_l2_grace_working_days
# (5) more have passed; once per period (the due day), never on a day off,
# each reminder a staff notice with the household's opaque id only.  The
# register's other overdue households are reminded too (they are swept below
# with everything else).  hh-e2e-due: bereaved (monthly) from 5 November,
# due Saturday 5 December.
HD=hh-e2e-due
hh register $HD --actor "$L3C" --grid QNL.08.067 --address "花园村第一网格秘户巷7号" --head-name "欧阳秘到" \
  --phone 19755507777 --request-id reg-due
printf '%s\n%s\n%s\n' 欧阳秘到 19755507777 花园村第一网格秘户巷7号 >>"$ART/secrets.txt"
hh group $HD --actor "$L3C" --add bereaved --from 2026-11-05 --request-id grp-due
check "$HD's visit is due on Saturday 5 December" "2026-12-05" "$(sql "SELECT gf_visit_due ('$HD')")"
start escalator -v --db "$(as_role gf_escalator)"
wait_for "escalation to start" 10 sql_eq "SELECT count(*) FROM escalation_state" 1
wait_for "the register's overdue visits reminded (Wednesday 09:00)" 30 sql_eq \
  "SELECT count(*) > 0 FROM field_reminders WHERE kind = 'visit.overdue'" t
# remind N: the reminders of $HD (recipient:audience:period), in order
remind() { sql "SELECT coalesce(string_agg(recipient || ':' || audience || ':' || period, ' ' ORDER BY id), '-') FROM field_reminders WHERE subject = '$HD'"; }
check "not due yet: not reminded" "-" "$(remind)"
clock_set "2026-12-05T10:00:00+08:00"
sleep 2 # the escalator ticks on the clock's change: the subject, not a wait
clock_set "2026-12-06T10:00:00+08:00"
sleep 2
check "due on Saturday: not reminded on Saturday or Sunday (days off)" "-" "$(remind)"
clock_set "2026-12-07T09:05:00+08:00"
wait_for "Monday 09:05: reminded" 30 sql_eq "SELECT count(*) FROM field_reminders WHERE subject = '$HD'" 1
check "reminded to its L3 leader, for the period of 5 December" "$L3C:grid_leader:2026-12-05" "$(remind)"
check "a staff notice: the household by its opaque id, no name, address or phone; app and SMS deliveries due now" \
  "1|true|app,sms|true" \
  "$(sql "SELECT count(*) || '|' || bool_and(n.text LIKE '%一户重点户（编号 $HD）应于 2026-12-05 走访%' AND n.text !~ '欧阳秘到|19755507777|秘户巷')
                 || '|' || (SELECT string_agg(d.channel, ',' ORDER BY d.channel) FROM deliveries d WHERE d.notification = min(n.id))
                 || '|' || (SELECT bool_and(d.not_before <= gf_now()) FROM deliveries d WHERE d.notification = min(n.id))
            FROM notifications n JOIN field_reminders f ON f.id = n.field_reminder WHERE f.subject = '$HD'")"
clock_set "2026-12-07T15:00:00+08:00"
sleep 2
clock_set "2026-12-08T10:00:00+08:00"
sleep 2
check "not again that afternoon or the next working day (once per period)" "1 1" \
  "$(sql "SELECT (SELECT count(*) FROM field_reminders WHERE subject = '$HD') || ' ' || (SELECT count(*) FROM notifications n JOIN field_reminders f ON f.id = n.field_reminder WHERE f.subject = '$HD')")"
clock_set "2026-12-11T10:00:00+08:00"
sleep 2
check "Friday 11 December, within the grace: the L2 leader not told yet" 1 \
  "$(sql "SELECT count(*) FROM field_reminders WHERE subject = '$HD'")"
clock_set "2026-12-14T09:05:00+08:00"
wait_for "Monday 14 December (five working days after the due weekend): QNL.08's leader told" 30 sql_eq \
  "SELECT count(*) FROM field_reminders WHERE subject = '$HD'" 2
check "once each: the L3 leader, then the L2 leader, the same period" \
  "$L3C:grid_leader:2026-12-05 P-QNL.08-1:l2_leader:2026-12-05" "$(remind)"


# --- every outside view, collected ----------------------------------------------------
stop_capture
"$G" watch --since 0 --json --idle 1500 >"$ART/replay.jsonl" 2>"$ART/watch-replay.log"
check "the replay from seq 0 got every event" "$(sql "SELECT count(*) FROM case_events")" "$(wc -l <"$ART/replay.jsonl")"
check "the stream carries household.changed with the opaque id, the change and the version only" \
  '{"change":"group_ended","household":"hh-e2e-new","version":4}' \
  "$(jq -c 'select(.type == "household.changed" and .household == "hh-e2e-new" and .change == "group_ended") | {change, household, version}' "$ART/replay.jsonl")"
curl -s -N -m 6 -H "$AUTH" "$URL/stream?since=0" >"$ART/sse.txt"
check "SSE from 0 replayed the log" "$(sql "SELECT max(seq) FROM case_events")" \
  "$(sed -n 's/^id: //p' "$ART/sse.txt" | sort -n | tail -1)"
curl -s "$URL/open311/v2/requests.json" >"$ART/open311.json"
for p in summary escalations ledger trend directory vocabulary; do curl -s -H "$AUTH" "$URL/api/$p.json"; echo; done >"$ART/dashboard.json"
for p in / /index.html /directory.html; do curl -s "$URL$p"; echo; done >"$ART/pages.html"
check "the public directory page and JSON were served" t \
  "$([ "$(wc -c <"$ART/dashboard.json")" -gt 1000 ] && [ "$(wc -c <"$ART/pages.html")" -gt 200 ] && echo t || echo f)"

# --- the sweep ----------------------------------------------------------------------------
stop_all
check "the planted values: $(wc -l <"$ART/secrets.txt") names, phones, addresses" t "$([ "$(wc -l <"$ART/secrets.txt")" -gt 1000 ] && echo t || echo f)"
leaks() { grep -a -F -o -f "$ART/secrets.txt" "$@" 2>/dev/null | sort -u | head -8 | tr '\n' ' '; }
check "positive control: the register holds them (the sweep can see a leak)" t \
  "$(sql "SELECT head_name || E'\n' || phone || E'\n' || address FROM households" | grep -q -F -f "$ART/secrets.txt" && echo t || echo f)"
check "no planted value in the raw published stream" "" "$(leaks "$ART/bodies.bin")"
check "none in the replay from seq 0" "" "$(leaks "$ART/replay.jsonl")"
check "none on SSE from 0" "" "$(leaks "$ART/sse.txt")"
check "none in Open311 reads" "" "$(leaks "$ART/open311.json")"
check "none in the dashboard's JSON" "" "$(leaks "$ART/dashboard.json")"
check "none in the public pages" "" "$(leaks "$ART/pages.html")"
logs=$(ls "$ART"/*.log 2>/dev/null)
check "none in any service log ($(echo $logs | wc -w) files)" "" "$(leaks $logs)"
finish
