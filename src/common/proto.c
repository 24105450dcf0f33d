/*
 * proto.c — framing, validation and connection set-up of the coordinator
 * wire protocol (proto.h is the contract, docs/protocol.md the prose; the
 * handshake is auth.c, the secret's file secret.c).
 *
 * proto_send/proto_recv/proto_check_hdr/proto_payload_size run in the
 * engine's manager thread during a checkpoint: they use no malloc, no stdio
 * and no global state, retry on EINTR and finish short reads and writes.
 * The connect helper may allocate (getaddrinfo) and is meant for start-up
 * paths only.
 */
#include "common/proto.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* ---- message sizes and header checks ------------------------------------ */

long proto_payload_size(uint16_t type)
{
    switch (type) {
    case MSG_HELLO: return sizeof(struct msg_hello);
    case MSG_WELCOME: return sizeof(struct msg_welcome);
    case MSG_REJECT: return sizeof(struct msg_reject);
    case MSG_COMMAND: return sizeof(struct msg_command);
    case MSG_COMMAND_REPLY: return -1;
    case MSG_CKPT_REQUEST: return 0;
    case MSG_DO_CKPT: return sizeof(struct msg_do_ckpt);
    case MSG_BARRIER: return sizeof(struct msg_barrier);
    case MSG_BARRIER_RELEASE: return sizeof(struct msg_barrier);
    case MSG_CKPT_DONE: return sizeof(struct msg_ckpt_done);
    case MSG_KILL: return 0;
    case MSG_PLUGIN_BARRIER: return sizeof(struct msg_plugin_barrier);
    case MSG_PLUGIN_BARRIER_RELEASE: return sizeof(struct msg_plugin_barrier);
    case MSG_WORKER_STATUS: return sizeof(struct msg_worker_status);
    case MSG_CHALLENGE: return sizeof(struct msg_challenge);
    case MSG_AUTH: return sizeof(struct msg_auth);
    case MSG_RESTART_IMAGE: return sizeof(struct msg_restart_image);
    case MSG_RESTART_FAILED: return sizeof(struct msg_restart_failed);
    case MSG_RESTART_BACK: return sizeof(struct msg_restart_back);
    case MSG_WORKER_EXEC: return sizeof(struct msg_worker_exec);
    case MSG_KV: return sizeof(struct msg_kv);
    default: return -2;
    }
}

/* COMMAND_REPLY is the fixed reply followed by whole peer records. */
static int proto_reply_len_ok(uint32_t len)
{
    if (len < sizeof(struct msg_command_reply))
        return 0;
    return (len - sizeof(struct msg_command_reply)) % sizeof(struct proto_peer) == 0;
}

int proto_check_hdr(const struct proto_hdr *h)
{
    if (h->magic != PROTO_MAGIC || h->version != PROTO_VERSION)
        return -EPROTO;
    if (h->len > PROTO_MAX_PAYLOAD)
        return -EPROTO;
    long want = proto_payload_size(h->type);
    if (want == -2)
        return -EPROTO;
    if (want == -1)
        return proto_reply_len_ok(h->len) ? 0 : -EPROTO;
    return (long)h->len == want ? 0 : -EPROTO;
}

/* ---- blocking I/O (signal-free manager thread safe) --------------------- */

/* Wait until fd is ready for `events`; used when the fd is non-blocking. */
static int proto_wait_fd(int fd, short events)
{
    struct pollfd p = { .fd = fd, .events = events };
    for (;;) {
        int r = poll(&p, 1, -1);
        if (r >= 0)
            return 0;
        if (errno != EINTR)
            return -errno;
    }
}

/* EAGAIN on a blocking socket means SO_RCVTIMEO/SO_SNDTIMEO expired. */
static int proto_is_nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl >= 0 && (fl & O_NONBLOCK);
}

static int proto_writev_all(int fd, struct iovec *iov, int iovcnt)
{
    while (iovcnt > 0) {
        struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)iovcnt };
        ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK)
            n = writev(fd, iov, iovcnt);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (!proto_is_nonblocking(fd))
                    return -ETIMEDOUT;
                int r = proto_wait_fd(fd, POLLOUT);
                if (r < 0)
                    return r;
                continue;
            }
            return -errno;
        }
        size_t done = (size_t)n;
        while (iovcnt > 0 && done >= iov->iov_len) {
            done -= iov->iov_len;
            iov++;
            iovcnt--;
        }
        if (iovcnt > 0) {
            iov->iov_base = (char *)iov->iov_base + done;
            iov->iov_len -= done;
        }
    }
    return 0;
}

int proto_send(int fd, uint16_t type, const void *payload, uint32_t len)
{
    if (len > PROTO_MAX_PAYLOAD)
        return -EMSGSIZE;
    struct proto_hdr h = {
        .magic = PROTO_MAGIC, .version = PROTO_VERSION, .type = type, .len = len,
    };
    struct iovec iov[2] = {
        { .iov_base = &h, .iov_len = sizeof(h) },
        { .iov_base = (void *)payload, .iov_len = len },
    };
    return proto_writev_all(fd, iov, len ? 2 : 1);
}

/* Read exactly n bytes; -ECONNRESET on EOF, -ETIMEDOUT on receive timeout. */
static int proto_read_all(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r == 0)
            return -ECONNRESET;
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (!proto_is_nonblocking(fd))
                    return -ETIMEDOUT;
                int e = proto_wait_fd(fd, POLLIN);
                if (e < 0)
                    return e;
                continue;
            }
            return -errno;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Read and throw away n bytes so the stream stays framed. */
static int proto_discard(int fd, uint32_t n)
{
    char sink[512];
    while (n > 0) {
        uint32_t k = n < sizeof(sink) ? n : (uint32_t)sizeof(sink);
        int r = proto_read_all(fd, sink, k);
        if (r < 0)
            return r;
        n -= k;
    }
    return 0;
}

/* A payload larger than cap is read and discarded, and -EMSGSIZE returned:
 * the connection stays usable. */
long proto_recv(int fd, uint16_t *type, void *buf, uint32_t cap)
{
    struct proto_hdr h;
    int r = proto_read_all(fd, &h, sizeof(h));
    if (r < 0)
        return r;
    if (proto_check_hdr(&h) < 0)
        return -EPROTO;
    *type = h.type;
    if (h.len > cap) {
        r = proto_discard(fd, h.len);
        return r < 0 ? r : -EMSGSIZE;
    }
    r = proto_read_all(fd, buf, h.len);
    if (r < 0)
        return r;
    return (long)h.len;
}

/* ---- connecting --------------------------------------------------------- */

static long proto_ms_left(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (deadline->tv_sec - now.tv_sec) * 1000 +
              (deadline->tv_nsec - now.tv_nsec) / 1000000;
    return ms < 0 ? 0 : ms;
}

/* Non-blocking connect bounded by the deadline; returns a blocking fd. */
static int proto_connect_addr(const struct addrinfo *ai, const struct timespec *deadline)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    ai->ai_protocol);
    if (fd < 0)
        return -errno;
    int r = 0;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        if (errno != EINPROGRESS) {
            r = -errno;
        } else {
            struct pollfd p = { .fd = fd, .events = POLLOUT };
            int n;
            do {
                n = poll(&p, 1, (int)proto_ms_left(deadline));
            } while (n < 0 && errno == EINTR);
            if (n < 0) {
                r = -errno;
            } else if (n == 0) {
                r = -ETIMEDOUT;
            } else {
                int err = 0;
                socklen_t len = sizeof(err);
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
                r = -err;
            }
        }
    }
    if (r < 0) {
        close(fd);
        return r;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

/* Returns the fd, or -ENXIO when the host name does not resolve. */
int proto_connect(const char *host, int port, int timeout_ms)
{
    if (!host || !host[0] || strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    if (port <= 0 || port > 65535)
        return -EINVAL;
    char service[16];
    snprintf(service, sizeof(service), "%d", port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_NUMERICSERV };
    struct addrinfo *res = NULL;
    if (getaddrinfo(host, service, &hints, &res) != 0 || !res)
        return -ENXIO;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    int r = -ECONNREFUSED;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        r = proto_connect_addr(ai, &deadline);
        if (r >= 0 || r == -ETIMEDOUT)
            break;
    }
    freeaddrinfo(res);
    return r;
}
