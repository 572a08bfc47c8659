#!/usr/bin/env bash
# Issue 13, item 6: authorisation completed.  Through the real intake with
# CurveZMQ identities: a merge needs both cases inside the actor's grid and
# the identity's subtree; merges stay one level deep (a merged case is never
# a target, and merging a case re-points the cases merged into it, so they
# follow the final case when it is resolved); the (actor, request id) lookup
# answers only after authorisation and never names another case; a resent
# return still gets its first answer.  The simulated clock: refused when
# clock/simulated is off (the sample production config), never backwards
# or further than clock/max_jump without --force.
source "$(dirname "$0")/lib.sh"
new_db
G="$BIN/gridctl"
CERTS=$ART/certs
mkdir -p "$CERTS"
ctl() { "$G" --certs "$CERTS" "$@" >>"$ART/cert.out" 2>&1 || not_ok "gridctl $*"; }
ctl cert server "$ART/server.cert"
ctl cert new feed --kind adapter --grid QNL --sources hotline --out "$ART/feed.cert"
ctl cert new desk-all --kind staff --grid QNL --out "$ART/desk-all.cert"        # any actor, whole tree
ctl cert new desk-07 --kind staff --grid QNL.07 --out "$ART/desk-07.cert"       # any actor, QNL.07 only
ctl cert new l2-07 --kind staff --grid QNL.07 --person "$L2" --out "$ART/l2-07.cert"
ctl cert new l3-063 --kind staff --grid QNL.07.063 --person "$L3" --out "$ART/l3-063.cert"
# stored_counts: cases/events/actions, to show that a refusal wrote nothing.
stored_counts() { sql "SELECT (SELECT count(*) FROM cases) || '/' || (SELECT count(*) FROM case_events) || '/' || (SELECT count(*) FROM case_actions)"; }

# CurveZMQ on the intake, whose rights this test is about; the relay and
# the router plain on loopback (the streams' rights: test_security_streams).
export GF_CURVE=on
GF_CURVE=off start relay
start intake --cert "$ART/server.cert" --certs "$CERTS"
GF_CURVE=off start router
wait_for "intake port" 30 port_open $((PORT_BASE + 0))
wait_for "router" 10 sql_eq "SELECT count(*) FROM consumer_checkpoints WHERE consumer = 'router'" 1

new_case() { # REF GRID: the new case's id
  "$G" submit --cert "$ART/feed.cert" --server-cert "$ART/server.cert" --source hotline --ref "$1" \
    --text "井盖松动" --grid "$2" | sed -n 's/^case \([0-9]*\) .*/\1/p'
}
# try_act CERT ACTION CASE ACTOR [OPTIONS...]: gridctl's output (both streams), one line.
try_act() {
  local cert=$1 action=$2 id=$3 actor=$4; shift 4
  "$G" case "$action" "$id" --actor "$actor" "$@" --cert "$ART/$cert.cert" \
    --server-cert "$ART/server.cert" 2>&1 | head -1
}
code_of() { sed -n 's/^error: \([a-z_]*\):.*/\1/p; s/^case [0-9]*: .*\[already done\]$/duplicate/p; s/^case [0-9]*: .*/ok/p'; }
state_of() { sql "SELECT state || coalesce ('>' || merged_into, '') FROM cases WHERE id = $1"; }

A=$(new_case M-A QNL.07.063)
B=$(new_case M-B QNL.07.063)
C=$(new_case M-C QNL.07.063)
X=$(new_case M-X QNL.08.067)      # another L2 grid
Y=$(new_case M-Y QNL.07.064)      # QNL.07, another L3 grid
D1=$(new_case D-1 QNL.08.067)
D2=$(new_case D-2 QNL.08.067)
R=$(new_case R-1 QNL.07.063)
wait_for "cases routed" 20 sql_eq "SELECT count(*) FROM cases WHERE state = 'routed'" 8

# --- merge: both cases in the actor's grid and the identity's subtree -------
before=$(stored_counts)
check "L2 merging into a case of another L2 grid: forbidden" forbidden \
  "$(try_act l2-07 merge "$A" "$L2" --into "$X" | code_of)"
check "... even through an identity for the whole tree (the actor's grid decides)" forbidden \
  "$(try_act desk-all merge "$A" "$L2" --into "$X" | code_of)"
check "L1 merging through an identity limited to QNL.07 into a QNL.08 case: forbidden" forbidden \
  "$(try_act desk-07 merge "$A" "$L1" --into "$X" | code_of)"
check "refused merges changed nothing" "$before routed routed" "$(stored_counts) $(state_of "$A") $(state_of "$X")"
check "L2 merges inside its grid (QNL.07.064 into QNL.07.063)" ok \
  "$(try_act l2-07 merge "$Y" "$L2" --into "$A" | code_of)"

# --- merge chains: one level deep --------------------------------------------
check "C merged into A" ok "$(try_act l2-07 merge "$C" "$L2" --into "$A" | code_of)"
check "A merged into B" ok "$(try_act l2-07 merge "$A" "$L2" --into "$B" | code_of)"
check "the cases merged into A (C, Y) now point at B" "merged>$B merged>$B merged>$B" \
  "$(state_of "$A") $(state_of "$C") $(state_of "$Y")"
check "their re-pointing is in the log (case.merged via A)" 2 \
  "$(sql "SELECT count(*) FROM case_events WHERE type = 'case.merged' AND (payload->>'via')::bigint = $A AND (payload->>'into')::bigint = $B")"
check "a merged case is never a merge target" illegal_transition \
  "$(try_act l2-07 merge "$R" "$L2" --into "$A" | code_of)"
try_act l3-063 sign "$B" "$L3" >/dev/null
check "B resolved" ok "$(try_act l3-063 resolve "$B" "$L3" --note "已修复" | code_of)"
check "every case of the old chain follows B: A, C and Y resolved" "resolved resolved>$B resolved>$B resolved>$B" \
  "$(state_of "$B") $(state_of "$A") $(state_of "$C") $(state_of "$Y")"

# --- the request-id lookup answers only after authorisation ------------------
check "QNL.08.067's leader signs D1 with request id rq-1" ok \
  "$(try_act desk-all sign "$D1" "$L3C" --request-id rq-1 | code_of)"
check "the same request resent: its first answer" duplicate \
  "$(try_act desk-all sign "$D1" "$L3C" --request-id rq-1 | code_of)"
out=$(try_act desk-07 sign "$D1" "$L3C" --request-id rq-1)
check "resent through an identity whose subtree does not hold the case: forbidden, no answer" \
  "forbidden" "$(echo "$out" | code_of)"
out=$(try_act desk-07 sign "$R" "$L3C" --request-id rq-1)
check "that actor's request id on a case outside the actor's grid: forbidden" forbidden \
  "$(echo "$out" | code_of)"
check "... and the answer does not name the case the id was used for" 0 "$(echo "$out" | grep -cE "case $D1([^0-9]|$)")"
out=$(try_act desk-all sign "$D2" "$L3C" --request-id rq-1)
check "the id reused on another case of the actor's own: bad_value" bad_value "$(echo "$out" | code_of)"
check "... without naming the other case (it says: another case)" "0 1" \
  "$(echo "$out" | grep -cE "case $D1([^0-9]|$)") $(echo "$out" | grep -c "another case")"
check "D2 unchanged" routed "$(state_of "$D2")"
# A return moves the case to the L1 triage, outside the grid that returned it.
check "QNL.07.063 returns R" ok "$(try_act l3-063 return "$R" "$L3" --note "不属本网格" --request-id rt-1 | code_of)"
check "the resent return still gets its first answer" duplicate \
  "$(try_act l3-063 return "$R" "$L3" --note "不属本网格" --request-id rt-1 | code_of)"
check "but the returning grid may not act on it any more" forbidden \
  "$(try_act l3-063 sign "$R" "$L3" | code_of)"
check "nor may QNL's L1 through an identity limited to QNL.07 (the case left its subtree)" forbidden \
  "$(try_act desk-07 assign "$R" "$L1" --grid QNL.07.064 | code_of)"
check "R is still in QNL's triage after the refusals" QNL "$(sql "SELECT grid FROM cases WHERE id = $R")"

# --- the simulated clock ---------------------------------------------------------
clock_at() { sql "SELECT coalesce ((SELECT to_char (at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') FROM sim_clock), 'real')"; }
"$G" clock set 2026-11-02T08:00:00+08:00 >/dev/null
check "the tests' config turns the simulated clock on" "2026-11-02 08:00" "$(clock_at)"
env -u GF_SIM_CLOCK "$G" --config "$ROOT/deploy/config/gridflow.cfg" clock set 2026-11-03T08:00:00+08:00 \
  >"$ART/clock.out" 2>"$ART/clock.err"
check "the sample production config refuses to move it" "1 forbidden 2026-11-02 08:00" \
  "$? $(grep -o forbidden "$ART/clock.err") $(clock_at)"
GF_SIM_CLOCK=off "$G" clock advance '1 hour' >/dev/null 2>"$ART/clock.err"
check "clock/simulated = off refuses advance too" "1 2026-11-02 08:00" "$? $(clock_at)"
"$G" clock set 2026-11-02T07:00:00+08:00 >/dev/null 2>"$ART/clock.err"
check "backwards without --force: refused" "1 1 2026-11-02 08:00" \
  "$? $(grep -c "^error: bad_value: the clock was not moved: backwards" "$ART/clock.err") $(clock_at)"
"$G" clock advance '-1 hour' >/dev/null 2>"$ART/clock.err"
check "a negative advance without --force: refused" "1 2026-11-02 08:00" "$? $(clock_at)"
env -u GF_CLOCK_MAX_JUMP "$G" clock set 2026-12-02T08:00:00+08:00 >/dev/null 2>"$ART/clock.err"
check "a month's jump without --force (default max 192 h): refused" "1 1 2026-11-02 08:00" \
  "$? $(grep -c "^error: bad_value: .*clock/max_jump" "$ART/clock.err") $(clock_at)"
env -u GF_CLOCK_MAX_JUMP "$G" clock advance '8 days' >/dev/null
check "a jump within the default clock/max_jump" "0 2026-11-10 08:00" "$? $(clock_at)"
GF_CLOCK_MAX_JUMP=1 "$G" clock advance '2 hours' >/dev/null 2>&1
check "clock/max_jump is a setting (1 h: 2 h refused)" "1 2026-11-10 08:00" "$? $(clock_at)"
"$G" clock set 2026-11-02T08:00:00+08:00 --force >/dev/null
check "--force moves it back" "0 2026-11-02 08:00" "$? $(clock_at)"
"$G" clock set 2026-12-02T08:00:00+08:00 --force >/dev/null
check "--force jumps" "0 2026-12-02 08:00" "$? $(clock_at)"
finish
