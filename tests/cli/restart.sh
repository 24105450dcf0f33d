#!/bin/bash
# Restart barriers with fake restarted workers: one process of a
# two-process restart is held at RESTARTED; both get through RESTARTED and
# REFILLED, then count as running; the coordinator adopts their generation;
# a restarted computation checkpoints.
. "$(dirname "$0")/lib/common.sh"
need_bins dmtcp_coordinator dmtcp_command
start_coord || { fail restart-start "coordinator did not start"; exit 0; }

# One of two, alone: once the coordinator has read its RESTARTED barrier
# (the status the worker sends right after it is logged), it must not be
# released.  A kill sent then reaches the worker after any release the
# coordinator sent it for that barrier: its trace must hold the kill alone
# (or the restart's failure, which is how a kill ends a restart in progress).
# (The restart it leaves unfinished is this coordinator's last act: the
# tests below get a new one.)
bg $PY "$PROTO" worker "$PORT" --name one --restart 0x5678:2 --gen 7 --mark-barrier --trace "$TMP/one.trace" 2>"$TMP/one.err"
one=$BG_PID
if ! wait_for grep -q '(one): resume delayed' "$TMP/coord.log"; then
    fail restart-waits "the coordinator never read the first process's barrier: $(tail -n 3 "$TMP/coord.log")"
elif ! out=$(cmd -s) || ! grep -q "RUNNING=no" <<<"$out"; then
    fail restart-waits "not RESTARTING, or RUNNING during the restart: $out"
elif ! cmd -k >/dev/null || ! finish "$one"; then
    fail restart-waits "the first process did not leave on kill"
elif ! [[ $(grep -v '^type 12$' "$TMP/one.trace" 2>/dev/null) =~ ^(kill|restart-failed)$ ]]; then
    # (type 12: the computation's status flags, which the coordinator sends
    # every worker when they change — the worker's own "resume delayed")
    fail restart-waits "the first process was released alone; it received: $(tr '\n' ' ' <"$TMP/one.trace")"
else pass restart-waits; fi
kill "$COORD_PID" 2>/dev/null
wait "$COORD_PID" 2>/dev/null
start_coord || { fail restart-start "second coordinator did not start"; exit 0; }

bg $PY "$PROTO" worker "$PORT" --name one --restart 0x1234:2 --gen 7 --ready "$TMP/r1"

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
wait_for no_peers
bg $PY "$PROTO" worker "$PORT" --name three --restart 0x99:2 --exit-at never --ready "$TMP/r3" 2>"$TMP/three.err"
three=$BG_PID
# the survivor first: a peer that came and went before it joined would
# fail a restart the survivor is not yet part of
joined_one() { cmd -s 2>/dev/null | grep -q NUM_PEERS=1; }
wait_for joined_one || fail restart-peer-dies "the survivor never joined"
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
