#!/usr/bin/env bash
# gf_db's prepared statements against the real server
# (tests/tools/db_prepared.c): prepared once per connection, again after a
# lost connection and after a changed result type.
source "$(dirname "$0")/lib.sh"
new_db
CMOCKA_MESSAGE_OUTPUT=TAP "$TOOLS/db_prepared" 2>"$ART/db_prepared.err" | sed "s/^\(not ok\|ok\) [0-9]* - /\1 - $TEST_NAME: /"
[ "${PIPESTATUS[0]}" -eq 0 ] || FAILED=$((FAILED + 1))
finish
