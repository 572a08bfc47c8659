#!/usr/bin/env bash
# Issue 14, part 5 (代访): through the real intake with CurveZMQ identities,
# the full referral path on the real working calendar: departments from the
# directory (an unknown one refused, nothing changed), the referral report
# (what, to whom, when) and its deadline in working days, the department's
# receipt both ways (signed through the department's own identity; recorded
# by the grid leader with the contact's name and time), the department's
# reply recorded on the referral, the lateness reminder and the escalation
# to L2 (rule referral_reply.l2_after_working_days).  Bad input: unknown
# department, receipt on a case not referred, a receipt without contact, a
# second receipt, a department identity outside its referrals — each its
# code, nothing changed; a resent receipt is a duplicate.
# Attachments (evidence): uploaded through the intake with their own size
# limit, refused when too big or of a forbidden type (nothing stored),
# idempotent, never visible outside scope (another grid's staff identity is
# refused; gridctl's get for another grid's staff is refused; the gateway
# serves public ones only, as Open311 media_url).
# The archive of a closed case (资料归档齐, gridctl case export): every item,
# the manifest's checksums verified; an open case is refused.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/gateway_lib.sh"
new_db
G="$BIN/gridctl"
CERTS=$ART/certs
mkdir -p "$CERTS"
ctl() { "$G" --certs "$CERTS" "$@" >>"$ART/ctl.out" 2>&1 || not_ok "gridctl $*"; }
ctl calendar import
ctl department import "$ROOT/deploy/sample/departments.json"
ctl cert server "$ART/server.cert"
ctl cert new feed --kind adapter --grid QNL --sources hotline --out "$ART/feed.cert"
ctl cert new l3-063 --kind staff --grid QNL.07.063 --person "$L3" --out "$ART/l3-063.cert"
ctl cert new gds --kind department --department GDS --grid QNL --out "$ART/gds.cert"
ctl cert new l3-067 --kind staff --grid QNL.08.067 --person "$L3C" --out "$ART/l3-067.cert"
check "a department identity needs its department" 1 \
  "$("$G" --certs "$CERTS" cert new bad-dept --kind department --grid QNL --out "$ART/bad.cert" >/dev/null 2>&1; echo $?)"
check "gridctl department list shows the imported departments" 6 \
  "$("$G" department list | grep -cE '^(GDS|CGZF|SWJ|PCS|MZS|ZJZ) ')"
"$G" clock set 2026-09-21T09:00:00+08:00 --force >/dev/null   # a Monday

export GF_CURVE=on
GF_CURVE=off start relay
MAXATT=200000   # intake/max_attachment for this test (default 8 MiB)
start intake --cert "$ART/server.cert" --certs "$CERTS" --max-attachment $MAXATT
GF_CURVE=off start router
GF_CURVE=off start escalator
wait_for "intake port" 30 port_open $((PORT_BASE + 0))
wait_for "router" 10 sql_eq "SELECT count(*) FROM consumer_checkpoints WHERE consumer = 'router'" 1

new_case() { # REF: the new case's id (QNL.07.063)
  "$G" submit --cert "$ART/feed.cert" --server-cert "$ART/server.cert" --source hotline --ref "$1" \
    --text "南关村6组路灯不亮" --grid QNL.07.063 | sed -n 's/^case \([0-9]*\) .*/\1/p'
}
# try CERT ACTION CASE ACTOR [OPTIONS...]: gridctl's answer as a code: ok,
# duplicate, or the error code.
try() {
  local cert=$1 action=$2 id=$3 actor=$4; shift 4
  "$G" case "$action" "$id" --actor "$actor" "$@" --cert "$ART/$cert.cert" \
    --server-cert "$ART/server.cert" 2>&1 | head -1 \
    | sed -n 's/^error: \([a-z_]*\):.*/\1/p; s/^case [0-9]*: .*\[already done\]$/duplicate/p; s/^case [0-9]*: .*/ok/p'
}
stored() { sql "SELECT (SELECT count(*) FROM case_events) || '/' || (SELECT count(*) FROM case_actions)
                 || '/' || (SELECT count(*) FROM referrals) || '/' || (SELECT coalesce (sum (version), 0) FROM cases)"; }
# refused CODE CERT ACTION CASE ACTOR [OPTIONS...]: refused with CODE, nothing stored.
refused() {
  local code=$1 before got; shift
  before=$(stored)
  got=$(try "$@")
  if [ "$got" == "$code" ] && [ "$before" == "$(stored)" ]; then ok "refused $code: $2 on case $3 by $4 ${*:5}"
  else not_ok "expected $code for $2 on case $3 by $4 ${*:5}, got '$got' (stored $before -> $(stored))"; fi
}

A=$(new_case RF-A)
B=$(new_case RF-B)
C=$(new_case RF-C)
wait_for "cases routed" 20 sql_eq "SELECT count(*) FROM cases WHERE state = 'routed'" 3
for c in $A $B $C; do check "sign $c" ok "$(try l3-063 sign $c $L3)"; done

# --- the referral: known departments only; report and deadline --------------
refused unknown_department l3-063 refer $A $L3 --department NOPE --note "代居民报修"
refused missing_field l3-063 refer $A $L3 --note "没有部门"
refused bad_value l3-063 refer $A $L3 --department GDS --deadline 2026-09-20T09:00:00+08:00
check "refer A to GDS (供电所) with the report" ok \
  "$(try l3-063 refer $A $L3 --department GDS --note "代居民报修：南关村6组路灯已坏一个月")"
check "A's referral: department, who, when, the report, deadline in 3 working days (the rule's)" \
  "GDS|$L3|2026-09-21 09:0|代居民报修：南关村6组路灯已坏一个月|2026-09-24 09:0" \
  "$(sql "SELECT concat_ws('|', department, referred_by, left(to_char(referred_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI'), 15),
                              report, left(to_char(deadline AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI'), 15))
            FROM referrals WHERE case_id = $A")"
check "refer C to CGZF with an explicit deadline" ok \
  "$(try l3-063 refer $C $L3 --department CGZF --note "代居民反映占道经营" --deadline 2026-09-23T08:00:00+08:00)"
check "C's deadline is the explicit one" "2026-09-23 08:00|true" \
  "$(sql "SELECT to_char(deadline AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') || '|' || deadline_explicit FROM referrals WHERE case_id = $C")"

# --- the receipt, both ways -------------------------------------------------
refused illegal_transition l3-063 receipt $B $L3 --contact 王建国
refused missing_field l3-063 receipt $A $L3
refused forbidden gds receipt $C GDS --contact 王建国          # C went to CGZF
refused forbidden gds sign $B GDS                              # a department only signs for and replies
refused forbidden gds receipt $A CGZF --contact 王建国         # as another department
refused bad_value l3-063 receipt $C $L3 --contact 李志强 --received-at 2026-09-21T08:00:00+08:00
check "GDS signs for A through its own identity" ok \
  "$(try gds receipt $A GDS --contact 王建国 --request-id gds-r1)"
check "the resent receipt is a duplicate" duplicate "$(try gds receipt $A GDS --contact 王建国 --request-id gds-r1)"
refused illegal_transition l3-063 receipt $A $L3 --contact 张三
"$G" clock set 2026-09-21T09:30:00+08:00 --force >/dev/null
check "the leader records C's receipt: the contact's name and time" ok \
  "$(try l3-063 receipt $C $L3 --contact 李志强 --received-at 2026-09-21T09:20:00+08:00)"
check "receipts stored: who signed, how, recorded by" "$A|王建国|department|gds
$C|李志强|leader|$L3" \
  "$(sql "SELECT concat_ws('|', case_id, received_by, receipt_via, receipt_recorded_by) FROM referrals ORDER BY case_id")"
check "referral.received events: one per receipt, state unchanged" "2|referred,referred" \
  "$(sql "SELECT count(*) || '|' || (SELECT string_agg(state, ',' ORDER BY id) FROM cases WHERE id IN ($A, $C))
            FROM case_events WHERE type = 'referral.received'")"

# --- the department's reply --------------------------------------------------
check "GDS replies through its identity" ok "$(try gds reply $A GDS --note "已安排本周内更换路灯")"
check "the reply is on A's referral; A is replied" "已安排本周内更换路灯|GDS|replied" \
  "$(sql "SELECT r.reply || '|' || r.replied_by || '|' || c.state FROM referrals r JOIN cases c ON c.id = r.case_id WHERE r.case_id = $A")"
refused forbidden gds reply $A GDS --note "again"   # no open referral of A any more

# --- late: reminder at the deadline, L2 after 2 more working days -----------
"$G" clock set 2026-09-23T07:59:00+08:00 --force >/dev/null
sleep 2 # time for a wrong early reminder: the subject, not a wait
check "no reminder before C's deadline" 0 "$(sql "SELECT count(*) FROM notifications WHERE case_id = $C AND kind LIKE 'referral.overdue.%'")"
"$G" clock set 2026-09-23T08:01:00+08:00 --force >/dev/null
wait_for "C late: the grid's leader reminded" 15 sql_eq "SELECT count(*) FROM notifications
   WHERE case_id = $C AND kind LIKE 'referral.overdue.%' AND recipient = '$L3' AND text LIKE '%城管执法中队%'" 1
check "a referral.late event for C, none for A (replied)" "1|0" \
  "$(sql "SELECT count(*) FILTER (WHERE case_id = $C) || '|' || count(*) FILTER (WHERE case_id = $A) FROM case_events WHERE type = 'referral.late'")"
"$G" clock set 2026-09-25T08:30:00+08:00 --force >/dev/null   # Friday: 中秋节, a holiday
sleep 2 # time for a wrong early escalation: the subject, not a wait
check "no escalation on the holiday (one working day late only)" 3 "$(sql "SELECT level FROM cases WHERE id = $C")"
"$G" clock set 2026-09-28T08:30:00+08:00 --force >/dev/null   # Monday, before the weekly meeting at 09:00: 2 working days after Wednesday
wait_for "C two working days late: escalated to L2 (referral_l2)" 15 sql_eq \
  "SELECT c.level || '|' || e.rule FROM cases c JOIN escalations e ON e.case_id = c.id WHERE c.id = $C" "2|referral_l2"
check "the case.escalated event says why" 1 \
  "$(sql "SELECT count(*) FROM case_events WHERE case_id = $C AND type = 'case.escalated' AND payload->>'reason' LIKE '转办城管执法中队逾期未回复%'")"
"$G" clock set 2026-09-30T17:00:00+08:00 --force >/dev/null
sleep 2
check "neither reminder nor escalation is repeated" "1|1" \
  "$(sql "SELECT (SELECT count(*) FROM notifications WHERE case_id = $C AND kind LIKE 'referral.overdue.%') || '|' ||
                 (SELECT count(*) FROM escalations WHERE case_id = $C)")"

# --- shown in gridctl case show ---------------------------------------------
"$G" case show $C >"$ART/show-C.txt"
check "case show: the report, receipt, deadline and lateness" yes \
  "$(grep -q '转办至 CGZF 城管执法中队' "$ART/show-C.txt" && grep -q '报告 report   代居民反映占道经营' "$ART/show-C.txt" \
     && grep -q '李志强 签收于 2026-09-21 09:20:00 (网格长登记' "$ART/show-C.txt" && grep -q '期限 deadline 2026-09-23 08:00:00' "$ART/show-C.txt" \
     && grep -q '升级至二级网格' "$ART/show-C.txt" && echo yes || echo no)"
"$G" case show $A >"$ART/show-A.txt"
check "case show: A's receipt by the department and its reply" yes \
  "$(grep -q '王建国 签收于 .*(部门身份签收, 记录 gds)' "$ART/show-A.txt" && grep -q '回复 reply .*已安排本周内更换路灯 (GDS)' "$ART/show-A.txt" \
     && echo yes || echo no)"
# --- attachments ---------------------------------------------------------------
att() { # CERT CASE ACTOR FILE [OPTIONS...]: the answer as a code
  local cert=$1 id=$2 actor=$3 file=$4; shift 4
  "$G" case attach "$id" --actor "$actor" --file "$file" "$@" --cert "$ART/$cert.cert" \
    --server-cert "$ART/server.cert" 2>&1 | head -1 \
    | sed -n 's/^error: \([a-z_]*\):.*/\1/p; s/^case [0-9]*: .*\[already done\]$/duplicate/p; s/^case [0-9]*: .*/ok/p'
}
astored() { sql "SELECT (SELECT count(*) FROM attachments) || '/' || (SELECT count(*) FROM case_events)"; }
att_refused() { # CODE CERT CASE ACTOR FILE [OPTIONS...]
  local code=$1 before got; shift
  before=$(astored)
  got=$(att "$@")
  if [ "$got" == "$code" ] && [ "$before" == "$(astored)" ]; then ok "attachment refused $code: $4 on case $2 by $3"
  else not_ok "expected $code for attachment $4 on case $2 by $3, got '$got' (stored $before -> $(astored))"; fi
}
python3 - "$ART" <<'PY'
import os, sys
d = sys.argv[1]
open(f"{d}/photo.jpg", "wb").write(b"\xff\xd8\xff\xe0" + os.urandom(120000))
open(f"{d}/scan.png", "wb").write(b"\x89PNG\r\n\x1a\n" + os.urandom(30000))
open(f"{d}/reply.pdf", "wb").write(b"%PDF-1.4\n" + os.urandom(50000))
open(f"{d}/big.jpg", "wb").write(b"\xff\xd8\xff\xe0" + os.urandom(250000))
open(f"{d}/script.sh", "wb").write(b"#!/bin/sh\necho hi\n" * 100)
open(f"{d}/fake.jpg", "wb").write(b"GIF89a" + os.urandom(1000))
PY
check "a JPEG (120 KB, over the 64 KiB body limit of other types) on A, evidence for the refer" ok \
  "$(att l3-063 $A $L3 "$ART/photo.jpg" --request-id att-1 --note "路灯现场照片")"
check "the resent upload is a duplicate" duplicate "$(att l3-063 $A $L3 "$ART/photo.jpg" --request-id att-1)"
check "a public PNG on A" ok "$(att l3-063 $A $L3 "$ART/scan.png" --public)"
check "the department's written reply (PDF) on A" ok "$(att l3-063 $A $L3 "$ART/reply.pdf")"
att_refused too_large l3-063 $A $L3 "$ART/big.jpg"
att_refused bad_value l3-063 $A $L3 "$ART/script.sh"
att_refused bad_value l3-063 $A $L3 "$ART/fake.jpg"
att_refused forbidden l3-067 $A $L3C "$ART/photo.jpg"   # another grid's staff identity
att_refused forbidden gds $A GDS "$ART/photo.jpg"       # a department identity uploads nothing
check "stored: three attachments with size and sha256 as uploaded" \
  "$(for f in photo.jpg scan.png reply.pdf; do printf '%s|%s|%s\n' "$f" "$(stat -c %s "$ART/$f")" "$(sha256sum "$ART/$f" | cut -d' ' -f1)"; done)" \
  "$(sql "SELECT filename || '|' || size || '|' || sha256 FROM attachments WHERE case_id = $A ORDER BY id")"
check "types read from the bytes" "image/jpeg,image/png,application/pdf" \
  "$(sql "SELECT string_agg(content_type, ',' ORDER BY id) FROM attachments")"
bigbody=$(python3 -c 'print("很" * 30000)')
check "other message types keep the 64 KiB body limit" too_large \
  "$("$G" submit --cert "$ART/feed.cert" --server-cert "$ART/server.cert" --source hotline --ref RF-BIG \
       --text "$bigbody" --grid QNL.07.063 2>&1 | sed -n 's/^error: \([a-z_]*\):.*/\1/p')"
"$G" case show $A >"$ART/show-A2.txt"
check "case show lists the attachments with their checksums" 3 \
  "$(grep -cE "^    #[0-9]+ (photo.jpg|scan.png|reply.pdf) .*sha256 [0-9a-f]{64}" "$ART/show-A2.txt")"
PHOTO=$(sql "SELECT id FROM attachments WHERE filename = 'photo.jpg'")
SCAN=$(sql "SELECT id FROM attachments WHERE filename = 'scan.png'")
"$G" case attachment get $PHOTO --actor $L2 --out "$ART/got.jpg" >/dev/null 2>&1
check "get by the L2 leader (in scope): the same bytes" yes "$(cmp -s "$ART/photo.jpg" "$ART/got.jpg" && echo yes || echo no)"
check "get by another grid's staff: refused, nothing written" "forbidden|no" \
  "$("$G" case attachment get $PHOTO --actor $L3C --out "$ART/leak.jpg" 2>&1 | sed -n 's/^error: \([a-z_]*\):.*/\1/p')|$([ -e "$ART/leak.jpg" ] && echo yes || echo no)"
GF_CURVE=off start_gateway
http GET "/open311/v2/requests/$A.json"
check "Open311 media_url: the public attachment only" "/open311/v2/media/$SCAN" "$(jbody '.[0].media_url')"
http GET "/open311/v2/media/$SCAN"
check "the gateway serves the public attachment" "200|yes" "$STATUS|$(cmp -s "$ART/scan.png" "$ART/body.json" && echo yes || echo no)"
http GET "/open311/v2/media/$PHOTO"
check "the gateway never serves a non-public one" 404 "$STATUS"
http GET "/open311/v2/requests/$B.json"
check "a case without public attachments has no media_url" null "$(jbody '.[0].media_url')"
# --- the archive of a closed case ----------------------------------------------
check "export of a case that is not closed: refused, nothing written" "illegal_transition|no" \
  "$("$G" case export $C --out "$ART/C.tar.gz" 2>&1 | sed -n 's/^error: \([a-z_]*\):.*/\1/p')|$([ -e "$ART/C.tar.gz" ] && echo yes || echo no)"
check "A resolved" ok "$(try l3-063 resolve $A $L3 --note "供电所已更换路灯")"
check "A called back" ok "$(try l3-063 callback $A $L3 --satisfied yes)"
check "A closed" ok "$(try l3-063 close $A $L3)"
"$G" case export $A --out "$ART/A.tar.gz" >"$ART/export.out" 2>&1 || not_ok "export A: $(cat "$ART/export.out")"
rm -rf "$ART/A-archive" && mkdir -p "$ART/A-archive" && tar -xzf "$ART/A.tar.gz" -C "$ART/A-archive"
(cd "$ART/A-archive" && find . -type f | sed 's|^\./||' | sort) >"$ART/A-files.txt"
check "the archive: case, timeline, referrals, three attachments, manifest" \
  "$(printf '%s\n' attachments/$PHOTO-photo.jpg attachments/$((PHOTO + 1))-scan.png attachments/$((PHOTO + 2))-reply.pdf \
       case.json manifest.json referrals.json timeline.json | sort)" "$(cat "$ART/A-files.txt")"
check "the manifest lists every other file, and each sha256 and size holds" ok \
  "$(cd "$ART/A-archive" && python3 - <<'PY'
import hashlib, json, os
m = json.load(open("manifest.json"))
files = sorted(p for p in (os.path.relpath(os.path.join(d, f)) for d, _, fs in os.walk(".") for f in fs)
               if p != "manifest.json")
listed = sorted(f["path"] for f in m["files"])
bad = [f["path"] for f in m["files"]
       if hashlib.sha256(open(f["path"], "rb").read()).hexdigest() != f["sha256"]
       or os.path.getsize(f["path"]) != f["size"]]
print("ok" if listed == files and not bad else f"listed={listed} files={files} bad={bad}")
PY
)"
check "the attachments in the archive are the uploaded bytes" yes \
  "$(cmp -s "$ART/photo.jpg" "$ART/A-archive/attachments/$PHOTO-photo.jpg" && cmp -s "$ART/reply.pdf" "$ART/A-archive/attachments/$((PHOTO + 2))-reply.pdf" && echo yes || echo no)"
check "referrals.json: the report, the receipt and the reply" "代居民报修：南关村6组路灯已坏一个月|王建国|department|已安排本周内更换路灯" \
  "$(jq -r '.[0] | [.report, .received_by, .receipt_via, .reply] | join("|")' "$ART/A-archive/referrals.json")"
check "timeline.json: the referral, its receipt, the reply and the attachments" "1|1|1|3|1" \
  "$(jq -r '[(map(select(.type == "case.referred")) | length), (map(select(.type == "referral.received")) | length),
             (map(select(.type == "case.department_replied")) | length), (map(select(.type == "attachment.added")) | length),
             (map(select(.type == "case.closed")) | length)] | map(tostring) | join("|")' "$ART/A-archive/timeline.json")"
finish
