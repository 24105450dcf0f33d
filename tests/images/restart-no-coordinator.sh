#!/bin/bash
# dmtcp_restart -j with no coordinator listening: one clear message naming
# the address, exit status 2, no hang, no coordinator started behind the
# user's back, nothing restored; the image is untouched and restarts once a
# coordinator is there.  A bad image is still reported as such (exit 1)
# when there is no coordinator: images are checked first.
. "$(dirname "$0")/lib/common.sh"
need_bins dmtcp_coordinator dmtcp_command dmtcp_launch dmtcp_restart
build_tools
start_coord || { fail restart-no-coordinator "coordinator did not start"; exit 0; }
make_image "$TMP/ckpt" || { fail restart-no-coordinator "could not make an image: $WHY"; exit 0; }

# A port that was free a moment ago.
FREE=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
listening() { timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

no_coord() { # name args...
    local name=$1 out rc
    shift
    out=$(timeout "$WAIT" "$@" 2>&1)
    rc=$?
    if [ $rc -eq 124 ]; then fail "$name" "dmtcp_restart hung"
    elif [ $rc -ne 2 ]; then fail "$name" "exit $rc, expected 2 ($(head -c 400 <<<"$out"))"
    elif ! grep -q "no coordinator at 127.0.0.1:$FREE" <<<"$out"; then fail "$name" "unclear message: $out"
    elif grep -q '^tick ' <<<"$out"; then fail "$name" "the image was restored anyway"
    elif listening "$FREE"; then fail "$name" "a coordinator was started on $FREE despite -j"
    elif [ "$(sha "$IMAGE")" != "$IMAGE_SHA" ]; then fail "$name" "the image changed"
    else pass "$name"; fi
}
no_coord restart-no-coordinator "$BIN/dmtcp_restart" -p "$FREE" -j "$IMAGE"
no_coord restart-no-coordinator-env-port env DMTCP_COORD_PORT="$FREE" "$BIN/dmtcp_restart" -j "$IMAGE"

cp "$IMAGE" "$TMP/half.dmtcp"
truncate -s $(($(stat -c %s "$IMAGE") / 2)) "$TMP/half.dmtcp"
out=$(timeout "$WAIT" "$BIN/dmtcp_restart" -p "$FREE" -j "$TMP/half.dmtcp" 2>&1)
rc=$?
if [ $rc -ne 1 ] || ! grep -q "refusing to restart $TMP/half.dmtcp: truncated" <<<"$out"; then
    fail restart-no-coordinator-bad-image "exit $rc, expected 1 and the image's problem: $out"
else pass restart-no-coordinator-bad-image; fi

if restart_ok "$IMAGE" "$ID" "$TICK" after; then pass restart-no-coordinator-then-restarts
else fail restart-no-coordinator-then-restarts "with the coordinator back: $WHY"; fi
exit 0
