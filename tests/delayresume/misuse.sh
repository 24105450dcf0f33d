#!/bin/bash
# Every misuse of the delayed-resume API (misuse.c): unblock from a thread
# that is not the initiator (EPERM), unblock with no window (ENOWINDOW),
# block while a window is open (EOPEN), block from a signal handler
# (ESIGNAL, handlers installed with sigaction and with signal, run in the
# main thread and in another), two threads calling block at once (EBUSY:
# three rounds made deterministic with a dmtcp_disable_ckpt() holder, five
# with just a barrier, where both may also succeed one after the other).
# Each returns its code, prints exactly one warning line per error on
# stderr, and nothing hangs or aborts: the program ends normally.
. "$(dirname "$0")/lib/common.sh"
need_bins
need_plugin
build misuse
start_coord || { fail misuse "coordinator did not start"; exit 0; }

launch_dr misuse "$TMP/misuse"
if ! finish "$LAUNCH_PID"; then
    fail misuse "hung: no exit within ${WAIT}s; last stdout: $(tail_of "$TMP/misuse.out"); stderr: $(tail_of "$TMP/misuse.err")"
fi
report "$TMP/misuse.out"
grep '^# ' "$TMP/misuse.out"
if ! has "$TMP/misuse.out" '^DONE$'; then
    fail misuse-program-goes-on "did not reach the end (exit $REAPED_RC): $(tail_of "$TMP/misuse.err")"
elif [ "$REAPED_RC" != 0 ]; then
    fail misuse-program-goes-on "exited $REAPED_RC"
else
    pass misuse-program-goes-on
fi

# one warning line per error, per case
awk '
    /^@@ begin / { name = $3; n = 0; inside = 1; text = ""; next }
    /^@@ end / { split($4, w, "="); inside = 0
        if (n != w[2] + 0) printf "FAIL %s-warning-lines: %d warning lines for %d errors: %s\n", name, n, w[2], text
        else printf "PASS %s-warning-lines\n", name
        next }
    inside { n++; text = text $0 " | " }
    !inside && !/^@@/ { printf "FAIL misuse-stray-stderr: %s\n", $0 }
' "$TMP/misuse.err"
exit 0
