#!/usr/bin/env bash
# Acceptance 4: each kind of bad input gets its own error code and writes
# nothing, and the intake keeps serving (tests/tools/intake_errors.c).
source "$(dirname "$0")/lib.sh"
new_db
start_stack
CMOCKA_MESSAGE_OUTPUT=TAP "$TOOLS/intake_errors" 2>"$ART/intake_errors.err" | sed "s/^\(not ok\|ok\) [0-9]* - /\1 - $TEST_NAME: /"
[ "${PIPESTATUS[0]}" -eq 0 ] || FAILED=$((FAILED + 1))
check "intake still running" 0 "$(kill -0 "${PIDS[intake]}"; echo $?)"
check "rejections logged with their codes" 1 \
  "$(grep -c 'rejected: too_large' "$ART/intake.log")"
finish
