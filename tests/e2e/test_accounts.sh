#!/usr/bin/env bash
# test: long 26 (seconds on a quiet machine: the long ones start first)
# Issue 16, part 1: staff accounts and sessions.  gridctl user add|list|
# disable|reset as the operator's role (gf_ctl); gf-gateway as its own LOGIN
# user (member of gf_gateway only): POST /auth/login (form and JSON) sets a
# Secure, HttpOnly, SameSite=Strict cookie whose token the database holds
# only as a sha256; /auth/me with and without it; the CSRF token required on
# logout (403 without it, or from another site); logout and logout-all;
# wrong passwords lock the account after gateway/login_failures, the lock
# ends after gateway/login_lockout; the per-address login bucket (429);
# idle and absolute expiry (short configured limits: security time is real
# time, never the simulated clock); a disabled account; every event in the
# audit trail, with no password or token in it.  Accounts from the
# directory (user import --from-directory): one-time passwords in a 0600
# file, a new password required at the first login.  The cookie is Secure, so a
# browser would not send it over this test's plain HTTP: curl sends the
# header's value itself.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/gateway_lib.sh"
new_db
start relay
wait_for "relay ports" 30 port_open $((PORT_BASE + 2))

CTL=(env GF_DB="$GF_DB options=-crole=gf_ctl" "$BIN/gridctl")
PW3='correct horse 3'
NEWPW='battery staple 9'

# --- gridctl user ---------------------------------------------------------------
out=$(printf '%s\n' "$PW3" | "${CTL[@]}" user add "$L3" --password-stdin 2>&1)
check "user add $L3 (password from stdin, as gf_ctl)" "user $L3 added" "$out"
out=$("${CTL[@]}" user add "$L3B" 2>&1)
PW3B=$(printf '%s\n' "$out" | sed -n 's/^password: //p')
check "user add $L3B without a password: one is made and shown once (16 characters)" 16 "${#PW3B}"
check "the database holds Argon2id strings only" "2|2" \
  "$(sql "SELECT count(*), count(*) FILTER (WHERE pw_hash LIKE '\$argon2id\$v=19\$%') FROM accounts")"
"${CTL[@]}" user add "$L3" </dev/null >"$ART/dup.txt" 2>&1
check "user add twice is refused" "1 error: the person already has an account (user reset)" \
  "$? $(tail -1 "$ART/dup.txt")"
"${CTL[@]}" user add P-NOBODY >"$ART/nobody.txt" 2>&1
check "user add for a person not in the directory is refused" "1 error: no such person in the directory" \
  "$? $(tail -1 "$ART/nobody.txt")"
echo short | "${CTL[@]}" user add "$L2" --password-stdin >"$ART/short.txt" 2>&1
check "a password under 8 bytes is refused" "1 error: the password must be 8..1024 bytes" \
  "$? $(tail -1 "$ART/short.txt")"
check "user list --grid QNL.07: both, with the directory's grid and role, active" \
  "$L3 QNL.07.063 leader active
$L3B QNL.07.064 leader active" \
  "$("${CTL[@]}" user list --grid QNL.07 | awk 'NR > 1 {print $1, $3, $4, $5}')"
check "user list --grid QNL.08: nobody" 1 "$("${CTL[@]}" user list --grid QNL.08 | wc -l)"
check "gf_ctl cannot read the password hashes" denied \
  "$(sql "SET ROLE gf_ctl; SELECT pw_hash FROM accounts" 2>&1 | grep -q 'permission denied' && echo denied)"

# --- the gateway as its own LOGIN user ------------------------------------------
GWUSER=gft_accounts_gw
PGOPTIONS="-c client_min_messages=warning" sql "DROP ROLE IF EXISTS $GWUSER; CREATE ROLE $GWUSER LOGIN IN ROLE gf_gateway" >/dev/null
start_gateway GF_DB="$GF_DB user=$GWUSER" GF_LOGIN_FAILURES=3 GF_LOGIN_WINDOW=60 \
  GF_LOGIN_LOCKOUT=4 GF_SESSION_IDLE=6 GF_SESSION_MAX=14 GF_LOGIN_IP_RATE=1 GF_LOGIN_IP_BURST=20
check "the gateway connects as its own LOGIN user" t \
  "$(sql "SELECT count(*) > 0 FROM pg_stat_activity WHERE usename = '$GWUSER'")"
check "the gateway's user cannot read accounts or sessions" "denied denied" \
  "$(for t in accounts sessions; do
       SQL_DB="$GF_DB user=$GWUSER" sql "SELECT count(*) FROM $t" 2>&1 | grep -q 'permission denied' && printf 'denied '
     done | sed 's/ $//')"

# login PERSON PASSWORD [CURL ARGS]: form POST; status in $STATUS, headers in
# $ART/h.txt, the cookie's token in $TOKEN.
login() {
  local person=$1 pw=$2; shift 2
  STATUS=$(curl -s -o "$ART/body.json" -D "$ART/h.txt" -w '%{http_code}' "$@" \
    --data-urlencode "person=$person" --data-urlencode "password=$pw" "$URL/auth/login")
  TOKEN=$(tr -d '\r' <"$ART/h.txt" | sed -n 's/^Set-Cookie: gf_session=\([0-9a-f]*\);.*/\1/p')
}
me() { http GET /auth/me -H "Cookie: gf_session=$1"; echo "$STATUS"; }
csrf_of() { http GET /auth/me -H "Cookie: gf_session=$1"; jbody .csrf; }

login "$L3" "$PW3"
check "login (form): 200 with who signed in" "200 $L3 QNL.07.063 leader" \
  "$STATUS $(jbody '.person + " " + .grid + " " + .role')"
check "the cookie: 256-bit token, Path=/, Max-Age=session_max, Secure, HttpOnly, SameSite=Strict" \
  "gf_session=$TOKEN; Path=/; Max-Age=14; Secure; HttpOnly; SameSite=Strict (64)" \
  "$(tr -d '\r' <"$ART/h.txt" | sed -n 's/^Set-Cookie: //p') (${#TOKEN})"
T1=$TOKEN
check "the database holds the token's sha256, never the token" "1|0" \
  "$(sql "SELECT count(*) FILTER (WHERE token_sha256 = encode (sha256 (convert_to ('$T1', 'UTF8')), 'hex')),
                 count(*) FILTER (WHERE token_sha256 = '$T1' OR csrf = '$T1') FROM sessions")"
check "/auth/me with the cookie: who, grid, role, a CSRF token" "200 $L3 QNL.07.063 leader 64" \
  "$(http GET /auth/me -H "Cookie: gf_session=$T1"; echo "$STATUS $(jbody '.person + " " + .grid + " " + .role + " " + (.csrf | length | tostring)')")"
check "/auth/me without a cookie: 401" 401 "$(http GET /auth/me; echo "$STATUS")"
check "/auth/me with a made-up token: 401" 401 "$(me "$(printf 'a%.0s' {1..64})")"
check "GET /auth/login: 405" 405 "$(http GET /auth/login; echo "$STATUS")"
STATUS=$(curl -s -o "$ART/body.json" -D "$ART/h2.txt" -w '%{http_code}' -H 'Content-Type: application/json' \
  --data "{\"person\":\"$L3B\",\"password\":\"$PW3B\"}" "$URL/auth/login")
check "login (JSON body) for $L3B: 200" "200 $L3B" "$STATUS $(jbody .person)"
TB=$(tr -d '\r' <"$ART/h2.txt" | sed -n 's/^Set-Cookie: gf_session=\([0-9a-f]*\);.*/\1/p')
check "the dashboard's reads: 401 without a session, 200 with one (issue 16)" "401 200" \
  "$(http GET /api/summary.json; printf '%s ' "$STATUS"; http GET /api/summary.json -H "Cookie: gf_session=$TB"; echo "$STATUS")"

# --- CSRF ---------------------------------------------------------------------
C1=$(csrf_of "$T1")
WRONG=${C1%?}$([ "${C1: -1}" == 0 ] && echo 1 || echo 0) # C1 with its last digit changed
check "logout without X-CSRF-Token: 403" 403 \
  "$(http POST /auth/logout -H "Cookie: gf_session=$T1"; echo "$STATUS")"
check "logout with a wrong X-CSRF-Token: 403" 403 \
  "$(http POST /auth/logout -H "Cookie: gf_session=$T1" -H "X-CSRF-Token: $WRONG"; echo "$STATUS")"
check "a cross-site POST (Origin of another site) even with the token: 403" 403 \
  "$(http POST /auth/logout -H "Cookie: gf_session=$T1" -H "X-CSRF-Token: $C1" -H 'Origin: https://evil.example'; echo "$STATUS")"
check "a cross-site login POST: 403" 403 \
  "$(login "$L3" "$PW3" -H 'Origin: https://evil.example'; echo "$STATUS")"
check "after the refusals the session is still open" 200 "$(me "$T1")"

# --- logout, logout-all -------------------------------------------------------
check "logout with the token (same origin): 200, one session ended, cookie cleared" \
  "200 1 gf_session=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict" \
  "$(STATUS=$(curl -s -o "$ART/body.json" -D "$ART/h3.txt" -w '%{http_code}' -X POST -H "Cookie: gf_session=$T1" \
       -H "X-CSRF-Token: $C1" -H "Origin: $URL" "$URL/auth/logout")
     echo "$STATUS $(jbody .ended) $(tr -d '\r' <"$ART/h3.txt" | sed -n 's/^Set-Cookie: //p')")"
check "the logged-out session: 401" 401 "$(me "$T1")"
login "$L3" "$PW3"; TA=$TOKEN
login "$L3" "$PW3"; TC=$TOKEN
check "two sessions of $L3 open" "200 200" "$(me "$TA") $(me "$TC")"
check "logout-all from one: both ended" "200 2" \
  "$(http POST /auth/logout-all -H "Cookie: gf_session=$TA" -H "X-CSRF-Token: $(csrf_of "$TA")"; echo "$STATUS $(jbody .ended)")"
check "both sessions: 401; $L3B's session untouched" "401 401 200" "$(me "$TA") $(me "$TC") $(me "$TB")"

# --- lockout ------------------------------------------------------------------
r=""
for i in 1 2 3; do login "$L3" "wrong $i"; r+="$STATUS "; done
check "three wrong passwords: 401 each" "401 401 401 " "$r"
login "$L3" "$PW3"
check "then the right password is refused: the account is locked (same 401)" 401 "$STATUS"
check "user list shows the lock" locked "$("${CTL[@]}" user list --grid QNL.07.063 | awk 'NR == 2 {print $5}')"
sleep 4.5
login "$L3" "$PW3"
check "after gateway/login_lockout the lock has ended: 200" 200 "$STATUS"

# --- idle and absolute expiry (session_idle 6 s, session_max 14 s) ------------
# Polls at fixed offsets from T2's login: a busy session, a session left alone.
# T0 is taken once T2's login has answered, so the session was made before
# it: a slow login (a loaded machine) cannot make it younger than the offsets
# say.  With T0 taken before the login, the session was still open at 14.5 s
# in a clean clone's make check (7 Dec): only the login's time lies between.
login "$L3" "$PW3"; T2=$TOKEN
T0=$(date +%s.%N)
at() { sleep "$(awk -v t0="$T0" -v d="$1" -v now="$(date +%s.%N)" 'BEGIN { w = t0 + d - now; printf "%.3f", (w > 0 ? w : 0) }')"; }
login "$L3" "$PW3"; TI=$TOKEN
r=""
for t in 2 4 6 8 11; do at $t; r+="$(me "$T2") "; done
check "a session in use stays open before session_max" "200 200 200 200 200 " "$r"
check "a session unused past session_idle: 401" 401 "$(me "$TI")"
at 14.5
check "the busy session past session_max: 401" 401 "$(me "$T2")"

# --- disable, reset -----------------------------------------------------------
"${CTL[@]}" user disable "$L3B" >/dev/null
check "a disabled account's session ends" 401 "$(me "$TB")"
login "$L3B" "$PW3B"
check "a disabled account cannot log in" 401 "$STATUS"
check "user list shows it disabled" disabled "$("${CTL[@]}" user list --grid QNL.07.064 | awk 'NR == 2 {print $5}')"
printf '%s\n' "$NEWPW" | "${CTL[@]}" user reset "$L3B" --password-stdin >/dev/null
login "$L3B" "$PW3B"; s1=$STATUS
login "$L3B" "$NEWPW"; s2=$STATUS
check "after user reset: the old password 401, the new one 200" "401 200" "$s1 $s2"

# --- per-address login throttling (login_ip_burst 20, login_ip_rate 1/min) -----
r=$(for i in $(seq 1 26); do
      curl -s -o /dev/null -w '%{http_code}\n' --interface 127.0.0.3 --data "person=P-X$i&password=x" "$URL/auth/login"
    done | sort | uniq -c | awk '{printf "%s:%s ", $2, $1}')
check "26 attempts from 127.0.0.3: 20 answered (401), then 429" "401:20 429:6 " "$r"
check "the 429 carries Retry-After" "Retry-After: 60" \
  "$(curl -s -D - -o /dev/null --interface 127.0.0.3 --data 'person=x&password=x' "$URL/auth/login" | tr -d '\r' | grep '^Retry-After')"
login "$L3" "$PW3"
check "meanwhile 127.0.0.1 logs in: the buckets are per address" 200 "$STATUS"
check "the refused attempts never reached the database (20 audited from 127.0.0.3)" 20 \
  "$(sql "SELECT count(*) FROM audit_log WHERE op = 'login_failed' AND after ->> 'client_addr' = '127.0.0.3'")"

# --- the audit trail ----------------------------------------------------------
check "every kind of event is in the audit trail" \
  "insert lockout login login_failed logout logout_all session_end update" \
  "$(sql "SELECT string_agg (DISTINCT op, ' ' ORDER BY op) FROM audit_log WHERE tab = 'accounts'")"
check "failures by reason (password, locked, disabled, unknown)" "disabled:1 locked:1 password:4 unknown:20" \
  "$(sql "SELECT string_agg (r || ':' || n, ' ' ORDER BY r) FROM (SELECT after ->> 'reason' AS r, count(*) AS n
            FROM audit_log WHERE op = 'login_failed' GROUP BY 1) x")"
check "the lockout row names the person, the address and the count" "$L3|127.0.0.1|3" \
  "$(sql "SELECT object, after ->> 'client_addr', after ->> 'failures' FROM audit_log WHERE op = 'lockout'")"
check "sessions ended by expiry are recorded with why" "expired idle" \
  "$(sql "SELECT string_agg (DISTINCT after ->> 'why', ' ' ORDER BY after ->> 'why') FROM audit_log WHERE op = 'session_end' AND object = '$L3'")"
check "the login rows are written as the gateway's user" "$GWUSER" \
  "$(sql "SELECT string_agg (DISTINCT db_user, ',') FROM audit_log WHERE op IN ('login', 'logout', 'lockout')")"
check "no password, token or hash in the audit trail" 0 \
  "$(sql "SELECT count(*) FROM audit_log WHERE concat (before, after) LIKE ANY (ARRAY['%$PW3%', '%$PW3B%', '%$NEWPW%', '%$T1%', '%argon2%'])")"

# --- accounts from the directory: one-time passwords, changed at first login ---
"${CTL[@]}" user import --from-directory --grid QNL.08.067 --out "$ART/otp.tsv" >"$ART/import.txt" 2>&1
check "user import --from-directory --grid QNL.08.067: an account for each of its people, listed in a 0600 file" \
  "$(sql "SELECT count(*) FROM people WHERE grid = 'QNL.08.067'") 600 $(sql "SELECT count(*) FROM people WHERE grid = 'QNL.08.067'")" \
  "$(sql "SELECT count(*) FROM accounts a JOIN people p ON p.id = a.person WHERE p.grid = 'QNL.08.067' AND a.must_change") $(stat -c %a "$ART/otp.tsv") $(wc -l <"$ART/otp.tsv")"
check "a second import makes none" "0 accounts made with one-time passwords (changed at the first login)" \
  "$("${CTL[@]}" user import --from-directory --grid QNL.08.067 2>&1 | tail -1)"
OTP=$(awk -F'\t' -v p="$L3C" '$1 == p {print $5}' "$ART/otp.tsv")
login5() { STATUS=$(curl -s -o "$ART/body.json" -w '%{http_code}' --interface 127.0.0.5 "$@" "$URL/auth/login"); }
login5 --data-urlencode "person=$L3C" --data-urlencode "password=$OTP"
check "the one-time password alone: 403, a new password required" "403 true" "$STATUS $(jbody .must_change)"
login5 --data-urlencode "person=$L3C" --data-urlencode "password=$OTP" --data-urlencode "new_password=$OTP"
check "the one-time password as the new one: 403" 403 "$STATUS"
login5 --data-urlencode "person=$L3C" --data-urlencode "password=$OTP" --data-urlencode "new_password=$NEWPW"
check "with a new password: 200, a session" "200 $L3C" "$STATUS $(jbody .person)"
login5 --data-urlencode "person=$L3C" --data-urlencode "password=$OTP"; s1=$STATUS
login5 --data-urlencode "person=$L3C" --data-urlencode "password=$NEWPW"; s2=$STATUS
check "afterwards the one-time password 401, the new one 200" "401 200" "$s1 $s2"
check "the change is audited (hash hidden), the refusals with reason must_change" "(secret) 2" \
  "$(sql "SELECT after ->> 'pw_hash' FROM audit_log WHERE tab = 'accounts' AND op = 'update' AND object = '$L3C' AND after ? 'pw_hash' ORDER BY id DESC LIMIT 1") $(
     sql "SELECT count(*) FROM audit_log WHERE op = 'login_failed' AND object = '$L3C' AND after ->> 'reason' = 'must_change'")"
check "no one-time password in the audit trail" 0 \
  "$(sql "SELECT count(*) FROM audit_log WHERE concat (before, after) LIKE '%$OTP%'")"
check "no statement of the gateway was refused" "" \
  "$(grep -E '42501|permission denied' "$ART/gateway.log")"
finish
