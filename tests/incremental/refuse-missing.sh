#!/bin/bash
# A chain with a member missing: with the newest image's parent (.g of
# round 1) moved away, and then the full image at the start of the chain,
# dmtcp_restart of the newest image is refused (exit status 1, one line
# saying which image "is missing", no process restarted); with the file
# moved back the restart works and every byte is as checkpointed.
. "$(dirname "$0")/lib/common.sh"
setup
make_chain || { fail refuse-missing "could not make a chain: $WHY"; exit 0; }

for which in parent base; do
    case $which in parent) member=$G2 ;; base) member=$G1 ;; esac
    set_aside "$member"
    if ! refused "missing-$which" "$IMAGE" "refusing to restart $IMAGE: " "${member##*/}" "is missing"; then
        fail refuse-missing-$which "$WHY"
        put_back "$member"
        continue
    fi
    put_back "$member"
    if restart_verify "missing-$which-back" "$IMAGE" 2; then
        kill_all
        pass refuse-missing-$which
    else
        fail refuse-missing-$which "refused correctly, but with ${member##*/} back: $WHY"
    fi
done
exit 0
