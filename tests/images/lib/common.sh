# shellcheck shell=bash disable=SC2317,SC2034 # functions run indirectly (wait_for, trap)
# common.sh — sourced by tests/images/*.sh: locates the binaries, gives each
# script a private temporary directory and XDG_RUNTIME_DIR, builds the test
# program (prog-counter.c) and the image patcher (lib/imgtool.c) into it,
# starts a coordinator, launches / checkpoints / restarts the program, and
# prints PASS/FAIL/SKIP lines.  Everything a script started is killed and
# everything it created removed on exit (kept when STASIS_TEST_KEEP is set).  Waits are bounded (30 s) only to
# avoid hangs; nothing asserts on timing.

IMG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
BIN=${STASIS_BIN:-$IMG_ROOT/bin}
WAIT=${STASIS_TEST_TIMEOUT:-30}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/stasis-images.XXXXXX") || exit 1
chmod 700 "$TMP"
cd "$TMP" || exit 1
export XDG_RUNTIME_DIR=$TMP
while read -r v; do unset "$v"; done < <(compgen -e | grep '^DMTCP_')
unset STASIS_COORD_SECRET STASIS_QUIET
COORD_PID=
PORT=
PIDS=
MOUNTS=
WHY=
IMAGE=
IMAGE_SHA=

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }

# wait_for CMD...: retry CMD until it succeeds, at most $WAIT seconds
wait_for() {
    local end=$((SECONDS + WAIT))
    until "$@"; do
        ((SECONDS < end)) || return 1
        sleep 0.05
    done
}

alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != [ZX] ]]
}
dead() { ! alive "$1"; }

# bg CMD...: run in the background, remembered for cleanup; pid in BG_PID
bg() {
    "$@" &
    BG_PID=$!
    PIDS="$PIDS $BG_PID"
}

cleanup() {
    local p m
    [ -n "$PORT" ] && timeout 10 "$BIN/dmtcp_command" -p "$PORT" -k >/dev/null 2>&1
    for p in $PIDS $COORD_PID; do kill -9 "$p" 2>/dev/null; done
    for p in $PIDS $COORD_PID; do wait "$p" 2>/dev/null; done
    for m in $MOUNTS; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
    chmod -R u+rwx "$TMP" 2>/dev/null
    if [ -n "${STASIS_TEST_KEEP:-}" ]; then
        echo "$(basename "$0"): kept $TMP" >&2
    else
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# need_bins NAME...: SKIP the whole script when the build is incomplete
need_bins() {
    local b
    for b in "$@"; do
        if [ ! -x "$BIN/$b" ]; then
            skip "$(basename "$0" .sh)" "$BIN/$b not built (run make)"
            exit 0
        fi
    done
}

# build_tools: $TMP/prog-counter and $TMP/imgtool, or SKIP the script
PROG=$TMP/prog-counter
IMGTOOL=$TMP/imgtool
build_tools() {
    local cc=${CC:-cc}
    if ! command -v "$cc" >/dev/null; then
        skip "$(basename "$0" .sh)" "no C compiler ($cc)"
        exit 0
    fi
    if ! "$cc" -O1 -o "$PROG" "$IMG_ROOT/tests/images/prog-counter.c" -lpthread 2>"$TMP/cc.log" ||
        ! "$cc" -O1 -I "$IMG_ROOT/src" -o "$IMGTOOL" "$IMG_ROOT/tests/images/lib/imgtool.c" 2>>"$TMP/cc.log"; then
        fail "$(basename "$0" .sh)" "test programs do not build: $(head -c 600 "$TMP/cc.log")"
        exit 0
    fi
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

# last_tick FILE: the counter of the last complete "tick" line (0 if none)
last_tick() { awk '/^tick [0-9]+ id=[0-9a-f]+ heap=[a-zA-Z]+ beat=[0-9]+$/ {n = $2} END {print n + 0}' "$1" 2>/dev/null; }
tick_at_least() { [ "$(last_tick "$1")" -ge "$2" ]; }
ticks_printed() { [ "$(grep -c '^tick ' "$1" 2>/dev/null)" -ge "$2" ]; }
# prog_id FILE: the id the program printed
prog_id() { sed -n 's/^tick [0-9]* id=\([0-9a-f]*\) .*/\1/p' "$1" | head -n 1; }

# advancing FILE: the counter goes up by 3 more (the program is running)
advancing() {
    local t
    t=$(last_tick "$1")
    wait_for tick_at_least "$1" $((t + 3))
}

# launch NAME CKPTDIR [HEAP_MIB]: prog-counter under checkpoint control,
# output in $TMP/NAME.out / NAME.err; sets LAUNCH_PID, ID; fails unless it ticks
launch() {
    local name=$1 dir=$2 mib=${3:-2}
    bg "$BIN/dmtcp_launch" -p "$PORT" -j --ckptdir "$dir" "$PROG" "$mib" \
        >"$TMP/$name.out" 2>"$TMP/$name.err"
    LAUNCH_PID=$BG_PID
    if ! wait_for tick_at_least "$TMP/$name.out" 2; then
        WHY="launched program never ticked: $(tail -c 300 "$TMP/$name.err")"
        return 1
    fi
    ID=$(prog_id "$TMP/$name.out")
}

# reap PID: wait for it (sets REAPED_RC) and forget it
reap() {
    wait "$1" 2>/dev/null
    REAPED_RC=$?
    PIDS=$(tr ' ' '\n' <<<"$PIDS" | grep -vx "$1" | tr '\n' ' ')
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

# sha FILE
sha() { sha256sum "$1" 2>/dev/null | cut -d' ' -f1; }

# check_restarted OUT ID MIN: OUT holds >= 3 tick lines, all with id ID and
# heap=ok, consecutive, the first one after tick MIN (so the process went on
# from its checkpoint, not from the start); sets WHY
check_restarted() {
    local bad
    bad=$(awk -v id="$2" -v min="$3" '
        /^tick / {
            n++
            if ($3 != "id=" id) { bad = "printed " $3 ", expected id=" id; exit }
            if ($4 != "heap=ok") { bad = "heap pattern damaged at tick " $2 " (" $4 ")"; exit }
            if (n == 1 && $2 + 0 <= min + 0) { bad = "restarted from tick " $2 ", checkpoint was after tick " min; exit }
            if (n > 1 && $2 != prev + 1) { bad = "tick " $2 " after tick " prev; exit }
            prev = $2
        }
        END { if (!bad && n < 3) bad = "only " n " tick lines" ; print bad }' "$1")
    [ -z "$bad" ] && return 0
    WHY=$bad
    return 1
}

# restart_ok IMAGE ID MIN LABEL: dmtcp_restart -j IMAGE brings the program
# back (check_restarted), then it is killed; sets WHY on failure
restart_ok() {
    local img=$1 id=$2 min=$3 out=$TMP/$4.rout err=$TMP/$4.rerr rp
    bg "$BIN/dmtcp_restart" -p "$PORT" -j "$img" >"$out" 2>"$err"
    rp=$BG_PID
    if ! wait_for ticks_printed "$out" 3; then
        if dead "$rp"; then
            reap "$rp"
            WHY="dmtcp_restart exited with status $REAPED_RC: $(tail -c 400 "$err")"
        else
            WHY="restarted program printed no new ticks within ${WAIT}s: $(tail -c 400 "$err")"
        fi
        kill_all
        return 1
    fi
    kill_all
    check_restarted "$out" "$id" "$min"
}

# try_restart LABEL ARGS...: runs dmtcp_restart -p PORT -j ARGS...; sets
# RC (exit status, or "running" if it restored something that ticks, or
# "hung"), OUT (its stdout and stderr)
try_done() { dead "$1" || grep -q '^tick ' "$2"; }
try_restart() {
    local label=$1 rp
    shift
    local out=$TMP/$label.try
    RC=
    bg "$BIN/dmtcp_restart" -p "$PORT" -j "$@" >"$out" 2>&1
    rp=$BG_PID
    if ! wait_for try_done "$rp" "$out"; then
        RC=hung
        kill -9 "$rp" 2>/dev/null
    elif grep -q '^tick ' "$out"; then
        RC=running
        kill_all
    fi
    reap "$rp"
    [ -n "$RC" ] || RC=$REAPED_RC
    OUT=$(cat "$out")
}

# flip FILE OFFSET: invert the byte at OFFSET (dd conv=notrunc)
flip() {
    local b
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    # shellcheck disable=SC2059
    printf "\\$(printf %03o $((b ^ 0xff)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# info FILE KEY: a value from imgtool info
info() { "$IMGTOOL" info "$1" | sed -n "s/^$2=//p"; }

# tmp_left DIR: names of *.tmp files left in DIR
tmp_left() { find "$1" -maxdepth 1 -name '*.tmp' 2>/dev/null | tr '\n' ' '; }

# make_image DIR [HEAP_MIB]: launch, -bc into DIR, kill; sets IMAGE, ID,
# TICK (a tick printed before the checkpoint)
make_image() {
    mkdir -p "$1"
    launch base "$1" "${2:-2}" || return 1
    TICK=$(last_tick "$TMP/base.out")
    local out rc
    out=$(cmd -bc 2>&1)
    rc=$?
    kill_all
    if [ $rc -ne 0 ]; then
        WHY="dmtcp_command -bc exited $rc: $out"
        return 1
    fi
    IMAGE=$(ls "$1"/ckpt_prog-counter_*.dmtcp 2>/dev/null | head -n 1)
    [ -n "$IMAGE" ] || { WHY="no image in $1 after -bc: $out"; return 1; }
    IMAGE_SHA=$(sha "$IMAGE")
}

# refused NAME FILE PATTERN...: `dmtcp_restart -j FILE` is refused: exit 1,
# one line naming FILE that matches every PATTERN (grep -Ei; "!PATTERN":
# must not match), nothing reached the coordinator, FILE is unchanged, and
# then the untouched original $IMAGE (made by make_image) restarts and goes
# on from its checkpoint.  Prints the PASS/FAIL line.
refused() {
    local name=$1 file=$2 pat before logn
    shift 2
    before=$(sha "$file")
    logn=$(grep -c 'restart:' "$TMP/coord.log")
    try_restart "$name" "$file"
    if [ "$RC" != 1 ]; then
        fail "$name" "exit $RC, expected 1 (output: $(head -c 400 <<<"$OUT"))"
        return
    fi
    if [ "$(wc -l <<<"$OUT")" -ne 1 ] || ! grep -qF "dmtcp_restart: refusing to restart $file: " <<<"$OUT"; then
        fail "$name" "expected one line 'dmtcp_restart: refusing to restart $file: …', got: $OUT"
        return
    fi
    for pat; do
        if [ "${pat:0:1}" = '!' ]; then
            if grep -qEi -- "${pat:1}" <<<"$OUT"; then
                fail "$name" "message should not say '${pat:1}': $OUT"
                return
            fi
        elif ! grep -qEi -- "$pat" <<<"$OUT"; then
            fail "$name" "message does not say '$pat': $OUT"
            return
        fi
    done
    if [ "$(sha "$file")" != "$before" ]; then
        fail "$name" "dmtcp_restart modified the refused file"
        return
    fi
    if [ "$(peers)" != 0 ] || [ "$(grep -c 'restart:' "$TMP/coord.log")" != "$logn" ]; then
        fail "$name" "the refused restart reached the coordinator: $(tail -n 3 "$TMP/coord.log")"
        return
    fi
    if [ -n "$IMAGE" ]; then
        if [ "$(sha "$IMAGE")" != "$IMAGE_SHA" ]; then
            fail "$name" "the original image $IMAGE changed"
            return
        fi
        if ! restart_ok "$IMAGE" "$ID" "$TICK" "$name-orig"; then
            fail "$name" "refused correctly, but the original image then did not restart: $WHY"
            return
        fi
    fi
    pass "$name"
}

# ckpt_fails NAME OUT DIR PATTERN...: with the program whose output is
# $TMP/OUT.out (pid LAUNCH_PID) writing into DIR, `dmtcp_command -bc` must
# fail.  Prints four lines:
#   NAME-reported       exit status 4, a message naming DIR and every PATTERN (grep -Ei)
#   NAME-logged         the coordinator log has "checkpoint N failed: …" naming the problem
#   NAME-keeps-running  the program is alive and its counter goes on
#   NAME-no-tmp         no *.tmp partial image left in DIR
ckpt_fails() {
    local name=$1 o=$TMP/$2.out dir=$3 out rc pat bad="" logline
    shift 3
    out=$(cmd -bc 2>&1)
    rc=$?
    if [ $rc -ne 4 ]; then
        bad="exit $rc, expected 4 ($out)"
    elif ! grep -qF "$dir/" <<<"$out"; then
        bad="message does not name $dir: $out"
    else
        for pat; do
            grep -qEi -- "$pat" <<<"$out" || { bad="message does not say '$pat': $out"; break; }
        done
    fi
    if [ -n "$bad" ]; then fail "$name-reported" "$bad"; else pass "$name-reported"; fi

    logline=$(grep -E 'checkpoint [0-9]+ failed: ' "$TMP/coord.log" | tail -n 1)
    bad=
    if [ -z "$logline" ]; then
        bad="no 'checkpoint N failed' line in the coordinator log: $(tail -n 3 "$TMP/coord.log")"
    else
        for pat; do
            grep -qEi -- "$pat" <<<"$logline" || { bad="log line does not say '$pat': $logline"; break; }
        done
    fi
    if [ -n "$bad" ]; then fail "$name-logged" "$bad"; else pass "$name-logged"; fi

    if ! alive "$LAUNCH_PID"; then fail "$name-keeps-running" "the program died: $(tail -c 300 "$TMP/$2.err")"
    elif ! advancing "$o"; then fail "$name-keeps-running" "the counter stopped at $(last_tick "$o")"
    elif [ "$(peers)" != 1 ]; then fail "$name-keeps-running" "the program left the coordinator"
    elif ! cmd -s 2>/dev/null | grep -q RUNNING=yes; then fail "$name-keeps-running" "coordinator not RUNNING: $(cmd -s 2>&1)"
    elif grep -q 'heap=BAD' "$o"; then fail "$name-keeps-running" "heap pattern damaged"
    else pass "$name-keeps-running"; fi

    if [ -n "$(tmp_left "$dir")" ]; then fail "$name-no-tmp" "left behind: $(tmp_left "$dir")"
    else pass "$name-no-tmp"; fi
}

# ckpt_good NAME OUT DIR: `dmtcp_command -bc` succeeds and leaves exactly
# one image in DIR (sets NEW_IMAGE, NEW_TICK = a tick printed before it)
ckpt_good() {
    local out rc
    NEW_TICK=$(last_tick "$TMP/$2.out")
    out=$(cmd -bc 2>&1)
    rc=$?
    NEW_IMAGE=$(ls "$3"/ckpt_prog-counter_*.dmtcp 2>/dev/null | head -n 1)
    if [ $rc -ne 0 ]; then WHY="-bc exited $rc: $out"; return 1; fi
    if [ -z "$NEW_IMAGE" ]; then WHY="-bc said '$out' but there is no image in $3"; return 1; fi
    if [ "$(ls "$3"/ckpt_prog-counter_*.dmtcp | wc -l)" -ne 1 ]; then WHY="several images in $3"; return 1; fi
    if [ -n "$(tmp_left "$3")" ]; then WHY="left behind: $(tmp_left "$3")"; return 1; fi
}
