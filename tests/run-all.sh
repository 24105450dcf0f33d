#!/usr/bin/env bash
# run-all.sh — runs every test suite and ends with exactly one line,
# "N passed, N failed" (", N skipped" when any were skipped).  Exits non-zero
# if anything failed or nothing ran.  `make test` builds, then runs this.
#
# The suites, in order, each printing one "PASS ...", "FAIL ..." or
# "SKIP ..." line per test on stdout (only lines that start so are counted):
#   build/tests/unit/*       unit tests (executables; STASIS_UNIT_DIR: another build's)
#   tests/cli/*.sh           command-line tests
#   tests/scenarios/run.sh   scenario programs in every mode
#   tests/scenarios/foreign-programs.sh   python3, bash, make and java checkpointed mid-run
#   tests/images/*.sh        image validation tests
#   tests/incremental/*.sh   incremental checkpoints: chains, compaction, refusals
#   tests/security/*.sh      files other users can plant or offer (some need root)
#   tests/delayresume/*.sh   delayed resume
#   tests/liveness/*.sh      nothing hangs: unparkable threads, -k always kills
# A unit test or script that exits non-zero without printing a FAIL line, or
# prints no result line at all, is counted as a failure here.  Independent
# pieces run side by side (STASIS_TEST_JOBS at once, default the number of
# CPUs); each piece's lines are shown together when its job ends.
#
# STASIS_TEST_FILTER (an extended regex) selects tests: scenario runs by
# "name/mode" (e.g. "heap", "/restart2$"), foreign programs by
# "foreign-python3/kill-restart", unit tests and scripts by "unit/NAME" and
# "cli/NAME.sh" / "images/NAME.sh" / "incremental/NAME.sh" / "liveness/NAME.sh" / "security/NAME.sh".

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FILTER=${STASIS_TEST_FILTER:-}
export STASIS_TEST_FILTER=$FILTER

RESULTS=$(mktemp "${TMPDIR:-/tmp}/stasis-results.XXXXXX") || exit 2
JOBDIR=$(mktemp -d "${TMPDIR:-/tmp}/stasis-jobs.XXXXXX") || exit 2
trap 'rm -rf "$RESULTS" "$JOBDIR"' EXIT

selected() { [ -z "$FILTER" ] || [[ $1 =~ $FILTER ]]; }

# run_piece LABEL SECONDS OUT CMD...: runs CMD (SECONDS bounds it, 0 = no
# bound) with its stdout in OUT; adds a FAIL line to OUT if it failed
# without saying so.  (A driver whose tests the filter all left out may
# rightly print nothing.)
run_piece() {
    local label=$1 secs=$2 out=$3 rc
    shift 3
    if ((secs > 0)); then
        timeout -k 10 "$secs" "$@" </dev/null >"$out"
    else
        "$@" </dev/null >"$out"
    fi
    rc=$?
    if ((rc == 124)) && ((secs > 0)); then
        echo "FAIL $label: did not finish within ${secs}s" >>"$out"
    elif ((rc != 0)) && ! grep -q '^FAIL' "$out"; then
        echo "FAIL $label: exited with status $rc without a FAIL line" >>"$out"
    elif ! grep -Eq '^(PASS|FAIL|SKIP)' "$out" && selected "$label"; then
        echo "FAIL $label: printed no PASS, FAIL or SKIP line" >>"$out"
    fi
}

# ---- the jobs ----------------------------------------------------------------
# A job is a list of pieces run one after the other; up to STASIS_TEST_JOBS
# jobs (default: the number of CPUs, at most 4) run at once.  Every piece
# makes its own temporary directory, coordinator (on a port of its own) and
# runtime directory, so pieces of different jobs do not meet; the pieces
# that share something stay in one job: the command-line tests (the default
# port), the security tests (the second users' files) and the liveness
# tests.  A job's output is shown, whole, when it ends.
JOBS=${STASIS_TEST_JOBS:-$(nproc 2>/dev/null || echo 1)}
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || JOBS=1
((JOBS <= 4)) || JOBS=4
NJOBS=0

# job_add PIECE...: a job of the pieces, each "LABEL<TAB>SECONDS<TAB>CMD ARG..."
# (arguments without spaces)
job_add() {
    local f=$JOBDIR/job.$((++NJOBS)) piece
    for piece; do printf '%s\n' "$piece" >>"$f"; done
}

job_run() { # JOBFILE: its pieces in order; output in JOBFILE.out, then JOBFILE.done
    local label secs cmd n=0
    while IFS=$'\t' read -r label secs cmd; do
        # shellcheck disable=SC2086 # the command's words
        run_piece "$label" "$secs" "$1.piece.$((++n))" $cmd
        cat "$1.piece.$n" >>"$1.out"
    done <"$1"
    mv "$1.out" "$1.done"
}

# show_done: prints the output of the jobs that ended and records it
show_done() {
    local f
    for f in "$JOBDIR"/job.*.done; do
        [ -e "$f" ] || continue
        cat "$f"
        cat "$f" >>"$RESULTS"
        rm -f "$f"
    done
}

run_jobs() {
    local i running
    for ((i = 1; i <= NJOBS; i++)); do
        : >"$JOBDIR/job.$i.out"
        while running=$(jobs -rp | wc -l) && ((running >= JOBS)); do
            wait -n
            show_done
        done
        job_run "$JOBDIR/job.$i" &
    done
    wait
    show_done
}

# scripts DIR GROUP: the pieces for every DIR/*.sh, as GROUP/NAME.sh
scripts() {
    local f
    PIECES=()
    for f in "$ROOT/$1"/*.sh; do
        [ -f "$f" ] || continue
        [ "${f##*/}" = run.sh ] && continue # each suite's own runner; its scripts run here one by one
        selected "$2/${f##*/}" || continue
        PIECES+=("$2/${f##*/}"$'\t'1800$'\t'"bash $f")
    done
}

# the longest first, so that the end is not one long job alone
job_add "foreign-programs"$'\t'0$'\t'"$ROOT/tests/scenarios/foreign-programs.sh"
scripts tests/security security
((${#PIECES[@]} == 0)) || job_add "${PIECES[@]}"
scripts tests/cli cli
((${#PIECES[@]} == 0)) || job_add "${PIECES[@]}"
scripts tests/liveness liveness
((${#PIECES[@]} == 0)) || job_add "${PIECES[@]}"

units=()
for f in "${STASIS_UNIT_DIR:-$ROOT/build/tests/unit}"/*; do
    { [ -f "$f" ] && [ -x "$f" ]; } || continue
    selected "unit/${f##*/}" || continue
    units+=("unit/${f##*/}"$'\t'600$'\t'"$f")
done
((${#units[@]} == 0)) || job_add "${units[@]}"

# The scenario driver bounds each of its own waits and always prints a
# line per run; one job per scenario program (all its modes).
nscen=0
for f in "$ROOT/build/tests/scenarios"/*; do
    { [ -f "$f" ] && [ -x "$f" ]; } || continue
    job_add "scenarios"$'\t'0$'\t'"$ROOT/tests/scenarios/run.sh ${f##*/}"
    nscen=$((nscen + 1))
done
((nscen > 0)) || job_add "scenarios"$'\t'0$'\t'"$ROOT/tests/scenarios/run.sh"

for d in images incremental delayresume plugins; do
    scripts "tests/$d" "$d"
    for p in "${PIECES[@]}"; do job_add "$p"; done
done

run_jobs

passed=$(grep -c '^PASS' "$RESULTS")
failed=$(grep -c '^FAIL' "$RESULTS")
skipped=$(grep -c '^SKIP' "$RESULTS")
summary="$passed passed, $failed failed"
((skipped == 0)) || summary+=", $skipped skipped"
echo "$summary"
((failed == 0 && passed + failed > 0))
