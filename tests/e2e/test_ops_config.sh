#!/usr/bin/env bash
# Issue 7 operations: the config file (ZPL) and its precedence (default <
# file < environment < option), clear refusals with exit status 2, the
# sample configs, SIGHUP reload, `make install` into a DESTDIR, and the
# systemd units passing `systemd-analyze verify`.
source "$(dirname "$0")/lib.sh"
CFG=$ART/cfg
mkdir -p "$CFG"
# Without the test harness's GF_* variables.
clean() { env -u GF_INTAKE -u GF_PUB -u GF_REPLAY -u GF_ROOT -u GF_DB -u GF_CONFIG "$@"; }
value() { clean "$BIN/gf-relay" "${@:2}" --print-config | awk -v k="$1" '$1 == k {print $3}' | tr -d '"'; }

check "default batch" 500 "$(value work/batch)"
check "default drain" 4000 "$(value service/drain)"
check "default metrics port (off)" 0 "$(value metrics/port)"
check "default session timeouts (statement, lock, idle in transaction; ms)" "60000 10000 60000" \
  "$(value db/statement_timeout) $(value db/lock_timeout) $(value db/idle_in_transaction_session_timeout)"
cat >"$CFG/a.cfg" <<'CFG'
#   a comment
work
    batch = 7
metrics
    port = 9999
log
    verbose = 1
CFG
check "file over default" 7 "$(value work/batch --config "$CFG/a.cfg")"
check "environment over file" 8 "$(GF_BATCH=8 value work/batch --config "$CFG/a.cfg")"
check "option over environment" 9 "$(GF_BATCH=8 value work/batch --config "$CFG/a.cfg" --batch 9)"
check "GF_CONFIG names the file" 9999 \
  "$(clean env GF_CONFIG="$CFG/a.cfg" "$BIN/gf-relay" --print-config | awk '$1 == "metrics/port" {print $3}' | tr -d '"')"
check "file bool" 1 "$(value log/verbose --config "$CFG/a.cfg")"

# refuse NAME EXPECTED_MESSAGE FILE_CONTENT|- [ARGS...]: exit 2 and the message.
refuse() {
  local name=$1 msg=$2 content=$3; shift 3
  local args=("$@")
  if [ "$content" != "-" ]; then printf '%s\n' "$content" >"$CFG/bad.cfg"; args=(--config "$CFG/bad.cfg" "${args[@]}"); fi
  clean "$BIN/gf-intake" "${args[@]}" >"$CFG/out" 2>"$CFG/err"
  local rc=$?
  if [ $rc -eq 2 ] && grep -qF -- "$msg" "$CFG/err"; then ok "refused: $name"
  else not_ok "$name: status $rc, stderr: $(tr '\n' '|' <"$CFG/err")"; fi
}
refuse "unknown key" "unknown key 'bus/pubb'" $'bus\n    pubb = "tcp://127.0.0.1:1"'
refuse "unknown section" "unknown section 'buss'" $'buss\n    pub = "tcp://127.0.0.1:1"'
refuse "value out of range" "metrics/port must be an integer 0..65535, got '70000'" $'metrics\n    port = 70000'
refuse "not a number" "work/batch must be an integer 1..10000, got 'many'" $'work\n    batch = many'
refuse "not an endpoint" "bus/pub: 'localhost:5571' is not a ZeroMQ endpoint" $'bus\n    pub = "localhost:5571"'
refuse "bad bool" "log/verbose must be 0 or 1" $'log\n    verbose = maybe'
refuse "bad log target" "log/target must be 'stderr' or 'syslog'" $'log\n    target = file'
refuse "value on a section" "'db' is a section and takes no value; its keys: db/conninfo" 'db = "dbname=x"'
refuse "bad ZPL" "not valid ZPL" $'work\n  batch = 1'
refuse "missing file" "config file $CFG/none.cfg: No such file" - --config "$CFG/none.cfg"
refuse "bad option value" "--drain: service/drain must be an integer 100..60000, got '50'" - --drain 50
refuse "negative timeout" "db/lock_timeout must be an integer 0..86400000, got '-1'" $'db\n    lock_timeout = -1'
GF_DRAIN=5 clean "$BIN/gf-intake" >/dev/null 2>"$CFG/err"
rc=$?
check "bad environment value refused (status, message)" "2 1" \
  "$rc $(grep -c "GF_DRAIN: service/drain must be an integer 100..60000, got '5'" "$CFG/err")"
refuse "unknown option" "unknown option --metric" - --metric 1

# Every sample config is valid, and gridflow.cfg lists every key.
for f in "$ROOT"/deploy/config/*.cfg; do
  clean "$BIN/gf-relay" --config "$f" --print-config >/dev/null 2>"$CFG/err" \
    && ok "sample $(basename "$f") is valid" || not_ok "sample $(basename "$f"): $(cat "$CFG/err")"
done
keys=$(clean "$BIN/gf-relay" --print-config | awk '{print $1}' | sort | tr "\n" " ")
check "gridflow.cfg sets every key" "$keys" \
  "$(clean "$BIN/gf-relay" --config "$ROOT/deploy/config/gridflow.cfg" --print-config | awk '{print $1}' | sort | tr '\n' ' ')"
missing=""
for k in $keys; do
  grep -q "^    ${k#*/} = " "$ROOT/deploy/config/gridflow.cfg" || missing="$missing $k"
  grep -qF "\`$k\`" "$ROOT/docs/operations.md" || missing="$missing doc:$k"
done
check "every key in gridflow.cfg and docs/operations.md" "" "$missing"

# SIGHUP: reloadable keys apply, others warn, a broken file changes nothing.
new_db
cat >"$CFG/relay.cfg" <<CFG
db
    conninfo = "$GF_DB"
bus
    pub = "$GF_PUB"
    replay = "$GF_REPLAY"
service
    drain = 4000
CFG
start relay --config "$CFG/relay.cfg" # (the harness's GF_PUB etc. equal the file's)
wait_for "relay ports" 30 port_open $((PORT_BASE + 2))
wait_for "relay to lead" 10 grep -q "relay: leader" "$ART/relay.log"
cat >"$CFG/relay.cfg" <<CFG
db
    conninfo = "$GF_DB"
bus
    pub = "$GF_PUB"
    replay = "$GF_REPLAY"
work
    batch = 100
log
    verbose = 1
service
    drain = 1500
CFG
kill -HUP "${PIDS[relay]}"
wait_for "reload" 10 grep -q "config: service/drain is now 1500 (was 4000)" "$ART/relay.log" \
  && ok "SIGHUP: service/drain reloaded"
grep -q "config: log/verbose is now 1 (was 0)" "$ART/relay.log" && ok "SIGHUP: log/verbose reloaded" \
  || not_ok "no log/verbose reload line"
grep -q "config: work/batch changed to '100'; restart to apply" "$ART/relay.log" \
  && ok "SIGHUP: non-reloadable change named" || not_ok "no restart warning for work/batch"
echo "bogus" >>"$CFG/relay.cfg"
kill -HUP "${PIDS[relay]}"
wait_for "refused reload" 10 grep -q "reload refused, settings unchanged" "$ART/relay.log" \
  && ok "SIGHUP with a broken file: refused"
kill -0 "${PIDS[relay]}" && ok "still running after a refused reload" || not_ok "relay died on a bad reload"
kill -TERM "${PIDS[relay]}"; wait "${PIDS[relay]}"; rc=$?; unset "PIDS[relay]"
check "relay stops cleanly after reloads" 0 $rc
grep -q "finishing work in hand (up to 1500 ms)" "$ART/relay.log" && ok "the reloaded drain is in force" \
  || not_ok "drain after reload not 1500 ms"

# gridctl reads the same file.
printf 'db\n    conninfo = "%s"\n' "$GF_DB" >"$CFG/gridctl.cfg"
clean "$BIN/gridctl" --config "$CFG/gridctl.cfg" clock show >"$CFG/out" 2>&1
check "gridctl --config reaches the database" 0 $?

# make install into a DESTDIR; a second install keeps edited configs.
D=$ART/destdir
make -s -C "$ROOT" install DESTDIR="$D" PREFIX=/usr/local >"$ART/install.log" 2>&1
check "make install exits 0" 0 $?
n=0
for f in usr/local/bin/gf-intake usr/local/bin/gridctl usr/local/share/gridflow/sql/migrations/016_baseline.sql \
         usr/local/share/gridflow/sql/repeatable/grants.sql \
         usr/local/share/gridflow/calendar/2026.json usr/local/lib/systemd/system/gf-relay.service \
         usr/local/lib/systemd/system/gridflow.target etc/gridflow/intake.cfg etc/gridflow/gridflow.cfg \
         usr/local/share/doc/gridflow/operations.md; do
  [ -e "$D/$f" ] || { not_ok "not installed: $f"; n=$((n + 1)); }
done
[ $n -eq 0 ] && ok "installed: binaries, SQL, calendar, units, configs, runbook"
check "units point at PREFIX and SYSCONFDIR" \
  "ExecStart=/usr/local/bin/gf-relay --config /etc/gridflow/relay.cfg" \
  "$(grep ^ExecStart= "$D/usr/local/lib/systemd/system/gf-relay.service")"
echo "# edited" >>"$D/etc/gridflow/intake.cfg"
make -s -C "$ROOT" install DESTDIR="$D" PREFIX=/usr/local >>"$ART/install.log" 2>&1
check "reinstall keeps an edited config" 1 "$(grep -c '^# edited' "$D/etc/gridflow/intake.cfg")"
[ -e "$D/etc/gridflow/intake.cfg.sample" ] && ok "reinstall leaves the new sample beside it" \
  || not_ok "no intake.cfg.sample"

if command -v systemd-analyze >/dev/null; then
  # verify needs real paths: install once more without DESTDIR into the artifacts.
  P=$ART/prefix
  make -s -C "$ROOT" install PREFIX="$P/usr" SYSCONFDIR="$P/etc" >>"$ART/install.log" 2>&1
  systemd-analyze verify "$P"/usr/lib/systemd/system/gf-*.service "$P/usr/lib/systemd/system/gridflow.target" \
    >"$ART/verify.out" 2>&1
  check "systemd-analyze verify: no error, no warning" "0:" "$?:$(cat "$ART/verify.out")"
  for u in "$P"/usr/lib/systemd/system/gf-*.service; do
    for k in Restart=on-failure NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes ExecReload=; do
      grep -q "^$k" "$u" || not_ok "$(basename "$u") lacks $k"
    done
  done
  ok "every unit has restart policy, reload and hardening"
else
  note "systemd-analyze not installed: units checked by grep only"
fi
finish
