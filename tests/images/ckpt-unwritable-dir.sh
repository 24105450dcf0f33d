#!/bin/bash
# shellcheck disable=SC2317 # chmod_*/bind_* are called through unwritable
# A checkpoint directory that cannot be written, after a good checkpoint
# into it: as an ordinary user, chmod 0500 (root ignores modes, so this
# case is skipped as root); as root, a read-only bind mount of it (skipped
# when mounting is not possible).  dmtcp_command -bc exits 4 with a message
# naming the directory and the errno text, the coordinator logs the
# failure, the program keeps running, no partial image is left, the
# earlier image is byte-identical and restarts, and once the directory is
# writable again a checkpoint works and restarts.
. "$(dirname "$0")/lib/common.sh"
need_bins dmtcp_coordinator dmtcp_command dmtcp_launch dmtcp_restart
build_tools
start_coord || { fail ckpt-unwritable "coordinator did not start"; exit 0; }

# unwritable NAME MAKE_RO MAKE_RW PATTERN: one run of the whole sequence
unwritable() {
    local name=$1 make_ro=$2 make_rw=$3 pat=$4 old old_tick old_sha saved
    D=$TMP/$name
    mkdir "$D"
    launch "$name" "$D" || { fail "$name" "$WHY"; return; }
    if ! ckpt_good x "$name" "$D"; then fail "$name" "first checkpoint: $WHY"; kill_all; return; fi
    old=$NEW_IMAGE old_tick=$NEW_TICK old_sha=$(sha "$NEW_IMAGE")
    if ! $make_ro "$D"; then
        skip "$name" "could not make $D read-only"
        kill_all
        return
    fi
    ckpt_fails "$name" "$name" "$D" "$pat"
    if [ "$(sha "$old")" != "$old_sha" ]; then fail "$name-old-image" "the earlier image changed"
    else pass "$name-old-image"; fi
    saved=$TMP/$name-old.dmtcp
    cp "$old" "$saved"
    $make_rw "$D"
    if ! ckpt_good x "$name" "$D"; then fail "$name-recovers" "directory writable again, but: $WHY"
    else
        kill_all
        if ! restart_ok "$NEW_IMAGE" "$ID" "$NEW_TICK" "$name-new"; then
            fail "$name-recovers" "the image written afterwards does not restart: $WHY"
        elif ! restart_ok "$saved" "$ID" "$old_tick" "$name-old"; then
            fail "$name-recovers" "the earlier image (kept through the failure) does not restart: $WHY"
        else pass "$name-recovers"; fi
    fi
    kill_all
}

chmod_ro() { chmod 0500 "$1"; }
chmod_rw() { chmod 0700 "$1"; }
bind_ro() {
    mount --bind "$1" "$1" 2>/dev/null || return 1
    MOUNTS="$1 $MOUNTS"
    mount -o remount,bind,ro "$1" 2>/dev/null && ! touch "$1/.probe" 2>/dev/null
}
bind_rw() { umount "$1"; }

if [ "$(id -u)" = 0 ]; then
    skip ckpt-unwritable-chmod "running as root, which ignores directory modes (ckpt-unwritable-readonly-mount and ckpt-vanished-* cover root)"
    unwritable ckpt-unwritable-readonly-mount bind_ro bind_rw "Read-only file system"
else
    unwritable ckpt-unwritable-chmod chmod_ro chmod_rw "Permission denied"
    skip ckpt-unwritable-readonly-mount "needs root to mount"
fi
exit 0
