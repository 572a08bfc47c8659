# The end-of-run checks that every run ends with, shared by the end-to-end
# tests (through lib.sh) and the multihost and failover tests.  They need
# check, sql, sql_eq and wait_for from the caller.

# check_effects_once N: after a run of N distinct complaints: each stored
# once, received once, routed (or unroutable) once, its leader notified once;
# the event log sequenced and dense.
check_effects_once() {
  check "every acknowledged complaint stored once" "$1 $1" \
    "$(sql "SELECT count(*) || ' ' || count(DISTINCT source_ref) FROM cases")"
  check "one case.received per case" "$1" "$(sql "SELECT count(*) FROM case_events WHERE type = 'case.received'")"
  check "every case routed or unroutable exactly once" 0 \
    "$(sql "SELECT count(*) FROM cases c WHERE state = 'registered' OR (SELECT count(*) FROM case_events e
             WHERE e.case_id = c.id AND e.type IN ('case.routed', 'case.unroutable')) <> 1")"
  check "every routed case's leader notified exactly once" 0 \
    "$(sql "SELECT count(*) FROM cases c WHERE c.state = 'routed'
             AND (SELECT count(*) FROM notifications n JOIN people p ON p.id = n.recipient
                   WHERE n.case_id = c.id AND n.kind = 'case.routed' AND p.role = 'leader') <> 1")"
  wait_for "all events sequenced" 30 sql_eq "SELECT count(*) FROM case_events WHERE seq IS NULL" 0
  check "event log dense: seq 1..N" t \
    "$(sql "SELECT count(*) = max(seq) AND min(seq) = 1 AND count(*) = count(DISTINCT seq) FROM case_events")"
}

# check_notification_fanout: the rules' notifications, counted independently:
# the leader and members of each routed case, a receipt to each resident with
# a phone.
check_notification_fanout() {
  check "notifications: leader and members of each routed case, a receipt to each resident with a phone" \
    "$(sql "SELECT (SELECT count(*) FROM cases c JOIN people p ON p.grid = c.grid
                     WHERE c.state = 'routed' AND p.role IN ('leader', 'member'))
                 + (SELECT count(*) FROM cases WHERE phone IS NOT NULL)")" \
    "$(sql "SELECT count(*) FROM notifications")"
}
