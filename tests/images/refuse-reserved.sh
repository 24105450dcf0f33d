#!/bin/bash
# Reserved fields are zero (docs/image-format.md): an image whose header
# has a non-zero reserved field (offsets 64, 456 — where older builds had
# declared restore_arg and cmdline, never written — and 1556), resealed so
# its checksums match, or whose trailer's reserved bytes are not zero, is
# refused as corrupt, naming the field.  The offsets are the page's; the
# region flags and the payload's reserved fields, under checksums imgtool
# does not recompute, are covered by tests/unit/image_check.c.
. "$(dirname "$0")/lib/common.sh"
need_bins dmtcp_coordinator dmtcp_command dmtcp_launch dmtcp_restart
build_tools
start_coord || { fail refuse-reserved "coordinator did not start"; exit 0; }
make_image "$TMP/ckpt" || { fail refuse-reserved "could not make an image: $WHY"; exit 0; }

# poke NAME OFFSET [--no-reseal]: a copy of the image with byte OFFSET set
# to 0x5a, the header resealed unless told not to
poke() {
    cp "$IMAGE" "$TMP/$1.dmtcp"
    printf '\x5a' | dd of="$TMP/$1.dmtcp" bs=1 seek="$2" conv=notrunc status=none
    [ "${3:-}" = --no-reseal ] || "$IMGTOOL" reseal "$TMP/$1.dmtcp"
}

poke reserved1 64
refused refuse-reserved-header-64 "$TMP/reserved1.dmtcp" "reserved" "reserved1" "corrupt" "!checksum"

poke reserved2 $((456 + 100))
refused refuse-reserved-header-472 "$TMP/reserved2.dmtcp" "reserved" "reserved2" "corrupt" "!checksum"

poke reserved0 1556
refused refuse-reserved-header-1556 "$TMP/reserved0.dmtcp" "reserved" "reserved0" "corrupt" "!checksum"

# the trailer: its last 32 bytes (no checksum covers them)
size=$(stat -c %s "$IMAGE")
poke trailer $((size - 1)) --no-reseal
refused refuse-reserved-trailer "$TMP/trailer.dmtcp" "reserved" "trailer" "corrupt" "!checksum"
exit 0
