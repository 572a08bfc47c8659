#!/usr/bin/env bash
# Issue 16, the workbench's API (docs/gateway.md "Workbench"): POST
# /api/wb/action sends a signed-in person's action through the intake with
# the gateway's own CurveZMQ identity (kind workbench) and the session's
# person as the actor; GET /api/wb/queue, case/ID and meeting read within
# the person's subtree.  Under the configuration users run: the gateway as
# its own LOGIN user (member of gf_gateway), CurveZMQ between the gateway
# and the intake.  Proves: a complaint on a resident's behalf, sign, the
# resend answered duplicate with one row in SQL, the conflict with the
# case's state and version, CSRF missing or wrong and a cross-site Origin
# refused (403, nothing stored), actor/reporter in the body refused (400),
# a person of another subtree refused (403) on the case and on a patrol in
# that grid, no session (401), a photo as an attachment (and its resend),
# the case page with the resident's contact and the allowed actions for
# staff in scope and 404 outside it, the queue's lists.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/gateway_lib.sh"
new_db
G="$BIN/gridctl"
CERTS=$ART/certs
ctl() { "$G" --certs "$CERTS" "$@" >>"$ART/cert.out" 2>&1 || not_ok "gridctl $*"; }
ctl cert server "$ART/server.cert"
ctl cert new workbench --kind workbench --grid QNL --sources app,patrol,visit --out "$ART/wb.cert"
check "the workbench identity: kind workbench, bound to no person" "workbench|QNL|" \
  "$(sql "SELECT kind, grid, coalesce (person, '') FROM identities WHERE name = 'workbench'")"

export GF_CURVE=on
GF_CURVE=off start relay
start intake --cert "$ART/server.cert" --certs "$CERTS"
GF_CURVE=off start router
wait_for "intake port" 30 port_open "$PORT_BASE"
wait_for "relay ports" 30 port_open $((PORT_BASE + 2))

CTL=(env GF_DB="$GF_DB options=-crole=gf_ctl" GF_CURVE=off "$G")
PW='correct horse 3'
for p in "$L3" "$L3C" "$L2"; do
  printf '%s\n' "$PW" | "${CTL[@]}" user add "$p" --password-stdin >>"$ART/users.out" 2>&1
done
GWUSER=gft_wbapi_gw
PGOPTIONS="-c client_min_messages=warning" sql "DROP ROLE IF EXISTS $GWUSER; CREATE ROLE $GWUSER LOGIN IN ROLE gf_gateway" >/dev/null
start_gateway GF_DB="$GF_DB user=$GWUSER" GF_SERVER_CERT="$ART/server.cert" \
  GF_WORKBENCH_CERT="$ART/wb.cert" GF_LOGIN_IP_RATE=0
check "the gateway connects as its own LOGIN user" t \
  "$(sql "SELECT count(*) > 0 FROM pg_stat_activity WHERE usename = '$GWUSER'")"

# login PERSON: its token in TOKEN_<n>, CSRF in CSRF_<n> (n = 1, 2, 3)
login() {
  curl -s -o /dev/null -D "$ART/h.txt" --data-urlencode "person=$1" --data-urlencode "password=$PW" \
    "$URL/auth/login"
  tr -d '\r' <"$ART/h.txt" | sed -n 's/^Set-Cookie: gf_session=\([0-9a-f]*\);.*/\1/p'
}
T3=$(login "$L3"); TC=$(login "$L3C"); T2=$(login "$L2")
csrf_of() { http GET /auth/me -H "Cookie: gf_session=$1"; jbody .csrf; }
C3=$(csrf_of "$T3"); CC=$(csrf_of "$TC"); C2=$(csrf_of "$T2")
check "three sessions" "64 64 64" "${#T3} ${#TC} ${#T2}"

# act TOKEN CSRF JSON [CURL ARGS]: POST /api/wb/action; status in STATUS
act() {
  local t=$1 c=$2 body=$3; shift 3
  http POST /api/wb/action -H "Cookie: gf_session=$t" ${c:+-H "X-CSRF-Token: $c"} \
    -H 'Content-Type: application/json' --data "$body" "$@"
}
uuid() { cat /proc/sys/kernel/random/uuid; }
nactions() { sql "SELECT count(*) FROM case_actions WHERE action NOT IN ('route', 'unroutable')"; }

# --- a complaint on a resident's behalf ------------------------------------------
U0=$(uuid)
act "$T3" "$C3" "{\"id\":\"$U0\",\"kind\":\"complaint.submit\",\"description\":\"楼道灯坏了，老人夜里看不见\",\"name\":\"王阿姨\",\"phone\":\"13800001234\",\"address\":\"青年路63号2单元\"}"
check "complaint.submit for a resident: 200 ok with the case" "200 ok" "$STATUS $(jbody .result)"
CASE=$(jbody .case)
check "stored with the session's person as the reporter, source app, its grid the person's" \
  "app|wb:$U0|$L3|QNL.07.063" \
  "$(sql "SELECT source, source_ref, reporter, requested_grid FROM cases WHERE id = $CASE")"
act "$T3" "$C3" "{\"id\":\"$U0\",\"kind\":\"complaint.submit\",\"description\":\"楼道灯坏了，老人夜里看不见\",\"name\":\"王阿姨\",\"phone\":\"13800001234\",\"address\":\"青年路63号2单元\"}"
check "the same complaint resent: duplicate, the same case, one row" "200 duplicate $CASE 1" \
  "$STATUS $(jbody .result) $(jbody .case) $(sql "SELECT count(*) FROM cases")"
act "$T3" "$C3" "{\"id\":\"$(uuid)\",\"kind\":\"complaint.submit\",\"description\":\"x\",\"grid\":\"QNL.08.067\"}"
check "a complaint for a grid outside the person's subtree: 403 forbidden, nothing stored" \
  "403 forbidden 1" "$STATUS $(jbody .code) $(sql "SELECT count(*) FROM cases")"
wait_for "the case routed" 30 sql_eq "SELECT state FROM cases WHERE id = $CASE" routed

# --- guards: session, CSRF, origin, actor ------------------------------------------
U1=$(uuid)
SIGN="{\"id\":\"$U1\",\"kind\":\"case.action\",\"case\":$CASE,\"action\":\"sign\",\"version\":2}"
V=$(sql "SELECT version FROM cases WHERE id = $CASE")
SIGN="{\"id\":\"$U1\",\"kind\":\"case.action\",\"case\":$CASE,\"action\":\"sign\",\"version\":$V,\"note\":\"已联系居民\"}"
act "" "" "$SIGN"
check "no session: 401" 401 "$STATUS"
act "$T3" "" "$SIGN"
check "no X-CSRF-Token: 403" "403 missing or wrong X-CSRF-Token" "$STATUS $(jbody .error)"
act "$T3" "${C3%?}x" "$SIGN"
check "a wrong X-CSRF-Token: 403" 403 "$STATUS"
act "$T3" "$C3" "$SIGN" -H "Origin: https://evil.example"
check "a cross-site Origin: 403" "403 cross-site request refused" "$STATUS $(jbody .error)"
act "$T3" "$C3" "{\"id\":\"$U1\",\"kind\":\"case.action\",\"case\":$CASE,\"action\":\"sign\",\"version\":$V,\"actor\":\"$L3C\"}"
check "an actor in the body: 400 (the session's person acts)" 400 "$STATUS"
act "$T3" "$C3" "{\"id\":\"not-a-uuid\",\"kind\":\"case.action\",\"case\":$CASE,\"action\":\"sign\",\"version\":$V}"
check "an id that is not a UUID: 400" 400 "$STATUS"
check "none of them stored anything" "0 routed" "$(nactions) $(sql "SELECT state FROM cases WHERE id = $CASE")"
act "$TC" "$CC" "{\"id\":\"$(uuid)\",\"kind\":\"case.action\",\"case\":$CASE,\"action\":\"sign\",\"version\":$V}"
check "a leader of another subtree ($L3C): 403 forbidden in Chinese, nothing stored" \
  "403 forbidden 无权操作：不在您的网格范围内，或超出您的职责 0" \
  "$STATUS $(jbody .code) $(jbody .message) $(nactions)"
act "$TC" "$CC" "{\"id\":\"$(uuid)\",\"kind\":\"case.action\",\"case\":$CASE,\"action\":\"sign\",\"version\":$V}" \
  -H "X-Actor: $L3" -b "gf_session=$T3"
check "another person's cookie and an X-Actor header next to one's own: still refused" 403 "$STATUS"

# --- sign, resend, conflict ------------------------------------------------------
act "$T3" "$C3" "$SIGN"
check "sign: 200 ok, signed, the new version" "200 ok signed $((V + 1))" \
  "$STATUS $(jbody .result) $(jbody .state) $(jbody .version)"
check "case_actions: one sign by the session's person with the note" "sign|$L3|已联系居民" \
  "$(sql "SELECT action, actor, note FROM case_actions WHERE case_id = $CASE AND action = 'sign'")"
act "$T3" "$C3" "$SIGN"
check "the same request id again: duplicate, one row in SQL" "200 duplicate 1" \
  "$STATUS $(jbody .result) $(sql "SELECT count(*) FROM case_actions WHERE request_id = '$U1'")"
act "$T3" "$C3" "{\"id\":\"$(uuid)\",\"kind\":\"case.action\",\"case\":$CASE,\"action\":\"progress\",\"version\":$V,\"note\":\"慢了一步\"}"
check "a stale version: 409 conflict with the current state and version" \
  "409 conflict signed $((V + 1)) 该案件刚被他人处理过，请查看当前状态后重试" \
  "$STATUS $(jbody .code) $(jbody .state) $(jbody .version) $(jbody .message)"
act "$T3" "$C3" "{\"id\":\"$(uuid)\",\"kind\":\"case.action\",\"case\":$CASE,\"action\":\"close\",\"version\":$((V + 1))}"
check "an action the state does not allow: 422 illegal_transition" "422 illegal_transition" \
  "$STATUS $(jbody .code)"
check "gridctl case show: the sign by $L3" 1 \
  "$(GF_CURVE=off "$G" case show "$CASE" 2>&1 | grep -c "sign.*$L3\|$L3.*sign\|签收.*$L3\|$L3.*签收")"

# --- a photo, a patrol -------------------------------------------------------------
PNG=$(printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\1\0\0\0\1\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\x0f\x04\0\x09\xfb\x03\xfd\xe3U\xf2\x9c\0\0\0\0IEND\xaeB`\x82' | base64 -w0)
U2=$(uuid)
act "$T3" "$C3" "{\"id\":\"$U2\",\"kind\":\"attachment.add\",\"case\":$CASE,\"filename\":\"现场.png\",\"note\":\"现场照片\",\"data\":\"$PNG\"}"
check "a photo: 200 ok" "200 ok" "$STATUS $(jbody .result)"
act "$T3" "$C3" "{\"id\":\"$U2\",\"kind\":\"attachment.add\",\"case\":$CASE,\"filename\":\"现场.png\",\"note\":\"现场照片\",\"data\":\"$PNG\"}"
check "the photo resent: duplicate; one attachment by $L3, image/png" "200 duplicate 1|$L3|image/png" \
  "$STATUS $(jbody .result) $(sql "SELECT count(*), min(actor), min(content_type) FROM attachments WHERE case_id = $CASE")"
AID=$(sql "SELECT max(id) FROM attachments WHERE case_id = $CASE")
getfile() { # getfile TOKEN: GET the photo into $ART/photo.out, the status in $STATUS
  STATUS=$(curl -s -o "$ART/photo.out" -w '%{http_code} %{content_type}' ${1:+-H "Cookie: gf_session=$1"} \
    "$URL/api/wb/attachment/$AID")
}
getfile "$T3"
check "the photo read back by $L3: its bytes, image/png" "200 image/png $(printf '%s' "$PNG" | base64 -d | sha256sum | cut -c1-64)" \
  "$STATUS $(sha256sum <"$ART/photo.out" | cut -c1-64)"
getfile "$T2"
check "by the L2 leader above it" "200 image/png" "$STATUS"
getfile "$TC"
check "by another subtree's leader: 404, no bytes" "404 application/json; charset=utf-8 0" \
  "$STATUS $(grep -c PNG "$ART/photo.out")"
getfile ""
check "without a session: 401" 401 "${STATUS%% *}"
NOW=$(($(date +%s) * 1000))
act "$T3" "$C3" "{\"id\":\"$(uuid)\",\"kind\":\"patrol.logged\",\"grid\":\"QNL.07.063\",\"done_at\":$NOW,\"places\":[\"青年路\"],\"findings\":[]}"
check "a patrol in the person's grid: 200 ok, by $L3" "200 ok $L3" \
  "$STATUS $(jbody .result) $(sql "SELECT string_agg (actor, ',') FROM patrols")"
act "$T3" "$C3" "{\"id\":\"$(uuid)\",\"kind\":\"patrol.logged\",\"grid\":\"QNL.08.067\",\"done_at\":$NOW,\"places\":[\"x\"],\"findings\":[]}"
check "a patrol in another subtree: 403 forbidden, nothing stored" "403 forbidden 1" \
  "$STATUS $(jbody .code) $(sql "SELECT count(*) FROM patrols")"

# --- reads -------------------------------------------------------------------------
http GET /api/wb/case/$CASE -H "Cookie: gf_session=$T3"
check "case page for $L3: the resident's contact, the timeline with who, the allowed actions" \
  "200 王阿姨 13800001234 signed sign:$L3 true false" \
  "$STATUS $(jbody .name) $(jbody .phone) $(jbody .state) $(jbody '[.timeline[] | select(.action == "sign") | .action + ":" + .actor] | join(",")') $(jbody '.allowed | index("progress") != null') $(jbody '.allowed | index("sign") != null')"
http GET /api/wb/case/$CASE -H "Cookie: gf_session=$TC"
check "case page for $L3C (another subtree): 404, no contact" "404 null" "$STATUS $(jbody .phone)"
http GET /api/wb/case/$CASE
check "case page without a session: 401" 401 "$STATUS"
http GET /api/wb/case/$CASE -H "Cookie: gf_session=$T2"
check "case page for the L2 leader above it: 200, assign and supervise allowed" "200 true true" \
  "$STATUS $(jbody '.allowed | index("assign") != null') $(jbody '.allowed | index("supervise") != null')"
http GET /api/wb/queue -H "Cookie: gf_session=$T3"
check "queue of $L3: the case among my open cases" "200 $CASE 0" \
  "$STATUS $(jbody '[.mine[].id] | join(",")') $(jbody '.sign | length')"
http GET /api/wb/queue -H "Cookie: gf_session=$TC"
check "queue of $L3C: nothing of QNL.07" "200 0 0" "$STATUS $(jbody '.mine | length') $(jbody '.sign | length')"
http GET /api/wb/meeting -H "Cookie: gf_session=$T3"
check "meeting page for an L3 leader: 404" 404 "$STATUS"
http POST /api/wb/queue -H "Cookie: gf_session=$T3" -H "X-CSRF-Token: $C3"
check "POST to a read: 405" 405 "$STATUS"

http GET /api/wb/households?q=%E9%9D%92 -H "Cookie: gf_session=$T3"
check "the household picker answers (an empty register here)" "200 0" "$STATUS $(jbody length)"

finish
