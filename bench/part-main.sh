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
#               beating its heartbeat again (the default restart mode; target
#               5 asks ≤ 0.1 × cat of a lazy mode)
#               floor: cat IMAGE >/dev/null with the image in the page cache
# BENCH_REPS runs, interleaved, reported as median (min, max).  After each
# checkpoint (the program still running) and each restart, outside the timed
# windows, the program compares every word of its memory with what it wrote.
# Sourced by run.sh (uses lib.sh).

part_main() {
    local rep CKPT_S=() CKPT_ENGINE_S=() DD_S=() DDZ_S=() CAT_S=() RESTART_S=() RESUMED_S=()
    local image_bytes=0 dd_mib=0
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

        # -- restart, until the program beats again; then, outside the
        # timing: is every word of memory what it was?
        mem_restart "$IMAGE"
        RESTART_S+=("$RS_S") RESUMED_S+=("$RESUMED_S")
        check_memory "after restart"
        stop_program
        rm -f "$IMAGE"
    done

    local dd_bytes=$((dd_mib * 1048576)) ck dd rs ct r_ck r_rs v_ck v_rs
    ck=$(med "${CKPT_S[@]}") dd=$(med "${DDZ_S[@]}") rs=$(med "${RESTART_S[@]}") ct=$(med "${CAT_S[@]}")
    r_ck=$(calc '%.2f' "$ck / $dd") r_rs=$(calc '%.2f' "$rs / $ct")
    v_ck=$(verdict_le "$r_ck" 1.3) v_rs=$(verdict_le "$r_rs" 0.1)
    MAIN_POINT="$MIB $ck $rs $dd $ct"

    add_section "checkpoint and restart, $MIB MiB incompressible (targets 1, 5)"
    add_time_row "checkpoint (fsync)" "$image_bytes" "$r_ck × dd" "1: ≤ 1.3 × dd" "$v_ck" "${CKPT_S[@]}"
    add_time_row "  floor: dd /dev/zero" "$dd_bytes" "" "" "" "${DDZ_S[@]}"
    add_time_row "  (dd of the image)" "$image_bytes" "" "" "" "${DD_S[@]}"
    add_time_row "restart (until running)" "$image_bytes" "$r_rs × cat" "5: ≤ 0.1 × cat (lazy)" "$v_rs" "${RESTART_S[@]}"
    add_time_row "  floor: cat (cached)" "$image_bytes" "" "" "" "${CAT_S[@]}"
    add_target 1 "checkpoint of 1 GiB incompressible, uncompressed" "$r_ck × dd ($MIB MiB)" "≤ 1.3 × dd" "$v_ck"
    add_target 5 "restart until running" "$r_rs × cat ($MIB MiB, default mode)" "≤ 0.1 × cat (lazy mode)" "$v_rs"

    add_note "$(printf 'main: image %s bytes (%.1f MiB) for %s MiB of memory%s; dd writes %s MiB; MB = 10^6 bytes' \
        "$image_bytes" "$(calc '%f' "$image_bytes / 1048576")" "$MIB" "${RAW_NOTE:+ ($RAW_NOTE)}" "$dd_mib")"
    add_note "$(printf 'main: checkpoint as timed by the coordinator: median %.3f s; restart as stamped by the program: median %.3f s' \
        "$(med "${CKPT_ENGINE_S[@]}")" "$(med "${RESUMED_S[@]}")")"
    add_note "main: restart is the default mode (no lazy mode is measured yet); target 5 is judged on it"

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
        row_json restart "restart (until running)" '"cat"' "$r_rs" "$image_bytes" '"5: <= 0.1 x cat (lazy mode)"' "\"$v_rs\"" "${RESTART_S[@]}"
        printf ',\n'
        row_json cat "cat (cached)" null null "$image_bytes" null null "${CAT_S[@]}"
        printf ',\n'
        row_json checkpoint_coordinator "checkpoint as timed by the coordinator" null null "$image_bytes" null null "${CKPT_ENGINE_S[@]}"
        printf ',\n'
        row_json restart_program "restart as stamped by the program" null null "$image_bytes" null null "${RESUMED_S[@]}"
        printf '\n  ]'
    )"
}
