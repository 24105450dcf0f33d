#!/bin/bash
# Compaction by count: with --incremental --full-every 3, images 1..3 make
# a chain (depth 0, 1, 2); the 4th is full again (depth 0, no parent) and
# the chain's .g files are deleted; the 5th starts a new chain on it.  The
# 5th and (through its .g name) the 4th restart exactly.
. "$(dirname "$0")/lib/common.sh"
setup
name=compaction
launch base --incremental --full-every 3 || { fail $name "$WHY"; exit 0; }
gens=()
for i in 1 2 3; do
    if ((i > 1)) && ! change; then fail $name-chain "$WHY"; exit 0; fi
    ckpt || { fail $name-chain "checkpoint $i: $WHY"; exit 0; }
    gens[i]=$(info "$IMAGE" generation)
done
g1=$(link_of "$IMAGE" "${gens[1]}") g2=$(link_of "$IMAGE" "${gens[2]}")
if ! expect_image "$IMAGE" 2 "${g2##*/}"; then fail $name-chain "third image: $WHY"; exit 0; fi
if [ "$(links)" != "${g1##*/} ${g2##*/}" ]; then fail $name-chain ".g files: $(links), expected ${g1##*/} ${g2##*/}"; exit 0; fi
pass $name-chain

full=$(size "$g1")
change && ckpt || { fail $name-4th-full "$WHY"; exit 0; }
gens[4]=$(info "$IMAGE" generation)
if ! expect_image "$IMAGE" 0 ""; then
    fail $name-4th-full "$WHY"
elif [ -n "$(links)" ]; then
    fail $name-4th-full "the chain's .g files are still there: $(links)"
elif (($(size "$IMAGE") * 10 < full * 9)); then
    fail $name-4th-full "the 4th image has $(size "$IMAGE") bytes, the first (full) one $full"
else
    pass $name-4th-full
fi

change && ckpt || { fail $name-5th "$WHY"; exit 0; }
g4=$(link_of "$IMAGE" "${gens[4]}")
if ! expect_image "$IMAGE" 1 "${g4##*/}"; then
    fail $name-5th "$WHY"
elif [ "$(links)" != "${g4##*/}" ]; then
    fail $name-5th ".g files: $(links), expected ${g4##*/}"
else
    pass $name-5th
fi
kill_all

if restart_verify newest "$IMAGE" 4; then
    kill_all
    pass $name-restart-5th
else
    fail $name-restart-5th "$WHY"
fi
if restart_verify full "$g4" 3; then
    kill_all
    pass $name-restart-4th
else
    fail $name-restart-4th "$WHY"
fi
exit 0
