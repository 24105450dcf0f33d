# shellcheck shell=bash disable=SC2317,SC2034 # functions run indirectly (wait_for, trap)
# common.sh — sourced by tests/security/*.sh: tests/lib/common.sh (a
# private temporary directory and XDG_RUNTIME_DIR, a coordinator, background
# processes, the refusal checks, PASS/FAIL/SKIP lines), and here: the test
# program (tests/images/prog-counter.c) and the image patcher
# (tests/images/lib/imgtool.c) built into $TMP, and what attacks by another
# user need: the unprivileged users (created when running as root), a
# shared sticky directory like /tmp, and a coordinator, programs and
# commands run as a given user.  Waits are bounded ($WAIT s) only to avoid
# hangs; nothing asserts on timing.
#
# Users: VICTIM (stasis-test) and ATTACKER (stasis-test2) when root; as an
# ordinary user the tests that need two users print SKIP.

# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../lib/common.sh"
init_script security
VICTIM=stasis-test
ATTACKER=stasis-test2
PROG=$TMP/prog-counter

# build_tools: $PROG and $IMGTOOL, or SKIP the script
build_tools() {
    need_cc
    compile "$PROG" -O1 "$ROOT/tests/images/prog-counter.c" -lpthread
    build_imgtool
    chmod 755 "$PROG" "$IMGTOOL"
}

# ---- users -------------------------------------------------------------------

is_root() { [ "$(id -u)" = 0 ]; }

# have_users: as root, VICTIM and ATTACKER exist (created if needed) and can
# reach $TMP (mode 0711: they may open what they are given, list nothing)
# and the tree's binaries; 1 otherwise (the caller prints SKIP)
have_users() {
    is_root || return 1
    local u
    for u in "$VICTIM" "$ATTACKER"; do
        id "$u" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$u" >/dev/null 2>&1 || return 1
    done
    chmod 711 "$TMP"
    setpriv_ok "$VICTIM" test -x "$BIN/dmtcp_launch" || return 1
}
setpriv_ok() { as_user "$@" >/dev/null 2>&1; }

# run_dir USER: that user's private runtime directory (its coordinator
# secret, port files), created mode 0700
run_dir() {
    local d=$TMP/run-$1
    if [ ! -d "$d" ]; then
        mkdir -m 700 "$d"
        chown "$1": "$d"
    fi
    echo "$d"
}

# as_user USER CMD...: CMD as USER (setpriv: no fork, so a background
# job's pid is CMD's), with a clean environment and USER's own runtime
# directory.  Extra variables: AS_USER_ENV="NAME=VALUE ...".
as_user() {
    as_user_argv "$1"
    shift
    "${AS[@]}" "$@"
}
# as_user_argv USER: the command prefix in the array AS
as_user_argv() {
    local home
    home=$(getent passwd "$1" | cut -d: -f6)
    # shellcheck disable=SC2206 # AS_USER_ENV is a list of words
    AS=(setpriv --reuid="$1" --regid="$(id -g "$1")" --init-groups --
        env -i HOME="$home" PATH=/usr/local/bin:/usr/bin:/bin XDG_RUNTIME_DIR="$(run_dir "$1")"
        LC_ALL=C ${AS_USER_ENV:-})
}

# shared_dir NAME: $TMP/NAME, a world-writable sticky directory owned by
# root, as /tmp is
shared_dir() {
    mkdir -p "$TMP/$1"
    chmod 1777 "$TMP/$1"
    echo "$TMP/$1"
}

# ---- a computation of another user --------------------------------------------

# user_coord USER: a coordinator run by USER; sets UPORT (its port) and
# remembers its pid in PIDS and UCOORD_PID
user_coord() {
    local u=$1 rd
    rd=$(run_dir "$u")
    rm -f "$rd/port"
    as_user_argv "$u"
    bg "${AS[@]}" "$BIN/dmtcp_coordinator" -p 0 --port-file "$rd/port" --timeout 600 >>"$TMP/coord-$u.log" 2>&1
    UCOORD_PID=$BG_PID
    if ! wait_for test -s "$rd/port"; then
        WHY="the coordinator of $u did not start: $(tail -c 300 "$TMP/coord-$u.log")"
        return 1
    fi
    UPORT=$(cat "$rd/port")
}

# ucmd USER ARGS...: dmtcp_command -p UPORT ARGS... as USER
ucmd() {
    as_user_argv "$1"
    shift
    timeout "$WAIT" "${AS[@]}" "$BIN/dmtcp_command" -p "$UPORT" "$@"
}

# user_launch USER NAME CKPTDIR [dmtcp_launch options...]: prog-counter
# (2 MiB) as USER under USER's coordinator, writing into CKPTDIR; output in
# $TMP/NAME.out / NAME.err; sets LAUNCH_PID; fails unless it ticks
user_launch() {
    local u=$1 name=$2 dir=$3
    shift 3
    as_user_argv "$u"
    bg "${AS[@]}" "$BIN/dmtcp_launch" -p "$UPORT" -j --ckptdir "$dir" "$@" "$PROG" 2 \
        >"$TMP/$name.out" 2>"$TMP/$name.err"
    LAUNCH_PID=$BG_PID
    if ! wait_for tick_at_least "$TMP/$name.out" 2; then
        WHY="the program of $u never ticked: $(tail -c 300 "$TMP/$name.err")"
        return 1
    fi
}

# user_kill_all USER: dmtcp_command -k for USER's computation, wait until
# it left, reap what this script started
user_kill_all() {
    local p
    {
        ucmd "$1" -k >/dev/null
        poll "$WAIT" user_no_peers "$1"
        for p in "${PIDS[@]}"; do
            [ "$p" = "$UCOORD_PID" ] || [ "$p" = "${COORD_PID:-}" ] || finish "$p"
        done
    } 2>/dev/null
}
user_no_peers() { [ "$(ucmd "$1" -s 2>/dev/null | sed -n 's/.*NUM_PEERS=\([0-9]*\).*/\1/p')" = 0 ]; }

# ---- the program's output -------------------------------------------------------

last_tick() { awk '/^tick [0-9]+ id=[0-9a-f]+ heap=[a-zA-Z]+ beat=[0-9]+$/ {n = $2} END {print n + 0}' "$1" 2>/dev/null; }
tick_at_least() { [ "$(last_tick "$1")" -ge "$2" ]; }
ticks_printed() { [ "$(grep -c '^tick ' "$1" 2>/dev/null)" -ge "$2" ]; }
prog_id() { sed -n 's/^tick [0-9]* id=\([0-9a-f]*\) .*/\1/p' "$1" | head -n 1; }

# restarted_ok OUT ID: OUT shows the program back with id ID, its heap
# intact, ticking; sets WHY
restarted_ok() {
    if ! wait_for ticks_printed "$1" 3; then WHY="no ticks after the restart"; return 1; fi
    if grep -q 'heap=BAD' "$1"; then WHY="the restarted program's heap is damaged"; return 1; fi
    if [ "$(prog_id "$1")" != "$2" ]; then WHY="the restarted program has id $(prog_id "$1"), expected $2"; return 1; fi
}

# came_back PID OUTFILE: a refused restart (try_restart) brought the
# program back after all
came_back() { grep -q '^tick ' "$2"; }

# ---- files ------------------------------------------------------------------

owner() { stat -c %U "$1" 2>/dev/null; }
mode() { stat -c %a "$1" 2>/dev/null; }

# regular_owned_by FILE USER: FILE (not following a symlink) is a regular
# file owned by USER that neither its group nor others may write; sets WHY
regular_owned_by() {
    if [ -L "$1" ]; then WHY="$1 is a symbolic link (to $(readlink "$1"))"; return 1; fi
    if [ ! -f "$1" ]; then WHY="$1 is not a regular file: $(stat -c %F "$1" 2>&1)"; return 1; fi
    if [ "$(owner "$1")" != "$2" ]; then WHY="$1 is owned by $(owner "$1"), not $2"; return 1; fi
    if (( (8#$(mode "$1") & 8#022) != 0 )); then WHY="$1 has mode $(mode "$1"): writable by group or others"; return 1; fi
}

# image_in DIR: the one canonical image (ckpt_prog-counter_*.dmtcp, not a
# .g<N> one) in DIR
image_in() { find "$1" -maxdepth 1 -name 'ckpt_prog-counter_*.dmtcp' ! -name '*.g[0-9]*.dmtcp' | head -n 1; }

# stale_in DIR: what is in DIR besides images, restart scripts and the
# files the test put there itself (named planted* and loot*)
stale_in() {
    find "$1" -mindepth 1 -maxdepth 1 ! -name 'ckpt_*.dmtcp' ! -name dmtcp_restart_script.sh \
        ! -name 'planted*' ! -name 'loot*' -printf '%f ' 2>/dev/null
}
