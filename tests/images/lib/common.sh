# shellcheck shell=bash disable=SC2317,SC2034 # functions run indirectly (wait_for, trap)
# common.sh — sourced by tests/images/*.sh: tests/lib/common.sh (a private
# temporary directory and XDG_RUNTIME_DIR, a coordinator, background
# processes, the refusal checks, PASS/FAIL/SKIP lines), and here: the test
# program (prog-counter.c) and the image patcher (lib/imgtool.c) built into
# $TMP, launching / checkpointing / restarting the program.  Waits are
# bounded (30 s) only to avoid hangs; nothing asserts on timing.

# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../lib/common.sh"
init_script images
IMAGE=
IMAGE_SHA=

# build_tools: $TMP/prog-counter and $IMGTOOL, or SKIP the script
PROG=$TMP/prog-counter
build_tools() {
    need_cc
    compile "$PROG" -O1 "$ROOT/tests/images/prog-counter.c" -lpthread
    build_imgtool
}

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

# came_back PID OUTFILE: a restart refused by try_restart brought the
# program back after all (it ticks)
came_back() { grep -q '^tick ' "$2"; }

# refused NAME FILE PATTERN...: `dmtcp_restart -j FILE` is refused (refusal:
# exit 1, one line that matches every PATTERN, nothing reached the
# coordinator), the line names FILE, FILE is unchanged, and then the
# untouched original $IMAGE (made by make_image) restarts and goes on from
# its checkpoint.  Prints the PASS/FAIL line.
refused() {
    local name=$1 file=$2 before
    before=$(sha "$file")
    if ! refusal "$@"; then
        fail "$name" "$WHY"
        return
    fi
    if ! grep -qF "dmtcp_restart: refusing to restart $file: " <<<"$RESTART_OUT"; then
        fail "$name" "the message does not name $file: $RESTART_OUT"
        return
    fi
    if [ "$(sha "$file")" != "$before" ]; then
        fail "$name" "dmtcp_restart modified the refused file"
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

