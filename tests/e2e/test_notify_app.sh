#!/usr/bin/env bash
# Issue 5, acceptance 4: a staff app that disconnects before acknowledging
# gets the message again when it reconnects; one that acknowledged does not.
# Also: sign-in is refused without the right token; while signed in, new
# messages are pushed live, each once (the push writes nothing: the notifier
# remembers what it pushed to each app).
source "$(dirname "$0")/lib.sh"
new_db
sql "DELETE FROM delivery_quiet" >/dev/null
start_stack --metrics
LEADER=P-QNL.07.063-1
TOKEN=$("$BIN/gridctl" notify token $LEADER)
check "gridctl notify token prints a 48-hex-digit token" yes "$([[ $TOKEN =~ ^[0-9a-f]{48}$ ]] && echo yes || echo no)"
check "unknown person has no token" 1 "$("$BIN/gridctl" notify token P-NOBODY >/dev/null 2>&1; echo $?)"
app() { "$TOOLS/app_client" "$GF_APP" "$@"; }
# the notifier's gauges: apps signed in, messages pushed to them and not
# yet acknowledged
gauges() {
  echo "$(metric "${MPORT[notifier]}" gf_notifier_app_sessions) $(metric "${MPORT[notifier]}" gf_notifier_app_unacknowledged)"
}
gauges_are() { [ "$(gauges)" = "$1" ]; }

check "a wrong token is refused" "error unauthorized" "$(app $LEADER 00deadbeef noack 1500)"
check "another person's token is refused" "error unauthorized" "$(app P-QNL.07.063-2 "$TOKEN" noack 1500)"

for i in 1 2 3; do
  "$BIN/gridctl" submit --source hotline --ref APP-$i --text "井盖松动 $i" --grid QNL.07.063 >/dev/null
done
wait_for "3 app messages for the leader" 20 sql_eq "SELECT count(*) FROM deliveries WHERE channel = 'app' AND address = '$LEADER'" 3
app $LEADER "$TOKEN" noack 2000 >"$ART/run1.txt"
check "first connection: signed in, 3 messages" "welcome 3" \
  "$(head -n 1 "$ART/run1.txt") $(grep -c '^message' "$ART/run1.txt")"
check "pushed, not acknowledged: the push wrote nothing (pending, no attempt, none acknowledged)" "3 0 0" \
  "$(sql "SELECT count(*) FILTER (WHERE state = 'pending' AND attempts = 0) || ' '
                 || count(*) FILTER (WHERE state = 'sent') || ' ' || count(*) FILTER (WHERE state = 'acked')
           FROM deliveries WHERE channel = 'app' AND address = '$LEADER'")"
wait_for "the gauges" 5 gauges_are "1 3"
check "gauges: one app signed in (gone, not yet found out), 3 messages pushed to it and not acknowledged" \
  "1 3" "$(gauges)"
app $LEADER "$TOKEN" ack 2000 >"$ART/run2.txt"
check "reconnect without having acknowledged: the same 3 messages again" \
  "$(grep '^message' "$ART/run1.txt" | sort)" "$(grep '^message' "$ART/run2.txt" | sort)"
wait_for "receipts recorded (送达有签收)" 10 sql_eq "SELECT count(*) FROM deliveries
   WHERE channel = 'app' AND address = '$LEADER' AND state = 'acked' AND acked_at IS NOT NULL" 3
wait_for "the gauges" 5 gauges_are "1 0"
check "gauges: after the receipts, nothing pushed is unacknowledged" "1 0" "$(gauges)"
app $LEADER "$TOKEN" noack 2000 >"$ART/run3.txt"
check "reconnect after acknowledging: nothing again" "welcome 0" \
  "$(head -n 1 "$ART/run3.txt") $(grep -c '^message' "$ART/run3.txt")"

app $LEADER "$TOKEN" ack 6000 >"$ART/run4.txt" &
APP=$!
wait_for "signed in" 10 grep -q welcome "$ART/run4.txt"
"$BIN/gridctl" submit --source hotline --ref APP-LIVE --text "路灯闪烁" --grid QNL.07.063 >/dev/null
LIVE=$(sql "SELECT id FROM cases WHERE source_ref = 'APP-LIVE'")
wait_for "a new message pushed live to the signed-in app" 10 grep -q "^message [0-9]* $LIVE " "$ART/run4.txt"
wait $APP
check "pushed once while signed in (six seconds, twelve reads)" 1 "$(grep -c "^message [0-9]* $LIVE " "$ART/run4.txt")"
check "the live one acknowledged too; nothing left unacknowledged" 0 \
  "$(sql "SELECT count(*) FROM deliveries WHERE channel = 'app' AND address = '$LEADER' AND state <> 'acked'")"
check "a member's messages stay pending while their app is away" 4 \
  "$(sql "SELECT count(*) FROM deliveries WHERE channel = 'app' AND address = 'P-QNL.07.063-2' AND state = 'pending'")"

# An app gone away without a word: the next push finds no route to it
# (ROUTER_MANDATORY) and ends its session; its next sign-in gets the message.
app $LEADER "$TOKEN" ack 1000 >/dev/null
"$BIN/gridctl" submit --source hotline --ref APP-GONE --text "垃圾未清运" --grid QNL.07.063 >/dev/null
GONE=$(sql "SELECT id FROM cases WHERE source_ref = 'APP-GONE'")
wait_for "its app message stored" 10 sql_eq "SELECT count(*) FROM deliveries d JOIN notifications n ON n.id = d.notification
   WHERE n.case_id = $GONE AND d.channel = 'app' AND d.address = '$LEADER'" 1
sleep 1.5 # reads while the app is away
app $LEADER "$TOKEN" ack 2000 >"$ART/run5.txt"
check "a message for an app gone away: pushed at its next sign-in, once" 1 \
  "$(grep -c "^message [0-9]* $GONE " "$ART/run5.txt")"
finish
