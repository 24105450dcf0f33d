#!/bin/bash
# Restart from an older member of a chain: with a chain of three images
# (round 0 full, rounds 1 and 2 incremental; make_chain), restarting from
# the middle one's second name (.g<N>, itself incremental) brings back the
# memory of round 1 exactly, and from the oldest (full) that of round 0.
# Restarting does not change any image, and afterwards the newest still
# restarts to round 2.
. "$(dirname "$0")/lib/common.sh"
setup
make_chain || { fail restart-older "could not make a chain: $WHY"; exit 0; }
sums=$(cd "$CK" && sha256sum ./*.dmtcp)

if restart_verify older-middle "$G2" 1; then
    kill_all
    pass restart-older-middle
else
    fail restart-older-middle "$WHY"
fi

if restart_verify older-full "$G1" 0; then
    kill_all
    pass restart-older-full
else
    fail restart-older-full "$WHY"
fi

if [ "$(cd "$CK" && sha256sum ./*.dmtcp)" != "$sums" ]; then
    fail restart-older-newest "restarting changed the images of the chain"
elif restart_verify older-newest "$IMAGE" 2; then
    kill_all
    pass restart-older-newest
else
    fail restart-older-newest "$WHY"
fi
exit 0
