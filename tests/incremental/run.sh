#!/bin/bash
# Runs every tests/incremental/*.sh and ends with "N passed, N failed, N skipped".
cd "$(dirname "$0")" || exit 1
tests="chain raw restart-older compaction compaction-size refuse-missing refuse-replaced refuse-corrupt forked
after-restart crafted-parent"
out=$(for t in $tests; do bash "./$t.sh"; done)
echo "$out"
p=$(grep -c '^PASS ' <<<"$out"); f=$(grep -c '^FAIL ' <<<"$out"); s=$(grep -c '^SKIP ' <<<"$out")
echo "$p passed, $f failed, $s skipped"
[ "$f" -eq 0 ]
