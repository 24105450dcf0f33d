#!/bin/bash
# The restart script's temporary file (issue 8, finding 2).  The
# coordinator used to write dmtcp_restart_script.sh through the
# predictable name .dmtcp_restart_script.sh.<coordinator pid>.tmp.
# Another user who can write the checkpoint directory (a world-writable
# sticky directory, as /tmp) creates that name first; after the victim's
# next checkpoint the script must exist, be the victim's own regular file
# (mode 0700), not writable by the attacker, and hold the victim's
# restart command, not the attacker's.
#
#   restart-script-tmp-root-file      root's coordinator, stasis-test plants
#                                     an empty file anyone may write
#   restart-script-tmp-root-symlink   ... a symbolic link to a root-owned file
#                                     (which must stay untouched)
#   restart-script-tmp-user-file      stasis-test's coordinator, stasis-test2
#                                     plants the file
# Needs root (another user); prints SKIP otherwise.
. "$(dirname "$0")/lib/common.sh"
need_bins
if ! have_users; then
    skip restart-script-tmp "needs root to plant the file as another user"
    exit 0
fi
build_tools

# check_script NAME DIR OWNER ATTACKER PLANTED: the script in DIR is
# OWNER's, mode 0700, the attacker cannot write it, it runs dmtcp_restart,
# and the planted file is still empty
check_script() {
    local name=$1 script=$2/dmtcp_restart_script.sh owner=$3 attacker=$4 planted=$5
    if [ ! -e "$script" ] && [ ! -L "$script" ]; then
        fail "$name" "no $script after the checkpoint: $(grep 'restart script' "$6" | tail -n 1)"
    elif ! regular_owned_by "$script" "$owner"; then
        fail "$name" "$WHY"
    elif [ "$(mode "$script")" != 700 ]; then
        fail "$name" "$script has mode $(mode "$script"), expected 700"
    elif as_user "$attacker" sh -c "echo 'echo pwned' >>'$script'" 2>/dev/null; then
        fail "$name" "$attacker could append to $script"
    elif ! grep -q "dmtcp_restart' -h" "$script"; then
        fail "$name" "$script does not run dmtcp_restart: $(head -c 300 "$script")"
    elif [ -s "$planted" ]; then
        fail "$name" "the planted $planted received the script ($(stat -c %s "$planted") bytes)"
    else
        pass "$name"
    fi
}

# root's coordinator; stasis-test plants
start_coord || { fail restart-script-tmp "coordinator did not start"; exit 0; }
for plant in file symlink; do
    name=restart-script-tmp-root-$plant
    S=$(shared_dir "$name")
    tmpname=$S/.dmtcp_restart_script.sh.$COORD_PID.tmp
    target=$S/loot-root
    echo "a file only root may write" >"$target"
    before=$(sha "$target")
    if [ "$plant" = file ]; then
        as_user "$VICTIM" sh -c "umask 0; : >'$tmpname'"
    else
        as_user "$VICTIM" ln -s "$target" "$tmpname"
    fi
    [ "$(stat -c %U "$tmpname" 2>/dev/null)" = "$VICTIM" ] || { fail "$name" "could not plant $tmpname"; continue; }
    bg "$BIN/dmtcp_launch" -p "$PORT" -j --ckptdir "$S" "$PROG" 2 >"$TMP/$name.out" 2>"$TMP/$name.err"
    wait_for tick_at_least "$TMP/$name.out" 2 || { fail "$name" "the program never ticked"; kill_all; continue; }
    out=$(cmd -bc 2>&1) || { fail "$name" "-bc failed: $out"; kill_all; continue; }
    kill_all
    if [ "$(sha "$target")" != "$before" ]; then fail "$name" "the root-owned $target changed"; continue; fi
    check_script "$name" "$S" root "$VICTIM" "$([ "$plant" = file ] && echo "$tmpname" || echo "$target.none")" "$TMP/coord.log"
done

# stasis-test's coordinator; stasis-test2 plants
name=restart-script-tmp-user-file
user_coord "$VICTIM" || { fail "$name" "$WHY"; exit 0; }
S=$(shared_dir "$name")
tmpname=$S/.dmtcp_restart_script.sh.$UCOORD_PID.tmp
as_user "$ATTACKER" sh -c "umask 0; : >'$tmpname'"
if [ "$(owner "$tmpname")" != "$ATTACKER" ]; then
    fail "$name" "could not plant $tmpname"
elif ! user_launch "$VICTIM" "$name" "$S"; then
    fail "$name" "$WHY"
elif ! out=$(ucmd "$VICTIM" -bc 2>&1); then
    fail "$name" "-bc failed: $out"
else
    user_kill_all "$VICTIM"
    check_script "$name" "$S" "$VICTIM" "$ATTACKER" "$tmpname" "$TMP/coord-$VICTIM.log"
fi
user_kill_all "$VICTIM"
exit 0
