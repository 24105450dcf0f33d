#!/bin/bash
# dmtcp_restart on things that are not images, and bad command lines: random
# bytes, an empty file, a missing file, a directory, an unknown option, no
# image at all.  Each is refused with exit status 1 and one clear message
# before anything is restored; a good image restarts after each refusal.
. "$(dirname "$0")/lib/common.sh"
need_bins dmtcp_coordinator dmtcp_command dmtcp_launch dmtcp_restart
build_tools
start_coord || { fail refuse-not-image "coordinator did not start"; exit 0; }
make_image "$TMP/ckpt" || { fail refuse-not-image "could not make an image: $WHY"; exit 0; }

head -c 300000 /dev/urandom >"$TMP/random.dmtcp"
refused refuse-random-bytes "$TMP/random.dmtcp" "not a Stasis checkpoint image"

# random bytes behind the right magic: refused as corrupt, not as "made by a
# newer Stasis" (its version field is garbage, not a newer format)
cp "$TMP/random.dmtcp" "$TMP/random-magic.dmtcp"
printf 'STASIS\0\1' | dd of="$TMP/random-magic.dmtcp" conv=notrunc status=none
refused refuse-random-after-magic "$TMP/random-magic.dmtcp" "corrupt|incomplete|truncated|altered" "!newer Stasis"

: >"$TMP/empty.dmtcp"
refused refuse-empty-file "$TMP/empty.dmtcp" "too short|empty" "0 bytes"

refused refuse-missing-file "$TMP/no-such-image.dmtcp" "No such file or directory"

mkdir "$TMP/adir.dmtcp"
refused refuse-directory "$TMP/adir.dmtcp" "not a regular file|is a directory"

# bad command lines: usage message, exit 1, nothing restored
usage_refused() { # name pattern args...
    local name=$1 pat=$2 out rc
    shift 2
    out=$(timeout "$WAIT" "$BIN/dmtcp_restart" "$@" 2>&1 >/dev/null)
    rc=$?
    if [ $rc -ne 1 ]; then fail "$name" "exit $rc, expected 1 ($out)"
    elif ! grep -qE -- "$pat" <<<"$out"; then fail "$name" "message does not say '$pat': $out"
    elif [ "$(peers)" != 0 ]; then fail "$name" "something reached the coordinator"
    elif ! restart_ok "$IMAGE" "$ID" "$TICK" "$name-orig"; then
        fail "$name" "the original image then did not restart: $WHY"
    else pass "$name"; fi
}
usage_refused refuse-unknown-option "unknown option '--frobnicate'.*--help" \
    -p "$PORT" -j --frobnicate "$IMAGE"
usage_refused refuse-no-image "no image given" -p "$PORT" -j
usage_refused refuse-no-arguments "no image given"
usage_refused refuse-option-missing-value "needs a value" -j "$IMAGE" -p
exit 0
