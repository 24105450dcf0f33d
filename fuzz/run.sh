#!/bin/bash
# run.sh — `make fuzz`: runs each fuzz harness given (build-fuzz/fuzz_*) for
# FUZZ_SECONDS seconds (default 60) and prints one line per harness,
# "PASS fuzz-NAME: N executions …" or "FAIL fuzz-NAME: …"; exits non-zero
# if any harness found a crash, a leak, a sanitizer report or a timeout.
#
# Harness fuzz_NAME starts from the seed corpus fuzz/corpus/NAME/ (kept in
# the tree, read only) and from build-fuzz/corpus/NAME/, where it adds the
# inputs that reach new code, so later runs go on from there; the
# dictionary fuzz/NAME.dict, when there is one, helps it with magic words.
# The input that failed is left in build-fuzz/artifacts/NAME-*; add it to
# fuzz/corpus/NAME/ once fixed, as a regression.  Each run's log:
# build-fuzz/fuzz_NAME.log.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECS=${FUZZ_SECONDS:-60}
# the harnesses' scratch files (images, restart scripts): tmpfs when there is one
TMPDIR=$(mktemp -d /dev/shm/stasis-fuzz.XXXXXX 2>/dev/null || mktemp -d "${TMPDIR:-/tmp}/stasis-fuzz.XXXXXX") || exit 2
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
status=0
for h in "$@"; do
    name=${h##*/}
    short=${name#fuzz_}
    work=$ROOT/build-fuzz/corpus/$short
    log=$ROOT/build-fuzz/$name.log
    mkdir -p "$work" "$ROOT/build-fuzz/artifacts"
    dict=()
    [ -f "$ROOT/fuzz/$short.dict" ] && dict=(-dict="$ROOT/fuzz/$short.dict")
    "$h" -max_total_time="$SECS" -max_len=65536 -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
        "${dict[@]}" -artifact_prefix="$ROOT/build-fuzz/artifacts/$short-" \
        "$work" "$ROOT/fuzz/corpus/$short" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
    if [ $rc -eq 0 ]; then
        echo "PASS fuzz-$short: ${runs:-?} executions in ${SECS} s, ${cov:-cov: ?} edges, no crash"
    else
        echo "FAIL fuzz-$short: exit status $rc after ${runs:-?} executions; input in build-fuzz/artifacts/, log $log:"
        grep -E 'ERROR|SUMMARY|runtime error|#[0-9]+ 0x|fuzz_' "$log" | head -n 30
        status=1
    fi
done
exit $status
