#!/usr/bin/env bash
# Runs every libFuzzer target (build/fuzz/fuzz_*, make fuzz-build) for a
# bounded time and prints one TAP line per target: "ok" when it ran its time
# without a crash, leak, sanitizer report or timeout, "not ok" otherwise
# (the reproducer is kept; see docs/fuzzing.md).
#   tests/fuzz/run.sh SECONDS [CORPUS_ROOT]
# SECONDS is per target.  CORPUS_ROOT (e.g. var/fuzz) keeps each target's
# corpus between runs (make fuzz); without it the corpus is a temporary
# directory.  Seeds: tests/fuzz/seeds/<target>/ and, for msg, every
# proto/vectors/*.hex turned into binary; the inputs in
# tests/fuzz/regress/<target>/ (crashes found before) are replayed first.
# Reproducers and logs go to tests/artifacts/fuzz/.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
SECONDS_EACH=${1:-10}
CORPUS_ROOT=${2:-}
ART=$ROOT/tests/artifacts/fuzz
mkdir -p "$ART"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# The golden vectors as binary bodies (seed corpus of fuzz_msg).
mkdir -p "$TMP/seeds-msg"
for f in proto/vectors/*.hex; do
  xxd -r -p "$f" >"$TMP/seeds-msg/$(basename "$f" .hex)"
done

targets=(build/fuzz/fuzz_*)
n=0
fail=0
echo "1..${#targets[@]}"
for bin in "${targets[@]}"; do
  n=$((n + 1))
  name=${bin##*/fuzz_}
  if [ ! -x "$bin" ]; then
    echo "not ok $n - fuzz_$name: not built (make fuzz-build)"; fail=$((fail + 1)); continue
  fi
  if [ -n "$CORPUS_ROOT" ]; then corpus=$CORPUS_ROOT/$name; else corpus=$TMP/corpus-$name; fi
  mkdir -p "$corpus" "$ART/$name"
  dirs=("$corpus")
  [ "$name" = msg ] && dirs+=("$TMP/seeds-msg")
  [ -d "tests/fuzz/seeds/$name" ] && dirs+=("tests/fuzz/seeds/$name")
  [ -d "tests/fuzz/regress/$name" ] && dirs+=("tests/fuzz/regress/$name")
  log=$ART/$name/fuzz.log
  # -timeout: one input over 10 s is a hang; -rss_limit_mb bounds memory
  # (and makes a huge allocation a failure, as a test should see it).
  # Leaks are reported (ASan's LeakSanitizer) and fail the run.
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    timeout $((SECONDS_EACH + 120)) "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 \
      -rss_limit_mb=1024 -max_len=8192 -print_final_stats=1 \
      -artifact_prefix="$ART/$name/" "${dirs[@]}" >"$log" 2>&1
  rc=$?
  stats=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 | sed -E 's/^#([0-9]+)[[:space:]]+DONE[[:space:]]+/runs \1 /')
  if [ "$rc" -eq 0 ]; then
    echo "ok $n - fuzz_$name ${SECONDS_EACH}s: $stats"
  else
    why=$(grep -m1 -E 'ERROR: |SUMMARY: |runtime error|Test unit written' "$log")
    echo "not ok $n - fuzz_$name (exit $rc): ${why:-see $log} (log and reproducer: tests/artifacts/fuzz/$name/)"
    fail=$((fail + 1))
  fi
done
[ "$fail" -eq 0 ]
