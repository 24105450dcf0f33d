#!/bin/bash
# A restart that cannot complete ends, and leaves nothing behind.  Two
# programs launched on one coordinator are checkpointed together (two
# images of one computation); the second maps a file MAP_SHARED.  Then:
#   shared-gone-last / -first   the file is removed: dmtcp_restart exits
#                               non-zero naming that image and the file
#   helper-killed               the file is a FIFO, so the helper hangs
#                               opening it, and is SIGKILLed
#   timeout                     the same hang with --restart-timeout 2: the
#                               coordinator fails the restart and kills
#                               the stuck helper
# and in each case: no process of the restart is left (by pid), none ran
# the program, and the coordinator is free (no process, not busy; a new
# program launches and checkpoints).
#   exit-on-last                one image, the helper SIGKILLed, under the
#                               coordinator dmtcp_restart started: that
#                               coordinator exits.
#   then-restarts               with the file back, both images restart
#                               together, run on and checkpoint again.
. "$(dirname "$0")/lib/common.sh"
need_bins dmtcp_coordinator dmtcp_command dmtcp_launch dmtcp_restart
build_tools
start_coord || { fail restart-fail "coordinator did not start"; exit 0; }

SHARED=$TMP/shared.dat
head -c 4096 /dev/urandom >"$SHARED"
mkdir -p "$TMP/ck1" "$TMP/ck2"
bg "$BIN/dmtcp_launch" -p "$PORT" -j --ckptdir "$TMP/ck1" "$PROG" 2 >"$TMP/one.out" 2>"$TMP/one.err"
bg "$BIN/dmtcp_launch" -p "$PORT" -j --ckptdir "$TMP/ck2" "$PROG" 2 "$SHARED" >"$TMP/two.out" 2>"$TMP/two.err"
if ! wait_for tick_at_least "$TMP/one.out" 2 || ! wait_for tick_at_least "$TMP/two.out" 2; then
    fail restart-fail "the launched programs never ticked: $(tail -c 300 "$TMP/one.err" "$TMP/two.err")"
    exit 0
fi
if ! out=$(cmd -bc 2>&1); then
    fail restart-fail "dmtcp_command -bc failed: $out"
    exit 0
fi
kill_all
IMG1=$(ls "$TMP"/ck1/ckpt_prog-counter_*.dmtcp 2>/dev/null | head -n 1)
IMG2=$(ls "$TMP"/ck2/ckpt_prog-counter_*.dmtcp 2>/dev/null | head -n 1)
if [ -z "$IMG1" ] || [ -z "$IMG2" ]; then
    fail restart-fail "no images after -bc: $out"
    exit 0
fi

# restored_pids IMAGE: pids the coordinator log says restore IMAGE, in the
# lines after the first $LOGN (this restart's)
restored_pids() {
    tail -n +$((LOGN + 1)) "$TMP/coord.log" |
        sed -n "s|.*restart: $1 ([0-9]* of [0-9]*) is being restored by pid \([0-9]*\) .*|\1|p"
}
all_dead() { local p; for p; do alive "$p" && return 1; done; return 0; }
# blocked_helper PID: PID is a restart helper asleep (opening the FIFO)
blocked_helper() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    [[ $stat == *"(restart-helper) S "* ]]
}
# helper_of IMAGE: the pid restoring IMAGE, once the log names it
helper_of() { HELPER=$(restored_pids "$1" | tail -n 1); [ -n "$HELPER" ]; }

# coordinator_free NAME: no process, no restart in progress; a new program
# launches and a blocking checkpoint of it works
coordinator_free() {
    local s out rc
    s=$(cmd -s 2>&1)
    if ! grep -q 'NUM_PEERS=0' <<<"$s"; then WHY="processes left: $s"; return 1; fi
    mkdir -p "$TMP/$1.ck"
    bg "$BIN/dmtcp_launch" -p "$PORT" -j --ckptdir "$TMP/$1.ck" "$PROG" 1 >"$TMP/$1.new.out" 2>"$TMP/$1.new.err"
    if ! wait_for tick_at_least "$TMP/$1.new.out" 2; then
        WHY="a new program did not run: $(tail -c 300 "$TMP/$1.new.err")"
        kill_all
        return 1
    fi
    out=$(cmd -bc 2>&1)
    rc=$?
    kill_all
    if [ $rc -ne 0 ]; then WHY="a checkpoint of a new program failed (exit $rc): $out"; return 1; fi
}

# failed_restart NAME BAD_IMAGE PATTERN -- ARGS...: dmtcp_restart -j ARGS
# ends (bounded) with a non-zero status and a message naming BAD_IMAGE and
# matching PATTERN; every process of it is gone; none printed a tick
# (program code ran); the coordinator is free.  ACTION, if set, runs once
# the restart started (with $RP its pid).
failed_restart() {
    local name=$1 bad=$2 pat=$3 out=$TMP/$1.rout p pids
    shift 4
    LOGN=$(wc -l <"$TMP/coord.log")
    bg "$BIN/dmtcp_restart" -p "$PORT" -j "$@" >"$out" 2>&1
    RP=$BG_PID
    if [ -n "${ACTION:-}" ] && ! $ACTION; then
        fail "$name" "$WHY"
        kill_all
        return
    fi
    if ! wait_for dead "$RP"; then
        fail "$name" "dmtcp_restart still runs after ${WAIT}s: $(tail -c 400 "$out")"
        kill -9 "$RP" 2>/dev/null
        reap "$RP"
        kill_all
        return
    fi
    reap "$RP"
    pids="$RP $(restored_pids "$IMG1") $(restored_pids "$IMG2")"
    if [ "$REAPED_RC" = 0 ]; then fail "$name" "dmtcp_restart exited 0: $(tail -c 400 "$out")"
    elif ! grep -qF "$bad" "$out"; then fail "$name" "exit $REAPED_RC, message does not name $bad: $(tail -c 600 "$out")"
    elif ! grep -qE "$pat" "$out"; then fail "$name" "exit $REAPED_RC, message does not say '$pat': $(tail -c 600 "$out")"
    elif ! wait_for all_dead $pids; then
        for p in $pids; do alive "$p" && break; done
        fail "$name" "process $p of the restart is still there ($(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null))"
    elif grep -q '^tick ' "$out"; then fail "$name" "a restored process ran the program: $(grep -m1 '^tick ' "$out")"
    elif ! wait_for coordinator_free "$name"; then fail "$name" "the coordinator is not free: $WHY"
    else pass "$name"; fi
}

rm -f "$SHARED"
ACTION='' failed_restart restart-fail-shared-gone-last "$IMG2" 'shared-mapped file .*shared\.dat' -- "$IMG1" "$IMG2"
ACTION='' failed_restart restart-fail-shared-gone-first "$IMG2" 'shared-mapped file .*shared\.dat' -- "$IMG2" "$IMG1"

# The helper of image 2 now hangs in open(2) on a FIFO where the file was.
mkfifo "$SHARED"
kill_blocked_helper() {
    if ! wait_for helper_of "$IMG2" || ! wait_for blocked_helper "$HELPER"; then
        WHY="the helper restoring $IMG2 never blocked on the FIFO: $(tail -n 3 "$TMP/coord.log")"
        return 1
    fi
    kill -9 "$HELPER"
}
ACTION=kill_blocked_helper failed_restart restart-fail-helper-killed "$IMG2" 'ended before the process was back' -- "$IMG1" "$IMG2"
ACTION='' failed_restart restart-fail-timeout "$IMG2" 'after 2 s' -- --restart-timeout 2 "$IMG1" "$IMG2"
if grep -q "restart: killed process .* (restoring $IMG2)" "$TMP/coord.log"; then pass restart-fail-timeout-kills-stuck
else fail restart-fail-timeout-kills-stuck "no 'killed process' line for $IMG2 in the coordinator log"; fi

# 10b: one image, its helper killed, under a coordinator dmtcp_restart started.
FREE=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
bg "$BIN/dmtcp_restart" --new-coordinator --partial -p "$FREE" "$IMG2" >"$TMP/own.rout" 2>&1
RP=$BG_PID
own_coord() { OWN=$(pgrep -f -- "dmtcp_coordinator --daemon --exit-on-last .*-p $FREE " | head -n 1); [ -n "$OWN" ]; }
if ! wait_for own_coord; then
    fail restart-fail-exit-on-last "dmtcp_restart started no coordinator on port $FREE: $(tail -c 300 "$TMP/own.rout")"
elif ! wait_for blocked_helper "$RP"; then
    fail restart-fail-exit-on-last "the helper never blocked on the FIFO: $(tail -c 300 "$TMP/own.rout")"
    kill -9 "$OWN"
else
    { kill -9 "$RP"; wait "$RP"; } 2>/dev/null
    if wait_for dead "$OWN"; then pass restart-fail-exit-on-last
    else fail restart-fail-exit-on-last "the coordinator dmtcp_restart started (pid $OWN) is still there"; kill -9 "$OWN"; fi
fi
{ reap "$RP"; } 2>/dev/null

rm -f "$SHARED"
head -c 4096 /dev/urandom >"$SHARED"
bg "$BIN/dmtcp_restart" -p "$PORT" -j "$IMG1" "$IMG2" >"$TMP/both.rout" 2>&1
two_running() { cmd -s 2>/dev/null | grep -q 'NUM_PEERS=2' && cmd -s 2>/dev/null | grep -q 'RUNNING=yes'; }
if ! wait_for two_running; then fail restart-fail-then-restarts "not both back: $(cmd -s 2>&1) $(tail -c 300 "$TMP/both.rout")"
elif ! wait_for ticks_printed "$TMP/both.rout" 6; then fail restart-fail-then-restarts "they do not run: $(tail -c 300 "$TMP/both.rout")"
elif ! out=$(cmd -bc 2>&1); then fail restart-fail-then-restarts "checkpoint after the restart: $out"
else pass restart-fail-then-restarts; fi
kill_all
exit 0
