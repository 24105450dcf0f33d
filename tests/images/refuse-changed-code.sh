#!/bin/bash
# An image keeps only the pages of its program's and libraries' mappings that
# the process changed; the rest is mapped from the files again.  So a
# program file that was touched, rebuilt (other size) or removed since the
# checkpoint is refused, with a message naming the file (exit status 1,
# nothing reaches the coordinator), and once the original file is back, the
# same image restarts and goes on from its checkpoint.
. "$(dirname "$0")/lib/common.sh"
need_bins dmtcp_coordinator dmtcp_command dmtcp_launch dmtcp_restart
build_tools
start_coord || { fail refuse-changed-code "coordinator did not start"; exit 0; }
make_image "$TMP/ckpt" || { fail refuse-changed-code "could not make an image: $WHY"; exit 0; }
cp -p "$PROG" "$TMP/prog-original"

# changed NAME PATTERN...: refused while $PROG is changed, then restarts
# once the original is back
changed() {
    local name=$1
    shift
    if ! refusal "$name" "$IMAGE" "$PROG" "$@"; then
        fail "$name" "$WHY"
    elif ! cp -p "$TMP/prog-original" "$PROG"; then
        fail "$name" "could not put the original program back"
    elif [ "$(sha "$IMAGE")" != "$IMAGE_SHA" ]; then
        fail "$name" "the image changed"
    elif ! restart_ok "$IMAGE" "$ID" "$TICK" "$name-orig"; then
        fail "$name" "refused correctly, but with the original file back the image did not restart: $WHY"
    else
        pass "$name"
    fi
}

touch -d '2001-02-03 04:05:06' "$PROG"
changed refuse-changed-code-mtime "changed since the checkpoint" "modified 2001-02-03"

compile "$PROG" -O2 -DREBUILT "$ROOT/tests/images/prog-counter.c" -lpthread
if [ "$(stat -c %s "$PROG")" = "$(stat -c %s "$TMP/prog-original")" ]; then
    printf 'padding' >>"$PROG" # a rebuild of the same size: make the size differ as well
fi
changed refuse-changed-code-rebuilt "changed since the checkpoint" "then $(stat -c %s "$TMP/prog-original") bytes"

rm -f "$PROG"
changed refuse-changed-code-removed "runs code from" "is gone"
exit 0
