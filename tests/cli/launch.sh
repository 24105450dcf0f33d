#!/bin/bash
# dmtcp_launch's checks and coordinator handling, without needing the
# engine: a copy of bin/ with a do-nothing libdmtcp.so stands in for it.
. "$(dirname "$0")/lib/common.sh"
need_bins dmtcp_launch dmtcp_coordinator dmtcp_command
mkdir -p "$TMP/inst/bin" "$TMP/inst/lib"
cp "$BIN/dmtcp_launch" "$BIN/dmtcp_coordinator" "$BIN/dmtcp_command" "$TMP/inst/bin/"
L=$TMP/inst/bin/dmtcp_launch

out=$(cd "$TMP" && timeout 30 "$L" true 2>&1); rc=$?
if [ $rc -ne 1 ] || ! grep -q "engine not found at .*libdmtcp.so; run make" <<<"$out"; then
    fail launch-no-engine "exit $rc: $out"
else pass launch-no-engine; fi

echo 'void stasis_test_engine(void) {}' >"$TMP/e.c"
if ! cc -shared -fPIC -o "$TMP/inst/lib/libdmtcp.so" "$TMP/e.c" 2>/dev/null; then
    skip launch "no C compiler for the stand-in engine"; exit 0
fi

out=$(timeout 30 "$L" no-such-program-xyz 2>&1); rc=$?
if [ $rc -ne 1 ] || ! grep -q "no-such-program-xyz" <<<"$out"; then fail launch-no-program "exit $rc: $out"
else pass launch-no-program; fi

out=$(timeout 30 "$L" --ckptdir "$TMP/none" true 2>&1); rc=$?
if [ $rc -ne 1 ] || ! grep -q "checkpoint directory" <<<"$out"; then fail launch-bad-ckptdir "exit $rc: $out"
else pass launch-bad-ckptdir; fi

out=$(timeout 30 "$L" --with-plugin "$TMP/missing.so" true 2>&1); rc=$?
if [ $rc -ne 1 ] || ! grep -q "missing.so" <<<"$out"; then fail launch-bad-plugin "exit $rc: $out"
else pass launch-bad-plugin; fi

# Programs the loader will not preload into: refused before anything starts.
echo 'int main(void) { return 0; }' >"$TMP/static.c"
if cc -static -o "$TMP/static" "$TMP/static.c" 2>/dev/null; then
    out=$(timeout 30 "$L" "$TMP/static" 2>&1); rc=$?
    if [ $rc -ne 1 ] || ! grep -q "statically linked" <<<"$out"; then fail launch-static-program "exit $rc: $out"
    else pass launch-static-program; fi
else
    skip launch-static-program "no static libc to build a static test program"
fi
cp "$TMP/inst/bin/dmtcp_command" "$TMP/suid-prog" && chmod u+s "$TMP/suid-prog"
out=$(timeout 30 "$L" "$TMP/suid-prog" 2>&1); rc=$?
if [ $rc -ne 1 ] || ! grep -q "set-user-ID" <<<"$out"; then fail launch-setuid-program "exit $rc: $out"
else pass launch-setuid-program; fi

FREE=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
out=$(timeout 30 "$L" -j -p "$FREE" true 2>&1); rc=$?
if [ $rc -ne 2 ] || ! grep -q "no coordinator at 127.0.0.1:$FREE; start one" <<<"$out"; then
    fail launch-join-none "exit $rc: $out"
else pass launch-join-none; fi

# New coordinator on a free port; the program sees the environment.  (It
# goes on running: a coordinator dmtcp_launch started ends with the program.)
mkdir -p "$TMP/ck"
bg "$L" -q -p 0 --port-file "$TMP/lport" --ckptdir ck --ckpt-signal 10 \
      sh -c 'echo "P=$DMTCP_COORD_PORT D=$DMTCP_CHECKPOINT_DIR S=$DMTCP_SIGCKPT Q=$STASIS_QUIET"; echo "L=$LD_PRELOAD"
             while :; do sleep 1; done' >"$TMP/lout" 2>&1
wait_for grep -q '^L=' "$TMP/lout"
out=$(cat "$TMP/lout")
LP=$(cat "$TMP/lport" 2>/dev/null)
if [ -z "$LP" ]; then fail launch-new-coordinator "no port written: $out"
elif ! grep -q "^P=$LP D=$TMP/ck S=10 Q=1$" <<<"$out"; then fail launch-new-coordinator "env: $out"
elif ! grep -q "^L=$TMP/inst/lib/libdmtcp.so$" <<<"$out"; then fail launch-new-coordinator "LD_PRELOAD: $out"
elif ! timeout 30 "$BIN/dmtcp_command" -p "$LP" -s >/dev/null 2>&1; then fail launch-new-coordinator "coordinator not answering"
else pass launch-new-coordinator; fi

# Joining it with -i sets its interval.
out=$(timeout 30 "$L" -j -p "$LP" -i 17 true 2>&1); rc=$?
if [ $rc -ne 0 ]; then fail launch-join-interval "exit $rc: $out"
elif ! timeout 30 "$BIN/dmtcp_command" -p "$LP" -s | grep -q "CKPT_INTERVAL=17"; then
    fail launch-join-interval "interval not set"
else pass launch-join-interval; fi
[ -n "$LP" ] && timeout 30 "$BIN/dmtcp_command" -p "$LP" -q >/dev/null 2>&1
exit 0
