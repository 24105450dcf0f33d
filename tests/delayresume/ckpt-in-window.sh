#!/bin/bash
# A checkpoint requested while a window is open (hold.c ckpt): by the
# driver (dmtcp_command -c) and by the initiator (dmtcp_checkpoint(), which
# returns DMTCP_ERROR at once with one warning line).  Once the coordinator
# has started it (its log), the checkpoint is held until unblock: the
# program's own plugin, which sees each checkpoint with every thread parked,
# finds it taken after the initiator called unblock and never in the window;
# the image and the coordinator's log agree; and it completes after unblock.
. "$(dirname "$0")/lib/common.sh"
need_bins
need_plugin
build hold
start_coord || { fail ckpt-in-window "coordinator did not start"; exit 0; }

D=$TMP/ck.d
mkdir -p "$D"
launch_dr ck "$TMP/hold" ckpt "$D"
if ! wait_for test -e "$D/open"; then
    fail ckpt-in-window "no window: $(tail_of "$TMP/ck.out") $(tail_of "$TMP/ck.err")"
    exit 0
fi
img=$(ls "$TMP"/ckpt-ck/ckpt_hold_*.dmtcp 2>/dev/null | head -n 1)
[ -n "$img" ] || { fail ckpt-in-window "no image after block_resume"; exit 0; }
s0=$(stat -c '%i %Y.%y' "$img")
# -c asks and returns; run it bounded in the background in case it waits
timeout "$WAIT" "$BIN/dmtcp_command" -p "$PORT" -c >"$TMP/c.out" 2>&1 &
CPID=$!
if ! wait_for has "$TMP/coord.log" 'checkpoint 2: starting'; then
    fail ckpt-in-window "the coordinator never started the checkpoint -c asked for: $(tail_of "$TMP/coord.log") $(cat "$TMP/c.out")"
    exit 0
fi
touch "$D/requested"
if ! wait_for test -e "$D/unblocking"; then
    fail ckpt-in-window "the program never reached unblock: $(tail_of "$TMP/ck.out") $(tail_of "$TMP/ck.err")"
    exit 0
fi
s1=$(stat -c '%i %Y.%y' "$img")
if [ "$s0" = "$s1" ]; then pass ckpt-in-window-image-untouched-in-window
else fail ckpt-in-window-image-untouched-in-window "image changed while the window was open: '$s0' -> '$s1'"; fi
if has "$TMP/coord.log" 'checkpoint 2: [0-9]+ processes'; then
    fail ckpt-in-window-coordinator-not-done-in-window "the coordinator logged checkpoint 2 done while the window was open: $(grep 'checkpoint 2:' "$TMP/coord.log" | tr '\n' '|')"
else pass ckpt-in-window-coordinator-not-done-in-window; fi
touch "$D/checked"
if ! wait_for has "$TMP/ck.out" '^CKPT-DONE'; then
    fail ckpt-in-window "the program did not report: $(tail_of "$TMP/ck.out")"
fi
report "$TMP/ck.out"
grep '^# ' "$TMP/ck.out"
wait "$CPID"
crc=$?
if [ $crc = 0 ]; then pass ckpt-in-window-command-c
else fail ckpt-in-window-command-c "dmtcp_command -c exited $crc: $(cat "$TMP/c.out")"; fi
img2=$(ls "$TMP"/ckpt-ck/ckpt_hold_*.dmtcp 2>/dev/null | head -n 1)
s2=$(stat -c '%i %Y.%y' "$img2" 2>/dev/null)
if [ -n "$s2" ] && [ "$s2" != "$s1" ] && [ "$img2" -nt "$D/unblocking" ]; then pass ckpt-in-window-image-written-after
else fail ckpt-in-window-image-written-after "image '$s1' -> '$s2' (marker $(stat -c %y "$D/unblocking"))"; fi
# coordinator log: checkpoint 2 (the one asked for in the window) completes
if wait_for has "$TMP/coord.log" 'checkpoint 2: [0-9]+ processes'; then pass ckpt-in-window-coordinator-done-after
else fail ckpt-in-window-coordinator-done-after "no 'checkpoint 2: N processes' line in the coordinator log"; fi
# one warning line for the initiator's own dmtcp_checkpoint()
n=$(sed -n '/^@@ begin own-checkpoint/,/^@@ end own-checkpoint/p' "$TMP/ck.err" | grep -vc '^@@')
total=$(grep -vc '^@@' "$TMP/ck.err")
if [ "$n" = 1 ] && [ "$total" = 1 ]; then pass ckpt-in-window-one-warning
else fail ckpt-in-window-one-warning "$n warning lines for the call, $total in all: $(tr '\n' '|' <"$TMP/ck.err")"; fi
touch "$D/exit"
if finish "$LAUNCH_PID" && [ "$REAPED_RC" = 0 ]; then pass ckpt-in-window-program-ends
else fail ckpt-in-window-program-ends "exit $REAPED_RC"; fi
exit 0
