/*
 * auth.c — keys, proofs and the client's side of the handshake (auth.h).
 *
 * The MAC is libsodium's keyed BLAKE2b, linked statically and privately.
 * Nothing here calls sodium_init(): crypto_generichash and sodium_memcmp
 * need no initialisation (without it BLAKE2b runs its portable code, which
 * also keeps working in a process restarted on another CPU), and the
 * engine must not take the library's global lock inside the user's program.
 *
 * Reads and writes use poll() against one deadline and MSG_DONTWAIT, so no
 * step can block past it whatever the socket's mode.
 */
#include "common/auth.h"

#include <errno.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

/* ---- keys and proofs ---------------------------------------------------- */

void auth_key(const char token[SECRET_TOKEN_SIZE], uint8_t key[AUTH_KEY_LEN])
{
    crypto_generichash(key, AUTH_KEY_LEN, (const unsigned char *)token,
                       strnlen(token, SECRET_TOKEN_SIZE), NULL, 0);
}

void auth_proof(const uint8_t key[AUTH_KEY_LEN], const char *label, int port,
                const uint8_t cnonce[PROTO_NONCE_LEN], const uint8_t snonce[PROTO_NONCE_LEN],
                uint8_t out[PROTO_PROOF_LEN])
{
    uint8_t msg[64 + 2 + 2 * PROTO_NONCE_LEN];
    size_t n = strnlen(label, 64);
    memcpy(msg, label, n);
    msg[n++] = (uint8_t)(port & 0xff);
    msg[n++] = (uint8_t)((port >> 8) & 0xff);
    memcpy(msg + n, cnonce, PROTO_NONCE_LEN);
    n += PROTO_NONCE_LEN;
    memcpy(msg + n, snonce, PROTO_NONCE_LEN);
    n += PROTO_NONCE_LEN;
    crypto_generichash(out, PROTO_PROOF_LEN, msg, n, key, AUTH_KEY_LEN);
}

int auth_proof_equal(const uint8_t a[PROTO_PROOF_LEN], const uint8_t b[PROTO_PROOF_LEN])
{
    return sodium_memcmp(a, b, PROTO_PROOF_LEN) == 0;
}

int auth_nonce(uint8_t out[PROTO_NONCE_LEN])
{
    size_t got = 0;
    while (got < PROTO_NONCE_LEN) {
        ssize_t n = getrandom(out + got, PROTO_NONCE_LEN - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        got += (size_t)n;
    }
    return 0;
}

void auth_wipe(void *p, size_t n)
{
    sodium_memzero(p, n);
}

/* ---- bounded I/O -------------------------------------------------------- */

static long auth_ms_left(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
    return ms < 0 ? 0 : ms;
}

/* Wait for events on fd until the deadline: 0, or -ETIMEDOUT / -errno. */
static int auth_wait(int fd, short events, const struct timespec *deadline)
{
    for (;;) {
        struct pollfd p = { .fd = fd, .events = events };
        int n = poll(&p, 1, (int)auth_ms_left(deadline));
        if (n > 0)
            return 0;
        if (n == 0)
            return -ETIMEDOUT;
        if (errno != EINTR)
            return -errno;
    }
}

static int auth_write_all(int fd, const void *buf, size_t n, const struct timespec *deadline)
{
    const char *p = buf;
    while (n > 0) {
        int r = auth_wait(fd, POLLOUT, deadline);
        if (r < 0)
            return r;
        ssize_t k = send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            return -errno;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int auth_read_all(int fd, void *buf, size_t n, const struct timespec *deadline)
{
    char *p = buf;
    while (n > 0) {
        int r = auth_wait(fd, POLLIN, deadline);
        if (r < 0)
            return r;
        ssize_t k = recv(fd, p, n, MSG_DONTWAIT);
        if (k == 0)
            return -ECONNRESET;
        if (k < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            return -errno;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int auth_send(int fd, uint16_t type, const void *payload, uint32_t len,
                     const struct timespec *deadline)
{
    struct {
        struct proto_hdr h;
        uint8_t payload[sizeof(struct msg_hello)];
    } m;
    if (len > sizeof m.payload)
        return -EMSGSIZE;
    m.h = (struct proto_hdr){ .magic = PROTO_MAGIC, .version = PROTO_VERSION, .type = type,
                              .len = len };
    memcpy(m.payload, payload, len);
    return auth_write_all(fd, &m, sizeof m.h + len, deadline);
}

/* The answers a client may get during the handshake. */
union auth_answer {
    struct msg_challenge challenge;
    struct msg_welcome welcome;
    struct msg_reject reject;
};

/* One message of the handshake; an enum auth_result (AUTH_OK: *type and u
 * hold it). */
static int auth_recv(struct auth_client *a, int fd, uint16_t *type, union auth_answer *u,
                     const struct timespec *deadline)
{
    struct proto_hdr h;
    int r = auth_read_all(fd, &h, sizeof h, deadline);
    if (r < 0) {
        a->err = r;
        return AUTH_IO;
    }
    if (h.magic == PROTO_MAGIC && h.version == PROTO_VERSION_1)
        return AUTH_OLD_VERSION;
    a->got_type = 0;
    if (proto_check_hdr(&h) < 0 || h.len > sizeof *u)
        return AUTH_NOT_STASIS;
    r = auth_read_all(fd, u, h.len, deadline);
    if (r < 0) {
        a->err = r;
        return AUTH_IO;
    }
    *type = h.type;
    if (h.type == MSG_REJECT) {
        a->reject = u->reject;
        a->reject.reason[sizeof a->reject.reason - 1] = 0;
        return AUTH_REJECTED;
    }
    return AUTH_OK;
}

/* ---- the client's handshake --------------------------------------------- */

/* After HELLO: the CHALLENGE, its proof checked; then our AUTH. */
static int auth_answer_challenge(int fd, struct auth_client *a, const uint8_t key[AUTH_KEY_LEN],
                                 const struct timespec *deadline)
{
    union auth_answer u;
    uint16_t type = 0;
    int r = auth_recv(a, fd, &type, &u, deadline);
    if (r != AUTH_OK)
        return r;
    if (type != MSG_CHALLENGE) {
        a->got_type = type;
        return AUTH_NOT_STASIS;
    }
    uint8_t want[PROTO_PROOF_LEN];
    auth_proof(key, AUTH_LABEL_COORD, a->port, a->hello.nonce, u.challenge.nonce, want);
    int ok = auth_proof_equal(want, u.challenge.proof);
    auth_wipe(want, sizeof want);
    if (!ok)
        return AUTH_IMPOSTOR;
    struct msg_auth m;
    auth_proof(key, AUTH_LABEL_CLIENT, a->port, a->hello.nonce, u.challenge.nonce, m.proof);
    r = auth_send(fd, MSG_AUTH, &m, sizeof m, deadline);
    auth_wipe(&m, sizeof m);
    if (r < 0) {
        a->err = r;
        return AUTH_IO;
    }
    return AUTH_OK;
}

static int auth_await_welcome(int fd, struct auth_client *a, const struct timespec *deadline)
{
    union auth_answer u;
    uint16_t type = 0;
    int r = auth_recv(a, fd, &type, &u, deadline);
    if (r != AUTH_OK)
        return r;
    if (type != MSG_WELCOME) {
        a->got_type = type;
        return AUTH_NOT_STASIS;
    }
    a->welcome = u.welcome;
    return AUTH_OK;
}

int auth_client_handshake(int fd, struct auth_client *a)
{
    a->err = 0;
    a->got_type = 0;
    if (!a->token || !a->token[0])
        return AUTH_NO_TOKEN;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += a->timeout_ms / 1000;
    deadline.tv_nsec += (long)(a->timeout_ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    int r = auth_nonce(a->hello.nonce);
    if (r < 0) {
        a->err = r;
        return AUTH_IO;
    }
    r = auth_send(fd, MSG_HELLO, &a->hello, sizeof a->hello, &deadline);
    if (r < 0) {
        a->err = r;
        return AUTH_IO;
    }
    char token[SECRET_TOKEN_SIZE] = { 0 };
    snprintf(token, sizeof token, "%s", a->token);
    uint8_t key[AUTH_KEY_LEN];
    auth_key(token, key);
    auth_wipe(token, sizeof token);
    r = auth_answer_challenge(fd, a, key, &deadline);
    auth_wipe(key, sizeof key);
    return r != AUTH_OK ? r : auth_await_welcome(fd, a, &deadline);
}

/* ---- saying what went wrong --------------------------------------------- */

#define AUTH_WHAT_TO_DO "use -p with another port (or dmtcp_launch --new-coordinator)"

static void auth_describe_io(const struct auth_client *a, const char *host, char *buf, size_t cap)
{
    if (a->err == -ETIMEDOUT)
        snprintf(buf, cap, "the program listening on %s:%d did not answer the handshake within "
                 "%d s: a stalled coordinator, or another user's program holding the port; "
                 AUTH_WHAT_TO_DO, host, a->port, a->timeout_ms / 1000);
    else if (a->err == -ECONNRESET)
        snprintf(buf, cap, "the program listening on %s:%d closed the connection during the "
                 "handshake", host, a->port);
    else
        snprintf(buf, cap, "handshake with the coordinator at %s:%d: %s", host, a->port,
                 strerror(-a->err));
}

void auth_describe(const struct auth_client *a, int result, const char *host, char *buf,
                   size_t cap)
{
    switch (result) {
    case AUTH_IO:
        auth_describe_io(a, host, buf, cap);
        break;
    case AUTH_NO_TOKEN:
        snprintf(buf, cap, "a program listens on %s:%d, but this user holds no coordinator secret "
                 "for that port, so it is no coordinator of this user's here (another user's "
                 "program may be holding the port); " AUTH_WHAT_TO_DO ", or, for your "
                 "coordinator on another host, set STASIS_COORD_SECRET to its secret",
                 host, a->port);
        break;
    case AUTH_IMPOSTOR:
        snprintf(buf, cap, "the program listening on %s:%d does not know this user's coordinator "
                 "secret: another user's program may be holding the port, or the secret used is "
                 "not that coordinator's; " AUTH_WHAT_TO_DO ", or check STASIS_COORD_SECRET",
                 host, a->port);
        break;
    case AUTH_OLD_VERSION:
        snprintf(buf, cap, "the coordinator at %s:%d speaks protocol version 1 (an older Stasis), "
                 "this one version %d: stop it with that version's dmtcp_command -q, or "
                 AUTH_WHAT_TO_DO, host, a->port, PROTO_VERSION);
        break;
    case AUTH_NOT_STASIS:
        snprintf(buf, cap, "the program listening on %s:%d answered the handshake with %s (type "
                 "%u): it is no Stasis coordinator of this version, or another user's program "
                 "holds the port; " AUTH_WHAT_TO_DO, host, a->port,
                 a->got_type ? "an unexpected message" : "a malformed message", a->got_type);
        break;
    case AUTH_REJECTED:
        snprintf(buf, cap, "the coordinator at %s:%d refused us: %s", host, a->port,
                 a->reject.reason);
        break;
    default:
        snprintf(buf, cap, "handshake with %s:%d: result %d", host, a->port, result);
    }
}
