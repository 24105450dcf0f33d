#!/usr/bin/env bash
# kill-always.sh — `dmtcp_command -k` kills the computation whatever state
# its processes are in: a checkpoint waiting for a thread that cannot be
# parked; a process stopped with SIGSTOP; a checkpoint stuck in a plugin's
# hook; a restart stuck in a plugin's hook.  In the last three the engine
# cannot read the kill request, so the coordinator kills the process
# itself once it has not left within --kill-timeout (default 2 s) — but
# never a process that merely claims the worker's pid.
. "$(dirname "$0")/lib/common.sh"
need_bins
build_prog
build_hang_plugin
start_coord || { fail kill-coordinator "the coordinator did not start"; exit 0; }
export STASIS_TEST_HANG_DIR=$TMP/hang
mkdir -p "$STASIS_TEST_HANG_DIR"

# ---- a checkpoint waiting for a thread that blocks the checkpoint signal ------
if STASIS_SUSPEND_TIMEOUT=600 launch blk sigblock; then
    bg "$BIN/dmtcp_command" -p "$PORT" -bc >"$TMP/bc1.out" 2>&1
    BC=$BG_PID
    if ! wait_for status_busy; then
        fail kill-waiting-checkpoint "the checkpoint never started: $(cat "$TMP/bc1.out")"
    else
        killed kill-waiting-checkpoint "$LAUNCH_PID"
    fi
    if ! wait_for dead "$BC"; then fail kill-waiting-checkpoint-answered "-bc still waits after -k"
    else
        reap "$BC"
        if [ "$REAPED_RC" -ne 0 ]; then pass kill-waiting-checkpoint-answered
        else fail kill-waiting-checkpoint-answered "-bc exited 0: $(cat "$TMP/bc1.out")"; fi
    fi
else
    fail kill-waiting-checkpoint "$WHY"
fi

# ---- a stopped process -------------------------------------------------------
if launch stp plain; then
    kill -STOP "$LAUNCH_PID"
    killed kill-stopped "$LAUNCH_PID"
else
    fail kill-stopped "$WHY"
fi

# ---- a checkpoint stuck in a plugin's PRECHECKPOINT hook ---------------------
if launch hk plain --with-plugin "$HANG_PLUGIN"; then
    touch "$STASIS_TEST_HANG_DIR/hang-precheckpoint"
    bg "$BIN/dmtcp_command" -p "$PORT" -bc >"$TMP/bc2.out" 2>&1
    BC=$BG_PID
    if ! wait_for test -e "$STASIS_TEST_HANG_DIR/hanging"; then
        fail kill-in-checkpoint-hook "the hook never ran: $(tail -c 300 "$TMP/hk.err")"
        kill -9 "$LAUNCH_PID" 2>/dev/null
    else
        killed kill-in-checkpoint-hook "$LAUNCH_PID"
    fi
    wait_for dead "$BC" && reap "$BC"
    rm -f "$STASIS_TEST_HANG_DIR"/*
else
    fail kill-in-checkpoint-hook "$WHY"
fi

# ---- a restart stuck in a plugin's RESTART hook ------------------------------
if launch rs plain --with-plugin "$HANG_PLUGIN"; then
    out=$(cmd -bc 2>&1)
    rc=$?
    IMG=$(ls "$TMP"/rs/ckpt_prog-stuck_*.dmtcp 2>/dev/null | head -n 1)
    if [ $rc -ne 0 ] || [ -z "$IMG" ]; then
        fail kill-in-restart-hook "no image to restart (-bc exited $rc: $out)"
    elif killed kill-before-restart "$LAUNCH_PID"; then
        touch "$STASIS_TEST_HANG_DIR/hang-restart"
        bg "$BIN/dmtcp_restart" -p "$PORT" -j "$IMG" >"$TMP/rs-restart.out" 2>&1
        RP=$BG_PID
        if ! wait_for test -e "$STASIS_TEST_HANG_DIR/hanging"; then
            fail kill-in-restart-hook "the restart hook never ran: $(tail -c 300 "$TMP/rs-restart.out")"
        elif ! wait_for test "$(peers)" = 1; then
            fail kill-in-restart-hook "the restarted process never joined the coordinator"
        else
            killed kill-in-restart-hook "$RP"
        fi
    fi
else
    fail kill-in-restart-hook "$WHY"
fi
# ---- a worker that claims another process's pid and ignores the kill ----------
bg sleep 300
BYSTANDER=$BG_PID
bg /usr/bin/python3 "$ROOT/tests/liveness/lib/claim_pid.py" "$PORT" "$BYSTANDER" "$TMP/claimer-ready"
CLAIMER=$BG_PID
if ! wait_for test -e "$TMP/claimer-ready"; then
    fail kill-never-hits-claimed-pid "the fake worker never joined"
else
    cmd -k >/dev/null 2>&1
    if ! wait_for grep -q "pid $BYSTANDER) did not exit within 2 s of the kill request and cannot be killed" \
        "$TMP/coord.log"; then
        fail kill-never-hits-claimed-pid "the coordinator never said it cannot kill the fake worker: $(tail -n 3 "$TMP/coord.log")"
    elif ! alive "$BYSTANDER"; then
        fail kill-never-hits-claimed-pid "the coordinator killed process $BYSTANDER, which only had its pid claimed"
    else
        pass kill-never-hits-claimed-pid
    fi
fi
{ kill -9 "$CLAIMER" "$BYSTANDER"; reap "$CLAIMER"; reap "$BYSTANDER"; } 2>/dev/null
exit 0
