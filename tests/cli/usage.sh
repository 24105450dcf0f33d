#!/bin/bash
# Bad command lines: a usage message on stderr and exit status 1.
. "$(dirname "$0")/lib/common.sh"
need_bins dmtcp_coordinator dmtcp_command dmtcp_launch

check_usage() { # name program args...
    local name=$1; shift
    local out rc
    out=$(timeout 30 "$@" 2>&1 >/dev/null); rc=$?
    if [ $rc -ne 1 ]; then fail "$name" "exit $rc, expected 1 ($out)"
    elif ! grep -q -- "--help" <<<"$out"; then fail "$name" "no usage hint: $out"
    else pass "$name"; fi
}
check_usage usage-command-unknown "$BIN/dmtcp_command" --frobnicate
check_usage usage-command-none "$BIN/dmtcp_command"
check_usage usage-command-two "$BIN/dmtcp_command" -s -l
check_usage usage-command-bad-port "$BIN/dmtcp_command" -p notaport -s
check_usage usage-command-bad-interval "$BIN/dmtcp_command" -i -5
check_usage usage-command-missing-value "$BIN/dmtcp_command" -s -p
check_usage usage-coordinator-unknown "$BIN/dmtcp_coordinator" --frobnicate
check_usage usage-coordinator-bad-port "$BIN/dmtcp_coordinator" -p 70000
check_usage usage-coordinator-bad-ckptdir "$BIN/dmtcp_coordinator" --ckptdir "$TMP/none"
check_usage usage-launch-unknown "$BIN/dmtcp_launch" --frobnicate true
check_usage usage-launch-no-program "$BIN/dmtcp_launch"
check_usage usage-launch-bad-signal "$BIN/dmtcp_launch" --ckpt-signal 9 true

for p in dmtcp_command dmtcp_coordinator dmtcp_launch; do
    if ! "$BIN/$p" --help | grep -q Usage; then fail "usage-$p-help" "--help"
    elif ! "$BIN/$p" --version | grep -q Stasis; then fail "usage-$p-help" "--version"
    else pass "usage-$p-help"; fi
done
exit 0
