#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions run indirectly, by wait_for and run_one
# run.sh — runs the scenario programs (tests/scenarios/*.c, built by make into
# build/tests/scenarios/) in each mode, and prints one line per scenario and
# mode: "PASS name/mode" or "FAIL name/mode: reason (log: dir)".  It builds
# nothing and always exits 0; the caller (tests/run-all.sh) counts the lines.
#
# Usage: tests/scenarios/run.sh [NAME...]      (default: every built scenario)
#
# The modes (scenario.h describes the program's side of the protocol):
#   plain               no engine: run, wait for `ready`, touch `check`.
#   continue            dmtcp_launch, wait for `ready`, dmtcp_command -bc,
#                       touch `check`; the same process must print PASS.
#   restart             launch, ready, -bc, -k, restart the image in the
#                       background, wait until -s shows RUNNING=yes and
#                       NUM_PEERS=1, touch `check`; the restarted process must
#                       print PASS (on the output given to dmtcp_restart).
#   restart2            restart, then a second restart from the same image
#                       (with `check` removed in between); both must PASS.
#   ckpt-after-restart  launch, ready, -bc, -k, restart, -bc again, -k,
#                       restart from the new image, touch `check`, PASS.
#   generations         the same with five checkpoint/kill/restart rounds
#                       after the first (only for scenarios that ask for it).
#   forked              continue, with dmtcp_launch --forked-ckpt: the image
#                       is written by a copy-on-write child while the program
#                       runs on.
#   forked-restart      ckpt-after-restart with --forked-ckpt (the restarted
#                       process checkpoints forked too).
#   raw                 restart, with dmtcp_launch --no-gzip (uncompressed
#                       image); every other mode uses the default, compressed.
#   lazy                restart with dmtcp_restart --lazy (memory loaded on
#                       first touch).  Where userfaultfd cannot serve faults
#                       taken in the kernel (unprivileged, by default) the
#                       restart must say it loads everything first, the
#                       scenario must still pass that way, and the line is
#                       "SKIP name/lazy: <what dmtcp_restart said>": lazy
#                       loading itself was not tested.
#   incremental         dmtcp_launch --incremental, three checkpoints (a full
#                       image, then images of what changed, chained), -k,
#                       restart from the newest image of the chain.
# Before touching `check` the driver writes the mode's name to $SCEN_DIR/mode.
#
# Metadata, as comment lines in the scenario's source:
#   // SCEN_LAUNCH_OPTS: --ckpt-signal 36    extra dmtcp_launch options
#   // SCEN_ARGS: a b c                      arguments for the program
#   // SCEN_MODES: plain continue restart    the modes to run (default: the
#                                            first five above)
#   // SCEN_STDIN: fifo                      stdin is a FIFO (opened read-write, so
#       never at end of file) instead of /dev/null, for the launched, plain
#       and restarted program alike; right after touching `check` the driver
#       writes the line SCEN_STDIN_LINE (scenario.h) into it.
#   // SCEN_SELF_CHECKPOINT: yes             the program checkpoints itself
#       with dmtcp_checkpoint() before it creates `ready`, so the driver skips
#       the first -bc; the image exists once `ready` does, and every mode then
#       goes on as usual (continue, or -k and restart, ...).
#
# Every scenario run gets a fresh directory (mktemp -d under $TMPDIR), its own
# coordinator and its own XDG_RUNTIME_DIR (where the coordinator keeps its
# secret), so runs are isolated and work as an unprivileged user.  Everything
# started for a run is killed at its end: `dmtcp_command -q`, then any process
# carrying the run's STASIS_SCEN_RUN marker in its environment, and the
# background processes the driver started, all by pid.  Passing runs are
# deleted; failing ones are kept (moved under $STASIS_TEST_KEEP if set) and
# the tail of their logs is printed, indented.
#
# Environment: STASIS_TEST_FILTER (extended regex matched against
# "name/mode"), STASIS_TEST_KEEP, STASIS_TEST_TIMEOUT, STASIS_BIN — see
# driver-lib.sh, which holds the machinery shared with foreign-programs.sh.

set -u
. "$(dirname "${BASH_SOURCE[0]}")/driver-lib.sh"

SRC=$ROOT/tests/scenarios
BUILT=$ROOT/build/tests/scenarios
DEFAULT_MODES="plain continue restart restart2 ckpt-after-restart forked forked-restart raw lazy incremental"
GENERATIONS=5
STDIN_LINE='stasis scenario: the line written after check' # = SCEN_STDIN_LINE in scenario.h

ready_or_dead() { [ -e "$RUN_DIR/scen/ready" ] || dead "$1"; }

# wait_ready PID NAME: the program has created `ready`.
wait_ready() {
    wait_for "$TIMEOUT" "$2 to create ready" ready_or_dead "$1" || return 1
    [ -e "$RUN_DIR/scen/ready" ] && return 0
    reap "$1"
    fail_step "$2 $(exit_text "$REAPED_RC") before it was ready (see $2.err)"
}

# check_and_expect PID NAME: tells the program to check, then expects its
# PASS line on NAME.out and exit status 0.
check_and_expect() {
    local pid=$1 name=$2 rc failline
    echo "$MODE" >"$RUN_DIR/scen/mode"
    touch "$RUN_DIR/scen/check"
    log "touched check"
    if [ -n "$STDIN_FIFO" ]; then # read-write: never waits for a reader
        printf '%s\n' "$STDIN_LINE" 1<>"$STDIN_FIFO"
        log "wrote a line to the stdin FIFO"
    fi
    wait_exit "$pid" "$name" "$FINISH_TIMEOUT" || return 1
    rc=$REAPED_RC
    failline=$(grep -m1 '^FAIL' "$RUN_DIR/$name.out")
    [ -z "$failline" ] || fail_step "$name: ${failline#FAIL: }" || return 1
    ((rc == 0)) || fail_step "$name $(exit_text "$rc") (see $name.err)" || return 1
    grep -qx PASS "$RUN_DIR/$name.out" || fail_step "$name exited 0 without printing PASS"
}

# launch: a coordinator and the scenario under dmtcp_launch, ready, with its
# first image written (by -bc, or by the program itself).
launch() {
    start_coordinator || return 1
    start_bg launch "$BIN/dmtcp_launch" -p "$PORT" -j --ckptdir "$RUN_DIR/ckpt" \
        "${MODE_OPTS[@]}" "${LAUNCH_OPTS[@]}" "$SCEN_BIN" "${SCEN_ARGS[@]}"
    LAUNCH_PID=$LAST_PID
    wait_ready "$LAUNCH_PID" launch || return 1
    wait_running "$LAUNCH_PID" launch || return 1
    if [ "$SELF_CKPT" = no ]; then
        checkpoint || return 1
    fi
    find_new_image ""
}

# ---- the modes -------------------------------------------------------------
mode_plain() {
    start_bg plain "$SCEN_BIN" "${SCEN_ARGS[@]}"
    wait_ready "$LAST_PID" plain || return 1
    check_and_expect "$LAST_PID" plain
}

mode_continue() {
    launch || return 1
    check_and_expect "$LAUNCH_PID" launch
}

mode_restart() {
    launch || return 1
    kill_computation "$LAUNCH_PID" || return 1
    restart_image restart1 || return 1
    check_and_expect "$LAST_PID" restart1
}

mode_restart2() {
    mode_restart || return 1
    rm -f "$RUN_DIR/scen/check" "$RUN_DIR/scen/mode"
    wait_for "$TIMEOUT" "the coordinator to show NUM_PEERS=0 after the first restart ended" \
        status_is 0 || return 1
    restart_image restart2 || return 1
    check_and_expect "$LAST_PID" restart2
}

# mode_generations N: N rounds of restart, -bc, -k; then a last restart.
mode_generations() {
    local n=$1 i pid before
    launch || return 1
    kill_computation "$LAUNCH_PID" || return 1
    for ((i = 1; i <= n; i++)); do
        restart_image "gen$i" || return 1
        pid=$LAST_PID
        before=$(image_list)
        checkpoint || return 1
        kill_computation "$pid" || return 1
        find_new_image "$before" || return 1
    done
    restart_image "gen$i" || return 1
    check_and_expect "$LAST_PID" "gen$i"
}

mode_lazy() {
    launch || return 1
    kill_computation "$LAUNCH_PID" || return 1
    RESTART_OPTS=(--lazy)
    restart_image restart1 || return 1
    local eager
    eager=$(grep -m1 "loading everything first" "$RUN_DIR/restart1.err")
    if grep -q "lazy restart: [0-9]* MiB" "$RUN_DIR/restart1.err"; then
        log "lazy restart active"
    elif [ -z "$eager" ]; then
        fail_step "dmtcp_restart --lazy said neither that it loads lazily nor that it cannot" || return 1
    fi
    check_and_expect "$LAST_PID" restart1 || return 1
    [ -z "$eager" ] || SKIP_WHY="not lazy here (the eager restart passed): ${eager#dmtcp_restart: }"
}

mode_incremental() {
    launch || return 1
    checkpoint || return 1
    checkpoint || return 1
    log "chain: $(cd "$RUN_DIR/ckpt" && echo ckpt_*.dmtcp)"
    find_new_image "" || return 1 # the newest checkpoint's images (a child may have ended since the first)
    kill_computation "$LAUNCH_PID" || return 1
    restart_image restart1 || return 1
    check_and_expect "$LAST_PID" restart1
}

run_mode() {
    log "scenario $NAME, mode $MODE, binary $SCEN_BIN"
    case $STDIN_KIND in
    '') ;;
    fifo)
        STDIN_FIFO=$RUN_DIR/stdin
        mkfifo -m 600 "$STDIN_FIFO" || fail_step "cannot create the FIFO $STDIN_FIFO" || return 1
        ;;
    *) fail_step "unknown SCEN_STDIN '$STDIN_KIND' (expected: fifo)" || return 1 ;;
    esac
    MODE_OPTS=()
    case $MODE in
    forked | forked-restart) MODE_OPTS=(--forked-ckpt) ;;
    raw) MODE_OPTS=(--no-gzip) ;;
    incremental) MODE_OPTS=(--incremental) ;;
    esac
    case $MODE in
    plain) mode_plain ;;
    continue) mode_continue ;;
    restart) mode_restart ;;
    restart2) mode_restart2 ;;
    ckpt-after-restart | forked-restart) mode_generations 1 ;;
    forked) mode_continue ;;
    raw) mode_restart ;;
    incremental) mode_incremental ;;
    lazy) mode_lazy ;;
    generations) mode_generations "$GENERATIONS" ;;
    *) fail_step "unknown mode '$MODE' in SCEN_MODES" ;;
    esac
}

# meta NAME KEY / read_meta NAME: the scenario's metadata comments.
meta() { sed -n "s|^// $2:[[:space:]]*||p" "$SRC/$1.c" 2>/dev/null | head -n 1 | tr -d '\r'; }
read_meta() {
    local v
    read -ra LAUNCH_OPTS <<<"$(meta "$1" SCEN_LAUNCH_OPTS)"
    read -ra SCEN_ARGS <<<"$(meta "$1" SCEN_ARGS)"
    v=$(meta "$1" SCEN_MODES)
    MODES=${v:-$DEFAULT_MODES}
    STDIN_KIND=$(meta "$1" SCEN_STDIN)
    v=$(meta "$1" SCEN_SELF_CHECKPOINT)
    SELF_CKPT=no
    [ "$v" = yes ] && SELF_CKPT=yes
}

# ---- main -------------------------------------------------------------------
if (($# > 0)); then
    names=("$@")
else
    names=()
    for f in "$BUILT"/*; do
        [ -f "$f" ] && [ -x "$f" ] && names+=("${f##*/}")
    done
    ((${#names[@]} > 0)) || echo "FAIL scenarios: nothing built in $BUILT (run: make tests)"
fi

for NAME in "${names[@]}"; do
    SCEN_BIN=$BUILT/$NAME
    read_meta "$NAME"
    for MODE in $MODES; do
        selected "$NAME/$MODE" || continue
        if [ ! -x "$SCEN_BIN" ]; then
            echo "FAIL $NAME/$MODE: $SCEN_BIN is not built (make $SCEN_BIN)"
        elif [ "$MODE" != plain ] && ! engine_built; then
            echo "SKIP $NAME/$MODE: the dmtcp_* commands are not built in $BIN"
        else
            run_one "$NAME/$MODE" run_mode
        fi
    done
done
exit 0
