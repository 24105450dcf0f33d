#!/bin/bash
# Windows opened back to back (backtoback.c): block_resume, unblock, and
# block_resume again at once, 20 rounds, 8 busy workers on fewer CPUs, so
# some threads released by one unblock have not yet left the parked state
# when the next window is asked for.  Each round must return
# DMTCP_AFTER_CHECKPOINT and 0, and the program must end; the threads of
# one window must not stay parked for the next (which would leave the
# checkpoint waiting for them, and them for the checkpoint).
. "$(dirname "$0")/lib/common.sh"
need_bins
need_plugin
build backtoback
start_coord || { fail back-to-back "coordinator did not start"; exit 0; }

# stack_summary PID: where each thread of PID waits (for a FAIL message)
stack_summary() {
    local t out=
    for t in /proc/"$1"/task/*; do
        out+="$(cat "$t/comm" 2>/dev/null):$(cat "$t/wchan" 2>/dev/null) "
    done
    echo "$out"
}

for gap in 0 1; do
    label=back-to-back-gap${gap}ms
    launch_dr "$label" "$TMP/backtoback" 20 8 "$gap"
    if ! wait_for dead "$LAUNCH_PID"; then
        prog=$(pgrep -P "$LAUNCH_PID" 2>/dev/null | head -n 1)
        [ -n "$prog" ] || prog=$LAUNCH_PID
        st=$(cmd -s 2>&1 | tr '\n' ' ')
        fail "$label" "hung after $(grep -c '^round' "$TMP/$label.out") rounds (no exit within ${WAIT}s); threads: $(stack_summary "$prog"); coordinator: $st"
        kill_all
        continue
    fi
    reap "$LAUNCH_PID"
    line=$(grep '^SUMMARY' "$TMP/$label.out")
    if [ "$REAPED_RC" = 0 ] && [ "$line" = "SUMMARY rounds=20 bad=0 all-ran=1" ]; then
        pass "$label"
    else
        fail "$label" "exit $REAPED_RC, '$line': $(grep -v '^round' "$TMP/$label.out" | tail -n 3 | tr '\n' '|') $(tail_of "$TMP/$label.err")"
    fi
done
exit 0
