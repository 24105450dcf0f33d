# shellcheck shell=bash
# part-rss.sh — BENCH_ONLY=rss: memory the engine adds to a process, and the
# image writer's buffers (issue 4, target 11: ≤ 2 MiB resident added; writer
# buffers ≤ 64 MiB whatever the process size).
#   added       VmRSS of bench-mem holding 1 MiB, idle but for its 1 ms
#               heartbeat, under dmtcp_launch, minus the same program run
#               plain; both read after the same warm-up (ready, then
#               BENCH_RSS_WARM seconds, default 0.5); then again after one
#               checkpoint and after a restart from it.  BENCH_REPS runs each,
#               alternating.  VmRSS counts the engine's library pages too
#               (RssFile); the note gives RssAnon apart.
#   writer      how much the process's peak RSS (VmHWM) grows during a
#               checkpoint of BENCH_RSS_MIB sizes (default "1024 4096") of
#               incompressible memory, uncompressed and, when dmtcp_launch
#               has --gzip, compressed: VmHWM already includes the user's
#               memory, so the growth is what the checkpoint itself needed.
#               Taken from the main, scaling or compression parts'
#               checkpoints of that size and mode when they ran, else from one
#               checkpoint here (skipped, with the reason, when MemAvailable
#               < 2.5 × the size).
# Sourced by run.sh (uses lib.sh).

part_rss() {
    local warm=$RSS_WARM sizes=$RSS_MIB
    local rep how hows=(plain engine) f
    local -A R # R[state.field] = kB per run, space-separated
    for rep in $(seq 1 "$REPS"); do
        for how in "${hows[@]}"; do
            CONTEXT="rss, $how, run $rep"
            if [ $how = plain ]; then
                rm -f "$STATE"/*
                "$PROG" run 1 "$STATE" </dev/null >>"$WORK/prog.log" 2>&1 &
                PLAIN_PID=$!
                WAIT_S=120
                wait_file "$STATE/ready" "$PLAIN_PID" "waiting for plain bench-mem"
                sleep "$warm"
                for f in VmRSS RssAnon RssFile; do R[plain.$f]+=" $(status_kb "$PLAIN_PID" $f)"; done
                kill -9 "$PLAIN_PID" && wait "$PLAIN_PID" 2>/dev/null
                PLAIN_PID=''
                continue
            fi
            mem_launch 1 # the default mode: what a user gets
            sleep "$warm"
            for f in VmRSS RssAnon RssFile; do R[idle.$f]+=" $(status_kb "$PROG_PID" $f)"; done
            mem_checkpoint
            sleep "$warm"
            for f in VmRSS RssAnon RssFile; do R[ckpt.$f]+=" $(status_kb "$PROG_PID" $f)"; done
            check_memory "after checkpoint (still running)"
            stop_program
            mem_restart "$IMAGE"
            sleep "$warm"
            for f in VmRSS RssAnon RssFile; do R[restart.$f]+=" $(status_kb "$PROG_PID" $f)"; done
            check_memory "after restart"
            stop_program
            rm -f "$IMAGE"
        done
        hows=("${hows[1]}" "${hows[0]}")
    done

    # kB medians; "added" = under the engine − plain
    local -A M
    local k
    for k in "${!R[@]}"; do
        # shellcheck disable=SC2086 # the runs, split on purpose
        M[$k]=$(med ${R[$k]})
    done
    local st added v jadd=() worst=0 what
    add_section "memory the engine adds (target 11)"
    add_row "  floor: VmRSS plain" "$(fmt_mib_kb "${M[plain.VmRSS]}")" - - - "RssAnon $(fmt_mib_kb "${M[plain.RssAnon]}")" "" ""
    for st in idle ckpt restart; do
        case $st in
        idle) what="added VmRSS, idle" ;;
        ckpt) what="added VmRSS, after a checkpoint" ;;
        restart) what="added VmRSS, after restart" ;;
        esac
        added=$((${M[$st.VmRSS]%.*} - ${M[plain.VmRSS]%.*}))
        [ $added -gt $worst ] && worst=$added
        v=$(verdict_le "$added" 2048)
        add_row "$what" "$(fmt_mib_kb "$added")" - - - \
            "anon +$(fmt_mib_kb "$((${M[$st.RssAnon]%.*} - ${M[plain.RssAnon]%.*}))")" "11: ≤ 2 MiB added" "$v"
        jadd+=("$(printf '"%s": {"vmrss_kb": %s, "rssanon_kb": %s, "rssfile_kb": %s, "added_kb": %s}' \
            "$st" "${M[$st.VmRSS]}" "${M[$st.RssAnon]}" "${M[$st.RssFile]}" "$added")")
    done
    local v_added
    v_added=$(verdict_le "$worst" 2048)
    add_target 11 "resident memory the engine adds" "+$(fmt_mib_kb "$worst") (worst of idle, after checkpoint, after restart)" \
        "≤ 2 MiB" "$v_added"

    # the writer's buffers: peak RSS growth during a checkpoint, per size,
    # uncompressed and (when dmtcp_launch has it) compressed
    local mib mode modes=(raw) avail growth worst_w=-1 jw=()
    launch_has_option --gzip && modes+=(gzip)
    for mib in $sizes; do
        for mode in "${modes[@]}"; do
            if [ -z "${HWM_KB[$mode.$mib]:-}" ]; then
                avail=$(mem_available_mib)
                if [ $((avail * 10)) -lt $((mib * 25)) ]; then
                    add_row "peak RSS growth, $mode, $mib MiB" - - - - "skipped: MemAvailable $avail MiB < 2.5 × $mib MiB" "" ""
                    continue
                fi
                CONTEXT="rss, writer buffers, $mode, $mib MiB"
                if [ $mode = raw ]; then mem_launch "$mib" -- "${RAW_OPTS[@]}"; else mem_launch "$mib" -- --gzip; fi
                mem_checkpoint
                HWM_KB[$mode.$mib]+=" $HWM_GROWTH_KB"
                check_memory "after checkpoint (still running)"
                stop_program
                rm -f "$IMAGE"
            fi
            # shellcheck disable=SC2086 # the runs, split on purpose
            growth=$(stat_of max ${HWM_KB[$mode.$mib]})
            [ "$growth" -gt "$worst_w" ] && worst_w=$growth
            add_row "peak RSS growth, $mode, $mib MiB" "$(fmt_mib_kb "$growth")" - - - "VmHWM after − before" \
                "11: ≤ 64 MiB" "$(verdict_le "$growth" 65536)"
            # shellcheck disable=SC2086
            jw+=("$(printf '{"mode": "%s", "mib": %s, "vmhwm_growth_kb": [%s]}' "$mode" "$mib" "$(jlist ${HWM_KB[$mode.$mib]})")")
        done
    done
    if [ "$worst_w" -ge 0 ]; then
        add_target 11 "writer buffers (peak RSS growth during a checkpoint)" \
            "+$(fmt_mib_kb "$worst_w") (worst of ${modes[*]} × $sizes MiB)" "≤ 64 MiB" "$(verdict_le "$worst_w" 65536)"
    else
        add_target 11 "writer buffers (peak RSS growth during a checkpoint)" - "≤ 64 MiB" "n/a (no size could run)"
    fi
    add_note "rss: VmRSS/RssAnon medians of $REPS runs, default mode, read ${warm} s after the program was ready (and after the checkpoint, after the restart); the writer's growth (raw: uncompressed, gzip: --gzip) is the largest of the runs of each size, over incompressible memory"
    add_json "$(printf '"rss": {"warm_seconds": %s, "plain": {"vmrss_kb": %s, "rssanon_kb": %s, "rssfile_kb": %s}, %s,\n    "writer": [%s]}' \
        "$warm" "${M[plain.VmRSS]}" "${M[plain.RssAnon]}" "${M[plain.RssFile]}" \
        "$(IFS=',' && echo "${jadd[*]}" | sed 's/},"/}, "/g')" "$(IFS=',' && echo "${jw[*]}" | sed 's/},{/}, {/g')")"
}
