#!/bin/bash
# Runs every tests/cli/*.sh and ends with "N passed, N failed, N skipped".
cd "$(dirname "$0")" || exit 1
tests="no-coordinator usage secret malformed output coordinator checkpoint restart launch make-deps launch-dies-early stdio-files outside-terminal"
out=$(for t in $tests; do bash "./$t.sh"; done)
echo "$out"
p=$(grep -c '^PASS ' <<<"$out"); f=$(grep -c '^FAIL ' <<<"$out"); s=$(grep -c '^SKIP ' <<<"$out")
echo "$p passed, $f failed, $s skipped"
[ "$f" -eq 0 ]
