#!/bin/bash
# A program killed in the middle of a checkpoint (issue 8, finding 10a)
# must not leave its unfinished image behind for ever.  prog-counter with
# 256 MiB of incompressible heap is checkpointed once (the last good
# image), then checkpointed again and killed (SIGKILL) once the image is
# seen being written (a descriptor of the program, or of its forked
# writer, open on a file in the checkpoint directory other than the good
# image, still so once the writer is stopped with SIGSTOP).  Then:
#   default, forked: nothing is left at all (the image is an unnamed
#       O_TMPFILE until complete);
#   fallback, forked-fallback (STASIS_TMPFILE=0: named temporaries, as on
#       file systems without O_TMPFILE): the one named temporary stays
#       until the computation comes back — after dmtcp_restart of the good
#       image it is gone;
# in every mode the good image is unchanged and restarts, and the next
# checkpoint leaves nothing behind either.
#   stale-tmp-writer-killed: with --forked-ckpt and named temporaries, the
#       writer alone is killed; once the failed checkpoint is reported,
#       nothing is left and the program runs on.
# Runs as any user.  STALE_MODES="forked ..." runs only those modes; a
# "last good image changed" failure shows which try, the descriptor seen
# and the directory before and after.
. "$(dirname "$0")/lib/common.sh"
need_bins
build_tools
start_coord || { fail stale-tmp "coordinator did not start"; exit 0; }
MIB=256

# writers PID: PID and its children (a forked writer)
writers() { echo "$1"; cat /proc/"$1"/task/*/children 2>/dev/null; }

# linked_in DIR INODE: the name in DIR of the file with that inode number
linked_in() { find "$1" -maxdepth 1 -inum "$2" 2>/dev/null; }

# writing DIR GOOD PID: a process of PID has a file in DIR open that is not
# the image GOOD: the new image is being written; sets WRITER
writing() {
    local p l
    for p in $(writers "$3"); do
        for l in /proc/"$p"/fd/*; do
            l=$(readlink "$l" 2>/dev/null) || continue
            # a temporary: a named one, or an O_TMPFILE ("DIR/#INODE (deleted)")
            # not yet linked into DIR (the descriptor keeps that name after
            # the linkat, until the writer closes it); not the new image once
            # renamed into place (then it has ended)
            if [[ $l == "$1"/* ]] && [ "$l" != "$2" ] &&
                [[ $l == *.tmp || ($l =~ /\#([0-9]+)\ \(deleted\)$ && ! $(linked_in "$1" "${BASH_REMATCH[1]}")) ]]; then
                WRITER=$p
                SEEN="$p:$l"
                return 0
            fi
        done
    done
    return 1
}
# all_stopped PID...: every thread of every PID is stopped (or gone)
all_stopped() {
    local p t st
    for p in "$@"; do
        for t in /proc/"$p"/task/*/stat; do
            st=$(sed 's/.*) //' "$t" 2>/dev/null | cut -d' ' -f1) || continue
            case $st in T | t | Z | X | '') ;; *) return 1 ;; esac
        done
    done
}
# (ended: "checkpoint N: P processes, B bytes ..." or "checkpoint N failed: ...";
# not "checkpoint N: starting", which once let a try take the last good
# image while the writer of the checkpoint before was still renaming)
ckpts_logged() { grep -cE 'checkpoint [0-9]+(: [0-9]+ processes, | failed: )' "$TMP/coord.log"; }
# writing_or_done: the write was seen, or the checkpoint ended before it was
ckpt_started() { cmd -c >/dev/null 2>&1; }
ckpt_ended() { [ "$(ckpts_logged)" -gt "$LOGGED" ]; }
writing_or_done() { writing "$D" "$GOOD" "$LAUNCH_PID" || ckpt_ended; }

launch_big() { # NAME DIR ENV...
    local name=$1 dir=$2
    shift 2
    bg env "$@" "$BIN/dmtcp_launch" -p "$PORT" -j --ckptdir "$dir" --no-gzip $OPTS "$PROG" "$MIB" \
        >"$TMP/$name.out" 2>"$TMP/$name.err"
    LAUNCH_PID=$BG_PID
    wait_for tick_at_least "$TMP/$name.out" 2 || { WHY="the program never ticked: $(tail -c 300 "$TMP/$name.err")"; return 1; }
}

# kill_mid_write NAME: start a checkpoint and SIGKILL the program while
# its image is being written (up to 6 tries: a checkpoint may end before
# it is seen); sets WHY
kill_mid_write() {
    local try p
    for try in 1 2 3 4 5 6; do
        LOGGED=$(ckpts_logged)
        WRITER=
        # (a forked writer of the try before may still be finishing)
        wait_for ckpt_started || { WHY="dmtcp_command -c failed: $(cmd -c 2>&1)"; return 1; }
        wait_for writing_or_done || { WHY="the checkpoint neither started writing nor ended"; return 1; }
        # stopped, the writer is still writing after the check too
        # every process of the program is stopped (the file may be open in
        # the program and in its forked writer), so none can finish meanwhile
        local all
        all=$(writers "$LAUNCH_PID")
        # (a SIGSTOP takes effect only when a system call in progress, such
        # as the writer's rename, has returned: judge once all are stopped)
        LSB=$(ls -li --full-time "$D" | tr '\n' ';')
        if [ -n "$WRITER" ] && kill -STOP $all 2>/dev/null && wait_for all_stopped $all &&
            writing "$D" "$GOOD" "$LAUNCH_PID"; then
            { # (bash reports the job killed)
                kill -9 $all
                wait_for dead "$WRITER" || { WHY="the writer $WRITER outlived the program"; return 1; }
                finish "$LAUNCH_PID"
            } 2>/dev/null
            wait_for no_peers
            DIAG="try=$try seen=[$SEEN] lsbefore=[$LSB] lsnow=[$(ls -li --full-time "$D" | tr '\n' ';')] log=[$(tail -n 6 "$TMP/coord.log" | tr '\n' ';')]"
            return 0
        fi
        kill -CONT $all 2>/dev/null
        # the next try starts once this checkpoint has ended (a forked
        # writer may still be writing while the program runs on)
        wait_for ckpt_ended || { WHY="a checkpoint did not end"; return 1; }
        GOOD=$(image_in "$D") SHA=$(sha "$GOOD") # that one completed: the last good image now
        wait_for tick_at_least "$TMP/$1.out" $(($(last_tick "$TMP/$1.out") + 1))
    done
    WHY="6 checkpoints ended before their image was seen being written"
    return 1
}

# one_mode MODE
one_mode() {
    local mode=$1 name=stale-tmp-$1 env=() id out left
    D=$TMP/$name
    mkdir "$D"
    OPTS=
    [[ $mode == forked* ]] && OPTS=--forked-ckpt
    [[ $mode == *fallback ]] && env=(STASIS_TMPFILE=0)
    launch_big "$name" "$D" "${env[@]}" || { fail "$name" "$WHY"; return; }
    id=$(prog_id "$TMP/$name.out")
    out=$(cmd -bc 2>&1) || { fail "$name" "first checkpoint: $out"; kill_all; return; }
    GOOD=$(image_in "$D")
    SHA=$(sha "$GOOD")
    kill_mid_write "$name" || { fail "$name" "$WHY"; kill_all; return; }
    left=$(stale_in "$D")
    if [[ $mode != *fallback ]] && [ -n "$left" ]; then
        fail "$name" "the program killed mid-checkpoint left: $left"; return
    fi
    if [[ $mode == *fallback ]] && ! [[ $left =~ ^\.ckpt_prog-counter_.*\.tmp\ $ ]]; then
        fail "$name" "with STASIS_TMPFILE=0 the image was not being written under one named temporary: '$left'"; return
    fi
    if [ "$(sha "$GOOD")" != "$SHA" ]; then fail "$name" "the last good image changed: $DIAG"; return; fi
    bg "$BIN/dmtcp_restart" -p "$PORT" -j "$GOOD" >"$TMP/$name.rout" 2>"$TMP/$name.rerr"
    LAUNCH_PID=$BG_PID
    if ! restarted_ok "$TMP/$name.rout" "$id"; then
        fail "$name" "the last good image does not restart: $WHY $(tail -c 300 "$TMP/$name.rerr")"; kill_all; return
    fi
    left=$(stale_in "$D")
    if [ -n "$left" ]; then fail "$name" "still there once the computation was restarted: $left"; kill_all; return; fi
    out=$(cmd -bc 2>&1) || { fail "$name" "checkpoint after the restart: $out"; kill_all; return; }
    left=$(stale_in "$D")
    if [ -n "$left" ]; then fail "$name" "left after the next checkpoint: $left"; kill_all; return; fi
    kill_all
    pass "$name"
}

for mode in ${STALE_MODES:-default fallback forked forked-fallback}; do
    one_mode "$mode"
done

# the forked writer alone dies; the program runs on
name=stale-tmp-writer-killed
D=$TMP/$name
mkdir "$D"
OPTS=--forked-ckpt
if ! launch_big "$name" "$D" STASIS_TMPFILE=0; then
    fail "$name" "$WHY"
elif ! out=$(cmd -bc 2>&1); then
    fail "$name" "first checkpoint: $out"
else
    GOOD=$(image_in "$D")
    seen=
    for try in 1 2 3; do
        LOGGED=$(ckpts_logged)
        WRITER=
        cmd -c >/dev/null 2>&1
        wait_for writing_or_done
        if [ -n "$WRITER" ] && [ "$WRITER" != "$LAUNCH_PID" ] && kill -9 "$WRITER" 2>/dev/null; then
            seen=1
            break
        fi
        wait_for ckpt_ended
    done
    nothing_stale() { [ -z "$(stale_in "$1")" ]; }
    failed_logged() { grep -q 'checkpoint [0-9]* failed' "$TMP/coord.log"; }
    if [ -z "$seen" ]; then
        fail "$name" "3 checkpoints ended before their writer was seen writing"
    elif ! wait_for failed_logged; then
        fail "$name" "the coordinator never reported the failed checkpoint: $(tail -n 3 "$TMP/coord.log")"
    elif ! wait_for nothing_stale "$D"; then
        fail "$name" "left after the writer was killed: $(stale_in "$D")"
    elif ! wait_for tick_at_least "$TMP/$name.out" $(($(last_tick "$TMP/$name.out") + 2)); then
        fail "$name" "the program stopped"
    else
        pass "$name"
    fi
fi
kill_all
exit 0
