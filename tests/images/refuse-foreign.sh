#!/bin/bash
# Images that are intact but not for this dmtcp_restart: another
# architecture, another user, a newer, an older and an unknown format version,
# another page size.  The field is patched in the header (lib/imgtool.c) and
# the header resealed (header checksum recomputed and copied into the
# trailer), so the refusal must name that specific problem, not a checksum.
# An arch patch without resealing must be reported as a corrupt header.
# Exit status 1 each time; the original restarts after each refusal.
. "$(dirname "$0")/lib/common.sh"
need_bins dmtcp_coordinator dmtcp_command dmtcp_launch dmtcp_restart
build_tools
start_coord || { fail refuse-foreign "coordinator did not start"; exit 0; }
make_image "$TMP/ckpt" || { fail refuse-foreign "could not make an image: $WHY"; exit 0; }
ME=$(id -u)

patched() { # name field value [--no-reseal]
    cp "$IMAGE" "$TMP/$1.dmtcp"
    "$IMGTOOL" set "$TMP/$1.dmtcp" "$2" "$3" $4
}

# The test's own resealing must reproduce the engine's checksums exactly.
cp "$IMAGE" "$TMP/resealed.dmtcp"
"$IMGTOOL" reseal "$TMP/resealed.dmtcp"
if cmp -s "$IMAGE" "$TMP/resealed.dmtcp"; then pass refuse-foreign-reseal-identity
else fail refuse-foreign-reseal-identity "imgtool reseal changed an intact image: the foreign-image tests below are unreliable"; fi

patched arch arch 183  # EM_AARCH64
refused refuse-foreign-arch "$TMP/arch.dmtcp" "another architecture" "183" "x86_64" "!checksum"

patched arch-unsealed arch 183 --no-reseal
refused refuse-foreign-arch-unsealed "$TMP/arch-unsealed.dmtcp" "header checksum mismatch" "corrupt" "!architecture"

OTHER=$((ME == 4242 ? 4243 : 4242))
patched uid uid "$OTHER"
refused refuse-foreign-user "$TMP/uid.dmtcp" "belongs to user $OTHER" "you are user $ME" "!checksum"

patched version version 3
refused refuse-foreign-newer-version "$TMP/version.dmtcp" "newer" "format 3" "reads format 2" "!checksum"

patched version1 version 1
refused refuse-foreign-older-version "$TMP/version1.dmtcp" "older" "format 1" "reads format 2" "!checksum"

patched version0 version 0
refused refuse-foreign-version-0 "$TMP/version0.dmtcp" "(unknown|unsupported|invalid).*format 0" "!newer" "!checksum"

patched pagesize page_size 65536
refused refuse-foreign-page-size "$TMP/pagesize.dmtcp" "page size 65536" "4096" "!checksum"
exit 0
