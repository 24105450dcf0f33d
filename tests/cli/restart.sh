#!/bin/bash
# Restart barriers with fake restarted workers: both of a two-process
# restart get through RESTARTED and REFILLED, then count as running; the
# coordinator adopts their generation; a restarted computation checkpoints.
. "$(dirname "$0")/lib/common.sh"
need_bins dmtcp_coordinator dmtcp_command
start_coord || { fail restart-start "coordinator did not start"; exit 0; }

bg $PY "$PROTO" worker "$PORT" --name one --restart 0x1234:2 --gen 7 --ready "$TMP/r1"
sleep 0.3
out=$(cmd -s)
if [ -e "$TMP/r1" ]; then fail restart-waits "first process passed the barrier alone"
elif ! grep -q "RUNNING=no" <<<"$out"; then fail restart-waits "RUNNING during restart: $out"
else pass restart-waits; fi

bg $PY "$PROTO" worker "$PORT" --name two --restart 0x1234:2 --gen 7 --ready "$TMP/r2"
if wait_for test -e "$TMP/r1" && wait_for test -e "$TMP/r2"; then pass restart-barriers
else fail restart-barriers "processes never released"; fi

out=$(cmd -s)
if grep -q NUM_PEERS=2 <<<"$out" && grep -q RUNNING=yes <<<"$out" && grep -q CHECKPOINTS=7 <<<"$out" &&
    grep -q COMPUTATION_ID=0000000000001234 <<<"$out"; then pass restart-status
else fail restart-status "got: $out"; fi

out=$(cmd -bc 2>&1); rc=$?
if [ $rc -eq 0 ] && grep -q "checkpoint 8:" <<<"$out"; then pass restart-then-checkpoint
else fail restart-then-checkpoint "exit $rc: $out"; fi

# A restarted process that dies fails the restart: the other is told why
# (and exits), and the coordinator is free again.
cmd -k >/dev/null
wait_for sh -c "'$BIN/dmtcp_command' -p $PORT -s | grep -q NUM_PEERS=0"
bg $PY "$PROTO" worker "$PORT" --name three --restart 0x99:2 --exit-at never --ready "$TMP/r3" 2>"$TMP/three.err"
three=$BG_PID
bg $PY -c '
import sys, socket; sys.path.insert(0, sys.argv[2]); import stasis_proto as p
port = int(sys.argv[1]); s = p.connect(port)
p.hello(s, port, state=3, comp=0x99, peers=2, name="dies")
' "$PORT" "$ROOT/tests/cli/lib"
told() { grep -q 'worker: restart failed: process [0-9]* (dies, pid [0-9]*) exited during the restart' "$TMP/three.err"; }
free() { out=$(cmd -bc 2>&1); grep -q 'no processes' <<<"$out"; }
if ! wait_for told; then fail restart-peer-dies "survivor not told: $(cat "$TMP/three.err")"
elif [ -e "$TMP/r3" ]; then fail restart-peer-dies "the survivor was released"
elif ! wait_for dead "$three"; then fail restart-peer-dies "the survivor is still connected"
elif ! wait_for free; then fail restart-peer-dies "coordinator not free: $out"
else pass restart-peer-dies; fi
exit 0
