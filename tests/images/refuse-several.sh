#!/bin/bash
# Several images on one command line: every image is checked before any is
# restored, so one bad image (first or last) means exit status 1, a message
# naming the bad one, and nothing restarted, not even the good ones.
. "$(dirname "$0")/lib/common.sh"
need_bins dmtcp_coordinator dmtcp_command dmtcp_launch dmtcp_restart
build_tools
start_coord || { fail refuse-several "coordinator did not start"; exit 0; }
make_image "$TMP/ckpt" || { fail refuse-several "could not make an image: $WHY"; exit 0; }

cp "$IMAGE" "$TMP/bad.dmtcp"
truncate -s $(($(stat -c %s "$IMAGE") / 2)) "$TMP/bad.dmtcp"

several() { # name args...
    local name=$1 logn
    shift
    logn=$(grep -c 'restart:' "$TMP/coord.log")
    try_restart "$name" "$@"
    if [ "$RC" != 1 ]; then fail "$name" "exit $RC, expected 1 ($(head -c 400 <<<"$RESTART_OUT"))"
    elif ! grep -qF "refusing to restart $TMP/bad.dmtcp: truncated" <<<"$RESTART_OUT"; then
        fail "$name" "message does not name the bad image: $RESTART_OUT"
    elif grep -q '^tick ' <<<"$RESTART_OUT"; then fail "$name" "the good image was restored"
    elif [ "$(peers)" != 0 ] || [ "$(grep -c 'restart:' "$TMP/coord.log")" != "$logn" ]; then
        fail "$name" "something reached the coordinator: $(tail -n 3 "$TMP/coord.log")"
    elif [ "$(sha "$IMAGE")" != "$IMAGE_SHA" ]; then fail "$name" "the good image changed"
    elif ! restart_ok "$IMAGE" "$ID" "$TICK" "$name-orig"; then
        fail "$name" "the good image then did not restart alone: $WHY"
    else pass "$name"; fi
}
several refuse-several-bad-last "$IMAGE" "$TMP/bad.dmtcp"
several refuse-several-bad-first "$TMP/bad.dmtcp" "$IMAGE"
several refuse-several-missing-last "$IMAGE" "$TMP/bad.dmtcp" "$TMP/missing.dmtcp"
exit 0
