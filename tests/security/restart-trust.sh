#!/bin/bash
# What dmtcp_restart trusts (issue 8, finding 3): an image, and every image
# of an incremental chain, is used only if it is a regular file (not a
# symbolic link, a FIFO, a device) owned by the user who runs dmtcp_restart
# and writable by nobody else — checked on the opened file, never on the
# owner recorded inside the image.  Each refusal: exit status 1, one line
# "dmtcp_restart: refusing to restart FILE: …" naming the check that
# failed, nothing reaches the coordinator, nothing is restored, and then
# the original image restarts.
#
# As any user: group-writable, other-writable, a symbolic link to the
# user's own image, a FIFO (must not hang), an incremental chain whose
# older image is group-writable or was replaced by a symbolic link.
# As root (needs another user, SKIP otherwise): root's image owned by
# stasis-test; stasis-test's image with the owner in its header patched to
# 0 and the header resealed; a symbolic link to stasis-test's image; a
# chain whose older image belongs to stasis-test.
. "$(dirname "$0")/lib/common.sh"
need_bins
build_tools
start_coord || { fail restart-trust "coordinator did not start"; exit 0; }
ME=$(id -un)

# make_image DIR [dmtcp_launch options...]: launch, -bc into DIR (twice
# with --incremental), kill; sets IMAGE, ID, TICK
make_image() {
    local dir=$1 out
    shift
    mkdir -p "$dir"
    bg "$BIN/dmtcp_launch" -p "$PORT" -j --ckptdir "$dir" "$@" "$PROG" 2 >"$TMP/base.out" 2>"$TMP/base.err"
    wait_for tick_at_least "$TMP/base.out" 2 || { WHY="the program never ticked: $(tail -c 300 "$TMP/base.err")"; return 1; }
    ID=$(prog_id "$TMP/base.out")
    out=$(cmd -bc 2>&1) || { WHY="-bc: $out"; kill_all; return 1; }
    if [ "${1:-}" = --incremental ]; then
        out=$(cmd -bc 2>&1) || { WHY="second -bc: $out"; kill_all; return 1; }
    fi
    TICK=$(last_tick "$TMP/base.out")
    kill_all
    IMAGE=$(image_in "$dir")
    [ -n "$IMAGE" ] || { WHY="no image in $dir"; return 1; }
}

# restart_ok IMAGE LABEL: dmtcp_restart -j IMAGE brings the program back
restart_ok() {
    bg "$BIN/dmtcp_restart" -p "$PORT" -j "$1" >"$TMP/$2.rout" 2>"$TMP/$2.rerr"
    restarted_ok "$TMP/$2.rout" "$ID" || WHY="$WHY $(tail -c 300 "$TMP/$2.rerr")"
    local rc=$?
    kill_all
    return $rc
}

# refused NAME FILE GOOD PATTERN...: `dmtcp_restart -j FILE` is refused
# (exit 1, one line "dmtcp_restart: refusing to restart FILE: " matching
# every PATTERN, nothing reached the coordinator or came back), FILE is
# unchanged, and after running $REPAIR (if set) GOOD restarts.  Prints the
# PASS/FAIL line.
REPAIR=
refused() {
    local name=$1 file=$2 good=$3 before
    shift 3
    fsum() { [ -f "$1" ] && sha "$1"; } # (reading a FIFO would block)
    before=$(fsum "$file")
    if ! refusal "$name" "$file" "$@"; then
        fail "$name" "$WHY"
    elif ! grep -qF "dmtcp_restart: refusing to restart $file: " <<<"$RESTART_OUT"; then
        fail "$name" "the message does not name $file: $RESTART_OUT"
    elif [ "$(fsum "$file")" != "$before" ]; then
        fail "$name" "dmtcp_restart changed the refused file"
    elif ! { [ -z "$REPAIR" ] || eval "$REPAIR"; } || ! restart_ok "$good" "$name-good"; then
        fail "$name" "refused correctly, but then the original image did not restart: $WHY"
    else
        pass "$name"
    fi
    REPAIR=
}

make_image "$TMP/own" || { fail restart-trust "could not make an image: $WHY"; exit 0; }
OWN=$IMAGE
copy() { cp "$OWN" "$TMP/$1.dmtcp" && chmod "$2" "$TMP/$1.dmtcp"; }

copy group-writable 0660
refused restart-trust-group-writable "$TMP/group-writable.dmtcp" "$OWN" "writable by (its )?group" "mode 0?660" "chmod go-w"
copy other-writable 0602
refused restart-trust-other-writable "$TMP/other-writable.dmtcp" "$OWN" "writable by other users" "mode 0?602" "chmod go-w"
ln -s "$OWN" "$TMP/link.dmtcp"
refused restart-trust-symlink "$TMP/link.dmtcp" "$OWN" "symbolic link" "${OWN##*/}"
mkfifo -m 600 "$TMP/fifo.dmtcp"
refused restart-trust-fifo "$TMP/fifo.dmtcp" "$OWN" "not a regular file" "fifo"

# an incremental chain: the newest image inherits the heap from its parent
chain_parent() { find "$1" -name 'ckpt_prog-counter_*.g[0-9]*.dmtcp' | head -n 1; }
if ! make_image "$TMP/chain" --incremental; then
    fail restart-trust-chain "could not make a chain: $WHY"
else
    CHAIN=$IMAGE
    PARENT=$(chain_parent "$TMP/chain")
    if [ -z "$PARENT" ]; then
        fail restart-trust-chain "no older image in the chain: $(ls "$TMP/chain")"
    else
        chmod g+w "$PARENT"
        REPAIR="chmod g-w '$PARENT'"
        refused restart-trust-chain-group-writable "$CHAIN" "$CHAIN" "${PARENT##*/}" "writable by (its )?group"
        mv "$PARENT" "$TMP/parent-aside.dmtcp"
        ln -s "$TMP/parent-aside.dmtcp" "$PARENT"
        REPAIR="rm -f '$PARENT' && mv '$TMP/parent-aside.dmtcp' '$PARENT'"
        refused restart-trust-chain-symlink "$CHAIN" "$CHAIN" "${PARENT##*/}" "symbolic link"
    fi
fi

# ---- root and another user's images ---------------------------------------------
if ! have_users; then
    skip restart-trust-other-user "needs root and another user (images of stasis-test offered to root)"
    exit 0
fi
cp "$OWN" "$TMP/owned-by-other.dmtcp"
chown "$VICTIM": "$TMP/owned-by-other.dmtcp"
refused restart-trust-owned-by-other "$TMP/owned-by-other.dmtcp" "$OWN" "owned by user $VICTIM" "not by you|you are" "copy"

if [ -n "${CHAIN:-}" ] && [ -n "${PARENT:-}" ]; then
    chown "$VICTIM" "$PARENT"
    REPAIR="chown root '$PARENT'"
    refused restart-trust-chain-owned-by-other "$CHAIN" "$CHAIN" "${PARENT##*/}" "owned by user $VICTIM"
fi

# stasis-test's own image, its header saying root owns it
user_coord "$VICTIM" || { fail restart-trust-header-uid "$WHY"; exit 0; }
VD=$TMP/victim-ckpt
mkdir -m 755 "$VD"
chown "$VICTIM": "$VD"
if ! user_launch "$VICTIM" victim "$VD"; then
    fail restart-trust-header-uid "$WHY"
elif ! out=$(ucmd "$VICTIM" -bc 2>&1); then
    fail restart-trust-header-uid "-bc as $VICTIM: $out"
else
    user_kill_all "$VICTIM"
    VIMG=$(image_in "$VD")
    as_user "$VICTIM" "$IMGTOOL" set "$VIMG" uid 0
    if [ "$("$IMGTOOL" info "$VIMG" | sed -n 's/^uid=//p')" != 0 ]; then
        fail restart-trust-header-uid "could not patch the owner in $VIMG's header"
    else
        refused restart-trust-header-uid "$VIMG" "$OWN" "owned by user $VICTIM" "!belongs to user"
        ln -s "$VIMG" "$TMP/link-to-other.dmtcp"
        refused restart-trust-symlink-to-other "$TMP/link-to-other.dmtcp" "$OWN" "symbolic link"
    fi
fi
user_kill_all "$VICTIM"
exit 0
