# shellcheck shell=bash
# part-compression.sh — BENCH_ONLY=compression: compressed images (issue 4,
# targets 3, 4, 6), when `dmtcp_launch --help` mentions --gzip (DMTCP's name;
# the compressor is zstd).  BENCH_MIB MiB, BENCH_REPS runs, each run:
#   text, --gzip       memory filled with an English paragraph repeated
#                      (bench-mem "text": compresses very well, not zeros);
#                      checkpoint (target 3: ≤ 1.0 × dd of BENCH_MIB MiB,
#                      image ≤ 2 % of the memory), then restart from that
#                      compressed image until the program runs (target 6:
#                      ≤ 1.5 × cat of the raw-equivalent image), eager (the
#                      default) and, where dmtcp_restart has it, --lazy (as
#                      in target 5: blocks are decompressed and checked on
#                      first touch); the verdict is the lazy figure when the
#                      restart really was lazy, with the eager one beside it
#   text, --no-gzip    the same memory, uncompressed: its image is the
#                      raw-equivalent one cat reads for target 6's floor
#   random, --gzip     incompressible memory with compression on (target 4:
#                      ≤ 1.5 × dd), and a restart from it, for reference
# floors, in the same run and directory: dd if=/dev/zero bs=1M conv=fsync of
# BENCH_MIB MiB (the memory's size), cat of the cached raw text image.
# Every checkpoint and restart is followed by the word-for-word memory check.
# Sourced by run.sh (uses lib.sh).

part_compression() {
    if ! launch_has_option --gzip; then
        add_section "compressed images, $MIB MiB (targets 3, 4, 6)"
        add_row "checkpoint --gzip, text" - - - - - "3: ≤ 1.0 × dd, image ≤ 2 %" "n/a (option not available)"
        add_row "checkpoint --gzip, random" - - - - - "4: ≤ 1.5 × dd" "n/a (option not available)"
        add_row "restart, compressed text image" - - - - - "6: ≤ 1.5 × cat (raw)" "n/a (option not available)"
        add_target 3 "compressed checkpoint of compressible memory" - "≤ 1.0 × dd, image ≤ 2 %" "n/a (option not available)"
        add_target 4 "checkpoint of incompressible memory, compression on" - "≤ 1.5 × dd" "n/a (option not available)"
        add_target 6 "restart from a compressed image" - "≤ 1.5 × cat (raw)" "n/a (option not available)"
        add_note "compression: dmtcp_launch --help does not mention --gzip; not measured"
        add_json '"compression": {"available": false}'
        return 0
    fi
    local rep raw=() TXT_CK=() TXT_RS=() TXT_BYTES=0 RAW_CK=() RAW_BYTES=0 RND_CK=() RND_RS=() RND_BYTES=0
    local DDZ=() CAT_RAW=() mem_bytes=$((MIB * 1048576)) lazy=0 lazy_why='' TXT_LZ=() TXT_LZV=() why
    launch_has_option --no-gzip && raw=(--no-gzip)
    restart_has_option --lazy && lazy=1
    for rep in $(seq 1 "$REPS"); do
        CONTEXT="compression, text --gzip, run $rep"
        mem_launch "$MIB" text -- --gzip
        mem_checkpoint
        TXT_CK+=("$CK_S") TXT_BYTES=$IMAGE_BYTES
        check_memory "after checkpoint (still running)"
        stop_program
        mem_restart "$IMAGE"
        TXT_RS+=("$RS_S")
        check_memory "after restart"
        stop_program
        if [ "$lazy" = 1 ]; then
            CONTEXT="compression, text --gzip, run $rep, restart --lazy"
            mem_restart "$IMAGE" --lazy # not -q: it says whether it is lazy
            why=$(not_lazy_why) && [ -n "$why" ] && lazy_why=$why
            TXT_LZ+=("$RS_S")
            check_memory "after restart --lazy"
            TXT_LZV+=("$(elapsed "$RS_T0" "$VERIFY_T1")")
            stop_program
        fi
        rm -f "$IMAGE"

        CONTEXT="compression, text ${raw[*]:-default}, run $rep"
        mem_launch "$MIB" text -- "${raw[@]}"
        mem_checkpoint
        RAW_CK+=("$CK_S") RAW_BYTES=$IMAGE_BYTES
        check_memory "after checkpoint (still running)"
        stop_program
        time_cat "$IMAGE" && CAT_RAW+=("$CAT_T")
        rm -f "$IMAGE"
        time_dd /dev/zero "$MIB" && DDZ+=("$DD_T")

        CONTEXT="compression, random --gzip, run $rep"
        mem_launch "$MIB" -- --gzip
        mem_checkpoint
        RND_CK+=("$CK_S") RND_BYTES=$IMAGE_BYTES
        HWM_KB[gzip.$MIB]+=" $HWM_GROWTH_KB"
        check_memory "after checkpoint (still running)"
        stop_program
        mem_restart "$IMAGE"
        RND_RS+=("$RS_S")
        check_memory "after restart"
        stop_program
        rm -f "$IMAGE"
    done

    local dd ct r_txt r_rnd r_rs pct v3 v3b v4 v6
    dd=$(med "${DDZ[@]}") ct=$(med "${CAT_RAW[@]}")
    r_txt=$(calc '%.2f' "$(med "${TXT_CK[@]}") / $dd")
    r_rnd=$(calc '%.2f' "$(med "${RND_CK[@]}") / $dd")
    r_rs=$(calc '%.2f' "$(med "${TXT_RS[@]}") / $ct")
    pct=$(calc '%.2f' "100 * $TXT_BYTES / $mem_bytes")
    v3=$(verdict_le "$r_txt" 1.0) v3b=$(verdict_le "$pct" 2) v4=$(verdict_le "$r_rnd" 1.5) v6=$(verdict_le "$r_rs" 1.5)
    local r_lz='' r_lzv='' v6e=$v6 t6="$r_rs × cat of the raw image ($MIB MiB, default mode eager)"
    if [ "$lazy" = 1 ]; then
        r_lz=$(calc '%.3f' "$(med "${TXT_LZ[@]}") / $ct") r_lzv=$(calc '%.2f' "$(med "${TXT_LZV[@]}") / $ct")
        if [ -n "$lazy_why" ]; then
            t6+="; --lazy: not lazy here ($lazy_why)"
        else
            v6=$(verdict_le "$r_lz" 1.5) v6e=''
            t6="$r_lz × cat with --lazy ($MIB MiB; $r_lzv × cat until all memory was read and verified); eager (default): $r_rs × cat"
        fi
    fi

    add_section "compressed images (--gzip = zstd), $MIB MiB (targets 3, 4, 6)"
    add_time_row "checkpoint --gzip, text" "$mem_bytes" "$r_txt × dd" "3: ≤ 1.0 × dd" "$v3" "${TXT_CK[@]}"
    add_row "  image, text --gzip" "$(fmt_mib_kb "$((TXT_BYTES / 1024))")" - - - "$pct % of memory" "3: ≤ 2 %" "$v3b"
    add_time_row "checkpoint --gzip, random" "$mem_bytes" "$r_rnd × dd" "4: ≤ 1.5 × dd" "$v4" "${RND_CK[@]}"
    add_time_row "checkpoint ${raw[*]:-default}, text" "$mem_bytes" "$(calc '%.2f' "$(med "${RAW_CK[@]}") / $dd") × dd" "" "" "${RAW_CK[@]}"
    add_time_row "  floor: dd /dev/zero" "$mem_bytes" "" "" "" "${DDZ[@]}"
    add_time_row "restart, compressed text" "$RAW_BYTES" "$r_rs × cat" "${v6e:+6: ≤ 1.5 × cat (raw)}" "$v6e" "${TXT_RS[@]}"
    if [ "$lazy" = 1 ]; then
        local t6l='' v6l='' # the target's row: this one when the restart was lazy
        [ -n "$v6e" ] || t6l="6: ≤ 1.5 × cat (raw)" v6l=$v6
        add_time_row "restart --lazy, compressed text (until running)" 0 "$r_lz × cat" "$t6l" "$v6l" "${TXT_LZ[@]}"
        add_time_row "  --lazy, until memory verified" "$RAW_BYTES" "$r_lzv × cat" "" "" "${TXT_LZV[@]}"
    fi
    add_time_row "restart, compressed random" "$RND_BYTES" "" "" "" "${RND_RS[@]}"
    add_time_row "  floor: cat raw text image" "$RAW_BYTES" "" "" "" "${CAT_RAW[@]}"
    add_target 3 "compressed checkpoint of compressible memory" "$r_txt × dd, image $pct % ($MIB MiB)" \
        "≤ 1.0 × dd, image ≤ 2 %" "$(both_met "$v3" "$v3b")"
    add_target 4 "checkpoint of incompressible memory, compression on" "$r_rnd × dd ($MIB MiB)" "≤ 1.5 × dd" "$v4"
    add_target 6 "restart from a compressed image" "$t6" "≤ 1.5 × cat (raw)" "$v6"
    add_note "compression: images text --gzip $TXT_BYTES bytes, text ${raw[*]:-default} $RAW_BYTES bytes, random --gzip $RND_BYTES bytes; dd floor: $MIB MiB; throughput of checkpoints in MB of memory per second, of restarts in MB of raw image per second"
    add_json "$(printf '"compression": {"available": true, "memory_mib": %s, "dd_seconds": %s, "cat_raw_seconds": %s,\n    "text_gzip": {"image_bytes": %s, "checkpoint_seconds": %s, "restart_seconds": %s, "lazy_restart_seconds": %s, "lazy_until_verified_seconds": %s},\n    "text_raw": {"image_bytes": %s, "checkpoint_seconds": %s},\n    "random_gzip": {"image_bytes": %s, "checkpoint_seconds": %s, "restart_seconds": %s}}' \
        "$MIB" "$(jstat "${DDZ[@]}")" "$(jstat "${CAT_RAW[@]}")" \
        "$TXT_BYTES" "$(jstat "${TXT_CK[@]}")" "$(jstat "${TXT_RS[@]}")" "$(jstat "${TXT_LZ[@]}")" "$(jstat "${TXT_LZV[@]}")" \
        "$RAW_BYTES" "$(jstat "${RAW_CK[@]}")" \
        "$RND_BYTES" "$(jstat "${RND_CK[@]}")" "$(jstat "${RND_RS[@]}")")"
}
