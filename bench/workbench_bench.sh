#!/usr/bin/env bash
# make bench, part 4: the staff workbench's first render with 10,000 open
# cases in the subtree (issue 16's target: every page under 1 s).  Runs
# tests/e2e/test_workbench.sh alone (headless chromium against the real
# gateway; the test prints the figures but, being a test, holds no timing
# target) and takes the times it measured (tests/artifacts/test_workbench/
# render.json: the best of three for the L3 queue, of two for each other
# page, ms from navigation start), with the 1-minute load average.  Writes
# bench/out/workbench.json (bench/report.py adds it to the table).
#   BENCH_PORT_BASE (default 16600): the test's ports, BASE..BASE+19.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=$ROOT/bench/out
mkdir -p "$OUT"
deploy/pg.sh start >/dev/null
la=$(cut -d' ' -f1 /proc/loadavg)
if ! TEST_PORT_BASE=${BENCH_PORT_BASE:-16600} bash tests/e2e/test_workbench.sh >"$OUT/workbench.tap" 2>&1 ||
   grep -q '^not ok' "$OUT/workbench.tap"; then
  echo "workbench_bench: tests/e2e/test_workbench.sh failed (bench/out/workbench.tap)" >&2
  exit 1
fi
python3 - "$ROOT/tests/artifacts/test_workbench/render.json" "$la" >"$OUT/workbench.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["load"] = float(sys.argv[2])
print(json.dumps(r))
PY
grep '^# first render' "$OUT/workbench.tap"
echo "workbench_bench: load average $la"
