#!/bin/bash
# Chain structure and size: prog-pages (64 MiB of incompressible memory)
# under --incremental; a full first image, then two images of the 1 % of
# pages changed before each, chained through the .g<generation> names and
# the parent fields of their headers; restarted from the newest, every
# byte is back (lib/common.sh, check_chain).
. "$(dirname "$0")/lib/common.sh"
setup
check_chain chain
exit 0
