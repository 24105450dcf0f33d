#!/bin/bash
# Standard streams on regular files across a restart (issue 10): a program
# started with `< input > output` goes on reading its input and writing its
# output where it was, whatever dmtcp_restart itself is given.  bash reads
# a line at a time (on a regular file it reads ahead and seeks back), so the
# file offset is exactly the next line to read.  Checkpoints are -kc: the
# processes are killed where they are parked, so nothing is printed after
# the checkpoint and the expected file is exact.
#   stdio-in-out: `< in > out`: every line once, in order, out not truncated
#       and nothing written to the restart's own stdout;
#   stdio-append: `>> log` onto earlier content: kept, continued;
#   stdio-shared-tree: a shell and its child both writing `> log 2>&1`
#       share one offset again after restart: every line once, none
#       overwritten by the other process;
#   stdio-refused-gone/-replaced: the input removed, or replaced by another
#       file, stops the restart with the stream, the path and the way out
#       named, and the output file untouched;
#   stdio-inherit-stdin/-stdout: --stdin inherit reads what dmtcp_restart is
#       given, --stdout inherit writes there (and the saved file stays as
#       it was at the checkpoint);
#   stdio-sqlite3: `sqlite3 :memory: < script.sql > out` gives the output
#       of an uninterrupted run (its script read on, not again nor skipped);
#   stdio-bad-value: a wrong --stdout value or STASIS_RESTART_STDIO is a
#       usage error naming the values.
. "$(dirname "$0")/lib/common.sh"
unset STASIS_RESTART_STDIO # this test is about the default
need_bins

# the reader: echoes its input a line at a time, then END
READER='while read -r l; do echo "$l"; sleep 0.01; done; echo END'
lines_at_least() { [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ]; }
ends_with_end() { [ "$(tail -n 1 "$1" 2>/dev/null)" = END ]; }
images() { ls "$1"/ckpt_*.dmtcp 2>/dev/null; }
# with_stdin FILE CMD...: bg CMD with stdin FILE (bash gives a background
# job /dev/null for stdin unless the job itself redirects it)
with_stdin() { bg bash -c 'f=$1; shift; exec "$@" <"$f"' with_stdin "$@"; }

# launch NAME IN OUT REDIR: bash READER under control with stdin IN and
# stdout OUT (REDIR: > or >>), images into $TMP/NAME.d
launch() {
    local name=$1 in=$2 out=$3 redir=$4
    mkdir -p "$TMP/$name.d"
    if [ "$redir" = '>>' ]; then
        with_stdin "$in" "$BIN/dmtcp_launch" -p "$PORT" -j --ckptdir "$TMP/$name.d" bash -c "$READER" >>"$out" 2>"$TMP/$name.err"
    else
        with_stdin "$in" "$BIN/dmtcp_launch" -p "$PORT" -j --ckptdir "$TMP/$name.d" bash -c "$READER" >"$out" 2>"$TMP/$name.err"
    fi
    LAUNCH_PID=$BG_PID
}

# checkpoint_kill NAME OUT LINES: -kc once OUT has LINES lines; WHY if not
checkpoint_kill() {
    local out
    wait_for lines_at_least "$2" "$3" || { WHY="no output: $(tail -c 300 "$TMP/$1.err")"; return 1; }
    out=$(cmd -kc 2>&1) || { WHY="dmtcp_command -kc: $out"; return 1; }
    { # (bash reports the job killed)
        wait_for no_peers
        finish "$LAUNCH_PID"
    } 2>/dev/null
    [ -n "$(images "$TMP/$1.d")" ] || { WHY="no image in $TMP/$1.d"; return 1; }
}

# restart NAME [OPTIONS...] (stdin from $RIN, default /dev/null): the
# computation of NAME, until it ends; REAPED_RC, WHY
restart() {
    local name=$1
    shift
    # shellcheck disable=SC2046 # one word per image
    with_stdin "${RIN:-/dev/null}" "$BIN/dmtcp_restart" -p "$PORT" -j "$@" $(images "$TMP/$name.d") \
        >"$TMP/$name.rout" 2>"$TMP/$name.rerr"
    finish "$BG_PID" || { WHY="the restarted program did not end: $(tail -c 300 "$TMP/$name.rerr")"; return 1; }
}

start_coord || { fail stdio "coordinator did not start"; exit 0; }
seq -f 'line %g' 1 300 >"$TMP/in.txt"

# ---- < in > out --------------------------------------------------------------
name=stdio-in-out
{ cat "$TMP/in.txt"; echo END; } >"$TMP/expect"
launch "$name" "$TMP/in.txt" "$TMP/$name.out" '>'
if ! checkpoint_kill "$name" "$TMP/$name.out" 30; then
    fail "$name" "$WHY"
elif ! restart "$name"; then
    fail "$name" "$WHY"
elif ! cmp -s "$TMP/expect" "$TMP/$name.out"; then
    fail "$name" "the output is not the input once, in order, then END: $(diff "$TMP/expect" "$TMP/$name.out" | head -n 5 | tr '\n' ' ')"
elif [ -s "$TMP/$name.rout" ]; then
    fail "$name" "the restarted program wrote to dmtcp_restart's stdout instead of its file: $(head -c 200 "$TMP/$name.rout")"
elif [ "$REAPED_RC" != 0 ]; then
    fail "$name" "dmtcp_restart exited $REAPED_RC: $(tail -c 300 "$TMP/$name.rerr")"
else
    pass "$name"
fi

# ---- >> log --------------------------------------------------------------------
name=stdio-append
echo "an earlier run" >"$TMP/$name.out"
{ echo "an earlier run"; cat "$TMP/in.txt"; echo END; } >"$TMP/expect"
launch "$name" "$TMP/in.txt" "$TMP/$name.out" '>>'
if ! checkpoint_kill "$name" "$TMP/$name.out" 30; then
    fail "$name" "$WHY"
elif ! restart "$name"; then
    fail "$name" "$WHY"
elif ! cmp -s "$TMP/expect" "$TMP/$name.out"; then
    fail "$name" "the log is not its earlier content, the input once, then END: $(diff "$TMP/expect" "$TMP/$name.out" | head -n 5 | tr '\n' ' ')"
else
    pass "$name"
fi

# ---- a shell and its child sharing > log 2>&1 ----------------------------------
name=stdio-shared-tree
mkdir -p "$TMP/$name.d"
bg "$BIN/dmtcp_launch" -p "$PORT" -j --ckptdir "$TMP/$name.d" bash -c '
    ( for i in $(seq 1 150); do echo "child $i"; sleep 0.01; done ) &
    for i in $(seq 1 150); do echo "parent $i"; sleep 0.01; done
    wait; echo END' </dev/null >"$TMP/$name.out" 2>&1
LAUNCH_PID=$BG_PID
{ seq -f 'child %g' 1 150; seq -f 'parent %g' 1 150; echo END; } | sort >"$TMP/expect"
if ! checkpoint_kill "$name" "$TMP/$name.out" 40; then
    fail "$name" "$WHY"
elif ! restart "$name"; then
    fail "$name" "$WHY"
elif ! ends_with_end "$TMP/$name.out"; then
    fail "$name" "the log does not end with END: $(tail -n 2 "$TMP/$name.out" | tr '\n' ' ')"
elif ! sort "$TMP/$name.out" | tr -d '\0' | cmp -s "$TMP/expect" -; then
    fail "$name" "lines lost, repeated or overwritten: $(sort "$TMP/$name.out" | diff "$TMP/expect" - | head -n 6 | tr '\0\n' '@ ')"
elif [ "$(tr -d '\0' <"$TMP/$name.out" | wc -c)" != "$(wc -c <"$TMP/$name.out")" ]; then
    fail "$name" "the log has a hole (the two processes wrote at different offsets)"
else
    pass "$name"
fi

# ---- the input file gone or replaced; --stdin/--stdout inherit -------------------
name=stdio-refused
cp "$TMP/in.txt" "$TMP/in2.txt"
launch "$name" "$TMP/in2.txt" "$TMP/$name.out" '>'
if ! checkpoint_kill "$name" "$TMP/$name.out" 20; then
    fail stdio-refused-gone "$WHY"
else
    k=$(wc -l <"$TMP/$name.out")
    before=$(sha "$TMP/$name.out")
    mv "$TMP/in2.txt" "$TMP/in2.moved"
    restart "$name"
    msg=$(cat "$TMP/$name.rerr")
    if [ "$REAPED_RC" != 1 ]; then
        fail stdio-refused-gone "dmtcp_restart exited $REAPED_RC, expected 1: $msg"
    elif ! grep -q "stdin was the file $TMP/in2.txt, which is gone" <<<"$msg" || ! grep -q -- '--stdin inherit' <<<"$msg"; then
        fail stdio-refused-gone "the refusal does not name the stream, the file and --stdin inherit: $msg"
    elif [ "$(sha "$TMP/$name.out")" != "$before" ]; then
        fail stdio-refused-gone "the output file changed though the restart was refused"
    else
        pass stdio-refused-gone
    fi

    cp "$TMP/in2.moved" "$TMP/in2.txt" # the same content, another file
    restart "$name"
    msg=$(cat "$TMP/$name.rerr")
    if [ "$REAPED_RC" != 1 ]; then
        fail stdio-refused-replaced "dmtcp_restart exited $REAPED_RC, expected 1: $msg"
    elif ! grep -q "stdin was the file $TMP/in2.txt, which has been replaced" <<<"$msg"; then
        fail stdio-refused-replaced "the refusal does not say the file was replaced: $msg"
    elif [ "$(sha "$TMP/$name.out")" != "$before" ]; then
        fail stdio-refused-replaced "the output file changed though the restart was refused"
    else
        pass stdio-refused-replaced
    fi

    # --stdin inherit: the rest comes from what dmtcp_restart is given
    printf 'other 1\nother 2\nother 3\n' >"$TMP/other.txt"
    { head -n "$k" "$TMP/in.txt"; cat "$TMP/other.txt"; echo END; } >"$TMP/expect"
    rm "$TMP/in2.txt"
    RIN=$TMP/other.txt restart "$name" --stdin inherit
    if [ "$REAPED_RC" != 0 ]; then
        fail stdio-inherit-stdin "dmtcp_restart --stdin inherit exited $REAPED_RC: $(tail -c 300 "$TMP/$name.rerr")"
    elif ! cmp -s "$TMP/expect" "$TMP/$name.out"; then
        fail stdio-inherit-stdin "the output is not the first $k lines, then dmtcp_restart's input, then END: $(diff "$TMP/expect" "$TMP/$name.out" | head -n 5 | tr '\n' ' ')"
    else
        pass stdio-inherit-stdin
    fi

    # --stdout inherit (and --stdin inherit through the later --stdio):
    # the saved output file keeps its first k lines
    head -n "$k" "$TMP/in.txt" >"$TMP/$name.out"
    before=$(sha "$TMP/$name.out")
    RIN=$TMP/other.txt restart "$name" --stdio saved --stdout inherit --stdin=inherit
    if [ "$REAPED_RC" != 0 ]; then
        fail stdio-inherit-stdout "dmtcp_restart --stdout inherit exited $REAPED_RC: $(tail -c 300 "$TMP/$name.rerr")"
    elif [ "$(cat "$TMP/$name.rout")" != "$(printf 'other 1\nother 2\nother 3\nEND')" ]; then
        fail stdio-inherit-stdout "dmtcp_restart's stdout is not the rest of the output: $(head -c 200 "$TMP/$name.rout")"
    elif [ "$(sha "$TMP/$name.out")" != "$before" ]; then
        fail stdio-inherit-stdout "the saved output file was written to"
    else
        pass stdio-inherit-stdout
    fi
fi

# ---- sqlite3 :memory: < script.sql > out (a program nobody here wrote) ----------
# sqlite3 reads its script through stdio (4 KiB at a time) and buffers its
# output: both buffers are in the image, and the file offsets must match them
name=stdio-sqlite3
stdin_pos_at_least() { [ "$(sed -n 's/^pos:[[:space:]]*//p' /proc/"$1"/fdinfo/0 2>/dev/null || echo 0)" -ge "$2" ]; }
if ! command -v sqlite3 >/dev/null; then
    skip "$name" "sqlite3 is not installed (Debian: apt-get install sqlite3)"
else
    for n in $(seq 1 250); do
        echo "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<100000) SELECT $n, sum(x*$n) FROM c;"
    done >"$TMP/script.sql"
    sqlite3 :memory: <"$TMP/script.sql" >"$TMP/expect" 2>&1
    mkdir -p "$TMP/$name.d"
    with_stdin "$TMP/script.sql" "$BIN/dmtcp_launch" -p "$PORT" -j --ckptdir "$TMP/$name.d" sqlite3 :memory: \
        >"$TMP/$name.out" 2>"$TMP/$name.err"
    LAUNCH_PID=$BG_PID
    size=$(wc -c <"$TMP/script.sql")
    if ! wait_for stdin_pos_at_least "$LAUNCH_PID" 8192; then
        fail "$name" "sqlite3 did not read its script: $(tail -c 300 "$TMP/$name.err")"
    elif stdin_pos_at_least "$LAUNCH_PID" "$size"; then
        skip "$name" "sqlite3 read the whole script before it could be checkpointed (a fast machine)"
    elif ! checkpoint_kill "$name" "$TMP/$name.out" 0; then
        fail "$name" "$WHY"
    elif ! restart "$name"; then
        fail "$name" "$WHY"
    elif ! cmp -s "$TMP/expect" "$TMP/$name.out"; then
        fail "$name" "the output differs from an uninterrupted run: $(diff "$TMP/expect" "$TMP/$name.out" | head -n 5 | tr '\n' ' ')"
    elif [ "$REAPED_RC" != 0 ] || [ -s "$TMP/$name.rout" ]; then
        fail "$name" "dmtcp_restart exited $REAPED_RC, stdout: $(head -c 200 "$TMP/$name.rout") $(tail -c 200 "$TMP/$name.rerr")"
    else
        pass "$name"
    fi
fi

# ---- wrong values ------------------------------------------------------------------
name=stdio-bad-value
out=$("$BIN/dmtcp_restart" --stdout elsewhere "$TMP/none.dmtcp" 2>&1)
rc=$?
out2=$(STASIS_RESTART_STDIO=yes "$BIN/dmtcp_restart" "$TMP/none.dmtcp" 2>&1)
rc2=$?
if [ $rc != 1 ] || ! grep -q "invalid --stdout 'elsewhere'.*'saved'.*'inherit'" <<<"$out"; then
    fail "$name" "--stdout elsewhere: exit $rc: $out"
elif [ $rc2 != 1 ] || ! grep -q "invalid STASIS_RESTART_STDIO 'yes'" <<<"$out2"; then
    fail "$name" "STASIS_RESTART_STDIO=yes: exit $rc2: $out2"
else
    pass "$name"
fi
kill_all
exit 0
