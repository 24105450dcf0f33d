# shellcheck shell=bash
# part-incremental.sh — BENCH_ONLY=incremental: incremental checkpoints
# (issue 4, target 7: the second checkpoint of a 4 GiB process that changed
# 1 % of its pages writes ≤ 5 % of a full image's bytes and takes ≤ 25 % of a
# full checkpoint's time; the restart from the chain is exact).
# bench-mem holds BENCH_INCR_MIB MiB (default 4096) of incompressible memory
# under `dmtcp_launch --incremental` (and --no-gzip when dmtcp_launch has it:
# raw images, so the sizes are the pages' own).  Each run:
#   full         the first `dmtcp_command -bc`: a full image (no .g file may
#                appear yet); its wall time and size are the reference
#   change       bench-mem rewrites exactly ceil(pages / 100) of its 4 KiB
#                pages, spread at random, with new incompressible content
#                (SIGHUP; it keeps what it changed, so its memory check
#                stays exact: see bench-mem.c)
#   incremental  the second -bc: wall time and size of the new image, as a
#                percentage of the full one's.  The image is incremental only
#                if the first one is now beside it as ckpt_*.g<N>.dmtcp (the
#                chain); otherwise the verdict says so.
#   restart      killed, then dmtcp_restart of the newest image (it follows
#                the chain) until bench-mem beats again; floor: cat of both
#                images of the chain from the page cache.  Then the program
#                checks every word — exactness is part of the result.
# With --forked-ckpt too (when dmtcp_launch has it; BENCH_INCR_FORKED=0
# leaves it out), the same cycle once more.  How long the program was stopped
# by each checkpoint (bench-mem's ticker) goes to the notes.  Chains are
# compacted by the engine (--full-every); tests/incremental checks that, the
# bench does not.  Skipped, with the reason printed, when MemAvailable <
# 2.5 × or the checkpoint directory's free space < 3 × BENCH_INCR_MIB.
# BENCH_INCR_REPS runs (default 1), median (min, max).  Nothing asserts on
# timing.  Sourced by run.sh (uses lib.sh).

part_incremental() {
    local mib=$INCR_MIB avail free why='' modes=(default) mode rep
    add_section "incremental checkpoints, $mib MiB incompressible, 1 % of the pages changed (target 7)"
    avail=$(mem_available_mib) free=$(disk_free_mib)
    if ! launch_has_option --incremental; then
        why="option not available"
    elif [ $((avail * 10)) -lt $((mib * 25)) ]; then
        why="MemAvailable $avail MiB < 2.5 × $mib MiB"
    elif [ "$free" -lt $((mib * 3)) ]; then
        why="free space in $CKPT $free MiB < 3 × $mib MiB"
    fi
    if [ -n "$why" ]; then
        add_row "incremental checkpoint" - - - - - "7: ≤ 5 % of the bytes, ≤ 25 % of the time" "n/a ($why)"
        add_target 7 "incremental checkpoint of 4 GiB, 1 % changed" - "≤ 5 % of the bytes, ≤ 25 % of the time" "n/a ($why)"
        add_note "incremental: skipped: $why"
        add_json "$(printf '"incremental": {"available": false, "skipped": %s}' "$(jstr "$why")")"
        echo "bench: incremental: skipped: $why" >&2
        return 0
    fi
    [ "$INCR_FORKED" = 0 ] || ! launch_has_option --forked-ckpt || modes+=(forked)

    # per mode: times (s), image sizes (bytes), stopped (s), restart (s), cat (s)
    local -A FULL_S INCR_S FULL_B INCR_B FULL_STOP INCR_STOP RS CAT LINKS NOT_INCR
    local pages=$((mib * 256)) changed=0 inexact0=${#INEXACT[@]} opts
    for rep in $(seq 1 "$INCR_REPS"); do
        for mode in "${modes[@]}"; do
            CONTEXT="incremental, $mode mode, run $rep"
            opts=("${RAW_OPTS[@]}" --incremental)
            [ "$mode" = forked ] && opts+=(--forked-ckpt)
            mem_launch "$mib" ticker change=1 -- "${opts[@]}"

            # -- the first checkpoint: full
            mem_checkpoint
            FULL_S[$mode]+=" $CK_S" FULL_B[$mode]=$IMAGE_BYTES
            [ ${#CHAIN_LINKS[@]} = 0 ] || die "the first checkpoint left chain files: ${CHAIN_LINKS[*]##*/}"
            check_memory "after the full checkpoint (still running)"
            FULL_STOP[$mode]+=" $(calc '%.6f' "$GAP_NS / 1e9")"

            # -- 1 % of the pages rewritten, then the second checkpoint
            mem_change
            changed=$CHANGED_PAGES
            mem_checkpoint
            INCR_S[$mode]+=" $CK_S" INCR_B[$mode]=$IMAGE_BYTES
            if [ ${#CHAIN_LINKS[@]} = 0 ]; then
                NOT_INCR[$mode]="no ckpt_*.g<N>.dmtcp beside the second image"
                echo "bench: $CONTEXT: the second image is not incremental (no .g file)" >&2
            fi
            LINKS[$mode]="${CHAIN_LINKS[*]##*/}"
            check_memory "after the incremental checkpoint (still running)"
            INCR_STOP[$mode]+=" $(calc '%.6f' "$GAP_NS / 1e9")"
            stop_program

            # -- restart from the chain (the newest image), against cat of
            # every image of it from the page cache; then every word checked
            time_cat "${CHAIN_LINKS[@]}" "$IMAGE" && CAT[$mode]+=" $CAT_T"
            mem_restart "$IMAGE"
            RS[$mode]+=" $RS_S"
            check_memory "after restart from the chain"
            stop_program
            rm -f "$CKPT"/ckpt_*.dmtcp
        done
        modes=("${modes[@]:1}" "${modes[0]}") # the other mode first next time
    done
    [ ${#modes[@]} = 1 ] || [ "${modes[0]}" = default ] || modes=("${modes[@]:1}" "${modes[0]}")

    # -- report: for each mode, the incremental image and checkpoint as a
    # percentage of the full ones; target 7 is judged on the default mode
    local exact=yes fs is pb pt vb vt v label json=() m
    [ ${#INEXACT[@]} = "$inexact0" ] || exact=no
    for mode in "${modes[@]}"; do
        local f_s=() i_s=() r_s=() c_s=() fst=() ist=()
        read -ra f_s <<<"${FULL_S[$mode]}"
        read -ra i_s <<<"${INCR_S[$mode]}"
        read -ra r_s <<<"${RS[$mode]}"
        read -ra c_s <<<"${CAT[$mode]}"
        read -ra fst <<<"${FULL_STOP[$mode]}"
        read -ra ist <<<"${INCR_STOP[$mode]}"
        fs=$(med "${f_s[@]}") is=$(med "${i_s[@]}")
        pb=$(calc '%.2f' "100 * ${INCR_B[$mode]} / ${FULL_B[$mode]}")
        pt=$(calc '%.1f' "100 * $is / $fs")
        vb=$(verdict_le "$pb" 5) vt=$(verdict_le "$pt" 25)
        v=$(both_met "$vb" "$vt")
        if [ -n "${NOT_INCR[$mode]:-}" ]; then
            vb="not met (not incremental: ${NOT_INCR[$mode]})" v=$vb
        fi
        [ "$exact" = yes ] || v="not met (memory not exact)"
        label=""
        [ "$mode" = forked ] && label=", --forked-ckpt"
        add_time_row "checkpoint 1, full$label" "${FULL_B[$mode]}" "" "" "" "${f_s[@]}"
        add_time_row "checkpoint 2, incremental$label" 0 "$pt % of the full" "7: ≤ 25 % of the time" "$vt" "${i_s[@]}"
        add_row "  image, full$label" "$(fmt_mib_kb "$((FULL_B[$mode] / 1024))")" - - - "" "" ""
        add_row "  image, incremental$label" "$(fmt_mib_kb "$((INCR_B[$mode] / 1024))")" - - - "$pb % of the full" \
            "7: ≤ 5 % of the bytes" "$vb"
        add_time_row "restart from the chain$label" "$((FULL_B[$mode] + INCR_B[$mode]))" \
            "$(calc '%.2f' "$(med "${r_s[@]}") / $(med "${c_s[@]}")") × cat" "" "" "${r_s[@]}"
        add_time_row "  floor: cat of both images (cached)" "$((FULL_B[$mode] + INCR_B[$mode]))" "" "" "" "${c_s[@]}"
        if [ "$mode" = default ]; then
            add_target 7 "incremental checkpoint of 4 GiB, 1 % changed" \
                "$pb % of the bytes, $pt % of the time ($mib MiB); memory $([ "$exact" = yes ] && echo exact || echo "NOT exact") after both checkpoints and the restart from the chain" \
                "≤ 5 % of the bytes, ≤ 25 % of the time" "$v"
        fi
        add_note "$(printf 'incremental%s: full image %s bytes, incremental %s bytes (chain: %s); program stopped %s by the full checkpoint, %s by the incremental one' \
            "$label" "${FULL_B[$mode]}" "${INCR_B[$mode]}" "${LINKS[$mode]:-none}" \
            "$(fmt_ms "$(med "${fst[@]}")")" "$(fmt_ms "$(med "${ist[@]}")")")"
        m=$([ "$mode" = forked ] && echo forked || echo default)
        json+=("$(printf '"%s": {"full_bytes": %s, "incremental_bytes": %s, "bytes_percent": %s, "full_seconds": %s, "incremental_seconds": %s, "time_percent": %s, "chain": %s, "incremental": %s, "stopped_full_seconds": %s, "stopped_incremental_seconds": %s, "restart_seconds": %s, "cat_chain_seconds": %s, "verdict": %s}' \
            "$m" "${FULL_B[$mode]}" "${INCR_B[$mode]}" "$pb" "$(jstat "${f_s[@]}")" "$(jstat "${i_s[@]}")" "$pt" \
            "$(jstr "${LINKS[$mode]}")" "$([ -z "${NOT_INCR[$mode]:-}" ] && echo true || echo false)" \
            "$(jstat "${fst[@]}")" "$(jstat "${ist[@]}")" "$(jstat "${r_s[@]}")" "$(jstat "${c_s[@]}")" "$(jstr "$v")")")
    done
    add_note "$(printf 'incremental: %s of %s pages (4 KiB) changed, spread at random, %s; the restart follows the chain from the newest image (eager: --lazy applies to one full image); compaction of chains (--full-every) is checked by tests/incremental, not measured here' \
        "$changed" "$pages" "${RAW_NOTE:-default compression}")"
    [ ${#modes[@]} -gt 1 ] || add_note "incremental: --forked-ckpt not measured ($([ "$INCR_FORKED" = 0 ] && echo BENCH_INCR_FORKED=0 || echo "option not available"))"
    add_json "$(printf '"incremental": {"available": true, "memory_mib": %s, "pages": %s, "changed_pages": %s, "runs": %s, "exact": %s,\n    %s}' \
        "$mib" "$pages" "$changed" "$INCR_REPS" "$([ "$exact" = yes ] && echo true || echo false)" \
        "$(IFS=$'\n' && echo "${json[*]}" | sed '$!s/$/,/')")"
}
