# shellcheck shell=bash disable=SC2317,SC2034 # functions run indirectly (wait_for, trap)
# auth.sh — sourced by the tests of the coordinator's authentication and of
# the secret's directory (tests/security/coord-*.sh, secret-dir-*.sh):
# tests/lib/common.sh (private temporary directory and XDG_RUNTIME_DIR, a
# coordinator, background processes, bounded waits, PASS/FAIL/SKIP lines),
# and here: the other user (stasis-test) who attacks, the fake coordinator
# it runs (lib/fake_coord.py), the test program, and the check that the fake
# never received the secret.

# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../lib/common.sh"
init_script security
PY=/usr/bin/python3
FAKE_PY=$ROOT/tests/security/lib/fake_coord.py
ATTACKER=stasis-test

# need_attacker: the other user exists (created when missing), or SKIP the
# whole script: only root can run a program as another user.
need_attacker() {
    if [ "$(id -u)" != 0 ]; then
        skip "$NAME" "needs root to run the attacker as another user ($ATTACKER)"
        exit 0
    fi
    id "$ATTACKER" >/dev/null 2>&1 ||
        useradd --create-home --shell /bin/bash "$ATTACKER" >/dev/null 2>&1 ||
        id "$ATTACKER" >/dev/null 2>&1 || { # another test may have won the race
        skip "$NAME" "cannot create the user $ATTACKER"
        exit 0
    }
    ATT_UID=$(id -u "$ATTACKER")
    ATT_GID=$(id -g "$ATTACKER")
    AS_ATTACKER=(setpriv --reuid="$ATT_UID" --regid="$ATT_GID" --clear-groups --inh-caps=-all --)
}

# AS_ATTACKER CMD...: CMD as the other user (setpriv execs it, so the pid
# bg gives is the attacker's program itself)
AS_ATTACKER=()

# start_fake LABEL MODE [ARGS...]: the fake coordinator (as the attacker
# when need_attacker ran, else as this user), its log in $TMP/LABEL.log;
# sets FAKE_PORT, FAKE_LOG, FAKE_PID
start_fake() {
    local label=$1
    shift
    FAKE_LOG=$TMP/$label.log
    bg "${AS_ATTACKER[@]}" "$PY" "$FAKE_PY" "$@" >"$FAKE_LOG" 2>&1
    FAKE_PID=$BG_PID
    if ! wait_for grep -q '^listening ' "$FAKE_LOG"; then
        echo "fake coordinator did not start: $(cat "$FAKE_LOG")" >&2
        return 1
    fi
    FAKE_PORT=$(sed -n 's/^listening //p' "$FAKE_LOG")
}

# fake_quiet: every connection the fake accepted has ended, so its log
# holds everything it was sent
fake_quiet() {
    [ "$(grep -c '^accept ' "$FAKE_LOG")" = "$(grep -c '^closed ' "$FAKE_LOG")" ]
}

# fake_received_secret TOKEN: the fake was sent TOKEN's bytes (anywhere in
# any connection's stream)
fake_received_secret() {
    local hex n streams
    hex=$(printf %s "$1" | od -An -tx1 | tr -d ' \n')
    streams=$(awk '$1 == "recv" {s[$2] = s[$2] $3} END {for (k in s) print s[k]}' "$FAKE_LOG")
    n=$(grep -c -- "$hex" <<<"$streams")
    [ "$n" != 0 ]
}

# plant_secret PORT: a secret file for PORT in this user's directory, as a
# coordinator killed with -9 leaves it; prints the token
plant_secret() {
    local d=$XDG_RUNTIME_DIR/stasis tok
    mkdir -p -m 700 "$d"
    tok=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
    (umask 077 && printf '%s\n' "$tok" >"$d/coord-$1.secret")
    echo "$tok"
}

# build_prog: $PROG, a program that prints "tick N" every 50 ms
PROG=$TMP/ticker
build_prog() {
    need_cc
    cat >"$TMP/ticker.c" <<'C'
#include <stdio.h>
#include <unistd.h>
int main(void)
{
    for (unsigned long n = 1;; n++) {
        printf("tick %lu\n", n);
        fflush(stdout);
        usleep(50000);
    }
}
C
    compile "$PROG" -O1 "$TMP/ticker.c"
}
ticked() { grep -q '^tick ' "$1" 2>/dev/null; }

# ended PID: PID has exited (reaped, REAPED_RC set)
ended() { dead "$1"; }

# impostor_message TEXT: TEXT is the clear refusal the user must get when
# the program on the port does not know the secret
impostor_message() {
    grep -q 'another user' <<<"$1" && grep -q "127.0.0.1:$FAKE_PORT" <<<"$1" &&
        grep -q -- '--new-coordinator' <<<"$1"
}
