#!/bin/bash
# A checkpoint that cannot be written because the image would exceed the
# program's file size limit (RLIMIT_FSIZE lowered with prlimit after a good
# checkpoint; works as any user).  The write fails with EFBIG (and
# SIGXFSZ, which must not kill the program): dmtcp_command -bc exits 4 with
# "File too large" and the path, the coordinator logs the failure, the
# program keeps running, no partial image is left, the earlier image is
# byte-identical; with the limit raised again a checkpoint succeeds; both
# images restart.
. "$(dirname "$0")/lib/common.sh"
need_bins dmtcp_coordinator dmtcp_command dmtcp_launch dmtcp_restart
if ! command -v prlimit >/dev/null; then
    skip ckpt-file-too-large "prlimit (util-linux) is not installed"
    exit 0
fi
build_tools
start_coord || { fail ckpt-file-too-large "coordinator did not start"; exit 0; }
D=$TMP/ckpt
mkdir "$D"
launch big "$D" 4 || { fail ckpt-file-too-large "$WHY"; exit 0; }
if ! ckpt_good x big "$D"; then fail ckpt-file-too-large "first checkpoint: $WHY"; exit 0; fi
OLD=$NEW_IMAGE OLD_TICK=$NEW_TICK OLD_SHA=$(sha "$NEW_IMAGE")
HARD=$(prlimit --pid "$LAUNCH_PID" --fsize --noheadings --raw --output HARD)
if ! prlimit --pid "$LAUNCH_PID" --fsize=1048576:"$HARD"; then
    skip ckpt-file-too-large "cannot lower the program's file size limit"
    exit 0
fi
ckpt_fails ckpt-file-too-large big "$D" "File too large"
if [ "$(sha "$OLD")" != "$OLD_SHA" ]; then fail ckpt-file-too-large-old-image "the earlier image changed"
else pass ckpt-file-too-large-old-image; fi
cp "$OLD" "$TMP/old.dmtcp"

prlimit --pid "$LAUNCH_PID" --fsize="$HARD":"$HARD"
if ! ckpt_good x big "$D"; then fail ckpt-file-too-large-recovers "limit raised again, but: $WHY"
else
    kill_all
    if ! restart_ok "$NEW_IMAGE" "$ID" "$NEW_TICK" big-new; then
        fail ckpt-file-too-large-recovers "the image written afterwards does not restart: $WHY"
    elif ! restart_ok "$TMP/old.dmtcp" "$ID" "$OLD_TICK" big-old; then
        fail ckpt-file-too-large-recovers "the earlier image (kept through the failure) does not restart: $WHY"
    else pass ckpt-file-too-large-recovers; fi
fi
exit 0
