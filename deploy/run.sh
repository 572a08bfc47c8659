#!/usr/bin/env bash
# `make run`: start the private PostgreSQL cluster, apply migrations, load the
# sample Qingnianlu directory, start every service, feed the sample hotline
# file and show the events flowing.  Ctrl-C stops everything (services and
# PostgreSQL); no process is left behind.
# `make run-ha` (GF_RUN_HA=auto): the same against a pg_auto_failover monitor,
# primary and synchronous standby (deploy/pg-auto.sh); the services connect
# with its multi-host conninfo and follow a failover by themselves
# (docs/operations.md, "Automatic failover with pg_auto_failover").
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/bin
LOG=$ROOT/var/log
cd "$ROOT"

PG=deploy/pg.sh
[ "${GF_RUN_HA:-}" = auto ] && PG=deploy/pg-auto.sh
$PG start
[ "$PG" = deploy/pg-auto.sh ] && $PG status >&2
# The owner migrates; then every program connects as its own LOGIN user,
# gridflow_<service>, a member of its role gf_<service> (docs/security.md).
OWNER_DB="$($PG conninfo gridflow)"
role_db() { echo "$OWNER_DB user=gridflow_$1"; }
# The demo may move the simulated clock (clock/simulated; off in production).
export GF_SIM_CLOCK=${GF_SIM_CLOCK:-on}
mkdir -p "$LOG"
"$BIN/gridctl" --db "$OWNER_DB" db migrate 2>>"$LOG/gridctl.log"
$PG users
export GF_DB="$(role_db ctl)"
"$BIN/gridctl" grids import deploy/sample/qingnianlu.json 2>>"$LOG/gridctl.log"
"$BIN/gridctl" calendar import 2>>"$LOG/gridctl.log"

# CurveZMQ on the intake, the relay and the app push (docs/security.md): the
# servers' certificates and the client identities under var/certs, made once
# (again if the database lost them).  Each service has one key pair: the
# notifier's is both its app push server key and its key on the relay.
# GF_CURVE=off runs the demo on plain loopback TCP instead.
CERTS=$ROOT/var/certs
export GF_CURVE=${GF_CURVE:-on}
INTAKE_ARGS=() HOTLINE_ARGS=() GATEWAY_ARGS=() RELAY_ARGS=() WATCH_ARGS=()
declare -A SVC_ARGS=()
if [ "$GF_CURVE" = on ]; then
  mkdir -p "$CERTS/clients"
  [ -f "$CERTS/intake.cert_secret" ] || "$BIN/gridctl" cert server "$CERTS/intake.cert" >>"$LOG/gridctl.log"
  [ -f "$CERTS/relay.cert_secret" ] || "$BIN/gridctl" cert server "$CERTS/relay.cert" >>"$LOG/gridctl.log"
  identity() { # NAME ARGS...
    local name=$1; shift
    local known
    known=$("$BIN/gridctl" --certs "$CERTS/clients" cert list 2>>"$LOG/gridctl.log")
    grep -q "^$name " <<<"$known" && return 0
    rm -f "$CERTS/$name.cert" "$CERTS/$name.cert_secret" "$CERTS/clients/$name.cert"
    "$BIN/gridctl" --certs "$CERTS/clients" cert new "$name" "$@" --out "$CERTS/$name.cert" >>"$LOG/gridctl.log"
  }
  identity sample-hotline --kind adapter --grid QNL --sources hotline
  identity operator --kind staff --grid QNL
  identity gateway --kind adapter --grid QNL --sources open311 \
    --topics case.,meeting.,ledger.,sign.,notification.
  for svc in router notifier; do identity $svc --kind subscriber --grid QNL; done
  # The workbench: staff actions from a signed-in browser, as that person.
  identity workbench --kind workbench --grid QNL --sources app,patrol,visit
  INTAKE_ARGS=(--cert "$CERTS/intake.cert" --certs "$CERTS/clients")
  HOTLINE_ARGS=(--cert "$CERTS/sample-hotline.cert" --server-cert "$CERTS/intake.cert")
  GATEWAY_ARGS=(--cert "$CERTS/gateway.cert" --server-cert "$CERTS/intake.cert"
    --relay-cert "$CERTS/relay.cert" --workbench-cert "$CERTS/workbench.cert")
  SVC_ARGS[relay]="--cert $CERTS/relay.cert --certs $CERTS/clients"
  SVC_ARGS[intake]="${INTAKE_ARGS[*]}"
  SVC_ARGS[router]="--cert $CERTS/router.cert --relay-cert $CERTS/relay.cert"
  SVC_ARGS[notifier]="--cert $CERTS/notifier.cert --certs $CERTS/clients --relay-cert $CERTS/relay.cert"
  WATCH_ARGS=(--cert "$CERTS/operator.cert" --relay-cert "$CERTS/relay.cert")
fi

PIDS=()
cleanup() {
  trap - INT TERM EXIT
  echo "stopping services..." >&2
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  $PG stop
  echo "stopped." >&2
}
trap cleanup INT TERM EXIT

for svc in relay intake router notifier escalator; do
  read -ra args <<<"${SVC_ARGS[$svc]:-}"
  "$BIN/gf-$svc" --db "$(role_db $svc)" "${args[@]}" 2>>"$LOG/$svc.log" &
  PIDS+=($!)
done
# The HTTP gateway: dashboard, Open311, SSE (GF_HTTP, default 127.0.0.1:8080).
export GF_HTTP=${GF_HTTP:-127.0.0.1:8080}
"$BIN/gf-gateway" --db "$(role_db gateway)" "${GATEWAY_ARGS[@]}" 2>>"$LOG/gateway.log" &
PIDS+=($!)
echo "services started, each as its own user gridflow_<service>; logs in var/log/; database: $OWNER_DB" >&2
[ "$PG" = deploy/pg-auto.sh ] && echo "failover: deploy/pg-auto.sh status (the monitor's view);" \
  "try kill -9 \$(deploy/pg-auto.sh pid \$(deploy/pg-auto.sh primary)) and watch the feed go on" >&2
# Staff accounts for the people of one village (QNL.07: its coordinator, its
# grid leaders and members) who have none, with one-time passwords (changed
# at the first sign-in), into a file only this user can read (all 400 people:
# `gridctl user import --from-directory`, a few Argon2id seconds each ten);
# and a kiosk link for a big screen of the whole sub-district.
"$BIN/gridctl" user import --from-directory --grid QNL.07 --out "$ROOT/var/accounts-new.tsv" \
  >>"$LOG/gridctl.log" 2>&1 &&
  [ -s "$ROOT/var/accounts-new.tsv" ] && cat "$ROOT/var/accounts-new.tsv" >>"$ROOT/var/accounts.tsv"
chmod 600 "$ROOT/var/accounts.tsv" 2>/dev/null || true
rm -f "$ROOT/var/accounts-new.tsv"
KIOSK=$("$BIN/gridctl" kiosk add --grid QNL --label "make run" 2>>"$LOG/gridctl.log" | sed -n 's/^link: //p')
echo "staff workbench: http://$GF_HTTP/wb/   (accounts and one-time passwords: var/accounts.tsv)" >&2
echo "dashboard: http://$GF_HTTP/ (sign in), or on a big screen http://$GF_HTTP$KIOSK" >&2
echo "Open311: http://$GF_HTTP/open311/v2/services.json" >&2
sleep 1

# Watch everything from the start of the log, in the foreground...
"$BIN/gridctl" watch --since 0 "${WATCH_ARGS[@]}" &
PIDS+=($!)
# ...while the sample hotline file is fed (again: a re-run only finds duplicates).
"$BIN/gf-hotline" --quiet "${HOTLINE_ARGS[@]}" deploy/sample/hotline-sample.jsonl >&2 || true
echo "sample feed done; press Ctrl-C to stop" >&2
echo "try: bin/gridctl case show 1; bin/gridctl case list; bin/gridctl meeting list" >&2
[ "$GF_CURVE" = on ] && echo "staff actions go through the intake with a key:" \
  "bin/gridctl case sign ID --actor PERSON --cert var/certs/operator.cert --server-cert var/certs/intake.cert" >&2
wait "${PIDS[-1]}"
