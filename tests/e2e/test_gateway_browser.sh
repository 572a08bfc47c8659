#!/usr/bin/env bash
# Issue 6, acceptance 1: the dashboard in headless Chromium (Debian's
# chromium, driven over WebDriver by Debian's chromedriver from
# tests/browser/dashboard.mjs with Node's built-in fetch: no npm module, no
# download at test time).  Loads the dashboard, submits complaints through
# the intake, sees them appear and the counts change; stops and restarts the
# gateway and sees the page catch up by itself; a phone viewport; the
# directory page.  Issue 16: without a session the page goes to /login; a
# wrong password is refused there, the right one leads back to the
# dashboard; logout; a kiosk link shows one subtree on a big screen.  Screenshots in tests/artifacts/test_gateway_browser/.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/gateway_lib.sh"
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
CHROMEDRIVER=${CHROMEDRIVER:-$(command -v chromedriver || true)}
if [ -z "$CHROMIUM" ] || [ -z "$CHROMEDRIVER" ] || ! command -v node >/dev/null; then
  not_ok "chromium, chromedriver (package chromium-driver) and node are needed (deploy/install-deps.sh installs them)"
  exit 1
fi
BROWSER_DIR=$ROOT/tests/browser
WEBDRIVER_PORT=$((PORT_BASE + 8))
# stop_leftovers NODE_STATUS: what the browser test started or should have
# stopped, if it died first: chromedriver and the chromium it started (a
# process group of their own; exited processes that init has not reaped yet,
# state Z, do not count), the gateway it restarted, the first gateway.
group_alive() { ps -o stat= -g "$1" 2>/dev/null | grep -qv '^Z'; }
stop_leftovers() {
  local pid i=0
  if pid=$(cat "$ART/chromedriver.pid" 2>/dev/null); then
    while group_alive "$pid" && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
    if group_alive "$pid"; then
      not_ok "chromedriver's process group $pid still running after the browser test, stopped: $(ps -o pid=,args= -g "$pid" | cut -c1-80 | tr '\n' ';')"
      kill -TERM -- "-$pid" 2>/dev/null
    fi
  fi
  i=0
  pid=$(cat "$ART/gateway2.pid" 2>/dev/null) || pid=
  while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    not_ok "the restarted gateway (pid $pid) still running after the browser test, stopped"
    kill -TERM "$pid" 2>/dev/null
  fi
  if [ "$1" -ne 0 ] && kill -0 "${PIDS[gateway]}" 2>/dev/null; then
    not_ok "the browser test ended (status $1) before it stopped the first gateway; stopping it"
    kill -TERM "${PIDS[gateway]}"
  fi
}
new_db
start_stack
# Some history first, so the page has something to show.
gen_hotline 40 3 --prefix BR >"$ART/feed.jsonl" 2>/dev/null
"$BIN/gf-hotline" --quiet "$ART/feed.jsonl" >"$ART/feed.out" 2>&1 || not_ok "feed"
wait_for "feed routed" 30 quiescent
start_gateway
# Issue 16: the page needs a session (the L1 leader's account, made by
# gridctl) or a kiosk token (QNL.01's, for the big screen at the end).
LOGIN_PW="browser pw $$"
printf '%s\n' "$LOGIN_PW" | env GF_DB="$GF_DB options=-crole=gf_ctl" "$BIN/gridctl" user add "$L1" --password-stdin >/dev/null ||
  not_ok "user add $L1"
gw_kiosk QNL.01
GW_CMD=$(python3 -c "import json,sys; print(json.dumps(sys.argv[1:]))" env GF_HTTP=127.0.0.1:$HTTP_PORT "$BIN/gf-gateway")
GW_URL=$URL GW_PID=${PIDS[gateway]} GW_CMD=$GW_CMD ART=$ART GRIDCTL=$BIN/gridctl \
  LOGIN_PERSON=$L1 LOGIN_PASSWORD=$LOGIN_PW KIOSK_TOKEN=$KIOSK \
  LOGIN_NAME=$(sql "SELECT name FROM people WHERE id = '$L1'") \
  CHROMIUM=$CHROMIUM CHROMEDRIVER=$CHROMEDRIVER WEBDRIVER_PORT=$WEBDRIVER_PORT \
  GRIDS=$(sql "SELECT count(*) FROM grids") L3_GRIDS=$(sql "SELECT count(*) FROM grids WHERE level = 3") \
  L1_LEADER=$(sql "SELECT p.name FROM people p JOIN grids g ON g.code = p.grid WHERE g.level = 1 AND p.role = 'leader' ORDER BY g.code LIMIT 1") \
  HEAD_CMD="$PSQL_BIN -X -q -t -A -d '$GF_DB' -c 'SELECT max(seq) FROM case_events'" \
  timeout 240 node "$BROWSER_DIR/dashboard.mjs" 2>>"$ART/gateway2.log"
NODE_STATUS=$?
[ $NODE_STATUS -eq 0 ] || FAILED=$((FAILED + 1))
stop_leftovers $NODE_STATUS
# The first gateway was stopped by the test (SIGTERM); lib.sh must not wait for it.
wait "${PIDS[gateway]}" 2>/dev/null; check "first gateway exited cleanly on SIGTERM" 0 $?
unset "PIDS[gateway]"
finish
