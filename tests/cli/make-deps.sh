#!/bin/bash
# The build tracks header dependencies: after `make`, pretending a header
# changed (make -n -W HEADER, which touches nothing) makes make rebuild
# every program, library or test program that includes it, and only those.
# Runs on the built tree; SKIPs when make is missing or the build is not up
# to date (then everything would rebuild and nothing would be shown).
. "$(dirname "$0")/lib/common.sh"

if ! command -v make >/dev/null; then
    skip make-deps "no make"
    exit 0
fi

# rebuilds HEADER TARGET: make, told HEADER changed, would remake TARGET
rebuilds() {
    make -C "$ROOT" -n -W "$1" "$2" 2>&1 | grep -qE -- "-o $2( |$)"
}

# users NAME HEADER TARGET...: each TARGET (up to date) is rebuilt when
# HEADER changes; a TARGET written !TARGET must not be
users() {
    local name=$1 header=$2 t
    shift 2
    for t; do
        t=${t#!}
        if ! make -C "$ROOT" -q "$t" >/dev/null 2>&1; then
            skip "$name" "$t is not up to date (run make all tests first)"
            return
        fi
    done
    for t; do
        if [ "${t:0:1}" = '!' ]; then
            if rebuilds "$header" "${t:1}"; then
                fail "$name" "changing $header rebuilds ${t:1}, which does not include it"
                return
            fi
        elif ! rebuilds "$header" "$t"; then
            fail "$name" "changing $header leaves $t stale"
            return
        fi
    done
    pass "$name"
}

# first_program DIR: the first executable in $ROOT/DIR (relative to $ROOT)
first_program() {
    local f
    for f in "$ROOT/$1"/*; do
        [ -f "$f" ] && [ -x "$f" ] && echo "$1/${f##*/}" && return
    done
}
unit1=$(first_program build/tests/unit)
scen1=$(first_program build/tests/scenarios)

users make-deps-coord.h src/coordinator/coord.h bin/dmtcp_coordinator '!bin/dmtcp_launch'
users make-deps-launch.h src/launch/launch.h bin/dmtcp_launch '!bin/dmtcp_coordinator'
users make-deps-command.h src/command/command.h bin/dmtcp_command '!bin/dmtcp_restart'
users make-deps-chain.h src/restart-cli/chain.h bin/dmtcp_restart '!bin/dmtcp_command'
users make-deps-files.h src/restart-cli/files.h bin/dmtcp_restart '!lib/libdmtcp.so'
users make-deps-proto.h src/common/proto.h bin/dmtcp_coordinator lib/libdmtcp.so
users make-deps-image.h src/common/image.h bin/dmtcp_restart lib/libdmtcp.so lib/stasis/restart-helper
users make-deps-engine.h src/engine/engine.h lib/libdmtcp.so '!bin/dmtcp_restart'
users make-deps-helper-load.h src/restart/load.h lib/stasis/restart-helper '!lib/libdmtcp.so'
users make-deps-delayresume.h include/delayresume.h lib/libdmtcp_delayresume.so
if [ -n "$unit1" ]; then
    users make-deps-unit.h tests/unit/unit.h "$unit1" '!bin/dmtcp_restart'
else
    skip make-deps-unit.h "no unit test built (run make tests)"
fi
if [ -n "$scen1" ]; then
    users make-deps-scenario.h tests/scenarios/scenario.h "$scen1" '!lib/libdmtcp.so'
else
    skip make-deps-scenario.h "no scenario program built (run make tests)"
fi
exit 0
