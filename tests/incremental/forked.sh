#!/bin/bash
# Incremental and forked checkpointing together (--incremental
# --forked-ckpt: the images are written by a copy-on-write child, which
# hands the page hashes back to the program): the same chain as chain.sh,
# and an exact restart from its newest image.
. "$(dirname "$0")/lib/common.sh"
setup
check_chain forked --forked-ckpt
exit 0
