#!/bin/bash
# shellcheck disable=SC2154 # vdso_start, file_size … are set by the eval of imgtool info
# Crafted region tables and payload heads: one field of a real image
# patched and the checksums recomputed (lib/imgtool.c), so that only range
# checks can tell.  Regions overlapping, in page zero, past the top of user
# space, over the restart helper's own ranges, over the saved [vdso], with
# an unaligned end, unknown protection bits, a path outside the strings; a
# payload for a reserved range and for a read-only shared file mapping, a
# payload past the end of the file or of a size that wraps; a library
# mapping starting past its file's end; in a payload head, an extent
# outside its region, a block longer than 1 MiB or running past the file.
# Each is refused by dmtcp_restart and by the restart helper run on it by
# hand (it reads the image itself and must not trust that dmtcp_restart
# checked): exit status 1, one line naming the image, the region and the
# field, never a signal.  Then: a private file mapping that now reaches past
# its file's end restores (the part past it as anonymous memory, no
# SIGBUS), a bad plugin section is refused, and the original restarts.
. "$(dirname "$0")/lib/common.sh"
need_bins dmtcp_coordinator dmtcp_command dmtcp_launch dmtcp_restart
ulimit -c 0
build_tools
start_coord || { fail crafted-regions "coordinator did not start"; exit 0; }
make_image "$TMP/ckpt" || { fail crafted-regions "could not make an image: $WHY"; exit 0; }
eval "$("$IMGTOOL" info "$IMAGE" | grep -E '^(restore_entry|vdso_start|vdso_end|file_size)=[0-9a-fx]+$')"

HEAP=$(region_where 'f["path"] == "[heap]"')
STACK=$(region_where 'f["path"] == "[stack]"')
CODE=$(region_holding "$restore_entry")
BEFORE_CODE=$(region_where "f[\"region\"] == $(($(field "$CODE" region) - 1))")
SCATTERED=$(region_where 'f["kind"] == 1 && f["nextents"] >= 2')        # pages stored in several runs
BIG=$(region_where 'f["kind"] == 1 && f["stored_pages"] >= 256')         # a whole 1 MiB block
LIBDATA=$(region_where 'f["kind"] == 3 && f["flags"] == 16 && f["prot"] == 3 && f["stored_pages"] > 0')
idx() { field "$1" region; }
len() { echo $(($(field "$1" end) - $(field "$1" start))); }
for v in HEAP STACK CODE BEFORE_CODE SCATTERED BIG LIBDATA; do
    [ -n "${!v}" ] || { fail crafted-regions "no region for $v in $IMAGE: $("$IMGTOOL" regions "$IMAGE" | head -c 2000)"; exit 0; }
done

# the engine's code grown down over the region before it
craft overlap set-region "$(idx "$CODE")" start "$(field "$BEFORE_CODE" start)"
crafted overlap "region $(idx "$CODE") " "start" "overlaps the region before it"

craft page-zero set-region "$(idx "$HEAP")" start 0
craft_also page-zero set-region "$(idx "$HEAP")" end "$(len "$HEAP")"
crafted page-zero "region $(idx "$HEAP") " "start 0x0" "page zero"

craft past-top set-region "$(idx "$STACK")" start 0x7ffffffff000
craft_also past-top set-region "$(idx "$STACK")" end $((0x7ffffffff000 + $(len "$STACK")))
crafted past-top "region $(idx "$STACK") " "end" "top of user space"

craft on-helper set-region "$(idx "$HEAP")" start 0x600000000000
craft_also on-helper set-region "$(idx "$HEAP")" end $((0x600000000000 + $(len "$HEAP")))
crafted on-helper "region $(idx "$HEAP") " "restart helper's address ranges"

craft on-vdso set-region "$(idx "$HEAP")" start "$vdso_start"
craft_also on-vdso set-region "$(idx "$HEAP")" end $((vdso_start + $(len "$HEAP")))
crafted on-vdso "region $(idx "$HEAP") " "vdso"

craft end-unaligned set-region "$(idx "$HEAP")" end $(($(field "$HEAP" end) + 0x800))
crafted end-unaligned "region $(idx "$HEAP") " "end" "not page-aligned"

craft prot-bits set-region "$(idx "$HEAP")" prot 0x1000003
crafted prot-bits "region $(idx "$HEAP") " "prot 0x1000003"

craft path-outside set-region "$(idx "$LIBDATA")" path_offset 0xffffffff
crafted path-outside "region $(idx "$LIBDATA") " "path_offset" "strings"

# saved pages for memory that cannot take them
craft reserved-payload set-region "$(idx "$BIG")" kind 5
crafted reserved-payload "region $(idx "$BIG") " "payload_size" "reserved"

craft shared-payload set-region "$(idx "$LIBDATA")" kind 4
craft_also shared-payload set-region "$(idx "$LIBDATA")" prot 1
crafted shared-payload "region $(idx "$LIBDATA") " "payload_size" "shared file"

craft payload-past-eof set-region "$(idx "$BIG")" payload_offset $(((file_size / 4096 + 256) * 4096))
crafted payload-past-eof "region $(idx "$BIG") " "payload_offset"

craft payload-size-wraps set-region "$(idx "$BIG")" payload_size 0xfffffffffffff000
crafted payload-size-wraps "region $(idx "$BIG") " "payload_size" "region table"

craft lib-past-eof set-region "$(idx "$LIBDATA")" file_offset 0x10000000
crafted lib-past-eof "region $(idx "$LIBDATA") " "file_offset 0x10000000" "past the end of the file"

# the payload head, its checksum recomputed
craft extent-outside set-head "$(idx "$SCATTERED")" extent.1.first_page 0x100000
crafted extent-outside "region $(idx "$SCATTERED") " "extent 0x1" "inside the region"

craft block-raw-len set-head "$(idx "$BIG")" block.0.raw_len 0x7ffff000
crafted block-raw-len "region $(idx "$BIG") " "raw_len 0x7ffff000"

craft block-stored-len set-head "$(idx "$BIG")" block.0.stored_len 0xffffffff
crafted block-stored-len "region $(idx "$BIG") " "offset" "outside the payload"

# A private mapping of a file that now ends before it (not a program or
# library, whose size dmtcp_restart checks): restored, the pages past the
# file's end as anonymous memory holding the saved pages; never SIGBUS.
craft data-past-eof set-region "$(idx "$LIBDATA")" flags 0
craft_also data-past-eof set-region "$(idx "$LIBDATA")" file_offset 0x10000000
if restart_ok "$TMP/data-past-eof.dmtcp" "$ID" "$TICK" data-past-eof; then pass crafted-data-past-eof-restores
else fail crafted-data-past-eof-restores "$WHY"; fi

# a plugin section longer than the sections area (the engine reads them
# back at restart; the restart helper does not read them)
craft section-size add-section test.note "hello"
if ! restart_ok "$TMP/section-size.dmtcp" "$ID" "$TICK" section-ok; then
    fail crafted-section-size "the image with a well-formed section added did not restart: $WHY"
else
    craft_also section-size set-section 0 size 0x7fffffff
    if refusal crafted-section-size "$TMP/section-size.dmtcp" "plugin section 0" "size 0x7fffffff" "sections area"; then
        pass crafted-section-size-restart
    else fail crafted-section-size-restart "$WHY"; fi
fi

# the original, untouched, still restarts
if [ "$(sha "$IMAGE")" != "$IMAGE_SHA" ]; then fail crafted-regions-original "the original image changed"
elif ! restart_ok "$IMAGE" "$ID" "$TICK" original; then fail crafted-regions-original "$WHY"
else pass crafted-regions-original; fi
exit 0
