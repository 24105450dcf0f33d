#!/bin/bash
# The same binary (notpresent.c) without the engine (plain ./prog) and
# under the engine without the plugin (dmtcp_launch without --with-plugin):
# block_resume and unblock_resume both return DMTCP_NOT_PRESENT (3), nothing
# is printed on stderr, the program ends normally.  With the plugin: 1 and 0.
. "$(dirname "$0")/lib/common.sh"
need_bins
need_plugin
build notpresent
start_coord || { fail not-present "coordinator did not start"; exit 0; }

check() { # LABEL EXPECTED-LINE
    local label=$1 want=$2
    if ! finish "$LAUNCH_PID"; then
        fail "$label" "did not end within ${WAIT}s"
    elif [ "$REAPED_RC" != 0 ]; then
        fail "$label" "exited $REAPED_RC: $(tail_of "$TMP/$label.err")"
    elif ! has "$TMP/$label.out" "^$want\$"; then
        fail "$label" "printed '$(grep RESULT "$TMP/$label.out")', expected '$want'"
    elif [ -s "$TMP/$label.err" ]; then
        fail "$label" "unexpected stderr: $(tail_of "$TMP/$label.err")"
    else
        pass "$label"
    fi
}

bg "$TMP/notpresent" >"$TMP/not-present-plain-program.out" 2>"$TMP/not-present-plain-program.err"
LAUNCH_PID=$BG_PID
check not-present-plain-program "RESULT block=3 unblock=3 enabled=0"
mv "$TMP/not-present-plain-program.out" "$TMP/x" && sed 's/^/# plain .\/prog: /' "$TMP/x"
launch_noplugin not-present-engine-without-plugin "$TMP/notpresent"
check not-present-engine-without-plugin "RESULT block=3 unblock=3 enabled=1"
launch_dr not-present-engine-with-plugin "$TMP/notpresent"
check not-present-engine-with-plugin "RESULT block=1 unblock=0 enabled=1"
exit 0
