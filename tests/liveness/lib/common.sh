# shellcheck shell=bash disable=SC2317,SC2034 # functions run indirectly (wait_for, trap)
# common.sh — sourced by tests/liveness/*.sh: tests/lib/common.sh (a private
# temporary directory and XDG_RUNTIME_DIR, a coordinator, background
# processes, PASS/FAIL/SKIP lines), and here: the test program
# (prog-stuck.c) and the hang plugin (hang-plugin.c) built into $TMP, and
# launching the program.  Waits are bounded ($WAIT s) only to avoid hangs;
# nothing asserts on timing.

# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../lib/common.sh"
init_script liveness
PROG=$TMP/prog-stuck
HANG_PLUGIN=$TMP/libhang.so

# build_prog: $PROG, or SKIP the script
build_prog() {
    need_cc
    compile "$PROG" -O1 "$ROOT/tests/liveness/prog-stuck.c" -lpthread -ldl
}

# build_hang_plugin: $HANG_PLUGIN
build_hang_plugin() {
    compile "$HANG_PLUGIN" -shared -fPIC -O1 -I "$ROOT/include" "$ROOT/tests/liveness/hang-plugin.c"
}

# last_tick FILE: the counter of the last "tick" line (0 if none)
last_tick() { awk '/^tick [0-9]+ / {n = $2} END {print n + 0}' "$1" 2>/dev/null; }
tick_at_least() { [ "$(last_tick "$1")" -ge "$2" ]; }

# advancing FILE: the counter goes up by 3 more (the program runs)
advancing() {
    local t
    t=$(last_tick "$1")
    wait_for tick_at_least "$1" $((t + 3))
}

# launch NAME MODE [dmtcp_launch options...]: prog-stuck MODE under
# checkpoint control, in $TMP/NAME (its working directory), output in
# NAME.out / NAME.err there; sets LAUNCH_PID; fails unless it ticks
launch() {
    local name=$1 mode=$2
    shift 2
    mkdir -p "$TMP/$name"
    bg sh -c 'cd "$1" && shift && exec "$@"' sh "$TMP/$name" \
        "$BIN/dmtcp_launch" -p "$PORT" -j --ckptdir "$TMP/$name" "$@" "$PROG" "$mode" \
        >"$TMP/$name.out" 2>"$TMP/$name.err"
    LAUNCH_PID=$BG_PID
    if ! wait_for tick_at_least "$TMP/$name.out" 2; then
        WHY="launched program never ticked: $(tail -c 300 "$TMP/$name.err")"
        return 1
    fi
}

# status_running: the coordinator says RUNNING=yes (no checkpoint in progress)
status_running() { cmd -s 2>/dev/null | grep -q 'RUNNING=yes'; }
status_busy() { cmd -s 2>/dev/null | grep -q 'RUNNING=no'; }

# killed NAME [PID]: `dmtcp_command -k`, then PID (default $LAUNCH_PID)
# must die and the coordinator be left with no process; PASS/FAIL NAME.
# A PID that outlives the wait is killed here, so nothing hangs.  (stderr
# is off while it waits: bash reports each background job killed.)
killed() {
    local pid=${2:-$LAUNCH_PID} out
    out=$(cmd -k 2>&1) || { fail "$1" "dmtcp_command -k failed: $out"; return 1; }
    if ! wait_for dead "$pid" 2>/dev/null; then
        fail "$1" "process $pid still alive after -k: $(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null)"
        { kill -9 "$pid"; reap "$pid"; } 2>/dev/null
        return 1
    fi
    { reap "$pid"; wait_for no_peers; } 2>/dev/null
    pass "$1"
}
