# shellcheck shell=bash
# part-main.sh — BENCH_ONLY=main: checkpoint and restart a process holding
# BENCH_MIB MiB of incompressible memory (bench-mem), next to the floors
# measured in the same run and the same directory (issue 4, targets 1 and 5):
#   checkpoint  wall time of `dmtcp_command -bc` (images are fsync'd;
#               uncompressed: --no-gzip is passed when dmtcp_launch has it)
#               floor: dd if=/dev/zero bs=1M conv=fsync of the image's size
#               (rounded up to a MiB) into the checkpoint directory.  For
#               reference, dd of the image itself (random bytes, read from the
#               page cache) is printed too: a virtual disk, a compressing or
#               deduplicating store may treat zeros differently — if the two
#               differ steadily, the floor is the question.  The two dd run in
#               alternating order; every timed write starts after a `sync`.
#   restart     wall time from starting dmtcp_restart until bench-mem is seen
#               beating its heartbeat again, in both modes, from the same
#               cached image (alternating which goes first):
#                 eager   the default: every 1 MiB block is loaded and checked
#                         against its checksum before the program runs
#                 --lazy  the program runs first; a server process loads and
#                         checks each block on first touch, the rest in the
#                         background (userfaultfd).  Target 5 (≤ 0.1 × cat)
#                         is judged on it.  When dmtcp_restart says it is
#                         "loading everything first" (no userfaultfd for
#                         kernel faults: not root and
#                         vm.unprivileged_userfaultfd=0), the row is n/a with
#                         that reason; without --lazy in `dmtcp_restart
#                         --help`, n/a (option not available).
#               floor: cat IMAGE >/dev/null with the image in the page cache
#               Lazy only moves the cost: the memory check that follows each
#               restart reads every word (forcing every block in), so the
#               time from starting dmtcp_restart until that check ended is
#               reported for both modes too ("until memory verified").
# BENCH_REPS runs, interleaved, reported as median (min, max).  After each
# checkpoint (the program still running) and each restart, outside the timed
# windows, the program compares every word of its memory with what it wrote.
# Sourced by run.sh (uses lib.sh).

part_main() {
    local rep CKPT_S=() CKPT_ENGINE_S=() DD_S=() DDZ_S=() CAT_S=() POP_S=() RESTART_S=() PROG_RESUMED_S=()
    local EAGER_VER_S=() EAGER_CHECK_S=() LAZY_S=() LAZY_RESUMED_S=() LAZY_VER_S=() LAZY_CHECK_S=()
    local image_bytes=0 dd_mib=0 lazy=0 lazy_why='' lazy_msg='' order=() mode why
    restart_has_option --lazy && lazy=1
    for rep in $(seq 1 "$REPS"); do
        CONTEXT="main, run $rep"
        mem_launch "$MIB" -- "${RAW_OPTS[@]}"
        mem_checkpoint
        CKPT_S+=("$CK_S") CKPT_ENGINE_S+=("$CK_ENGINE_S")
        image_bytes=$IMAGE_BYTES
        HWM_KB[raw.$MIB]+=" $HWM_GROWTH_KB"
        check_memory "after checkpoint (still running)"
        stop_program

        # -- floors: dd of as many bytes, fsync'd, into the same directory
        # (from /dev/zero: the floor; from the image: for reference), and cat
        # of the image from the page cache
        cat "$IMAGE" >/dev/null
        dd_mib=$(((image_bytes + 1048575) / 1048576))
        if ((rep % 2)); then # alternate, so neither dd always follows the other
            time_dd "$IMAGE" "$dd_mib" && DD_S+=("$DD_T")
            time_dd /dev/zero "$dd_mib" && DDZ_S+=("$DD_T")
        else
            time_dd /dev/zero "$dd_mib" && DDZ_S+=("$DD_T")
            time_dd "$IMAGE" "$dd_mib" && DD_S+=("$DD_T")
        fi
        time_cat "$IMAGE" && CAT_S+=("$CAT_T")
        # the kernel handing out as much fresh memory: what an eager restart
        # pays before it copies a byte (bench-populate.c)
        POP_S+=("$("$POPULATE" "$MIB")")

        # -- restart, until the program beats again, eager (default) and
        # --lazy, alternating which goes first; then, outside the timing: is
        # every word of memory what it was?  That check reads all of it, so
        # its end is when a lazy restart has loaded everything too.
        order=(eager lazy)
        ((rep % 2)) || order=(lazy eager)
        for mode in "${order[@]}"; do
            case $mode in
            eager)
                CONTEXT="main, run $rep, restart"
                mem_restart "$IMAGE"
                RESTART_S+=("$RS_S") PROG_RESUMED_S+=("$RESUMED_S")
                check_memory "after restart"
                EAGER_VER_S+=("$(elapsed "$RS_T0" "$VERIFY_T1")") EAGER_CHECK_S+=("$VERIFY_S")
                ;;
            lazy)
                [ "$lazy" = 1 ] || continue
                CONTEXT="main, run $rep, restart --lazy"
                mem_restart "$IMAGE" --lazy # not -q: it says whether it is lazy
                why=$(not_lazy_why) && [ -n "$why" ] && lazy_why=$why
                lazy_msg=$(grep -m1 'lazy restart:' <<<"$RESTART_MSG")
                LAZY_S+=("$RS_S") LAZY_RESUMED_S+=("$RESUMED_S")
                check_memory "after restart --lazy"
                LAZY_VER_S+=("$(elapsed "$RS_T0" "$VERIFY_T1")") LAZY_CHECK_S+=("$VERIFY_S")
                ;;
            esac
            stop_program
        done
        rm -f "$IMAGE"
    done

    local dd_bytes=$((dd_mib * 1048576)) ck dd rs ct r_ck r_rs r_ev v_ck lz='' r_lz='' r_lv='' v_lz=''
    ck=$(med "${CKPT_S[@]}") dd=$(med "${DDZ_S[@]}") rs=$(med "${RESTART_S[@]}") ct=$(med "${CAT_S[@]}")
    r_ck=$(calc '%.2f' "$ck / $dd") r_rs=$(calc '%.2f' "$rs / $ct") r_ev=$(calc '%.2f' "$(med "${EAGER_VER_S[@]}") / $ct")
    v_ck=$(verdict_le "$r_ck" 1.3)
    # target 5: the lazy figure, unless there is none or it was not lazy
    if [ "$lazy" = 0 ]; then
        v_lz="n/a (option not available)"
    elif [ -n "$lazy_why" ]; then
        v_lz="n/a ($lazy_why)"
    else
        lz=$(med "${LAZY_S[@]}")
        r_lz=$(calc '%.3f' "$lz / $ct") r_lv=$(calc '%.2f' "$(med "${LAZY_VER_S[@]}") / $ct")
        v_lz=$(verdict_le "$r_lz" 0.1)
    fi
    MAIN_POINT="$MIB $ck $rs $dd $ct"

    add_section "checkpoint and restart, $MIB MiB incompressible (targets 1, 5)"
    add_time_row "checkpoint (fsync)" "$image_bytes" "$r_ck × dd" "1: ≤ 1.3 × dd" "$v_ck" "${CKPT_S[@]}"
    add_time_row "  floor: dd /dev/zero" "$dd_bytes" "" "" "" "${DDZ_S[@]}"
    add_time_row "  (dd of the image)" "$image_bytes" "" "" "" "${DD_S[@]}"
    add_time_row "restart, eager (until running)" "$image_bytes" "$r_rs × cat" "" "" "${RESTART_S[@]}"
    if [ -n "$r_lz" ]; then
        # (no throughput: most of the image is not loaded yet when it runs)
        add_time_row "restart --lazy (until running)" 0 "$r_lz × cat" "5: ≤ 0.1 × cat" "$v_lz" "${LAZY_S[@]}"
    else
        add_row "restart --lazy (until running)" - - - - - "5: ≤ 0.1 × cat" "$v_lz"
    fi
    add_time_row "  eager, until memory verified" "$image_bytes" "$r_ev × cat" "" "" "${EAGER_VER_S[@]}"
    [ -z "$r_lz" ] ||
        add_time_row "  --lazy, until memory verified" "$image_bytes" "$r_lv × cat" "" "" "${LAZY_VER_S[@]}"
    add_time_row "  floor: cat (cached)" "$image_bytes" "" "" "" "${CAT_S[@]}"
    add_time_row "  floor: fresh memory, $MIB MiB (MADV_POPULATE_WRITE)" "$image_bytes" \
        "$(calc "%.2f" "$(med "${POP_S[@]}") / $(med "${CAT_S[@]}")") × cat" "" "" "${POP_S[@]}"
    add_target 1 "checkpoint of 1 GiB incompressible, uncompressed" "$r_ck × dd ($MIB MiB)" "≤ 1.3 × dd" "$v_ck"
    if [ -n "$r_lz" ]; then
        add_target 5 "restart until running" "$r_lz × cat with --lazy ($MIB MiB; $r_lv × cat until all memory was read and verified); default mode eager, verifying every block as it loads: $r_rs × cat" \
            "≤ 0.1 × cat (lazy mode)" "$v_lz"
    else
        add_target 5 "restart until running" "$r_rs × cat ($MIB MiB, default mode eager, verifying every block as it loads); --lazy not measured ${v_lz#n/a }" \
            "≤ 0.1 × cat (lazy mode)" "$v_lz"
    fi

    add_note "$(printf 'main: image %s bytes (%.1f MiB) for %s MiB of memory%s; dd writes %s MiB; MB = 10^6 bytes' \
        "$image_bytes" "$(calc '%f' "$image_bytes / 1048576")" "$MIB" "${RAW_NOTE:+ ($RAW_NOTE)}" "$dd_mib")"
    add_note "$(printf 'main: checkpoint as timed by the coordinator: median %.3f s; restart as stamped by the program: median %.3f s' \
        "$(med "${CKPT_ENGINE_S[@]}")" "$(med "${PROG_RESUMED_S[@]}")")"
    add_note "main: restart modes: eager is the default (every 1 MiB block is loaded and checked against its checksum before the program runs, so a damaged image is refused before anything runs); --lazy (target 5) lets the program run first and loads each block on first touch, checked before it is used"
    if [ -n "$r_lz" ]; then
        add_note "$(printf '  lazy only moves the cost: until the memory check had read every word, median %.3f s lazy vs %.3f s eager (the check alone took %.3f s after the lazy restart, %.3f s after the eager one)%s' \
            "$(med "${LAZY_VER_S[@]}")" "$(med "${EAGER_VER_S[@]}")" "$(med "${LAZY_CHECK_S[@]}")" "$(med "${EAGER_CHECK_S[@]}")" \
            "${lazy_msg:+; it said: ${lazy_msg#dmtcp_restart: }}")"
    elif [ "$lazy" = 1 ]; then
        add_note "  --lazy not measured: dmtcp_restart said \"$lazy_why\" (memory was still checked after it: exact or not is in the line below)"
    else
        add_note "  --lazy not measured: dmtcp_restart --help does not mention it"
    fi

    row_json() { # id label floor ratio bytes values...
        local id=$1 label=$2 floor=$3 ratio=$4 bytes=$5 target=$6 verdict=$7
        shift 7
        local m
        m=$(med "$@")
        printf '    {"id": "%s", "label": "%s", "bytes": %s, "seconds": %s, "mb_per_s": %s, "floor": %s, "ratio": %s, "target": %s, "verdict": %s}' \
            "$id" "$label" "$bytes" "$(jstat "$@")" "$(calc '%.1f' "$bytes / $m / 1e6")" "$floor" "$ratio" \
            "$target" "$verdict"
    }
    add_json "$(
        printf '"image_bytes": %s,\n  "rows": [\n' "$image_bytes"
        row_json checkpoint "checkpoint (fsync)" '"dd"' "$r_ck" "$image_bytes" '"1: <= 1.3 x dd"' "\"$v_ck\"" "${CKPT_S[@]}"
        printf ',\n'
        row_json dd "dd if=/dev/zero bs=1M conv=fsync" null null "$dd_bytes" null null "${DDZ_S[@]}"
        printf ',\n'
        row_json dd_image "dd of the image bs=1M conv=fsync (reference, not the floor)" null null "$image_bytes" null null "${DD_S[@]}"
        printf ',\n'
        row_json restart "restart, eager (until running; the default mode)" '"cat"' "$r_rs" "$image_bytes" null null "${RESTART_S[@]}"
        printf ',\n'
        if [ -n "$r_lz" ]; then
            row_json restart_lazy "restart --lazy (until running)" '"cat"' "$r_lz" "$image_bytes" '"5: <= 0.1 x cat (lazy mode)"' "\"$v_lz\"" "${LAZY_S[@]}"
            printf ',\n'
            row_json restart_lazy_verified "restart --lazy, until the memory check read every word" '"cat"' "$r_lv" "$image_bytes" null null "${LAZY_VER_S[@]}"
            printf ',\n'
        else
            printf '    {"id": "restart_lazy", "label": "restart --lazy (until running)", "seconds": null, "target": "5: <= 0.1 x cat (lazy mode)", "verdict": %s},\n' "$(jstr "$v_lz")"
        fi
        row_json restart_verified "restart, eager, until the memory check read every word" '"cat"' "$r_ev" "$image_bytes" null null "${EAGER_VER_S[@]}"
        printf ',\n'
        row_json cat "cat (cached)" null null "$image_bytes" null null "${CAT_S[@]}"
        printf ',\n'
        row_json checkpoint_coordinator "checkpoint as timed by the coordinator" null null "$image_bytes" null null "${CKPT_ENGINE_S[@]}"
        printf ',\n'
        row_json restart_program "restart as stamped by the program" null null "$image_bytes" null null "${PROG_RESUMED_S[@]}"
        printf '\n  ]'
    )"
}
