#!/bin/bash
# A chain with a member replaced by another valid image under its name:
# the newest image's parent replaced by a copy of the full image, then the
# full image replaced by a copy of the middle one.  Each is refused (exit
# status 1, one line saying the file "is not the image it was built on",
# no process restarted); with the original back the restart works.
. "$(dirname "$0")/lib/common.sh"
setup
make_chain || { fail refuse-replaced "could not make a chain: $WHY"; exit 0; }

for which in parent base; do
    case $which in
    parent) member=$G2 other=$G1 ;;
    base) member=$G1 other=$G2 ;;
    esac
    set_aside "$member"
    cp "$other" "$member"
    if ! refused "replaced-$which" "$IMAGE" "refusing to restart $IMAGE: " "${member##*/}" "is not the image it was built on"; then
        fail refuse-replaced-$which "$WHY"
        put_back "$member"
        continue
    fi
    put_back "$member"
    if restart_verify "replaced-$which-back" "$IMAGE" 2; then
        kill_all
        pass refuse-replaced-$which
    else
        fail refuse-replaced-$which "refused correctly, but with the original ${member##*/} back: $WHY"
    fi
done
exit 0
