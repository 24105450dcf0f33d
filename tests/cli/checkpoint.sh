#!/bin/bash
# The checkpoint protocol as seen from dmtcp_command, with fake workers
# (tests/cli/lib/stasis_proto.py) standing in for the engine: -c with no
# processes, -bc success and restart script, a worker's failure, a worker
# exiting mid-checkpoint, -kc.
. "$(dirname "$0")/lib/common.sh"
need_bins dmtcp_coordinator dmtcp_command
mkdir -p "$TMP/ckpt"
start_coord --ckptdir "$TMP/ckpt" || { fail ckpt-start "coordinator did not start"; exit 0; }

out=$(cmd -c 2>&1); rc=$?
if [ $rc -ne 4 ] || ! grep -q "no processes to checkpoint" <<<"$out"; then
    fail ckpt-no-processes "exit $rc: $out"
else pass ckpt-no-processes; fi

bg $PY "$PROTO" worker "$PORT" --name alpha --ready "$TMP/ra"
bg $PY "$PROTO" worker "$PORT" --name beta --ready "$TMP/rb"
wait_for test -e "$TMP/ra" && wait_for test -e "$TMP/rb"

out=$(cmd -bc 2>&1); rc=$?
S=$TMP/ckpt/dmtcp_restart_script.sh
if [ $rc -ne 0 ]; then fail ckpt-blocking "exit $rc: $out"
elif ! grep -q "checkpoint 1: 2 processes" <<<"$out"; then fail ckpt-blocking "message: $out"
else pass ckpt-blocking; fi

if [ ! -f "$S" ]; then fail ckpt-restart-script "no $S"
elif [ "$(stat -c %a "$S")" != 700 ]; then fail ckpt-restart-script "mode $(stat -c %a "$S"), expected 700 (the owner's alone)"
elif [ "$(grep -c "ckpt_.*\.dmtcp" "$S")" != 2 ]; then fail ckpt-restart-script "images missing: $(cat "$S")"
elif ! grep -q "dmtcp_restart' -h '127.0.0.1' -p '$PORT' \"\$@\"" "$S"; then
    fail ckpt-restart-script "exec line: $(cat "$S")"
elif ! sh -n "$S"; then fail ckpt-restart-script "not valid sh"
else pass ckpt-restart-script; fi

if grep -q "checkpoint 1: 2 processes, 8192 bytes in" "$TMP/coord.log"; then pass ckpt-logged
else fail ckpt-logged "no result line in the log"; fi

out=$(cmd -s)
if grep -q "RUNNING=yes" <<<"$out" && grep -q "CHECKPOINTS=1" <<<"$out"; then pass ckpt-resumed
else fail ckpt-resumed "status after checkpoint: $out"; fi

out=$(cmd -c 2>&1); rc=$?
if [ $rc -ne 0 ]; then fail ckpt-nonblocking "exit $rc: $out"
elif ! wait_for sh -c "'$BIN/dmtcp_command' -p $PORT -s | grep -q CHECKPOINTS=2"; then
    fail ckpt-nonblocking "checkpoint 2 never happened"
elif ! wait_for sh -c "'$BIN/dmtcp_command' -p $PORT -s | grep -q RUNNING=yes"; then
    fail ckpt-nonblocking "never back to running"
else pass ckpt-nonblocking; fi

# A worker that fails to write its image.
bg $PY "$PROTO" worker "$PORT" --name gamma --fail "disk full (test)" --ready "$TMP/rc"
GAMMA=$BG_PID
wait_for test -e "$TMP/rc"
out=$(cmd -bc 2>&1); rc=$?
if [ $rc -ne 4 ] || ! grep -q "disk full (test)" <<<"$out"; then fail ckpt-worker-error "exit $rc: $out"
else pass ckpt-worker-error; fi
kill "$GAMMA"
wait_for sh -c "'$BIN/dmtcp_command' -p $PORT -s | grep -q NUM_PEERS=2"

# A worker that exits in the middle.
bg $PY "$PROTO" worker "$PORT" --name delta --exit-at WRITING --ready "$TMP/rd"
wait_for test -e "$TMP/rd"
out=$(cmd -bc 2>&1); rc=$?
if [ $rc -ne 4 ] || ! grep -q "exited during checkpoint" <<<"$out"; then fail ckpt-worker-exits "exit $rc: $out"
elif ! wait_for sh -c "'$BIN/dmtcp_command' -p $PORT -s | grep -q RUNNING=yes"; then
    fail ckpt-worker-exits "survivors not running again"
else pass ckpt-worker-exits; fi

# -kc: checkpoint, then every worker is told to exit.
out=$(cmd -kc 2>&1); rc=$?
if [ $rc -ne 0 ]; then fail ckpt-kill "exit $rc: $out"
elif ! wait_for sh -c "'$BIN/dmtcp_command' -p $PORT -s | grep -q NUM_PEERS=0"; then
    fail ckpt-kill "processes still connected"
else pass ckpt-kill; fi
exit 0
