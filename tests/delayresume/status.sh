#!/bin/bash
# dmtcp_command -s, -l and --json during a window (hold.c status): -s shows
# "RESUME_DELAYED=<vpid> (hold)", -l marks the process ", RESUME_DELAYED",
# --json -s has "resume_delayed": true for it; after unblock all three say
# it no longer is.  (The flag travels to the coordinator asynchronously, so
# each check polls, bounded.)
. "$(dirname "$0")/lib/common.sh"
need_bins
need_plugin
build hold
start_coord || { fail status "coordinator did not start"; exit 0; }

D=$TMP/st.d
mkdir -p "$D"
launch_dr st "$TMP/hold" status "$D"
if ! wait_for test -e "$D/open"; then
    fail status "no window: $(tail_of "$TMP/st.out") $(tail_of "$TMP/st.err")"
    exit 0
fi
vpid=$(cmd --json -l | sed -n 's/.*"vpid": \([0-9]*\).*"name": "hold".*/\1/p' | head -n 1)
[ -n "$vpid" ] || { fail status "hold is not in dmtcp_command --json -l: $(cmd --json -l | tr '\n' ' ')"; exit 0; }

s_shows() { cmd -s >"$TMP/s.txt" 2>&1 && grep -q "^  RESUME_DELAYED=$vpid (hold)\$" "$TMP/s.txt"; }
s_clear() { cmd -s >"$TMP/s.txt" 2>&1 && ! grep -q 'RESUME_DELAYED' "$TMP/s.txt"; }
l_shows() { cmd -l >"$TMP/l.txt" 2>&1 && grep -Eq "^[0-9]+, hold\[$vpid:[0-9]+\]@.*, RESUME_DELAYED\$" "$TMP/l.txt"; }
l_clear() { cmd -l >"$TMP/l.txt" 2>&1 && grep -q "hold\[$vpid:" "$TMP/l.txt" && ! grep -q 'RESUME_DELAYED' "$TMP/l.txt"; }
j_shows() { cmd --json -s >"$TMP/j.txt" 2>&1 && grep -Eq "\"vpid\": $vpid, .*\"resume_delayed\": true" "$TMP/j.txt"; }
j_clear() { cmd --json -s >"$TMP/j.txt" 2>&1 && grep -Eq "\"vpid\": $vpid, .*\"resume_delayed\": false" "$TMP/j.txt"; }
json_valid() { python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1" 2>/dev/null || ! command -v python3 >/dev/null; }

if wait_for s_shows; then pass status-s-shows-resume-delayed
else fail status-s-shows-resume-delayed "dmtcp_command -s: $(tr '\n' '|' <"$TMP/s.txt")"; fi
if wait_for l_shows; then pass status-l-shows-resume-delayed
else fail status-l-shows-resume-delayed "dmtcp_command -l: $(tr '\n' '|' <"$TMP/l.txt")"; fi
if wait_for j_shows && json_valid "$TMP/j.txt"; then pass status-json-shows-resume-delayed
else fail status-json-shows-resume-delayed "dmtcp_command --json -s: $(tr '\n' ' ' <"$TMP/j.txt")"; fi
grep RESUME_DELAYED "$TMP/s.txt" | sed 's/^ */# -s: /'

touch "$D/release"
if ! wait_for test -e "$D/closed"; then fail status "the program did not unblock"; exit 0; fi
if wait_for s_clear; then pass status-s-cleared-after-unblock
else fail status-s-cleared-after-unblock "dmtcp_command -s: $(tr '\n' '|' <"$TMP/s.txt")"; fi
if wait_for l_clear; then pass status-l-cleared-after-unblock
else fail status-l-cleared-after-unblock "dmtcp_command -l: $(tr '\n' '|' <"$TMP/l.txt")"; fi
if wait_for j_clear && json_valid "$TMP/j.txt"; then pass status-json-cleared-after-unblock
else fail status-json-cleared-after-unblock "dmtcp_command --json -s: $(tr '\n' ' ' <"$TMP/j.txt")"; fi
touch "$D/exit"
if finish "$LAUNCH_PID" && [ "$REAPED_RC" = 0 ] && has "$TMP/st.out" '^DONE$' && ! has "$TMP/st.out" '^FAIL'; then
    pass status-program-ends
else fail status-program-ends "exit $REAPED_RC: $(tail_of "$TMP/st.out")"; fi
exit 0
