#!/bin/bash
# DMTCP_DELAYRESUME_SCOPE=computation: a window holds every process of the
# computation (comp.c): the initiator's worker and both threads of a child
# process are held (positive sign: each waits in futex(2) on the plugin's or
# the engine's word) and none of their counters moves while held; a program
# started in the window (system) runs; after unblock every counter goes on.
# With one process the setting works as 'process' and prints nothing.
. "$(dirname "$0")/lib/common.sh"
need_bins
need_plugin
build comp notpresent
start_coord || { fail computation-scope "coordinator did not start"; exit 0; }
ITER=${STASIS_DR_COMP_ITER:-5}

DR_ENV=(DMTCP_DELAYRESUME_SCOPE=computation)
launch_dr comp "$TMP/comp" "$ITER"
if ! finish "$LAUNCH_PID"; then
    fail computation-scope "did not finish within ${WAIT}s: $(tail_of "$TMP/comp.err")"
else
    line=$(grep '^SUMMARY ' "$TMP/comp.out")
    echo "# computation-scope: $line"
    want="SUMMARY iterations=$ITER held=$ITER moved_in_window=0 resumed=$ITER spawned=$ITER errors=0"
    if [ "$REAPED_RC" != 0 ] || [ "$line" != "$want" ]; then
        fail computation-scope "exit $REAPED_RC, '$line' (want '$want'); stderr: $(tail_of "$TMP/comp.err")"
    else
        pass computation-scope
    fi
fi

launch_dr scope "$TMP/notpresent"
DR_ENV=()
if ! finish "$LAUNCH_PID" || [ "$REAPED_RC" != 0 ]; then
    fail computation-scope-one-process "exit $REAPED_RC: $(tail_of "$TMP/scope.err")"
elif ! has "$TMP/scope.out" '^RESULT block=1 unblock=0 enabled=1$'; then
    fail computation-scope-one-process "$(cat "$TMP/scope.out")"
elif [ -s "$TMP/scope.err" ]; then
    fail computation-scope-one-process "unexpected stderr: $(tail_of "$TMP/scope.err")"
else
    pass computation-scope-one-process
fi
exit 0
