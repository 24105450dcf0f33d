#!/bin/bash
# With --forked-ckpt the program runs on while a copy-on-write child writes
# its image.  A program that ends in that time was part of the checkpoint's
# cut, so its image must still complete: the exit waits until the image is
# reported, the checkpoint succeeds, and the image restarts.
#   forked-exit-_exit: _exit() (here from a signal handler), which skips
#       the destructors;
#   forked-exit-main: a return from main (exit() and its destructors).
# The writer is stopped (SIGSTOP) once seen, the program is asked to end,
# and the writer is let go only once the program's main thread is seen
# waiting in the exit (its system call is futex): without the wait the
# writer would die with the program and the checkpoint fail.
. "$(dirname "$0")/lib/common.sh"
need_bins
build_tools
start_coord || { fail forked-exit "coordinator did not start"; exit 0; }

# writer_of PID: the program's forked writer (comm stasis-writer), if any
writer_of() {
    local c
    for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
        [ "$(cat /proc/"$c"/comm 2>/dev/null)" = stasis-writer ] && alive "$c" && { echo "$c"; return 0; }
    done
    return 1
}
writer_seen() { WRITER=$(writer_of "$1"); }
cmd_done() { dead "$CMD_PID"; }
said() { grep -qx "$2" "$1"; }
# in_futex PID: the main thread is inside futex(2) (x86-64: 202; aarch64: 98)
in_futex() {
    local nr
    nr=$(cut -d' ' -f1 /proc/"$1"/syscall 2>/dev/null)
    [ "$nr" = 202 ] || { [ "$(uname -m)" = aarch64 ] && [ "$nr" = 98 ]; }
}

# one NAME SIGNAL LINE STATUS
one() {
    local name=$1 sig=$2 line=$3 want=$4 d=$TMP/$1 try tick out img
    mkdir "$d"
    bg env PROG_COUNTER_EXIT=1 "$BIN/dmtcp_launch" -p "$PORT" -j --ckptdir "$d" --forked-ckpt --no-gzip \
        "$PROG" 256 >"$TMP/$name.out" 2>"$TMP/$name.err"
    LAUNCH_PID=$BG_PID
    wait_for tick_at_least "$TMP/$name.out" 2 || { fail "$name" "never ticked: $(tail -c 300 "$TMP/$name.err")"; kill_all; return; }
    ID=$(prog_id "$TMP/$name.out")
    for try in 1 2 3; do
        tick=$(last_tick "$TMP/$name.out")
        (cmd -bc >"$TMP/$name.cmd" 2>&1) &
        CMD_PID=$!
        WRITER=
        poll "$WAIT" writer_seen "$LAUNCH_PID"
        # stopped while it still exists: the image is not yet written
        if [ -n "$WRITER" ] && kill -STOP "$WRITER" 2>/dev/null && alive "$WRITER"; then
            break
        fi
        kill -CONT "$WRITER" 2>/dev/null
        WRITER=
        wait "$CMD_PID" # a checkpoint that ended before its writer was seen
    done
    if [ -z "$WRITER" ]; then
        fail "$name" "3 checkpoints ended before their writer was seen"; kill_all; return
    fi
    kill "-$sig" "$LAUNCH_PID"
    if ! wait_for said "$TMP/$name.out" "$line" || ! wait_for in_futex "$LAUNCH_PID"; then
        kill -CONT "$WRITER" 2>/dev/null
        fail "$name" "the program did not wait in its exit for the image ($(tail -n 2 "$TMP/$name.out" | tr '\n' ' '))"
        kill_all; return
    fi
    kill -CONT "$WRITER" 2>/dev/null
    wait "$CMD_PID"
    local rc=$?
    out=$(cat "$TMP/$name.cmd")
    finish "$LAUNCH_PID"
    if [ $rc -ne 0 ]; then
        fail "$name" "the checkpoint failed (dmtcp_command -bc exited $rc: $out)"
    elif [ "$REAPED_RC" != "$want" ]; then
        fail "$name" "the program exited with status $REAPED_RC, expected $want"
    elif ! img=$(ls "$d"/ckpt_prog-counter_*.dmtcp 2>/dev/null | head -n 1) || [ -z "$img" ]; then
        fail "$name" "no image in $d after: $out"
    elif [ -n "$(tmp_left "$d")" ]; then
        fail "$name" "temporaries left: $(tmp_left "$d")"
    elif ! restart_ok "$img" "$ID" "$tick" "$name"; then
        fail "$name" "the image does not restart: $WHY"
    else
        pass "$name"
    fi
    kill_all
}

one forked-exit-_exit USR1 "exiting _exit" 7
one forked-exit-main TERM "exiting main" 8
exit 0
