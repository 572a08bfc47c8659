#!/usr/bin/env bash
# test: long 22 (seconds on a quiet machine: the long ones start first)
# Issue 16, acceptance: the staff workbench (/wb/) in headless Debian
# chromium (tests/browser/workbench.mjs over WebDriver, a 390 px phone
# viewport), under the configuration users run: the gateway as its own
# LOGIN user, CurveZMQ between the gateway (identity kind workbench) and the
# intake.  Every step is checked in SQL with the right actor; screenshots in
# tests/artifacts/test_workbench/.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/gateway_lib.sh"
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
CHROMEDRIVER=${CHROMEDRIVER:-$(command -v chromedriver || true)}
if [ -z "$CHROMIUM" ] || [ -z "$CHROMEDRIVER" ] || ! command -v node >/dev/null; then
  not_ok "chromium, chromedriver (package chromium-driver) and node are needed (deploy/install-deps.sh installs them)"
  exit 1
fi
new_db
G="$BIN/gridctl"
CERTS=$ART/certs
ctl() { "$G" --certs "$CERTS" "$@" >>"$ART/cert.out" 2>&1 || not_ok "gridctl $*"; }
ctl cert server "$ART/server.cert"
ctl cert new workbench --kind workbench --grid QNL --sources app,patrol,visit --out "$ART/wb.cert"
ctl cert new feed --kind adapter --grid QNL --sources hotline --out "$ART/feed.cert"
export GF_CURVE=on
GF_CURVE=off start relay
start intake --cert "$ART/server.cert" --certs "$CERTS"
GF_CURVE=off start router
GF_CURVE=off start notifier
wait_for "intake port" 30 port_open "$PORT_BASE"
wait_for "relay ports" 30 port_open $((PORT_BASE + 2))
wait_for "router and notifier" 10 sql_eq "SELECT count(*) FROM consumer_checkpoints" 2

MEMBER=P-QNL.07.063-2
PW='correct horse 3'
CTL=(env GF_DB="$GF_DB options=-crole=gf_ctl" GF_CURVE=off "$G")
for p in "$L3" "$MEMBER" "$L2"; do
  printf '%s\n' "$PW" | "${CTL[@]}" user add "$p" --password-stdin >>"$ART/users.out" 2>&1
done
# Accounts from the directory for the rest of the grid: one-time passwords.
"${CTL[@]}" user import --from-directory --grid QNL.07.063 --out "$ART/once.tsv" >>"$ART/users.out" 2>&1
ONCE=P-QNL.07.063-3
ONCE_PW=$(awk -F'\t' -v p="$ONCE" '$1 == p {print $5}' "$ART/once.tsv")
check "a one-time password for $ONCE from the directory import" 16 "${#ONCE_PW}"
sql "INSERT INTO households (id, grid, address, head_name, phone, created_at, updated_at)
     VALUES ('H-WB-1', 'QNL.07.063', '青年路63号1单元101', '张大爷', '13600000001', now (), now ())" >/dev/null
GWUSER=gft_wb_gw
PGOPTIONS="-c client_min_messages=warning" sql "DROP ROLE IF EXISTS $GWUSER; CREATE ROLE $GWUSER LOGIN IN ROLE gf_gateway" >/dev/null
start_gateway GF_DB="$GF_DB user=$GWUSER" GF_SERVER_CERT="$ART/server.cert" \
  GF_WORKBENCH_CERT="$ART/wb.cert" GF_LOGIN_IP_RATE=0 GF_HTTP_MAX_BODY=262144
check "the gateway connects as its own LOGIN user" t \
  "$(sql "SELECT count(*) > 0 FROM pg_stat_activity WHERE usename = '$GWUSER'")"

SUBMIT_ARGS="--cert $ART/feed.cert --server-cert $ART/server.cert" \
  ART=$ART URL=$URL PW=$PW L3=$L3 L2=$L2 MEMBER=$MEMBER GRIDCTL=$G ONCE=$ONCE ONCE_PW=$ONCE_PW \
  PSQL="$PSQL_BIN" GF_DB="$GF_DB" \
  CHROMIUM=$CHROMIUM CHROMEDRIVER=$CHROMEDRIVER WEBDRIVER_PORT=$((PORT_BASE + 8)) WEBDRIVER_PORT2=$((PORT_BASE + 7)) \
  timeout 300 node "$ROOT/tests/browser/workbench.mjs"
NODE_STATUS=$?
[ $NODE_STATUS -eq 0 ] || FAILED=$((FAILED + 1))
for f in chromedriver chromedriver2; do
  if pid=$(cat "$ART/$f.pid" 2>/dev/null); then kill -TERM -- "-$pid" 2>/dev/null; fi
done
finish
