#!/bin/bash
# A program on a terminal outside the computation (the one dmtcp_launch
# runs on, here a pseudo-terminal this test holds the master of) is, after
# a restart, on the terminal dmtcp_restart runs on, with the settings it had
# given its terminal, and it is told if that terminal has another size.
#   outside-terminal: bash -c sets `stty intr ^B -echo` on a 30x100
#       terminal, says READY and waits in `read`; -bc, -k; dmtcp_restart on
#       a new 24x80 terminal; the line typed there is read (and, echo off,
#       not echoed), `stty -a` shows ^B and -echo, `stty size` the new size,
#       and bash's SIGWINCH trap ran.
. "$(dirname "$0")/lib/common.sh"
need_bins
start_coord || { fail outside-terminal "coordinator did not start"; exit 0; }

out=$(timeout 120 "$PY" - "$BIN" "$PORT" "$TMP/ot" <<'EOF' 2>&1
import fcntl, os, pty, select, struct, subprocess, sys, termios, time
BIN, PORT, D = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(D, exist_ok=True)
PROG = ('trap "echo WINCH" WINCH; stty intr ^B -echo; echo READY; read -r line; echo "GOT-$line"; '
        'stty -a | grep -o "intr = ^.\\|-echo "; stty size; echo DONE')

def on_pty(argv, rows, cols):
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        os.execv(argv[0], argv)
    return pid, fd

def read_until(fd, want, secs=60):
    out, end = b"", time.time() + secs
    while want.encode() not in out and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            try:
                b = os.read(fd, 4096)
            except OSError:
                break
            if not b:
                break
            out += b
    return out.decode(errors="replace")

def command(*args):
    return subprocess.run([BIN + "/dmtcp_command", "-p", PORT] + list(args), capture_output=True, text=True,
                          timeout=60)

def bye(msg):
    print("FAIL outside-terminal: " + msg)
    command("-k")
    sys.exit(0)

pid, fd = on_pty([BIN + "/dmtcp_launch", "-p", PORT, "-j", "--ckptdir", D, "/bin/bash", "--norc", "--noprofile",
                  "-c", PROG], 30, 100)
got = read_until(fd, "READY")
if "READY" not in got:
    bye("the program did not start: %r" % got)
for a in ("-bc", "-k"):
    r = command(a)
    if r.returncode != 0:
        bye("dmtcp_command %s: %s" % (a, r.stdout + r.stderr))
os.waitpid(pid, 0)
os.close(fd)
imgs = sorted(os.path.join(D, f) for f in os.listdir(D) if f.endswith(".dmtcp"))
pid, fd = on_pty([BIN + "/dmtcp_restart", "-p", PORT, "-j"] + imgs, 24, 80)
end = time.time() + 60
while time.time() < end:
    s = command("-s").stdout
    if "NUM_PEERS=1" in s and "RUNNING=yes" in s:
        break
    time.sleep(0.1)
else:
    bye("the restarted program did not come back: %r" % read_until(fd, "\0", 1))
os.write(fd, b"hello\n")
got = read_until(fd, "DONE")
missing = [w for w in ("GOT-hello", "intr = ^B", "-echo ", "24 80", "WINCH", "DONE") if w not in got]
if missing:
    bye("after the restart %s missing from the terminal: %r" % (missing, got))
if got.count("hello") != 1:
    bye("the line typed was echoed (echo was off): %r" % got)
os.waitpid(pid, 0)
print("PASS outside-terminal")
EOF
)
case $out in
*"PASS outside-terminal"* | *"FAIL outside-terminal"*) grep -E '^(PASS|FAIL) outside-terminal' <<<"$out" ;;
*) fail outside-terminal "the driver ended without a verdict: $(tail -c 400 <<<"$out")" ;;
esac
kill_all
