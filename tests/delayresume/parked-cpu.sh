#!/bin/bash
# Parked threads use no CPU (cpu.c): 8 busy threads; once all are parked
# (each waits in futex on the plugin's word: a positive sign, seen in
# /proc/self/task/*/syscall), the process's CPU time over a 1 s window is
# far below its busy rate: under 10% of one core, while running it used
# more than half a core (a behaviour check, not a speed measurement;
# getrusage(RUSAGE_SELF) in the program), and no worker's counter moved.
. "$(dirname "$0")/lib/common.sh"
need_bins
need_plugin
build cpu
start_coord || { fail parked-cpu "coordinator did not start"; exit 0; }

launch_dr cpu "$TMP/cpu" 8 1000 500
if ! finish "$LAUNCH_PID" || [ "$REAPED_RC" != 0 ]; then
    fail parked-cpu "program did not end normally (exit $REAPED_RC): $(tail_of "$TMP/cpu.err")"
    exit 0
fi
line=$(grep '^CPU ' "$TMP/cpu.out")
echo "# $line (CPU seconds per wall second)"
read -r busy win parked moved u went < <(sed -n 's/^CPU busy=\([0-9.]*\) window=\([0-9.]*\) wall=[0-9.]* parked=\([01]\) moved=\([0-9]*\) unblock=\([-0-9]*\) went=\([0-9]\).*/\1 \2 \3 \4 \5 \6/p' <<<"$line")
if [ -z "$busy" ]; then fail parked-cpu "unexpected output: $line"; exit 0; fi
if ! awk -v b="$busy" 'BEGIN { exit !(b > 0.5) }'; then
    fail parked-cpu-busy-rate "the 8 threads used only $busy CPU s/s while running (expected > 0.5): cannot judge"
elif [ "$parked" = 1 ] && awk -v w="$win" 'BEGIN { exit !(w < 0.10) }' && [ "$moved" = 0 ] && [ "$u" = 0 ] &&
    [ "$went" = 1 ]; then
    pass parked-cpu
else
    fail parked-cpu "$line"
fi
exit 0
