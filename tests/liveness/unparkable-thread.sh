#!/usr/bin/env bash
# unparkable-thread.sh — a thread that can never be parked (one that blocks
# every signal with the raw system call; glibc's own SIGEV_THREAD timer
# helper) makes `dmtcp_command -bc` fail within the suspend timeout (2 s
# here: dmtcp_launch --suspend-timeout, or STASIS_SUSPEND_TIMEOUT) with one
# message naming the process, the thread and what it is doing; the program
# runs on (its parked threads were let go); once the thread unblocks the
# signal the next checkpoint works; and `dmtcp_command -k` kills the program.
. "$(dirname "$0")/lib/common.sh"
need_bins
build_prog
start_coord || { fail unparkable-coordinator "the coordinator did not start"; exit 0; }

# expect_abandoned NAME OUT PATTERN...: -bc fails (exit 4) and its message
# and the program's stderr (OUT.err) match every PATTERN; then the program
# runs on and the coordinator is idle again.
expect_abandoned() {
    local name=$1 o=$2 out rc pat bad=''
    shift 2
    out=$(cmd -bc 2>&1)
    rc=$?
    if [ $rc -ne 4 ]; then
        bad="dmtcp_command -bc exited $rc, expected 4: $out"
    else
        for pat; do
            grep -qE -- "$pat" <<<"$out" || { bad="the -bc message does not say '$pat': $out"; break; }
            grep -qE -- "$pat" "$TMP/$o.err" ||
                { bad="the program's message does not say '$pat': $(tail -c 600 "$TMP/$o.err")"; break; }
        done
    fi
    if [ -n "$bad" ]; then fail "$name-reported" "$bad"; else pass "$name-reported"; fi

    if ! alive "$LAUNCH_PID"; then fail "$name-runs-on" "the program died: $(tail -c 300 "$TMP/$o.err")"
    elif ! advancing "$TMP/$o.out"; then fail "$name-runs-on" "the tick counter stopped at $(last_tick "$TMP/$o.out")"
    elif ! wait_for status_running; then fail "$name-runs-on" "the coordinator is not RUNNING: $(cmd -s 2>&1)"
    else pass "$name-runs-on"; fi
}

# ---- a thread that blocks every signal ----------------------------------------
if launch blk sigblock --suspend-timeout 2; then
    TID=$(sed -n 's/^tid \([0-9]*\)$/\1/p' "$TMP/blk.out" | head -n 1)
    expect_abandoned sigblock blk "process $LAUNCH_PID \(prog-stuck\)|prog-stuck" \
        "thread $TID \(sigblocker\) blocks the checkpoint signal" "not parked within 2 s" \
        "STASIS_SUSPEND_TIMEOUT"
    # a second try fails the same way: nothing is left over from the first
    expect_abandoned sigblock-again blk "thread $TID \(sigblocker\) blocks the checkpoint signal"

    touch "$TMP/blk/unblock"
    if ! wait_for grep -qx unblocked "$TMP/blk.out"; then
        fail sigblock-then-checkpoint "the thread never unblocked its signals"
    else
        out=$(cmd -bc 2>&1)
        rc=$?
        if [ $rc -ne 0 ]; then fail sigblock-then-checkpoint "-bc exited $rc: $out"
        elif ! ls "$TMP"/blk/ckpt_prog-stuck_*.dmtcp >/dev/null 2>&1; then
            fail sigblock-then-checkpoint "-bc said '$out' but there is no image"
        elif ! advancing "$TMP/blk.out"; then fail sigblock-then-checkpoint "the program stopped after the checkpoint"
        else pass sigblock-then-checkpoint; fi
    fi

    killed sigblock-killed
else
    fail sigblock-launch "$WHY"
fi

# ---- glibc's own SIGEV_THREAD helper thread ------------------------------------
if STASIS_SUSPEND_TIMEOUT=2 launch tmr glibc-timer; then
    expect_abandoned glibc-timer tmr "prog-stuck" "blocks the checkpoint signal" \
        "in system call rt_sigtimedwait" "timer_create\\(SIGEV_THREAD\\)" "not parked within 2 s"
    killed glibc-timer-killed
else
    fail glibc-timer-launch "$WHY"
fi

exit 0
