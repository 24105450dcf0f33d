#!/bin/bash
# A proof cannot be relayed from another port (finding 4 of issue 8): the
# user shares one secret between ports (STASIS_COORD_SECRET, as for a
# coordinator on another host); another user listens on a second port and
# passes every byte through to the user's real coordinator.  The client
# dialled the second port, the coordinator proves for its own: refused, and
# the relay never sees the secret.
. "$(dirname "$0")/lib/auth.sh"
need_attacker
need_bins dmtcp_coordinator dmtcp_command
start_coord || { fail relay-start "coordinator did not start"; exit 0; }
TOKEN=$(cat "$XDG_RUNTIME_DIR/stasis/coord-$PORT.secret")
start_fake relay relay "$PORT" || { fail relay-start "the relay did not start"; exit 0; }
export STASIS_COORD_SECRET=$TOKEN

out=$(cmd -s 2>&1); rc=$?
if [ $rc -ne 0 ]; then fail relay-direct "the shared secret does not work on the real port: exit $rc: $out"
else pass relay-direct; fi

for opt in -s -k; do
    out=$(timeout "$WAIT" "$BIN/dmtcp_command" -p "$FAKE_PORT" "$opt" 2>&1); rc=$?
    if [ $rc -ne 3 ]; then fail "relay-refused$opt" "exit $rc, expected 3: $out"
    elif ! impostor_message "$out"; then fail "relay-refused$opt" "unclear message: $out"
    else pass "relay-refused$opt"; fi
done

if ! wait_for fake_quiet; then fail relay-no-secret "a relayed connection never ended"
elif fake_received_secret "$TOKEN"; then fail relay-no-secret "the relay received the secret"
else pass relay-no-secret; fi
exit 0
