# shellcheck shell=bash disable=SC2317 # functions run indirectly, by wait_for and trap
# driver-lib.sh — what run.sh and foreign-programs.sh share: one isolated
# "run" at a time (a directory, a coordinator, the processes started for it),
# the steps that drive the dmtcp_* commands, and the cleanup that kills and
# removes everything a run started.  Sourced, not executed.
#
# A step returns non-zero after setting WHY (through fail_step) to a reason
# that names what was waited for or which command failed; run_one turns that
# into the one "PASS name/mode" or "FAIL name/mode: reason (log: dir)" line.
#
# Environment: STASIS_BIN (the dmtcp_* commands; default bin/ of the tree),
# STASIS_TEST_FILTER (extended regex matched against "name/mode"),
# STASIS_TEST_KEEP (directory to move failing runs to; otherwise they stay
# where they are), STASIS_TEST_TIMEOUT (seconds for each wait, default 60;
# waits are bounded only to avoid hangs — nothing here asserts timing).

# ROOT, BIN and the process helpers (alive, dead, poll, reap, close_inherited_fds)
# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
TIMEOUT=${STASIS_TEST_TIMEOUT:-60}
# shellcheck disable=SC2034 # used by the scripts that source this
FINISH_TIMEOUT=$((TIMEOUT * 2)) # longer than a scenario's own waits
FILTER=${STASIS_TEST_FILTER:-}

# DMTCP_* settings of the caller would leak into the runs; each run sets its own.
clean_env '^DMTCP_'

# ---- the current run ----------------------------------------------------------
RUN_DIR=''    # its directory: scen/ (SCEN_DIR), ckpt/, xdg/, logs
RUN_ENV=()    # env prefix for everything started for the run
PORT=''       # its coordinator's port
STDIN_FIFO='' # the FIFO programs get as stdin (run.sh: SCEN_STDIN: fifo), or ''
PIDS=()       # background processes started and not yet reaped
LAST_PID=''   # set by start_bg
REAPED_RC=0   # set by reap
IMAGE=''      # the (first) image the next restart uses
IMAGES=()     # every image the next restart uses
WHY=''        # reason for the failure, set by the step that failed

log() { echo "$(date +%T.%N | cut -c1-12) $*" >>"$RUN_DIR/driver.log"; }

fail_step() {
    WHY=$*
    log "FAILED: $*"
    return 1
}

# selected NAME/MODE: the filter lets it run.
selected() { [ -z "$FILTER" ] || [[ $1 =~ $FILTER ]]; }

engine_built() {
    local c
    for c in dmtcp_launch dmtcp_restart dmtcp_command dmtcp_coordinator; do
        [ -x "$BIN/$c" ] || return 1
    done
}

# wait_for SECONDS WHAT CMD...: polls CMD until it succeeds, or fails.
# (It replaces the suites' wait_for CMD... of tests/lib/common.sh.)
# On a time-out, what the run's processes are doing goes to stuck.err.
wait_for() {
    local secs=$1 what=$2
    shift 2
    poll "$secs" "$@" || { dump_stuck; fail_step "timed out after ${secs}s waiting for $what"; }
}

# dump_stuck: one line per thread of every process of this run still there
# (state, kernel wait channel, and where gdb finds it: innermost frames
# first), into $RUN_DIR/stuck.err, which the failure's log tails show.
dump_stuck() {
    local p t bt
    for p in $(marked_pids); do
        for t in /proc/"$p"/task/*; do
            printf '%s/%s %s %s %s\n' "$p" "${t##*/}" "$(cat "$t/comm" 2>/dev/null)" \
                "$(sed -n 's/^State:\t//p' "$t/status" 2>/dev/null)" "$(cat "$t/wchan" 2>/dev/null)"
        done
        if command -v gdb >/dev/null; then
            bt=$(timeout 20 gdb -batch -nx -p "$p" -ex 'thread apply all bt 12' 2>/dev/null |
                sed -n 's/^#[0-9]* *\(0x[0-9a-f]* in \)\{0,1\}\([^ ]*\) .*/\2/p; s/^Thread .*(LWP \([0-9]*\)).*/| \1:/p' | tr '\n' ' ')
            printf '%s bt: %s\n' "$p" "$bt"
        fi
    done >"$RUN_DIR/stuck.err" 2>&1
}

exit_text() {
    local rc=$1
    if ((rc > 128)); then
        echo "was killed by signal $((rc - 128)) ($(kill -l $((rc - 128)) 2>/dev/null))"
    else
        echo "exited with status $rc"
    fi
}

# wait_exit PID NAME SECONDS: waits until PID exits and reaps it.
wait_exit() {
    wait_for "$3" "$2 to finish" dead "$1" || return 1
    reap "$1"
    log "$2 $(exit_text "$REAPED_RC")"
}

# start_bg NAME CMD...: starts CMD in the background, in scen/, with stdin
# from /dev/null (or, when STDIN_FIFO names a FIFO, that FIFO opened
# read-write, so neither side ever sees end of file) and output to
# NAME.out / NAME.err; sets LAST_PID.
start_bg() {
    local name=$1
    shift
    if [ -n "$STDIN_FIFO" ]; then
        (cd "$RUN_DIR/scen" && close_inherited_fds && exec "${RUN_ENV[@]}" "$@") \
            0<>"$STDIN_FIFO" >"$RUN_DIR/$name.out" 2>"$RUN_DIR/$name.err" &
    else
        (cd "$RUN_DIR/scen" && close_inherited_fds && exec "${RUN_ENV[@]}" "$@") \
            </dev/null >"$RUN_DIR/$name.out" 2>"$RUN_DIR/$name.err" &
    fi
    LAST_PID=$!
    PIDS+=("$LAST_PID")
    log "started $name (pid $LAST_PID): $(printf "%q " "$@")"
}

# command_run ARGS...: dmtcp_command against the run's coordinator.
command_run() {
    local rc
    log "dmtcp_command -p $PORT $*"
    "${RUN_ENV[@]}" timeout -k 5 "$TIMEOUT" "$BIN/dmtcp_command" -p "$PORT" "$@" \
        </dev/null >>"$RUN_DIR/commands.log" 2>&1
    rc=$?
    log "  exit $rc"
    return $rc
}

# status_is N [yes|no]: `dmtcp_command -s` shows NUM_PEERS=N (and RUNNING=).
status_is() {
    local out
    out=$("${RUN_ENV[@]}" timeout -k 5 10 "$BIN/dmtcp_command" -p "$PORT" -s </dev/null 2>&1)
    grep -Eq "^[[:space:]]*NUM_PEERS=$1[[:space:]]*\$" <<<"$out" || return 1
    [ -z "${2:-}" ] || grep -Eq "^[[:space:]]*RUNNING=$2[[:space:]]*\$" <<<"$out"
}

port_written() {
    local p
    p=$(tr -d '[:space:]' <"$RUN_DIR/port" 2>/dev/null)
    [[ $p =~ ^[0-9]+$ ]] && ((p > 0)) && PORT=$p
}

start_coordinator() {
    local rc
    log "starting coordinator"
    (close_inherited_fds && exec "${RUN_ENV[@]}" timeout -k 5 "$TIMEOUT" "$BIN/dmtcp_coordinator" \
        -p 0 --port-file "$RUN_DIR/port" --daemon --coord-logfile "$RUN_DIR/coord.log") \
        </dev/null >"$RUN_DIR/coord.out" 2>&1
    rc=$?
    ((rc == 0)) || fail_step "dmtcp_coordinator --daemon $(exit_text $rc) (see coord.out)" || return 1
    wait_for "$TIMEOUT" "the coordinator to write its port file" port_written || return 1
    log "coordinator on port $PORT"
}

# A scenario may have child processes under control: any number of peers
# (NUM_PEERS is a regular expression for status_is).
running_or_dead() { dead "$1" || status_is '[1-9][0-9]*' yes; }

# wait_running PID NAME: the coordinator shows the computation, running.
wait_running() {
    wait_for "$TIMEOUT" "NUM_PEERS>=1 and RUNNING=yes for $2" running_or_dead "$1" || return 1
    alive "$1" && return 0
    reap "$1"
    fail_step "$2 $(exit_text "$REAPED_RC") before it was running (see $2.err)"
}

# command_text RC: how a dmtcp_command run by command_run ended.
command_text() {
    if (($1 == 124)); then echo "timed out after ${TIMEOUT}s"; else exit_text "$1"; fi
}

checkpoint() {
    command_run -bc || fail_step "dmtcp_command -bc $(command_text $?) (see commands.log)"
}

# kill_computation PID [ARG]: dmtcp_command -k (or ARG, e.g. -kc), then
# waits until PID is gone and the coordinator has no peer left.
kill_computation() {
    local how=${2:--k}
    command_run "$how" || fail_step "dmtcp_command $how $(command_text $?) (see commands.log)" || return 1
    wait_for "$TIMEOUT" "the process $1 to exit after $how" dead "$1" || return 1
    reap "$1"
    wait_for "$TIMEOUT" "the coordinator to show NUM_PEERS=0 after $how" status_is 0
}

image_list() {
    find "$RUN_DIR/ckpt" -maxdepth 1 -name 'ckpt_*.dmtcp' -printf '%i %T@ %s %p\n' 2>/dev/null |
        LC_ALL=C sort
}

# find_new_image [BEFORE]: sets IMAGES to the images that are not in the
# list BEFORE (image_list output from before the checkpoint) — new files, or
# the same names rewritten — of the newest checkpoint (generation: offset
# 48 of the header), one per process, and IMAGE to the first.
find_new_image() {
    local lines l
    mapfile -t lines < <(LC_ALL=C comm -13 <(printf '%s\n' "${1:-}") <(image_list))
    ((${#lines[@]} >= 1)) ||
        fail_step "expected a new image in ckpt/, found none: $(cd "$RUN_DIR/ckpt" && echo *)" ||
        return 1
    # only the newest checkpoint's: a process that ended since left an older one
    local gen newest=0 f
    IMAGES=()
    for l in "${lines[@]}"; do
        f=${l#* * * }
        gen=$(od -An -t u8 -j 48 -N 8 "$f" | tr -d ' ')
        if ((gen > newest)); then newest=$gen IMAGES=("$f")
        elif ((gen == newest)); then IMAGES+=("$f"); fi
    done
    IMAGE=${IMAGES[0]}
    log "images: ${IMAGES[*]}"
}

# restart_bg NAME: dmtcp_restart IMAGES in the background, output to NAME.*.
restart_bg() {
    start_bg "$1" "$BIN/dmtcp_restart" -p "$PORT" -j "${RESTART_OPTS[@]}" "${IMAGES[@]}"
}

# restart_image NAME: restart_bg, then wait until it is running.
restart_image() {
    restart_bg "$1"
    wait_running "$LAST_PID" "$1"
}

# ---- one run ------------------------------------------------------------------
run_begin() {
    RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/stasis-scen.XXXXXX") || return 1
    mkdir -p "$RUN_DIR/scen" "$RUN_DIR/ckpt" && mkdir -m 700 "$RUN_DIR/xdg" || return 1
    RUN_ENV=(env --default-signal "STASIS_SCEN_RUN=$RUN_DIR" "XDG_RUNTIME_DIR=$RUN_DIR/xdg"
        "SCEN_DIR=$RUN_DIR/scen")
    PORT='' PIDS=() LAST_PID='' IMAGE='' IMAGES=() WHY='' SKIP_WHY='' RESTART_OPTS=() STDIN_FIFO=''
    log "run $1"
}

# Pids of every process carrying this run's marker in its environment.
marked_pids() {
    grep -lsxzF "STASIS_SCEN_RUN=$RUN_DIR" /proc/[0-9]*/environ 2>/dev/null |
        sed -n 's|^/proc/\([0-9]*\)/environ$|\1|p'
}

# Stops the coordinator (-q also kills its peers), then kills, by pid,
# whatever the run started that is still there, and reaps it.
run_cleanup() {
    [ -n "$RUN_DIR" ] && [ -d "$RUN_DIR" ] || return 0
    local p left end
    if [ -n "$PORT" ]; then
        command_run -q || true
    fi
    end=$((SECONDS + 3))
    while :; do # give -q a moment, then kill what is left
        left=$(marked_pids)
        for p in "${PIDS[@]}"; do alive "$p" && left+=" $p"; done
        [ -n "${left// /}" ] || break
        if ((SECONDS >= end)); then
            log "killing leftover processes: $left"
            # shellcheck disable=SC2086
            kill -KILL $left 2>/dev/null
            sleep 0.1
            left=$(marked_pids)
            [ -z "$left" ] || log "still alive after SIGKILL: $left"
            break
        fi
        sleep 0.1
    done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    PIDS=()
}

print_log_tails() {
    local dir=$1 f
    for f in "$dir"/driver.log "$dir"/commands.log "$dir"/coord.log "$dir"/*.out "$dir"/*.err; do
        [ -s "$f" ] || continue
        echo "    --- ${f#"$dir"/} (last 15 lines)"
        tail -n 15 "$f" | sed 's/^/    | /'
    done
}

# run_one NAME/MODE FUNCTION [ARGS...]: runs FUNCTION in a fresh run and
# prints its PASS or FAIL line — or SKIP when FUNCTION succeeded but set
# SKIP_WHY (what it was to test could not be tested here); a failing run's
# directory is kept.
run_one() {
    local id=$1 ok keep
    shift
    if ! run_begin "$id"; then
        echo "FAIL $id: cannot create a run directory under ${TMPDIR:-/tmp}"
        return
    fi
    # The shell's own messages (such as its notes on killed background
    # jobs) go to the run's log, not to the caller.
    {
        "$@"
        ok=$?
        run_cleanup
    } 2>>"$RUN_DIR/driver.log"
    if ((ok == 0)) && [ -n "$SKIP_WHY" ]; then
        echo "SKIP $id: $SKIP_WHY"
        rm -rf "$RUN_DIR"
    elif ((ok == 0)); then
        echo "PASS $id"
        rm -rf "$RUN_DIR"
    else
        keep=$RUN_DIR
        if [ -n "${STASIS_TEST_KEEP:-}" ] && mkdir -p "$STASIS_TEST_KEEP" &&
            mv "$RUN_DIR" "$STASIS_TEST_KEEP/${id//\//-}.${RUN_DIR##*.}"; then
            keep=$STASIS_TEST_KEEP/${id//\//-}.${RUN_DIR##*.}
        fi
        echo "FAIL $id: ${WHY:-unknown failure} (log: $keep)"
        print_log_tails "$keep"
    fi
    RUN_DIR=''
}

on_signal() {
    run_cleanup
    [ -z "$RUN_DIR" ] || rm -rf "$RUN_DIR"
    exit 130
}
trap on_signal INT TERM
trap run_cleanup EXIT
