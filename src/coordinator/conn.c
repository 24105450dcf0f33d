/*
 * conn.c — the coordinator's sockets: listening, accepting, per-connection
 * input buffers and bounded output queues, framing and validation of
 * incoming messages, and the poll() loop that drives everything.
 *
 * A connection that misbehaves (bad header, wrong length, unexpected type,
 * not authenticated in time, output queue over COORD_OUTQ_MAX) is dropped
 * alone:
 * conn_drop() marks it dead and conn_reap() frees it after the event that
 * caused it, so handlers may drop connections while iterating.
 */
#include "coordinator/coord.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- listening ---------------------------------------------------------- */

static int conn_parse_bind(const char *addr, int port, struct sockaddr_storage *ss,
                           socklen_t *len)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (strcmp(addr, "localhost") == 0)
        addr = "127.0.0.1";
    if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        *len = sizeof(*in4);
        return 0;
    }
    if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*in6);
        return 0;
    }
    return -1;
}

static int conn_bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

int conn_listen(struct coord *c)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (conn_parse_bind(c->opt.bind_addr, c->opt.port, &ss, &len) < 0) {
        fprintf(stderr, "dmtcp_coordinator: --bind '%s' is not a numeric IPv4/IPv6 address\n",
                c->opt.bind_addr);
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(stderr, "dmtcp_coordinator: socket: %s\n", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 128) < 0) {
        int e = errno;
        fprintf(stderr, "dmtcp_coordinator: cannot listen on %s:%d: %s%s\n", c->opt.bind_addr,
                c->opt.port, strerror(e),
                e == EADDRINUSE ? " (another coordinator? use -p to pick another port, "
                                  "or -p 0 for any free one)" : "");
        close(fd);
        return -1;
    }
    c->listen_fd = fd;
    c->port = conn_bound_port(fd);
    return 0;
}

/* ---- connection objects ------------------------------------------------- */

static void conn_peer_name(int fd, char *buf, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET) {
            inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof(host));
            port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof(host));
            port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        }
    }
    snprintf(buf, cap, "%s:%d", host, port);
}

const char *conn_describe(const struct coord_conn *k, char *buf, size_t cap)
{
    if (k->role == ROLE_WORKER)
        snprintf(buf, cap, "process %d (%s@%s)", k->hello.vpid, k->hello.name, k->hello.host);
    else if (k->role == ROLE_COMMAND)
        snprintf(buf, cap, "client %s (%s pid %d)", k->peer_addr, k->hello.name,
                 k->hello.real_pid);
    else
        snprintf(buf, cap, "connection %u from %s", k->id, k->peer_addr);
    return buf;
}

static void conn_accept_one(struct coord *c, int fd)
{
    if (c->nconns >= COORD_MAX_CONNS) {
        coord_log("refusing a connection: already %d open", c->nconns);
        close(fd);
        return;
    }
    struct coord_conn *k = calloc(1, sizeof(*k));
    struct coord_conn **v = realloc(c->conns, sizeof(*v) * (size_t)(c->nconns + 1));
    if (!k || !v) {
        coord_log("out of memory accepting a connection");
        free(k);
        if (v)
            c->conns = v;
        close(fd);
        return;
    }
    c->conns = v;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    k->fd = fd;
    k->pidfd = -1;
    k->id = ++c->next_id;
    k->accepted_ms = coord_now_ms();
    conn_peer_name(fd, k->peer_addr, sizeof(k->peer_addr));
    c->conns[c->nconns++] = k;
}

static void conn_accept(struct coord *c)
{
    for (;;) {
        int fd = accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                errno != ECONNABORTED)
                coord_log("accept on port %d: %s", c->port, strerror(errno));
            return;
        }
        conn_accept_one(c, fd);
    }
}

void conn_drop(struct coord *c, struct coord_conn *k, const char *why)
{
    (void)c;
    if (k->dead)
        return;
    char who[256];
    if (why)
        coord_log("closing %s: %s", conn_describe(k, who, sizeof(who)), why);
    k->dead = 1;
}

static void conn_free(struct coord_conn *k)
{
    close(k->fd);
    if (k->pidfd >= 0)
        close(k->pidfd);
    free(k->in);
    free(k->out);
    free(k);
}

/* Free dead connections.  Workers leave the protocols first, while every
 * connection is still in the array (marked dead, so loops skip it); leaving
 * may drop further connections, hence the repeat. */
static void conn_reap(struct coord *c)
{
    for (int again = 1; again;) {
        again = 0;
        for (int i = 0; i < c->nconns; i++) {
            struct coord_conn *k = c->conns[i];
            if (k->dead && !k->reaped) {
                k->reaped = 1;
                again = 1;
                if (k->role == ROLE_WORKER)
                    worker_gone(c, k);
                else if (k->restart_image)
                    restart_image_gone(c, k);
            }
        }
    }
    int j = 0;
    for (int i = 0; i < c->nconns; i++) {
        if (c->conns[i]->dead)
            conn_free(c->conns[i]);
        else
            c->conns[j++] = c->conns[i];
    }
    c->nconns = j;
    if (c->nconns == 0 && c->idle_since_ms == 0)
        c->idle_since_ms = coord_now_ms();
}

int conn_count_workers(const struct coord *c)
{
    int n = 0;
    for (int i = 0; i < c->nconns; i++)
        if (!c->conns[i]->dead && c->conns[i]->role == ROLE_WORKER)
            n++;
    return n;
}

/* ---- output ------------------------------------------------------------- */

static void conn_flush(struct coord *c, struct coord_conn *k)
{
    while (!k->dead && k->out_off < k->out_len) {
        ssize_t n = send(k->fd, k->out + k->out_off, k->out_len - k->out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                conn_drop(c, k, strerror(errno));
            return;
        }
        k->out_off += (size_t)n;
    }
    if (k->out_off == k->out_len) {
        k->out_off = k->out_len = 0;
        if (k->close_after_flush)
            conn_drop(c, k, NULL);
    }
}

static int conn_reserve_out(struct coord_conn *k, size_t add)
{
    if (k->out_off > 0 && k->out_off == k->out_len)
        k->out_off = k->out_len = 0;
    if (k->out_len + add <= k->out_cap)
        return 0;
    if (k->out_off > 0) {
        memmove(k->out, k->out + k->out_off, k->out_len - k->out_off);
        k->out_len -= k->out_off;
        k->out_off = 0;
        if (k->out_len + add <= k->out_cap)
            return 0;
    }
    size_t cap = k->out_cap ? k->out_cap : 4096;
    while (cap < k->out_len + add)
        cap *= 2;
    unsigned char *p = realloc(k->out, cap);
    if (!p)
        return -1;
    k->out = p;
    k->out_cap = cap;
    return 0;
}

static void conn_send_version(struct coord *c, struct coord_conn *k, uint16_t version,
                              uint16_t type, const void *p, uint32_t len)
{
    if (k->dead)
        return;
    struct proto_hdr h = {
        .magic = PROTO_MAGIC, .version = version, .type = type, .len = len,
    };
    if (k->out_len - k->out_off + sizeof(h) + len > COORD_OUTQ_MAX) {
        conn_drop(c, k, "it does not read its messages (output queue full)");
        return;
    }
    if (conn_reserve_out(k, sizeof(h) + len) < 0) {
        conn_drop(c, k, "out of memory for its output queue");
        return;
    }
    memcpy(k->out + k->out_len, &h, sizeof(h));
    if (len)
        memcpy(k->out + k->out_len + sizeof(h), p, len);
    k->out_len += sizeof(h) + len;
    conn_flush(c, k);
}

void conn_send(struct coord *c, struct coord_conn *k, uint16_t type, const void *p, uint32_t len)
{
    conn_send_version(c, k, PROTO_VERSION, type, p, len);
}

/* Refuse a client with a reason, then close once the REJECT is written.
 * The REJECT is framed in the client's version when that is version 1, so
 * an old client can read why (struct msg_reject is the same in both). */
static void conn_reject_version(struct coord *c, struct coord_conn *k, uint16_t version,
                                uint32_t code, const char *why)
{
    struct msg_reject rj = { .code = code };
    snprintf(rj.reason, sizeof(rj.reason), "%s", why);
    conn_send_version(c, k, version, MSG_REJECT, &rj, sizeof(rj));
    char who[256];
    coord_log("rejected %s: %s", conn_describe(k, who, sizeof(who)), why);
    k->close_after_flush = 1;
    conn_flush(c, k);
}

void conn_reject(struct coord *c, struct coord_conn *k, uint32_t code, const char *why)
{
    conn_reject_version(c, k, PROTO_VERSION, code, why);
}

/* ---- input -------------------------------------------------------------- */

static int conn_type_allowed(const struct coord_conn *k, uint16_t type)
{
    uint32_t role = k->role;
    if (role == 0)
        return type == (k->challenged ? MSG_AUTH : MSG_HELLO);
    if (role == ROLE_COMMAND)
        return type == MSG_COMMAND || type == MSG_RESTART_IMAGE || type == MSG_RESTART_FAILED ||
               type == MSG_RESTART_BACK;
    return type == MSG_CKPT_REQUEST || type == MSG_BARRIER || type == MSG_CKPT_DONE ||
           type == MSG_WORKER_STATUS || type == MSG_PLUGIN_BARRIER || type == MSG_WORKER_EXEC ||
           type == MSG_KV;
}

static void conn_dispatch(struct coord *c, struct coord_conn *k, uint16_t type, const void *p)
{
    char why[128];
    if (!conn_type_allowed(k, type)) {
        snprintf(why, sizeof(why), "unexpected message type %u %s", type,
                 k->role ? "after the handshake" : k->challenged ? "instead of AUTH"
                                                               : "before HELLO");
        conn_reject(c, k, REJECT_BAD_MESSAGE, why);
        return;
    }
    if (type == MSG_HELLO)
        worker_hello(c, k, p);
    else if (type == MSG_AUTH)
        worker_auth(c, k, p);
    else if (type == MSG_COMMAND)
        command_handle(c, k, p);
    else if (k->role == ROLE_COMMAND)
        restart_image_message(c, k, type, p);
    else
        worker_message(c, k, type, p);
}

static void conn_bad_header(struct coord *c, struct coord_conn *k, const struct proto_hdr *h)
{
    char why[sizeof(((struct msg_reject *)0)->reason)];
    if (h->magic != PROTO_MAGIC) {
        conn_drop(c, k, "not a Stasis protocol message (bad magic)");
        return;
    }
    if (h->version == PROTO_VERSION_1) {
        snprintf(why, sizeof(why), "protocol version 1 is not supported: this coordinator (a "
                 "newer Stasis) speaks version %d; use the dmtcp_* commands and library of the "
                 "same Stasis as the coordinator", PROTO_VERSION);
        conn_reject_version(c, k, PROTO_VERSION_1, REJECT_BAD_VERSION, why);
        return;
    }
    if (h->version != PROTO_VERSION) {
        snprintf(why, sizeof(why), "protocol version %u is not supported (this coordinator "
                 "speaks version %d)", h->version, PROTO_VERSION);
        conn_reject(c, k, REJECT_BAD_VERSION, why);
        return;
    }
    snprintf(why, sizeof(why), "malformed message (type %u, %u payload bytes)", h->type, h->len);
    conn_reject(c, k, REJECT_BAD_MESSAGE, why);
}

/* Handle every whole message in the input buffer. */
static void conn_parse(struct coord *c, struct coord_conn *k)
{
    size_t off = 0;
    while (!k->dead && !k->close_after_flush && k->in_len - off >= sizeof(struct proto_hdr)) {
        struct proto_hdr h;
        memcpy(&h, k->in + off, sizeof(h));
        if (proto_check_hdr(&h) < 0) {
            conn_bad_header(c, k, &h);
            return;
        }
        if (k->in_len - off < sizeof(h) + h.len)
            break;
        /* Copy out so handlers see an aligned payload. */
        union {
            struct msg_hello hello;
            struct msg_auth auth;
            struct msg_command cmd;
            struct msg_barrier bar;
            struct msg_ckpt_done done;
            struct msg_worker_status ws;
            struct msg_restart_image ri;
            struct msg_restart_failed rf;
            struct msg_restart_back rb;
            struct msg_worker_exec we;
            struct msg_kv kv;
            unsigned char raw[sizeof(struct msg_ckpt_done)];
        } u;
        memset(&u, 0, sizeof(u));
        if (h.len <= sizeof(u))
            memcpy(&u, k->in + off + sizeof(h), h.len);
        off += sizeof(h) + h.len;
        if (h.len > sizeof(u)) {
            conn_reject(c, k, REJECT_BAD_MESSAGE, "unexpected message from a client");
            return;
        }
        conn_dispatch(c, k, h.type, &u);
    }
    if (off > 0) {
        memmove(k->in, k->in + off, k->in_len - off);
        k->in_len -= off;
    }
}

static int conn_reserve_in(struct coord_conn *k, size_t want)
{
    if (k->in_cap >= want)
        return 0;
    size_t cap = k->in_cap ? k->in_cap : 4096;
    while (cap < want)
        cap *= 2;
    unsigned char *p = realloc(k->in, cap);
    if (!p)
        return -1;
    k->in = p;
    k->in_cap = cap;
    return 0;
}

static void conn_read(struct coord *c, struct coord_conn *k)
{
    /* Never buffer more than one maximal message; conn_parse rejects larger
     * headers before their payload arrives. */
    size_t limit = sizeof(struct proto_hdr) + PROTO_MAX_PAYLOAD;
    for (int rounds = 0; rounds < 16 && !k->dead; rounds++) {
        if (k->in_len >= limit) {
            conn_parse(c, k);
            if (k->in_len >= limit) {
                conn_drop(c, k, "input buffer overflow");
                return;
            }
        }
        if (conn_reserve_in(k, k->in_len + 65536 < limit ? k->in_len + 65536 : limit) < 0) {
            conn_drop(c, k, "out of memory for its input");
            return;
        }
        ssize_t n = recv(k->fd, k->in + k->in_len, k->in_cap - k->in_len, 0);
        if (n == 0) {
            /* a client that leaves after our CHALLENGE found our proof wrong:
             * its secret is not ours */
            conn_drop(c, k, k->role == 0 && k->challenged
                                ? "it left during the handshake (it does not hold this "
                                  "coordinator's secret?)"
                                : NULL);
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                conn_drop(c, k, strerror(errno));
            return;
        }
        k->in_len += (size_t)n;
        conn_parse(c, k);
        if (k->close_after_flush)
            return;
    }
}

/* ---- timers and the loop ------------------------------------------------ */

/* A client that does not finish the handshake in time is dropped, so a
 * peer that stops talking holds nothing but its own connection. */
static void conn_check_auth_timeouts(struct coord *c, int64_t now)
{
    char why[128];
    for (int i = 0; i < c->nconns; i++) {
        struct coord_conn *k = c->conns[i];
        if (!k->dead && k->role == 0 && now - k->accepted_ms > COORD_AUTH_TIMEOUT_MS) {
            snprintf(why, sizeof(why), "%s within %d s", k->challenged ? "no AUTH" : "no HELLO",
                     COORD_AUTH_TIMEOUT_MS / 1000);
            conn_drop(c, k, why);
        }
    }
}

static int conn_should_exit(struct coord *c, int64_t now)
{
    if (c->quitting) {
        int pending = 0;
        for (int i = 0; i < c->nconns; i++)
            if (!c->conns[i]->dead && c->conns[i]->out_len > c->conns[i]->out_off)
                pending = 1;
        return (!pending && !kill_pending(c)) || now >= c->quit_deadline_ms;
    }
    if (c->opt.timeout > 0 && c->nconns == 0 && c->idle_since_ms &&
        now - c->idle_since_ms >= (int64_t)c->opt.timeout * 1000) {
        coord_info("no client for %d s (--timeout): exiting", c->opt.timeout);
        return 1;
    }
    return 0;
}

static int conn_poll_timeout(const struct coord *c, int64_t now)
{
    int64_t t = 1000;
    if (c->next_ckpt_ms && c->next_ckpt_ms - now < t)
        t = c->next_ckpt_ms - now;
    if (c->quitting || kill_pending(c))
        t = 50;
    return t < 0 ? 0 : (int)t;
}

static void conn_read_signal(struct coord *c)
{
    struct signalfd_siginfo si;
    ssize_t n = read(c->signal_fd, &si, sizeof(si));
    if (n != (ssize_t)sizeof(si))
        return;
    coord_info("signal %u (%s): exiting", si.ssi_signo, strsignal((int)si.ssi_signo));
    c->quitting = 1;
    c->quit_deadline_ms = coord_now_ms();
}

static void conn_handle_events(struct coord *c, struct pollfd *pfd, int n)
{
    if (pfd[0].revents & POLLIN)
        conn_read_signal(c);
    if (pfd[1].revents & POLLIN)
        conn_accept(c);
    for (int i = 2; i < n; i++) {
        struct coord_conn *k = c->conns[i - 2];
        if (k->dead || !pfd[i].revents)
            continue;
        if (pfd[i].revents & POLLOUT)
            conn_flush(c, k);
        if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
            conn_read(c, k);
    }
}

int conn_loop(struct coord *c)
{
    struct pollfd *pfd = NULL;
    int pcap = 0;
    c->idle_since_ms = coord_now_ms();
    for (;;) {
        int64_t now = coord_now_ms();
        if (conn_should_exit(c, now))
            break;
        int n = c->nconns + 2;
        if (n > pcap) {
            struct pollfd *p = realloc(pfd, sizeof(*p) * (size_t)n * 2);
            if (!p) {
                coord_log("out of memory for the poll set");
                break;
            }
            pfd = p;
            pcap = n * 2;
        }
        pfd[0] = (struct pollfd){ .fd = c->signal_fd, .events = POLLIN };
        pfd[1] = (struct pollfd){ .fd = c->listen_fd, .events = c->quitting ? 0 : POLLIN };
        for (int i = 0; i < c->nconns; i++) {
            struct coord_conn *k = c->conns[i];
            short ev = k->close_after_flush ? 0 : POLLIN;
            if (k->out_len > k->out_off)
                ev |= POLLOUT;
            pfd[i + 2] = (struct pollfd){ .fd = k->fd, .events = ev };
        }
        int r = poll(pfd, (nfds_t)n, conn_poll_timeout(c, now));
        if (r < 0 && errno != EINTR) {
            coord_log("poll: %s", strerror(errno));
            break;
        }
        if (r > 0)
            conn_handle_events(c, pfd, n);
        conn_reap(c);
        now = coord_now_ms();
        conn_check_auth_timeouts(c, now);
        kill_check(c, now);
        ckpt_timer(c);
        restart_timer(c);
        conn_reap(c);
        if (c->nconns > 0)
            c->idle_since_ms = 0;
        lifetime_check(c, now);
    }
    free(pfd);
    return 0;
}
