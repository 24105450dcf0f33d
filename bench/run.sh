#!/bin/bash
# shellcheck disable=SC2317 # cleanup runs from the trap
# run.sh — `make bench`: checkpoint and restart a process holding BENCH_MIB MiB
# of incompressible memory (bench-mem.c), next to the floors measured in the
# same run and the same directory (DESIGN.md, "Performance model"):
#   checkpoint  wall time of `dmtcp_command -bc` (images are fsync'd)
#               floor: dd if=/dev/zero bs=1M conv=fsync of the image's size
#               (rounded up to a MiB) into the checkpoint directory.  For
#               reference, dd of the image itself (random bytes, read from the
#               page cache) is printed too: a virtual disk, a compressing or
#               deduplicating store may treat zeros differently — if the two
#               differ steadily, the floor is the question.  The two dd run in
#               alternating order; every timed write starts after a `sync`.
#   restart     wall time from starting dmtcp_restart until bench-mem is seen
#               beating its heartbeat again
#               floor: cat IMAGE >/dev/null with the image in the page cache
# Each is run BENCH_REPS times (default 3), interleaved, and reported as
# median (min, max).  Prints a table; writes bench/results/latest.{md,json}.
# After each checkpoint (the program still running) and each restart, outside
# the timed windows, the program compares every word of its memory with what
# it wrote.  Nothing asserts on timing; the exit status is non-zero only if
# the bench could not run or memory was not preserved exactly (the figures
# are printed and written all the same).
#
# Then bench/delayresume.sh adds the delayed-resume figures (CPU of parked
# threads, unblock-to-running latency p50/p99, block_resume() next to
# dmtcp_checkpoint()) to the same table, latest.md and latest.json
# ("delayresume"); BENCH_DR=0 leaves them out.
#
# Environment: BENCH_MIB (default 1024), BENCH_REPS (default 3),
# STASIS_BENCH_DIR (where the temporary directory goes; default /var/tmp —
# pick the filesystem you checkpoint to), BENCH_KEEP=1 (keep that directory).

set -u
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=$ROOT/bin
RESULTS=$ROOT/bench/results
MIB=${BENCH_MIB:-1024}
REPS=${BENCH_REPS:-3}
BASE=${STASIS_BENCH_DIR:-/var/tmp}
WAIT_S=$((120 + MIB / 8)) # bounds every wait, only against hangs

[[ $MIB =~ ^[1-9][0-9]*$ ]] || { echo "bench: BENCH_MIB must be a positive integer" >&2; exit 1; }
[[ $REPS =~ ^[1-9][0-9]*$ ]] || { echo "bench: BENCH_REPS must be a positive integer" >&2; exit 1; }
for c in dmtcp_coordinator dmtcp_launch dmtcp_command dmtcp_restart; do
    [ -x "$BIN/$c" ] || { echo "bench: $BIN/$c missing: run make" >&2; exit 1; }
done
while read -r v; do unset "$v"; done < <(compgen -e | grep '^DMTCP_')
unset STASIS_COORD_SECRET

WORK=$(mktemp -d "$BASE/stasis-bench.XXXXXX") || { echo "bench: cannot create a directory in $BASE" >&2; exit 1; }
CKPT=$WORK/ckpt
STATE=$WORK/state
mkdir -p "$CKPT" "$STATE" "$WORK/xdg"
chmod 700 "$WORK" "$WORK/xdg"
export XDG_RUNTIME_DIR=$WORK/xdg
PROG=$WORK/bench-mem
COORD_PID='' PROG_PID='' PORT=''

cleanup() {
    local p
    [ -n "$PORT" ] && [ -n "$PROG_PID" ] && timeout 10 "$BIN/dmtcp_command" -p "$PORT" -k >/dev/null 2>&1
    for p in $PROG_PID $COORD_PID; do kill -9 "$p" 2>/dev/null; done
    for p in $PROG_PID $COORD_PID; do wait "$p" 2>/dev/null; done
    if [ "${BENCH_KEEP:-}" = 1 ]; then
        echo "bench: kept $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
    echo "bench: $*" >&2
    local f
    for f in coord.log prog.log restart.log; do
        [ -s "$WORK/$f" ] && { echo "--- $f (last lines)" >&2; tail -n 15 "$WORK/$f" >&2; }
    done
    exit 1
}

alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != [ZX] ]]
}

# wait_file FILE PID WHAT: until FILE exists, while PID lives.
wait_file() {
    local end=$((SECONDS + WAIT_S))
    while [ ! -s "$1" ]; do
        alive "$2" || die "$3: the program exited"
        [ $SECONDS -lt $end ] || die "$3: nothing after ${WAIT_S} s"
        sleep 0.02
    done
}

# stop_program: kill the computation through the coordinator and reap it.
stop_program() {
    timeout 30 "$BIN/dmtcp_command" -p "$PORT" -k >/dev/null 2>&1 || die "dmtcp_command -k failed"
    local end=$((SECONDS + 30))
    while alive "$PROG_PID"; do
        [ $SECONDS -lt $end ] || die "the program did not exit after dmtcp_command -k"
        sleep 0.01
    done
    PROG_PID=''
}

# check_memory WHEN: outside any timing, bench-mem compares every word of its
# memory with the stream it was filled with; a difference is recorded in
# INEXACT (the bench goes on, so the figures still print, and fails at the end).
INEXACT=()
check_memory() {
    local verdict a nbad addr
    rm -f "$STATE/verify"
    kill -USR1 "$PROG_PID"
    wait_file "$STATE/verify" "$PROG_PID" "$1: waiting for the memory check"
    read -r verdict a _ nbad addr <"$STATE/verify"
    if [ "$verdict" = ok ] && [ "$a" = "$HASH" ]; then
        return 0
    elif [ "$verdict" = ok ]; then
        INEXACT+=("$1: memory hash $a, expected $HASH")
    else
        INEXACT+=("$1: $nbad of $((MIB * 131072)) 8-byte words differ, the first at byte $a of the buffer at $addr")
    fi
    echo "bench: NOT EXACT — ${INEXACT[-1]}" >&2
}

# elapsed T0 T1 (both $EPOCHREALTIME): seconds
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", b - a }'; }

# stat_of WHICH NUMBERS...: median, min or max
stat_of() {
    local which=$1
    shift
    printf '%s\n' "$@" | sort -g | awk -v w="$which" '{ v[NR] = $1 }
        END { if (w == "min") print v[1]; else if (w == "max") print v[NR];
              else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR/2] + v[NR/2 + 1]) / 2 }'
}

# time_dd SOURCE: DD_T = seconds for dd bs=1M conv=fsync of at most DD_MIB
# MiB from SOURCE into the ckptdir
time_dd() {
    local t0 t1
    sync # the same start for every timed write: nothing else dirty
    t0=$EPOCHREALTIME
    dd if="$1" of="$CKPT/dd.tmp" bs=1M count="$DD_MIB" conv=fsync status=none || die "dd from $1 failed"
    t1=$EPOCHREALTIME
    rm -f "$CKPT/dd.tmp"
    DD_T=$(elapsed "$t0" "$t1")
}

calc() { awk "BEGIN { printf \"$1\", $2 }"; }

# ---- set up -----------------------------------------------------------------
cc -O2 -Wall -Wextra -o "$PROG" "$ROOT/bench/bench-mem.c" || die "cannot compile bench/bench-mem.c"

"$BIN/dmtcp_coordinator" -p 0 --port-file "$WORK/port" --coord-logfile "$WORK/coord.log" \
    --timeout 600 </dev/null >/dev/null 2>&1 &
COORD_PID=$!
end=$((SECONDS + 10))
until [ -s "$WORK/port" ]; do
    alive "$COORD_PID" || die "the coordinator did not start"
    [ $SECONDS -lt $end ] || die "the coordinator wrote no port"
    sleep 0.02
done
PORT=$(cat "$WORK/port")

FS=$(df -PT "$CKPT" | awk 'NR == 2 { print $2 " on " $1 }')
echo "Stasis benchmark — $MIB MiB incompressible, $REPS runs, ckptdir $CKPT ($FS)"

CKPT_S=() CKPT_ENGINE_S=() DD_S=() DDZ_S=() CAT_S=() RESTART_S=() RESUMED_S=()
IMAGE_BYTES=0 DD_MIB=0

for rep in $(seq 1 "$REPS"); do
    rm -f "$STATE"/* "$CKPT"/ckpt_*.dmtcp
    # -- launch and fill
    "$BIN/dmtcp_launch" -p "$PORT" -j -q --ckptdir "$CKPT" "$PROG" run "$MIB" "$STATE" \
        </dev/null >>"$WORK/prog.log" 2>&1 &
    PROG_PID=$!
    disown "$PROG_PID" # killed by dmtcp_command -k; no "Killed" job report
    wait_file "$STATE/ready" "$PROG_PID" "run $rep: waiting for bench-mem to fill its memory"
    read -r _ HASH _ <"$STATE/ready"

    # -- checkpoint
    sync
    t0=$EPOCHREALTIME
    out=$(timeout "$WAIT_S" "$BIN/dmtcp_command" -p "$PORT" -bc 2>&1) || die "run $rep: dmtcp_command -bc failed: $out"
    t1=$EPOCHREALTIME
    CKPT_S+=("$(elapsed "$t0" "$t1")")
    CKPT_ENGINE_S+=("$(sed -n 's/.* bytes in \([0-9.]*\) s.*/\1/p' <<<"$out")")
    images=("$CKPT"/ckpt_*.dmtcp)
    if [ ${#images[@]} != 1 ] || [ ! -f "${images[0]}" ]; then
        die "run $rep: expected one image in $CKPT, found: ${images[*]}"
    fi
    IMAGE=${images[0]}
    IMAGE_BYTES=$(stat -c %s "$IMAGE")
    check_memory "run $rep, after checkpoint (still running)"
    stop_program

    # -- floors: dd of as many bytes, fsync'd, into the same directory (from
    # /dev/zero: the floor; from the image: for reference), and cat of the
    # image from the page cache (the first cat makes sure it is there)
    cat "$IMAGE" >/dev/null
    DD_MIB=$(((IMAGE_BYTES + 1048575) / 1048576))
    if ((rep % 2)); then # alternate, so neither dd always follows the other
        time_dd "$IMAGE" && DD_S+=("$DD_T")
        time_dd /dev/zero && DDZ_S+=("$DD_T")
    else
        time_dd /dev/zero && DDZ_S+=("$DD_T")
        time_dd "$IMAGE" && DD_S+=("$DD_T")
    fi
    t0=$EPOCHREALTIME
    cat "$IMAGE" >/dev/null
    t1=$EPOCHREALTIME
    CAT_S+=("$(elapsed "$t0" "$t1")")

    # -- restart, until the program beats again
    t0=$EPOCHREALTIME
    "$BIN/dmtcp_restart" -p "$PORT" -j -q "$IMAGE" </dev/null >>"$WORK/restart.log" 2>&1 &
    PROG_PID=$!
    disown "$PROG_PID"
    seen=$("$PROG" wait "$STATE/hb" "$t0" "$PROG_PID" "$WAIT_S")
    case $? in
    0) ;;
    2) die "run $rep: dmtcp_restart exited before the program ran again" ;;
    *) die "run $rep: the restarted program did not beat within ${WAIT_S} s" ;;
    esac
    read -r t_seen t_resumed <<<"$seen"
    RESTART_S+=("$(elapsed "$t0" "$t_seen")")
    RESUMED_S+=("$(elapsed "$t0" "$t_resumed")")

    # -- outside the timing: is every word of memory what it was?
    check_memory "run $rep, after restart"
    stop_program
    rm -f "$IMAGE"
done

# ---- delayed resume (bench/delayresume.sh) ---------------------------------------
DR_ROWS='' DR_NOTE='' DR_JSON=null DR_FAILED=0
if [ "${BENCH_DR:-1}" != 0 ]; then
    if DR_FRAGMENT=$WORK/dr bash "$ROOT/bench/delayresume.sh" >"$WORK/dr.log"; then
        DR_ROWS=$(cat "$WORK/dr.rows") DR_NOTE=$(cat "$WORK/dr.note") DR_JSON=$(cat "$WORK/dr.json")
    else
        DR_FAILED=1 DR_NOTE="delayed resume: NOT MEASURED (bench/delayresume.sh failed; see its messages above)"
    fi
fi

# ---- report -------------------------------------------------------------------
med() { stat_of median "$@"; }
row_json() { # id label floor ratio bytes values...
    local id=$1 label=$2 floor=$3 ratio=$4 bytes=$5
    shift 5
    local m mn mx runs
    m=$(med "$@") mn=$(stat_of min "$@") mx=$(stat_of max "$@")
    runs=$(printf '%s, ' "$@")
    printf '    {"id": "%s", "label": "%s", "bytes": %s, "seconds": {"median": %s, "min": %s, "max": %s, "runs": [%s]}, "mb_per_s": %s, "floor": %s, "ratio": %s}' \
        "$id" "$label" "$bytes" "$m" "$mn" "$mx" "${runs%, }" "$(calc '%.1f' "$bytes / $m / 1e6")" "$floor" "$ratio"
}

DD_BYTES=$((DD_MIB * 1048576))
CK=$(med "${CKPT_S[@]}") DD=$(med "${DDZ_S[@]}") RS=$(med "${RESTART_S[@]}") CT=$(med "${CAT_S[@]}")
R_CK=$(calc '%.2f' "$CK / $DD")
R_RS=$(calc '%.2f' "$RS / $CT")

fmt_row() { # label bytes ratio-text values...
    local label=$1 bytes=$2 ratio=$3
    shift 3
    local m
    m=$(med "$@")
    printf '%-24s %8.3f s %8.3f s %8.3f s %9.0f MB/s   %s\n' "$label" "$m" "$(stat_of min "$@")" \
        "$(stat_of max "$@")" "$(calc '%f' "$bytes / $m / 1e6")" "$ratio"
}
TABLE=$(
    printf '%-24s %10s %10s %10s %14s   %s\n' "" median min max throughput ratio
    fmt_row "checkpoint (fsync)" "$IMAGE_BYTES" "$R_CK × dd" "${CKPT_S[@]}"
    fmt_row "  floor: dd /dev/zero" "$DD_BYTES" "" "${DDZ_S[@]}"
    fmt_row "  (dd of the image)" "$IMAGE_BYTES" "" "${DD_S[@]}"
    fmt_row "restart (until running)" "$IMAGE_BYTES" "$R_RS × cat" "${RESTART_S[@]}"
    fmt_row "  floor: cat (cached)" "$IMAGE_BYTES" "" "${CAT_S[@]}"
    [ -z "$DR_ROWS" ] || echo "$DR_ROWS"
)
NOTES=$(
    printf 'image %s bytes (%.1f MiB) for %s MiB of memory; dd writes %s MiB; MB = 10^6 bytes\n' \
        "$IMAGE_BYTES" "$(calc '%f' "$IMAGE_BYTES / 1048576")" "$MIB" "$DD_MIB"
    printf 'checkpoint as timed by the coordinator: median %.3f s; restart as stamped by the program: median %.3f s\n' \
        "$(med "${CKPT_ENGINE_S[@]}")" "$(med "${RESUMED_S[@]}")"
    if [ ${#INEXACT[@]} = 0 ]; then
        printf 'memory exact: all %s words compared after each checkpoint and each restart\n' "$((MIB * 131072))"
    else
        printf 'MEMORY NOT EXACT in %s of %s checks (figures above are still what was measured):\n' \
            "${#INEXACT[@]}" "$((REPS * 2))"
        printf '  %s\n' "${INEXACT[@]}"
    fi
    [ -z "$DR_NOTE" ] || echo "$DR_NOTE"
)
echo "$TABLE"
echo "$NOTES"

mkdir -p "$RESULTS"
{
    echo "# Stasis benchmark"
    echo
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), $(uname -r), $(nproc) CPUs, ckptdir on $FS;" \
        "$MIB MiB incompressible, $REPS runs, median (min, max)."
    echo
    echo "| what | median | min | max | throughput | ratio |"
    echo "|---|---|---|---|---|---|"
    sed -n '2,$p' <<<"$TABLE" | awk -F '  +' '{ sub(/^ +/, ""); printf "| %s |", $1
        for (i = 2; i <= NF; i++) printf " %s |", $i; if (NF < 6) printf " |"; print "" }'
    echo
    sed -e 's/^  \(.*\)/  - \1/;t' -e 's/^/- /' <<<"$NOTES"
} >"$RESULTS/latest.md"
{
    printf '{\n  "schema": 1,\n  "date": "%s",\n  "kernel": "%s",\n  "cpus": %s,\n' \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(uname -r)" "$(nproc)"
    printf '  "filesystem": "%s",\n  "memory_mib": %s,\n  "runs": %s,\n  "image_bytes": %s,\n  "exact": %s,\n  "inexact": [%s],\n' \
        "$FS" "$MIB" "$REPS" "$IMAGE_BYTES" "$([ ${#INEXACT[@]} = 0 ] && echo true || echo false)" \
        "$(for m in "${INEXACT[@]}"; do printf '"%s", ' "$m"; done | sed 's/, $//')"
    printf '  "delayresume": %s,\n' "$DR_JSON"
    printf '  "rows": [\n'
    row_json checkpoint "checkpoint (fsync)" '"dd"' "$R_CK" "$IMAGE_BYTES" "${CKPT_S[@]}"
    printf ',\n'
    row_json dd "dd if=/dev/zero bs=1M conv=fsync" null null "$DD_BYTES" "${DDZ_S[@]}"
    printf ',\n'
    row_json dd_image "dd of the image bs=1M conv=fsync (reference, not the floor)" null null "$IMAGE_BYTES" "${DD_S[@]}"
    printf ',\n'
    row_json restart "restart (until running)" '"cat"' "$R_RS" "$IMAGE_BYTES" "${RESTART_S[@]}"
    printf ',\n'
    row_json cat "cat (cached)" null null "$IMAGE_BYTES" "${CAT_S[@]}"
    printf ',\n'
    row_json checkpoint_coordinator "checkpoint as timed by the coordinator" null null "$IMAGE_BYTES" "${CKPT_ENGINE_S[@]}"
    printf ',\n'
    row_json restart_program "restart as stamped by the program" null null "$IMAGE_BYTES" "${RESUMED_S[@]}"
    printf '\n  ]\n}\n'
} >"$RESULTS/latest.json"
echo "written: bench/results/latest.md, bench/results/latest.json"
[ ${#INEXACT[@]} = 0 ] || { echo "bench: FAILED: a checkpoint or restart did not preserve memory exactly" >&2; exit 1; }
[ "$DR_FAILED" = 0 ] || { echo "bench: FAILED: the delayed-resume figures could not be measured" >&2; exit 1; }
