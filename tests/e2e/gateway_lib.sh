# Helpers for the gateway tests (sourced after lib.sh): start gf-gateway on
# PORT_BASE+5, make HTTP requests with curl, read JSON with python3.
HTTP_PORT=$((PORT_BASE + 5))
URL=http://127.0.0.1:$HTTP_PORT
API_KEY=k-test-$$-secret

# start_gateway [ENV=VALUE...]: start gf-gateway and wait for /healthz.
start_gateway() {
  env GF_HTTP=127.0.0.1:$HTTP_PORT "$@" "$BIN/gf-gateway" >>"$ART/gateway.log" 2>&1 &
  PIDS[gateway]=$!
  wait_for "gateway /healthz" 20 curl -sf "$URL/healthz"
}

add_api_key() { # add_api_key NAME KEY
  sql "INSERT INTO api_keys (name, key_sha256)
       VALUES ('$1', encode (sha256 (convert_to ('$2', 'UTF8')), 'hex'))" >/dev/null
}

# http METHOD PATH [CURL ARGS...]: body in $ART/body.json, status in $STATUS.
http() {
  local method=$1 path=$2; shift 2
  STATUS=$(curl -s -o "$ART/body.json" -w '%{http_code}' -X "$method" "$@" "$URL$path")
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
