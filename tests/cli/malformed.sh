#!/bin/bash
# Bad input closes only the connection that sent it (the client sees EOF,
# after a REJECT for some); the coordinator keeps answering -s.  A client
# that connects and says nothing, or stops inside a header, blocks nobody.
. "$(dirname "$0")/lib/common.sh"
need_bins dmtcp_coordinator dmtcp_command
start_coord || { fail malformed-start "coordinator did not start"; exit 0; }

for kind in garbage oversized unknown badlen badversion truncated nohello; do
    res=$(timeout 30 $PY "$PROTO" raw "$PORT" "$kind" 2>&1)
    if [ "$res" != closed ] && [ "$res" != reject ]; then
        fail "malformed-$kind" "connection not closed: $res"
    elif ! cmd -s >/dev/null 2>&1; then
        fail "malformed-$kind" "coordinator stopped answering -s"
    else pass "malformed-$kind"; fi
done
if ! grep -q "closing\|rejected" "$TMP/coord.log"; then
    fail malformed-logged "no log line for the bad connections"
else pass malformed-logged; fi

# Stalled clients: five connected and silent, one stopped inside a
# header.  Once the coordinator has accepted all six and read every byte
# they sent (ss: its listening queue and their receive queues are empty),
# it must still answer -s.
# stalled_taken N: N connections to the port, accepted, nothing unread
stalled_taken() {
    local conns unread queued
    conns=$(ss -Htn state established "( sport = :$PORT )")
    unread=$(awk '$1 != 0' <<<"$conns" | wc -l)
    queued=$(ss -Htln "( sport = :$PORT )" | awk '{n += $2} END {print n + 0}')
    [ "$(grep -c . <<<"$conns")" -ge "$1" ] && [ "$unread" = 0 ] && [ "$queued" = 0 ]
}
if ! command -v ss >/dev/null; then
    skip malformed-stalled-client "no ss (iproute2) to see the coordinator take the stalled clients"
else
    bg $PY -c 'import socket,time,sys; s=[socket.create_connection(("127.0.0.1",int(sys.argv[1]))) for _ in range(5)]; time.sleep(600)' "$PORT"
    bg bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT; printf 'STS1' >&3; sleep 600"
    if ! wait_for stalled_taken 6; then
        fail malformed-stalled-client "the coordinator never took the six stalled clients: $(ss -Htna "( sport = :$PORT )" | tr '\n' '|')"
    elif ! out=$(cmd -s 2>&1); then
        fail malformed-stalled-client "-s failed with silent clients connected: $out"
    else pass malformed-stalled-client; fi
fi

# A fake worker still works after all that.
bg $PY "$PROTO" worker "$PORT" --ready "$TMP/ready"
if wait_for test -e "$TMP/ready" && cmd -s | grep -q NUM_PEERS=1; then pass malformed-worker-after
else fail malformed-worker-after "a worker could not join after bad clients"; fi
exit 0
