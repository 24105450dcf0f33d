#!/bin/bash
# Another user's program holds the port a client dials (finding 4 of issue
# 8): dmtcp_launch, dmtcp_command and dmtcp_restart refuse it with a clear
# message, and it never receives the user's secret, not even when the user
# has a secret for that port (a coordinator killed there left its file).
. "$(dirname "$0")/lib/auth.sh"
need_attacker
need_bins
build_prog
start_fake hijack hijack || { fail impostor-start "the fake coordinator did not start"; exit 0; }
TOKEN=$(plant_secret "$FAKE_PORT")

launched_or_ended() { ticked "$TMP/launch.out" || dead "$1"; }

# (a) dmtcp_launch refuses to run the program under it
bg "$BIN/dmtcp_launch" -p "$FAKE_PORT" "$PROG" >"$TMP/launch.out" 2>"$TMP/launch.err"
lp=$BG_PID
if ! wait_for launched_or_ended "$lp"; then
    fail impostor-launch "dmtcp_launch neither ran the program nor exited within ${WAIT}s"
    kill -9 "$lp" 2>/dev/null
elif ticked "$TMP/launch.out"; then
    fail impostor-launch "the program runs under the other user's fake coordinator"
    { kill -9 "$lp"; reap "$lp"; } 2>/dev/null
else
    reap "$lp"
    msg=$(cat "$TMP/launch.err")
    if [ "$REAPED_RC" = 0 ]; then fail impostor-launch "exit status 0: $msg"
    elif ! impostor_message "$msg"; then fail impostor-launch "unclear message: $msg"
    else pass impostor-launch; fi
fi

# (b) dmtcp_command refuses to talk to it, for a status and for a kill
for opt in -s -k; do
    out=$(timeout "$WAIT" "$BIN/dmtcp_command" -p "$FAKE_PORT" "$opt" 2>&1); rc=$?
    if [ $rc -ne 3 ]; then fail "impostor-command$opt" "exit $rc, expected 3: $out"
    elif ! impostor_message "$out"; then fail "impostor-command$opt" "unclear message: $out"
    else pass "impostor-command$opt"; fi
done

# (c) dmtcp_restart refuses to hand it a restarted process: an image made
# under the user's own coordinator, restarted towards the fake
start_coord || { fail impostor-restart "the user's coordinator did not start"; exit 0; }
mkdir -m 700 "$TMP/ckpt"
bg "$BIN/dmtcp_launch" -p "$PORT" -j --ckptdir "$TMP/ckpt" "$PROG" >"$TMP/own.out" 2>"$TMP/own.err"
own=$BG_PID
if ! wait_for ticked "$TMP/own.out"; then
    fail impostor-restart "the program did not run under the user's coordinator: $(cat "$TMP/own.err")"
elif ! out=$(cmd -bc 2>&1); then
    fail impostor-restart "no image to restart: $out"
else
    { cmd -k >/dev/null; finish "$own"; } 2>/dev/null # quiet: bash reports the job -k killed
    image=$(ls "$TMP"/ckpt/ckpt_*.dmtcp)
    came_back_or_ended() { ticked "$TMP/restart.out" || dead "$1"; }
    bg "$BIN/dmtcp_restart" -p "$FAKE_PORT" -j "$image" >"$TMP/restart.out" 2>"$TMP/restart.err"
    rp=$BG_PID
    if ! wait_for came_back_or_ended "$rp"; then
        fail impostor-restart "dmtcp_restart neither restarted nor exited within ${WAIT}s"
        kill -9 "$rp"
    elif ticked "$TMP/restart.out"; then
        fail impostor-restart "the restarted program runs under the other user's fake coordinator"
        { kill -9 "$rp"; reap "$rp"; } 2>/dev/null
    else
        reap "$rp"
        msg=$(cat "$TMP/restart.err")
        if [ "$REAPED_RC" = 0 ]; then fail impostor-restart "exit status 0: $msg"
        elif ! impostor_message "$msg"; then fail impostor-restart "unclear message: $msg"
        else pass impostor-restart; fi
    fi
fi

# The fake saw every connection end; none carried the secret.
if ! wait_for fake_quiet; then fail impostor-no-secret "a connection to the fake never ended"
elif fake_received_secret "$TOKEN"; then fail impostor-no-secret "the other user's program received the secret"
else pass impostor-no-secret; fi

# Without any secret for the port (the default 7779 when the user's own
# coordinator is not running): refused just as clearly.
rm -f "$XDG_RUNTIME_DIR/stasis/coord-$FAKE_PORT.secret"
out=$(timeout "$WAIT" "$BIN/dmtcp_command" -p "$FAKE_PORT" -k 2>&1); rc=$?
if [ $rc -ne 3 ]; then fail impostor-no-secret-file "exit $rc, expected 3: $out"
elif ! impostor_message "$out"; then fail impostor-no-secret-file "unclear message: $out"
else pass impostor-no-secret-file; fi
exit 0
