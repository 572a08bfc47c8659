#!/usr/bin/env bash
# The working calendar in PostgreSQL: `gridctl calendar import` loads
# deploy/calendar (holiday-cn 2024–2026); the SQL functions gf_is_workday,
# gf_next_workday_at and gf_add_working_days give the same answers as the
# unit test (tests/unit/test_calendar.c) gives for gf_calendar.c, and agree
# with the C calendar (through `gridctl calendar show`) on every day of
# 2024–2027; re-import is idempotent; a bad file changes nothing.
# No services needed.
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
unset GF_CALENDAR_DIR
new_db

# A snapshot of everything an import writes except its timestamp.
snapshot() {
  sql "SELECT md5 (coalesce ((SELECT string_agg (day || '/' || workday || '/' || coalesce (name, ''), ','
                                                 ORDER BY day) FROM calendar_days), '')
                   || coalesce ((SELECT string_agg (year || '/' || coalesce (papers, ''), ',' ORDER BY year)
                                 FROM calendar_years), ''))"
}
# local TIMESTAMPTZ-EXPRESSION: as local time without the zone.
local_time() {
  sql "SELECT to_char (($1) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD\"T\"HH24:MI:SS')"
}

empty=$(snapshot)
"$BIN/gridctl" calendar import >"$ART/import1.out" 2>"$ART/import1.err"
check "import from the default directory exits 0" 0 $?
check "import reports each year" \
  "2024: 36 days (off 28, make-up 8)|2025: 33 days (off 28, make-up 5)|2026: 39 days (off 33, make-up 6)" \
  "$(paste -sd'|' "$ART/import1.out")"
check "three years with their notices" "2024 true|2025 true|2026 true" \
  "$(sql "SELECT year || ' ' || (papers LIKE 'https://%') FROM calendar_years ORDER BY year" | paste -sd'|')"
imported=$(snapshot)

# The dates of the unit test: date expected(t/f).
expect_days="2026-02-13 true|2026-02-14 true|2026-02-15 false|2026-02-16 false|2026-02-20 false|2026-02-23 false|2026-02-24 true
2026-02-28 true|2026-03-01 false|2025-09-28 true|2025-10-01 false|2025-10-08 false|2025-10-09 true|2025-10-11 true|2025-10-12 false
2026-01-04 true|2026-09-20 true|2025-01-26 true|2025-04-27 true|2026-05-09 true|2026-10-10 true|2025-02-08 true
2026-03-07 false|2026-03-08 false|2025-11-15 false|2025-11-16 false|2026-03-10 true|2025-07-16 true|2026-12-31 true
2027-01-01 true|2027-01-02 false|2027-01-04 true"
expect_days=$(echo "$expect_days" | paste -sd'|')
dates=$(echo "$expect_days" | tr '|' '\n' | cut -d' ' -f1 | sed "s/.*/'&'/" | paste -sd,)
check "gf_is_workday: holidays, make-up days, weekends, weekdays, 2027 by weekday rule" "$expect_days" \
  "$(sql "SELECT d || ' ' || gf_is_workday (d) FROM unnest (ARRAY[$dates]::date[]) WITH ORDINALITY AS x (d, i)
           ORDER BY i" | paste -sd'|')"
check "gf_calendar_has_year" "true false" \
  "$(sql "SELECT gf_calendar_has_year (2026) || ' ' || gf_calendar_has_year (2027)")"

# FROM|HH|MM|EXPECTED for gf_next_workday_at (local times, +08:00).
while IFS='|' read -r from hh mm want; do
  check "gf_next_workday_at ($from, $hh:$mm)" "$want" \
    "$(local_time "gf_next_workday_at ('$from+08', $hh, $mm)")"
done <<'EOF'
2026-09-18 20:00|9|0|2026-09-20T09:00:00
2026-01-02 20:00|9|0|2026-01-04T09:00:00
2026-03-10 08:00|9|0|2026-03-10T09:00:00
2026-03-10 09:00|9|0|2026-03-10T09:00:00
2026-03-10 09:00:00.001|9|0|2026-03-11T09:00:00
2026-03-13 10:00|9|30|2026-03-16T09:30:00
2026-02-28 08:00|9|0|2026-02-28T09:00:00
2026-02-13 20:00|9|0|2026-02-14T09:00:00
2026-02-14 20:00|9|0|2026-02-24T09:00:00
2025-09-30 18:00|9|0|2025-10-09T09:00:00
EOF

# FROM|N|EXPECTED for gf_add_working_days.
while IFS='|' read -r from n want; do
  check "gf_add_working_days ($from, $n)" "$want" "$(local_time "gf_add_working_days ('$from+08', $n)")"
done <<'EOF'
2026-02-12 10:00|1|2026-02-13T10:00:00
2026-02-12 10:00|2|2026-02-14T10:00:00
2026-02-12 10:00|3|2026-02-24T10:00:00
2026-02-13 16:30:15|2|2026-02-24T16:30:15
2026-02-16 10:00|1|2026-02-25T10:00:00
2026-02-16 10:00|0|2026-02-16T10:00:00
2026-03-07 10:00|1|2026-03-10T10:00:00
2026-12-31 10:00|1|2027-01-01T10:00:00
EOF

# The C calendar (loaded from the database by `calendar show`) and the SQL
# function agree on every day of 2024–2027.
: >"$ART/show.err"
for y in 2024 2025 2026 2027; do
  for m in 01 02 03 04 05 06 07 08 09 10 11 12; do
    "$BIN/gridctl" calendar show "$y-$m" >"$ART/show-$y-$m.txt" 2>>"$ART/show.err" || not_ok "calendar show $y-$m failed"
  done
done
python3 - "$ART" >"$ART/c-days.txt" <<'PY'
import datetime, re, sys
for y in range(2024, 2028):
    for m in range(1, 13):
        lines = open(f"{sys.argv[1]}/show-{y}-{m:02d}.txt", encoding="utf-8").read().split("\n")
        grid = []
        for line in lines[2:]:
            if not line.strip():
                break
            grid.extend(re.findall(r"(\d+)(休|班)?", line))
        for day, mark in grid:
            d = datetime.date(y, m, int(day))
            work = {"休": False, "班": True}.get(mark, d.weekday() < 5)
            print(d.isoformat(), "true" if work else "false")
PY
sql "SELECT d::date || ' ' || gf_is_workday (d::date)
       FROM generate_series ('2024-01-01'::date, '2027-12-31', interval '1 day') d" >"$ART/sql-days.txt"
check "calendar show and gf_is_workday agree on every day of 2024-2027" "1461 0" \
  "$(wc -l <"$ART/c-days.txt") $(diff "$ART/c-days.txt" "$ART/sql-days.txt" | grep -c '^[<>]')"
check "calendar show 2026-02 marks 春节 and its make-up Saturdays" "14班 15休 16休 23休 28班" \
  "$(grep -oE '\b(14|15|16|23|28)(休|班)' "$ART/show-2026-02.txt" | paste -sd' ')"
check "calendar show has the Chinese week header" "一 二 三 四 五 六 日" \
  "$(sed -n 2p "$ART/show-2026-02.txt" | xargs)"
check "calendar show names the holidays" "2月14日 班 春节" "$(grep '^2月14日' "$ART/show-2026-02.txt")"
check "calendar show warns about 2027 (not announced), only for 2027" "12 0" \
  "$(grep -c 'warning: 2027 is not in the database' "$ART/show.err") $(grep -c 'warning: 202[456]' "$ART/show.err")"

# Re-import changes nothing.
"$BIN/gridctl" calendar import deploy/calendar >"$ART/import2.out" 2>"$ART/import2.err"
check "re-import exits 0" 0 $?
check "re-import is idempotent" "$imported" "$(snapshot)"

# A year's rows are replaced, not merged: a 2025 file without National Day.
mkdir -p "$ART/edited" "$ART/bad" "$ART/garbage" "$ART/twice"
python3 - "$ROOT/deploy/calendar/2025.json" "$ART/edited/2025.json" <<'PY'
import json, sys
data = json.load(open(sys.argv[1], encoding="utf-8"))
data["days"] = [d for d in data["days"] if not d["date"].startswith("2025-10")]
json.dump(data, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False)
PY
GF_CALENDAR_DIR="$ART/edited" "$BIN/gridctl" calendar import >"$ART/import3.out" 2>"$ART/import3.err"
check "GF_CALENDAR_DIR import of an edited 2025" "0 2025: 24 days (off 20, make-up 4)" \
  "$? $(cat "$ART/import3.out")"
check "the edited year replaced the old rows, other years untouched" "24 true 39" \
  "$(sql "SELECT (SELECT count (*) FROM calendar_days WHERE extract (year FROM day) = 2025)
           || ' ' || gf_is_workday ('2025-10-08')
           || ' ' || (SELECT count (*) FROM calendar_days WHERE extract (year FROM day) = 2026)")"
"$BIN/gridctl" calendar import >/dev/null 2>&1
check "importing the shipped files restores them" "$imported" "$(snapshot)"

# Bad files: every file is checked first, so a good file next to a bad one
# is not imported either.
sed 's/"2026-10-10"/"2025-10-10"/' deploy/calendar/2026.json >"$ART/bad/2026.json"
cp "$ART/edited/2025.json" "$ART/bad/2025.json"
printf '{"year": 2027, "days": [{"name": "元旦", "date": "2027-01-01"}]}' >"$ART/garbage/2027.json"
printf 'this is not JSON\n' >"$ART/garbage/junk.json"
cp deploy/calendar/2026.json "$ART/twice/a.json"
cp deploy/calendar/2026.json "$ART/twice/b.json"
"$BIN/gridctl" calendar import "$ART/bad" >"$ART/bad.out" 2>"$ART/bad.err"
check "a date outside the file's year: exit 1" 1 $?
check "the error names the file and the date" 1 "$(grep -c "bad/2026.json: days\[.*\]: 2025-10-10 is not in 2026" "$ART/bad.err")"
check "nothing changed, not even the good 2025 file beside it" "$imported" "$(snapshot)"
"$BIN/gridctl" calendar import "$ART/garbage/2027.json" >/dev/null 2>"$ART/missing.err"
check "a day without isOffDay: exit 1" "1 1" "$? $(grep -c isOffDay "$ART/missing.err")"
"$BIN/gridctl" calendar import deploy/calendar/2024.json "$ART/garbage/junk.json" >/dev/null 2>"$ART/junk.err"
check "garbage: exit 1" 1 $?
"$BIN/gridctl" calendar import "$ART/twice" >/dev/null 2>"$ART/twice.err"
check "two files for one year: exit 1" "1 1" "$? $(grep -c 'both for 2026' "$ART/twice.err")"
"$BIN/gridctl" calendar import "$ART/no-such-dir" >/dev/null 2>&1
check "a missing path: exit 1" 1 $?
check "after all the bad imports nothing changed" "$imported" "$(snapshot)"
check "and the calendar was not empty to begin with" "false" \
  "$([ "$imported" == "$empty" ] && echo true || echo false)"
"$BIN/gridctl" calendar show 2026-13 >/dev/null 2>&1
check "calendar show rejects a bad month: exit 2" 2 $?

finish
