#!/bin/bash
# Compaction by size: with --incremental (every 8th image full by count)
# and 35 % of the pages changed before each checkpoint, the 2nd and 3rd
# images are incremental, but then the chain's images add up to more than
# half of the full one, so the 4th is full (depth 0) and the .g files are
# deleted.  The 4th restarts exactly.
. "$(dirname "$0")/lib/common.sh"
setup
name=compaction-size
launch base --incremental || { fail $name "$WHY"; exit 0; }
ckpt || { fail $name-chain "$WHY"; exit 0; }
for depth in 1 2; do
    gen=$(info "$IMAGE" generation)
    change 35 && ckpt || { fail $name-chain "$WHY"; exit 0; }
    if ! expect_image "$IMAGE" $depth "$(basename "$(link_of "$IMAGE" "$gen")")"; then
        fail $name-chain "image $((depth + 1)): $WHY"
        exit 0
    fi
done
pass $name-chain
change 35 && ckpt || { fail $name-4th-full "$WHY"; exit 0; }
if ! expect_image "$IMAGE" 0 ""; then
    fail $name-4th-full "$WHY"
elif [ -n "$(links)" ]; then
    fail $name-4th-full "the chain's .g files are still there: $(links)"
else
    pass $name-4th-full
fi
kill_all
if restart_verify newest "$IMAGE" 3; then
    kill_all
    pass $name-restart
else
    fail $name-restart "$WHY"
fi
exit 0
