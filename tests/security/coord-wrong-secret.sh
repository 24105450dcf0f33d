#!/bin/bash
# The coordinator's side of the handshake (finding 4 of issue 8): a client
# whose proof is wrong is refused (REJECT bad secret), one that skips AUTH
# or speaks protocol version 1 is refused in words it can read, one that
# stops talking mid-handshake is dropped after the handshake's bound — and
# meanwhile the coordinator goes on serving its processes and commands.
. "$(dirname "$0")/lib/auth.sh"
need_bins dmtcp_coordinator dmtcp_command
PROTO=$ROOT/tests/cli/lib/stasis_proto.py
start_coord || { fail wrong-secret-start "coordinator did not start"; exit 0; }
bg "$PY" "$PROTO" worker "$PORT" --name steady --ready "$TMP/ready"
wait_for test -e "$TMP/ready" || { fail wrong-secret-start "the fake worker never joined"; exit 0; }

# stops after the coordinator's CHALLENGE; reports when it is dropped
bg "$PY" "$PROTO" raw "$PORT" silent >"$TMP/silent.out" 2>&1

res=$(timeout "$WAIT" "$PY" "$PROTO" raw "$PORT" badproof 2>&1)
if [ "$res" = reject-bad-secret ]; then pass wrong-secret-proof
else fail wrong-secret-proof "a client with a wrong proof got: $res"; fi

out=$(STASIS_COORD_SECRET=not-the-secret cmd -s 2>&1); rc=$?
if [ $rc -ne 3 ]; then fail wrong-secret-command "exit $rc, expected 3: $out"
elif ! grep -q STASIS_COORD_SECRET <<<"$out"; then fail wrong-secret-command "the message does not say where the wrong secret came from: $out"
else pass wrong-secret-command; fi

res=$(timeout "$WAIT" "$PY" "$PROTO" raw "$PORT" noauth 2>&1)
if [ "$res" = reject ]; then pass wrong-secret-noauth
else fail wrong-secret-noauth "a client that skipped AUTH got: $res"; fi

res=$(timeout "$WAIT" "$PY" "$PROTO" raw "$PORT" version1 2>&1)
if grep -q '^reject-v1 .*version 1' <<<"$res"; then pass wrong-secret-version1
else fail wrong-secret-version1 "a version-1 client got: $res"; fi

# the refused clients did not disturb anyone
out=$(cmd -bc 2>&1); rc=$?
if [ $rc -ne 0 ]; then fail wrong-secret-still-serves "checkpoint with the worker failed: exit $rc: $out"
elif ! grep -q NUM_PEERS=1 <<<"$(cmd -s 2>&1)"; then fail wrong-secret-still-serves "the worker is gone: $(cmd -s 2>&1)"
else pass wrong-secret-still-serves; fi

if wait_for grep -q '^closed' "$TMP/silent.out"; then pass wrong-secret-silent-dropped
else fail wrong-secret-silent-dropped "a client silent mid-handshake is still connected: $(cat "$TMP/silent.out")"; fi
exit 0
