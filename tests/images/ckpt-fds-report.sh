#!/bin/bash
# Descriptors a checkpoint cannot save (a socket pair, an eventfd) are
# reported when the checkpoint is taken, on the program's stderr, one
# message naming each descriptor and what it is; the checkpoint itself
# succeeds and the program keeps running.  The program's pipe (read end at
# fd 950, in the range the engine once kept for itself) is saved now
# (pipe.c): it must not be named.
. "$(dirname "$0")/lib/common.sh"
need_bins dmtcp_coordinator dmtcp_command dmtcp_launch
need_cc
compile "$TMP/prog" -O1 "$ROOT/tests/images/prog-unsaveable-fds.c"
start_coord || { fail ckpt-fds-report "coordinator did not start"; exit 0; }

fds_line() { grep -q '^fds ' "$TMP/p.out"; }
ticks() { grep -c '^tick ' "$TMP/p.out"; }
ticks_above() { [ "$(ticks)" -gt "$1" ]; }
bg "$BIN/dmtcp_launch" -p "$PORT" -j --ckptdir "$TMP" "$TMP/prog" >"$TMP/p.out" 2>"$TMP/p.err"
if ! wait_for fds_line; then
    fail ckpt-fds-report "the program never printed its descriptors: $(tail -c 300 "$TMP/p.err")"
    exit 0
fi
read -r _ pipe pipe_w sock sock2 ev <<<"$(grep -m1 '^fds ' "$TMP/p.out")"
out=$(cmd -bc 2>&1)
rc=$?
if [ $rc -ne 0 ]; then
    fail ckpt-fds-report "dmtcp_command -bc exited $rc: $out"
    exit 0
fi
bad=
for want in "${sock#sock=} socket" "${sock2#sock2=} socket" "${ev#eventfd=} anon_inode:\[eventfd\]"; do
    n=${want%% *} kind=${want#* }
    grep -Eq "fd $n \\($kind" "$TMP/p.err" || bad="$bad fd $n ($kind)"
done
for n in "${pipe#pipe=}" "${pipe_w#pipe_w=}"; do
    ! grep -Eq "fd $n \\(pipe" "$TMP/p.err" || bad="$bad (and named the pipe at fd $n, which it saves)"
done
if [ -n "$bad" ]; then
    fail ckpt-fds-report "the checkpoint did not name:$bad; stderr: $(tail -c 600 "$TMP/p.err")"
elif ! grep -q "cannot be saved" "$TMP/p.err"; then
    fail ckpt-fds-report "no 'cannot be saved' in: $(tail -c 600 "$TMP/p.err")"
elif ! wait_for ticks_above "$(($(ticks) + 2))"; then
    fail ckpt-fds-report "the program stopped after the checkpoint"
else
    pass ckpt-fds-report
fi
exit 0
