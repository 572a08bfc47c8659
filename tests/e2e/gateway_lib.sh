# Helpers for the gateway tests (sourced after lib.sh): start gf-gateway on
# PORT_BASE+5, make HTTP requests with curl, read JSON with python3.
HTTP_PORT=$((PORT_BASE + 5))
URL=http://127.0.0.1:$HTTP_PORT
API_KEY=k-test-$$-secret

# start_gateway [ENV=VALUE...]: start gf-gateway and wait for /healthz.
start_gateway() {
  env GF_HTTP=127.0.0.1:$HTTP_PORT GF_DB="$(as_service gateway)" "$@" "$BIN/gf-gateway" >>"$ART/gateway.log" 2>&1 &
  PIDS[gateway]=$!
  wait_for "gateway /healthz" 20 curl -sf "$URL/healthz"
}

add_api_key() { # add_api_key NAME KEY
  sql "INSERT INTO api_keys (name, key_sha256)
       VALUES ('$1', encode (sha256 (convert_to ('$2', 'UTF8')), 'hex'))" >/dev/null
}

# http METHOD PATH [CURL ARGS...]: body in $ART/body.json, status in $STATUS.
# With $AUTH set (gw_kiosk, gw_login) it is sent as a header: the staff
# reads need it (issue 16); `AUTH= http ...` asks without it.
http() {
  local method=$1 path=$2; shift 2
  STATUS=$(curl -s -o "$ART/body.json" -w '%{http_code}' -X "$method" ${AUTH:+-H "$AUTH"} "$@" "$URL$path")
}

# gw_kiosk [GRID]: a read-only kiosk token of GRID's subtree (default QNL,
# the sample's root) made with `gridctl kiosk add` as gf_ctl: KIOSK, and
# AUTH (a curl header: Authorization: Bearer) also exported as
# GF_TEST_AUTH for tests/tools' SSE and HTTP clients.
gw_kiosk() {
  KIOSK=$(env GF_DB="$GF_DB options=-crole=gf_ctl" "$BIN/gridctl" kiosk add --grid "${1:-QNL}" \
            --label "$TEST_NAME" | sed -n 's/^token: //p')
  [ ${#KIOSK} -eq 64 ] || not_ok "gridctl kiosk add --grid ${1:-QNL}: no token"
  AUTH="Authorization: Bearer $KIOSK"
  export GF_TEST_AUTH=$AUTH
}

# gw_login PERSON [PASSWORD]: an account for PERSON (gridctl user add as
# gf_ctl, unless it has one) and a session: SESSION (the cookie's token),
# CSRF, and AUTH (a curl header: Cookie: gf_session=...).
gw_login() {
  local person=$1 pw=${2:-"pw $1 secret"} h
  printf '%s\n' "$pw" | env GF_DB="$GF_DB options=-crole=gf_ctl" "$BIN/gridctl" user add "$person" \
    --password-stdin >/dev/null 2>&1
  h=$(curl -s -D - -o "$ART/login.json" --data-urlencode "person=$person" --data-urlencode "password=$pw" \
        "$URL/auth/login" | tr -d '\r')
  SESSION=$(printf '%s\n' "$h" | sed -n 's/^Set-Cookie: gf_session=\([0-9a-f]*\);.*/\1/p')
  CSRF=$(jq -r .csrf "$ART/login.json")
  [ ${#SESSION} -eq 64 ] || not_ok "login as $person: no session"
  AUTH="Cookie: gf_session=$SESSION"
}
# jbody FILTER: a jq filter over the body, printed raw (jq starts in
# milliseconds; python3 takes a second on a loaded machine).
jbody() { jq -r "$1" "$ART/body.json"; }
# check_list NAME EXPECTED ACTUAL: multi-line values; prints the line count, and a diff on failure.
check_list() {
  if [ "$2" == "$3" ]; then ok "$1 ($(printf '%s\n' "$3" | grep -c .) lines)"
  else
    diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") >"$ART/diff-$(echo "$1" | tr -c 'a-zA-Z0-9' _).txt"
    not_ok "$1: differs ($(printf '%s\n' "$2" | grep -c .) expected lines, $(printf '%s\n' "$3" | grep -c .) got; diff in $ART)"
  fi
}
