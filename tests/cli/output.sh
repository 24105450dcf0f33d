#!/bin/bash
# dmtcp_command output: DMTCP's -s layout, -l lines, --json objects, -i.
. "$(dirname "$0")/lib/common.sh"
need_bins dmtcp_coordinator dmtcp_command
start_coord || { fail output-start "coordinator did not start"; exit 0; }

out=$(cmd -s 2>&1)
want="Coordinator:
  Host: 127.0.0.1
  Port: $PORT
Status...
  NUM_PEERS=0
  RUNNING=no
  CKPT_INTERVAL=0 (checkpoint manually)"
if [ "$(head -7 <<<"$out")" != "$want" ]; then fail output-status-text "got: $out"
else pass output-status-text; fi

bg $PY "$PROTO" worker "$PORT" --name 'we"ird\name' --ready "$TMP/r1"
bg $PY "$PROTO" worker "$PORT" --name plain --delayed --ready "$TMP/r2"
wait_for test -e "$TMP/r1" && wait_for test -e "$TMP/r2"
wait_for sh -c "'$BIN/dmtcp_command' -p $PORT -l | grep -q RESUME_DELAYED"

out=$(cmd -s 2>&1)
if ! grep -q '^  NUM_PEERS=2$' <<<"$out" || ! grep -q '^  RUNNING=yes$' <<<"$out"; then
    fail output-status-peers "got: $out"
elif ! grep -q 'RESUME_DELAYED=' <<<"$out"; then fail output-status-peers "no resume-delayed line: $out"
else pass output-status-peers; fi

out=$(cmd -l 2>&1)
n=$(grep -c '@localhost, RUNNING' <<<"$out")
if [ "$n" != 2 ]; then fail output-list-text "expected 2 process lines, got: $out"
else pass output-list-text; fi

json=$(cmd -l --json 2>&1)
if ! $PY -m json.tool >/dev/null <<<"$json"; then fail output-list-json "not JSON: $json"
elif ! $PY -c '
import json, sys
d = json.load(sys.stdin)
for k in ("schema_version", "command", "command_status", "coordinator_host",
          "coordinator_port", "num_peers", "running", "checkpoint_interval", "processes"):
    assert k in d, k
assert d["command"] == "list" and d["command_status"] == "success"
assert d["num_peers"] == 2 and d["running"] is True
names = sorted(p["name"] for p in d["processes"])
assert names == ["plain", "we\"ird\\name"], names
assert any(p["resume_delayed"] for p in d["processes"])
' <<<"$json" 2>"$TMP/err"; then fail output-list-json "$(tail -1 "$TMP/err")"
else pass output-list-json; fi

json=$(cmd -s --json 2>&1)
if ! $PY -c 'import json,sys; d=json.load(sys.stdin); assert d["command"]=="status" and d["num_peers"]==2' <<<"$json" 2>/dev/null; then
    fail output-status-json "got: $json"
else pass output-status-json; fi

out=$(cmd -i 42 2>&1); rc=$?
if [ $rc -ne 0 ]; then fail output-interval "-i 42 exit $rc: $out"
elif ! cmd -s | grep -q '^  CKPT_INTERVAL=42$'; then fail output-interval "-s does not show 42"
elif ! cmd --interval=0 >/dev/null || ! cmd -s | grep -q 'CKPT_INTERVAL=0 (checkpoint manually)'; then
    fail output-interval "--interval=0 not shown as manual"
else pass output-interval; fi
exit 0
