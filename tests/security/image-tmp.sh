#!/bin/bash
# The image's temporary file (issue 8, finding 1).  Another user who can
# write the checkpoint directory (here a world-writable sticky directory,
# as /tmp) plants the name the writer used to create, <image>.tmp: a
# symbolic link to a file of the attacker's, or an empty file anyone may
# write.  The victim's memory must never reach it, the checkpoint succeeds
# (the planted name is simply not used), and the image left under the
# final name is a regular file of the victim that restarts.
#
#   image-tmp-<mode>-<plant>   victim stasis-test, attacker stasis-test2
#                              (the sticky bit keeps the victim from
#                              removing the planted name: deterministic);
#                              mode: default, fallback (STASIS_TMPFILE=0,
#                              the named temporaries used where O_TMPFILE
#                              is missing), forked (--forked-ckpt)
#   image-tmp-root-<plant>     victim root, attacker stasis-test planting in
#                              a bounded loop while root checkpoints 20
#                              times: a root-owned file stays untouched and
#                              the image is root's own regular file
# Needs root (two users); prints SKIP otherwise.
. "$(dirname "$0")/lib/common.sh"
need_bins
if ! have_users; then
    skip image-tmp "needs root to run the victim and the attacker as two other users"
    exit 0
fi
build_tools
PLANT=$TMP/attacker-plant
compile "$PLANT" -O1 "$ROOT/tests/security/attacker-plant.c"
chmod 755 "$PLANT"

# restart_as USER IMAGE ID LABEL: IMAGE restarts as USER under USER's
# coordinator, with the program's id ID and its heap intact; sets WHY
restart_as() {
    local u=$1 img=$2 id=$3 out=$TMP/$4.rout
    as_user_argv "$u"
    bg "${AS[@]}" "$BIN/dmtcp_restart" -p "$UPORT" -j "$img" >"$out" 2>"$TMP/$4.rerr"
    restarted_ok "$out" "$id" || WHY="$WHY: $(tail -c 300 "$TMP/$4.rerr")"
    local rc=$?
    user_kill_all "$u"
    return $rc
}

# unprivileged MODE PLANT [dmtcp_launch options...]
unprivileged() {
    local mode=$1 plant=$2 name=image-tmp-$1-$2 s img loot out rc id
    shift 2
    s=$(shared_dir "$name")
    AS_USER_ENV=$([ "$mode" = fallback ] && echo STASIS_TMPFILE=0)
    export AS_USER_ENV
    user_launch "$VICTIM" "$name" "$s" "$@" || { fail "$name" "$WHY"; return; }
    id=$(prog_id "$TMP/$name.out")
    out=$(ucmd "$VICTIM" -bc 2>&1) || { fail "$name" "first checkpoint: $out"; user_kill_all "$VICTIM"; return; }
    img=$(image_in "$s")
    if [ "$plant" = symlink ]; then
        loot=$s/loot-$plant
        as_user "$ATTACKER" sh -c "umask 0; : >'$loot' && ln -s '$loot' '$img.tmp'"
    else
        loot=$img.tmp
        as_user "$ATTACKER" sh -c "umask 0; : >'$loot'"
    fi
    if [ ! -f "$loot" ] || [ "$(owner "$loot")" != "$ATTACKER" ]; then
        fail "$name" "could not plant $img.tmp as $ATTACKER"; user_kill_all "$VICTIM"; return
    fi
    out=$(ucmd "$VICTIM" -bc 2>&1)
    rc=$?
    if [ -s "$loot" ]; then
        fail "$name" "the attacker's file $loot received $(stat -c %s "$loot") bytes of the victim's memory (-bc exit $rc: $out)"
    elif [ $rc -ne 0 ]; then
        fail "$name" "the checkpoint failed (exit $rc) because of the planted $img.tmp: $out"
    elif ! regular_owned_by "$img" "$VICTIM"; then
        fail "$name" "after -bc succeeded: $WHY"
    else
        user_kill_all "$VICTIM"
        if restart_as "$VICTIM" "$img" "$id" "$name"; then pass "$name"
        else fail "$name" "-bc succeeded but the image does not restart: $WHY"; fi
    fi
    user_kill_all "$VICTIM"
    AS_USER_ENV=
}

user_coord "$VICTIM" || { fail image-tmp "$WHY"; exit 0; }
for plant in symlink file; do
    unprivileged default "$plant"
    unprivileged fallback "$plant"
    unprivileged forked "$plant" --forked-ckpt
done

# ---- root checkpoints while stasis-test keeps planting -------------------------

start_coord || { fail image-tmp-root "coordinator did not start"; exit 0; }
intact_root_image() { regular_owned_by "$1" root; }

# root_race PLANT
root_race() {
    local plant=$1 name=image-tmp-root-$1 s img target before ap k out rc bad=
    s=$(shared_dir "$name")
    bg "$BIN/dmtcp_launch" -p "$PORT" -j --ckptdir "$s" "$PROG" 2 >"$TMP/$name.out" 2>"$TMP/$name.err"
    wait_for tick_at_least "$TMP/$name.out" 2 || { fail "$name" "the program never ticked: $(tail -c 300 "$TMP/$name.err")"; return; }
    local id
    id=$(prog_id "$TMP/$name.out")
    out=$(cmd -bc 2>&1) || { fail "$name" "first checkpoint: $out"; kill_all; return; }
    img=$(image_in "$s")
    target=$s/loot-root
    echo "a file only root may write" >"$target"
    chmod 644 "$target"
    before=$(sha "$target")
    as_user_argv "$VICTIM"
    if [ "$plant" = symlink ]; then
        bg "${AS[@]}" "$PLANT" symlink "$target" "$img.tmp" "$s/stop" 120 >"$TMP/$name.plant"
    else
        bg "${AS[@]}" "$PLANT" file "$img.tmp" "$s/stop" 120 >"$TMP/$name.plant"
    fi
    ap=$BG_PID
    wait_for grep -q ready "$TMP/$name.plant" || bad="the attacker never planted $img.tmp"
    for ((k = 1; k <= 20 && !${#bad}; k++)); do
        out=$(cmd -bc 2>&1)
        rc=$?
        if [ "$(sha "$target")" != "$before" ]; then
            bad="checkpoint $k wrote into the root-owned $target through the attacker's link"
        elif ! intact_root_image "$img"; then
            bad="after checkpoint $k (exit $rc): $WHY"
        elif [ -f "$img.tmp" ] && [ ! -L "$img.tmp" ] && [ -s "$img.tmp" ]; then
            bad="the attacker's $img.tmp received $(stat -c %s "$img.tmp") bytes of root's memory"
        elif [ $rc -ne 0 ]; then
            bad="checkpoint $k failed (exit $rc): $out"
        fi
    done
    touch "$s/stop"
    finish "$ap"
    if [ -n "$bad" ]; then
        fail "$name" "$bad ($(tail -n 1 "$TMP/$name.plant"))"
        kill_all
        return
    fi
    kill_all
    bg "$BIN/dmtcp_restart" -p "$PORT" -j "$img" >"$TMP/$name.rout" 2>"$TMP/$name.rerr"
    if restarted_ok "$TMP/$name.rout" "$id"; then pass "$name"
    else fail "$name" "20 checkpoints succeeded but the image does not restart: $WHY $(tail -c 300 "$TMP/$name.rerr")"; fi
    kill_all
}
root_race symlink
root_race file
exit 0
