#!/bin/bash
# The restart path (restartwin.c): the program opens a window and holds it;
# the driver kills it (dmtcp_command -k) while the window is open and
# restarts it from the image.  In the restarted process block_resume returns
# DMTCP_AFTER_RESTART and every thread runs without an unblock; unblock then
# returns DMTCP_RESUME_ENOWINDOW (one warning line); a new window works.
. "$(dirname "$0")/lib/common.sh"
need_bins
need_plugin
build restartwin
start_coord || { fail restart "coordinator did not start"; exit 0; }

launch_dr rw "$TMP/restartwin"
if ! wait_for has "$TMP/rw.out" '^WINDOW'; then
    fail restart-window "no window opened: $(tail_of "$TMP/rw.out") $(tail_of "$TMP/rw.err")"
    exit 0
fi
if has "$TMP/rw.out" '^WINDOW parked=1 moved=0$'; then pass restart-first-window-parks
else fail restart-first-window-parks "$(grep '^WINDOW' "$TMP/rw.out")"; fi
images=("$TMP"/ckpt-rw/ckpt_restartwin_*.dmtcp)
kill_all
if [ ${#images[@]} != 1 ] || [ ! -f "${images[0]}" ]; then
    fail restart "expected one image in ckpt-rw, found: $(ls "$TMP/ckpt-rw")"
    exit 0
fi
bg "$BIN/dmtcp_restart" -p "$PORT" -j "${images[0]}" >"$TMP/rw2.out" 2>"$TMP/rw2.err"
RP=$BG_PID
if ! finish "$RP"; then
    fail restart "the restarted program did not end within ${WAIT}s: $(tail_of "$TMP/rw2.out") $(tail_of "$TMP/rw2.err")"
    kill_all
    exit 0
fi
report "$TMP/rw2.out"
if ! has "$TMP/rw2.out" '^DONE$' || [ "$REAPED_RC" != 0 ]; then
    fail restart-program-ends "exit $REAPED_RC: $(tail_of "$TMP/rw2.out") $(tail_of "$TMP/rw2.err")"
else pass restart-program-ends; fi
# exactly one warning line (the ENOWINDOW), before the marker
n=$(sed -n '/^@@ after-restart-unblock/q;p' "$TMP/rw2.err" | grep -vc '^$')
m=$(sed -n '/^@@ after-restart-unblock/,$p' "$TMP/rw2.err" | grep -vc '^@@')
if [ "$n" = 1 ] && [ "$m" = 0 ]; then pass restart-warning-lines
else fail restart-warning-lines "expected 1 warning line (ENOWINDOW) and none after: $(tr '\n' '|' <"$TMP/rw2.err")"; fi
exit 0
