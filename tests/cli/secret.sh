#!/bin/bash
# The secret: file and directory modes, wrong secret refused (exit 3) while
# the coordinator keeps serving, file removed at exit, a directory open to
# others passed over with a message (the secret goes to the next private
# place, where clients find it).
. "$(dirname "$0")/lib/common.sh"
need_bins dmtcp_coordinator dmtcp_command
start_coord || { fail secret-start "coordinator did not start"; exit 0; }
SEC=$XDG_RUNTIME_DIR/stasis/coord-$PORT.secret

mode=$(stat -c %a "$SEC" 2>/dev/null)
dmode=$(stat -c %a "$XDG_RUNTIME_DIR/stasis" 2>/dev/null)
if [ "$mode" != 600 ]; then fail secret-file-mode "mode '$mode', expected 600"
elif [ "$dmode" != 700 ]; then fail secret-file-mode "directory mode '$dmode', expected 700"
elif ! grep -Eq '^[0-9a-f]{64}$' "$SEC"; then fail secret-file-mode "content is not 64 hex digits"
else pass secret-file-mode; fi

out=$(STASIS_COORD_SECRET=bad cmd -s 2>&1); rc=$?
if [ $rc -ne 3 ]; then fail secret-wrong "exit $rc, expected 3 ($out)"
elif ! grep -q "does not know this user's coordinator secret.*STASIS_COORD_SECRET" <<<"$out"; then
    fail secret-wrong "unclear message: $out"
else pass secret-wrong; fi

out=$(cmd -s 2>&1); rc=$?
if [ $rc -ne 0 ]; then fail secret-still-serves "exit $rc after a refused client ($out)"
else pass secret-still-serves; fi

out=$(STASIS_COORD_SECRET=$(cat "$SEC") cmd -s 2>&1); rc=$?
if [ $rc -ne 0 ]; then fail secret-env "exit $rc with the right token in STASIS_COORD_SECRET ($out)"
else pass secret-env; fi

cmd -q >/dev/null 2>&1
wait_for sh -c "! kill -0 $COORD_PID 2>/dev/null"
if [ -e "$SEC" ]; then fail secret-removed "$SEC still exists after the coordinator quit"
else pass secret-removed; fi

chmod 755 "$XDG_RUNTIME_DIR/stasis"
export HOME=$TMP/home # the last place, should /tmp/stasis-UID be unusable here
mkdir -m 700 "$HOME"
"$BIN/dmtcp_coordinator" -p 0 --port-file "$TMP/p2" --timeout 600 >"$TMP/c2.log" 2>&1 &
COORD_PID=$!
if ! wait_for test -s "$TMP/p2"; then fail secret-unsafe-dir "did not start: $(cat "$TMP/c2.log")"
else
    PORT=$(cat "$TMP/p2")
    out=$(cmd -s 2>&1); rc=$?
    if ! grep -q "not using $XDG_RUNTIME_DIR/stasis .*mode is 0755" "$TMP/c2.log"; then
        fail secret-unsafe-dir "no message naming the refused directory: $(cat "$TMP/c2.log")"
    elif [ -e "$XDG_RUNTIME_DIR/stasis/coord-$PORT.secret" ]; then
        fail secret-unsafe-dir "the secret was written into the open directory"
    elif [ $rc -ne 0 ]; then fail secret-unsafe-dir "dmtcp_command does not find the secret: $out"
    else pass secret-unsafe-dir; fi
    cmd -q >/dev/null 2>&1
    wait_for sh -c "! kill -0 $COORD_PID 2>/dev/null"
fi
exit 0
