/*
 * proto.c — unit tests for src/common/proto.c: header validation, payload
 * sizes, framing over a socketpair (round trips, EOF, oversized and
 * mis-sized messages).  The handshake is tests/unit/auth.c, the secret's
 * file tests/unit/secret.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "common/proto.h"
#include "unit.h"

/* Every message type with its fixed payload size (-1: COMMAND_REPLY). */
static const struct {
    uint16_t type;
    long size;
    const char *name;
} proto_test_types[] = {
    { MSG_HELLO, sizeof(struct msg_hello), "HELLO" },
    { MSG_WELCOME, sizeof(struct msg_welcome), "WELCOME" },
    { MSG_REJECT, sizeof(struct msg_reject), "REJECT" },
    { MSG_COMMAND, sizeof(struct msg_command), "COMMAND" },
    { MSG_COMMAND_REPLY, -1, "COMMAND_REPLY" },
    { MSG_CKPT_REQUEST, 0, "CKPT_REQUEST" },
    { MSG_DO_CKPT, sizeof(struct msg_do_ckpt), "DO_CKPT" },
    { MSG_BARRIER, sizeof(struct msg_barrier), "BARRIER" },
    { MSG_BARRIER_RELEASE, sizeof(struct msg_barrier), "BARRIER_RELEASE" },
    { MSG_CKPT_DONE, sizeof(struct msg_ckpt_done), "CKPT_DONE" },
    { MSG_KILL, 0, "KILL" },
    { MSG_WORKER_STATUS, sizeof(struct msg_worker_status), "WORKER_STATUS" },
    { MSG_PLUGIN_BARRIER, sizeof(struct msg_plugin_barrier), "PLUGIN_BARRIER" },
    { MSG_PLUGIN_BARRIER_RELEASE, sizeof(struct msg_plugin_barrier), "PLUGIN_BARRIER_RELEASE" },
    { MSG_CHALLENGE, sizeof(struct msg_challenge), "CHALLENGE" },
    { MSG_AUTH, sizeof(struct msg_auth), "AUTH" },
    { MSG_WORKER_EXEC, sizeof(struct msg_worker_exec), "WORKER_EXEC" },
    { MSG_KV, sizeof(struct msg_kv), "KV" },
};
#define NTYPES (sizeof proto_test_types / sizeof proto_test_types[0])

#define REPLY_BASE sizeof(struct msg_command_reply)
#define PEER sizeof(struct proto_peer)

static struct proto_hdr hdr_of(uint16_t type, uint32_t len)
{
    struct proto_hdr h = { .magic = PROTO_MAGIC, .version = PROTO_VERSION, .type = type, .len = len };
    return h;
}

/* Payload length a message of this type carries in the tests. */
static uint32_t len_for(long size, uint32_t npeers)
{
    return size >= 0 ? (uint32_t)size : (uint32_t)(REPLY_BASE + npeers * PEER);
}

static void fill_pattern(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(seed * 131 + i * 7 + (i >> 8));
}

static int pair(int sv[2])
{
    return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
}

/* ---- header checks and sizes ------------------------------------------- */

static void test_wire_layout(void)
{
    /* sizes and offsets are pinned by _Static_assert in proto.h; the
     * numbers every peer must agree on are pinned here */
    CHECK(sizeof(struct proto_hdr) == 16);
    CHECK(PROTO_MAX_PAYLOAD == 1u << 20);
    CHECK(PROTO_MAGIC == 0x31535453u && PROTO_VERSION == 2);
    CHECK(MSG_HELLO == 1 && MSG_WELCOME == 2 && MSG_REJECT == 3 && MSG_COMMAND == 4);
    CHECK(MSG_COMMAND_REPLY == 5 && MSG_CKPT_REQUEST == 6 && MSG_DO_CKPT == 7);
    CHECK(MSG_BARRIER == 8 && MSG_BARRIER_RELEASE == 9 && MSG_CKPT_DONE == 10 && MSG_KILL == 11);
    CHECK(MSG_WORKER_STATUS == 12 && MSG_PLUGIN_BARRIER == 13 && MSG_PLUGIN_BARRIER_RELEASE == 14);
    CHECK(MSG_CHALLENGE == 15 && MSG_AUTH == 16 && MSG_RESTART_IMAGE == 17 && MSG_RESTART_FAILED == 18 && MSG_RESTART_BACK == 19 && MSG_WORKER_EXEC == 20 && MSG_KV == 21 && MSG_TYPE_MAX == 22);
    CHECK(sizeof(struct msg_worker_exec) == 200 && sizeof(struct msg_kv) == 256);
    CHECK(REJECT_BAD_SECRET == 1 && REJECT_BAD_VERSION == 2 && REJECT_BAD_MESSAGE == 3 &&
          REJECT_BUSY == 4);
    /* the wire structs have no implicit padding that differs by compiler */
    CHECK(sizeof(struct msg_hello) % 8 == 0);
    CHECK(sizeof(struct msg_command_reply) % 8 == 0);
    CHECK(sizeof(struct proto_peer) % 8 == 0);
}

static void test_payload_size(void)
{
    for (size_t i = 0; i < NTYPES; i++)
        CHECKF(proto_payload_size(proto_test_types[i].type) == proto_test_types[i].size,
               "proto_payload_size(%s) = %ld, want %ld", proto_test_types[i].name,
               proto_payload_size(proto_test_types[i].type), proto_test_types[i].size);
    const uint16_t unknown[] = { 0, MSG_TYPE_MAX, 99, 0xffff };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        long s = proto_payload_size(unknown[i]);
        /* must not read as a size, nor as "variable" (-1) */
        CHECKF(s < 0 && s != -1, "proto_payload_size(unknown type %u) = %ld", unknown[i], s);
    }
}

static void test_check_hdr_good(void)
{
    for (size_t i = 0; i < NTYPES; i++) {
        struct proto_hdr h = hdr_of(proto_test_types[i].type, len_for(proto_test_types[i].size, 0));
        CHECKF(proto_check_hdr(&h) == 0, "good %s header refused", proto_test_types[i].name);
    }
    const uint32_t npeers[] = { 1, 3, 100 };
    for (size_t i = 0; i < 3; i++) {
        struct proto_hdr h = hdr_of(MSG_COMMAND_REPLY, len_for(-1, npeers[i]));
        CHECKF(proto_check_hdr(&h) == 0, "COMMAND_REPLY with %u peers refused", npeers[i]);
    }
    /* the largest whole-peer reply that fits is accepted */
    uint32_t most = (PROTO_MAX_PAYLOAD - REPLY_BASE) / PEER;
    struct proto_hdr h = hdr_of(MSG_COMMAND_REPLY, len_for(-1, most));
    CHECK(proto_check_hdr(&h) == 0);
}

static void test_check_hdr_bad_magic(void)
{
    const uint32_t magics[] = { 0, 0x53545331u /* byte-swapped */, PROTO_MAGIC ^ 1, 0xffffffffu };
    for (size_t i = 0; i < 4; i++) {
        struct proto_hdr h = hdr_of(MSG_WELCOME, sizeof(struct msg_welcome));
        h.magic = magics[i];
        CHECKF(proto_check_hdr(&h) == -EPROTO, "magic %#x accepted", magics[i]);
    }
}

static void test_check_hdr_bad_version(void)
{
    /* version 1 sent the secret itself: refused like any other */
    const uint16_t versions[] = { 0, PROTO_VERSION_1, PROTO_VERSION + 1, 0x100, 0xffff };
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        struct proto_hdr h = hdr_of(MSG_WELCOME, sizeof(struct msg_welcome));
        h.version = versions[i];
        CHECKF(proto_check_hdr(&h) == -EPROTO, "version %u accepted", versions[i]);
    }
}

static void test_check_hdr_oversize(void)
{
    /* whole peer records, but past the 1 MiB limit */
    uint32_t over = (PROTO_MAX_PAYLOAD - REPLY_BASE) / PEER + 1;
    struct proto_hdr h = hdr_of(MSG_COMMAND_REPLY, len_for(-1, over));
    CHECK(h.len > PROTO_MAX_PAYLOAD);
    CHECK(proto_check_hdr(&h) == -EPROTO);
    const uint32_t lens[] = { PROTO_MAX_PAYLOAD + 1, 0x7fffffffu, 0xffffffffu };
    for (size_t t = 0; t < NTYPES; t++)
        for (size_t i = 0; i < 3; i++) {
            h = hdr_of(proto_test_types[t].type, lens[i]);
            CHECKF(proto_check_hdr(&h) == -EPROTO, "%s with len %u accepted", proto_test_types[t].name,
                   lens[i]);
        }
}

static void test_check_hdr_wrong_length(void)
{
    for (size_t i = 0; i < NTYPES; i++) {
        long s = proto_test_types[i].size;
        if (s < 0)
            continue;
        const uint32_t lens[] = { (uint32_t)s + 1, s ? (uint32_t)s - 1 : 8u, (uint32_t)s * 2 + 8 };
        for (size_t k = 0; k < 3; k++) {
            struct proto_hdr h = hdr_of(proto_test_types[i].type, lens[k]);
            CHECKF(proto_check_hdr(&h) == -EPROTO, "%s with len %u (want %ld) accepted",
                   proto_test_types[i].name, lens[k], s);
        }
    }
    const uint32_t reply_lens[] = { 0, REPLY_BASE - 1, REPLY_BASE + 1, REPLY_BASE + PEER - 1,
                                    REPLY_BASE + 2 * PEER + 8 };
    for (size_t k = 0; k < sizeof reply_lens / sizeof reply_lens[0]; k++) {
        struct proto_hdr h = hdr_of(MSG_COMMAND_REPLY, reply_lens[k]);
        CHECKF(proto_check_hdr(&h) == -EPROTO, "COMMAND_REPLY with len %u accepted", reply_lens[k]);
    }
}

static void test_check_hdr_unknown_type(void)
{
    const uint16_t types[] = { 0, MSG_TYPE_MAX, 200, 0xffff };
    for (size_t i = 0; i < 4; i++) {
        for (uint32_t len = 0; len <= 16; len += 8) {
            struct proto_hdr h = hdr_of(types[i], len);
            CHECKF(proto_check_hdr(&h) == -EPROTO, "type %u len %u accepted", types[i], len);
        }
    }
}

/* ---- framing over a socketpair ------------------------------------------ */

static void test_roundtrip_every_type(void)
{
    int sv[2];
    if (!CHECK(pair(sv) == 0))
        return;
    static unsigned char out[4096], in[4096];
    for (size_t i = 0; i < NTYPES; i++) {
        for (uint32_t npeers = 0; npeers <= (proto_test_types[i].size < 0 ? 3u : 0u); npeers += 3) {
            uint32_t len = len_for(proto_test_types[i].size, npeers);
            fill_pattern(out, len, (unsigned)i + npeers);
            memset(in, 0xee, sizeof in);
            int s = proto_send(sv[0], proto_test_types[i].type, len ? out : NULL, len);
            CHECKF(s == 0, "proto_send(%s, %u) = %d", proto_test_types[i].name, len, s);
            uint16_t type = 0;
            long n = proto_recv(sv[1], &type, in, sizeof in);
            CHECKF(n == (long)len, "proto_recv(%s) = %ld, want %u", proto_test_types[i].name, n, len);
            CHECKF(type == proto_test_types[i].type, "type %u, want %s", type, proto_test_types[i].name);
            CHECKF(memcmp(in, out, len) == 0, "%s payload differs after the round trip",
                   proto_test_types[i].name);
            CHECKF(len == sizeof in || in[len] == 0xee, "%s: recv wrote past the payload",
                   proto_test_types[i].name);
        }
    }
    /* the struct fields survive as such */
    struct msg_barrier b = { .barrier = BARRIER_REFILLED, .generation = 0x0123456789abcdefull }, rb;
    uint16_t type;
    CHECK(proto_send(sv[0], MSG_BARRIER_RELEASE, &b, sizeof b) == 0);
    CHECK(proto_recv(sv[1], &type, &rb, sizeof rb) == sizeof rb);
    CHECK(type == MSG_BARRIER_RELEASE && rb.barrier == BARRIER_REFILLED &&
          rb.generation == 0x0123456789abcdefull);
    close(sv[0]);
    close(sv[1]);
}

/* A reply near the 1 MiB limit needs many partial reads and writes. */
static void test_roundtrip_large(void)
{
    int sv[2];
    if (!CHECK(pair(sv) == 0))
        return;
    uint32_t npeers = (PROTO_MAX_PAYLOAD - REPLY_BASE) / PEER;
    uint32_t len = len_for(-1, npeers);
    unsigned char *out = malloc(len), *in = malloc(len);
    if (!CHECK(out && in))
        return;
    fill_pattern(out, len, 42);
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[1]);
        _exit(proto_send(sv[0], MSG_COMMAND_REPLY, out, len) == 0 ? 0 : 1);
    }
    close(sv[0]);
    uint16_t type = 0;
    long n = proto_recv(sv[1], &type, in, len);
    CHECKF(n == (long)len, "proto_recv = %ld, want %u", n, len);
    CHECK(type == MSG_COMMAND_REPLY);
    CHECK(memcmp(in, out, len) == 0);
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* and a payload over the limit is not sent at all */
    CHECK(proto_send(sv[1], MSG_COMMAND_REPLY, out, PROTO_MAX_PAYLOAD + 1) == -EMSGSIZE);
    close(sv[1]);
    free(out);
    free(in);
}

/* A non-blocking fd (as in the coordinator) waits for the rest. */
static void test_recv_nonblocking_waits(void)
{
    int sv[2];
    if (!CHECK(pair(sv) == 0))
        return;
    CHECK(fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        struct msg_welcome w = { .worker_id = 7, .comp_id = 99 };
        struct proto_hdr h = hdr_of(MSG_WELCOME, sizeof w);
        close(sv[1]);
        usleep(50000);
        if (write(sv[0], &h, 5) != 5)
            _exit(1);
        usleep(50000);
        if (write(sv[0], (char *)&h + 5, sizeof h - 5) != (ssize_t)(sizeof h - 5))
            _exit(1);
        usleep(50000);
        _exit(write(sv[0], &w, sizeof w) == sizeof w ? 0 : 1);
    }
    close(sv[0]);
    struct msg_welcome w;
    uint16_t type = 0;
    long n = proto_recv(sv[1], &type, &w, sizeof w);
    CHECKF(n == sizeof w, "proto_recv = %ld", n);
    CHECK(type == MSG_WELCOME && w.worker_id == 7 && w.comp_id == 99);
    int st;
    waitpid(pid, &st, 0);
    close(sv[1]);
}

static void test_recv_timeout(void)
{
    int sv[2];
    if (!CHECK(pair(sv) == 0))
        return;
    struct timeval tv = { .tv_usec = 100000 };
    CHECK(setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
    char buf[64];
    uint16_t type;
    long n = proto_recv(sv[1], &type, buf, sizeof buf);
    CHECKF(n == -ETIMEDOUT, "proto_recv on a silent peer with SO_RCVTIMEO = %ld, want -ETIMEDOUT", n);
    close(sv[0]);
    close(sv[1]);
}

/* Writes `n` raw bytes on one end, closes it, and receives on the other. */
static long recv_after_close(const void *bytes, size_t n)
{
    int sv[2];
    if (pair(sv) < 0)
        return -9999;
    if (n && write(sv[0], bytes, n) != (ssize_t)n)
        return -9998;
    close(sv[0]);
    unsigned char buf[4096];
    uint16_t type;
    long r = proto_recv(sv[1], &type, buf, sizeof buf);
    close(sv[1]);
    return r;
}

static void test_recv_eof(void)
{
    long r = recv_after_close(NULL, 0);
    CHECKF(r == -ECONNRESET, "EOF before a header: %ld, want -ECONNRESET", r);

    struct proto_hdr h = hdr_of(MSG_HELLO, sizeof(struct msg_hello));
    r = recv_after_close(&h, 7);
    CHECKF(r < 0, "EOF inside the header: %ld", r);

    unsigned char msg[sizeof h + sizeof(struct msg_hello)];
    memcpy(msg, &h, sizeof h);
    memset(msg + sizeof h, 'x', sizeof(struct msg_hello));
    r = recv_after_close(msg, sizeof h);
    CHECKF(r < 0, "EOF right after the header: %ld", r);
    r = recv_after_close(msg, sizeof msg - 1);
    CHECKF(r < 0, "EOF one byte short of the payload: %ld", r);
    r = recv_after_close(msg, sizeof msg);
    CHECKF(r == sizeof(struct msg_hello), "whole message then EOF: %ld", r);

    /* an oversized message cut short while being discarded */
    struct proto_hdr big = hdr_of(MSG_COMMAND_REPLY, REPLY_BASE + 30 * PEER);
    unsigned char part[sizeof big + 2000];
    memcpy(part, &big, sizeof big);
    memset(part + sizeof big, 0, 2000);
    int sv[2];
    if (CHECK(pair(sv) == 0)) {
        CHECK(write(sv[0], part, sizeof part) == sizeof part);
        close(sv[0]);
        unsigned char small[REPLY_BASE];
        uint16_t type;
        r = proto_recv(sv[1], &type, small, sizeof small);
        CHECKF(r < 0 && r != -EMSGSIZE, "EOF while discarding an oversized message: %ld", r);
        close(sv[1]);
    }
}

static void test_recv_oversized_then_next(void)
{
    int sv[2];
    if (!CHECK(pair(sv) == 0))
        return;
    static unsigned char reply[REPLY_BASE + 3 * PEER];
    fill_pattern(reply, sizeof reply, 3);
    struct msg_welcome w = { .worker_id = 12, .interval = 5, .comp_id = 77, .generation = 3 };
    CHECK(proto_send(sv[0], MSG_COMMAND_REPLY, reply, sizeof reply) == 0);
    CHECK(proto_send(sv[0], MSG_WELCOME, &w, sizeof w) == 0);

    struct msg_command_reply small;
    uint16_t type = 0;
    long r = proto_recv(sv[1], &type, &small, sizeof small);
    CHECKF(r == -EMSGSIZE, "reply with 3 peers into a %zu-byte buffer: %ld, want -EMSGSIZE", sizeof small, r);
    CHECK(type == MSG_COMMAND_REPLY);

    struct msg_welcome rw;
    r = proto_recv(sv[1], &type, &rw, sizeof rw);
    CHECKF(r == sizeof rw, "message after the oversized one: %ld", r);
    CHECK(type == MSG_WELCOME && memcmp(&rw, &w, sizeof w) == 0);
    close(sv[0]);
    close(sv[1]);
}

static void test_recv_malformed(void)
{
    int sv[2];
    if (!CHECK(pair(sv) == 0))
        return;
    unsigned char buf[4096];
    uint16_t type;
    /* a WELCOME one byte short, sent through the normal path */
    memset(buf, 1, sizeof buf);
    CHECK(proto_send(sv[0], MSG_WELCOME, buf, sizeof(struct msg_welcome) - 1) == 0);
    long r = proto_recv(sv[1], &type, buf, sizeof buf);
    CHECKF(r == -EPROTO, "WELCOME with %zu bytes: %ld, want -EPROTO", sizeof(struct msg_welcome) - 1, r);
    close(sv[0]);
    close(sv[1]);

    /* KILL carrying a payload */
    if (!CHECK(pair(sv) == 0))
        return;
    CHECK(proto_send(sv[0], MSG_KILL, buf, 8) == 0);
    r = proto_recv(sv[1], &type, buf, sizeof buf);
    CHECKF(r == -EPROTO, "KILL with 8 bytes: %ld, want -EPROTO", r);
    close(sv[0]);
    close(sv[1]);

    /* bad magic, bad version, unknown type, length over the limit */
    struct proto_hdr bad[4];
    for (int i = 0; i < 4; i++)
        bad[i] = hdr_of(MSG_COMMAND, sizeof(struct msg_command));
    bad[0].magic = 0x47455420u; /* "GET " — someone speaking HTTP */
    bad[1].version = PROTO_VERSION + 1;
    bad[2].type = 0x777;
    bad[3].type = MSG_COMMAND_REPLY;
    bad[3].len = PROTO_MAX_PAYLOAD + PEER;
    for (int i = 0; i < 4; i++) {
        if (!CHECK(pair(sv) == 0))
            return;
        CHECK(write(sv[0], &bad[i], sizeof bad[i]) == sizeof bad[i]);
        r = proto_recv(sv[1], &type, buf, sizeof buf);
        CHECKF(r == -EPROTO, "malformed header %d: %ld, want -EPROTO", i, r);
        close(sv[0]);
        close(sv[1]);
    }
}

int main(void)
{
    unit_run("proto/wire-layout", test_wire_layout);
    unit_run("proto/payload-size", test_payload_size);
    unit_run("proto/check-hdr-good", test_check_hdr_good);
    unit_run("proto/check-hdr-bad-magic", test_check_hdr_bad_magic);
    unit_run("proto/check-hdr-bad-version", test_check_hdr_bad_version);
    unit_run("proto/check-hdr-oversize", test_check_hdr_oversize);
    unit_run("proto/check-hdr-wrong-length", test_check_hdr_wrong_length);
    unit_run("proto/check-hdr-unknown-type", test_check_hdr_unknown_type);
    unit_run("proto/roundtrip-every-type", test_roundtrip_every_type);
    unit_run("proto/roundtrip-1mib", test_roundtrip_large);
    unit_run("proto/recv-nonblocking-waits", test_recv_nonblocking_waits);
    unit_run("proto/recv-timeout", test_recv_timeout);
    unit_run("proto/recv-eof", test_recv_eof);
    unit_run("proto/recv-oversized-then-next", test_recv_oversized_then_next);
    unit_run("proto/recv-malformed", test_recv_malformed);
    return unit_exit();
}
