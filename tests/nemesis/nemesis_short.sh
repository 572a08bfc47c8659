#!/usr/bin/env bash
# The short nemesis run for make check (tests/run.sh, phase nemesis; once,
# not in the ASan pass): every nemesis of tests/nemesis/nemesis.sh but the
# pg_auto_failover one (make nemesis; tests/ha/test_ha_auto.sh covers the
# failover in make check), at least 200 complaints a round (and on while
# the nemesis lasts), each nemesis held 4 s, a fixed seed.  70-100 s
# (partition: with its cut subscriber; the cut lasts until 1,000 events
# were published, about as long as the router's takeover anyway).
# docs/chaos.md, "Nemeses".
export NEMESIS_LIST=${NEMESIS_LIST:-pause fds skew disk partition}
export NEMESIS_COUNT=${NEMESIS_COUNT:-200} NEMESIS_HOLD_S=${NEMESIS_HOLD_S:-4} NEMESIS_REPEAT=${NEMESIS_REPEAT:-1}
export NEMESIS_SEED=${NEMESIS_SEED:-18006} NEMESIS_DISK_MB=${NEMESIS_DISK_MB:-256}
export NEMESIS_SETTLE_S=${NEMESIS_SETTLE_S:-60}
source "$(dirname "$0")/nemesis.sh"
