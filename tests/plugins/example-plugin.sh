#!/usr/bin/env bash
# example-plugin.sh — the example plugin (examples/plugin/) receives every
# checkpoint event in order, in the right threads, and reads back after a
# restart the private section it saved in the image.  Every command's exit
# status is checked; every wait is bounded (tests/lib/common.sh).
. "$(dirname "$0")/lib/common.sh"
need_bins
need_cc
compile "$TMP/libexample.so" -shared -fPIC -Wall -Werror -I"$ROOT/include" "$ROOT/examples/plugin/example-plugin.c"
cat >"$TMP/prog.c" <<'C'
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
static void *spin(void *a) { (void)a; for (;;) usleep(1000); return NULL; }
int main(void) {
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, spin, NULL);
    FILE *f = fopen("ready", "w"); fclose(f);
    for (;;) pause();
}
C
compile "$TMP/prog" -O1 "$TMP/prog.c" -lpthread
start_coord || { fail plugin-coordinator "the coordinator did not start"; exit 0; }
mkdir -p "$TMP/ckpt"

bg "$BIN/dmtcp_launch" -p "$PORT" -j --ckptdir "$TMP/ckpt" --with-plugin "$TMP/libexample.so" ./prog \
    >"$TMP/launch.out" 2>"$TMP/launch.err"
LPID=$BG_PID
wait_for test -e "$TMP/ready" || { fail plugin-launch "program never ready: $(tail -c 300 "$TMP/launch.err")"; exit 0; }
out=$(cmd -bc 2>&1) || { fail plugin-checkpoint "dmtcp_command -bc failed: $out"; exit 0; }
{ # stderr off: bash reports the background job -k kills ("Killed …")
    out=$(cmd -k 2>&1) || { fail plugin-checkpoint "dmtcp_command -k failed: $out"; exit 0; }
    finish "$LPID" || { fail plugin-checkpoint "the program did not exit on -k"; exit 0; }
    wait_for no_peers || { fail plugin-checkpoint "the coordinator still counts the killed program"; exit 0; }
} 2>/dev/null
img=$(ls "$TMP"/ckpt/*.dmtcp 2>/dev/null)
[ "$(wc -w <<<"$img")" = 1 ] || { fail plugin-checkpoint "expected one image, found: $img"; exit 0; }

bg "$BIN/dmtcp_restart" -p "$PORT" -j "$img" >"$TMP/restart.out" 2>"$TMP/restart.err"
RPID=$BG_PID
if ! wait_for grep -q 'RUNNING .*after restart' "$TMP/restart.err"; then
    dead "$RPID" && reap "$RPID"
    fail plugin-restart "the restarted program never reported RUNNING (dmtcp_restart: ${REAPED_RC:-running}): $(tail -c 300 "$TMP/restart.err")"
    exit 0
fi

# first appearance of each event, in order (THREAD_RESUME lines come from
# every thread and may interleave with RUNNING)
events() { grep -o '^\[example-plugin\] [A-Z_]*' "$1" | awk '!seen[$2]++ {print $2}' | xargs; }
# after RESUME the threads are released: their THREAD_RESUME and the
# manager's RUNNING run at the same time, in either order
want="INIT PTHREAD_START PRESUSPEND PRECHECKPOINT RESUME"
norm=$(events "$TMP/launch.err")
if [ "$norm" = "$want THREAD_RESUME RUNNING" ] || [ "$norm" = "$want RUNNING THREAD_RESUME" ]; then
    pass plugin-events-checkpoint
else
    fail plugin-events-checkpoint "got '$norm', want '$want' then THREAD_RESUME and RUNNING"
fi
# PTHREAD_START comes for the program's two threads, not the engine's own
n=$(grep -c 'PTHREAD_START ' "$TMP/launch.err")
if [ "$n" = 2 ]; then pass plugin-pthread-start-program-threads
else fail plugin-pthread-start-program-threads "$n PTHREAD_START lines for the program's 2 threads"; fi
n=$(grep -c 'THREAD_RESUME ' "$TMP/launch.err")
if [ "$n" -ge 3 ]; then pass plugin-thread-resume-per-thread; else fail plugin-thread-resume-per-thread "$n THREAD_RESUME lines for 3 threads"; fi
norm=$(events "$TMP/restart.err")
if [ "$norm" = "RESTART THREAD_RESUME RUNNING" ] || [ "$norm" = "RESTART RUNNING THREAD_RESUME" ]; then
    pass plugin-events-restart
else
    fail plugin-events-restart "got '$norm'"
fi
if grep -q 'RESTART .*after restart (checkpoints seen: 1)' "$TMP/restart.err"; then
    pass plugin-memory-survives
else
    fail plugin-memory-survives "the plugin's counter was not 1 after restart"
fi
if grep -q 'its section in the image: saved at checkpoint 1' "$TMP/restart.err"; then
    pass plugin-section-roundtrip
else
    fail plugin-section-roundtrip "dmtcp_plugin_load did not return what dmtcp_plugin_save stored"
fi
if grep -q 'passed global barrier example.saved' "$TMP/launch.err" &&
    grep -q "plugin barrier 'example.saved' (global) released" "$TMP/coord.log"; then
    pass plugin-global-barrier
else
    fail plugin-global-barrier "the global barrier at PRECHECKPOINT was not passed through the coordinator"
fi
if grep -q 'passed local barrier example.restored' "$TMP/restart.err" &&
    grep -q "plugin barrier 'example.restored' (local) released" "$TMP/coord.log"; then
    pass plugin-local-barrier
else
    fail plugin-local-barrier "the local barrier at RESTART was not passed through the coordinator"
fi
if ! out=$(cmd -k 2>&1); then fail plugin-restarted-killed "dmtcp_command -k failed: $out"
elif ! { finish "$RPID" && wait_for no_peers; } 2>/dev/null; then
    fail plugin-restarted-killed "the restarted program outlived -k"
else pass plugin-restarted-killed; fi
exit 0
