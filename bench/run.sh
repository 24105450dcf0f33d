#!/bin/bash
# shellcheck disable=SC2317 # cleanup runs from the trap
# run.sh — `make bench`: the figures of issue 4 ("Fast checkpoints and
# restarts"), each next to its floor measured in the same run and the same
# directory (DESIGN.md, "Performance model").  One part per file, all run by
# default, in this order:
#   main         part-main.sh         checkpoint and restart of BENCH_MIB MiB of
#                                     incompressible memory vs dd and cat,
#                                     restart eager and --lazy (targets 1, 5)
#   forked       part-forked.sh       time the program is stopped by a
#                                     checkpoint, default mode and
#                                     --forked-ckpt (target 2)
#   compression  part-compression.sh  --gzip images of text and of random
#                                     memory (targets 3, 4, 6)
#   incremental  part-incremental.sh  full, then incremental checkpoint after
#                                     1 % of BENCH_INCR_MIB MiB changed;
#                                     restart from the chain (target 7)
#   threads      part-threads.sh      parking 200 threads (target 8)
#   syscalls     part-syscalls.sh     a syscall- and thread-heavy program under
#                                     the engine vs plain (target 9)
#   scaling      part-scaling.sh      checkpoint and restart from 64 MiB to
#                                     8 GiB (target 10), drawn in
#                                     results/scaling.png
#   rss          part-rss.sh          resident memory the engine adds, and the
#                                     writer's buffers (target 11)
#   procs        part-procs.sh        computations of 16 × 64 MiB and 64 × 16 MiB
#                                     (checkpoint vs dd, restart vs cat), 64 full
#                                     pipes, 256 processes (issue 10)
#   delayresume  delayresume.sh       delayed-resume figures (no target)
# Each file's header says what it measures and how.  Modes another part of
# the engine may not offer yet (--gzip, --forked-ckpt: looked up in
# `dmtcp_launch --help`) print "n/a (option not available)".
#
# Prints one table (what, median, min, max, throughput, against the floor,
# the issue's target, "met"/"not met"/"n/a"), notes, and a summary of the
# targets; writes bench/results/latest.md, latest.json and scaling.png.
# After each checkpoint (the program still running) and each restart,
# outside the timed windows, the program compares every word of its memory
# with what it wrote.  Nothing asserts on timing; the exit status is non-zero
# only if the bench could not run or memory was not preserved exactly (the
# figures are printed and written all the same).
#
# Environment:
#   BENCH_ONLY           parts to run, comma-separated (default: all of the
#                        above), e.g. BENCH_ONLY=threads,rss
#   BENCH_MIB            memory of the main, forked and compression parts, MiB
#                        (default 1024)
#   BENCH_REPS           runs of each measurement (default 3); medians
#   BENCH_SCALE_MIB      sizes of the scaling part, MiB (default
#                        "64 1024 4096 8192"); a size is skipped, with the
#                        reason, if MemAvailable < 2.5 × or free disk < 1.5 × it
#   BENCH_SCALE_REPS     runs per size in the scaling part (default 1)
#   BENCH_INCR_MIB       memory of the incremental part, MiB (default 4096);
#                        skipped, with the reason, if MemAvailable < 2.5 × or
#                        free disk < 3 × it
#   BENCH_INCR_REPS      runs of the incremental part (default 1)
#   BENCH_INCR_FORKED=0  leave out its --forked-ckpt variant
#   BENCH_RSS_MIB        sizes whose checkpoint's peak RSS growth is measured
#                        (default "1024 4096"; reused from main/scaling)
#   BENCH_RSS_WARM       seconds between "ready" and reading VmRSS (default 0.5)
#   BENCH_THREADS_MIX    threads of the threads part, SPIN:COND:SLEEP
#                        (default 8:96:96, i.e. 200)
#   BENCH_THREADS_CKPTS  checkpoints per launch in the threads part (default 5)
#   BENCH_SYSCALLS_SCALE work of the syscalls part (default 10, about 1.5 s)
#   BENCH_DR=0           leave the delayed-resume part out (as BENCH_ONLY
#                        without delayresume); delayresume.sh reads
#                        BENCH_DR_ROUNDS, BENCH_DR_REPS, BENCH_DR_CPU_REPS
#   STASIS_BENCH_DIR     where the temporary directory goes (default /var/tmp
#                        — pick the filesystem you checkpoint to)
#   BENCH_KEEP=1         keep that directory

set -u
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=$ROOT/bin
RESULTS=$ROOT/bench/results
MIB=${BENCH_MIB:-1024}
REPS=${BENCH_REPS:-3}
BASE=${STASIS_BENCH_DIR:-/var/tmp}
ALL_PARTS="main forked compression incremental threads syscalls scaling rss procs delayresume"
ONLY=${BENCH_ONLY:-}
read -ra PARTS <<<"${ONLY//,/ }"
[ ${#PARTS[@]} -gt 0 ] || read -ra PARTS <<<"$ALL_PARTS"
if [ "${BENCH_DR:-1}" = 0 ]; then
    keep=()
    for p in "${PARTS[@]}"; do [ "$p" = delayresume ] || keep+=("$p"); done
    PARTS=("${keep[@]}")
fi
ONLY="${PARTS[*]}"

SCALE_MIB=${BENCH_SCALE_MIB:-64 1024 4096 8192}
SCALE_REPS=${BENCH_SCALE_REPS:-1}
INCR_MIB=${BENCH_INCR_MIB:-4096}
INCR_REPS=${BENCH_INCR_REPS:-1}
INCR_FORKED=${BENCH_INCR_FORKED:-1}
RSS_MIB=${BENCH_RSS_MIB:-1024 4096}
RSS_WARM=${BENCH_RSS_WARM:-0.5}
THREADS_MIX=${BENCH_THREADS_MIX:-8:96:96}
THREADS_CKPTS=${BENCH_THREADS_CKPTS:-5}
SYSCALLS_SCALE=${BENCH_SYSCALLS_SCALE:-10}

usage_error() { echo "bench: $*" >&2; exit 1; }
[[ $MIB =~ ^[1-9][0-9]*$ ]] || usage_error "BENCH_MIB must be a positive integer"
[[ $REPS =~ ^[1-9][0-9]*$ ]] || usage_error "BENCH_REPS must be a positive integer"
[[ $SCALE_MIB =~ ^\ *[1-9][0-9]*(\ +[1-9][0-9]*)*\ *$ ]] || usage_error "BENCH_SCALE_MIB must be sizes in MiB, e.g. \"64 1024\""
[[ $SCALE_REPS =~ ^[1-9][0-9]*$ ]] || usage_error "BENCH_SCALE_REPS must be a positive integer"
[[ $INCR_MIB =~ ^[1-9][0-9]*$ ]] || usage_error "BENCH_INCR_MIB must be a positive integer"
[[ $INCR_REPS =~ ^[1-9][0-9]*$ ]] || usage_error "BENCH_INCR_REPS must be a positive integer"
[[ $INCR_FORKED =~ ^[01]$ ]] || usage_error "BENCH_INCR_FORKED must be 0 or 1"
[[ $RSS_MIB =~ ^\ *[1-9][0-9]*(\ +[1-9][0-9]*)*\ *$ ]] || usage_error "BENCH_RSS_MIB must be sizes in MiB, e.g. \"1024 4096\""
[[ $RSS_WARM =~ ^[0-9]+(\.[0-9]+)?$ ]] || usage_error "BENCH_RSS_WARM must be seconds, e.g. 0.5"
[[ $THREADS_MIX =~ ^[0-9]+:[0-9]+:[0-9]+$ ]] || usage_error "BENCH_THREADS_MIX must be SPIN:COND:SLEEP, e.g. 8:96:96"
[[ $THREADS_CKPTS =~ ^[1-9][0-9]*$ ]] || usage_error "BENCH_THREADS_CKPTS must be a positive integer"
[[ $SYSCALLS_SCALE =~ ^[1-9][0-9]*$ ]] || usage_error "BENCH_SYSCALLS_SCALE must be a positive integer"
for p in "${PARTS[@]}"; do
    [[ " $ALL_PARTS " == *" $p "* ]] || usage_error "BENCH_ONLY: unknown part '$p' (parts: $ALL_PARTS)"
done
for c in dmtcp_coordinator dmtcp_launch dmtcp_command dmtcp_restart; do
    [ -x "$BIN/$c" ] || { echo "bench: $BIN/$c missing: run make" >&2; exit 1; }
done
# the engine's settings come from the parts' options only (modes such as
# STASIS_FORKED_CKPT or DMTCP_GZIP in the environment would change every part)
while read -r v; do unset "$v"; done < <(compgen -e | grep -E '^(DMTCP_|STASIS_)' | grep -vx STASIS_BENCH_DIR)

WORK=$(mktemp -d "$BASE/stasis-bench.XXXXXX") || { echo "bench: cannot create a directory in $BASE" >&2; exit 1; }
CKPT=$WORK/ckpt
STATE=$WORK/state
mkdir -p "$CKPT" "$STATE" "$WORK/xdg"
chmod 700 "$WORK" "$WORK/xdg"
export XDG_RUNTIME_DIR=$WORK/xdg
PROG=$WORK/bench-mem

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
# shellcheck source=bench/part-main.sh
. "$ROOT/bench/part-main.sh"
# shellcheck source=bench/part-forked.sh
. "$ROOT/bench/part-forked.sh"
# shellcheck source=bench/part-compression.sh
. "$ROOT/bench/part-compression.sh"
# shellcheck source=bench/part-incremental.sh
. "$ROOT/bench/part-incremental.sh"
# shellcheck source=bench/part-threads.sh
. "$ROOT/bench/part-threads.sh"
# shellcheck source=bench/part-syscalls.sh
. "$ROOT/bench/part-syscalls.sh"
# shellcheck source=bench/part-scaling.sh
. "$ROOT/bench/part-scaling.sh"
# shellcheck source=bench/part-rss.sh
. "$ROOT/bench/part-rss.sh"
# shellcheck source=bench/part-procs.sh
. "$ROOT/bench/part-procs.sh"
declare -A HWM_KB=() # peak RSS growth (kB) during checkpoints, by "raw.MIB" / "gzip.MIB"
SCALE_POINTS=() SCALE_JSON=() MAIN_POINT=''

cleanup() {
    local p
    # whatever a part left under our coordinator (the parts run in subshells)
    [ -n "$PORT" ] && timeout 10 "$BIN/dmtcp_command" -p "$PORT" -k >/dev/null 2>&1
    for p in $COORD_PID; do kill -9 "$p" 2>/dev/null; done
    for p in $COORD_PID; do wait "$p" 2>/dev/null; done
    if [ "${BENCH_KEEP:-}" = 1 ]; then
        echo "bench: kept $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- set up -----------------------------------------------------------------
cc -O2 -Wall -Wextra -o "$PROG" "$ROOT/bench/bench-mem.c" -lpthread || die "cannot compile bench/bench-mem.c"
POPULATE=$WORK/bench-populate
cc -O2 -Wall -Wextra -o "$POPULATE" "$ROOT/bench/bench-populate.c" || die "cannot compile bench/bench-populate.c"
start_coordinator

# Target 1 is about uncompressed images: when dmtcp_launch can compress,
# every part but the compression one asks for raw images explicitly.
RAW_OPTS=() RAW_NOTE=''
if launch_has_option --no-gzip; then
    RAW_OPTS=(--no-gzip) RAW_NOTE='uncompressed: --no-gzip'
fi

FS=$(df -PT "$CKPT" | awk 'NR == 2 { print $2 " on " $1 }')
echo "Stasis benchmark — parts: $ONLY; $MIB MiB, $REPS runs; ckptdir $CKPT ($FS)"

# ---- the parts ------------------------------------------------------------------
# Each part runs in a subshell, so one that cannot run (the engine refuses
# an option, a program dies) costs only its own figures: the subshell hands
# its results back through a file, and a part that failed is named in the
# notes and in the exit status.
FAILED_PARTS=()
RESULT_VARS=(ROWS NOTES JSON TARGETS INEXACT CHECKS HWM_KB SCALE_POINTS SCALE_JSON MAIN_POINT)
for part in "${PARTS[@]}"; do
    echo "bench: $part ..." >&2
    rm -f "$WORK/part.results"
    (
        CONTEXT=$part
        trap 'stop_started; exit 130' INT TERM # interrupted: stop what this part started
        case $part in
        delayresume)
            DR_FRAGMENT=$WORK/dr bash "$ROOT/bench/delayresume.sh" >"$WORK/dr.log" ||
                die "bench/delayresume.sh failed; see its messages above"
            add_rows_from "$WORK/dr.tsv"
            add_note "$(cat "$WORK/dr.note")"
            add_json "\"delayresume\": $(cat "$WORK/dr.json")"
            ;;
        *) "part_$part" ;;
        esac
        declare -p "${RESULT_VARS[@]}" >"$WORK/part.results"
    )
    # Ctrl-C: the subshell's trap, or the coordinator dying of it (a
    # command under `timeout` runs in its own process group and hides the
    # signal from bash), ends the bench without writing results
    [ $? != 130 ] || exit 130
    alive "$COORD_PID" || { echo "bench: the coordinator exited (interrupted?); no results written" >&2; exit 1; }
    if [ -s "$WORK/part.results" ]; then
        # shellcheck disable=SC1091
        . "$WORK/part.results"
    else
        FAILED_PARTS+=("$part")
        add_note "$part: NOT MEASURED (the part failed; see its messages above)"
    fi
done
CONTEXT=report

# ---- report -------------------------------------------------------------------
if [ "$CHECKS" = 0 ]; then
    : # no part that checks memory ran
elif [ ${#INEXACT[@]} = 0 ]; then
    add_note "memory exact: every word compared in all $CHECKS checks (after each checkpoint and each restart)"
else
    add_note "MEMORY NOT EXACT in ${#INEXACT[@]} of $CHECKS checks (figures above are still what was measured):"
    for m in "${INEXACT[@]}"; do add_note "  $m"; done
fi

# render_text: ROWS as an aligned table (widths in characters, not bytes:
# the cells hold ×, ≤, ≥, −)
render_text() {
    printf '%s\n' "${ROWS[@]}" | awk -F '\t' '
        function w(s,  t) { t = s; gsub(/[\200-\277]/, "", t); return length(t) }
        function pad(s, n, right,  k, sp) { sp = ""; for (k = w(s); k < n; k++) sp = sp " "
            return right ? sp s : s sp }
        BEGIN { split("what|median|min|max|throughput|vs floor|target|verdict", H, "|")
                for (i = 1; i <= 8; i++) W[i] = w(H[i]) }
        { kind[NR] = $1; title[NR] = $2
          if ($1 == "row") for (i = 2; i <= 9; i++) { c[NR, i - 1] = $i; if (w($i) > W[i - 1]) W[i - 1] = w($i) } }
        END {
            line = ""; for (i = 1; i <= 8; i++) line = line pad(H[i], W[i], i >= 2 && i <= 5) "  "
            sub(/ +$/, "", line); print line
            for (r = 1; r <= NR; r++) {
                if (kind[r] == "section") { print ""; print "== " title[r]; continue }
                line = ""; for (i = 1; i <= 8; i++) line = line pad(c[r, i], W[i], i >= 2 && i <= 5) "  "
                sub(/ +$/, "", line); print line
            }
        }'
}

# render_md: ROWS as a Markdown table
render_md() {
    echo "| what | median | min | max | throughput | vs floor | target | verdict |"
    echo "|---|--:|--:|--:|--:|---|---|---|"
    printf '%s\n' "${ROWS[@]}" | awk -F '\t' '
        $1 == "section" { printf "| **%s** | | | | | | | |\n", $2; next }
        { printf "|"; for (i = 2; i <= 9; i++) { s = $i; if (i == 2) sub(/^ +/, "", s); printf " %s |", s }; print "" }'
}

# the targets of issue 4, in order, each with what was measured and a verdict
render_targets() {
    local n line found num what measured target verdict part
    printf '%s\n' "${TARGETS[@]}" | sort -t$'\t' -k1,1n -s >"$WORK/targets"
    for n in 1 2 3 4 5 6 7 8 9 10 11; do
        found=0
        while IFS=$'\t' read -r num what measured target verdict; do
            [ "$num" = "$n" ] || continue
            found=1
            printf '%s\t%s\t%s\t%s\t%s\n' "$num" "$what" "$measured" "$target" "$verdict"
        done <"$WORK/targets"
        if [ $found = 0 ]; then
            case $n in
            1) line="checkpoint of 1 GiB incompressible, uncompressed	≤ 1.3 × dd	main" ;;
            2) line="time stopped for a checkpoint (forked)	≤ 50 ms and ≤ 5 %	forked" ;;
            3) line="compressed checkpoint of compressible memory	≤ 1.0 × dd, image ≤ 2 %	compression" ;;
            4) line="checkpoint of incompressible memory, compression on	≤ 1.5 × dd	compression" ;;
            5) line="restart until running	≤ 0.1 × cat (lazy mode)	main" ;;
            6) line="restart from a compressed image	≤ 1.5 × cat (raw)	compression" ;;
            7) line="incremental checkpoint of 4 GiB, 1 % changed	≤ 5 % of the bytes, ≤ 25 % of the time	incremental" ;;
            8) line="parking 200 threads	≤ 10 ms	threads" ;;
            9) line="syscall- and thread-heavy program, no checkpoint	≤ 3 % slower	syscalls" ;;
            10) line="throughput(8 GiB) / throughput(1 GiB)	≥ 0.90	scaling" ;;
            11) line="resident memory the engine adds; writer buffers	≤ 2 MiB; ≤ 64 MiB	rss" ;;
            esac
            IFS=$'\t' read -r what target part <<<"$line"
            if [ -z "$part" ]; then
                verdict="n/a (not measured by make bench yet)"
            elif [[ " ${FAILED_PARTS[*]} " == *" $part "* ]]; then
                verdict="n/a (part $part failed)"
            else
                verdict="n/a (part $part not run)"
            fi
            printf '%s\t%s\t-\t%s\t%s\n' "$n" "$what" "$target" "$verdict"
        fi
    done
}
render_targets >"$WORK/targets.tsv"

TABLE=$(render_text)
echo "$TABLE"
echo
printf '%s\n' "${NOTES[@]}"
echo
echo "Targets of issue 4:"
awk -F '\t' '{ printf "  %2s  %s: %s; target %s — %s\n", $1, $2, $3, $4, $5 }' "$WORK/targets.tsv"

mkdir -p "$RESULTS"
DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# plot_scaling: results/scaling.png from the scaling part's medians (and the
# main part's, at its size); PLOTTED=1 if written
PLOTTED=0
plot_scaling() {
    local points=("${SCALE_POINTS[@]}")
    if [ -n "$MAIN_POINT" ] && ! printf '%s\n' "${points[@]}" | grep -q "^${MAIN_POINT%% *} "; then
        points+=("$MAIN_POINT")
    fi
    [ ${#points[@]} -gt 0 ] || return 0
    if ! command -v gnuplot >/dev/null; then
        echo "bench: gnuplot not installed (apt-get install gnuplot-nox); no PNG"
        return 0
    fi
    printf '%s\n' "${points[@]}" | sort -n >"$WORK/scaling.dat"
    gnuplot <<EOF || { echo "bench: gnuplot failed; no PNG" >&2; return 0; }
set terminal pngcairo size 1000,650 font "sans,11"
set output "$RESULTS/scaling.png"
set termoption noenhanced
set title "Stasis: checkpoint and restart time against process size\n$DATE, $(uname -r), $(nproc) CPUs, $FS; incompressible memory, uncompressed images"
set xlabel "process memory (GiB)"
set ylabel "time (s)"
set grid
set key top left box opaque
set xrange [0:*]
set yrange [0:*]
plot "$WORK/scaling.dat" using (\$1/1024):2 with linespoints lw 2 pt 7 title "checkpoint (dmtcp_command -bc, image fsync'd)", \
     "" using (\$1/1024):4 with linespoints lw 1 dt 2 pt 6 title "floor: dd if=/dev/zero bs=1M conv=fsync", \
     "" using (\$1/1024):3 with linespoints lw 2 pt 5 title "restart (until the program runs)", \
     "" using (\$1/1024):5 with linespoints lw 1 dt 2 pt 4 title "floor: cat of the cached image"
EOF
    PLOTTED=1
    echo "written: bench/results/scaling.png"
}
plot_scaling

{
    echo "# Stasis benchmark"
    echo
    echo "$DATE, $(uname -r), $(nproc) CPUs, ckptdir on $FS;" \
        "parts: $ONLY; $MIB MiB, $REPS runs, median (min, max)."
    echo
    render_md
    echo
    sed -e 's/^  \(.*\)/  - \1/;t' -e 's/^/- /' < <(printf '%s\n' "${NOTES[@]}")
    echo
    echo "## Targets of issue 4"
    echo
    echo "| # | what | measured | target | verdict |"
    echo "|--:|---|---|---|---|"
    awk -F '\t' '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }' "$WORK/targets.tsv"
    [ "$PLOTTED" = 0 ] || { echo; echo "![time against process size](scaling.png)"; }
} >"$RESULTS/latest.md"


{
    printf '{\n  "schema": 2,\n  "date": "%s",\n  "kernel": "%s",\n  "cpus": %s,\n' "$DATE" "$(uname -r)" "$(nproc)"
    printf '  "filesystem": %s,\n  "parts": [%s],\n  "memory_mib": %s,\n  "runs": %s,\n' "$(jstr "$FS")" \
        "$(for p in "${PARTS[@]}"; do printf '"%s", ' "$p"; done | sed 's/, $//')" "$MIB" "$REPS"
    printf '  "exact": %s,\n  "inexact": [%s],\n' "$([ ${#INEXACT[@]} = 0 ] && echo true || echo false)" \
        "$(for m in "${INEXACT[@]}"; do jstr "$m"; printf ', '; done | sed 's/, $//')"
    printf '  "targets": [\n'
    awk -F '\t' '{ gsub(/"/, "\\\"") } { printf "%s    {\"number\": %s, \"what\": \"%s\", \"measured\": \"%s\", \"target\": \"%s\", \"verdict\": \"%s\"}", \
        (NR > 1 ? ",\n" : ""), $1, $2, $3, $4, $5 } END { print "" }' "$WORK/targets.tsv"
    printf '  ]'
    for j in "${JSON[@]}"; do printf ',\n  %s' "$j"; done
    printf '\n}\n'
} >"$RESULTS/latest.json"
echo "written: bench/results/latest.md, bench/results/latest.json"
[ ${#INEXACT[@]} = 0 ] || { echo "bench: FAILED: a checkpoint or restart did not preserve memory exactly" >&2; exit 1; }
[ ${#FAILED_PARTS[@]} = 0 ] || { echo "bench: FAILED: could not measure: ${FAILED_PARTS[*]}" >&2; exit 1; }
