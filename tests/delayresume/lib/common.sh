# shellcheck shell=bash disable=SC2317,SC2034 # functions run indirectly (wait_for, trap)
# common.sh — sourced by tests/delayresume/*.sh: tests/lib/common.sh (a
# private temporary directory and XDG_RUNTIME_DIR, a coordinator, background
# processes, PASS/FAIL/SKIP lines), and here: the delayresume plugin, the
# script's C program(s) from tests/delayresume/ compiled into $TMP, and
# programs launched with or without the plugin.  Every wait is bounded
# ($WAIT s, default 30) only to avoid hangs; nothing asserts on how fast
# anything is.

# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../lib/common.sh"
DR_SRC=$ROOT/tests/delayresume
PLUGIN=${STASIS_DELAYRESUME_PLUGIN:-$ROOT/lib/libdmtcp_delayresume.so}
POLL=0.02 # its programs hold a window for a second or so: look often
init_script dr

# need_plugin: SKIP the whole script when the plugin is not built
need_plugin() {
    if [ ! -f "$PLUGIN" ]; then
        skip "$NAME" "$PLUGIN not built (run make)"
        exit 0
    fi
}

# build SRC...: compiles tests/delayresume/SRC.c into $TMP/SRC (or FAIL and
# end the script)
build() {
    local s
    need_cc
    for s; do
        compile "$TMP/$s" -std=gnu11 -O1 -Wall -I"$ROOT/include" "$DR_SRC/$s.c" -lpthread
    done
}

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

# has FILE REGEX: FILE has a line matching REGEX (extended)
has() { grep -Eq "$2" "$1" 2>/dev/null; }

# report FILE: the program's result lines (PASS/FAIL/SKIP at line start) go
# to our stdout; the rest is for humans.  Returns 1 if none was printed.
report() { grep -E '^(PASS|FAIL|SKIP) ' "$1"; }

# tail_of FILE: its last lines on one line, for a FAIL message
tail_of() { tail -n 6 "$1" 2>/dev/null | tr '\n' '|' | head -c 600; }
