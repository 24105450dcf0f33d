#!/usr/bin/env bash
# run-all.sh — runs every test suite and ends with exactly one line,
# "N passed, N failed" (", N skipped" when any were skipped).  Exits non-zero
# if anything failed or nothing ran.  `make test` builds, then runs this.
#
# The suites, in order, each printing one "PASS ...", "FAIL ..." or
# "SKIP ..." line per test on stdout (only lines that start so are counted):
#   build/tests/unit/*       unit tests (executables)
#   tests/cli/*.sh           command-line tests
#   tests/scenarios/run.sh   scenario programs in every mode
#   tests/scenarios/foreign-programs.sh   python3 and bash checkpointed mid-run
#   tests/images/*.sh        image validation tests
#   tests/incremental/*.sh   incremental checkpoints: chains, compaction, refusals
#   tests/security/*.sh      another user's attacks (as root; SKIP otherwise)
# A unit test or script that exits non-zero without printing a FAIL line, or
# prints no result line at all, is counted as a failure here.
#
# STASIS_TEST_FILTER (an extended regex) selects tests: scenario runs by
# "name/mode" (e.g. "heap", "/restart2$"), foreign programs by
# "foreign-python3/kill-restart", unit tests and scripts by "unit/NAME" and
# "cli/NAME.sh" / "images/NAME.sh" / "incremental/NAME.sh" / "security/NAME.sh".

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FILTER=${STASIS_TEST_FILTER:-}
export STASIS_TEST_FILTER=$FILTER

RESULTS=$(mktemp "${TMPDIR:-/tmp}/stasis-results.XXXXXX") || exit 2
ONE=$(mktemp "${TMPDIR:-/tmp}/stasis-one.XXXXXX") || exit 2
trap 'rm -f "$RESULTS" "$ONE"' EXIT

selected() { [ -z "$FILTER" ] || [[ $1 =~ $FILTER ]]; }

# run_piece LABEL SECONDS CMD...: runs CMD (SECONDS bounds it, 0 = no
# bound), shows its stdout and records it for counting; adds a FAIL line if
# it failed without saying so.  (A driver whose tests the filter all left
# out may rightly print nothing.)
run_piece() {
    local label=$1 secs=$2 rc
    shift 2
    if ((secs > 0)); then
        timeout --foreground -k 10 "$secs" "$@" </dev/null | tee "$ONE"
    else
        "$@" </dev/null | tee "$ONE"
    fi
    rc=${PIPESTATUS[0]}
    cat "$ONE" >>"$RESULTS"
    if ((rc == 124)) && ((secs > 0)); then
        echo "FAIL $label: did not finish within ${secs}s" | tee -a "$RESULTS"
    elif ((rc != 0)) && ! grep -q '^FAIL' "$ONE"; then
        echo "FAIL $label: exited with status $rc without a FAIL line" | tee -a "$RESULTS"
    elif ! grep -Eq '^(PASS|FAIL|SKIP)' "$ONE" && selected "$label"; then
        echo "FAIL $label: printed no PASS, FAIL or SKIP line" | tee -a "$RESULTS"
    fi
}

# run_scripts DIR GROUP: every DIR/*.sh, as GROUP/NAME.sh.
run_scripts() {
    local f
    for f in "$ROOT/$1"/*.sh; do
        [ -f "$f" ] || continue
        [ "${f##*/}" = run.sh ] && continue # each suite's own runner; its scripts run here one by one
        selected "$2/${f##*/}" || continue
        run_piece "$2/${f##*/}" 1800 bash "$f"
    done
}

for f in "$ROOT"/build/tests/unit/*; do
    { [ -f "$f" ] && [ -x "$f" ]; } || continue
    selected "unit/${f##*/}" || continue
    run_piece "unit/${f##*/}" 600 "$f"
done

run_scripts tests/cli cli

# The drivers bound each of their own waits and always print a line per run.
run_piece scenarios 0 "$ROOT/tests/scenarios/run.sh"
run_piece foreign-programs 0 "$ROOT/tests/scenarios/foreign-programs.sh"

run_scripts tests/images images
run_scripts tests/incremental incremental
run_scripts tests/delayresume delayresume
run_scripts tests/plugins plugins
run_scripts tests/security security

passed=$(grep -c '^PASS' "$RESULTS")
failed=$(grep -c '^FAIL' "$RESULTS")
skipped=$(grep -c '^SKIP' "$RESULTS")
summary="$passed passed, $failed failed"
((skipped == 0)) || summary+=", $skipped skipped"
echo "$summary"
((failed == 0 && passed + failed > 0))
