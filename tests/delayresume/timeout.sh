#!/bin/bash
# DMTCP_DELAYRESUME_TIMEOUT=1 (timeout.c): the initiator holds the window
# for 3 s without unblocking; the parked threads are released by the
# timeout (not before 0.5 s — a lower bound only, nothing is asserted about
# how late) with exactly one warning line; the late unblock returns
# DMTCP_RESUME_ETIMEDOUT with one warning line; a next window works.
# What dmtcp_command -s says between the release and the late unblock, and
# whether a checkpoint asked for then runs before the unblock, is printed
# for information ("# " lines), not asserted: the documentation does not
# say.
. "$(dirname "$0")/lib/common.sh"
need_bins
need_plugin
build timeout
start_coord || { fail timeout "coordinator did not start"; exit 0; }

D=$TMP/to.d
mkdir -p "$D"
DR_ENV=(DMTCP_DELAYRESUME_TIMEOUT=1)
launch_dr to "$TMP/timeout" "$D" 3
DR_ENV=()
if ! wait_for has "$TMP/to.out" '^(RELEASED|NOT-RELEASED|FAIL)'; then
    fail timeout "no report within ${WAIT}s: $(tail_of "$TMP/to.out") $(tail_of "$TMP/to.err")"
    exit 0
fi
line=$(grep -E '^(RELEASED|NOT-RELEASED)' "$TMP/to.out")
echo "# $line"
if [[ $line =~ ^RELEASED\ after\ ([0-9.]+) ]] && awk -v s="${BASH_REMATCH[1]}" 'BEGIN { exit !(s >= 0.5) }'; then
    pass timeout-releases-threads
else
    fail timeout-releases-threads "$line"
fi
# after the timeout the window no longer holds anything back: the status
# is clear and a checkpoint runs before the initiator's late unblock
st=$(cmd -s 2>&1 | grep -E 'RESUME_DELAYED' | tr -s ' \n' ' ')
if [ -z "$st" ]; then pass timeout-status-cleared
else fail timeout-status-cleared "dmtcp_command -s still shows:$st"; fi
before=$(grep -c 'checkpoint [0-9]*: [0-9]* processes' "$TMP/coord.log")
timeout "$WAIT" "$BIN/dmtcp_command" -p "$PORT" -bc >/dev/null 2>&1
crc=$?
after=$(grep -c 'checkpoint [0-9]*: [0-9]* processes' "$TMP/coord.log")
if [ "$crc" = 0 ] && [ "$after" -gt "$before" ] && [ ! -e "$D/looked" ]; then
    pass timeout-checkpoints-run-again
else
    fail timeout-checkpoints-run-again "dmtcp_command -bc after the timeout exited $crc, $((after - before)) checkpoint(s) completed"
fi
touch "$D/looked"
if ! finish "$LAUNCH_PID" || [ "$REAPED_RC" != 0 ]; then
    fail timeout "program did not end normally (exit $REAPED_RC): $(tail_of "$TMP/to.out") $(tail_of "$TMP/to.err")"
    exit 0
fi
if has "$TMP/to.out" "^UNBLOCK -16\$"; then pass timeout-late-unblock-etimedout
else fail timeout-late-unblock-etimedout "$(grep UNBLOCK "$TMP/to.out")"; fi
if has "$TMP/to.out" "^NEXT 1 0\$"; then pass timeout-next-window
else fail timeout-next-window "$(grep NEXT "$TMP/to.out")"; fi
# warnings: one in the window (the timeout), one at the late unblock, none after
w1=$(sed -n '/^@@ window/,/^@@ unblock/p' "$TMP/to.err" | grep -vc '^@@')
w1t=$(sed -n '/^@@ window/,/^@@ unblock/p' "$TMP/to.err" | grep -c 'DMTCP_DELAYRESUME_TIMEOUT')
w2=$(sed -n '/^@@ unblock/,/^@@ next window/p' "$TMP/to.err" | grep -vc '^@@')
w3=$(sed -n '/^@@ next window/,$p' "$TMP/to.err" | grep -vc '^@@')
if [ "$w1" = 1 ] && [ "$w1t" = 1 ]; then pass timeout-one-warning
else fail timeout-one-warning "$w1 lines in the window: $(tr '\n' '|' <"$TMP/to.err")"; fi
if [ "$w2" = 1 ] && [ "$w3" = 0 ]; then pass timeout-unblock-one-warning
else fail timeout-unblock-one-warning "$w2 lines at the late unblock, $w3 after: $(tr '\n' '|' <"$TMP/to.err")"; fi
exit 0
