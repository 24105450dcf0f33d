# shellcheck shell=bash
# part-procs.sh — BENCH_ONLY=procs: computations of many processes (issue 10).
# bench-procs makes NPROCS processes (a parent and its forked children, all
# under the engine) of MIB MiB of random memory each.  Measured, BENCH_REPS
# times each:
#   16 × 64 MiB and 64 × 16 MiB: `dmtcp_command -bc` (uncompressed images,
#       one per process) next to dd conv=fsync of the same total bytes from a
#       random file in the page cache (target ≤ 1.3 × dd); the restart of all
#       images (dmtcp_restart of every image, until the coordinator shows
#       every process running) next to cat of the images (page cache);
#   64 full pipes (64 KiB each) between two processes: -bc with them minus
#       -bc of the same two processes without pipes (target ≤ 10 ms added);
#   256 processes of no memory of their own: -bc (target ≤ 1 s).
# Sourced by run.sh (uses lib.sh).

procs_launch() { # NPROCS MIB NPIPES
    rm -rf "${STATE:?}"/* "$CKPT"/ckpt_*.dmtcp
    WAIT_S=$((120 + $1 * $2 / 8))
    "$BIN/dmtcp_launch" -p "$PORT" -j -q --ckptdir "$CKPT" "${RAW_OPTS[@]}" "$PROCS_BIN" "$1" "$2" "$STATE" "$3" \
        </dev/null >>"$WORK/prog.log" 2>&1 &
    PROG_PID=$!
    disown "$PROG_PID"
    wait_file "$STATE/ready" "$PROG_PID" "waiting for bench-procs ($1 processes) to fill its memory"
}

procs_checkpoint() { # sets PC_S
    local t0 t1 out
    sync
    t0=$EPOCHREALTIME
    out=$(timeout "$WAIT_S" "$BIN/dmtcp_command" -p "$PORT" -bc 2>&1) || die "dmtcp_command -bc failed: $out"
    t1=$EPOCHREALTIME
    PC_S=$(elapsed "$t0" "$t1")
}

procs_running() { # N: the coordinator shows N processes, running
    local out
    out=$(timeout 10 "$BIN/dmtcp_command" -p "$PORT" -s 2>/dev/null)
    grep -q "NUM_PEERS=$1\$" <<<"$out" && grep -q "RUNNING=yes" <<<"$out"
}

procs_restart() { # N: sets PR_S
    local n=$1 t0 t1 end imgs
    imgs=("$CKPT"/ckpt_*.dmtcp)
    t0=$EPOCHREALTIME
    "$BIN/dmtcp_restart" -p "$PORT" -j -q "${imgs[@]}" </dev/null >>"$WORK/restart.log" 2>&1 &
    PROG_PID=$!
    disown "$PROG_PID"
    end=$((SECONDS + WAIT_S))
    until procs_running "$n"; do
        [ $SECONDS -lt $end ] || die "the restarted computation of $n processes did not run within ${WAIT_S} s"
        alive "$PROG_PID" || die "dmtcp_restart exited before the computation ran again"
        sleep 0.005
    done
    t1=$EPOCHREALTIME
    PR_S=$(elapsed "$t0" "$t1")
}

part_procs() {
    PROCS_BIN=$WORK/bench-procs
    cc -std=gnu11 -O2 -Wall -Wextra -o "$PROCS_BIN" "$ROOT/bench/bench-procs.c" || die "cannot compile bench/bench-procs.c"
    local cfg n m rep total
    add_section "computations of many processes (issue 10)"
    for cfg in 16:64 64:16; do
        n=${cfg%%:*} m=${cfg#*:} total=$((n * m))
        local CK=() RS=() DD=() CAT=() bytes=0
        [ -f "$WORK/rand.bin" ] && [ "$(stat -c %s "$WORK/rand.bin")" -ge $((total << 20)) ] ||
            head -c $((total << 20)) /dev/urandom >"$WORK/rand.bin"
        for rep in $(seq 1 "$REPS"); do
            CONTEXT="procs, $n × $m MiB, run $rep"
            procs_launch "$n" "$m" 0
            procs_checkpoint
            CK+=("$PC_S")
            bytes=$(cat "$CKPT"/ckpt_*.dmtcp | wc -c)
            stop_program
            time_dd "$WORK/rand.bin" "$total" && DD+=("$DD_T")
            time_cat "$CKPT"/ckpt_*.dmtcp && CAT+=("$CAT_T")
            procs_restart "$n"
            RS+=("$PR_S")
            stop_program
        done
        local ck dd v
        ck=$(med "${CK[@]}") dd=$(med "${DD[@]}")
        v=$(verdict_le "$(calc '%.4f' "$ck / $dd")" 1.3)
        add_time_row "checkpoint $n × $m MiB" "$bytes" "$(calc '%.2f' "$ck / $dd") × dd" "≤ 1.3 × dd" "$v" "${CK[@]}"
        add_time_row "  floor: dd conv=fsync $total MiB" "$((total << 20))" "" "" "" "${DD[@]}"
        add_time_row "restart $n processes" "$bytes" "$(calc '%.2f' "$(med "${RS[@]}") / $(med "${CAT[@]}")") × cat" "" "" "${RS[@]}"
        add_time_row "  floor: cat of the $n images" "$bytes" "" "" "" "${CAT[@]}"
        add_target "10.$n" "checkpoint $n × $m MiB" "$(fmt_s "$ck") = $(calc '%.2f' "$ck / $dd") × dd" "≤ 1.3 × dd" "$v"
        add_json "$(printf '"procs_%dx%d": {"checkpoint_seconds": %s, "dd_seconds": %s, "restart_seconds": %s, "cat_seconds": %s, "image_bytes": %s}' \
            "$n" "$m" "$(jstat "${CK[@]}")" "$(jstat "${DD[@]}")" "$(jstat "${RS[@]}")" "$(jstat "${CAT[@]}")" "$bytes")"
    done

    local WITH=() WITHOUT=() cfgp
    for rep in $(seq 1 "$REPS"); do
        for cfgp in 64 0; do
            CONTEXT="procs, pipes $cfgp, run $rep"
            procs_launch 2 1 "$cfgp"
            procs_checkpoint
            if [ "$cfgp" = 64 ]; then WITH+=("$PC_S"); else WITHOUT+=("$PC_S"); fi
            stop_program
        done
    done
    local added v
    added=$(calc '%.6f' "$(med "${WITH[@]}") - $(med "${WITHOUT[@]}")")
    v=$(verdict_le "$added" 0.010)
    add_ms_row "checkpoint, 64 full pipes" "+$(fmt_ms "$added") vs none" "≤ 10 ms added" "$v" "${WITH[@]}"
    add_ms_row "  floor: the same 2 processes, no pipes" "" "" "" "${WITHOUT[@]}"
    add_target "10.pipes" "draining 64 full pipes" "+$(fmt_ms "$added")" "≤ 10 ms" "$v"

    local MANY=()
    for rep in $(seq 1 "$REPS"); do
        CONTEXT="procs, 256 processes, run $rep"
        procs_launch 256 0 0
        procs_checkpoint
        MANY+=("$PC_S")
        stop_program
    done
    v=$(verdict_le "$(med "${MANY[@]}")" 1.0)
    add_ms_row "checkpoint, 256 processes" "" "≤ 1 s" "$v" "${MANY[@]}"
    add_target "10.256" "checkpoint of 256 tiny processes" "$(fmt_ms "$(med "${MANY[@]}")")" "≤ 1 s" "$v"
    add_json "$(printf '"procs_pipes": {"with_64_seconds": %s, "without_seconds": %s},\n    "procs_256": {"checkpoint_seconds": %s}' \
        "$(jstat "${WITH[@]}")" "$(jstat "${WITHOUT[@]}")" "$(jstat "${MANY[@]}")")"
    add_note "procs: bench-procs, a parent and its forked children under the engine, random memory; checkpoints uncompressed (${RAW_NOTE:-default}); restart = dmtcp_restart of every image until dmtcp_command -s shows every process running; pipes = -bc with 64 full 64 KiB pipes between two processes minus -bc of the same two without"
}
