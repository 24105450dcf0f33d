# common.sh — sourced by tests/cli/*.sh: locates the binaries, gives each
# test a private temporary directory and XDG_RUNTIME_DIR, starts and stops a
# coordinator on a free port, and prints PASS/FAIL/SKIP lines.
# Waits are bounded only to avoid hangs; nothing asserts on timing.

CLI_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
BIN=$CLI_ROOT/bin
PY=/usr/bin/python3
PROTO=$CLI_ROOT/tests/cli/lib/stasis_proto.py
TMP=$(mktemp -d "${TMPDIR:-/tmp}/stasis-cli.XXXXXX")
chmod 700 "$TMP"
cd "$TMP" || exit 1   # fake workers write their images into the current directory
export XDG_RUNTIME_DIR=$TMP
unset STASIS_COORD_SECRET DMTCP_COORD_HOST DMTCP_COORD_PORT DMTCP_CHECKPOINT_DIR \
    DMTCP_CHECKPOINT_INTERVAL
COORD_PID=
PORT=
CLI_PIDS=

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }

# wait_for CMD... : retry up to ~10 s
wait_for() {
    local i
    for i in $(seq 1 100); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

# start_coord [extra options]: sets COORD_PID, PORT; log in $TMP/coord.log
start_coord() {
    rm -f "$TMP/port"
    "$BIN/dmtcp_coordinator" -p 0 --port-file "$TMP/port" --timeout 120 "$@" \
        >>"$TMP/coord.log" 2>&1 &
    COORD_PID=$!
    if ! wait_for test -s "$TMP/port"; then
        echo "coordinator did not start; log:" >&2
        cat "$TMP/coord.log" >&2
        return 1
    fi
    PORT=$(cat "$TMP/port")
}

# bg CMD...: run in the background, remembered for cleanup; pid in BG_PID
bg() {
    "$@" &
    BG_PID=$!
    CLI_PIDS="$CLI_PIDS $BG_PID"
}

cleanup() {
    [ -n "$CLI_KEEP" ] && cp "$TMP/coord.log" "$CLI_KEEP" 2>/dev/null
    local p
    for p in $CLI_PIDS $COORD_PID; do
        kill "$p" 2>/dev/null
    done
    for p in $CLI_PIDS $COORD_PID; do
        wait "$p" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT

need_bins() {
    local b
    for b in "$@"; do
        if [ ! -x "$BIN/$b" ]; then
            skip "$(basename "$0" .sh)" "$BIN/$b not built (make bin/$b)"
            exit 0
        fi
    done
}

cmd() { timeout 30 "$BIN/dmtcp_command" -p "$PORT" "$@"; }
