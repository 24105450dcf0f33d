#!/bin/bash
# dmtcp_coordinator itself: --port-file with -p 0, loopback binding,
# --status-file, --daemon, --exit-on-last, -q, --timeout.
. "$(dirname "$0")/lib/common.sh"
need_bins dmtcp_coordinator dmtcp_command
start_coord --status-file "$TMP/status" || { fail coord-port-file "coordinator did not start"; exit 0; }

if [[ "$PORT" =~ ^[0-9]+$ ]] && [ "$PORT" -gt 0 ]; then pass coord-port-file
else fail coord-port-file "port file holds '$PORT'"; fi

hexport=$(printf '%04X' "$PORT")
line=$(awk -v p=":$hexport" '$2 ~ p"$" && $4 == "0A" {print $2}' /proc/net/tcp /proc/net/tcp6 2>/dev/null)
if [ "$line" = "0100007F:$hexport" ]; then pass coord-binds-loopback
else fail coord-binds-loopback "listening address '$line', expected 0100007F:$hexport (127.0.0.1)"; fi

if grep -q "^DMTCP_COORD_PORT=$PORT$" "$TMP/status" 2>/dev/null; then pass coord-status-file
else fail coord-status-file "status file: $(cat "$TMP/status" 2>&1)"; fi

if grep -q "start: listening on 127.0.0.1:$PORT" "$TMP/coord.log"; then pass coord-log-start
else fail coord-log-start "no start line in the log"; fi

cmd -q >/dev/null 2>&1; rc=$?
if [ $rc -eq 0 ] && wait_for sh -c "! kill -0 $COORD_PID 2>/dev/null"; then pass coord-quit
else fail coord-quit "-q exit $rc, coordinator still running"; fi
wait "$COORD_PID" 2>/dev/null

# --daemon: the command returns once it listens; --exit-on-last ends it.
rm -f "$TMP/dport"
timeout 30 "$BIN/dmtcp_coordinator" -p 0 --port-file "$TMP/dport" --daemon --exit-on-last \
    --coord-logfile "$TMP/daemon.log"; rc=$?
DPORT=$(cat "$TMP/dport" 2>/dev/null)
if [ $rc -ne 0 ] || [ -z "$DPORT" ]; then fail coord-daemon "exit $rc, port '$DPORT'"
elif ! timeout 30 "$BIN/dmtcp_command" -p "$DPORT" -s >/dev/null 2>&1; then fail coord-daemon "not answering"
else pass coord-daemon; fi
if [ -n "$DPORT" ]; then
    $PY "$PROTO" worker "$DPORT" --ready "$TMP/dready" &
    W=$!
    joined=no
    wait_for test -e "$TMP/dready" && joined=yes
    kill "$W" 2>/dev/null; wait "$W" 2>/dev/null
    if [ $joined = no ]; then
        fail coord-exit-on-last "a worker could not join the --daemon coordinator"
    elif wait_for sh -c "! timeout 5 '$BIN/dmtcp_command' -p $DPORT -s >/dev/null 2>&1"; then
        pass coord-exit-on-last
    else
        fail coord-exit-on-last "still answering after its last process left"
    fi
    timeout 10 "$BIN/dmtcp_command" -p "$DPORT" -q >/dev/null 2>&1
fi

# --timeout: exits when nobody connects.
timeout 60 "$BIN/dmtcp_coordinator" -p 0 --timeout 1 -q 2>/dev/null; rc=$?
if [ $rc -eq 0 ]; then pass coord-timeout; else fail coord-timeout "exit $rc"; fi

# The port is busy: a clear message and exit 1.
start_coord || { fail coord-port-busy "the coordinator holding the port did not start"; exit 0; }
out=$(timeout 30 "$BIN/dmtcp_coordinator" -p "$PORT" 2>&1); rc=$?
if [ $rc -ne 1 ] || ! grep -q "cannot listen" <<<"$out"; then fail coord-port-busy "exit $rc: $out"
else pass coord-port-busy; fi
exit 0
