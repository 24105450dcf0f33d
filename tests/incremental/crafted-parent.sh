#!/bin/bash
# The newest image of a real chain with its parent field crafted and the
# checksums recomputed (tests/images/lib/imgtool.c): 256 bytes with no
# NUL, and a name in another directory.  dmtcp_restart refuses each before
# it follows the chain, naming the image and the field (it once searched
# the unterminated field for a '/' past its end: a stack over-read that
# ASan found in chain.c), and so does the restart helper run on it by hand.
# With the original the restart works.
. "$(dirname "$0")/lib/common.sh"
setup
ulimit -c 0
make_chain || { fail crafted-parent "could not make a chain: $WHY"; exit 0; }

craft parent-no-nul set-text parent --fill A
crafted parent-no-nul "parent" "no terminating NUL"

craft parent-elsewhere set-text parent "../${CK##*/}/${G2##*/}"
crafted parent-elsewhere "parent" "outside the image's directory"

if restart_verify original "$IMAGE" 2; then
    kill_all
    pass crafted-parent-original
else
    fail crafted-parent-original "$WHY"
fi
exit 0
