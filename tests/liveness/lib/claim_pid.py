#!/usr/bin/env python3
"""claim_pid.py PORT PID READY — a fake worker (tests/cli/lib/stasis_proto.py)
that joins the coordinator claiming to be process PID, creates the file
READY, and then ignores everything the coordinator sends, MSG_KILL included,
for at most 120 s.  The coordinator must not kill PID: that process does not
hold this connection."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'cli', 'lib'))
import stasis_proto as sp  # noqa: E402

CLAIM = int(sys.argv[2])


class ClaimingOs:
    """os, except that getpid() gives the claimed pid (HELLO's pid fields)."""

    def __getattr__(self, name):
        return getattr(os, name)

    @staticmethod
    def getpid():
        return CLAIM


def main():
    port = int(sys.argv[1])
    sp.os = ClaimingOs()
    s = sp.connect(port)
    sp.hello(s, port, name='claimer')
    with open(sys.argv[3], 'w') as f:
        f.write('ready\n')
    deadline = time.time() + 120
    while time.time() < deadline:
        s.settimeout(max(0.1, deadline - time.time()))
        try:
            if not s.recv(65536):
                return
        except OSError:
            return


if __name__ == '__main__':
    main()
