#!/usr/bin/python3
"""fake_coord.py -- a program that listens where a Stasis client expects its
coordinator, for the tests of tests/security/.  Run as another user, it plays
the attacker who holds the port; run as the user, with the secret, it plays
a coordinator that is the user's own but sends what the real one never does.

Usage:
  fake_coord.py hijack              answer like a coordinator without knowing
                                    the secret: a version-1 client is welcomed
                                    (and obeyed), a version-2 client gets a
                                    CHALLENGE whose proof is made up
  fake_coord.py silent              accept, read, never answer
  fake_coord.py relay PORT          pass every connection through to
                                    127.0.0.1:PORT, both ways
  fake_coord.py authentic TOKENFILE CKPTDIR...
                                    a coordinator that knows the secret, for
                                    one worker: welcomes it, orders one
                                    checkpoint into each CKPTDIR in turn (sent
                                    as given, relative or not), follows the
                                    barriers, prints "done GEN STATUS PATH
                                    ERROR" for each, then "finished N"

The listening port is chosen by the kernel and printed first, as
"listening PORT".  Every connection prints "accept N", every chunk of bytes a
client sends "recv N HEX", and the end of a connection "closed N"; stdout is
flushed at each line, so a test can wait for "closed N" and then look at
everything the fake received.  Only the standard library is used (and
tests/cli/lib/stasis_proto.py for the authentic mode).
"""
import os, secrets, socket, struct, sys, threading

MAGIC = 0x31535453
HDR = struct.Struct('<IHHII')
M_HELLO, M_WELCOME, M_COMMAND, M_REPLY = 1, 2, 4, 5
M_DO_CKPT, M_BARRIER, M_RELEASE, M_CKPT_DONE = 7, 8, 9, 10
M_CHALLENGE, M_AUTH = 15, 16
M_PLUGIN_BARRIER, M_PLUGIN_RELEASE, M_KV = 13, 14, 21
KV_GET, KV_MISSING = 3, 5
WELCOME = struct.Struct('<IIQQ')
REPLY = struct.Struct('<iIIIQQQQII512s')
lock = threading.Lock()


def say(*words):
    with lock:
        print(*words, flush=True)


def frame(version, typ, payload=b''):
    return HDR.pack(MAGIC, version, typ, len(payload), 0) + payload


class Conn:
    """A client connection that logs every byte it reads."""

    def __init__(self, sock, n):
        self.s, self.n, self.buf = sock, n, b''

    def fill(self, want):
        while len(self.buf) < want:
            data = self.s.recv(65536)
            if not data:
                raise EOFError
            say('recv', self.n, data.hex())
            self.buf += data

    def message(self):
        self.fill(HDR.size)
        magic, version, typ, n, _ = HDR.unpack(self.buf[:HDR.size])
        if magic != MAGIC or n > (1 << 20):
            raise EOFError
        self.fill(HDR.size + n)
        payload = self.buf[HDR.size:HDR.size + n]
        self.buf = self.buf[HDR.size + n:]
        return version, typ, payload


def hijack(c):
    """Whatever the client asks, say yes, as far as it can be faked."""
    while True:
        version, typ, p = c.message()
        if typ == M_HELLO and version == 1:
            c.s.sendall(frame(1, M_WELCOME, WELCOME.pack(c.n, 0, 0x6666, 0)))
        elif typ == M_HELLO:
            c.s.sendall(frame(version, M_CHALLENGE, secrets.token_bytes(64)))
        elif typ == M_AUTH:
            c.s.sendall(frame(version, M_WELCOME, WELCOME.pack(c.n, 0, 0x6666, 0)))
        elif typ == M_COMMAND:
            msg = b'done (by a fake coordinator)'
            c.s.sendall(frame(version, M_REPLY, REPLY.pack(0, 1, 1, 0, 0, 0x6666, 0, 0, 0, 0, msg)))
        elif typ == M_BARRIER:
            c.s.sendall(frame(version, M_RELEASE, p))


def silent(c):
    while True:
        c.message()


def relay(c, port):
    up = socket.create_connection(('127.0.0.1', port))

    def down():
        try:
            while True:
                data = up.recv(65536)
                if not data:
                    break
                c.s.sendall(data)
        except OSError:
            pass
        c.s.close()

    threading.Thread(target=down, daemon=True).start()
    try:
        while True:
            data = c.s.recv(65536)
            if not data:
                break
            say('recv', c.n, data.hex())
            up.sendall(data)
    finally:
        up.close()


def authentic(c, port, tokenfile, *ckptdirs):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    '..', '..', 'cli', 'lib'))
    import stasis_proto as p
    with open(tokenfile) as f:
        token = f.read().strip().encode()
    version, typ, hello = c.message()
    if version == 1:  # the old protocol carried the token itself
        if hello[8:80].rstrip(b'\0') != token:
            say('bad-secret', c.n)
            return
    else:
        key = p.key_of(token)
        cnonce, snonce = hello[8:40], secrets.token_bytes(32)
        c.s.sendall(frame(version, M_CHALLENGE, snonce + p.proof(key, p.SERVER_LABEL, port,
                                                                 cnonce, snonce)))
        version, typ, auth = c.message()
        if typ != M_AUTH or auth != p.proof(key, p.CLIENT_LABEL, port, cnonce, snonce):
            say('bad-auth', c.n)
            return
    c.s.sendall(frame(version, M_WELCOME, WELCOME.pack(c.n, 0, 0x1234, 0)))
    for gen, ckptdir in enumerate(ckptdirs, 1):
        c.s.sendall(frame(version, M_DO_CKPT, p.DO_CKPT.pack(gen, 0, 0, ckptdir.encode())))
        while True:
            _, typ, m = c.message()
            if typ == M_BARRIER:
                c.s.sendall(frame(version, M_RELEASE, m))
                if p.BARRIER.unpack(m)[0] == p.B_RESUMED:
                    break
            elif typ == M_PLUGIN_BARRIER:
                c.s.sendall(frame(version, M_PLUGIN_RELEASE, m))  # the only process: everyone is there
            elif typ == M_KV and struct.unpack_from('<I', m)[0] == KV_GET:
                c.s.sendall(frame(version, M_KV, struct.pack('<II', KV_MISSING, 0) + m[8:]))  # nothing stored
            elif typ == M_CKPT_DONE:
                status, _, _, _, _, path, err = p.CKPT_DONE.unpack(m)
                say('done', gen, status, path.rstrip(b'\0').decode(), err.rstrip(b'\0').decode())
    say('finished', c.n)
    c.message()  # until the worker goes


def serve(c, mode, args, port):
    say('accept', c.n)
    try:
        if mode == 'hijack':
            hijack(c)
        elif mode == 'silent':
            silent(c)
        elif mode == 'relay':
            relay(c, int(args[0]))
        elif mode == 'authentic':
            authentic(c, port, *args)
    except (EOFError, OSError):
        pass
    finally:
        say('closed', c.n)
        c.s.close()


def main(argv):
    if len(argv) < 2 or argv[1] not in ('hijack', 'silent', 'relay', 'authentic'):
        sys.exit(__doc__)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(('127.0.0.1', 0))
    ls.listen(16)
    port = ls.getsockname()[1]
    say('listening', port)
    n = 0
    while True:
        s, _ = ls.accept()
        n += 1
        threading.Thread(target=serve, args=(Conn(s, n), argv[1], argv[2:], port),
                         daemon=True).start()


if __name__ == '__main__':
    main(sys.argv)
