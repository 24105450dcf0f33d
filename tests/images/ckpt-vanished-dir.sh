#!/bin/bash
# A checkpoint directory that disappears while the program runs (as root
# and as any user).  (1) removed (rm -rf) before the first checkpoint;
# (2) moved away after a good checkpoint.  dmtcp_command -bc exits 4 with a
# message naming the directory and "No such file or directory", the
# coordinator logs the failure, the program keeps running, no partial
# image is left, the earlier image is byte-identical and still restarts,
# and once the directory is back a checkpoint works and restarts.
. "$(dirname "$0")/lib/common.sh"
need_bins dmtcp_coordinator dmtcp_command dmtcp_launch dmtcp_restart
build_tools
start_coord || { fail ckpt-vanished "coordinator did not start"; exit 0; }

# (1) removed before any checkpoint
D=$TMP/gone
mkdir "$D"
launch gone "$D" || { fail ckpt-vanished "$WHY"; exit 0; }
rm -rf "$D"
ckpt_fails ckpt-vanished-removed gone "$D" "No such file or directory"
if [ -e "$D" ] && [ -n "$(ls -A "$D")" ]; then
    fail ckpt-vanished-removed-nothing-left "$D was recreated with: $(ls -A "$D")"
else pass ckpt-vanished-removed-nothing-left; fi
mkdir -p "$D"
if ! ckpt_good x gone "$D"; then fail ckpt-vanished-removed-recovers "directory back, but: $WHY"
else
    kill_all
    if restart_ok "$NEW_IMAGE" "$ID" "$NEW_TICK" gone-new; then pass ckpt-vanished-removed-recovers
    else fail ckpt-vanished-removed-recovers "the image written once the directory was back does not restart: $WHY"; fi
fi
kill_all

# (2) moved away after a good checkpoint
D=$TMP/moved
mkdir "$D"
launch moved "$D" || { fail ckpt-vanished "$WHY"; exit 0; }
if ! ckpt_good x moved "$D"; then fail ckpt-vanished-moved "first checkpoint: $WHY"; exit 0; fi
OLD=$NEW_IMAGE OLD_TICK=$NEW_TICK OLD_SHA=$(sha "$NEW_IMAGE")
mv "$D" "$D.away"
OLD=$D.away/${OLD##*/}
ckpt_fails ckpt-vanished-moved moved "$D" "No such file or directory"
if [ "$(sha "$OLD")" != "$OLD_SHA" ]; then fail ckpt-vanished-moved-old-image "the earlier image changed"
elif [ -n "$(tmp_left "$D.away")" ]; then fail ckpt-vanished-moved-old-image "left behind: $(tmp_left "$D.away")"
else pass ckpt-vanished-moved-old-image; fi
mkdir "$D"
if ! ckpt_good x moved "$D"; then fail ckpt-vanished-moved-recovers "directory back, but: $WHY"
else
    NEW=$NEW_IMAGE
    kill_all
    if ! restart_ok "$NEW" "$ID" "$NEW_TICK" moved-new; then
        fail ckpt-vanished-moved-recovers "the image written once the directory was back does not restart: $WHY"
    elif ! restart_ok "$OLD" "$ID" "$OLD_TICK" moved-old; then
        fail ckpt-vanished-moved-recovers "the earlier image does not restart: $WHY"
    else pass ckpt-vanished-moved-recovers; fi
fi
exit 0
