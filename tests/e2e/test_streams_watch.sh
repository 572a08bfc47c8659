#!/usr/bin/env bash
# `gridctl watch`: the dashboard's counts per grid (open / pending / hard,
# escalated this week, overdue) from its SQL snapshot (--once) and as kept up
# to date by events (the live board, redrawn in place), both checked against
# the database; and --json, the raw stream for scripts (docs/streams.md).
source "$(dirname "$0")/lib.sh"
G="$BIN/gridctl"
new_db
"$G" calendar import >"$ART/calendar.out" 2>&1 || not_ok "calendar import"
clock_set "2026-11-02T08:00:00+08:00" # a Monday
start_stack
start escalator

# expected: the counts per grid straight from the tables, as the board prints
# its rows: grid open pending hard escalated-this-week overdue (open and
# overdue as cases.sql defines them: gf_case_open, gf_overdue_at).
expected() {
  sql "WITH open AS (
         SELECT * FROM cases WHERE gf_case_open (state)),
       esc AS (
         SELECT c.grid, count(*) AS n FROM escalations e JOIN cases c ON c.id = e.case_id
          WHERE e.at >= date_trunc('week', gf_now()) GROUP BY c.grid),
       grids AS (SELECT grid FROM open UNION SELECT grid FROM esc)
       SELECT g.grid || ' ' || count(o.id) || ' ' || count(o.id) FILTER (WHERE o.tier <> 'hard') || ' ' ||
              count(o.id) FILTER (WHERE o.tier = 'hard') || ' ' || coalesce(max(esc.n), 0) || ' ' ||
              count(o.id) FILTER (WHERE gf_overdue_at (o.state, o.root, o.urgent,
                                                       gf_clock_start (o.source, o.reported_at, o.routed_at),
                                                       o.received_at, o.updated_at) <= gf_now())
         FROM grids g LEFT JOIN open o ON o.grid = g.grid LEFT JOIN esc ON esc.grid = g.grid
        GROUP BY g.grid ORDER BY g.grid" | sort
}
# rows FILE: the grid rows of the last frame drawn in FILE.
rows() {
  awk 'index($0, "\033[H\033[2J") { delete r; n = 0; sub(/.*\033\[2J/, "") }
       $1 ~ /^QNL/ && NF == 6 { r[n++] = $0 }
       END { for (i = 0; i < n; i++) print r[i] }' "$1" | awk '{print $1, $2, $3, $4, $5, $6}' | sort
}

P1=$(submit --source hotline --ref P1 --text "楼道灯不亮" --grid QNL.07.063)
P2=$(submit --source hotline --ref P2 --text "垃圾未清运" --grid QNL.07.063)
P3=$(submit --source hotline --ref P3 --text "噪音扰民" --grid QNL.07.064)
U1=$(submit --source hotline --ref U1 --text "独居老人摔倒" --grid QNL.07.064 --urgent)
wait_for "cases routed" 10 sql_eq "SELECT count(*) FROM cases WHERE state = 'routed'" 4
act "$P2" sign --actor $L3

# The live board, started before the changes below, must end equal to the
# tables; so must a fresh snapshot.
"$G" watch --grid QNL.07 --idle 4000 >"$ART/board.out" 2>"$ART/board.err" &
BOARD=$!
wait_for "the board's first frame" 10 grep -q "网格看板" "$ART/board.out"
first=$(rows "$ART/board.out")
check "first frame = the tables" "$(expected)" "$first"

act "$P1" classify --actor $L2 --tier hard
act "$P2" resolve --actor $L3 --note "已清运"
P4=$(submit --source hotline --ref P4 --text "路面破损" --grid QNL.07.065)
# Two days later: the unsigned cases are overdue, the urgent one escalates.
clock_set "2026-11-04T09:00:00+08:00"
wait_for "urgent case escalated" 20 sql_eq "SELECT count(*) FROM escalations WHERE case_id = $U1" 1
wait_for "escalator to settle" 30 plan_empty
wait "$BOARD"
check "live board exits 0 after --idle" 0 $?
want=$(expected)
note "expected rows: $(tr '\n' ';' <<<"$want")"
check "live board's last frame = the tables after the events" "$want" "$(rows "$ART/board.out")"
if [ "$(grep -c $'\033\[H\033\[2J' "$ART/board.out")" -ge 2 ]; then
  ok "the board was redrawn in place (ANSI home + clear, $(grep -c $'\033\[H\033\[2J' "$ART/board.out") frames)"
else
  not_ok "no in-place redraw in the board's output"
fi
grep -q "case.escalated/QNL.07.064" "$ART/board.out" && ok "latest events list the escalation" \
  || not_ok "the escalation is not among the latest events"
[ "$(awk '$1 == "QNL.07.064" {print $5}' <<<"$want")" -ge 1 ] && ok "escalated this week counted" \
  || not_ok "no escalation this week in the expected rows: the scenario did not escalate"
[ "$(awk '{s += $6} END {print s}' <<<"$want")" -ge 2 ] && ok "overdue cases counted" \
  || not_ok "the scenario has no overdue case"

"$G" watch --once --grid QNL.07 >"$ART/once.out" 2>"$ART/once.err"
check "--once exits 0" 0 $?
check "--once snapshot = the tables" "$want" "$(rows "$ART/once.out")"
grep -q $'\033' "$ART/once.out" && not_ok "--once prints escape sequences" || ok "--once is plain text"
"$G" watch --once --grid QNL.07.064 >"$ART/once64.out"
check "--grid selects a subtree" "$(grep '^QNL.07.064 ' <<<"$want")" "$(rows "$ART/once64.out")"

# --json: the raw stream, replayed from the start: every event once, in order.
"$G" watch --since 0 --json --idle 1500 >"$ART/all.jsonl" 2>"$ART/all.err"
check "--json: one line per event in the log" "$(sql "SELECT count(*) FROM case_events")" "$(wc -l <"$ART/all.jsonl")"
check "--json: seq 1..N in order" "$(seq 1 "$(sql "SELECT count(*) FROM case_events")" | md5sum)" \
  "$(python3 -c 'import json,sys; [print(json.loads(l)["seq"]) for l in sys.stdin]' <"$ART/all.jsonl" | md5sum)"
"$G" watch case.escalated/ --since 0 --json --idle 1500 >"$ART/esc.jsonl" 2>/dev/null
check "--json with a topic prefix" "$(sql "SELECT string_agg(seq::text, ' ' ORDER BY seq) FROM case_events WHERE type = 'case.escalated'")" \
  "$(python3 -c 'import json,sys; print(" ".join(str(json.loads(l)["seq"]) for l in sys.stdin))' <"$ART/esc.jsonl")"
check "no sanitizer report from gridctl" 0 \
  "$(cat "$ART"/*.err | grep -c -E "$SANITIZER_RE")"
finish
