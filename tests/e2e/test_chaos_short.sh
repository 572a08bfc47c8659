#!/usr/bin/env bash
# test: exclusive (it restarts PostgreSQL under the other tests)
# Issue 8, the short chaos run for make check: 2,000 complaints from three
# hotline feeds and a suggestion box at once, a random service killed with
# kill -9 about every 0.8 s, PostgreSQL restarted once, the clock moved
# through meetings and the urgent SLAs; every effect once.  The long run is
# `make chaos` (tests/chaos/chaos.sh, docs/chaos.md).
export CHAOS_COUNT=${CHAOS_COUNT:-2000} CHAOS_HOTLINES=${CHAOS_HOTLINES:-3}
export CHAOS_KILL_MS=${CHAOS_KILL_MS:-800} CHAOS_SETTLE_S=${CHAOS_SETTLE_S:-60}
source "$(dirname "$0")/../chaos/chaos.sh"
