#!/usr/bin/env bash
# Suggestion-box import (gf-suggestbox): a CSV with 200 slips and 5 broken rows
# stores 200 cases and reports the 5 rows by line; importing the same file again,
# or the same slips written differently (column order, UTC offsets, zero-padded
# slip numbers, BOM, LF), stores nothing new.  Slips are routed by address.
# Intake rejections carry the row's line; bad headers and usage errors exit 2;
# no answer exits 1.
source "$(dirname "$0")/lib.sh"
new_db
start_stack

GEN=(python3 "$ROOT/tests/tools/gen_slips.py" --grids "$SAMPLE" --count 200 --seed 11)
"${GEN[@]}" --expect "$ART/expect.tsv" >"$ART/slips.csv" 2>"$ART/slips.summary"
"${GEN[@]}" --variant >"$ART/slips-variant.csv" 2>/dev/null
note "slips: $(cat "$ART/slips.summary")"
broken_lines=$(sed -n 's/.*broken_lines=\([0-9,]*\).*/\1/p' "$ART/slips.summary")
routable=$(sed -n 's/.* routable=\([0-9]*\).*/\1/p' "$ART/slips.summary")
unroutable=$(sed -n 's/.*unroutable=\([0-9]*\).*/\1/p' "$ART/slips.summary")

# rejected FILE.err: "line:code" of each rejection, by line, comma-separated
# (the adapter's own come at once, the intake's with its replies).
rejected() { sed -n 's/^.*\.csv:\([0-9]*\): rejected: \([a-z_0-9]*\): .*/\1:\2/p' "$1" | sort -t: -k1,1n | paste -sd, -; }

"$BIN/gf-suggestbox" "$ART/slips.csv" >"$ART/import1.out" 2>"$ART/import1.err"
check "first import exits 0" 0 $?
check "first import counts" "accepted 200, duplicate 0, rejected 5, failed 0" "$(cat "$ART/import1.out")"
IFS=, read -r l1 l2 l3 l4 l5 <<<"$broken_lines"
check "the 5 broken rows reported by line, each with its reason" \
  "$l1:malformed,$l2:missing_field,$l3:bad_value,$l4:too_long,$l5:malformed" "$(rejected "$ART/import1.err")"
check "unterminated quote reported as such" 1 \
  "$(grep -c "slips.csv:$l5: rejected: malformed: unterminated quote: the field quoted on line $l5 " "$ART/import1.err")"
wait_for "pipeline to drain" 60 quiescent

check "cases stored with source suggestbox" 200 "$(sql "SELECT count(*) FROM cases WHERE source = 'suggestbox'")"
check "reported_at is the box opening time (source_ref's middle part)" 0 \
  "$(sql "SELECT count(*) FROM cases WHERE source = 'suggestbox'
           AND (extract(epoch FROM reported_at) * 1000)::bigint <> split_part(source_ref, '/', 2)::bigint")"
check "openings stored (several boxes, 3 openings each)" 12 \
  "$(sql "SELECT count(DISTINCT split_part(source_ref, '/', 1) || split_part(source_ref, '/', 2)) FROM cases")"
# source_ref, reported_at, routing and the text (quotes, commas, line breaks) of every slip.
sql "SELECT source_ref || E'\t' || (extract(epoch FROM reported_at) * 1000)::bigint || E'\t'
            || CASE state WHEN 'routed' THEN grid ELSE '-' END || E'\t' || to_json(description)::text
       FROM cases WHERE source = 'suggestbox' ORDER BY source_ref COLLATE \"C\"" >"$ART/stored.tsv"
check "every slip stored as generated (ref, opening time, grid, text)" "$(md5sum <"$ART/expect.tsv")" \
  "$(md5sum <"$ART/stored.tsv")"
check "slips with a directory address routed" "$routable" "$(sql "SELECT count(*) FROM cases WHERE state = 'routed'")"
check "the others unroutable (L1 triage)" "$unroutable" \
  "$(sql "SELECT count(*) FROM cases WHERE state = 'unroutable' AND grid = 'QNL'")"
check "texts with quotes, commas and line breaks survive" t \
  "$(sql "SELECT count(*) FILTER (WHERE description LIKE '%\"%, %') > 0 AND count(*) FILTER (WHERE description LIKE E'%\n%') > 0 FROM cases")"
check "one leader notification per routed slip" "$routable" \
  "$(sql "SELECT count(*) FROM notifications n JOIN people p ON p.id = n.recipient
           WHERE n.kind = 'case.routed' AND p.role = 'leader'")"

before=$(counts)
"$BIN/gf-suggestbox" "$ART/slips.csv" >"$ART/import2.out" 2>"$ART/import2.err"
check "second import exits 0" 0 $?
check "second import: all duplicates" "accepted 0, duplicate 200, rejected 5, failed 0" "$(cat "$ART/import2.out")"
check "second import reports the same rows" "$(rejected "$ART/import1.err")" "$(rejected "$ART/import2.err")"
"$BIN/gf-suggestbox" - --window 7 <"$ART/slips-variant.csv" >"$ART/import3.out" 2>"$ART/import3.err"
check "same slips written differently (stdin): all duplicates" \
  "accepted 0, duplicate 200, rejected 5, failed 0" "$(cat "$ART/import3.out")"
sleep 1 # give a (wrong) second case, routing or notification the chance to appear: the subject, not a wait
wait_for "pipeline to drain" 30 quiescent
check "re-imports add no case, event or notification" "$before" "$(counts)"

# The intake's own rejections carry the row's line too (row 2: name over 64
# characters); invalid UTF-8 is caught by the adapter (row 3), since the intake's
# reply to an unreadable request has no id to match.
name70=$(printf '王%.0s' $(seq 70))
printf 'box_id,opened_at,slip_no,text,name,address\r\nX1,2026-11-23T09:00:00+08:00,1,"路灯不亮, 请修",%s,\r\nX1,2026-11-23T09:00:00+08:00,2,垃圾没人清运,,bad \xff byte\r\nX1,2026-11-23T09:00:00+08:00,3,噪音扰民,,\r\n' \
  "$name70" >"$ART/intake-rejects.csv"
"$BIN/gf-suggestbox" "$ART/intake-rejects.csv" >"$ART/import4.out" 2>"$ART/import4.err"
check "intake rejections: exit 0" 0 $?
check "intake rejections: counts" "accepted 1, duplicate 0, rejected 2, failed 0" "$(cat "$ART/import4.out")"
check "intake rejections reported by line" "2:too_long,3:invalid_utf8" "$(rejected "$ART/import4.err")"

# Unusable input and usage errors: exit 2, nothing sent.  (The slip stored
# just above is routed first, so that its event is not counted as theirs.)
wait_for "pipeline to drain" 30 quiescent
before=$(counts)
printf 'box,opened_at,slip_no,text\nX2,2026-11-23T09:00:00+08:00,1,x\n' >"$ART/bad-header.csv"
"$BIN/gf-suggestbox" "$ART/bad-header.csv" >"$ART/import5.out" 2>"$ART/import5.err"
check "bad header exits 2" 2 $?
check "bad header explained" 1 "$(grep -c "bad-header.csv:1: error: bad header: unknown column 'box'" "$ART/import5.err")"
"$BIN/gf-suggestbox" >/dev/null 2>&1
check "no file: exit 2" 2 $?
"$BIN/gf-suggestbox" "$ART/slips.csv" --window 0 >/dev/null 2>&1
check "bad --window: exit 2" 2 $?
"$BIN/gf-suggestbox" "$ART/no-such.csv" >/dev/null 2>&1
check "missing file: exit 2" 2 $?
check "usage errors store nothing" "$before" "$(counts)"

# No intake: every slip fails after its attempts; exit 1.
kill9 intake
printf 'box_id,opened_at,slip_no,text\nX3,2026-11-23T09:00:00+08:00,1,x\n' >"$ART/no-intake.csv"
"$BIN/gf-suggestbox" "$ART/no-intake.csv" --timeout 100 --attempts 2 >"$ART/import6.out" 2>"$ART/import6.err"
check "no answer: exit 1" 1 $?
check "no answer: counts" "accepted 0, duplicate 0, rejected 0, failed 1" "$(cat "$ART/import6.out")"
check "no answer: reported by line" 1 "$(grep -c 'no-intake.csv:2: failed: no answer after 2 attempts' "$ART/import6.err")"
# lib.sh looks at the services' logs; the adapter's stderr is here.
check "no sanitizer report from the adapter" 0 \
  "$(cat "$ART"/import*.err | grep -c -E "$SANITIZER_RE")"
finish
