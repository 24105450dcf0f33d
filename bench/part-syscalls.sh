# shellcheck shell=bash
# part-syscalls.sh — BENCH_ONLY=syscalls: what the engine costs a syscall-
# and thread-heavy program that is never checkpointed (issue 4, target 9:
# ≤ 3 % slower).  bench-syscalls does a fixed amount of work (getpid,
# syscall(SYS_gettid), open/close, pthread_create/join; BENCH_SYSCALLS_SCALE
# multiplies it, default 10, about 1.5 s) plain and under dmtcp_launch
# (joined to the bench's coordinator, no checkpoint), alternating,
# BENCH_REPS times each, after one untimed run of each.  The target is judged
# on the program's own time for its work (CLOCK_MONOTONIC, summed over the
# phases); each phase gets its row, since the engine makes getpid faster
# (cached) and the sum hides what the others cost; the wall time of the whole
# run, which adds dmtcp_launch, the engine's start and its connection to the
# coordinator, is shown for reference.  Sourced by run.sh (uses lib.sh).

part_syscalls() {
    local scale=$SYSCALLS_SCALE
    local bin=$WORK/bench-syscalls file=$WORK/syscalls.file
    cc -std=gnu11 -O2 -Wall -Wextra -o "$bin" "$ROOT/bench/bench-syscalls.c" -lpthread ||
        die "cannot compile bench/bench-syscalls.c"
    echo "a file to open and close" >"$file"

    local rep how hows=(plain engine) t0 t1 out
    # one short untimed run of each first: the binaries and libraries in the
    # page cache, so the first timed run is not the only one paying for it
    "$bin" "$file" 1 >/dev/null 2>>"$WORK/prog.log" || die "bench-syscalls failed (plain)"
    "$BIN/dmtcp_launch" -p "$PORT" -j -q --ckptdir "$CKPT" "$bin" "$file" 1 </dev/null >/dev/null 2>>"$WORK/prog.log" ||
        die "bench-syscalls failed under dmtcp_launch"
    local -A PH # PH[how.phase] = the runs' seconds, space-separated
    local WALL_plain=() WALL_engine=()
    for rep in $(seq 1 "$REPS"); do
        for how in "${hows[@]}"; do
            CONTEXT="syscalls, $how, run $rep"
            local cmd=("$bin" "$file" "$scale")
            [ $how = engine ] && cmd=("$BIN/dmtcp_launch" -p "$PORT" -j -q --ckptdir "$CKPT" "${cmd[@]}")
            t0=$EPOCHREALTIME
            out=$(timeout 600 "${cmd[@]}" </dev/null 2>>"$WORK/prog.log") || die "bench-syscalls failed: $out"
            t1=$EPOCHREALTIME
            if [ $how = plain ]; then WALL_plain+=("$(elapsed "$t0" "$t1")"); else WALL_engine+=("$(elapsed "$t0" "$t1")"); fi
            while read -r phase secs; do
                PH[$how.$phase]+=" $secs"
            done <<<"$out"
        done
        hows=("${hows[1]}" "${hows[0]}")
    done

    local phase p e pct per=() jph=() tp te worst=''
    for phase in getpid gettid openclose threads total; do
        # shellcheck disable=SC2086 # the runs, split on purpose
        p=$(med ${PH[plain.$phase]}) e=$(med ${PH[engine.$phase]})
        pct=$(calc '%.1f' "100 * ($e - $p) / $p")
        if [ $phase != total ] && { [ -z "$worst" ] || awk -v a="$pct" -v b="${worst#* }" 'BEGIN { exit !(a > b) }'; }; then
            worst="$phase $pct"
        fi
        # shellcheck disable=SC2086
        [ $phase = total ] || per+=("$(printf 'row\t  phase %s, engine\t%s\t%s\t%s\t-\t%s %% (plain %s)\t\t' "$phase" \
            "$(fmt_s "$e")" "$(fmt_s "$(stat_of min ${PH[engine.$phase]})")" "$(fmt_s "$(stat_of max ${PH[engine.$phase]})")" \
            "$(calc '%+.1f' "$pct")" "$(fmt_s "$p")")")
        # shellcheck disable=SC2086
        jph+=("$(printf '"%s": {"plain": %s, "engine": %s, "overhead_percent": %s}' "$phase" \
            "$(jstat ${PH[plain.$phase]})" "$(jstat ${PH[engine.$phase]})" "$pct")")
    done
    # shellcheck disable=SC2086
    tp=$(med ${PH[plain.total]}) te=$(med ${PH[engine.total]})
    pct=$(calc '%.1f' "100 * ($te - $tp) / $tp")
    local v wpct
    v=$(verdict_le "$pct" 3)
    wpct=$(calc '%.1f' "100 * ($(med "${WALL_engine[@]}") - $(med "${WALL_plain[@]}")) / $(med "${WALL_plain[@]}")")
    add_section "syscall- and thread-heavy program, no checkpoint, scale $scale (target 9)"
    # shellcheck disable=SC2086
    add_time_row "work under the engine" 0 "$(calc '%+.1f' "$pct") %" "9: ≤ 3 % slower" "$v" ${PH[engine.total]}
    # shellcheck disable=SC2086
    add_time_row "  floor: work, plain" 0 "" "" "" ${PH[plain.total]}
    ROWS+=("${per[@]}")
    add_time_row "whole run, dmtcp_launch" 0 "$(calc '%+.1f' "$wpct") %" "" "" "${WALL_engine[@]}"
    add_time_row "  whole run, plain" 0 "" "" "" "${WALL_plain[@]}"
    add_target 9 "syscall- and thread-heavy program, no checkpoint" \
        "$(calc '%+.1f' "$pct") % (work time; slowest phase: ${worst% *} $(calc '%+.1f' "${worst#* }") %)" "≤ 3 % slower" "$v"
    add_note "syscalls: the phases are in the program's work; the target is judged on their sum, as the issue speaks of the whole program"
    add_json "$(printf '"syscalls": {"scale": %s, "overhead_percent": %s, "wall_overhead_percent": %s, "wall_seconds": {"plain": %s, "engine": %s},\n    "phases_seconds": {%s}}' \
        "$scale" "$pct" "$wpct" "$(jstat "${WALL_plain[@]}")" "$(jstat "${WALL_engine[@]}")" \
        "$(IFS=',' && echo "${jph[*]}" | sed 's/,"/, "/g')")"
}
