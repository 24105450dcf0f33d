#!/bin/bash
# A program that ends before its engine ever joined (here a library of its
# own ends it from a constructor that runs before the engine's) must not
# leave behind the coordinator dmtcp_launch started for it: that
# coordinator (--exit-on-last) exits once the program is gone.
. "$(dirname "$0")/lib/common.sh"
need_bins dmtcp_launch dmtcp_coordinator dmtcp_command
need_cc
cat >"$TMP/early.c" <<'C'
#include <unistd.h>
__attribute__((constructor)) static void early_end(void) { _exit(3); }
void early_dummy(void) {}
C
echo 'void early_dummy(void); int main(void) { early_dummy(); return 0; }' >"$TMP/main.c"
compile "$TMP/libearly.so" -shared -fPIC "$TMP/early.c"
compile "$TMP/early-prog" "$TMP/main.c" -L"$TMP" -learly -Wl,-rpath,"$TMP"

FREE=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
out=$(timeout "$WAIT" "$BIN/dmtcp_launch" --new-coordinator -p "$FREE" "$TMP/early-prog" 2>&1); rc=$?
own() { OWN=$(pgrep -f -- "dmtcp_coordinator --daemon --exit-on-last .*-p $FREE " | head -n 1); [ -n "$OWN" ]; }
gone() { ! own; }
if [ $rc -ne 3 ] || ! grep -q "started a coordinator on 127.0.0.1:$FREE" <<<"$out"; then
    fail launch-dies-early "expected the program's own exit status 3 after a started coordinator: exit $rc: $out"
elif wait_for gone; then pass launch-dies-early
else
    fail launch-dies-early "the coordinator dmtcp_launch started (pid $OWN) is still there"
    kill "$OWN"
fi
exit 0
