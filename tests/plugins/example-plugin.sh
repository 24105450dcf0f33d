#!/usr/bin/env bash
# example-plugin.sh — the example plugin (examples/plugin/) receives every
# checkpoint event in order, in the right threads, and reads back after a
# restart the private section it saved in the image.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$ROOT/bin
TMP=$(mktemp -d "${TMPDIR:-/tmp}/stasis-plugin.XXXXXX") || exit 1
export XDG_RUNTIME_DIR=$TMP/xdg
mkdir -m 700 "$XDG_RUNTIME_DIR" "$TMP/ckpt"
PORT=
cleanup() {
    [ -n "$PORT" ] && timeout 10 "$BIN/dmtcp_command" -p "$PORT" -q >/dev/null 2>&1
    rm -rf "$TMP"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
wait_for() { local end=$((SECONDS + 30)); until "$@"; do ((SECONDS < end)) || return 1; sleep 0.05; done; }

cc -shared -fPIC -Wall -Werror -I"$ROOT/include" -o "$TMP/libexample.so" "$ROOT/examples/plugin/example-plugin.c" ||
    { fail plugin-build "the example plugin does not compile"; exit 0; }
cat > "$TMP/prog.c" <<'C'
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
cc -O1 -o "$TMP/prog" "$TMP/prog.c" -lpthread
"$BIN/dmtcp_coordinator" -p 0 --port-file "$TMP/port" --daemon --coord-logfile "$TMP/coord.log"
wait_for test -s "$TMP/port" || { fail plugin-coordinator "no coordinator"; exit 0; }
PORT=$(cat "$TMP/port")
(cd "$TMP" && exec "$BIN/dmtcp_launch" -p "$PORT" -j --ckptdir "$TMP/ckpt" --with-plugin "$TMP/libexample.so" \
    ./prog > launch.out 2> launch.err) &
LPID=$!
disown "$LPID"
wait_for test -e "$TMP/ready" || { fail plugin-launch "program never ready"; exit 0; }
"$BIN/dmtcp_command" -p "$PORT" -bc > /dev/null
"$BIN/dmtcp_command" -p "$PORT" -k > /dev/null
wait_for bash -c "! kill -0 $LPID 2>/dev/null" || true
(cd "$TMP" && exec "$BIN/dmtcp_restart" -p "$PORT" -j "$TMP"/ckpt/*.dmtcp > restart.out 2> restart.err) &
disown $!
wait_for grep -q 'RUNNING .*after restart' "$TMP/restart.err"

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
exit 0
