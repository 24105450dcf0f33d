#!/bin/bash
# A checkpoint that does not fit: the checkpoint directory is a small tmpfs
# (root only: skipped otherwise or when mounting fails).  The program holds
# 24 MiB of non-zero heap; a first checkpoint fits, then a filler file
# leaves 8 MiB free.  dmtcp_command -bc exits 4 with "No space left on
# device" and the path, the coordinator logs the failure, the program keeps
# running, no partial image is left and the earlier image is byte-identical;
# once the filler is removed a checkpoint succeeds; both images restart.
. "$(dirname "$0")/lib/common.sh"
need_bins dmtcp_coordinator dmtcp_command dmtcp_launch dmtcp_restart
if [ "$(id -u)" != 0 ]; then
    skip ckpt-disk-full "needs root to mount a small tmpfs"
    exit 0
fi
build_tools
D=$TMP/small
mkdir "$D"
if ! mount -t tmpfs -o size=64m,mode=0700 stasis-test-full "$D" 2>"$TMP/mount.err"; then
    skip ckpt-disk-full "cannot mount a tmpfs: $(cat "$TMP/mount.err")"
    exit 0
fi
MOUNTS=$D
start_coord || { fail ckpt-disk-full "coordinator did not start"; exit 0; }
launch full "$D" 24 || { fail ckpt-disk-full "$WHY"; exit 0; }
if ! ckpt_good x full "$D"; then fail ckpt-disk-full "first checkpoint (should fit in 64 MiB): $WHY"; exit 0; fi
OLD=$NEW_IMAGE OLD_TICK=$NEW_TICK OLD_SHA=$(sha "$NEW_IMAGE")

# fill the file system, then give 8 MiB back: less than an image needs
dd if=/dev/zero of="$D/filler" bs=1M status=none 2>/dev/null
sync
truncate -s -8M "$D/filler"
ckpt_fails ckpt-disk-full full "$D" "No space left on device"
if [ "$(sha "$OLD")" != "$OLD_SHA" ]; then fail ckpt-disk-full-old-image "the earlier image changed"
elif IMGS=("$D"/*.dmtcp) && [ ${#IMGS[@]} -ne 1 ]; then fail ckpt-disk-full-old-image "images in $D: $(ls "$D")"
else pass ckpt-disk-full-old-image; fi
cp "$OLD" "$TMP/old.dmtcp" || { fail ckpt-disk-full "cannot copy the earlier image aside"; exit 0; }

rm -f "$D/filler"
if ! ckpt_good x full "$D"; then fail ckpt-disk-full-recovers "space freed, but: $WHY"
else
    kill_all
    if ! restart_ok "$NEW_IMAGE" "$ID" "$NEW_TICK" full-new; then
        fail ckpt-disk-full-recovers "the image written after freeing space does not restart: $WHY"
    elif ! restart_ok "$TMP/old.dmtcp" "$ID" "$OLD_TICK" full-old; then
        fail ckpt-disk-full-recovers "the earlier image (kept through the failure) does not restart: $WHY"
    else pass ckpt-disk-full-recovers; fi
fi
exit 0
