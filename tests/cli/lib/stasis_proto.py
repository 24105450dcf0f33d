#!/usr/bin/python3
"""stasis_proto.py -- speaks the coordinator's wire protocol (src/common/proto.h,
docs/protocol.md) from the CLI tests: raw messages, the handshake (HELLO,
CHALLENGE, AUTH: keyed BLAKE2b, as src/common/auth.c computes it), a fake
worker that follows the checkpoint and restart protocols without the engine,
and malformed input.

Usage:
  stasis_proto.py worker PORT [--name N] [--fail MSG] [--exit-at-barrier B]
                  [--restart COMP_ID:PEERS] [--gen G] [--dir D] [--ready FILE]
                  [--delayed] [--mark-barrier] [--trace FILE]
    --mark-barrier  right after its first barrier, report status "resume
                    delayed": the coordinator logs it once it has read the
                    barrier (it reads a connection's messages in order)
    --trace FILE    append a line per message received after the welcome:
                    "release BARRIER", "kill", "checkpoint GEN", "restart-failed"
  stasis_proto.py raw PORT KIND     KIND: garbage|oversized|unknown|badlen|
                                         nohello|badversion|truncated|version1|
                                         badproof|silent|noauth
  stasis_proto.py mac KEYHEX LABEL PORT CNONCEHEX SNONCEHEX
                                   print a proof (hex), to compare with C
Only the standard library is used.
"""
import hashlib, os, socket, struct, sys, time

MAGIC, VERSION = 0x31535453, 2
HDR = struct.Struct('<IHHII')
HELLO = struct.Struct('<II32siiQQII64s64s')
CHALLENGE = struct.Struct('<32s32s')
HELLO_V1 = struct.Struct('<II72siiQQII64s64s')
WELCOME = struct.Struct('<IIQQ')
REJECT = struct.Struct('<I256s')
BARRIER = struct.Struct('<IIQ')
DO_CKPT = struct.Struct('<QII1024s')
CKPT_DONE = struct.Struct('<iIQQQ1024s512s')
WSTATUS = struct.Struct('<II')
(M_HELLO, M_WELCOME, M_REJECT, M_COMMAND, M_REPLY, M_CKPT_REQUEST, M_DO_CKPT,
 M_BARRIER, M_RELEASE, M_CKPT_DONE, M_KILL, M_WSTATUS) = range(1, 13)
M_CHALLENGE, M_AUTH = 15, 16
B_SUSPENDED, B_CHECKPOINTED, B_RESUMED, B_RESTARTED, B_REFILLED = 1, 2, 3, 10, 11
M_RESTART_FAILED = 18
REJECT_BAD_SECRET = 1
SERVER_LABEL, CLIENT_LABEL = b'stasis coordinator v2', b'stasis client v2'


def secret(port):
    """The token, as src/common/secret.c finds it (the tests always have
    STASIS_COORD_SECRET or a private XDG_RUNTIME_DIR)."""
    env = os.environ.get('STASIS_COORD_SECRET')
    if env:
        return env.strip().encode()
    xdg = os.environ.get('XDG_RUNTIME_DIR')
    d = os.path.join(xdg, 'stasis') if xdg else '/tmp/stasis-%d' % os.getuid()
    with open(os.path.join(d, 'coord-%d.secret' % port)) as f:
        return f.read().strip().encode()


def key_of(token):
    """The MAC key: unkeyed BLAKE2b-256 of the token's characters."""
    return hashlib.blake2b(token, digest_size=32).digest()


def proof(key, label, port, cnonce, snonce):
    """Keyed BLAKE2b-256 of label || port (u16 LE) || client nonce || server nonce."""
    msg = label + struct.pack('<H', port) + cnonce + snonce
    return hashlib.blake2b(msg, key=key, digest_size=32).digest()


def send(s, typ, payload=b'', version=VERSION, magic=MAGIC, length=None):
    n = len(payload) if length is None else length
    s.sendall(HDR.pack(magic, version, typ, n, 0) + payload)


def recv_exact(s, n):
    buf = b''
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError('coordinator closed the connection')
        buf += chunk
    return buf


def recv(s):
    magic, version, typ, n, _ = HDR.unpack(recv_exact(s, HDR.size))
    return typ, recv_exact(s, n)


def connect(port):
    s = socket.create_connection(('127.0.0.1', port), timeout=30)
    return s


def challenge(s, port, role=1, state=1, comp=0, gen=0, peers=0, name='fake', flags=0):
    """Send HELLO, read CHALLENGE, check the coordinator's proof; returns
    (key, client nonce, server nonce)."""
    cnonce = os.urandom(32)
    h = HELLO.pack(role, state, cnonce, os.getpid(), os.getpid(), comp, gen, peers,
                   flags, name.encode(), b'localhost')
    send(s, M_HELLO, h)
    typ, p = recv(s)
    if typ != M_CHALLENGE:
        sys.exit('client: no challenge: type %d %r' % (typ, p[4:60]))
    snonce, sproof = CHALLENGE.unpack(p)
    key = key_of(secret(port))
    if sproof != proof(key, SERVER_LABEL, port, cnonce, snonce):
        sys.exit('client: the coordinator on port %d does not prove it knows the secret' % port)
    return key, cnonce, snonce


def hello(s, port, state=1, comp=0, gen=0, peers=0, name='fake', flags=0, role=1):
    """The whole handshake; returns the WELCOME fields."""
    key, cnonce, snonce = challenge(s, port, role, state, comp, gen, peers, name, flags)
    send(s, M_AUTH, proof(key, CLIENT_LABEL, port, cnonce, snonce))
    typ, p = recv(s)
    if typ != M_WELCOME:
        sys.exit('worker: not welcomed: type %d %r' % (typ, p[4:60]))
    return WELCOME.unpack(p)


TRACE = {'file': None, 'mark': False}


def trace(typ, p):
    if not TRACE['file']:
        return
    if typ == M_RELEASE:
        line = 'release %d' % BARRIER.unpack(p)[0]
    elif typ == M_KILL:
        line = 'kill'
    elif typ == M_DO_CKPT:
        line = 'checkpoint %d' % DO_CKPT.unpack(p)[0]
    elif typ == M_RESTART_FAILED:
        line = 'restart-failed'
    else:
        line = 'type %d' % typ
    with open(TRACE['file'], 'a') as f:
        f.write(line + '\n')


def barrier(s, b, gen):
    send(s, M_BARRIER, BARRIER.pack(b, 0, gen))
    if TRACE['mark']:
        TRACE['mark'] = False
        send(s, M_WSTATUS, WSTATUS.pack(1, 0))
    while True:
        typ, p = recv(s)
        trace(typ, p)
        if typ == M_KILL:
            sys.exit(0)
        if typ == M_RESTART_FAILED:
            sys.exit('worker: restart failed: ' + p[8:].split(b'\0')[0].decode(errors='replace'))
        if typ == M_RELEASE and BARRIER.unpack(p)[0] == b:
            return
        if typ == M_WSTATUS:
            continue  # the computation's status flags, sent when they change
        sys.exit('worker: unexpected message %d waiting for release of %d' % (typ, b))


def do_checkpoint(s, gen, ckptdir, opts):
    if opts.get('exit') == 'SUSPENDED':
        os._exit(0)
    barrier(s, B_SUSPENDED, gen)
    if opts.get('exit') == 'WRITING':
        os._exit(0)
    d = ckptdir or opts['dir']
    path = os.path.join(d, 'ckpt_%s_%d.dmtcp' % (opts['name'], os.getpid()))
    data = b'x' * 4096
    status, err = 0, b''
    if opts.get('fail'):
        status, err = 5, opts['fail'].encode()
    else:
        with open(path, 'wb') as f:
            f.write(data)
    send(s, M_CKPT_DONE, CKPT_DONE.pack(status, 0, gen, len(data), 1000, path.encode(), err))
    barrier(s, B_CHECKPOINTED, gen)
    barrier(s, B_RESUMED, gen)


def worker(port, opts):
    s = connect(port)
    s.settimeout(None)
    if opts.get('restart'):
        comp, peers = (int(x, 0) for x in opts['restart'].split(':'))
        hello(s, port, state=3, comp=comp, gen=opts.get('gen', 0), peers=peers, name=opts['name'])
        barrier(s, B_RESTARTED, opts.get('gen', 0))
        barrier(s, B_REFILLED, opts.get('gen', 0))
    else:
        hello(s, port, name=opts['name'])
    if opts.get('delayed'):
        send(s, M_WSTATUS, WSTATUS.pack(1, 0))
    if opts.get('ready'):
        with open(opts['ready'], 'w') as f:
            f.write('ready\n')
    while True:
        try:
            typ, p = recv(s)
        except EOFError:
            return
        trace(typ, p)
        if typ == M_KILL:
            return
        if typ == M_DO_CKPT:
            gen, _, _, d = DO_CKPT.unpack(p)
            do_checkpoint(s, gen, d.rstrip(b'\0').decode(), opts)


def raw(port, kind):
    """Send one kind of bad input; print what happened (closed/reject/open)."""
    s = connect(port)
    s.settimeout(15)
    if kind == 'garbage':
        s.sendall(b'GET / HTTP/1.0\r\n\r\n' + b'\xff' * 100)
    elif kind == 'oversized':
        send(s, M_HELLO, b'', length=(1 << 20) + 1)
    elif kind == 'unknown':
        send(s, 99, b'')
    elif kind == 'badlen':
        send(s, M_HELLO, b'\0' * 10)
    elif kind == 'badversion':
        send(s, M_HELLO, b'\0' * HELLO.size, version=7)
    elif kind == 'truncated':
        s.sendall(HDR.pack(MAGIC, VERSION, M_HELLO, HELLO.size, 0) + b'\0' * 20)
        s.shutdown(socket.SHUT_WR)
    elif kind == 'nohello':
        send(s, M_COMMAND, struct.pack('<II', 1, 0))
    elif kind == 'version1':
        # a client of the old protocol: it must be able to read its refusal
        send(s, M_HELLO, HELLO_V1.pack(2, 0, b'x' * 64, 1, 1, 0, 0, 0, 0, b'v1', b'h'),
             version=1)
        magic, version, typ, n, _ = HDR.unpack(recv_exact(s, HDR.size))
        p = recv_exact(s, n)
        print('reject-v%d %s' % (version, p[4:].rstrip(b'\0').decode())
              if typ == M_REJECT else 'type %d' % typ)
        return
    elif kind == 'badproof':
        key, cnonce, snonce = challenge(s, port, role=2)
        send(s, M_AUTH, proof(key, CLIENT_LABEL, port ^ 1, cnonce, snonce))
        typ, p = recv(s)
        print('reject-bad-secret' if typ == M_REJECT and struct.unpack('<I', p[:4])[0] ==
              REJECT_BAD_SECRET else 'type %d' % typ)
        return
    elif kind == 'noauth':
        send(s, M_HELLO, HELLO.pack(2, 0, os.urandom(32), 1, 1, 0, 0, 0, 0, b'x', b'h'))
        recv(s)
        send(s, M_COMMAND, struct.pack('<II', 1, 0))
    elif kind == 'silent':
        challenge(s, port, role=2)
        s.settimeout(60)
    # "closed": EOF; "reject": a REJECT, then EOF; "open": no EOF in 15 s
    rejected = False
    try:
        data = s.recv(65536)
        while data:
            if len(data) >= HDR.size and HDR.unpack(data[:HDR.size])[2] == M_REJECT:
                rejected = True
            data = s.recv(65536)
        print('reject' if rejected else 'closed')
    except socket.timeout:
        print('open')


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    if argv[1] == 'mac':
        print(proof(bytes.fromhex(argv[2]), argv[3].encode(), int(argv[4]),
                    bytes.fromhex(argv[5]), bytes.fromhex(argv[6])).hex())
        return
    port = int(argv[2])
    if argv[1] == 'raw':
        raw(port, argv[3])
        return
    opts = {'name': 'fake', 'dir': os.getcwd()}
    i = 3
    while i < len(argv):
        k = argv[i]
        if k == '--delayed':
            opts['delayed'] = True
            i += 1
            continue
        if k == '--mark-barrier':
            TRACE['mark'] = True
            i += 1
            continue
        v = argv[i + 1]
        i += 2
        if k == '--name': opts['name'] = v
        elif k == '--fail': opts['fail'] = v
        elif k == '--exit-at': opts['exit'] = v
        elif k == '--restart': opts['restart'] = v
        elif k == '--gen': opts['gen'] = int(v)
        elif k == '--dir': opts['dir'] = v
        elif k == '--ready': opts['ready'] = v
        elif k == '--trace': TRACE['file'] = v
        else: sys.exit('unknown option ' + k)
    worker(port, opts)


if __name__ == '__main__':
    main(sys.argv)
