#!/bin/bash
# Another user squats the per-user secret directory (finding 5 of issue 8):
# without XDG_RUNTIME_DIR the coordinator keeps its secret in
# /tmp/stasis-UID; another user creates that first (a directory of theirs,
# or a symlink to one).  The victim still starts a coordinator — its secret
# goes to $HOME/.cache/stasis, with one message naming the refused
# directory and why — and its clients find it there; nothing is written
# into the squatted place.  Runs in a private mount namespace with its own
# /tmp, so the machine's /tmp is never touched; needs root for that and for
# the second user.
if [ "${1:-}" != --inside ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "SKIP secret-dir-squat: needs root (a second user, and a private /tmp in a mount namespace)"
        exit 0
    fi
    case $(cd "$(dirname "$0")" && pwd -P) in
    /tmp/*)
        echo "SKIP secret-dir-squat: the tree is under /tmp, which this test replaces with a private one"
        exit 0 ;;
    esac
    exec unshare --mount --propagation private -- bash "$0" --inside
fi
if ! mount -t tmpfs -o mode=1777 stasis-squat-tmp /tmp 2>/dev/null; then
    echo "SKIP secret-dir-squat: cannot mount a private /tmp"
    exit 0
fi
unset TMPDIR
. "$(dirname "$0")/lib/auth.sh"
need_attacker
need_bins dmtcp_coordinator dmtcp_command dmtcp_launch
build_prog
unset XDG_RUNTIME_DIR
export HOME=$TMP/home
mkdir -m 700 "$HOME"
SQ=/tmp/stasis-$(id -u)
FALLBACK=$HOME/.cache/stasis

# squatted NAME: the victim launches the program with a new coordinator;
# it runs, the message names $SQ, the secret is in $FALLBACK, and
# dmtcp_command finds it.
squatted() {
    local name=$1 port p out
    rm -f "$TMP/port"
    bg "$BIN/dmtcp_launch" --new-coordinator -p 0 --port-file "$TMP/port" "$PROG" \
        >"$TMP/$name.out" 2>"$TMP/$name.err"
    p=$BG_PID
    if ! wait_for ticked "$TMP/$name.out"; then
        fail "$name" "the program did not start: $(cat "$TMP/$name.err")"
        return
    fi
    port=$(cat "$TMP/port")
    PORT=$port # for the cleanup
    out=$(timeout "$WAIT" "$BIN/dmtcp_command" -p "$port" -s 2>&1)
    if ! grep -q NUM_PEERS=1 <<<"$out"; then
        fail "$name" "dmtcp_command does not reach the coordinator: $out"
    elif ! grep -q -- "$SQ" "$TMP/$name.err" || ! grep -q -- "$FALLBACK" "$TMP/$name.err"; then
        fail "$name" "no message naming $SQ and $FALLBACK: $(cat "$TMP/$name.err")"
    elif [ "$(grep -c -- "$SQ" "$TMP/$name.err")" != 1 ]; then
        fail "$name" "more than one message: $(cat "$TMP/$name.err")"
    elif [ ! -f "$FALLBACK/coord-$port.secret" ]; then
        fail "$name" "no secret in $FALLBACK: $(ls -la "$FALLBACK" 2>&1)"
    elif [ -n "$(ls -A "$SQ/" 2>/dev/null)" ]; then
        fail "$name" "files written into the squatted directory: $(ls -A "$SQ/")"
    else
        pass "$name"
    fi
    { # stderr off: bash reports the job -k killed ("Killed …")
        timeout "$WAIT" "$BIN/dmtcp_command" -p "$port" -k >/dev/null
        finish "$p"
    } 2>/dev/null
}

"${AS_ATTACKER[@]}" mkdir -m 777 "$SQ"
squatted secret-dir-squat-dir
"${AS_ATTACKER[@]}" rm -rf "$SQ"

"${AS_ATTACKER[@]}" mkdir -m 777 /tmp/attacker
"${AS_ATTACKER[@]}" ln -s /tmp/attacker "$SQ"
squatted secret-dir-squat-symlink
exit 0
