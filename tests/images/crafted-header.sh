#!/bin/bash
# shellcheck disable=SC2154 # restore_entry, vdso_start … are set by the eval of imgtool info
# Crafted headers: one field of a real image patched and the checksums
# recomputed (lib/imgtool.c), so that only range checks can tell: a thread
# count of 0xffffffff and of 0, a restore entry in no region and in data,
# a region count far past the table, a strings area running off the file,
# a table offset past its end, the saved [vdso] placed over the restart
# helper, a program break past the top of user space, an incremental
# image's parent name with no NUL and one naming another directory.
# Each is refused by dmtcp_restart, and by the restart helper run on it by
# hand (it reads the image itself and must not trust that dmtcp_restart
# checked): exit status 1, one line naming the image and the field, never a
# signal.  The original image then restarts.
. "$(dirname "$0")/lib/common.sh"
need_bins dmtcp_coordinator dmtcp_command dmtcp_launch dmtcp_restart
ulimit -c 0
build_tools
start_coord || { fail crafted-header "coordinator did not start"; exit 0; }
make_image "$TMP/ckpt" || { fail crafted-header "could not make an image: $WHY"; exit 0; }
eval "$("$IMGTOOL" info "$IMAGE" | grep -E '^(restore_entry|vdso_start|vdso_end|file_size)=[0-9a-fx]+$')"
HEAP=$(region_where 'f["path"] == "[heap]"')

craft nthreads-max set nthreads 0xffffffff
crafted nthreads-max "nthreads" "0xffffffff" "out of range"

craft nthreads-0 set nthreads 0
crafted nthreads-0 "nthreads" "out of range"

craft entry-nowhere set restore_entry 0x1000
crafted entry-nowhere "restore_entry 0x1000" "no saved region"

craft entry-in-data set restore_entry $(($(field "$HEAP" start) + 0x10))
crafted entry-in-data "restore_entry" "not executable"

craft nregions-huge set nregions 0x10000000000
crafted nregions-huge "nregions 0x10000000000" "layout"

craft strings-past-end set strings_size 0x7fffffffff
crafted strings-past-end "strings_size" "layout"

craft table-past-end set table_offset $((file_size + 4096))
crafted table-past-end "table_offset" "layout"

# this kernel's [vdso] moved back over the helper's program
craft vdso-on-helper set vdso_start 0x600000000000
craft_also vdso-on-helper set vdso_end $((0x600000000000 + vdso_end - vdso_start))
crafted vdso-on-helper "vdso_start 0x600000000000" "restart helper"

craft brk-past-top set program_break 0x800000000000
crafted brk-past-top "program_break" "top of user space"

# an incremental image's parent: 256 bytes and no NUL, or a path
craft parent-no-nul set parent_checksum 0x1234
craft_also parent-no-nul set-text parent --fill A
crafted parent-no-nul "parent" "no terminating NUL"

craft parent-elsewhere set parent_checksum 0x1234
craft_also parent-elsewhere set-text parent ../other/ckpt_x.dmtcp
crafted parent-elsewhere "parent" "outside the image's directory"

# the original, untouched, still restarts
if [ "$(sha "$IMAGE")" != "$IMAGE_SHA" ]; then fail crafted-header-original "the original image changed"
elif ! restart_ok "$IMAGE" "$ID" "$TICK" original; then fail crafted-header-original "$WHY"
else pass crafted-header-original; fi
exit 0
