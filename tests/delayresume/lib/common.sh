# shellcheck shell=bash disable=SC2317,SC2034 # functions run indirectly (wait_for, trap)
# common.sh — sourced by tests/delayresume/*.sh: locates the binaries and the
# delayresume plugin, gives each script a private temporary directory and
# XDG_RUNTIME_DIR, compiles the script's C program(s) from tests/delayresume/
# into it, starts a coordinator, launches programs with or without the
# plugin, and prints PASS/FAIL/SKIP lines.  Everything a script started is
# killed and everything it created removed on exit (kept when
# STASIS_TEST_KEEP is set).  Every wait is bounded ($WAIT s, default 30)
# only to avoid hangs; nothing asserts on how fast anything is.

DR_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
DR_SRC=$DR_ROOT/tests/delayresume
BIN=${STASIS_BIN:-$DR_ROOT/bin}
PLUGIN=${STASIS_DELAYRESUME_PLUGIN:-$DR_ROOT/lib/libdmtcp_delayresume.so}
WAIT=${STASIS_TEST_TIMEOUT:-30}
NAME=$(basename "$0" .sh)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/stasis-dr.XXXXXX") || exit 1
chmod 700 "$TMP"
cd "$TMP" || exit 1
export XDG_RUNTIME_DIR=$TMP
while read -r v; do unset "$v"; done < <(compgen -e | grep '^DMTCP_')
unset STASIS_COORD_SECRET STASIS_QUIET
COORD_PID=
PORT=
PIDS=
WHY=

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }

# wait_for CMD...: retry CMD until it succeeds, at most $WAIT seconds
wait_for() {
    local end=$((SECONDS + WAIT))
    until "$@"; do
        ((SECONDS < end)) || return 1
        sleep 0.02
    done
}

alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != [ZX] ]]
}
dead() { ! alive "$1"; }

# bg CMD...: run in the background, remembered for cleanup; pid in BG_PID.
# Descriptors above 2 that this shell inherited (a harness's pipes) are
# closed first: the engine warns about each pipe it cannot restore, and
# these tests count warning lines.
bg() {
    (
        for f in /proc/$BASHPID/fd/*; do
            n=${f##*/}
            [[ $n =~ ^[0-9]+$ ]] && ((n > 2)) && eval "exec $n>&-"
        done
        exec "$@"
    ) &
    BG_PID=$!
    PIDS="$PIDS $BG_PID"
}

# reap PID: wait for it (REAPED_RC = its exit status) and forget it
reap() {
    wait "$1" 2>/dev/null
    REAPED_RC=$?
    PIDS=$(tr ' ' '\n' <<<"$PIDS" | grep -vx "$1" | tr '\n' ' ')
}

# finish PID: wait (bounded) for PID to exit by itself and reap it; 1 if it
# had to be killed (REAPED_RC is then 137)
finish() {
    if ! wait_for dead "$1"; then
        kill -9 "$1" 2>/dev/null
        reap "$1"
        return 1
    fi
    reap "$1"
}

cleanup() {
    local p
    [ -n "$PORT" ] && timeout 10 "$BIN/dmtcp_command" -p "$PORT" -k >/dev/null 2>&1
    for p in $PIDS $COORD_PID; do kill -9 "$p" 2>/dev/null; done
    for p in $PIDS $COORD_PID; do wait "$p" 2>/dev/null; done
    chmod -R u+rwx "$TMP" 2>/dev/null
    if [ -n "${STASIS_TEST_KEEP:-}" ]; then
        echo "$NAME: kept $TMP" >&2
    else
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# need_bins: SKIP the whole script when the build is incomplete
need_bins() {
    local b
    for b in dmtcp_coordinator dmtcp_command dmtcp_launch dmtcp_restart; do
        if [ ! -x "$BIN/$b" ]; then
            skip "$NAME" "$BIN/$b not built (run make)"
            exit 0
        fi
    done
    if [ ! -f "$PLUGIN" ]; then
        skip "$NAME" "$PLUGIN not built (run make)"
        exit 0
    fi
}

# build SRC...: compiles tests/delayresume/SRC.c into $TMP/SRC (or FAIL and
# end the script)
build() {
    local cc=${CC:-cc} s
    if ! command -v "$cc" >/dev/null; then
        skip "$NAME" "no C compiler ($cc)"
        exit 0
    fi
    for s in "$@"; do
        if ! "$cc" -std=gnu11 -O1 -Wall -I"$DR_ROOT/include" -o "$TMP/$s" "$DR_SRC/$s.c" -lpthread \
            2>"$TMP/cc-$s.log"; then
            fail "$NAME" "$s.c does not build: $(head -c 600 "$TMP/cc-$s.log")"
            exit 0
        fi
    done
}

cmd() { timeout "$WAIT" "$BIN/dmtcp_command" -p "$PORT" "$@"; }

# start_coord [extra options]: sets COORD_PID, PORT; log in $TMP/coord.log
start_coord() {
    rm -f "$TMP/port"
    "$BIN/dmtcp_coordinator" -p 0 --port-file "$TMP/port" --timeout 300 "$@" \
        >>"$TMP/coord.log" 2>&1 &
    COORD_PID=$!
    if ! wait_for test -s "$TMP/port"; then
        echo "coordinator did not start; log:" >&2
        cat "$TMP/coord.log" >&2
        return 1
    fi
    PORT=$(cat "$TMP/port")
}

peers() { cmd -s 2>/dev/null | sed -n 's/.*NUM_PEERS=\([0-9]*\).*/\1/p'; }
no_peers() { [ "$(peers)" = 0 ]; }

# launch_dr LABEL PROG ARGS...: PROG under checkpoint control with the
# delayresume plugin, checkpoints in $TMP/ckpt-LABEL, stdout/stderr in
# $TMP/LABEL.out / .err; pid in LAUNCH_PID.  Extra environment: pass it as
# `env VAR=x` through DR_ENV (an array).
DR_ENV=()
launch_dr() {
    local label=$1
    shift
    mkdir -p "$TMP/ckpt-$label"
    bg env "${DR_ENV[@]}" "$BIN/dmtcp_launch" -p "$PORT" -j --ckptdir "$TMP/ckpt-$label" \
        --with-plugin "$PLUGIN" "$@" >"$TMP/$label.out" 2>"$TMP/$label.err"
    LAUNCH_PID=$BG_PID
}

# launch_noplugin LABEL PROG ARGS...: the same without --with-plugin
launch_noplugin() {
    local label=$1
    shift
    mkdir -p "$TMP/ckpt-$label"
    bg "$BIN/dmtcp_launch" -p "$PORT" -j --ckptdir "$TMP/ckpt-$label" "$@" \
        >"$TMP/$label.out" 2>"$TMP/$label.err"
    LAUNCH_PID=$BG_PID
}

# kill_all: dmtcp_command -k, wait until every process has left, reap them
kill_all() {
    cmd -k >/dev/null 2>&1
    wait_for no_peers
    local p
    for p in $PIDS; do
        if ! wait_for dead "$p"; then kill -9 "$p" 2>/dev/null; fi
        reap "$p"
    done
}

# has FILE REGEX: FILE has a line matching REGEX (extended)
has() { grep -Eq "$2" "$1" 2>/dev/null; }

# report FILE: the program's result lines (PASS/FAIL/SKIP at line start) go
# to our stdout; the rest is for humans.  Returns 1 if none was printed.
report() { grep -E '^(PASS|FAIL|SKIP) ' "$1"; }

# tail_of FILE: its last lines on one line, for a FAIL message
tail_of() { tail -n 6 "$1" 2>/dev/null | tr '\n' '|' | head -c 600; }
