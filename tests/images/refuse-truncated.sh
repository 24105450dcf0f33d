#!/bin/bash
# Truncated and extended images: cut to half, to the 4096-byte header, to
# the header struct alone, to a few bytes, without its trailer, and one
# byte appended.  Each copy is refused with exit status 1 and a message that
# says the image is truncated/incomplete (or altered); the original restarts
# after each refusal.
. "$(dirname "$0")/lib/common.sh"
need_bins dmtcp_coordinator dmtcp_command dmtcp_launch dmtcp_restart
build_tools
start_coord || { fail refuse-truncated "coordinator did not start"; exit 0; }
make_image "$TMP/ckpt" || { fail refuse-truncated "could not make an image: $WHY"; exit 0; }
SIZE=$(stat -c %s "$IMAGE")
STRUCT=$(info "$IMAGE" struct_size)

cut_copy() { # name size
    cp "$IMAGE" "$TMP/$1.dmtcp"
    truncate -s "$2" "$TMP/$1.dmtcp"
}
cut_copy half $((SIZE / 2))
refused refuse-truncated-half "$TMP/half.dmtcp" "truncated|incomplete" "$((SIZE / 2)) bytes"
cut_copy header-only 4096
refused refuse-truncated-header-only "$TMP/header-only.dmtcp" "truncated|incomplete" "4096 bytes"
cut_copy header-struct "$STRUCT"
refused refuse-truncated-header-struct "$TMP/header-struct.dmtcp" "truncated|incomplete|too short" "$STRUCT bytes"
cut_copy few-bytes 100
refused refuse-truncated-100-bytes "$TMP/few-bytes.dmtcp" "too short|truncated" "100 bytes"
cut_copy no-trailer $((SIZE - 64))
refused refuse-truncated-no-trailer "$TMP/no-trailer.dmtcp" "truncated|incomplete"
cut_copy last-byte $((SIZE - 1))
refused refuse-truncated-last-byte "$TMP/last-byte.dmtcp" "truncated|incomplete"
cp "$IMAGE" "$TMP/extended.dmtcp"
printf 'x' >>"$TMP/extended.dmtcp"
refused refuse-extended "$TMP/extended.dmtcp" "altered|corrupt|extended" "$((SIZE + 1))"
exit 0
