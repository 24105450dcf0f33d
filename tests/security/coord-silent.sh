#!/bin/bash
# A program on the port that accepts the connection and then says nothing
# (finding 4 of issue 8: every handshake read is bounded): dmtcp_command and
# dmtcp_launch give up with a message naming the port, and a program that
# preloads the engine itself runs on, without checkpoints, with a warning.
# As root the silent program is another user's; otherwise this user's own.
. "$(dirname "$0")/lib/auth.sh"
[ "$(id -u)" = 0 ] && need_attacker
need_bins dmtcp_command dmtcp_launch
build_prog
start_fake silent silent || { fail silent-start "the silent program did not start"; exit 0; }
plant_secret "$FAKE_PORT" >/dev/null # the user holds a secret, so clients do talk

silent_message() { grep -q "127.0.0.1:$FAKE_PORT" <<<"$1" && grep -qi 'answer' <<<"$1"; }

bg "$BIN/dmtcp_command" -p "$FAKE_PORT" -s >"$TMP/cmd.out" 2>&1
p=$BG_PID
if ! finish "$p"; then fail silent-command "dmtcp_command still waits after ${WAIT}s"
elif [ "$REAPED_RC" = 0 ]; then fail silent-command "exit status 0: $(cat "$TMP/cmd.out")"
elif ! silent_message "$(cat "$TMP/cmd.out")"; then fail silent-command "unclear message: $(cat "$TMP/cmd.out")"
else pass silent-command; fi

bg "$BIN/dmtcp_launch" -p "$FAKE_PORT" "$PROG" >"$TMP/launch.out" 2>"$TMP/launch.err"
p=$BG_PID
launched_or_ended() { ticked "$TMP/launch.out" || dead "$1"; }
if ! wait_for launched_or_ended "$p"; then fail silent-launch "dmtcp_launch still waits after ${WAIT}s"
elif ticked "$TMP/launch.out"; then fail silent-launch "the program runs under the silent program"
else
    reap "$p"
    if [ "$REAPED_RC" = 0 ]; then fail silent-launch "exit status 0: $(cat "$TMP/launch.err")"
    elif ! silent_message "$(cat "$TMP/launch.err")"; then fail silent-launch "unclear message: $(cat "$TMP/launch.err")"
    else pass silent-launch; fi
fi
{ kill -9 "$p"; reap "$p"; } 2>/dev/null

# The engine preloaded without dmtcp_launch: its own connection is bounded.
bg env LD_PRELOAD="$ROOT/lib/libdmtcp.so" DMTCP_COORD_PORT="$FAKE_PORT" "$PROG" \
    >"$TMP/pre.out" 2>"$TMP/pre.err"
p=$BG_PID
if ! wait_for ticked "$TMP/pre.out"; then fail silent-engine "the program did not run within ${WAIT}s: $(cat "$TMP/pre.err")"
elif ! silent_message "$(cat "$TMP/pre.err")"; then fail silent-engine "unclear warning: $(cat "$TMP/pre.err")"
else pass silent-engine; fi
{ kill -9 "$p"; reap "$p"; } 2>/dev/null
exit 0
