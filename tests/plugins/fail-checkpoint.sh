#!/usr/bin/env bash
# fail-checkpoint.sh — a plugin fails checkpoints with dmtcp_plugin_fail()
# (tests/plugins/fail-plugin.c), at PRECHECKPOINT and at PRESUSPEND: each
# time dmtcp_command -bc fails naming the plugin, the event and its
# message, the image of the checkpoint before is untouched and no other
# file is left, the program keeps running, and the other events come as
# documented (RESUME and RUNNING after a failed PRECHECKPOINT, RUNNING
# alone after a failed PRESUSPEND).  Failing from RESUME is refused.  Once
# the plugin lets go, a checkpoint succeeds and its image restarts.
. "$(dirname "$0")/lib/common.sh"
need_bins
need_cc
compile "$TMP/libfailer.so" -shared -fPIC -Wall -Werror -I"$ROOT/include" "$ROOT/tests/plugins/fail-plugin.c"
cat >"$TMP/prog.c" <<'C'
#include <stdio.h>
#include <unistd.h>
int main(void) {
    for (unsigned long n = 0;; n++) {
        FILE *f = fopen("tick.new", "w");
        if (f) { fprintf(f, "%lu\n", n); fclose(f); rename("tick.new", "tick"); }
        usleep(20000);
    }
}
C
compile "$TMP/prog" -O1 "$TMP/prog.c"
start_coord || { fail fail-coordinator "the coordinator did not start"; exit 0; }
mkdir -p "$TMP/ckpt"
export STASIS_TEST_FAIL_DIR=$TMP

tick() { cat "$TMP/tick" 2>/dev/null; }
# runs_on: the program's counter moves on
tick_moved() { [ -n "$(tick)" ] && [ "$(tick)" != "$T0" ]; }
runs_on() {
    T0=$(tick)
    wait_for tick_moved
}
# events_since LINE FILE: the [failer] event names after line LINE of FILE
events_since() { tail -n +"$(($1 + 1))" "$2" | grep -o '^\[failer\] [A-Z]*' | awk '{print $2}' | xargs; }
listing() { find "$TMP/ckpt" -mindepth 1 | sort | xargs; }
images() { find "$TMP/ckpt" -name '*.dmtcp' | sort | xargs; }

bg "$BIN/dmtcp_launch" -p "$PORT" -j --ckptdir "$TMP/ckpt" --with-plugin "$TMP/libfailer.so" ./prog \
    >"$TMP/launch.out" 2>"$TMP/launch.err"
LPID=$BG_PID
wait_for test -s "$TMP/tick" || { fail fail-launch "program never ran: $(tail -c 300 "$TMP/launch.err")"; exit 0; }
out=$(cmd -bc 2>&1) || { fail fail-first-checkpoint "dmtcp_command -bc failed: $out"; exit 0; }
img=$(images)
[ "$(wc -w <<<"$img")" = 1 ] || { fail fail-first-checkpoint "expected one image, found: $img"; exit 0; }
sum=$(md5sum <"$img")
files=$(listing)

# failed_checkpoint NAME FILE EVENT MESSAGE WANT_EVENTS
failed_checkpoint() {
    local name=$1 flag=$2 event=$3 msg=$4 want=$5 at rc got
    at=$(wc -l <"$TMP/launch.err")
    touch "$TMP/$flag"
    out=$(cmd -bc 2>&1)
    rc=$?
    rm -f "$TMP/$flag"
    if ((rc == 0)); then
        fail "$name-reported" "dmtcp_command -bc succeeded: $out"
    elif ! grep -q "plugin 'failer' failed the checkpoint at $event: $msg" <<<"$out"; then
        fail "$name-reported" "dmtcp_command -bc (status $rc) does not name the plugin, $event and the message: $out"
    else
        pass "$name-reported"
    fi
    if [ "$(listing)" != "$files" ] || [ "$(md5sum <"$img")" != "$sum" ]; then
        fail "$name-no-image" "the checkpoint directory changed: $(listing)"
    else
        pass "$name-no-image"
    fi
    if alive "$LPID" && runs_on; then pass "$name-runs-on"; else fail "$name-runs-on" "the program stopped"; fi
    got=$(events_since "$at" "$TMP/launch.err")
    if [ "$got" = "$want" ]; then pass "$name-events"; else fail "$name-events" "got '$got', want '$want'"; fi
    if grep -q "checkpoint [0-9]* .*plugin 'failer' failed the checkpoint at $event" "$TMP/launch.err"; then
        pass "$name-warned"
    else
        fail "$name-warned" "the program's stderr does not say why the checkpoint failed"
    fi
}

failed_checkpoint fail-precheckpoint fail-precheckpoint PRECHECKPOINT \
    'side file fail-precheckpoint is busy (errno 16)' "PRESUSPEND PRECHECKPOINT RESUME RUNNING"
failed_checkpoint fail-presuspend fail-presuspend PRESUSPEND 'told to by fail-presuspend' "PRESUSPEND RUNNING"

if grep -q '^\[failer\] fail at RESUME returned -1' "$TMP/launch.err" &&
    ! grep -q '^\[failer\] fail at RESUME returned 0' "$TMP/launch.err" &&
    grep -q "dmtcp_plugin_fail() called by plugin 'failer' outside those events" "$TMP/launch.err"; then
    pass fail-refused-at-resume
else
    fail fail-refused-at-resume "dmtcp_plugin_fail() from RESUME was not refused with a warning"
fi

out=$(cmd -bc 2>&1) || { fail fail-recovers "the checkpoint after the failures failed: $out"; exit 0; }
if [ "$(images)" != "$img" ] || [ "$(md5sum <"$img")" = "$sum" ]; then
    fail fail-recovers "no new image after the failures: $(images)"
    exit 0
fi
{ # stderr off: bash reports the background job -k kills ("Killed …")
    out=$(cmd -k 2>&1) || { fail fail-recovers "dmtcp_command -k failed: $out"; exit 0; }
    finish "$LPID" || { fail fail-recovers "the program did not exit on -k"; exit 0; }
    wait_for no_peers || { fail fail-recovers "the coordinator still counts the killed program"; exit 0; }
} 2>/dev/null
rm -f "$TMP/tick"
bg "$BIN/dmtcp_restart" -p "$PORT" -j "$img" >"$TMP/restart.out" 2>"$TMP/restart.err"
RPID=$BG_PID
if wait_for grep -q '^\[failer\] RUNNING .* is_restart 1' "$TMP/restart.err" && wait_for test -s "$TMP/tick" &&
    runs_on; then
    pass fail-recovers
else
    dead "$RPID" && reap "$RPID"
    fail fail-recovers "the image written after the failures does not restart (dmtcp_restart: ${REAPED_RC:-running}): $(tail -c 300 "$TMP/restart.err")"
fi
{
    cmd -k >/dev/null 2>&1
    finish "$RPID"
} 2>/dev/null
exit 0
