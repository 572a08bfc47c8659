#!/usr/bin/env bash
# Issue 17, item 5: case actions stored in groups (intake/action_group): the
# actions taken up one after the other share one transaction, each in its
# own savepoint, and are answered after its COMMIT.  Sent all at once
# (tests/tools/action_burst): each applied or refused exactly as one at a
# time would be (a later action on the same case sees the earlier one; a
# refused one takes back only itself), fewer COMMITs than actions; and
# when a group's COMMIT fails, every answer `ok` is an action stored and
# every action not stored is answered `unavailable`; the resend then
# applies each once.  kill -9 of the intake in the middle of a burst of
# groups: every action answered `ok` before the kill was stored, and the
# resend of the whole burst applies each action exactly once.
source "$(dirname "$0")/lib.sh"
new_db
start_stack --metrics
L=P-QNL.07.063-1 # the grid's leader
for i in 1 2 3 4 5 6; do
  "$BIN/gridctl" submit --source hotline --ref GRP-$i --text "楼道堆放杂物 $i" --grid QNL.07.063 >/dev/null
done
declare -A C
for i in 1 2 3 4 5 6; do C[$i]=$(sql "SELECT id FROM cases WHERE source_ref = 'GRP-$i'"); done
check "six cases routed at intake (version 2)" "6" \
  "$(sql "SELECT count(*) FROM cases WHERE source_ref LIKE 'GRP-%' AND state = 'routed' AND version = 2")"
burst() { "$TOOLS/action_burst" "$GF_INTAKE" 10000; }
groups() { metric "${MPORT[intake]}" gf_intake_action_groups_total; }
g0=$(groups)

cat >"$ART/a.txt" <<ACTIONS
s1 ${C[1]} sign $L 2 -
s2 ${C[2]} sign $L 2 -
s3 ${C[3]} sign $L 2 -
p1 ${C[1]} progress $L 3 已联系物业
x1 ${C[4]} sign $L 9 -
s4 ${C[4]} sign $L 2 -
s5 ${C[5]} sign $L 2 -
d1 ${C[5]} sign $L 2 -
ACTIONS
burst <"$ART/a.txt" >"$ART/a.out"
check "a burst: every action answered as one at a time would be" \
  "s1 ok signed 3|s2 ok signed 3|s3 ok signed 3|p1 ok in_progress 4|x1 conflict routed 2|s4 ok signed 3|s5 ok signed 3|d1 conflict signed 3" \
  "$(paste -sd'|' "$ART/a.out")"
check "the cases as answered" "in_progress 4|signed 3|signed 3|signed 3|signed 3|routed 2" \
  "$(sql "SELECT string_agg(state || ' ' || version, '|' ORDER BY source_ref) FROM cases WHERE source_ref LIKE 'GRP-%'")"
check "one record and one event per applied action" "6 6" \
  "$(sql "SELECT (SELECT count(*) FROM case_actions WHERE request_id IN ('s1','s2','s3','p1','s4','s5','x1','d1'))
           || ' ' || (SELECT count(*) FROM case_events WHERE type IN ('case.signed', 'case.progress'))")"
check "the log stays dense" "$(sql "SELECT count(*) FROM case_events")" "$(sql "SELECT max(seq) FROM case_events")"
g1=$(groups)
check "fewer COMMITs than actions (groups: $((g1 - g0)) for 6 applied)" yes \
  "$([ $((g1 - g0)) -ge 1 ] && [ $((g1 - g0)) -lt 6 ] && echo yes || echo no)"

# A group whose COMMIT fails: a deferred trigger of this test's refuses
# any case_actions row noted FAIL-AT-COMMIT when its transaction commits.
sql "CREATE FUNCTION test_fail_at_commit () RETURNS trigger LANGUAGE plpgsql AS \$\$
     BEGIN
         IF NEW.note = 'FAIL-AT-COMMIT' THEN RAISE EXCEPTION 'test: this COMMIT fails'; END IF;
         RETURN NULL;
     END \$\$;
     CREATE CONSTRAINT TRIGGER test_fail_at_commit AFTER INSERT ON case_actions
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_fail_at_commit ()" >/dev/null
cat >"$ART/b.txt" <<ACTIONS
f1 ${C[6]} sign $L 2 -
f2 ${C[2]} progress $L 3 FAIL-AT-COMMIT
f3 ${C[3]} progress $L 3 已到现场查看
ACTIONS
burst <"$ART/b.txt" >"$ART/b.out"
echo "# failed group: $(paste -sd'|' "$ART/b.out")"
check "the action whose COMMIT fails: unavailable, naming no state, not stored" "f2 unavailable - 0" \
  "$(awk '$1 == "f2" {print $1, $2, $3}' "$ART/b.out") $(sql "SELECT count(*) FROM case_actions WHERE request_id = 'f2'")"
consistent=yes
for id in f1 f2 f3; do
  code=$(awk -v i=$id '$1 == i {print $2}' "$ART/b.out")
  stored=$(sql "SELECT count(*) FROM case_actions WHERE request_id = '$id'")
  case "$code/$stored" in ok/1 | unavailable/0) ;; *) consistent="no: $id $code, $stored stored" ;; esac
done
check "each answer of the burst: ok and stored, or unavailable and not stored" yes "$consistent"
sql "DROP TRIGGER test_fail_at_commit ON case_actions" >/dev/null
sed -i 's/ FAIL-AT-COMMIT$/ 已联系物业/' "$ART/b.txt"
burst <"$ART/b.txt" >"$ART/b2.out"
check "the resend: each applied" "f1 ok signed 3|f2 ok in_progress 4|f3 ok in_progress 4" \
  "$(paste -sd'|' "$ART/b2.out")"
burst <"$ART/b.txt" >"$ART/b3.out"
check "resent again: the same answers, nothing applied twice" "$(paste -sd'|' "$ART/b2.out") 1 1 1" \
  "$(paste -sd'|' "$ART/b3.out") $(sql "SELECT string_agg(n::text, ' ' ORDER BY request_id) FROM (SELECT request_id, count(*) AS n FROM case_actions
                                       WHERE request_id IN ('f1','f2','f3') GROUP BY 1) x")"
check "the cases" "in_progress 4|in_progress 4|in_progress 4|signed 3|signed 3|signed 3" \
  "$(sql "SELECT string_agg(state || ' ' || version, '|' ORDER BY source_ref) FROM cases WHERE source_ref LIKE 'GRP-%'")"

# kill -9 in the middle of a burst: 30 cases, each signed, progressed,
# resolved and called back (120 actions in groups of up to 32).
for i in $(seq 1 30); do
  "$BIN/gridctl" submit --source hotline --ref KILL-$i --text "路灯不亮 $i" --grid QNL.07.063 >/dev/null
done
sql "SELECT id FROM cases WHERE source_ref LIKE 'KILL-%' ORDER BY id" | while read -r c; do
  echo "k$c.1 $c sign $L 2 -"
  echo "k$c.2 $c progress $L 3 已联系物业"
  echo "k$c.3 $c resolve $L 4 已修复"
  echo "k$c.4 $c callback $L 5 -"
done >"$ART/k.txt"
burst <"$ART/k.txt" >"$ART/k1.out" &
BURST=$!
sleep 0.05
kill9 intake
wait $BURST
echo "# before the kill: $(grep -c ' ok ' "$ART/k1.out") ok, $(grep -c ' none$' "$ART/k1.out") unanswered"
start intake --metrics "${MPORT[intake]}"
wait_for "intake port" 30 port_open $((PORT_BASE + 0))
bad=""
while read -r id code _; do
  n=$(sql "SELECT count(*) FROM case_actions WHERE request_id = '$id'")
  [ "$code" = ok ] && [ "$n" != 1 ] && bad="$bad $id"
done <"$ART/k1.out"
check "every action answered ok before the kill is stored" "" "$bad"
burst <"$ART/k.txt" >"$ART/k2.out"
check "the resend of the whole burst: every action ok" "120 0" \
  "$(grep -c ' ok ' "$ART/k2.out") $(grep -vc ' ok ' "$ART/k2.out")"
check "each action stored exactly once; every case called back at version 6" "120 120 30" \
  "$(sql "SELECT count(*) || ' ' || count(DISTINCT request_id) FROM case_actions WHERE request_id LIKE 'k%'") $(sql "SELECT count(*) FROM cases WHERE source_ref LIKE 'KILL-%' AND state = 'called_back' AND version = 6")"
check "the log stays dense" "$(sql "SELECT count(*) FROM case_events")" "$(sql "SELECT max(seq) FROM case_events")"
finish
