#!/usr/bin/env bash
# `make run`: start the private PostgreSQL cluster, apply migrations, load the
# sample Qingnianlu directory, start every service, feed the sample hotline
# file and show the events flowing.  Ctrl-C stops everything (services and
# PostgreSQL); no process is left behind.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/bin
LOG=$ROOT/var/log
cd "$ROOT"

deploy/pg.sh start
export GF_DB="$(deploy/pg.sh conninfo gridflow)"
mkdir -p "$LOG"
"$BIN/gridctl" db migrate 2>>"$LOG/gridctl.log"
"$BIN/gridctl" grids import deploy/sample/qingnianlu.json 2>>"$LOG/gridctl.log"
"$BIN/gridctl" calendar import 2>>"$LOG/gridctl.log"

PIDS=()
cleanup() {
  trap - INT TERM EXIT
  echo "stopping services..." >&2
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  deploy/pg.sh stop
  echo "stopped." >&2
}
trap cleanup INT TERM EXIT

for svc in relay intake router notifier escalator; do
  "$BIN/gf-$svc" 2>>"$LOG/$svc.log" &
  PIDS+=($!)
done
# The HTTP gateway: dashboard, Open311, SSE (GF_HTTP, default 127.0.0.1:8080).
export GF_HTTP=${GF_HTTP:-127.0.0.1:8080}
"$BIN/gf-gateway" 2>>"$LOG/gateway.log" &
PIDS+=($!)
echo "services started; logs in var/log/; database: $GF_DB" >&2
echo "dashboard: http://$GF_HTTP/   (Open311: http://$GF_HTTP/open311/v2/services.json)" >&2
sleep 1

# Watch everything from the start of the log, in the foreground...
"$BIN/gridctl" watch --since 0 &
PIDS+=($!)
# ...while the sample hotline file is fed (again: a re-run only finds duplicates).
"$BIN/gf-hotline" --quiet deploy/sample/hotline-sample.jsonl >&2 || true
echo "sample feed done; press Ctrl-C to stop" >&2
echo "try: bin/gridctl case show 1; bin/gridctl case list; bin/gridctl meeting list" >&2
wait "${PIDS[-1]}"
