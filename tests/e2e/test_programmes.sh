#!/usr/bin/env bash
# Issue 15, the programmes of grid work, through the intake (gridctl ...,
# programme.action) on the simulated clock (20 November 2026): 1+10+N links
# of two cadres in QNL.07 with things done on them (a visit's, a case's);
# a help pair (结对帮扶) opened, reviewed twice and closed; relief cases
# (救助); a star-rating round of QNL.07's self-governance groups and one of
# its households, scored and published, its public JSON (gateway
# /api/ratings.json) free of every planted name, address and phone; the
# "111在行动" campaign with per-grid and per-leader targets and its ledger;
# a mediator helping on a neighbour dispute without changing its owner
# grid.  Refused, each with its code and nothing changed: an unknown
# household, a day in the future, a cadre outside the household's grid, a
# rating outside the criteria, a score over its points, a round opened by
# L3, a campaign opened by L2, a team member not of the team; a resend is a
# duplicate.  Visits and patrols logged through the intake (gridctl visit
# log / patrol log): visits counted per link (the linked cadre's, while the
# link is open).  Nothing of the register is on the stream (case_events) or
# in the dashboard's JSON.  The monthly report's programme figures (gridctl
# report monthly --format json) — with patrols done / missed (working days
# of the calendar), visits by special group and overdue — equal an
# independent computation (Python) over the events.  (The timing over a
# year's data is make bench's: bench/programmes_bench.sh.)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/gateway_lib.sh"
G="$BIN/gridctl"
new_db
clock_set "2026-11-20T10:00:00+08:00"
start_stack

L1=P-QNL-1           # L1 (QNL) staff
L2=P-QNL.07-1        # leader of QNL.07
L3=P-QNL.07.063-1    # leader of QNL.07.063
C1=P-QNL.07.063-2    # cadres
C2=P-QNL.07.064-2
MED=P-QNL.07.065-3   # a mediator (调解员) of QNL.07

# The register (`gridctl household import` in test_households.sh; here planted directly): fake names,
# addresses and phones that must never leave the staff side.
sql "INSERT INTO households (id, grid, address, head_name, phone, members, created_at, updated_at)
     SELECT 'H-' || g || '-' || lpad (n::text, 2, '0'), g, '测试街' || g || '号楼' || n || '室',
            '测户' || chr (19968 + n * 7) || chr (20000 + n), '1390000' || lpad ((n + 100 * (g = 'QNL.07.064')::int)::text, 4, '0'),
            jsonb_build_array (jsonb_build_object ('name', '测成员' || chr (21000 + n), 'relation', '子女')), now (), now ()
       FROM unnest (ARRAY['QNL.07.063', 'QNL.07.064']) g, generate_series (1, 12) n" >/dev/null
sql "INSERT INTO person_roles (person, grid, role, team, valid_from)
     VALUES ('$MED', 'QNL.07', 'team_member', 'mediators', '2026-01-01')" >/dev/null
sql "SELECT head_name || E'\n' || address || E'\n' || phone || E'\n' || (members->0->>'name') FROM households" >"$ART/planted.txt"

# prog COMMAND VERB ARGS...: must succeed; REF gets the record it made.
prog() {
  local out
  out=$("$G" "$@" 2>>"$ART/prog.err") || { not_ok "gridctl $*: $(tail -1 "$ART/prog.err")"; return 1; }
  echo "$out" >>"$ART/prog.out"
  REF=$(sed -n 's/^[a-z.]*: ok \([a-z]*:[^ ]*\).*/\1/p' <<<"$out"); REF=${REF#*:}
}
snapshot() {
  sql "SELECT (SELECT count(*) FROM care_links) || ' ' || (SELECT count(*) FROM things_done) || ' ' ||
              (SELECT count(*) FROM help_pairs) || ' ' || (SELECT count(*) FROM help_pair_reviews) || ' ' ||
              (SELECT count(*) FROM rating_scores) || ' ' || (SELECT count(*) FROM rating_rounds WHERE state = 'published') || ' ' ||
              (SELECT count(*) FROM campaigns) || ' ' || (SELECT count(*) FROM campaign_items) || ' ' ||
              (SELECT count(*) FROM case_helpers) || ' ' || (SELECT count(*) FROM case_events) || ' ' ||
              (SELECT count(*) FROM programme_actions) || ' ' || (SELECT count(*) FROM relief_cases)"
}
# refused CODE DESCRIPTION COMMAND VERB ARGS...: refused with CODE, nothing changed.
refused() {
  local code=$1 what=$2 before after got
  before=$(snapshot)
  "$G" "${@:3}" >/dev/null 2>"$ART/refused.err"
  got=$(sed -n 's/^error: \([a-z_]*\):.*/\1/p' "$ART/refused.err")
  after=$(snapshot)
  if [ "$got" == "$code" ] && [ "$before" == "$after" ]; then
    ok "refused: $what ($code, nothing changed)"
  else
    not_ok "refused: $what: got '$got' ($(cat "$ART/refused.err")), want $code; before '$before' after '$after'"
  fi
}

# --- 1+10+N: C1 keeps ten households of QNL.07.063, C2 three of QNL.07.064
for n in 01 02 03 04 05 06 07 08 09 10; do
  prog link open --actor $L2 --person $C1 --household H-QNL.07.063-$n --date 2026-10-15
done
LINK1=$(sql "SELECT id FROM care_links WHERE household = 'H-QNL.07.063-01'")
for n in 01 02 03; do prog link open --actor $L2 --person $C2 --household H-QNL.07.064-$n --date 2026-11-02; done
refused conflict "an eleventh link for C1 (links_per_cadre 10)" link open --actor $L2 --person $C1 --household H-QNL.07.063-11
refused unknown_household "a link with an unknown household" link open --actor $L2 --person $C1 --household H-NOPE
refused bad_value "a cadre outside the household's grid" link open --actor $L2 --person $C2 --household H-QNL.07.063-11
refused forbidden "an L3 leader linking a household of another L3 grid" link open --actor $L3 --person $C2 --household H-QNL.07.064-05
# things done: on links (one carried by a visit), for a household, in October and November
"$G" visit log --actor $C1 --household H-QNL.07.063-01 --at 2026-11-03T10:00:00+08:00 --learned "身体尚可" --done "代购药品" \
  >>"$ART/field.out" 2>>"$ART/field.err" || not_ok "gridctl visit log (3 November)"
V1=$(sql "SELECT id FROM visits WHERE household = 'H-QNL.07.063-01' AND done_at = '2026-11-03 10:00+08'")
prog thing done --actor $C1 --link "$LINK1" --kind repair --note "更换水龙头" --date 2026-11-03 --visit "$V1"
refused bad_value "a thing done naming a visit that does not exist" thing done --actor $C1 --link "$LINK1" --kind repair --note x --visit 987654
prog thing done --actor $C1 --household H-QNL.07.063-02 --kind policy --note "代办低保年审" --date 2026-11-05
prog thing done --actor $C1 --household H-QNL.07.063-02 --kind care --note "送餐" --date 2026-10-20
prog thing done --actor $C2 --household H-QNL.07.064-01 --kind errand --note "代购药品" --date 2026-11-10
prog thing done --actor $C2 --household H-QNL.07.064-01 --kind errand --note "代购药品" --date 2026-11-10 --request-id TD-R
prog thing done --actor $C2 --household H-QNL.07.064-01 --kind errand --note "代购药品" --date 2026-11-10 --request-id TD-R
check "a resend of a thing done is a duplicate" "1" "$(grep -c 'already done' "$ART/prog.out")"
refused bad_value "a thing done in the future" thing done --actor $C1 --household H-QNL.07.063-03 --kind repair --note x --date 2026-11-21
refused bad_value "an unknown kind of thing done" thing done --actor $C1 --household H-QNL.07.063-03 --kind magic --note x
refused unknown_household "a thing done for an unknown household" thing done --actor $C1 --household H-NOPE --kind repair --note x
check "things done counted per link (link, then household)" "1 2" \
  "$(sql "SELECT string_agg (things::text, ' ' ORDER BY household) FROM gf_link_counts ('QNL.07') WHERE household IN ('H-QNL.07.063-01', 'H-QNL.07.063-02')")"
prog link close --actor $L2 --link "$(sql "SELECT id FROM care_links WHERE household = 'H-QNL.07.064-03'")" --date 2026-11-15
refused illegal_transition "closing a closed link" link close --actor $L2 --link "$(sql "SELECT id FROM care_links WHERE household = 'H-QNL.07.064-03'")"

# --- a help pair through its life; relief cases
prog pair open --actor $L2 --person $L3 --household H-QNL.07.063-04 --goal "帮助就业" --date 2026-10-01; PAIR=$REF
prog pair review --actor $L3 --pair "$PAIR" --note "已推荐岗位" --date 2026-10-20
prog pair review --actor $L3 --pair "$PAIR" --note "已上岗" --date 2026-11-06
refused bad_value "an unknown outcome" pair close --actor $L3 --pair "$PAIR" --outcome great
prog pair close --actor $L3 --pair "$PAIR" --outcome achieved --date 2026-11-12
refused illegal_transition "a review of a closed pair" pair review --actor $L3 --pair "$PAIR" --note x
prog pair open --actor $L2 --person $C2 --household H-QNL.07.064-02 --goal "助学" --date 2026-11-08
check "help pairs active / closed" "1 1" "$(sql "SELECT count(*) FILTER (WHERE state = 'active') || ' ' || count(*) FILTER (WHERE state = 'closed') FROM help_pairs")"
prog relief record --actor $L2 --kind homeless_aided --qty 1 --note "流浪人员送救助站" --date 2026-11-09
prog relief record --actor $L3 --kind sent_home --qty 2 --note "护送返乡" --date 2026-11-11
prog relief record --actor $L3 --kind sent_home --qty 3 --note "护送返乡" --date 2026-10-11

# --- star ratings: QNL.07's self-governance groups, and its households
refused forbidden "a round opened by an L3 leader" rating open --actor $L3 --grid QNL.07 --name 2026-11 --kind grid
prog rating open --actor $L2 --name 2026-11 --kind grid; RG=$REF
pts=(18 19 17 20 19 15 14 16 15 12)
i=0
for g in QNL.07.063 QNL.07.064; do
  for c in participation hygiene safety mediation civility; do
    prog rating score --actor $L2 --round "$RG" --subject $g --criterion $c --score "${pts[$i]}"; i=$((i + 1))
  done
done
refused bad_value "a rating outside the criteria" rating score --actor $L2 --round "$RG" --subject QNL.07.063 --criterion beauty --score 5
refused bad_value "a score over its criterion's points" rating score --actor $L2 --round "$RG" --subject QNL.07.063 --criterion safety --score 21
refused unknown_grid "a subject that is not an L3 grid of the round" rating score --actor $L2 --round "$RG" --subject QNL.08.070 --criterion safety --score 5
prog rating publish --actor $L2 --round "$RG"
refused illegal_transition "a score in a published round" rating score --actor $L2 --round "$RG" --subject QNL.07.063 --criterion safety --score 5
prog rating open --actor $L2 --name 2026-11 --kind household; RH=$REF
for n in 01 02 03; do
  for c in participation hygiene safety mediation civility; do
    prog rating score --actor $L2 --round "$RH" --subject H-QNL.07.063-$n --criterion $c --score $((20 - ${n#0} * 3))
  done
done
prog rating publish --actor $L2 --round "$RH"
check "stars: 93 points five, 72 three (rating_star_levels)" "QNL.07.063 5
QNL.07.064 3" "$(sql "SELECT subject || ' ' || stars FROM gf_rating_results ($RG) ORDER BY subject")"

# --- the campaign 111在行动 (L1), targets per grid and per leader, its ledger
refused forbidden "a campaign opened by L2" campaign open --actor $L2 --grid QNL --campaign C111 --name "111在行动"
prog campaign open --actor $L1 --campaign C111 --name "111在行动"
prog campaign target --actor $L1 --campaign C111 --grid QNL.07 --target 20
prog campaign target --actor $L1 --campaign C111 --person $L3 --target 5
prog campaign item --actor $L3 --campaign C111 --person $L3 --qty 3 --note "清理楼道杂物" --date 2026-11-04
prog campaign item --actor $C2 --campaign C111 --grid QNL.07.064 --qty 4 --note "修补路灯" --date 2026-11-06
prog campaign item --actor $L2 --campaign C111 --grid QNL.07 --qty 2 --note "宣传" --date 2026-10-30
"$G" campaign show --grid QNL >"$ART/campaign.json"
check "campaign progress by L1 (grid QNL.07, leader $L3)" "QNL.07 20 9 45
- 5 3 60" "$(jq -r '.[0].targets[] | "\(.target_grid // "-") \(.target) \(.done) \(.pct)"' "$ART/campaign.json")"

# --- a mediator helps on a neighbour dispute; the owner grid stays
CASE=$(submit --source hotline --ref PG-1 --text "邻里漏水纠纷" --grid QNL.07.063 --category dispute 2>>"$ART/gridctl.log")
wait_for "case $CASE routed" 10 sql_eq "SELECT state FROM cases WHERE id = ${CASE:-0}" routed
wait_for "router and notifier to catch up" 20 quiescent # (their events would move the snapshot)
refused bad_value "a helper not of the team" helper assign --actor $L2 --case "$CASE" --person $C1 --team mediators
prog helper assign --actor $L2 --case "$CASE" --person $MED --team mediators
check "the helper on the case's timeline, its grid unchanged" "case.helper QNL.07.063" \
  "$(sql "SELECT e.type || ' ' || c.grid FROM case_events e JOIN cases c ON c.id = e.case_id WHERE e.case_id = $CASE AND e.type = 'case.helper'")"
check "gridctl case show lists the helper and the team" "1" \
  "$("$G" case show "$CASE" 2>/dev/null | grep -c "case.helper.*helper: $MED (mediators)")"
prog thing done --actor $C1 --case "$CASE" --household H-QNL.07.063-05 --kind dispute --note "调解漏水纠纷" --date 2026-11-20

# --- bad input on the wire (a raw DEALER, Debian's python3-zmq and -msgpack):
# the codec's codes, nothing stored
before=$(snapshot)
/usr/bin/python3 - "$GF_INTAKE" >"$ART/wire.out" 2>&1 <<'PY'
import sys, zmq, msgpack
s = zmq.Context().socket(zmq.DEALER); s.connect(sys.argv[1]); s.setsockopt(zmq.RCVTIMEO, 5000)
base = {"v": 1, "type": "programme.action", "at": 1763604000000, "action": "thing.done",
        "actor": "P-QNL.07.063-2", "household": "H-QNL.07.063-03", "kind": "repair", "note": "x"}
cases = [("wrong_type", {"link": "7"}), ("bad_value", {"link": -1}), ("bad_value", {"score": -2}),
         ("too_long", {"note": "长" * 4001}), ("missing_field", {"actor": None}), ("bad_value", {"id": ""}),
         ("invalid_utf8", {"kind": b"\xff".decode("latin-1").encode("latin-1")})]
for n, (want, patch) in enumerate(cases):
    m = dict(base, id="wire-%d" % n); m.update(patch)
    m = {k: v for k, v in m.items() if v is not None}
    body = msgpack.packb(m, use_bin_type=False) if want == "invalid_utf8" else msgpack.packb(m, use_bin_type=True)
    s.send(body)
    r = msgpack.unpackb(s.recv(), raw=False)
    print("%s %s" % (want, r.get("code", "ok")))
PY
check "bad input on the wire: each its code" "$(printf '%s\n' wrong_type bad_value bad_value too_long missing_field bad_value invalid_utf8 | awk '{print $1" "$1}')" "$(cat "$ART/wire.out")"
check "bad input on the wire: nothing stored" "$before" "$(snapshot)"

# --- patrols and visits through the intake (gridctl patrol log / visit log):
# visits per link, and the report's field figures.  Special-group
# memberships planted (the register's); the same list feeds the oracle.
cat >"$ART/groups.json" <<'JSON'
[["H-QNL.07.063-01", "bereaved", "2026-09-01", null],
 ["H-QNL.07.063-02", "dibao", "2026-06-01", null], ["H-QNL.07.063-02", "left_behind", "2026-10-01", null],
 ["H-QNL.07.063-03", "hardship", "2026-05-01", null],
 ["H-QNL.07.063-04", "petitioner", "2026-10-15", null],
 ["H-QNL.07.064-01", "disabled", "2026-01-01", "2026-11-10"],
 ["H-QNL.07.064-03", "dibao", "2026-11-01", null]]
JSON
sql "INSERT INTO household_groups (household, grp, valid_from, valid_to, source)
     SELECT g->>0, g->>1, (g->>2)::date, (g->>3)::date, 'test' FROM json_array_elements ('$(cat "$ART/groups.json")') g" >/dev/null
# field KIND ARGS...: gridctl patrol|visit log, must succeed
field() {
  "$G" "$1" log "${@:2}" >>"$ART/field.out" 2>>"$ART/field.err" || not_ok "gridctl $1 log ${*:2}: $(tail -1 "$ART/field.err")"
}
field visit --actor $C1 --household H-QNL.07.063-01 --at 2026-10-10T10:00:00+08:00 --learned "身体尚可"   # before its link
field visit --actor $C1 --household H-QNL.07.063-01 --at 2026-11-12T15:00:00+08:00 --learned "一切正常"
field visit --actor $C1 --household H-QNL.07.063-02 --at 2026-11-05T09:30:00+08:00 --learned "孩子上学正常"
field visit --actor $L3 --household H-QNL.07.063-03 --at 2026-08-10T10:00:00+08:00 --learned "生活困难"      # last in August
field visit --actor $C1 --household H-QNL.07.063-05 --at 2026-11-11T10:00:00+08:00 --learned "无特殊情况"   # no group
field visit --actor $C2 --household H-QNL.07.064-01 --at 2026-11-06T10:00:00+08:00 --learned "康复中"
field visit --actor $C2 --household H-QNL.07.064-03 --at 2026-11-16T10:00:00+08:00 --learned "已办低保"    # its link closed 15th
field patrol --actor $L3 --grid QNL.07.063 --at 2026-11-14T09:00:00+08:00 --nothing-found               # a Saturday: the first
field patrol --actor $L3 --grid QNL.07.063 --at 2026-11-16T09:00:00+08:00 --place "青年路" --nothing-found
field patrol --actor $L3 --grid QNL.07.063 --at 2026-11-17T09:00:00+08:00 --place "菜市场" --finding "井盖松动"
field patrol --actor $C1 --grid QNL.07.063 --at 2026-11-17T16:00:00+08:00 --nothing-found
field patrol --actor $C2 --grid QNL.07.064 --at 2026-11-16T08:30:00+08:00 --nothing-found
field patrol --actor $C2 --grid QNL.07.064 --at 2026-11-18T08:30:00+08:00 --nothing-found
field patrol --actor $C2 --grid QNL.07.064 --at 2026-11-19T08:30:00+08:00 --nothing-found
check "eight visits and seven patrols logged through the intake" "8 7" \
  "$(sql "SELECT (SELECT count(*) FROM visits) || ' ' || (SELECT count(*) FROM patrols)")"
"$G" link list --grid QNL.07 >"$ART/links.txt" 2>>"$ART/gridctl.log" || not_ok "gridctl link list"
check "visits per link: the linked cadre's, while the link is open (gf_link_visits)" \
  "H-QNL.07.063-01 2,H-QNL.07.063-02 1,H-QNL.07.063-05 1,H-QNL.07.064-01 1,H-QNL.07.064-03 0" \
  "$(sql "SELECT string_agg (household || ' ' || visits, ',' ORDER BY household) FROM gf_link_counts ('QNL.07')
           WHERE household IN ('H-QNL.07.063-01', 'H-QNL.07.063-02', 'H-QNL.07.063-05', 'H-QNL.07.064-01', 'H-QNL.07.064-03')")"
check "gridctl link list shows them" "2" "$(awk -F'\t' '$3 == "H-QNL.07.063-01" {print $7}' "$ART/links.txt")"
wait_for "router and notifier to catch up" 20 quiescent

# --- nothing of the register on the stream; the public ratings JSON
sql "SELECT payload::text || coalesce (restricted::text, '') FROM case_events" >"$ART/events.txt"
leaks=$(grep -F -o -f "$ART/planted.txt" "$ART/events.txt" | sort -u | head -3)
check "no planted name, address or phone on the stream ($(wc -l <"$ART/planted.txt") planted)" "" "$leaks"
start_gateway
gw_kiosk # the staff reads need a session or a kiosk token (issue 16); ratings stay public
AUTH= http GET /api/ratings.json
check "public ratings JSON: 200, two rounds" "200 2" "$STATUS $(jbody 'length')"
leaks=$( (grep -F -o -f "$ART/planted.txt" "$ART/body.json"; grep -o 'H-QNL[0-9.-]*' "$ART/body.json") | sort -u | head -3)
check "public ratings JSON: no household id, name, address or phone" "" "$leaks"
check "public ratings JSON: household round as counts per grid and stars" "QNL.07.063 4 1,QNL.07.063 3 1,QNL.07.063 1 1" \
  "$(jq -r '[.[] | select(.subject_kind == "household") | .results[] | "\(.grid) \(.stars) \(.households)"] | join(",")' "$ART/body.json")"
check "public ratings JSON: the gateway's headers" "application/json; charset=utf-8|nosniff|no-store" \
  "$(curl -s -D - -o /dev/null "$URL/api/ratings.json" | tr -d '\r' | awk -F': ' 'tolower($1) == "content-type" {c=$2} tolower($1) == "x-content-type-options" {n=$2} tolower($1) == "cache-control" {s=$2} END {print c "|" n "|" s}')"
http GET /ratings
check "the public ratings page" "200 t" "$STATUS $(grep -q '<h1>星级评定公示</h1>' "$ART/body.json" && echo t)"
http GET /api/programmes.json
check "dashboard programmes JSON" "200 1 1 6 2" "$STATUS $(jbody '"\(.pairs_active) \(.pairs_closed) \(.people_aided) \(.ratings_published)"')"
check "dashboard programmes JSON: this month's field work, counts only" "2026-11 7 6 5 2" \
  "$(jbody '"\(.month) \(.patrols_done) \(.visits) \(.visits_special) \(.visits_overdue)"')"
leaks=$( (grep -F -o -f "$ART/planted.txt" "$ART/body.json"; grep -o 'H-QNL[0-9.-]*' "$ART/body.json") | sort -u | head -3)
check "dashboard programmes JSON: no household id, name, address or phone" "" "$leaks"

# --- the monthly report equals an independent computation over the events
"$G" report monthly --grid QNL --month 2026-11 --format json >"$ART/report.json" 2>>"$ART/gridctl.log" || not_ok "report monthly"
sql "SELECT json_agg (json_build_object ('type', type, 'grid', grid, 'at', at, 'p', payload) ORDER BY id) FROM case_events" >"$ART/events.json"
# what the oracle needs besides the events: the directory's L3 grids, the
# calendar's exceptions, the visit periods (configuration), the special-group
# memberships planted above and the links' dates as this test gave them
sql "SELECT json_build_object (
       'l3', (SELECT json_agg (code) FROM grids WHERE level = 3 AND code LIKE 'QNL.%'),
       'calendar', (SELECT coalesce (json_object_agg (day, workday), '{}') FROM calendar_days
                     WHERE day >= '2026-11-01' AND day < '2026-12-01'),
       'rules', (SELECT json_object_agg (grp, period) FROM visit_rules WHERE root = '*'),
       'groups', '$(cat "$ART/groups.json")'::json,
       'links', json_build_object ('$C1', '2026-10-15', '$C2', '2026-11-02'),
       'closed', json_build_object ('H-QNL.07.064-03', '2026-11-15'))" >"$ART/oracle-in.json"
/usr/bin/python3 - "$ART/events.json" "$ART/report.json" "$ART/oracle-in.json" >"$ART/oracle.out" 2>&1 <<'PY'
import calendar, datetime as dt, json, sys
ev = json.load(open(sys.argv[1]))
rep = json.load(open(sys.argv[2]))["programmes"]
cfg = json.load(open(sys.argv[3]))
M0, M1 = "2026-11-01", "2026-12-01"
inm = lambda d: M0 <= d < M1
def of(t): return [e for e in ev if e["type"] == t and (e["grid"] or "").startswith("QNL")]
links = {}
for e in of("link.opened"): links[e["p"]["link"]] = True
for e in of("link.closed"): links.pop(e["p"]["link"], None)
pairs = {}
for e in of("pair.opened"): pairs[e["p"]["pair"]] = e["p"]["started"]
closed = {e["p"]["pair"]: e["p"]["closed_on"] for e in of("pair.closed")}
exp = {
    "links_open": len(links),  # every link opened before December; closes before too
    "things_done": sum(inm(e["p"]["day"]) for e in of("thing.done")),
    "pairs_opened": sum(inm(s) for s in pairs.values()),
    "pairs_active": sum(s < M1 and (p not in closed or closed[p] >= M1) for p, s in pairs.items()),
    "pairs_closed": sum(inm(d) for d in closed.values()),
    "pair_reviews": sum(inm(e["p"]["day"]) for e in of("pair.reviewed")),
    "relief_cases": sum(inm(e["p"]["day"]) for e in of("relief.recorded")),
    "people_aided": sum(e["p"]["people"] for e in of("relief.recorded") if inm(e["p"]["day"])),
    "ratings_published": len(of("rating.published")),
    "campaign_items": sum(e["p"]["qty"] for e in of("campaign.item") if inm(e["p"]["day"])),
    "helpers_assigned": len(of("case.helper")),
}
# field work: local days (+08:00) of the logs' done_at
CST = dt.timezone(dt.timedelta(hours=8))
day = lambda ms: dt.datetime.fromtimestamp(ms / 1000, CST).date()
D = dt.date.fromisoformat
TODAY = dt.date(2026, 11, 20)  # the simulated clock's day: a day counts once it is over
patrol_days = {(e["p"]["grid"], day(e["p"]["done_at"])) for e in of("patrol.logged")}
first = min(d for _, d in patrol_days)
workday = lambda d: cfg["calendar"].get(d.isoformat(), d.isoweekday() < 6)
days = [dt.date(2026, 11, n) for n in range(1, 31)]
exp["patrols_done"] = sum(inm(day(e["p"]["done_at"]).isoformat()) for e in of("patrol.logged"))
exp["patrols_missed"] = sum(1 for g in cfg["l3"] for d in days
                            if first <= d < TODAY and workday(d) and (g, d) not in patrol_days)
def groups_on(h, d):
    return {g for hh, g, f, t in cfg["groups"] if hh == h and D(f) <= d and (t is None or D(t) > d)}
visits = [(e["p"]["household"], e["p"]["actor"], day(e["p"]["done_at"])) for e in of("visit.logged")]
nov = [v for v in visits if inm(v[2].isoformat())]
exp["visits"] = len(nov)
exp["visits_special"] = sum(1 for h, a, d in nov if groups_on(h, d))
for g in ("hardship", "petitioner", "bereaved", "left_behind", "dibao", "disabled"):
    exp["visits_" + g] = sum(1 for h, a, d in nov if g in groups_on(h, d))
def plus(d, period):
    if period == "week":
        return d + dt.timedelta(days=7)
    m = d.month - 1 + {"month": 1, "quarter": 3, "year": 12}[period]
    y, m = d.year + m // 12, m % 12 + 1
    return dt.date(y, m, min(d.day, calendar.monthrange(y, m)[1]))
order = ["week", "month", "quarter", "year"]
overdue = 0
for h in sorted({hh for hh, *_ in cfg["groups"]}):
    cur = [(g, D(f)) for hh, g, f, t in cfg["groups"] if hh == h and D(f) <= TODAY and (t is None or D(t) > TODAY)]
    if not cur:
        continue
    period = min((cfg["rules"][g] for g, _ in cur), key=order.index)
    since = max(f for g, f in cur if cfg["rules"][g] == period)
    last = max([d for hh, a, d in visits if hh == h] or [since])
    overdue += plus(max(last, since), period) <= TODAY
exp["visits_overdue"] = overdue
bad = 0
for k, v in exp.items():
    if rep.get(k) != v:
        print("not ok - %s: report %s, events %s" % (k, rep.get(k), v)); bad += 1
    else:
        print("ok - %s %s" % (k, v))
sys.exit(1 if bad else 0)
PY
rc=$?
check "monthly report's programme figures = the events' ($(grep -c '^ok' "$ART/oracle.out") figures)" "0" "$rc"
[ $rc -eq 0 ] || cat "$ART/oracle.out"
check "the figures the article quotes, November" "things_done=5 pairs_closed=1 people_aided=3" \
  "$(jq -r '.programmes | "things_done=\(.things_done) pairs_closed=\(.pairs_closed) people_aided=\(.people_aided)"' "$ART/report.json")"
"$G" report monthly --grid QNL --month 2026-11 >"$ART/report.txt" 2>>"$ART/gridctl.log"
check "the table report lists the programme figures" "1 1 1" \
  "$(grep -c '办实事（件）  *5$' "$ART/report.txt") $(grep -c '走访（次）  *6$' "$ART/report.txt") $(grep -c '走访逾期（户）  *2$' "$ART/report.txt")"

finish
