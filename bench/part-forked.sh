# shellcheck shell=bash
# part-forked.sh — BENCH_ONLY=forked: how long the program is stopped by a
# checkpoint (issue 4, target 2: with forked checkpointing, ≤ 50 ms and
# ≤ 5 % of the checkpoint's time).
#   stopped     measured from inside: bench-mem's ticker thread reads
#               CLOCK_MONOTONIC every ~100 us and keeps the largest gap
#               between two readings; the bench reads it after the
#               checkpoint (the program writes it on SIGUSR1, before its
#               memory check)
#   checkpoint  wall time of `dmtcp_command -bc` or, if the command returns
#               earlier, until the image is in place
# For the default mode (there the program is stopped for about the whole
# checkpoint) and, when `dmtcp_launch --help` mentions it, --forked-ckpt
# (restarted once per run and checked word for word, as a forked image must
# be as exact as any).  BENCH_MIB MiB of incompressible memory, BENCH_REPS
# runs each, alternating.  Sourced by run.sh (uses lib.sh).

part_forked() {
    local rep mode pause modes=(default) PAUSE_default=() PAUSE_forked=() CK_default=() CK_forked=() RS_forked=()
    if launch_has_option --forked-ckpt; then
        modes+=(forked)
    fi
    for rep in $(seq 1 "$REPS"); do
        for mode in "${modes[@]}"; do
            CONTEXT="forked, $mode mode, run $rep"
            local opts=("${RAW_OPTS[@]}")
            [ "$mode" = forked ] && opts+=(--forked-ckpt)
            mem_launch "$MIB" ticker -- "${opts[@]}"
            check_memory "before the checkpoint" # starts a new gap: the fill is not a pause
            mem_checkpoint
            check_memory "after checkpoint (still running)"
            pause=$(calc '%.6f' "$GAP_NS / 1e9")
            if [ "$mode" = default ]; then
                PAUSE_default+=("$pause") CK_default+=("$CK_S")
            else
                PAUSE_forked+=("$pause") CK_forked+=("$CK_S")
                stop_program
                mem_restart "$IMAGE"
                RS_forked+=("$RS_S")
                check_memory "after restart"
            fi
            stop_program
            rm -f "$IMAGE"
        done
        modes=("${modes[@]:1}" "${modes[0]}") # the other mode first next time
    done

    local p_d c_d pct_d p_f c_f pct_f v_f
    p_d=$(med "${PAUSE_default[@]}") c_d=$(med "${CK_default[@]}")
    pct_d=$(calc '%.1f' "100 * $p_d / $c_d")
    add_section "time the program is stopped by a checkpoint, $MIB MiB (target 2)"
    add_ms_row "stopped, default mode" "$pct_d % of its checkpoint" "2: ≤ 50 ms, ≤ 5 % (forked)" "n/a" "${PAUSE_default[@]}"
    add_time_row "  checkpoint, default mode" 0 "" "" "" "${CK_default[@]}"
    if [ ${#PAUSE_forked[@]} -gt 0 ]; then
        p_f=$(med "${PAUSE_forked[@]}") c_f=$(med "${CK_forked[@]}")
        pct_f=$(calc '%.1f' "100 * $p_f / $c_f")
        v_f=$(both_met "$(verdict_le "$p_f" 0.050)" "$(verdict_le "$pct_f" 5)")
        add_ms_row "stopped, --forked-ckpt" "$pct_f % of its checkpoint" "2: ≤ 50 ms, ≤ 5 %" "$v_f" "${PAUSE_forked[@]}"
        add_time_row "  checkpoint, --forked-ckpt" 0 "" "" "" "${CK_forked[@]}"
        add_time_row "  restart of a forked image" 0 "" "" "" "${RS_forked[@]}"
        add_target 2 "time stopped for a checkpoint (forked)" "$(fmt_ms "$p_f"), $pct_f % of $(fmt_s "$c_f")" \
            "≤ 50 ms and ≤ 5 %" "$v_f"
    else
        add_row "stopped, --forked-ckpt" - - - - - "2: ≤ 50 ms, ≤ 5 %" "n/a (option not available)"
        add_target 2 "time stopped for a checkpoint (forked)" "default mode: $(fmt_ms "$p_d") ($pct_d %)" \
            "≤ 50 ms and ≤ 5 %" "n/a (option not available)"
    fi
    add_note "stopped: the largest gap seen by a thread of the program reading CLOCK_MONOTONIC every ~100 us; checkpoint: dmtcp_command -bc until the image is in place"
    add_json "$(printf '"forked": {"memory_mib": %s, "available": %s, "default": {"stopped_seconds": %s, "checkpoint_seconds": %s}, "forked": {"stopped_seconds": %s, "checkpoint_seconds": %s, "restart_seconds": %s, "verdict": %s}}' \
        "$MIB" "$([ ${#PAUSE_forked[@]} -gt 0 ] && echo true || echo false)" \
        "$(jstat "${PAUSE_default[@]}")" "$(jstat "${CK_default[@]}")" \
        "$(jstat "${PAUSE_forked[@]}")" "$(jstat "${CK_forked[@]}")" "$(jstat "${RS_forked[@]}")" \
        "$(jstr "${v_f:-n/a (option not available)}")")"
}
