# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables set here are read by the parts
# lib.sh — helpers shared by the parts of `make bench`, sourced by
# bench/run.sh: process control (launch bench-mem under the engine, time a
# checkpoint and a restart, check its memory, stop it), the floors (dd, cat),
# statistics and number formatting, and the result collectors every part
# feeds (table rows, notes, JSON fragments, the targets of issue 4).
# Expects from run.sh: ROOT BIN WORK CKPT STATE PROG PORT.

# ---- process control ---------------------------------------------------------
COORD_PID='' PROG_PID='' PLAIN_PID='' PORT='' CONTEXT='bench'
PROG_MIB=0 WAIT_S=120 HASH=''

# die MESSAGE: say what failed, with the logs' last lines; stop the program
# the failing part started (run.sh goes on with the next part) and exit.
die() {
    echo "bench: $CONTEXT: $*" >&2
    local f
    for f in coord.log prog.log restart.log; do
        [ -s "$WORK/$f" ] && { echo "--- $f (last lines)" >&2; tail -n 15 "$WORK/$f" >&2; }
    done
    stop_started
    exit 1
}

# stop_started: kill the programs the current part started (by their PIDs).
stop_started() {
    [ -n "$PORT" ] && [ -n "$PROG_PID" ] && timeout 10 "$BIN/dmtcp_command" -p "$PORT" -k >/dev/null 2>&1
    local p
    for p in $PROG_PID $PLAIN_PID; do kill -9 "$p" 2>/dev/null; done
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

# start_coordinator: one coordinator on a free port for the whole run.
start_coordinator() {
    "$BIN/dmtcp_coordinator" -p 0 --port-file "$WORK/port" --coord-logfile "$WORK/coord.log" \
        --timeout 3600 </dev/null >/dev/null 2>&1 &
    COORD_PID=$!
    local end=$((SECONDS + 10))
    until [ -s "$WORK/port" ]; do
        alive "$COORD_PID" || die "the coordinator did not start"
        [ $SECONDS -lt $end ] || die "the coordinator wrote no port"
        sleep 0.02
    done
    PORT=$(cat "$WORK/port")
}

# launch_has_option OPT / restart_has_option OPT: does `dmtcp_launch --help`
# (`dmtcp_restart --help`) mention OPT (as a whole word: --gzip is not found
# in --no-gzip)?
launch_has_option() {
    "$BIN/dmtcp_launch" --help 2>&1 | grep -qE -- "(^|[^-[:alnum:]])$1([^-[:alnum:]]|\$)"
}
restart_has_option() {
    "$BIN/dmtcp_restart" --help 2>&1 | grep -qE -- "(^|[^-[:alnum:]])$1([^-[:alnum:]]|\$)"
}

# status_kb PID FIELD: a field of /proc/PID/status in kB (VmRSS, VmHWM, ...)
status_kb() { awk -v f="$2:" '$1 == f { print $2; found = 1 } END { if (!found) print 0 }' "/proc/$1/status" 2>/dev/null; }

mem_available_mib() { awk '$1 == "MemAvailable:" { print int($2 / 1024) }' /proc/meminfo; }
disk_free_mib() { df -Pm "$CKPT" | awk 'NR == 2 { print $4 }'; }

# mem_launch MIB [text] [ticker] [-- LAUNCH_OPTIONS...]: bench-mem under the
# engine, holding MIB MiB (random or text), until it has filled its memory.
# Sets PROG_PID, PROG_MIB, HASH (and WAIT_S, which grows with the size).
mem_launch() {
    local mib=$1 args=()
    shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1") && shift; done
    [ $# -gt 0 ] && shift
    PROG_MIB=$mib WAIT_S=$((120 + mib / 8))
    rm -f "$STATE"/* "$CKPT"/ckpt_*.dmtcp
    "$BIN/dmtcp_launch" -p "$PORT" -j -q --ckptdir "$CKPT" "$@" "$PROG" run "$mib" "$STATE" "${args[@]}" \
        </dev/null >>"$WORK/prog.log" 2>&1 &
    PROG_PID=$!
    disown "$PROG_PID" # killed by dmtcp_command -k; no "Killed" job report
    wait_file "$STATE/ready" "$PROG_PID" "waiting for bench-mem to fill its memory"
    read -r _ HASH _ <"$STATE/ready"
}

# mem_checkpoint: time `dmtcp_command -bc` from a clean start (sync first).
# If the command returns before the image is renamed into place (a forked
# checkpoint may), the time runs until it appears.  Sets CK_S,
# CK_ENGINE_S (as timed by the coordinator), IMAGE, IMAGE_BYTES, and
# HWM_GROWTH_KB: how much the process's peak RSS (VmHWM) grew during the
# checkpoint — over the user's memory, which it already held.  IMAGE is the
# one canonical ckpt_*.dmtcp; the older images of an incremental chain,
# ckpt_*.g<N>.dmtcp beside it, are listed in CHAIN_LINKS (oldest first).
mem_checkpoint() {
    local hwm0 t0 t1 out end
    hwm0=$(status_kb "$PROG_PID" VmHWM)
    sync
    t0=$EPOCHREALTIME
    out=$(timeout "$WAIT_S" "$BIN/dmtcp_command" -p "$PORT" -bc 2>&1) || die "dmtcp_command -bc failed: $out"
    t1=$EPOCHREALTIME
    end=$((SECONDS + WAIT_S))
    ckpt_images
    while [ ${#CK_IMAGES[@]} = 0 ] && [ $SECONDS -lt $end ]; do
        sleep 0.005
        ckpt_images
        t1=$EPOCHREALTIME
    done
    CK_S=$(elapsed "$t0" "$t1")
    CK_ENGINE_S=$(sed -n 's/.* bytes in \([0-9.]*\) s.*/\1/p' <<<"$out")
    HWM_GROWTH_KB=$(($(status_kb "$PROG_PID" VmHWM) - hwm0))
    if [ ${#CK_IMAGES[@]} != 1 ]; then
        die "expected one image in $CKPT, found: ${CK_IMAGES[*]:-none}"
    fi
    IMAGE=${CK_IMAGES[0]}
    IMAGE_BYTES=$(stat -c %s "$IMAGE")
}

# ckpt_images: CK_IMAGES = the canonical images in the ckptdir, CHAIN_LINKS
# = the ckpt_*.g<N>.dmtcp files (the older images of a chain), by N
ckpt_images() {
    local f
    CK_IMAGES=() CHAIN_LINKS=()
    for f in "$CKPT"/ckpt_*.dmtcp; do
        [ -f "$f" ] || continue
        if [[ $f =~ \.g[0-9]+\.dmtcp$ ]]; then CHAIN_LINKS+=("$f"); else CK_IMAGES+=("$f"); fi
    done
    [ ${#CHAIN_LINKS[@]} -lt 2 ] || mapfile -t CHAIN_LINKS < <(printf '%s\n' "${CHAIN_LINKS[@]}" | sort -V)
}

# mem_change: bench-mem rewrites 1 % of its pages (its "change=PCT"), spread
# at random, and says how many and the hash its memory must now have: HASH
# becomes that (the next check_memory expects it).  Sets CHANGED_PAGES,
# CHANGE_ROUND, CHANGE_S (the rewriting, as timed by the program).
mem_change() {
    local round n hash s
    rm -f "$STATE/changed"
    kill -HUP "$PROG_PID"
    wait_file "$STATE/changed" "$PROG_PID" "waiting for bench-mem to change its pages"
    read -r round n hash s <"$STATE/changed"
    [[ $round =~ ^[0-9]+$ ]] || die "bench-mem did not change its pages: $round $n $hash $s"
    CHANGE_ROUND=$round CHANGED_PAGES=$n HASH=$hash CHANGE_S=$s
}

# not_lazy_why: after `mem_restart IMAGE --lazy`, what dmtcp_restart said
# when it could not restart lazily and loaded everything first ("" if lazy)
not_lazy_why() {
    local line
    line=$(grep -m1 'loading everything first' <<<"$RESTART_MSG")
    echo "${line#dmtcp_restart: }"
}

# mem_restart IMAGE [OPTIONS...]: start dmtcp_restart (with OPTIONS, by
# default -q) and time until bench-mem beats its heartbeat again.  Sets
# RS_T0 (when dmtcp_restart started, $EPOCHREALTIME), RS_S (seen by the
# bench), RESUMED_S (as stamped by the program) and RESTART_MSG (what this
# dmtcp_restart printed until then).
mem_restart() {
    local img=$1 t0 seen t_seen t_resumed log0 opts=(-q)
    shift
    [ $# = 0 ] || opts=("$@")
    log0=$(stat -c %s "$WORK/restart.log" 2>/dev/null || echo 0)
    t0=$EPOCHREALTIME
    "$BIN/dmtcp_restart" -p "$PORT" -j "${opts[@]}" "$img" </dev/null >>"$WORK/restart.log" 2>&1 &
    PROG_PID=$!
    disown "$PROG_PID"
    seen=$("$PROG" wait "$STATE/hb" "$t0" "$PROG_PID" "$WAIT_S")
    case $? in
    0) ;;
    2) die "dmtcp_restart exited before the program ran again" ;;
    *) die "the restarted program did not beat within ${WAIT_S} s" ;;
    esac
    read -r t_seen t_resumed <<<"$seen"
    RS_T0=$t0
    RS_S=$(elapsed "$t0" "$t_seen")
    RESUMED_S=$(elapsed "$t0" "$t_resumed")
    RESTART_MSG=$(tail -c +"$((log0 + 1))" "$WORK/restart.log" 2>/dev/null)
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
# memory with the stream it was filled with (and the pages it changed since,
# with their new content); a difference is recorded in INEXACT (the bench
# goes on, so the figures still print, and fails at the end).
# A bench-mem started with "ticker" writes its largest gap first: GAP_NS.
# VERIFY_T0, VERIFY_T1: when the check started and ended ($EPOCHREALTIME
# seconds, stamped by the program), VERIFY_S its duration.
INEXACT=() CHECKS=0
check_memory() {
    local verdict a nbad addr
    rm -f "$STATE/verify" "$STATE/gap" "$STATE/vtime"
    kill -USR1 "$PROG_PID"
    wait_file "$STATE/verify" "$PROG_PID" "$1: waiting for the memory check"
    CHECKS=$((CHECKS + 1))
    GAP_NS=$(cat "$STATE/gap" 2>/dev/null)
    read -r VERIFY_T0 VERIFY_T1 <"$STATE/vtime"
    VERIFY_S=$(elapsed "$VERIFY_T0" "$VERIFY_T1")
    read -r verdict a _ nbad addr <"$STATE/verify"
    if [ "$verdict" = ok ] && [ "$a" = "$HASH" ]; then
        return 0
    elif [ "$verdict" = ok ]; then
        INEXACT+=("$CONTEXT, $1: memory hash $a, expected $HASH")
    else
        INEXACT+=("$CONTEXT, $1: $nbad of $((PROG_MIB * 131072)) 8-byte words differ, the first at byte $a of the buffer at $addr")
    fi
    echo "bench: NOT EXACT — ${INEXACT[-1]}" >&2
}

# ---- floors --------------------------------------------------------------------
# time_dd SOURCE MIB: DD_T = seconds for dd bs=1M conv=fsync of at most MIB
# MiB from SOURCE into the ckptdir, after a sync (nothing else dirty).
time_dd() {
    local t0 t1
    sync
    t0=$EPOCHREALTIME
    dd if="$1" of="$CKPT/dd.tmp" bs=1M count="$2" conv=fsync status=none || die "dd from $1 failed"
    t1=$EPOCHREALTIME
    rm -f "$CKPT/dd.tmp"
    DD_T=$(elapsed "$t0" "$t1")
}

# time_cat FILE...: CAT_T = seconds for cat FILE... >/dev/null, the files in
# the page cache (a first cat puts them there).
time_cat() {
    local t0 t1
    cat "$@" >/dev/null
    t0=$EPOCHREALTIME
    cat "$@" >/dev/null
    t1=$EPOCHREALTIME
    CAT_T=$(elapsed "$t0" "$t1")
}

# ---- numbers --------------------------------------------------------------------
# elapsed T0 T1 (both $EPOCHREALTIME): seconds
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", b - a }'; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

# stat_of WHICH NUMBERS...: median, min or max (empty if no numbers)
stat_of() {
    local which=$1
    shift
    [ $# -gt 0 ] || return 0
    printf '%s\n' "$@" | sort -g | awk -v w="$which" '{ v[NR] = $1 }
        END { if (w == "min") print v[1]; else if (w == "max") print v[NR];
              else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR/2] + v[NR/2 + 1]) / 2 }'
}
med() { stat_of median "$@"; }

# jlist NUMBERS...: "a, b, c" for a JSON array
jlist() { local s; s=$(printf '%s, ' "$@"); echo "${s%, }"; }

# jstat NUMBERS...: a JSON object {"median", "min", "max", "runs"}
jstat() {
    [ $# -gt 0 ] || { echo null; return; }
    printf '{"median": %s, "min": %s, "max": %s, "runs": [%s]}' \
        "$(stat_of median "$@")" "$(stat_of min "$@")" "$(stat_of max "$@")" "$(jlist "$@")"
}

# jstr TEXT: TEXT as a JSON string
jstr() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }

# verdict_le VALUE LIMIT / verdict_ge VALUE LIMIT: "met" or "not met"
verdict_le() { awk -v v="$1" -v l="$2" 'BEGIN { print (v + 0 <= l + 0) ? "met" : "not met" }'; }
verdict_ge() { awk -v v="$1" -v l="$2" 'BEGIN { print (v + 0 >= l + 0) ? "met" : "not met" }'; }

# both_met V1 V2: "met" when both are
both_met() { [ "$1" = met ] && [ "$2" = met ] && echo met || echo "not met"; }

# fmt UNIT SECONDS...: each value in UNIT ("s": 3 decimals, "ms": 2 decimals)
fmt_s() { awk -v v="$1" 'BEGIN { printf "%.3f s", v }'; }
fmt_ms() { awk -v v="$1" 'BEGIN { printf "%.2f ms", v * 1000 }'; }
fmt_mbs() { awk -v b="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f MB/s", b / s / 1e6; else print "-" }'; }
fmt_mib_kb() { awk -v k="$1" 'BEGIN { printf "%.2f MiB", k / 1024 }'; }

# ---- results ----------------------------------------------------------------------
# Every part adds to these; run.sh prints and writes them at the end.
#   ROWS     tab-separated: "section", TITLE
#                      or: "row", WHAT, MEDIAN, MIN, MAX, THROUGHPUT, VS FLOOR, TARGET, VERDICT
#   NOTES    lines under the table (a line starting with two spaces continues the one before)
#   JSON     '"key": value' members of the top-level JSON object
#   TARGETS  tab-separated: NUMBER, WHAT, MEASURED, TARGET, VERDICT (issue 4's table)
ROWS=() NOTES=() JSON=() TARGETS=()

add_section() { ROWS+=("section	$1"); }

# add_row WHAT MEDIAN MIN MAX THROUGHPUT VS_FLOOR TARGET VERDICT (empty → "")
add_row() {
    local IFS=$'\t'
    ROWS+=("row	$*")
}

# add_time_row WHAT BYTES VS_FLOOR TARGET VERDICT SECONDS...: a row of times
# in seconds, with the throughput of BYTES (0: none)
add_time_row() {
    local what=$1 bytes=$2 vs=$3 target=$4 verdict=$5 m thr=-
    shift 5
    m=$(med "$@")
    [ "$bytes" = 0 ] || thr=$(fmt_mbs "$bytes" "$m")
    add_row "$what" "$(fmt_s "$m")" "$(fmt_s "$(stat_of min "$@")")" "$(fmt_s "$(stat_of max "$@")")" \
        "$thr" "$vs" "$target" "$verdict"
}

# add_ms_row WHAT VS_FLOOR TARGET VERDICT SECONDS...: the same in milliseconds
add_ms_row() {
    local what=$1 vs=$2 target=$3 verdict=$4
    shift 4
    add_row "$what" "$(fmt_ms "$(med "$@")")" "$(fmt_ms "$(stat_of min "$@")")" \
        "$(fmt_ms "$(stat_of max "$@")")" - "$vs" "$target" "$verdict"
}

# add_rows_from FILE: rows already in that format, one a line
add_rows_from() { mapfile -t -O "${#ROWS[@]}" ROWS <"$1"; }

add_note() { NOTES+=("$1"); }
add_json() { JSON+=("$1"); }

# add_target NUMBER WHAT MEASURED TARGET VERDICT
add_target() {
    local IFS=$'\t'
    TARGETS+=("$*")
}
