#!/bin/bash
# Other programs and libc in the window (winexec.c).
# exec:  system("/bin/tar -cf …") and popen("ls …") in three windows
#        succeed and do not deadlock; the workers stay parked meanwhile and
#        run after unblock; the archives hold the files; afterwards the
#        process still checkpoints (dmtcp_command -bc) and is alone under
#        checkpoint control (the children are gone).
# stdio: the initiator uses a FILE and malloc that workers were using when
#        they were parked (M_ARENA_MAX=1); built as is, and again with
#        -O2 -D_FORTIFY_SOURCE=2 (fprintf → __fprintf_chk, as distribution
#        builds do).  No window may hang.
. "$(dirname "$0")/lib/common.sh"
need_bins
need_plugin
build winexec
start_coord || { fail window-exec "coordinator did not start"; exit 0; }

# ---- exec
D=$TMP/exec.d
mkdir -p "$D"
launch_dr exec "$TMP/winexec" exec "$D"
if ! wait_for has "$TMP/exec.out" '^(WINDOWS-DONE|FAIL)'; then
    fail window-exec "no end of the windows within ${WAIT}s (deadlock?): $(tail_of "$TMP/exec.out") $(tail_of "$TMP/exec.err")"
    kill_all
else
    report "$TMP/exec.out"
    for w in 1 2 3; do
        list=$(tar -tf "$D/archive-$w.tar" 2>&1 | sed 's|^\./||' | grep -v '^$' | sort | tr '\n' ' ')
        if [ "$list" = "f1 f2 f3 f4 f5 " ]; then pass "window-exec-archive-$w"
        else fail "window-exec-archive-$w" "archive lists: $list"; fi
    done
    if out=$(cmd -bc 2>&1); then pass window-exec-checkpoint-after
    else fail window-exec-checkpoint-after "dmtcp_command -bc: $out"; fi
    n=$(peers)
    if [ "$n" = 1 ]; then pass window-exec-no-stray-peers
    else fail window-exec-no-stray-peers "NUM_PEERS=$n (expected 1: the children of system/popen are gone)"; fi
    touch "$D/go"
    if ! finish "$LAUNCH_PID" || ! has "$TMP/exec.out" '^DONE$'; then
        fail window-exec-program-ends "exit $REAPED_RC: $(tail_of "$TMP/exec.err")"
    else pass window-exec-program-ends; fi
    if [ -s "$TMP/exec.err" ]; then fail window-exec-stderr "unexpected: $(tail_of "$TMP/exec.err")"
    else pass window-exec-stderr; fi
fi

# ---- stdio and malloc, plain and fortified
if ! cc -std=gnu11 -O2 -D_FORTIFY_SOURCE=2 -I"$ROOT/include" -o "$TMP/winexec-fortify" \
    "$DR_SRC/winexec.c" -lpthread 2>"$TMP/cc-fortify.log"; then
    fail window-stdio "fortified build failed: $(head -c 300 "$TMP/cc-fortify.log")"
    exit 0
fi
for v in plain fortify; do
    label=window-stdio-$v
    prog=$TMP/winexec
    [ $v = fortify ] && prog=$TMP/winexec-fortify
    D=$TMP/$label.d
    mkdir -p "$D"
    launch_dr "$label" "$prog" stdio "$D"
    if ! finish "$LAUNCH_PID"; then
        fail "$label" "hung in the window (no exit within ${WAIT}s); last marker: $(grep '^@@' "$TMP/$label.err" | tail -n 1)"
        kill_all
        continue
    fi
    if has "$TMP/$label.out" '^PASS window-stdio-malloc$' && has "$TMP/$label.out" '^DONE$'; then
        pass "$label"
    else
        fail "$label" "exit $REAPED_RC: $(grep -E '^(FAIL|DONE)' "$TMP/$label.out" | tr '\n' '|') $(tail_of "$TMP/$label.err")"
    fi
done
exit 0
