#!/usr/bin/env bash
# Issue 6, acceptance 1: the dashboard in headless Chromium (Debian's
# chromium, driven by playwright-core from tests/browser).  Loads the
# dashboard, submits complaints through the intake, sees them appear and the
# counts change; stops and restarts the gateway and sees the page catch up
# by itself; a phone viewport; the directory page.  Screenshots in
# tests/artifacts/test_gateway_browser/.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/gateway_lib.sh"
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROMIUM" ] || ! command -v node >/dev/null; then
  not_ok "chromium and node are needed (deploy/install-deps.sh installs them)"; exit 1
fi
BROWSER_DIR=$ROOT/tests/browser
if [ ! -d "$BROWSER_DIR/node_modules/playwright-core" ]; then
  (cd "$BROWSER_DIR" && npm ci --no-audit --no-fund --loglevel=error) >"$ART/npm.log" 2>&1 \
    || { not_ok "npm ci in tests/browser (see $ART/npm.log)"; exit 1; }
fi
new_db
start_stack
# Some history first, so the page has something to show.
gen_hotline 40 3 --prefix BR >"$ART/feed.jsonl" 2>/dev/null
"$BIN/gf-hotline" --quiet "$ART/feed.jsonl" >"$ART/feed.out" 2>&1 || not_ok "feed"
wait_for "feed routed" 30 quiescent
start_gateway
GW_CMD=$(python3 -c "import json,sys; print(json.dumps(sys.argv[1:]))" env GF_HTTP=127.0.0.1:$HTTP_PORT "$BIN/gf-gateway")
GW_URL=$URL GW_PID=${PIDS[gateway]} GW_CMD=$GW_CMD ART=$ART GRIDCTL=$BIN/gridctl CHROMIUM=$CHROMIUM \
  GRIDS=$(sql "SELECT count(*) FROM grids") L3_GRIDS=$(sql "SELECT count(*) FROM grids WHERE level = 3") \
  L1_LEADER=$(sql "SELECT p.name FROM people p JOIN grids g ON g.code = p.grid WHERE g.level = 1 AND p.role = 'leader' ORDER BY g.code LIMIT 1") \
  HEAD_CMD="$PSQL_BIN -X -q -t -A -d '$GF_DB' -c 'SELECT max(seq) FROM case_events'" \
  timeout 240 node "$BROWSER_DIR/dashboard.mjs" 2>>"$ART/gateway2.log"
[ $? -eq 0 ] || FAILED=$((FAILED + 1))
# The first gateway was stopped by the test (SIGTERM); lib.sh must not wait for it.
wait "${PIDS[gateway]}" 2>/dev/null; check "first gateway exited cleanly on SIGTERM" 0 $?
unset "PIDS[gateway]"
finish
