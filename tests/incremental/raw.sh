#!/bin/bash
# Incremental images without compression (--incremental --no-gzip: every
# block stored raw, page-aligned): the same chain as chain.sh, and an exact
# restart from its newest image.
. "$(dirname "$0")/lib/common.sh"
setup
check_chain raw --no-gzip
exit 0
