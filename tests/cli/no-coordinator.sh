#!/bin/bash
# dmtcp_command with nobody listening: one clear message, exit 2, no hang.
. "$(dirname "$0")/lib/common.sh"
need_bins dmtcp_command

# A port that was free a moment ago.
FREE=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

out=$(timeout 30 "$BIN/dmtcp_command" -p "$FREE" -s 2>&1); rc=$?
if [ $rc -eq 124 ]; then fail no-coordinator-status "dmtcp_command hung"
elif [ $rc -ne 2 ]; then fail no-coordinator-status "exit $rc, expected 2 ($out)"
elif ! grep -q "no coordinator at 127.0.0.1:$FREE" <<<"$out"; then
    fail no-coordinator-status "unclear message: $out"
else pass no-coordinator-status; fi

out=$(timeout 30 "$BIN/dmtcp_command" -p "$FREE" -s --json 2>/dev/null); rc=$?
if [ $rc -ne 2 ]; then fail no-coordinator-json "exit $rc, expected 2"
elif ! $PY -c 'import json,sys; d=json.load(sys.stdin); assert d["command_status"]=="failure" and d["error"]' <<<"$out" 2>/dev/null; then
    fail no-coordinator-json "bad JSON: $out"
else pass no-coordinator-json; fi

out=$(DMTCP_COORD_PORT=$FREE timeout 30 "$BIN/dmtcp_command" -c 2>&1); rc=$?
if [ $rc -ne 2 ]; then fail no-coordinator-env-port "exit $rc, expected 2 ($out)"
elif ! grep -q ":$FREE" <<<"$out"; then fail no-coordinator-env-port "DMTCP_COORD_PORT ignored: $out"
else pass no-coordinator-env-port; fi

# An address that never answers (TEST-NET-1): must time out, not hang.
out=$(timeout 60 "$BIN/dmtcp_command" -h 192.0.2.1 -p 7779 -s 2>&1); rc=$?
if [ $rc -eq 124 ]; then fail no-coordinator-unreachable "dmtcp_command hung"
elif [ $rc -ne 2 ]; then fail no-coordinator-unreachable "exit $rc, expected 2 ($out)"
else pass no-coordinator-unreachable; fi
exit 0
