# shellcheck shell=bash disable=SC2317,SC2034,SC2120 # functions run indirectly (wait_for, trap)
# common.sh — sourced by tests/incremental/*.sh: tests/lib/common.sh (a
# private temporary directory and XDG_RUNTIME_DIR, a coordinator, background
# processes, the refusal checks, PASS/FAIL/SKIP lines), and here: the test
# program (prog-pages.c) and the image reader (tests/images/lib/imgtool.c)
# built into $TMP, prog-pages launched with incremental checkpoints and
# driven (change pages, verify every byte) through its control file,
# checkpoints and restarts.  Waits are bounded (STASIS_TEST_TIMEOUT,
# default 60 s) only to avoid hangs; nothing asserts on timing.
#
# The images of a chain, as the tests name them: the checkpoint directory
# $CK holds the canonical ckpt_prog-pages_*.dmtcp (the newest image) and,
# for an incremental one, the older images of its chain under their second
# names ckpt_prog-pages_*.g<generation>.dmtcp.

# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../lib/common.sh"
WAIT=${STASIS_TEST_TIMEOUT:-60}
init_script incremental
CK=$TMP/ckpt     # the checkpoint directory
CTL=$TMP/ctl     # the program's control directory
SAVE=$TMP/save   # originals moved aside while a damaged chain is tried
mkdir -p "$CK" "$CTL" "$SAVE"
SEQ=0            # the last command number sent; only ever grows
ID=              # the program's id (its "start" line)
ADDR=            # the address of its 64 MiB
OUT=             # the file its output goes to now
ROUND=0          # the round it was at when last asked

# build_tools: $TMP/prog-pages and $IMGTOOL, or SKIP the script
PROG=$TMP/prog-pages
build_tools() {
    need_cc
    compile "$PROG" -O2 "$ROOT/tests/incremental/prog-pages.c"
    build_imgtool
}

# setup: the usual start of a script (binaries, tools, coordinator)
setup() {
    need_bins
    build_tools
    start_coord || { fail "$NAME" "coordinator did not start"; exit 0; }
}

one_running() {
    local s
    s=$(cmd -s 2>/dev/null)
    grep -q 'NUM_PEERS=1' <<<"$s" && grep -q 'RUNNING=yes' <<<"$s"
}

started() { grep -q '^start id=' "$1" 2>/dev/null; }

# launch NAME [dmtcp_launch options...]: prog-pages (64 MiB) under checkpoint
# control, writing into $CK, output in $TMP/NAME.out / NAME.err; sets
# LAUNCH_PID, ID, ADDR, OUT, ROUND=0
launch() {
    local name=$1
    shift
    bg "$BIN/dmtcp_launch" -p "$PORT" -j --ckptdir "$CK" "$@" "$PROG" "$CTL" 64 \
        >"$TMP/$name.out" 2>"$TMP/$name.err"
    LAUNCH_PID=$BG_PID
    OUT=$TMP/$name.out
    ROUND=0
    if ! wait_for started "$OUT"; then
        WHY="launched program never started: $(tail -c 300 "$TMP/$name.err")"
        return 1
    fi
    ID=$(sed -n 's/^start id=\([0-9a-f]*\) .*/\1/p' "$OUT")
    ADDR=$(sed -n 's/^start .* addr=\(0x[0-9a-f]*\).*/\1/p' "$OUT")
    wait_for one_running || { WHY="the coordinator never showed the program running: $(cmd -s 2>&1)"; return 1; }
}

replied() { grep -q "^done $1 " "$OUT" 2>/dev/null; }

# send ACTION [ARG]: the next command to the program (output in $OUT);
# its reply line in REPLY
send() {
    SEQ=$((SEQ + 1))
    echo "$SEQ $*" >"$CTL/cmd.tmp" && mv -f "$CTL/cmd.tmp" "$CTL/cmd"
    REPLY=
    if ! wait_for replied "$SEQ"; then
        WHY="the program did not answer '$*' within ${WAIT}s"
        return 1
    fi
    REPLY=$(grep -m1 "^done $SEQ " "$OUT")
}

# change [PCT]: one round of changes (1 % of the pages by default)
change() {
    send change "${1:-1}" || return 1
    [[ $REPLY =~ ^done\ [0-9]+\ change\ round=([0-9]+)\ changed= ]] || { WHY="change failed: $REPLY"; return 1; }
    ROUND=${BASH_REMATCH[1]}
}

# verify ROUND: the program checks every byte and must be at round ROUND
# with the launched program's id
verify() {
    send verify || return 1
    local want="done $SEQ verify round=$1 id=$ID ok"
    [ "$REPLY" = "$want" ] && return 0
    WHY="memory check: '$REPLY', expected '$want'"
    return 1
}

# ckpt: dmtcp_command -bc succeeds; sets IMAGE (the canonical image)
ckpt() {
    local out rc
    out=$(cmd -bc 2>&1)
    rc=$?
    if [ $rc -ne 0 ]; then WHY="-bc exited $rc: $out"; return 1; fi
    canonical || { WHY="no image in $CK after -bc: $out"; return 1; }
}

# canonical: IMAGE = the one ckpt_prog-pages_*.dmtcp without a .g<N> part
canonical() {
    IMAGE=$(find "$CK" -maxdepth 1 -name 'ckpt_prog-pages_*.dmtcp' ! -name '*.g[0-9]*.dmtcp' | head -n 1)
    [ -n "$IMAGE" ]
}

# links: the .g<N> files in $CK, sorted by N, space-separated base names
links() {
    find "$CK" -maxdepth 1 -name 'ckpt_prog-pages_*.g[0-9]*.dmtcp' -printf '%f\n' | sort -V | tr '\n' ' ' | sed 's/ $//'
}

# link_of IMAGE GEN: the name the image of generation GEN gets in the chain
link_of() { echo "${1%.dmtcp}.g$2.dmtcp"; }

size() { stat -c %s "$1"; }
inode() { stat -c %i "$1"; }

# expect_image FILE DEPTH PARENT: FILE's header has chain_depth DEPTH and
# parent PARENT (a base name, "" for a full image), and for an incremental
# image the parent's header checksum; sets WHY
expect_image() {
    local d p pc want
    d=$(info "$1" chain_depth)
    p=$(info "$1" parent)
    pc=$(info "$1" parent_checksum)
    if [ "$d" != "$2" ]; then WHY="${1##*/} has chain_depth '$d', expected $2"; return 1; fi
    if [ "$p" != "$3" ]; then WHY="${1##*/} names parent '$p', expected '$3'"; return 1; fi
    if [ -z "$3" ]; then
        [ "$pc" = 0x0000000000000000 ] || { WHY="full image ${1##*/} has parent_checksum $pc"; return 1; }
        return 0
    fi
    want=$(info "$CK/$3" header_checksum)
    [ "$pc" = "$want" ] || { WHY="${1##*/} records parent_checksum $pc, $3 has header_checksum $want"; return 1; }
}

# restart_verify LABEL FILE ROUND: dmtcp_restart -j FILE brings the program
# back; it checks every byte of its memory and must be at ROUND with the
# same id; then it is killed.  Sets WHY on failure.
restart_verify() {
    local label=$1 img=$2 round=$3 rp
    rm -f "$CTL/cmd"
    OUT=$TMP/$label.rout
    bg "$BIN/dmtcp_restart" -p "$PORT" -j "$img" >"$OUT" 2>"$TMP/$label.rerr"
    rp=$BG_PID
    if ! wait_for restart_up "$rp"; then
        if dead "$rp"; then
            reap "$rp"
            WHY="dmtcp_restart ${img##*/} exited with status $REAPED_RC: $(tail -c 400 "$TMP/$label.rerr")"
        else
            WHY="restarted program never showed as running: $(cmd -s 2>&1 | tr '\n' ' ') $(tail -c 300 "$TMP/$label.rerr")"
        fi
        kill_all
        return 1
    fi
    LAUNCH_PID=$rp
    if ! verify "$round"; then
        WHY="after restart from ${img##*/}: $WHY $(tail -c 300 "$TMP/$label.rerr")"
        kill_all
        return 1
    fi
    ROUND=$round
}
restart_up() { dead "$1" || one_running; }

# came_back PID OUTFILE: a restart refused by try_restart brought the
# program back after all (it is running under the coordinator)
came_back() { alive "$1" && [ "$(peers)" = 1 ]; }

# refused NAME FILE PATTERN...: `dmtcp_restart -j FILE` is refused (refusal:
# exit status 1, one line "dmtcp_restart: refusing to restart …" that
# matches every PATTERN, nothing reached the coordinator), no process came
# back, and no image of the chain changed.  Sets WHY.
refused() {
    local sums f
    sums=$(cd "$CK" && sha256sum ./*.dmtcp 2>/dev/null)
    rm -f "$CTL/cmd" # a restored program must not find an old command
    refusal "$@" || return 1
    if [ "$(cd "$CK" && sha256sum ./*.dmtcp 2>/dev/null)" != "$sums" ]; then
        WHY="the refused restart changed an image in $CK"
        return 1
    fi
    f=$(pgrep -f "$CTL" 2>/dev/null | tr '\n' ' ')
    if [ -n "$f" ]; then
        WHY="a process of the program is running after the refusal: pids $f"
        return 1
    fi
}

# make_chain [dmtcp_launch options...]: launch with --incremental and make
# a chain of three images: a full one at round 0, then one image at round 1
# and one at round 2 (1 % of the pages changed before each); the program
# is killed.  Sets IMAGE (the canonical image, round 2), G1 (round 0, full)
# and G2 (round 1), the paths of the older images.
make_chain() {
    launch base --incremental "$@" || return 1
    ckpt || return 1
    local gen1 gen2
    gen1=$(info "$IMAGE" generation)
    change && ckpt || return 1
    gen2=$(info "$IMAGE" generation)
    change && ckpt || return 1
    kill_all
    G1=$(link_of "$IMAGE" "$gen1")
    G2=$(link_of "$IMAGE" "$gen2")
    [ -f "$G1" ] && [ -f "$G2" ] || { WHY="the chain is not $G1 $G2 $IMAGE: $CK holds $(ls "$CK")"; return 1; }
    expect_image "$IMAGE" 2 "${G2##*/}" || return 1
}

# set_aside FILE / put_back FILE: move an image of the chain out of the way
# and back (the same file: same inode, same bytes)
set_aside() { mv "$1" "$SAVE/${1##*/}"; }
put_back() { rm -f "$1" && mv "$SAVE/${1##*/}" "$1"; }

# check_chain NAME [dmtcp_launch options...]: with --incremental (and the
# options), three checkpoints with 1 % of the pages changed before the
# second and the third.  Prints four lines:
#   NAME-first-full     the first image is full: chain_depth 0, no parent,
#                       no .g file
#   NAME-depth-1        the first image got its second name (the same file:
#                       a hard link, same bytes), the new image names it as
#                       parent with its header checksum, has chain_depth 1
#                       and is smaller than 10 % of the full image
#   NAME-depth-2        the same one step further; both .g files there
#   NAME-restart-exact  killed and restarted from the canonical image: every
#                       byte of the 64 MiB is as at the third checkpoint, and
#                       the program goes on (another round, checked)
check_chain() {
    local name=$1 full gen1 gen2 ino1 ino2 sha1 sha2 g1 g2 sz
    shift
    launch "$name" --incremental "$@" || { fail "$name-first-full" "$WHY"; return; }
    verify 0 || { fail "$name-first-full" "$WHY"; return; }
    ckpt || { fail "$name-first-full" "$WHY"; return; }
    if ! expect_image "$IMAGE" 0 ""; then fail "$name-first-full" "$WHY"; return; fi
    if [ -n "$(links)" ]; then fail "$name-first-full" "a full image left .g files: $(links)"; return; fi
    full=$(size "$IMAGE")
    if ((full < 64 << 20)); then fail "$name-first-full" "the full image has $full bytes, less than the 64 MiB it holds"; return; fi
    pass "$name-first-full"

    gen1=$(info "$IMAGE" generation) ino1=$(inode "$IMAGE") sha1=$(sha "$IMAGE")
    change && ckpt || { fail "$name-depth-1" "$WHY"; return; }
    g1=$(link_of "$IMAGE" "$gen1")
    sz=$(size "$IMAGE")
    if [ ! -f "$g1" ]; then fail "$name-depth-1" "no ${g1##*/}; $CK holds: $(ls "$CK")"; return; fi
    if [ "$(inode "$g1")" != "$ino1" ] || [ "$(sha "$g1")" != "$sha1" ]; then
        fail "$name-depth-1" "${g1##*/} is not the first image (inode $(inode "$g1") vs $ino1)"; return
    fi
    if [ "$(links)" != "${g1##*/}" ]; then fail "$name-depth-1" ".g files: $(links), expected ${g1##*/}"; return; fi
    if ! expect_image "$IMAGE" 1 "${g1##*/}"; then fail "$name-depth-1" "$WHY"; return; fi
    if ((sz * 10 >= full)); then fail "$name-depth-1" "image of 1 % changed pages has $sz bytes, full image $full"; return; fi
    pass "$name-depth-1"

    gen2=$(info "$IMAGE" generation) ino2=$(inode "$IMAGE") sha2=$(sha "$IMAGE")
    change && ckpt || { fail "$name-depth-2" "$WHY"; return; }
    g2=$(link_of "$IMAGE" "$gen2")
    sz=$(size "$IMAGE")
    if [ ! -f "$g2" ]; then fail "$name-depth-2" "no ${g2##*/}; $CK holds: $(ls "$CK")"; return; fi
    if [ "$(inode "$g2")" != "$ino2" ] || [ "$(sha "$g2")" != "$sha2" ]; then
        fail "$name-depth-2" "${g2##*/} is not the second image"; return
    fi
    if [ "$(links)" != "${g1##*/} ${g2##*/}" ]; then fail "$name-depth-2" ".g files: $(links), expected ${g1##*/} ${g2##*/}"; return; fi
    if [ "$(sha "$g1")" != "$sha1" ]; then fail "$name-depth-2" "${g1##*/} changed"; return; fi
    if ! expect_image "$IMAGE" 2 "${g2##*/}"; then fail "$name-depth-2" "$WHY"; return; fi
    if ((sz * 10 >= full)); then fail "$name-depth-2" "image of 1 % changed pages has $sz bytes, full image $full"; return; fi
    pass "$name-depth-2"

    kill_all
    if ! restart_verify "$name-restart" "$IMAGE" 2; then fail "$name-restart-exact" "$WHY"; return; fi
    if ! change || ! verify 3; then
        fail "$name-restart-exact" "restored exactly, but then: $WHY"; kill_all; return
    fi
    kill_all
    pass "$name-restart-exact"
}
