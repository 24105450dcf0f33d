#!/bin/bash
# The coordinator's secret is not saved in the images (finding 4 of issue
# 8): an image is a file that may be copied or shared, and the token in it
# would command the computation for as long as its coordinator runs.  The
# engine keeps the token only for the handshake; an uncompressed image of a
# launched program, and of the same program restarted and checkpointed
# again, holds no copy of it.
. "$(dirname "$0")/lib/auth.sh"
need_bins
build_prog
start_coord || { fail secret-not-in-image "coordinator did not start"; exit 0; }
TOKEN=$(cat "$XDG_RUNTIME_DIR/stasis/coord-$PORT.secret")
mkdir -m 700 "$TMP/ckpt"

# holds_token FILE: the token's characters are somewhere in FILE
holds_token() { grep -c -F -a -- "$TOKEN" "$1" >/dev/null; }

bg "$BIN/dmtcp_launch" -p "$PORT" -j --no-gzip --ckptdir "$TMP/ckpt" "$PROG" >"$TMP/prog.out" 2>"$TMP/prog.err"
p=$BG_PID
if ! wait_for ticked "$TMP/prog.out"; then fail secret-not-in-image "the program did not run: $(cat "$TMP/prog.err")"; exit 0; fi
if ! out=$(cmd -bc 2>&1); then fail secret-not-in-image "checkpoint failed: $out"; exit 0; fi
image=$(ls "$TMP"/ckpt/ckpt_*.dmtcp)
if holds_token "$image"; then fail secret-not-in-image "the image $image holds the secret"
else pass secret-not-in-image; fi

{ cmd -k >/dev/null; finish "$p"; } 2>/dev/null # quiet: bash reports the job -k killed
bg "$BIN/dmtcp_restart" -p "$PORT" -j "$image" >"$TMP/restart.out" 2>"$TMP/restart.err"
p=$BG_PID
if ! wait_for ticked "$TMP/restart.out"; then
    fail secret-not-in-image-restarted "did not restart: $(cat "$TMP/restart.err")"
elif ! rm "$image"; then fail secret-not-in-image-restarted "cannot remove the first image"
elif ! out=$(cmd -bc 2>&1); then fail secret-not-in-image-restarted "checkpoint after restart failed: $out"
else
    image=$(ls "$TMP"/ckpt/ckpt_*.dmtcp)
    if holds_token "$image"; then fail secret-not-in-image-restarted "the image $image holds the secret"
    else pass secret-not-in-image-restarted; fi
fi
{ cmd -k >/dev/null; finish "$p"; } 2>/dev/null
exit 0
