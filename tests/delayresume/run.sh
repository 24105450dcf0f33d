#!/bin/bash
# Runs every tests/delayresume/*.sh and ends with "N passed, N failed, N skipped".
# (tests/run-all.sh runs them one by one itself.)
cd "$(dirname "$0")" || exit 1
out=$(for t in *.sh; do [ "$t" = run.sh ] || bash "./$t"; done)
echo "$out"
p=$(grep -c '^PASS ' <<<"$out"); f=$(grep -c '^FAIL ' <<<"$out"); s=$(grep -c '^SKIP ' <<<"$out")
echo "$p passed, $f failed, $s skipped"
[ "$f" -eq 0 ]
