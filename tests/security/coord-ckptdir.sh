#!/bin/bash
# What the engine does with the checkpoint directory a coordinator sends in
# DO_CKPT (finding 4 of issue 8): even from a coordinator that proved it
# holds the secret, only an absolute path without "." or ".." components is
# used.  A relative one (it would land wherever the program's working
# directory happens to be) fails that checkpoint with a message naming it,
# and the program runs on; a missing directory fails as it always did; a
# good one is used.
. "$(dirname "$0")/lib/auth.sh"
need_bins
build_prog
mkdir -m 700 "$TMP/own" "$TMP/work" "$TMP/work/rel" "$TMP/abs"
(umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$TMP/token")
start_fake authentic authentic "$TMP/token" rel "$TMP/missing" "$TMP/work/../abs" "$TMP/abs" ||
    { fail ckptdir-start "the coordinator did not start"; exit 0; }
bg env --chdir="$TMP/work" LD_PRELOAD="$ROOT/lib/libdmtcp.so" DMTCP_COORD_PORT="$FAKE_PORT" \
    STASIS_COORD_SECRET="$(cat "$TMP/token")" DMTCP_CHECKPOINT_DIR="$TMP/own" "$PROG" \
    >"$TMP/prog.out" 2>"$TMP/prog.err"
if ! wait_for grep -q '^finished' "$FAKE_LOG"; then
    fail ckptdir-start "the checkpoints did not run: $(cat "$FAKE_LOG" "$TMP/prog.err" | grep -v '^recv')"
    exit 0
fi

# done_line GEN: "STATUS PATH" of checkpoint GEN
done_line() { awk -v g="$1" '$1 == "done" && $2 == g {print $3, $4}' "$FAKE_LOG"; }

# refused NAME GEN PATTERN: checkpoint GEN failed, its error matches PATTERN
refused() {
    local line
    line=$(grep "^done $2 " "$FAKE_LOG")
    if [ "$(done_line "$2" | cut -d' ' -f1)" = 0 ]; then fail "$1" "the checkpoint was written: $line"
    elif ! grep -q -- "$3" <<<"$line"; then fail "$1" "unclear error: $line"
    else pass "$1"; fi
}
refused ckptdir-relative 1 "'rel'.*absolute"
if [ -n "$(ls -A "$TMP/work/rel")" ]; then fail ckptdir-relative-unused "files in the relative directory: $(ls "$TMP/work/rel")"
else pass ckptdir-relative-unused; fi
refused ckptdir-missing 2 "$TMP/missing.*No such file"
refused ckptdir-dotdot 3 "'$TMP/work/../abs'.*\\.\\."
got=$(done_line 4)
if [ "${got%% *}" != 0 ]; then fail ckptdir-absolute "checkpoint failed: $(grep "^done 4 " "$FAKE_LOG")"
elif [ "$(dirname "${got#* }")" != "$TMP/abs" ]; then fail ckptdir-absolute "image written to ${got#* }, expected in $TMP/abs"
else pass ckptdir-absolute; fi
n=$(grep -c '^tick' "$TMP/prog.out")
if wait_for eval '[ "$(grep -c "^tick" "$TMP/prog.out")" -gt "$n" ]'; then pass ckptdir-runs-on
else fail ckptdir-runs-on "the program stopped after the refused checkpoints"; fi
exit 0
