#!/bin/bash
# A chain with one byte inverted in a block of stored memory (the 64 MiB
# region's middle block, which the restart must read): in the full image
# at the start of the chain, in the newest image's parent, and in the
# newest image itself; and one byte of the parent's header.  Each restart
# of the newest image is refused with exit status 1 and one line saying
# "checksum mismatch" (for a block of an older image, the restart helper's
# "… in an older image of its chain (N back)"), no process restarted; with
# the original back the restart works and every byte is as checkpointed.
. "$(dirname "$0")/lib/common.sh"
setup
make_chain || { fail refuse-corrupt "could not make a chain: $WHY"; exit 0; }

# corrupt NAME FILE OFFSET PATTERN...
corrupt() {
    local name=$1 file=$2 off=$3
    shift 3
    if [ -z "$off" ]; then
        fail "$name" "found no byte to invert in ${file##*/}"
        return
    fi
    cp "$file" "$SAVE/${file##*/}"
    flip "$file" "$off"
    if ! refused "$name" "$IMAGE" "$@"; then
        fail "$name" "$WHY"
        put_back "$file"
        return
    fi
    put_back "$file"
    if restart_verify "$name-back" "$IMAGE" 2; then
        kill_all
        pass "$name"
    else
        fail "$name" "refused correctly, but with the original ${file##*/} back: $WHY"
    fi
}

corrupt refuse-corrupt-base-block "$G1" "$("$IMGTOOL" block-byte "$G1" "$ADDR")" \
    "refusing to restart $IMAGE: checksum mismatch in an older image of its chain \(2 back\)"
corrupt refuse-corrupt-parent-block "$G2" "$("$IMGTOOL" block-byte "$G2" "$ADDR")" \
    "refusing to restart $IMAGE: checksum mismatch in an older image of its chain \(1 back\)"
corrupt refuse-corrupt-newest-block "$IMAGE" "$("$IMGTOOL" block-byte "$IMAGE" "$ADDR")" \
    "refusing to restart $IMAGE: checksum mismatch in memory region"
corrupt refuse-corrupt-parent-header "$G2" "$(info "$G2" off_comp_id)" \
    "refusing to restart .*${G2##*/}.*header checksum mismatch"
exit 0
