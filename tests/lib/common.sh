# shellcheck shell=bash disable=SC2317,SC2034 # functions run indirectly (wait_for, trap)
# common.sh — what the test suites share, sourced by tests/*/lib/common.sh
# (and, for its process helpers, by tests/scenarios/driver-lib.sh).
# Sourcing only defines; a suite's library calls init_script, which gives
# the script a private temporary directory and XDG_RUNTIME_DIR and cleans
# up on exit.  Then: a coordinator on a free port, programs started in the
# background and reaped, bounded waits, the dmtcp_restart refusal checks
# of tests/images and tests/incremental, and PASS/FAIL/SKIP lines.
# Waits are bounded ($WAIT s, STASIS_TEST_TIMEOUT, default 30) only to
# avoid hangs; nothing asserts on timing.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${STASIS_BIN:-$ROOT/bin}
WAIT=${STASIS_TEST_TIMEOUT:-30}
POLL=0.05 # seconds between two tries of a wait
# The suites read a restarted program's output from the stream they give
# dmtcp_restart: keep that (by default a stream that was a file at the
# checkpoint is that file again; tests/cli/stdio-files.sh tests that)
export STASIS_RESTART_STDIO=${STASIS_RESTART_STDIO-inherit}

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }

# ---- waiting and processes --------------------------------------------------

# poll SECONDS CMD...: retry CMD every $POLL s until it succeeds; 1 if it
# still fails after SECONDS
poll() {
    local end=$((SECONDS + $1))
    shift
    until "$@"; do
        ((SECONDS < end)) || return 1
        sleep "$POLL"
    done
}

# wait_for CMD...: poll for at most $WAIT seconds
wait_for() { poll "$WAIT" "$@"; }

alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != [ZX] ]]
}
dead() { ! alive "$1"; }

# Closes every fd above 2 that this shell inherited from its caller (a
# harness's pipes), so a program starts with stdin, stdout and stderr only:
# the engine would have to save a stray pipe, and warns about each one it
# cannot restore.  Run in a subshell, before exec.
close_inherited_fds() {
    local p fd
    for p in /proc/"$BASHPID"/fd/*; do
        fd=${p##*/}
        if ((fd > 2)) && [ -e "$p" ]; then
            exec {fd}>&-
        fi
    done
}

# bg CMD...: CMD in the background, without inherited fds, remembered in
# PIDS for cleanup; pid in BG_PID
bg() {
    (close_inherited_fds && exec "$@") &
    BG_PID=$!
    PIDS+=("$BG_PID")
}

# reap PID: wait for it (REAPED_RC = its exit status) and forget it.
# (Not in $(...): a subshell cannot wait for this shell's children.)
reap() {
    local pid=$1 keep=() p
    wait "$pid" 2>/dev/null
    REAPED_RC=$?
    for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
    PIDS=("${keep[@]}")
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

# ---- the script's directory -------------------------------------------------

# clean_env [REGEX]: unset the exported variables whose names match REGEX
# (default: DMTCP_* and the engine's STASIS_* settings): a caller's settings
# must not leak into the programs under test
# shellcheck disable=SC2120 # the suites take the default
clean_env() {
    local v
    while read -r v; do unset "$v"; done < <(compgen -e |
        grep -E "${1:-^(DMTCP_|STASIS_(INCREMENTAL|FULL_EVERY|FORKED_CKPT|ZSTD_LEVEL|QUIET|COORD_SECRET|SUSPEND_TIMEOUT|PARK_DEFER_MS|EXIT_WRITER_WAIT)$)}")
}

# init_script TAG: $TMP (stasis-TAG.*, mode 0700) becomes the current
# directory and XDG_RUNTIME_DIR (the coordinator's secret goes there);
# everything the script starts is killed and $TMP removed on exit (kept
# when STASIS_TEST_KEEP is set)
init_script() {
    NAME=$(basename "$0" .sh)
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/stasis-$1.XXXXXX") || exit 1
    TMP=$(cd "$TMP" && pwd -P) # the restart helper names images by their real path
    chmod 700 "$TMP"
    cd "$TMP" || exit 1
    export XDG_RUNTIME_DIR=$TMP
    # shellcheck disable=SC2119
    clean_env
    COORD_PID='' PORT='' PIDS=() MOUNTS='' WHY=''
    trap cleanup EXIT
    trap 'exit 1' INT TERM
}

# cleanup: the EXIT trap.  MOUNTS: what the script mounted under $TMP.
cleanup() {
    local p m
    { # stderr off: bash reports each background job killed here ("Killed …")
        [ -n "$PORT" ] && timeout 10 "$BIN/dmtcp_command" -p "$PORT" -k >/dev/null
        for p in "${PIDS[@]}" $COORD_PID; do kill -9 "$p"; done
        for p in "${PIDS[@]}" $COORD_PID; do wait "$p"; done
        for m in $MOUNTS; do umount "$m" || umount -l "$m"; done
        chmod -R u+rwx "$TMP"
    } 2>/dev/null
    if [ -n "${STASIS_TEST_KEEP:-}" ]; then
        echo "$NAME: kept $TMP" >&2
    else
        rm -rf "$TMP"
    fi
}

# need_bins [NAME...]: SKIP the whole script unless $BIN/NAME is built for
# each NAME (default: the four dmtcp_* commands)
need_bins() {
    local b
    (($#)) || set -- dmtcp_coordinator dmtcp_command dmtcp_launch dmtcp_restart
    for b; do
        if [ ! -x "$BIN/$b" ]; then
            skip "$NAME" "$BIN/$b not built (run make)"
            exit 0
        fi
    done
}

# need_cc: SKIP the whole script without a C compiler ($CC, default cc)
need_cc() {
    if ! command -v "${CC:-cc}" >/dev/null; then
        skip "$NAME" "no C compiler (${CC:-cc})"
        exit 0
    fi
}

# compile OUT ARGS...: $CC -o OUT ARGS..., or FAIL and end the script
compile() {
    local out=$1 log=$TMP/cc-${1##*/}.log
    shift
    "${CC:-cc}" -o "$out" "$@" 2>"$log" && return 0
    fail "$NAME" "${out##*/} does not build: $(head -c 600 "$log")"
    exit 0
}

# ---- the coordinator --------------------------------------------------------

cmd() { timeout "$WAIT" "$BIN/dmtcp_command" -p "$PORT" "$@"; }

# start_coord [extra options]: sets COORD_PID, PORT; log in $TMP/coord.log.
# (--timeout: it ends by itself should the script die without its cleanup.)
start_coord() {
    rm -f "$TMP/port"
    "$BIN/dmtcp_coordinator" -p 0 --port-file "$TMP/port" --timeout 600 "$@" \
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

# kill_all: dmtcp_command -k, wait until every process has left, reap them
kill_all() {
    local p
    { # stderr off: bash reports each background job -k killed ("Killed …")
        cmd -k >/dev/null
        wait_for no_peers
        for p in "${PIDS[@]}"; do finish "$p"; done
    } 2>/dev/null
}

# ---- images -----------------------------------------------------------------

sha() { sha256sum "$1" 2>/dev/null | cut -d' ' -f1; }

# flip FILE OFFSET: invert the byte at OFFSET (dd conv=notrunc)
flip() {
    local b
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    # shellcheck disable=SC2059
    printf "\\$(printf %03o $((b ^ 0xff)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# build_imgtool: $IMGTOOL, the image reader and patcher (tests/images/lib/imgtool.c)
build_imgtool() {
    IMGTOOL=$TMP/imgtool
    compile "$IMGTOOL" -O1 -I "$ROOT/src" "$ROOT/tests/images/lib/imgtool.c"
}

# info FILE KEY: a header value from imgtool info
info() { "$IMGTOOL" info "$1" | sed -n "s/^$2=//p"; }

# try_restart LABEL ARGS...: runs dmtcp_restart -p PORT -j ARGS..., expected
# to be refused; sets RC (exit status, "running" when it brought a process
# back, or "hung"), RESTART_OUT (its stdout and stderr).  The suite says
# what a process that came back shows: came_back PID OUTFILE.
try_restart() {
    local out=$TMP/$1.try rp
    shift
    RC=
    bg "$BIN/dmtcp_restart" -p "$PORT" -j "$@" >"$out" 2>&1
    rp=$BG_PID
    if ! wait_for try_done "$rp" "$out"; then
        RC=hung
        kill -9 "$rp" 2>/dev/null
    elif came_back "$rp" "$out"; then
        RC=running
        kill_all
    fi
    reap "$rp"
    [ -n "$RC" ] || RC=$REAPED_RC
    RESTART_OUT=$(cat "$out")
}
try_done() { dead "$1" || came_back "$1" "$2"; }

# refusal NAME FILE PATTERN...: `dmtcp_restart -j FILE` is refused: exit
# status 1, exactly one line "dmtcp_restart: refusing to restart …" that
# matches every PATTERN (grep -Ei; "!PATTERN": must not match), and no
# process came back to the coordinator (an image the restart helper finds
# corrupt while loading was registered there first, and its restart failed).
# Sets WHY.
refusal() {
    local name=$1 file=$2 pat logn
    shift 2
    logn=$(grep -c 'restart: .* is back' "$TMP/coord.log")
    try_restart "$name" "$file"
    if [ "$RC" != 1 ]; then
        WHY="exit $RC, expected 1 (output: $(head -c 400 <<<"$RESTART_OUT"))"
        return 1
    fi
    if [ "$(wc -l <<<"$RESTART_OUT")" -ne 1 ] || ! grep -q '^dmtcp_restart: refusing to restart ' <<<"$RESTART_OUT"; then
        WHY="expected one line 'dmtcp_restart: refusing to restart …', got: $RESTART_OUT"
        return 1
    fi
    for pat; do
        if [ "${pat:0:1}" = '!' ]; then
            if grep -qEi -- "${pat:1}" <<<"$RESTART_OUT"; then
                WHY="message should not say '${pat:1}': $RESTART_OUT"
                return 1
            fi
        elif ! grep -qEi -- "$pat" <<<"$RESTART_OUT"; then
            WHY="message does not say '$pat': $RESTART_OUT"
            return 1
        fi
    done
    if [ "$(peers)" != 0 ] || [ "$(grep -c 'restart: .* is back' "$TMP/coord.log")" != "$logn" ]; then
        WHY="the refused restart reached the coordinator: $(tail -n 3 "$TMP/coord.log")"
        return 1
    fi
}

# ---- crafted images ----------------------------------------------------------
# Images with one field patched and every checksum recomputed (imgtool
# set, set-region, set-head …): only the range checks can refuse them
# (tests/images/crafted-*.sh, tests/incremental/crafted-parent.sh).  The
# suite defines came_back (a refused image's program came back after all).

HELPER=$BIN/../lib/stasis/restart-helper

# craft NAME IMGTOOL-COMMAND ARGS...: $TMP/NAME.dmtcp, a copy of $IMAGE
# patched by `imgtool COMMAND $TMP/NAME.dmtcp ARGS...` (resealed); more
# patches may follow with `craft_also NAME COMMAND ARGS...`
craft() {
    cp "$IMAGE" "$TMP/$1.dmtcp"
    craft_also "$@"
}
craft_also() {
    local name=$1 command=$2
    shift 2
    "$IMGTOOL" "$command" "$TMP/$name.dmtcp" "$@" || echo "imgtool $command $* failed on $TMP/$name.dmtcp" >&2
}

# region_where AWK-CONDITION: the `imgtool regions` line of the first
# region of $IMAGE for which the condition holds; fields as f["kind"] …
# (numbers; start and end are hex text)
region_where() {
    "$IMGTOOL" regions "$IMAGE" | awk -v q="'" "{
        delete f
        for (i = 1; i <= NF; i++) { eq = index(\$i, \"=\"); f[substr(\$i, 1, eq - 1)] = substr(\$i, eq + 1) }
        if ($1) { print; exit }
    }"
}
# region_holding ADDR: the `imgtool regions` line of the region of $IMAGE
# that holds address ADDR
region_holding() {
    local line start end
    while read -r line; do
        start=$(field "$line" start) end=$(field "$line" end)
        if (($1 >= start && $1 < end)); then
            echo "$line"
            return
        fi
    done < <("$IMGTOOL" regions "$IMAGE")
}
# field LINE NAME: NAME's value in a region_where line
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p; s/^$2=\([^ ]*\).*/\1/p" <<<"$1" | head -n 1; }

# run_helper NAME FILE: the restart helper run by hand on FILE, as
# dmtcp_restart runs it (fd 3: the image, fd 4: the restart information,
# written by imgtool helper-info), as if FILE had changed after
# dmtcp_restart's check.  Sets HRC (exit status; "signal NAME" when a
# signal killed it; "running" when it restored a program that ticks, which
# is then killed; "hung") and HELPER_OUT (its output).
run_helper() {
    local name=$1 file=$2 out=$TMP/$1.helper hp
    "$IMGTOOL" helper-info "$TMP/$name.info" "$file"
    # shellcheck disable=SC2016 # expanded by that sh
    bg sh -c 'exec "$0" 3 4 -1 3<"$1" 4<"$2"' "$HELPER" "$file" "$TMP/$name.info" >"$out" 2>&1
    hp=$BG_PID
    HRC=
    if ! wait_for try_done "$hp" "$out"; then
        HRC=hung
        kill -9 "$hp" 2>/dev/null
    elif came_back "$hp" "$out"; then
        HRC=running
        kill -9 "$hp" 2>/dev/null
    fi
    reap "$hp"
    if [ -z "$HRC" ]; then
        HRC=$REAPED_RC
        ((HRC > 128)) && HRC="signal SIG$(kill -l $((HRC - 128)))"
    fi
    HELPER_OUT=$(cat "$out")
}

# helper_refusal NAME FILE PATTERN...: run_helper refuses FILE: exit
# status 1 (no signal, so no core), exactly one line "dmtcp_restart:
# refusing to restart FILE: …" matching every PATTERN.  Sets WHY.
helper_refusal() {
    local name=$1 file=$2 pat
    shift 2
    run_helper "$name" "$file"
    if [ "$HRC" != 1 ]; then
        WHY="exit $HRC, expected 1 (output: $(head -c 300 <<<"$HELPER_OUT"))"
        return 1
    fi
    if [ "$(wc -l <<<"$HELPER_OUT")" -ne 1 ] || ! grep -qF "dmtcp_restart: refusing to restart $file: " <<<"$HELPER_OUT"; then
        WHY="expected one line 'dmtcp_restart: refusing to restart $file: …', got: $HELPER_OUT"
        return 1
    fi
    for pat; do
        grep -qEi -- "$pat" <<<"$HELPER_OUT" || { WHY="message does not say '$pat': $HELPER_OUT"; return 1; }
    done
}

# crafted NAME PATTERN...: $TMP/NAME.dmtcp (made by craft) is refused by
# dmtcp_restart (refusal: exit 1, one line naming the file and matching
# every PATTERN, nothing reached the coordinator) and by the restart helper
# run by hand (helper_refusal).  Prints crafted-NAME-restart and
# crafted-NAME-helper lines.
crafted() {
    local name=crafted-$1 file=$TMP/$1.dmtcp
    shift
    if ! refusal "$name" "$file" "$@"; then
        fail "$name-restart" "$WHY"
    elif ! grep -qF "dmtcp_restart: refusing to restart $file: " <<<"$RESTART_OUT"; then
        fail "$name-restart" "the message does not name $file: $RESTART_OUT"
    else
        pass "$name-restart"
    fi
    if helper_refusal "$name" "$file" "$@"; then pass "$name-helper"; else fail "$name-helper" "$WHY"; fi
}
