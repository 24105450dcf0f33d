#!/bin/bash
# After a restart the first checkpoint is full: a chain of three images,
# killed, restarted from the newest; its next checkpoint (same name) has
# chain_depth 0 and no parent, the old chain's .g files are gone, and the
# one after that is incremental on it.  Both restart exactly.
. "$(dirname "$0")/lib/common.sh"
setup
make_chain || { fail after-restart "could not make a chain: $WHY"; exit 0; }
name=after-restart
restart_verify restarted "$IMAGE" 2 || { fail $name-full "$WHY"; exit 0; }
old_links=$(links)
ckpt || { fail $name-full "$WHY"; exit 0; }
gen=$(info "$IMAGE" generation)
if ! expect_image "$IMAGE" 0 ""; then
    fail $name-full "$WHY"
elif (($(size "$IMAGE") < 64 << 20)); then
    fail $name-full "the image has $(size "$IMAGE") bytes, less than the 64 MiB it holds"
else
    pass $name-full
fi
if [ -n "$(links)" ]; then
    fail $name-chain-deleted "the old chain's .g files are still there after a full image: $(links) (before: $old_links)"
else
    pass $name-chain-deleted
fi
change && ckpt || { fail $name-then-incremental "$WHY"; exit 0; }
g=$(link_of "$IMAGE" "$gen")
if ! expect_image "$IMAGE" 1 "${g##*/}"; then
    fail $name-then-incremental "$WHY"
else
    pass $name-then-incremental
fi
kill_all
if restart_verify full "$g" 2; then
    kill_all
    pass $name-restart-full
else
    fail $name-restart-full "$WHY"
fi
if restart_verify newest "$IMAGE" 3; then
    kill_all
    pass $name-restart-newest
else
    fail $name-restart-newest "$WHY"
fi
exit 0
