#!/usr/bin/env bash
# test: long 20 (seconds on a quiet machine: the long ones start first)
# Issue 16, scoped reads and kiosk tokens (docs/gateway.md "Scoped reads",
# docs/security.md "Kiosk tokens").  gf-gateway runs as its own LOGIN user
# (member of gf_gateway only), the other services as their roles.  Cases in
# QNL.07 (two L3 grids) and QNL.08, a weekly ledger of each L2 grid, the
# clock past the sign-for deadline (overdue lists).  Then:
#   - without a session or kiosk token every staff read (/api/*, /stream)
#     answers 401 with a JSON error; so does a made-up token;
#   - QNL.07's leader's session sees exactly QNL.07's subtree on each /api
#     endpoint (summary, escalations, ledger, trend, indicators, programmes)
#     and on /stream (every event of the subtree, none else), compared with
#     SQL; the L1 leader sees the whole tree (a positive control);
#   - a kiosk token (gridctl kiosk add --grid QNL.08) reads QNL.08 only, by
#     header and by the cookie its link (/?kiosk=) sets; it cannot POST;
#     revoked or expired it reads nothing (401), also on /stream;
#   - the public pages and reads (/, /login, /directory, /ratings, their
#     JSON, Open311, /healthz, /metrics) answer 200 without a session and
#     carry no resident's name or phone;
#   - kiosk tokens are stored as sha256 only; adding, revoking, opening and
#     refusing are in the audit trail;
#   - TOTP (gateway/totp_levels 1): the L1 leader enrolled with gridctl user
#     totp logs in only with a current code (oathtool computes it), not
#     without one, not with a wrong one, not with the same code twice; each
#     refusal is a failed attempt (audited, reason totp); the secret is
#     stored sealed, never in clear.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/gateway_lib.sh"
new_db
clock_set "2026-11-03T10:00:00+08:00"
as_role() { echo "$GF_DB options=-crole=$1"; }
start relay -v --db "$(as_role gf_relay)"
start intake -v --db "$(as_role gf_intake)"
start router -v --db "$(as_role gf_router)"
wait_for "intake port" 30 port_open $((PORT_BASE + 0))
wait_for "the router's checkpoint" 10 sql_eq "SELECT count(*) FROM consumer_checkpoints" 1
GWUSER=gft_scoped_gw
PGOPTIONS="-c client_min_messages=warning" sql "DROP ROLE IF EXISTS $GWUSER; CREATE ROLE $GWUSER LOGIN IN ROLE gf_gateway" >/dev/null
CTL=(env GF_DB="$(as_role gf_ctl)" "$BIN/gridctl")
"${CTL[@]}" user totp-key "$ART/totp.key" >/dev/null || not_ok "gridctl user totp-key"
start_gateway GF_DB="$GF_DB user=$GWUSER" GF_TOTP_KEY="$ART/totp.key" GF_TOTP_LEVELS=1 GF_SSE_RECHECK=1

# --- cases: three in QNL.07's subtree, two in QNL.08's ------------------------------
NAME=欧阳测芳 PHONE=13912340077
c1=$(submit --source hotline --ref S-1 --text "楼道垃圾没人清运" --name "$NAME" --phone "$PHONE" --grid QNL.07.063 --category sanitation)
c2=$(submit --source hotline --ref S-2 --text "路灯坏了" --name "$NAME" --phone "$PHONE" --grid QNL.07.063)
c3=$(submit --source hotline --ref S-3 --text "水管漏水" --name "$NAME" --phone "$PHONE" --grid QNL.07.064 --category water)
c4=$(submit --source hotline --ref S-4 --text "噪音扰民" --name "$NAME" --phone "$PHONE" --grid QNL.08.067)
c5=$(submit --source hotline --ref S-5 --text "井盖缺失" --name "$NAME" --phone "$PHONE" --grid QNL.08.067 --category road)
wait_for "five cases routed" 60 sql_eq "SELECT count(*) FROM cases WHERE state = 'routed'" 5
# A weekly ledger of each L2 grid (as the escalator's meetings leave them).
sql "INSERT INTO meetings (id, grid, kind, day, slot_at, held_at, period_from)
     VALUES (9701, 'QNL.07', 'weekly', '2026-11-02', '2026-11-02 09:00+08', '2026-11-02 09:00+08', '2026-10-26 09:00+08'),
            (9801, 'QNL.08', 'weekly', '2026-11-02', '2026-11-02 09:00+08', '2026-11-02 09:00+08', '2026-10-26 09:00+08');
     INSERT INTO ledger_entries (meeting_id, case_id, tier, state, level, priority, age_days, owner)
     VALUES (9701, $c1, 'pending', 'routed', 3, 'general', 1, 'QNL.07.063'),
            (9701, $c3, 'hard', 'routed', 3, 'general', 1, 'QNL.07.064'),
            (9801, $c4, 'pending', 'routed', 3, 'general', 1, 'QNL.08.067')" >/dev/null
clock_set "2026-11-05T10:00:00+08:00" # every case waited past the sign-for deadline

IN07="gf_in_subtree (grid, 'QNL.07')"
# --- no session, no kiosk token: 401 ------------------------------------------------
STAFF=(/api/summary.json /api/escalations.json /api/ledger.json "/api/trend.json?days=30" /api/indicators.json
       /api/programmes.json /api/vocabulary.json)
r=$(for p in "${STAFF[@]}" "/stream?since=0"; do AUTH= http GET "$p" --max-time 5; printf '%s:%s ' "$STATUS" "$(jbody .error)"; done)
check "every staff read without a session or kiosk token: 401 with a JSON error" \
  "$(for p in "${STAFF[@]}" s; do printf '401:no valid session or kiosk token '; done)" "$r"
check "a made-up session cookie and a made-up bearer token: 401" "401 401 401" \
  "$(AUTH= http GET /api/summary.json -H "Cookie: gf_session=$(printf 'a%.0s' {1..64})"; printf '%s ' "$STATUS"
     AUTH= http GET /api/summary.json -H "Authorization: Bearer $(printf 'b%.0s' {1..64})"; printf '%s ' "$STATUS"
     AUTH= http GET /stream -H "Authorization: Bearer $(printf 'b%.0s' {1..64})" --max-time 3; echo "$STATUS")"

# --- QNL.07's leader: QNL.07's subtree on every endpoint ----------------------------
gw_login "$L2"
check "the L2 leader's session: grid QNL.07" QNL.07 "$(jq -r .grid "$ART/login.json")"
http GET /api/summary.json
check "summary: only QNL.07 and its grids" \
  "$(sql "SELECT string_agg (code, ',' ORDER BY code) FROM grids WHERE gf_in_subtree (code, 'QNL.07')")" \
  "$(jbody '[.grids[].code] | sort | join(",")')"
check "summary: QNL.07's three cases" "3 3" "$(jbody '"\(.totals.total) \(.totals.open)"')"
http GET /api/escalations.json
check "escalations: QNL.07's overdue cases only" "$(printf '%s\n' "$c1" "$c2" "$c3" | sort -n | paste -sd,) 3" \
  "$(jbody '[.overdue[].case_id] | sort | map(tostring) | join(",")') $(jbody .overdue_total)"
http GET /api/ledger.json
check "ledger: QNL.07's weekly meeting, its two entries" "QNL.07:1/1" \
  "$(jbody '[.weekly[] | "\(.grid):\(.pending)/\(.hard)"] | join(" ")')"
http GET "/api/trend.json?days=30"
check "trend: QNL.07's three cases received" 3 "$(jbody '[.[].received] | add')"
http GET /api/indicators.json
check "indicators: no root total; the L2 and L3 rows of QNL.07's subtree only" "null QNL.07 QNL.07.063,QNL.07.064" \
  "$(jbody '.roots[0].total') $(jbody '[.roots[0].by_l2[].key] | join(",")') $(jbody '[.roots[0].by_l3[].key | select(. != null)] | sort | join(",")')"
check "indicators: QNL.07 received 3" 3 "$(jbody '.roots[0].by_l2[0].received')"
http GET /api/programmes.json
check "programmes: 200, no L1 field report below L1" "200 null" "$STATUS $(jbody .patrols_done)"
http GET /api/vocabulary.json
check "vocabulary: 200 with a session" 200 "$STATUS"

# /stream: every event of QNL.07's subtree, and nothing else.
curl -s -N -m 4 -H "$AUTH" "$URL/stream?since=0" >"$ART/sse-07.txt"
check "/stream for QNL.07: exactly the events of its subtree (seqs as in SQL)" \
  "$(sql "SELECT string_agg (seq::text, ',' ORDER BY seq) FROM case_events WHERE $IN07")" \
  "$(sed -n 's/^id: //p' "$ART/sse-07.txt" | paste -sd,)"
check "/stream for QNL.07: no event of another grid" 0 \
  "$(sed -n 's/^data: //p' "$ART/sse-07.txt" | jq -r '.grid' | grep -cv '^QNL\.07\(\.\|$\)')"
check "/stream for QNL.07: a filter narrows, never widens (grid=QNL.08: none)" 0 \
  "$(curl -s -N -m 3 -H "$AUTH" "$URL/stream?since=0&grid=QNL.08" | grep -c '^id: ')"

L07=$AUTH
# --- TOTP for L1 (gateway/totp_levels = 1) -----------------------------------------
check "the TOTP key pair: the secret half 0600" 600 "$(stat -c %a "$ART/totp.key")"
printf '%s\n' "pw $L1 secret" | "${CTL[@]}" user add "$L1" --password-stdin >/dev/null
totp_login() { # totp_login [OTP]: the L1 leader's login with its password and OTP; status in $STATUS
  STATUS=$(curl -s -o "$ART/totp.json" -D "$ART/totp-h.txt" -w '%{http_code}' --data-urlencode "person=$L1" \
    --data-urlencode "password=pw $L1 secret" ${1:+--data-urlencode "otp=$1"} "$URL/auth/login")
}
totp_login
check "an L1 leader not enrolled while L1 needs TOTP: refused" 401 "$STATUS"
out=$("${CTL[@]}" user totp "$L1" --key "$ART/totp.key.pub" 2>&1)
SECRET=$(printf '%s\n' "$out" | sed -n 's/^secret: //p')
check "gridctl user totp: the base32 secret and its otpauth:// URI, once" \
  "32 otpauth://totp/gridflow:$L1?secret=$SECRET&issuer=gridflow&algorithm=SHA1&digits=6&period=30" \
  "${#SECRET} $(printf '%s\n' "$out" | sed -n 's/^uri: //p')"
check "the secret is stored sealed, never in clear (and gf_ctl cannot read it)" "1 0 denied" \
  "$(sql "SELECT count(*), count(*) FILTER (WHERE sealed ILIKE '%$SECRET%') FROM account_totp" | tr '|' ' ') $(
     sql "SET ROLE gf_ctl; SELECT sealed FROM account_totp" 2>&1 | grep -q 'permission denied' && echo denied)"
totp_login; s1=$STATUS
CODE=$(oathtool --totp -b "$SECRET")
WRONG=$(printf '%06d' $(( (10#$CODE + 500000) % 1000000 )))
totp_login "$WRONG"; s2=$STATUS
check "no code, a wrong code: 401 each" "401 401" "$s1 $s2"
check "each refusal (not enrolled, no code, a wrong code) a failed attempt toward the lock, audited with reason totp" "3 3" \
  "$(sql "SELECT failures FROM account_logins WHERE person = '$L1'") $(sql "SELECT count(*) FROM audit_log WHERE op = 'login_failed' AND object = '$L1' AND after ->> 'reason' = 'totp'")"
CODE=$(oathtool --totp -b "$SECRET")
totp_login "$CODE"
check "the current code (oathtool): 200, the session of the L1 leader" "200 QNL" "$STATUS $(jq -r .grid "$ART/totp.json")"
L1SESSION=$(tr -d '\r' <"$ART/totp-h.txt" | sed -n 's/^Set-Cookie: gf_session=\([0-9a-f]*\);.*/\1/p')
totp_login "$CODE"
check "the same code again: 401 (a code is good once)" 401 "$STATUS"
check "the L2 leader (level 2, not enrolled) logged in with a password alone" 200 \
  "$(AUTH=$L07 http GET /auth/me; echo "$STATUS")"

# The L1 leader sees the whole tree (the scope is the session's grid).
AUTH="Cookie: gf_session=$L1SESSION"
http GET /api/summary.json
check "the L1 leader's summary: all five cases" 5 "$(jbody .totals.total)"
curl -s -N -m 3 -H "$AUTH" "$URL/stream?since=0" >"$ART/sse-l1.txt"
check "the L1 leader's /stream: every event with a grid" \
  "$(sql "SELECT count(*) FROM case_events WHERE grid IS NOT NULL")" "$(grep -c '^id: ' "$ART/sse-l1.txt")"

# --- kiosk tokens -------------------------------------------------------------------
out=$("${CTL[@]}" kiosk add --grid QNL.08 --label "八网格大屏" 2>&1)
K8=$(printf '%s\n' "$out" | sed -n 's/^token: //p')
K8ID=$(printf '%s\n' "$out" | sed -n 's/^kiosk \([0-9]*\) added.*/\1/p')
check "gridctl kiosk add (as gf_ctl): a 64-hex token, printed once with its link" "64 /?kiosk=$K8" \
  "${#K8} $(printf '%s\n' "$out" | sed -n 's/^link: //p')"
check "the database holds the token's sha256, never the token" "1|0" \
  "$(sql "SELECT count(*) FILTER (WHERE token_sha256 = encode (sha256 (convert_to ('$K8', 'UTF8')), 'hex')),
                 count(*) FILTER (WHERE token_sha256 = '$K8') FROM kiosk_tokens")"
"${CTL[@]}" kiosk add --grid NOPE --label x >"$ART/nope.txt" 2>&1
check "kiosk add for an unknown grid is refused" "1 error: no such grid in the directory" "$? $(tail -1 "$ART/nope.txt")"
AUTH="Authorization: Bearer $K8"
http GET /api/summary.json
check "the kiosk token (header) reads QNL.08's subtree: its two cases" "2 QNL.08" \
  "$(jbody .totals.total) $(jbody '[.grids[].code | select(test("^QNL\\.08(\\.|$)") | not)] | length | if . == 0 then "QNL.08" else "leak" end')"
curl -s -N -m 3 -H "$AUTH" "$URL/stream?since=0" >"$ART/sse-08.txt"
check "the kiosk's /stream: exactly QNL.08's events" \
  "$(sql "SELECT string_agg (seq::text, ',' ORDER BY seq) FROM case_events WHERE gf_in_subtree (grid, 'QNL.08')")" \
  "$(sed -n 's/^id: //p' "$ART/sse-08.txt" | paste -sd,)"
r=$(http POST /auth/logout-all; printf '%s ' "$STATUS"; http POST /api/summary.json; printf '%s ' "$STATUS"
    http POST /auth/logout -H "Cookie: gf_kiosk=$K8"; echo "$STATUS")
check "a kiosk token cannot POST (no session: 401; /api: 405)" "401 405 401" "$r"
# The kiosk link: the token once in the URL, then an HttpOnly cookie.
AUTH= http GET "/?kiosk=$K8" -D "$ART/kh.txt"
check "the kiosk link: 303 to the page without the token, the cookie set" \
  "303 / gf_kiosk=$K8; Path=/; Max-Age=34560000; Secure; HttpOnly; SameSite=Strict" \
  "$STATUS $(tr -d '\r' <"$ART/kh.txt" | sed -n 's/^Location: //p') $(tr -d '\r' <"$ART/kh.txt" | sed -n 's/^Set-Cookie: //p')"
AUTH="Cookie: gf_kiosk=$K8"
http GET /api/summary.json
check "the kiosk cookie reads QNL.08's subtree" "200 2" "$STATUS $(jbody .totals.total)"
AUTH= http GET "/?kiosk=$(printf 'c%.0s' {1..64})"
check "a kiosk link with an unknown token: 401" 401 "$STATUS"
check "gridctl kiosk list --grid QNL: the token, active" "$K8ID QNL.08 八网格大屏 active" \
  "$("${CTL[@]}" kiosk list --grid QNL | awk -v id="$K8ID" '$1 == id {print $1, $2, $3, $4}')"
# A stream open when its token is revoked ends (gateway/sse_recheck 1 s here).
T0=$EPOCHREALTIME
curl -s -N -m 20 -H "Authorization: Bearer $K8" "$URL/stream" >"$ART/sse-revoked.txt" &
STREAM=$!
sleep 1.5
check "gridctl kiosk revoke" "kiosk $K8ID revoked" "$("${CTL[@]}" kiosk revoke "$K8ID" 2>&1)"
wait "$STREAM"
ELAPSED=$(( (${EPOCHREALTIME/./} - ${T0/./}) / 1000000 ))
check "the stream open at the revocation ends within gateway/sse_recheck (not curl's 20 s)" t \
  "$([ "$ELAPSED" -lt 8 ] && grep -q 'gridflow events after seq' "$ART/sse-revoked.txt" && echo t || echo "f ${ELAPSED}s")"
r=$(for h in "Authorization: Bearer $K8" "Cookie: gf_kiosk=$K8"; do
      AUTH=$h http GET /api/summary.json; printf '%s ' "$STATUS"; AUTH=$h http GET /stream --max-time 3; printf '%s ' "$STATUS"
    done; AUTH= http GET "/?kiosk=$K8"; echo "$STATUS")
check "a revoked kiosk token: 401 by header, by cookie, on /stream and as a link" "401 401 401 401 401" "$r"
"${CTL[@]}" kiosk revoke "$K8ID" >/dev/null 2>&1
check "revoking twice is refused" 1 "$?"
KX=$("${CTL[@]}" kiosk add --grid QNL.07 --label 过期 --expires 2026-01-01 | sed -n 's/^token: //p')
check "an expired kiosk token: 401, listed as expired" "401 expired" \
  "$(AUTH="Authorization: Bearer $KX" http GET /api/summary.json; echo "$STATUS") $("${CTL[@]}" kiosk list --grid QNL.07 | awk 'NR > 1 {print $4}')"

# --- the public pages stay public and carry no personal data ------------------------
PUBLIC=(/ /login /directory /ratings /api/directory.json /api/ratings.json /open311/v2/services.json
        /open311/v2/requests.json "/open311/v2/requests/$c4.json" /healthz /metrics)
r=$(for p in "${PUBLIC[@]}"; do AUTH= http GET "$p"; printf '%s ' "$STATUS"; cat "$ART/body.json" >>"$ART/public.txt"; done)
check "public pages and reads without a session: 200" "$(for p in "${PUBLIC[@]}"; do printf '200 '; done)" "$r"
check "the Open311 read of a QNL.08 case stays public (the public view, any grid)" "200 $c4" \
  "$(AUTH= http GET "/open311/v2/requests/$c4.json"; echo "$STATUS $(jbody '.[0].service_request_id')")"
check "no resident's name or phone in any public answer" 0 "$(grep -cE "$NAME|$PHONE|${PHONE:0:3}\*\*\*\*${PHONE: -4}" "$ART/public.txt")"
check "the staff reads carry no resident's name or phone either" 0 \
  "$(cat "$ART/sse-07.txt" "$ART/sse-l1.txt" | grep -cE "$NAME|$PHONE")"

# --- the audit trail ----------------------------------------------------------------
check "kiosk tokens: added, revoked, opened, refused, in the audit trail" \
  "insert:2 kiosk_open:1 kiosk_refused:2 update:1" \
  "$(sql "SELECT string_agg (op || ':' || n, ' ' ORDER BY op) FROM (SELECT op, count(*) AS n FROM audit_log
           WHERE tab = 'kiosk_tokens' GROUP BY op) x")"
check "no kiosk token in the audit trail" 0 \
  "$(sql "SELECT count(*) FROM audit_log WHERE concat (before, after) LIKE ANY (ARRAY['%$K8%', '%$KX%'])")"
check "no statement of the gateway was refused" "" "$(grep -E '42501|permission denied' "$ART/gateway.log")"
finish
