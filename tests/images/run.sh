#!/bin/bash
# Runs every tests/images/*.sh and ends with "N passed, N failed, N skipped".
cd "$(dirname "$0")" || exit 1
tests="refuse-not-image refuse-truncated refuse-checksum refuse-foreign refuse-several refuse-changed-code
restart-no-coordinator restart-fail ckpt-vanished-dir ckpt-unwritable-dir ckpt-disk-full ckpt-file-too-large refuse-reserved
doc-layout
crafted-header crafted-regions ckpt-forked-exit"
out=$(for t in $tests; do bash "./$t.sh"; done)
echo "$out"
p=$(grep -c '^PASS ' <<<"$out"); f=$(grep -c '^FAIL ' <<<"$out"); s=$(grep -c '^SKIP ' <<<"$out")
echo "$p passed, $f failed, $s skipped"
[ "$f" -eq 0 ]
