/*
 * proto.c — framing, validation, connection set-up and the shared secret of
 * the coordinator wire protocol (proto.h is the contract, docs/protocol.md
 * the prose).
 *
 * proto_send/proto_recv/proto_check_hdr/proto_payload_size run in the
 * engine's manager thread during a checkpoint: they use no malloc, no stdio
 * and no global state, retry on EINTR and finish short reads and writes.
 * The secret and connect helpers may allocate (getaddrinfo) and are meant
 * for start-up paths only.
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
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
    case MSG_RESTART_IMAGE: return sizeof(struct msg_restart_image);
    case MSG_RESTART_FAILED: return sizeof(struct msg_restart_failed);
    case MSG_RESTART_BACK: return sizeof(struct msg_restart_back);
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

/* ---- the shared secret -------------------------------------------------- */

/* $XDG_RUNTIME_DIR/stasis when XDG_RUNTIME_DIR is our own directory, else
 * /tmp/stasis-<uid>. */
static int proto_secret_dir(char *dir, size_t cap)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    struct stat st;
    int n;
    if (xdg && xdg[0] == '/' && stat(xdg, &st) == 0 && S_ISDIR(st.st_mode) &&
        st.st_uid == getuid())
        n = snprintf(dir, cap, "%s/stasis", xdg);
    else
        n = snprintf(dir, cap, "/tmp/stasis-%u", (unsigned)getuid());
    return (n < 0 || (size_t)n >= cap) ? -ENAMETOOLONG : 0;
}

/* The directory must be a real directory, ours, and closed to others. */
static int proto_secret_dir_check(const char *dir)
{
    struct stat st;
    if (lstat(dir, &st) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077))
        return -EPERM;
    return 0;
}

int proto_secret_path(int port, char *path, size_t cap)
{
    char dir[4096];
    int r = proto_secret_dir(dir, sizeof(dir));
    if (r < 0)
        return r;
    int n = snprintf(path, cap, "%s/coord-%d.secret", dir, port);
    return (n < 0 || (size_t)n >= cap) ? -ENAMETOOLONG : 0;
}

/* Copy a token, trimming trailing whitespace; -EINVAL if empty or too long. */
static int proto_secret_copy(const char *src, size_t n, char out[72])
{
    while (n > 0 && (src[n - 1] == '\n' || src[n - 1] == '\r' || src[n - 1] == ' '))
        n--;
    if (n == 0 || n > 71)
        return -EINVAL;
    memset(out, 0, 72);
    memcpy(out, src, n);
    return 0;
}

static int proto_secret_read_file(const char *path, char out[72])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != getuid() ||
        (st.st_mode & 077)) {
        close(fd);
        return -EPERM;
    }
    char buf[128];
    int r;
    ssize_t n;
    do {
        n = read(fd, buf, sizeof(buf));
    } while (n < 0 && errno == EINTR);
    r = n < 0 ? -errno : proto_secret_copy(buf, (size_t)n, out);
    close(fd);
    return r;
}

int proto_secret_load(int port, char out[72])
{
    const char *env = getenv("STASIS_COORD_SECRET");
    if (env && env[0])
        return proto_secret_copy(env, strlen(env), out);
    char dir[4096], path[4200];
    int r = proto_secret_dir(dir, sizeof(dir));
    if (r < 0)
        return r;
    r = proto_secret_dir_check(dir);
    if (r < 0)
        return r;
    r = proto_secret_path(port, path, sizeof(path));
    if (r < 0)
        return r;
    return proto_secret_read_file(path, out);
}

static int proto_secret_mkdir(const char *dir)
{
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return -errno;
    return proto_secret_dir_check(dir);
}

static int proto_secret_random(char out[72])
{
    unsigned char raw[PROTO_SECRET_LEN / 2];
    size_t got = 0;
    while (got < sizeof(raw)) {
        ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        got += (size_t)n;
    }
    static const char hex[] = "0123456789abcdef";
    memset(out, 0, 72);
    for (size_t i = 0; i < sizeof(raw); i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    return 0;
}

/* Write the token to a private temporary file, then rename it into place. */
static int proto_secret_store(const char *path, const char tok[72])
{
    char tmp[4300];
    int n = snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return -ENAMETOOLONG;
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    char line[PROTO_SECRET_LEN + 1];
    memcpy(line, tok, PROTO_SECRET_LEN);
    line[PROTO_SECRET_LEN] = '\n';
    struct iovec iov = { .iov_base = line, .iov_len = sizeof(line) };
    int r = proto_writev_all(fd, &iov, 1);
    if (r == 0 && fchmod(fd, 0600) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && rename(tmp, path) < 0)
        r = -errno;
    if (r < 0)
        unlink(tmp);
    return r;
}

int proto_secret_create(int port, char out[72])
{
    char dir[4096], path[4200];
    int r = proto_secret_dir(dir, sizeof(dir));
    if (r < 0)
        return r;
    r = proto_secret_mkdir(dir);
    if (r < 0)
        return r;
    r = proto_secret_path(port, path, sizeof(path));
    if (r < 0)
        return r;
    r = proto_secret_random(out);
    if (r < 0)
        return r;
    return proto_secret_store(path, out);
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
