#!/usr/bin/env bash
# Issue 7, acceptance 1: CurveZMQ on the intake.  A client without a key,
# with an unknown key and with a revoked key is refused; a known key works;
# an identity acting outside its sources or grid subtree gets `forbidden` and
# changes nothing.  Also: plain TCP is refused on a non-loopback endpoint,
# and curve=on without certificates does not start.
source "$(dirname "$0")/lib.sh"
new_db

CERTS=$ART/certs
mkdir -p "$CERTS"
ctl() { "$BIN/gridctl" --certs "$CERTS" "$@"; }
# stored_counts: cases/events/actions, to show that a refusal wrote nothing.
stored_counts() { sql "SELECT (SELECT count(*) FROM cases) || '/' || (SELECT count(*) FROM case_events) || '/' || (SELECT count(*) FROM case_actions)"; }

ctl cert server "$ART/server.cert" >"$ART/cert.out" 2>&1
check "server certificate made" "0 yes yes" "$? $(test -f "$ART/server.cert" && echo yes) $(test -f "$ART/server.cert_secret" && echo yes)"
ctl cert new hotline-all --kind adapter --grid QNL --sources hotline --out "$ART/hotline-all.cert" >>"$ART/cert.out" 2>&1
ctl cert new hotline-07 --kind adapter --grid QNL.07 --sources hotline,patrol --out "$ART/hotline-07.cert" >>"$ART/cert.out" 2>&1
ctl cert new staff-07 --kind staff --grid QNL.07 --out "$ART/staff-07.cert" >>"$ART/cert.out" 2>&1
ctl cert new leader-07-063 --kind staff --grid QNL.07.063 --person P-QNL.07.063-1 --out "$ART/leader.cert" >>"$ART/cert.out" 2>&1
ctl cert new old-box --kind adapter --grid QNL --sources hotline --out "$ART/old-box.cert" >>"$ART/cert.out" 2>&1
ctl cert new stale-host --kind adapter --grid QNL --sources hotline --out "$ART/stale.cert" >>"$ART/cert.out" 2>&1
check "identities registered, public certificates in the store" "6 6" \
  "$(sql "SELECT count(*) FROM identities") $(ls "$CERTS" | wc -l)"
check "no secret key in the certificate store" 0 "$(grep -l secret-key "$CERTS"/* | wc -l)"
check "client secret files are private (0600)" 600 "$(stat -c %a "$ART/leader.cert_secret")"
ctl cert new bad --kind adapter --grid NOWHERE --out "$ART/bad.cert" >>"$ART/cert.out" 2>&1
check "cert new with an unknown grid fails and leaves no file" "1 no no" \
  "$? $(test -e "$ART/bad.cert" && echo yes || echo no) $(test -e "$CERTS/bad.cert" && echo yes || echo no)"
# A key pair that was never registered.
ctl cert server "$ART/unknown.cert" >>"$ART/cert.out" 2>&1

# Revoked before any use: its certificate leaves the store.
ctl cert revoke old-box >>"$ART/cert.out" 2>&1
check "revoke removes the certificate from the store" "0 no" \
  "$? $(ctl cert list | awk '$1 == "old-box" {print $NF}')"

# Server settings that must not start.
GF_CURVE=off "$BIN/gf-intake" --intake "tcp://0.0.0.0:$((PORT_BASE + 5))" >"$ART/plain-public.log" 2>&1
check "plain TCP on a non-loopback endpoint refused at start" "1 1" \
  "$? $(grep -c "allowed only on loopback" "$ART/plain-public.log")"
GF_CURVE=on "$BIN/gf-intake" >"$ART/nocert.log" 2>&1
check "curve=on without certificates refused at start" "1 1" "$? $(grep -c "needs --cert" "$ART/nocert.log")"

export GF_CURVE=on
start relay --cert "$ART/server.cert" --certs "$CERTS"
start intake --cert "$ART/server.cert" --certs "$CERTS"
# The router's wake-ups from the relay (CURVE too): a stream identity.
ctl cert new router --kind subscriber --grid QNL --out "$ART/router.cert" >>"$ART/cert.out" 2>&1
start router --cert "$ART/router.cert" --relay-cert "$ART/server.cert"
wait_for "intake port" 30 port_open $((PORT_BASE + 0))
wait_for "router" 10 sql_eq "SELECT count(*) FROM consumer_checkpoints WHERE consumer = 'router'" 1

cat >"$ART/one.jsonl" <<'EOF'
{"call_id":"SEC-1","text":"路灯坏了","grid":"QNL.07.063","caller":"测试甲","phone":"13912345678"}
EOF
# feed NAME [CERT]: one record with a 1.5 s timeout and no resend.
feed() {
  local name=$1 cert=${2:-}
  if [ -n "$cert" ]; then
    "$BIN/gf-hotline" --timeout 1500 --attempts 1 --cert "$cert" --server-cert "$ART/server.cert" \
      "$ART/one.jsonl" >"$ART/$name.out" 2>"$ART/$name.err"
  else
    GF_CURVE=off "$BIN/gf-hotline" --timeout 1500 --attempts 1 "$ART/one.jsonl" >"$ART/$name.out" 2>"$ART/$name.err"
  fi
  cat "$ART/$name.out"
}

before=$(stored_counts)
check "client without a key refused" "accepted 0, duplicate 0, rejected 0, failed 1" "$(feed nokey)"
check "client with an unknown key refused" "accepted 0, duplicate 0, rejected 0, failed 1" \
  "$(feed unknown "$ART/unknown.cert")"
check "client with a revoked key refused" "accepted 0, duplicate 0, rejected 0, failed 1" \
  "$(feed revoked "$ART/old-box.cert")"
check "refused clients wrote nothing" "$before" "$(stored_counts)"
check "client with a known key works" "accepted 1, duplicate 0, rejected 0, failed 0" \
  "$(feed known "$ART/hotline-all.cert")"
check "its case is stored" 1 "$(sql "SELECT count(*) FROM cases WHERE source_ref = 'SEC-1'")"

# A key revoked in the database while its certificate is still in some
# intake's directory (an open connection, a host not yet updated): every
# request is refused.
sql "UPDATE identities SET revoked_at = now () WHERE name = 'stale-host'"
sed -i 's/SEC-1/SEC-2/' "$ART/one.jsonl"
before=$(stored_counts)
feed stale "$ART/stale.cert" >/dev/null
check "revoked identity with a live certificate: forbidden" "1 forbidden" \
  "$(grep -c rejected "$ART/stale.err") $(grep -o forbidden "$ART/stale.err" | head -1)"
check "... and nothing written" "$before" "$(stored_counts)"

# A certificate put in the directory by hand, without an identity in the
# database: the handshake passes, every request is forbidden.
# The certificate store rereads the directory when its time stamp (whole
# seconds) moves: copy once the second of its last change has passed.
certs_settled() { [ "$(date +%s)" -gt "$(stat -c %Y "$CERTS")" ]; }
wait_for "a second past the certificate directory's last change" 5 certs_settled
cp "$ART/unknown.cert" "$CERTS/by-hand.cert"
sed -i 's/SEC-2/SEC-3/' "$ART/one.jsonl"
before=$(stored_counts)
feed byhand "$ART/unknown.cert" >/dev/null
check "key in the directory but no identity: forbidden, nothing written" "1 forbidden $before" \
  "$(grep -c rejected "$ART/byhand.err") $(grep -o forbidden "$ART/byhand.err" | head -1) $(stored_counts)"
rm "$CERTS/by-hand.cert"

# Sources and grid subtree of an adapter identity.
try_submit() { # CERT SOURCE REF [GRID [REPORTER]]: the new case's state, or "error"
  local cert=$1 src=$2 ref=$3 grid=${4:-}
  "$BIN/gridctl" submit --cert "$cert" --server-cert "$ART/server.cert" --source "$src" --ref "$ref" \
    --text "井盖松动" ${grid:+--grid "$grid"} ${5:+--reporter "$5"} 2>&1 | sed 's/: .*//; s/^case [0-9]* //'
}
before=$(stored_counts)
check "adapter outside its subtree: forbidden" "error" "$(try_submit "$ART/hotline-07.cert" hotline R-1 QNL.01.001)"
check "adapter with a source it may not use: forbidden" "error" \
  "$(try_submit "$ART/hotline-all.cert" suggestbox R-2 QNL.07.063)"
check "subtree-limited adapter without a grid code (lands in the L1 root): forbidden" "error" \
  "$(try_submit "$ART/hotline-07.cert" hotline R-3)"
check "staff identity without sources may not submit" "error" \
  "$(try_submit "$ART/staff-07.cert" hotline R-4 QNL.07.063)"
check "forbidden submissions wrote nothing" "$before" "$(stored_counts)"
"$BIN/gridctl" submit --cert "$ART/hotline-07.cert" --server-cert "$ART/server.cert" --source hotline \
  --ref R-5 --text "井盖松动" --grid QNL.01.001 >/dev/null 2>"$ART/forbidden.err"
check "the reply code is forbidden" 1 "$(grep -c "^error: forbidden" "$ART/forbidden.err")"
check "adapter inside its subtree: stored" "registered" "$(try_submit "$ART/hotline-07.cert" hotline R-6 QNL.07.063)"
check "patrol by an allowed source: stored" "registered" \
  "$(try_submit "$ART/hotline-07.cert" patrol R-7 QNL.07.063 P-QNL.07.063-1)"

# Staff actions: the case's grid must be in the identity's subtree.
"$BIN/gridctl" submit --cert "$ART/hotline-all.cert" --server-cert "$ART/server.cert" --source hotline \
  --ref R-8 --text "楼道堆物" --grid QNL.01.001 >/dev/null 2>&1
wait_for "both cases routed" 20 sql_eq "SELECT count(*) FROM cases WHERE source_ref IN ('R-6', 'R-8') AND state = 'routed'" 2
in07=$(sql "SELECT id FROM cases WHERE source_ref = 'R-6'")
in01=$(sql "SELECT id FROM cases WHERE source_ref = 'R-8'")
try_act() { # CERT ACTION CASE ACTOR [OPTIONS...]: the first line gridctl prints
  local cert=$1 action=$2 id=$3 actor=$4; shift 4
  "$BIN/gridctl" case "$action" "$id" --actor "$actor" "$@" --cert "$cert" \
    --server-cert "$ART/server.cert" 2>&1 | head -1
}
before=$(stored_counts)
v01=$(sql "SELECT state || '/' || version FROM cases WHERE id = $in01")
out=$(try_act "$ART/staff-07.cert" sign "$in01" P-QNL.01.001-1)
check "staff identity acting outside its subtree: forbidden" "forbidden" "$(echo "$out" | grep -o forbidden)"
check "... the case is unchanged" "$v01" "$(sql "SELECT state || '/' || version FROM cases WHERE id = $in01")"
out=$(try_act "$ART/hotline-all.cert" sign "$in07" P-QNL.07.063-1)
check "adapter identity may not act on cases" "forbidden" "$(echo "$out" | grep -o forbidden)"
out=$(try_act "$ART/leader.cert" sign "$in07" P-QNL.07.063-2)
check "identity bound to a person may not act as another" "forbidden" "$(echo "$out" | grep -o forbidden)"
check "refused actions changed nothing" "$before" "$(stored_counts)"
out=$(try_act "$ART/leader.cert" sign "$in07" P-QNL.07.063-1)
check "the grid leader's own identity signs its case" "signed" \
  "$(sql "SELECT state FROM cases WHERE id = $in07")"
out=$(try_act "$ART/staff-07.cert" progress "$in07" P-QNL.07.063-1 --note "已联系物业")
check "an L2 staff identity acts inside its subtree" "in_progress" \
  "$(sql "SELECT state FROM cases WHERE id = $in07")"

ctl cert list >"$ART/list.txt"
check "cert list shows every identity, revoked ones marked (the router's included)" "7 2" \
  "$(tail -n +2 "$ART/list.txt" | wc -l) $(awk 'NR > 1 && $7 != "-"' "$ART/list.txt" | wc -l)"
finish
