#!/bin/bash
# shellcheck disable=SC2154 # the offsets are set by the eval of imgtool info
# Corrupted images of the right size: one byte inverted (dd conv=notrunc) in
# the middle of the largest memory payload, at the middle of the file, in
# the region table, in the strings area near the end, in the header, in the
# trailer's copy of the header checksum, and in the header's version field.
# Each copy is refused with exit status 1 and a message naming the damaged
# part; the original restarts after each refusal.
. "$(dirname "$0")/lib/common.sh"
need_bins dmtcp_coordinator dmtcp_command dmtcp_launch dmtcp_restart
build_tools
start_coord || { fail refuse-checksum "coordinator did not start"; exit 0; }
make_image "$TMP/ckpt" || { fail refuse-checksum "could not make an image: $WHY"; exit 0; }
eval "$("$IMGTOOL" info "$IMAGE" | grep -E '^(off_[a-z_]+|big_payload_offset|big_payload_size|big_block_byte|table_offset|strings_offset|sections_offset|file_size|trailer_offset|mid_offset|mid_in_payload)=[0-9]+$')"

flipped() { # name offset: a copy of the image with the byte at offset inverted
    cp "$IMAGE" "$TMP/$1.dmtcp"
    flip "$TMP/$1.dmtcp" "$2"
}

if [ -z "$big_payload_size" ] || [ "$big_payload_size" -eq 0 ]; then
    fail refuse-checksum-payload "imgtool found no region payload in $IMAGE"
else
    flipped payload "$big_block_byte"
    refused refuse-checksum-payload "$TMP/payload.dmtcp" "checksum mismatch" "memory region" "corrupt"
fi

if [ "$mid_in_payload" = 1 ]; then
    flipped middle "$mid_offset"
    refused refuse-checksum-file-middle "$TMP/middle.dmtcp" "checksum mismatch" "memory region"
else
    skip refuse-checksum-file-middle "the middle of this image is not inside a payload"
fi

# the region table: its middle, and a byte of the last record
flipped table $(((table_offset + strings_offset) / 2))
refused refuse-checksum-region-table "$TMP/table.dmtcp" "region table checksum mismatch|region .* malformed" "corrupt"
flipped table-end $((strings_offset - 3))
refused refuse-checksum-region-table-end "$TMP/table-end.dmtcp" "region table checksum mismatch|region .* malformed" "corrupt"

# the strings (backing-file paths) just before the trailer: covered by the table checksum
if [ "$sections_offset" -gt "$strings_offset" ]; then
    flipped strings $((sections_offset - 2))
    refused refuse-checksum-strings "$TMP/strings.dmtcp" "table checksum mismatch" "corrupt"
else
    skip refuse-checksum-strings "this image has no strings area"
fi

# the header: the computation id and the program name
flipped header "$off_comp_id"
refused refuse-checksum-header "$TMP/header.dmtcp" "header checksum mismatch" "corrupt"
flipped header-name $((off_program + 2))
refused refuse-checksum-header-name "$TMP/header-name.dmtcp" "header checksum mismatch" "corrupt"

# the trailer's copy of the header checksum, and its magic
flipped trailer $((trailer_offset + off_trailer_header_checksum + 3))
refused refuse-checksum-trailer "$TMP/trailer.dmtcp" "trailer|checksum" "corrupt|not completely written|incomplete"
flipped trailer-magic $((trailer_offset + 1))
refused refuse-checksum-trailer-magic "$TMP/trailer-magic.dmtcp" "trailer" "not completely written|incomplete|corrupt"

# one bit flip in the high byte of the version field: the header is corrupt,
# not "made by a newer Stasis"
flipped version-byte $((off_version + 3))
refused refuse-checksum-version-byte "$TMP/version-byte.dmtcp" "corrupt" "!newer Stasis"
exit 0
