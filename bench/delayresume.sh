#!/bin/bash
# shellcheck disable=SC2317 # cleanup runs from the trap
# delayresume.sh — delayed-resume figures (bench-delayresume.c, run under
# dmtcp_launch --with-plugin lib/libdmtcp_delayresume.so); bench/run.sh
# calls it and puts the figures in its table, latest.md and latest.json;
# it also runs alone (prints the table).
#   parked CPU      CPU used by the process per second of open window, with
#                   8 spinning threads parked, 2 s windows (BENCH_DR_CPU_REPS,
#                   default 3), next to the same threads running
#   unblock→running per thread, from the initiator's CLOCK_MONOTONIC stamp
#                   just before dmtcp_checkpoint_unblock_resume() to the
#                   thread's first stamp after it; 8 threads x
#                   BENCH_DR_ROUNDS rounds (default 50); p50 and p99
#   block_resume    dmtcp_checkpoint_block_resume() duration (until it
#                   returns with the image durable) next to plain
#                   dmtcp_checkpoint() of the same small process, alternating,
#                   BENCH_DR_REPS times each (default 21); median (min, max)
# Nothing asserts on timing.  With DR_FRAGMENT=PREFIX, also writes
# PREFIX.tsv (table rows in run.sh's tab-separated format, see lib.sh),
# PREFIX.note and PREFIX.json (a JSON object).  Exit status non-zero only if
# it could not measure.
set -u
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=$ROOT/bin
PLUGIN=$ROOT/lib/libdmtcp_delayresume.so
ROUNDS=${BENCH_DR_ROUNDS:-50}
REPS=${BENCH_DR_REPS:-21}
CPU_REPS=${BENCH_DR_CPU_REPS:-3}
BASE=${STASIS_BENCH_DIR:-/var/tmp}
for v in ROUNDS REPS CPU_REPS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "bench-dr: BENCH_DR_$v must be a positive integer" >&2; exit 1; }
done
for c in dmtcp_coordinator dmtcp_launch; do
    [ -x "$BIN/$c" ] || { echo "bench-dr: $BIN/$c missing: run make" >&2; exit 1; }
done
[ -f "$PLUGIN" ] || { echo "bench-dr: $PLUGIN missing: run make" >&2; exit 1; }
while read -r v; do unset "$v"; done < <(compgen -e | grep '^DMTCP_')
unset STASIS_COORD_SECRET

WORK=$(mktemp -d "$BASE/stasis-bench-dr.XXXXXX") || { echo "bench-dr: cannot create a directory in $BASE" >&2; exit 1; }
mkdir -p "$WORK/ckpt" "$WORK/xdg"
chmod 700 "$WORK" "$WORK/xdg"
export XDG_RUNTIME_DIR=$WORK/xdg
COORD_PID='' PROG_PID='' PORT=''
cleanup() {
    local p
    for p in $PROG_PID $COORD_PID; do kill -9 "$p" 2>/dev/null; done
    for p in $PROG_PID $COORD_PID; do wait "$p" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() {
    echo "bench-dr: $*" >&2
    [ -s "$WORK/prog.err" ] && tail -n 5 "$WORK/prog.err" >&2
    exit 1
}

cc -std=gnu11 -O2 -Wall -I"$ROOT/include" -o "$WORK/bench-delayresume" "$ROOT/bench/bench-delayresume.c" -lpthread ||
    die "cannot compile bench/bench-delayresume.c"
"$BIN/dmtcp_coordinator" -p 0 --port-file "$WORK/port" --coord-logfile "$WORK/coord.log" --timeout 600 \
    </dev/null >/dev/null 2>&1 &
COORD_PID=$!
end=$((SECONDS + 10))
until [ -s "$WORK/port" ]; do
    [ $SECONDS -lt $end ] || die "the coordinator wrote no port"
    sleep 0.02
done
PORT=$(cat "$WORK/port")

# run MODE ARGS...: the program under the engine with the plugin; its output
# in $WORK/MODE.out; bounded (only against hangs)
run() {
    local mode=$1
    "$BIN/dmtcp_launch" -p "$PORT" -j -q --ckptdir "$WORK/ckpt" --with-plugin "$PLUGIN" \
        "$WORK/bench-delayresume" "$@" </dev/null >"$WORK/$mode.out" 2>"$WORK/prog.err" &
    PROG_PID=$!
    local end=$((SECONDS + 600))
    while kill -0 "$PROG_PID" 2>/dev/null; do
        [ $SECONDS -lt $end ] || die "$mode: no end after 600 s"
        sleep 0.05
    done
    wait "$PROG_PID"
    local rc=$?
    PROG_PID=''
    [ $rc = 0 ] || die "$mode: exited $rc: $(grep '^error' "$WORK/$mode.out")"
}

vals() { sed -n "s/^$1 //p" "$WORK/$2.out"; }
# pct P: the P-th percentile (nearest rank) of stdin
pct() { sort -g | awk -v p="$1" '{ v[NR] = $1 } END { r = int((p / 100) * NR + 0.999999); if (r < 1) r = 1; print v[r] }'; }
stat3() { # median min max of stdin
    sort -g | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR/2] + v[NR/2 + 1]) / 2; print m, v[1], v[NR] }'
}
jlist() { tr '\n' ' ' | sed 's/ *$//; s/ /, /g'; }

run cpu 8 2000 "$CPU_REPS"
read -r CPU_MED CPU_MIN CPU_MAX < <(vals cpu_ms_per_s cpu | stat3)
BUSY=$(vals busy_ms_per_s cpu)

run latency 8 "$ROUNDS"
LAT_N=$(vals latency_us latency | wc -l)
LAT_P50=$(vals latency_us latency | pct 50)
LAT_P99=$(vals latency_us latency | pct 99)
LAT_MAX=$(vals latency_us latency | pct 100)
LAT_MIN=$(vals latency_us latency | pct 0)

run duration "$REPS"
read -r BLK_MED BLK_MIN BLK_MAX < <(vals block_s duration | stat3)
read -r PLN_MED PLN_MIN PLN_MAX < <(vals plain_s duration | stat3)
RATIO=$(awk -v a="$BLK_MED" -v b="$PLN_MED" 'BEGIN { printf "%.2f", a / b }')

ROWS=$(
    printf '%-24s %10s %10s %10s %14s   %s\n' "delayed resume" median min max "" ""
    printf '%-24s %8.3f ms %8.3f ms %8.3f ms %14s   %s\n' "parked CPU per s window" "$CPU_MED" "$CPU_MIN" "$CPU_MAX" "-" \
        "running: $(printf '%.0f' "$BUSY") ms/s"
    printf '%-24s %8.1f us %8.1f us %8.1f us %14s   %s\n' "unblock->running p50" "$LAT_P50" "$LAT_MIN" "$LAT_MAX" "-" \
        "$LAT_N samples"
    printf '%-24s %8.1f us %8.1f us %8.1f us %14s   %s\n' "unblock->running p99" "$LAT_P99" "$LAT_MIN" "$LAT_MAX" "-" \
        "$LAT_N samples"
    printf '%-24s %8.2f ms %8.2f ms %8.2f ms %14s   %s\n' "block_resume()" "$(awk -v v="$BLK_MED" 'BEGIN{print v*1000}')" \
        "$(awk -v v="$BLK_MIN" 'BEGIN{print v*1000}')" "$(awk -v v="$BLK_MAX" 'BEGIN{print v*1000}')" "-" "$RATIO × plain"
    printf '%-24s %8.2f ms %8.2f ms %8.2f ms %14s   %s\n' "  plain checkpoint()" "$(awk -v v="$PLN_MED" 'BEGIN{print v*1000}')" \
        "$(awk -v v="$PLN_MIN" 'BEGIN{print v*1000}')" "$(awk -v v="$PLN_MAX" 'BEGIN{print v*1000}')" "-" ""
)
NOTE="delayed resume: parked CPU with 8 spinning threads over $CPU_REPS windows of 2 s (CPU ms per s of window; the same threads running: $(printf '%.0f' "$BUSY") ms/s); unblock→running over 8 threads × $ROUNDS rounds (min/max in the min/max columns); block_resume() vs dmtcp_checkpoint() of the same small process, $REPS each, alternating"
echo "$ROWS"
echo "$NOTE"

if [ -n "${DR_FRAGMENT:-}" ]; then
    ms() { awk -v v="$1" 'BEGIN { printf "%.2f ms", v * 1000 }'; }
    {
        printf 'section\tdelayed resume (no target in issue 4)\n'
        printf 'row\tparked CPU per s window\t%.3f ms\t%.3f ms\t%.3f ms\t-\trunning: %.0f ms/s\t\t\n' \
            "$CPU_MED" "$CPU_MIN" "$CPU_MAX" "$BUSY"
        printf 'row\tunblock->running p50\t%.1f us\t%.1f us\t%.1f us\t-\t%s samples\t\t\n' \
            "$LAT_P50" "$LAT_MIN" "$LAT_MAX" "$LAT_N"
        printf 'row\tunblock->running p99\t%.1f us\t%.1f us\t%.1f us\t-\t%s samples\t\t\n' \
            "$LAT_P99" "$LAT_MIN" "$LAT_MAX" "$LAT_N"
        printf 'row\tblock_resume()\t%s\t%s\t%s\t-\t%s × plain\t\t\n' \
            "$(ms "$BLK_MED")" "$(ms "$BLK_MIN")" "$(ms "$BLK_MAX")" "$RATIO"
        printf 'row\t  plain checkpoint()\t%s\t%s\t%s\t-\t\t\t\n' "$(ms "$PLN_MED")" "$(ms "$PLN_MIN")" "$(ms "$PLN_MAX")"
    } >"$DR_FRAGMENT.tsv"
    echo "$NOTE" >"$DR_FRAGMENT.note"
    {
        printf '{\n    "parked_cpu_ms_per_s": {"threads": 8, "window_s": 2, "median": %s, "min": %s, "max": %s, "runs": [%s], "running_ms_per_s": %s},\n' \
            "$CPU_MED" "$CPU_MIN" "$CPU_MAX" "$(vals cpu_ms_per_s cpu | jlist)" "$BUSY"
        printf '    "unblock_to_running_us": {"threads": 8, "rounds": %s, "samples": %s, "p50": %s, "p99": %s, "min": %s, "max": %s},\n' \
            "$ROUNDS" "$LAT_N" "$LAT_P50" "$LAT_P99" "$LAT_MIN" "$LAT_MAX"
        printf '    "block_resume_seconds": {"median": %s, "min": %s, "max": %s, "runs": [%s]},\n' \
            "$BLK_MED" "$BLK_MIN" "$BLK_MAX" "$(vals block_s duration | jlist)"
        printf '    "plain_checkpoint_seconds": {"median": %s, "min": %s, "max": %s, "runs": [%s]},\n' \
            "$PLN_MED" "$PLN_MIN" "$PLN_MAX" "$(vals plain_s duration | jlist)"
        printf '    "block_resume_vs_plain": %s\n  }' "$RATIO"
    } >"$DR_FRAGMENT.json"
fi
