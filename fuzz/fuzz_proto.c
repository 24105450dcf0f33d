/*
 * fuzz_proto.c — libFuzzer harness for the coordinator protocol's readers
 * (make fuzz; fuzz/run.sh): the framing and header checks of
 * src/common/proto.c, the client's reading of a command reply
 * (src/common/coordclient.c), and the coordinator's whole input path —
 * conn.c's reader, framing and dispatch to the handlers of every message
 * type (worker.c, command.c, ckpt.c, restart.c, pbarrier.c) — all driven
 * through socketpairs: no network, no secret files.
 *
 * Input: chunks, each [1 byte: connection][2 bytes: length, little-endian]
 * [that many bytes], delivered in order to the coordinator as if the
 * connection had sent them.  Connection (byte % FUZZ_CONNS): 0 is new and
 * must say HELLO itself (its AUTH cannot match: the coordinator's nonce is
 * random, so it exercises everything before authentication); 1 and 2 are workers
 * and 3 a command client, joined before the input starts.  The whole input
 * is also read once with proto_recv, and every command reply found is
 * taken as dmtcp_command would take it.
 *
 * Kept to the generic entry points on purpose, so that new message types
 * and handshake changes need no change here beyond fuzz_join (the one place
 * that knows how a client joins): conn_read() is reached by including
 * conn.c, as is cc_take_reply() by including coordclient.c.  The
 * coordinator's log lines are formatted (their arguments are checked) but
 * not written (FUZZ_VERBOSE=1 prints them); its restart scripts go to a
 * private directory.
 */
#include "coordinator/coord.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/coordclient.c" /* cc_take_reply */
#include "coordinator/conn.c"   /* conn_accept_one, conn_read, conn_reap */

#define FUZZ_CONNS 4
#define FUZZ_SECRET "fuzz0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab"

static char fuzz_dir[256];
static int fuzz_verbose; /* FUZZ_VERBOSE=1: the log lines are printed (to check the seeds) */

/* The private directory and what the checks left in it. */
static void fuzz_cleanup(void)
{
    DIR *d = opendir(fuzz_dir);
    for (struct dirent *e; d && (e = readdir(d));)
        if (e->d_name[0] != '.')
            unlinkat(dirfd(d), e->d_name, 0);
    if (d)
        closedir(d);
    rmdir(fuzz_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(fuzz_dir, sizeof fuzz_dir, "%s/stasis-fuzz-proto.XXXXXX", base);
    if (!mkdtemp(fuzz_dir)) {
        perror("fuzz_proto: mkdtemp");
        exit(1);
    }
    atexit(fuzz_cleanup);
    signal(SIGPIPE, SIG_IGN);
    fuzz_verbose = getenv("FUZZ_VERBOSE") != NULL;
    return 0;
}

/* ---- the coordinator's log: formatted, not written (log.c's interface) ---- */

static struct {
    int64_t now_ms;
} fuzz_clock;

void coord_log_init(int quiet)
{
    (void)quiet;
}

int64_t coord_now_ms(void)
{
    return fuzz_clock.now_ms += 7; /* moves on, deterministically */
}

static void fuzz_vlog(const char *fmt, va_list ap)
{
    char line[2048];
    vsnprintf(line, sizeof line, fmt, ap);
    if (fuzz_verbose)
        fprintf(stderr, "coordinator: %s\n", line);
}

void coord_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fuzz_vlog(fmt, ap);
    va_end(ap);
}

void coord_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fuzz_vlog(fmt, ap);
    va_end(ap);
}

/* ---- a coordinator with connections ---------------------------------------- */

struct fuzz_conn {
    int peer; /* our end: what we write, the coordinator reads */
    struct coord_conn *k;
};

static struct coord_conn *fuzz_connect(struct coord *c, int *peer)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
        perror("fuzz_proto: socketpair");
        abort();
    }
    int before = c->nconns;
    conn_accept_one(c, sv[0]);
    if (c->nconns != before + 1)
        abort();
    *peer = sv[1];
    return c->conns[before];
}

/* The one place that knows how a client joins: HELLO with a nonce, the
 * coordinator's CHALLENGE (left unread on the peer's end), then AUTH with
 * the client's proof for FUZZ_SECRET. */
static void fuzz_join(struct coord *c, struct coord_conn *k, uint32_t role, int32_t pid)
{
    struct msg_hello h;
    memset(&h, 0, sizeof h);
    h.role = role;
    h.state = WSTATE_RUNNING;
    memset(h.nonce, pid & 0xff, sizeof h.nonce);
    h.vpid = h.real_pid = pid;
    snprintf(h.name, sizeof h.name, "fuzz-%d", pid);
    snprintf(h.host, sizeof h.host, "fuzzhost");
    worker_hello(c, k, &h);
    struct msg_auth a;
    auth_proof(c->key, AUTH_LABEL_CLIENT, c->port, h.nonce, k->snonce, a.proof);
    worker_auth(c, k, &a);
    if (k->role != role)
        abort(); /* the harness no longer knows how a client joins */
}

static void fuzz_setup(struct coord *c, struct fuzz_conn *fc)
{
    memset(c, 0, sizeof *c);
    c->listen_fd = c->signal_fd = -1;
    c->port = 7779;
    c->opt.bind_addr = "127.0.0.1";
    c->opt.quiet = 1;
    snprintf(c->opt.ckptdir, sizeof c->opt.ckptdir, "%s", fuzz_dir);
    snprintf(c->self_dir, sizeof c->self_dir, "%s", fuzz_dir);
    char token[SECRET_TOKEN_SIZE] = FUZZ_SECRET;
    auth_key(token, c->key);
    for (int i = 0; i < FUZZ_CONNS; i++)
        fc[i].k = fuzz_connect(c, &fc[i].peer);
    fuzz_join(c, fc[1].k, ROLE_WORKER, 101);
    fuzz_join(c, fc[2].k, ROLE_WORKER, 102);
    fuzz_join(c, fc[3].k, ROLE_COMMAND, 103);
}

/* Everything the coordinator still owns, freed as its exit would leave it. */
static void fuzz_teardown(struct coord *c, struct fuzz_conn *fc)
{
    for (int i = 0; i < c->nconns; i++)
        c->conns[i]->dead = 1;
    conn_reap(c);
    free(c->conns);
    for (int i = 0; i < c->ckpt.nimages; i++)
        free(c->ckpt.images[i]);
    free(c->ckpt.images);
    for (int i = 0; i < c->ngroups; i++) /* restarts the input left unfinished */
        free(c->groups[i].images);
    free(c->groups);
    kv_clear(c); /* the name service's entries */
    for (int i = 0; i < FUZZ_CONNS; i++)
        close(fc[i].peer);
}

/* Is connection k still open (not reaped)? */
static int fuzz_open(const struct coord *c, const struct coord_conn *k)
{
    for (int i = 0; i < c->nconns; i++)
        if (c->conns[i] == k)
            return !k->dead;
    return 0;
}

/* ---- the readers of proto.c and coordclient.c ------------------------------ */

static void fuzz_recv_all(const uint8_t *data, size_t size)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        abort();
    /* a socketpair holds far more than an input (-max_len) */
    if (size && write(sv[1], data, size) != (ssize_t)size)
        abort();
    shutdown(sv[1], SHUT_WR);
    static char buf[sizeof(struct msg_command_reply) + 4 * sizeof(struct proto_peer)];
    struct coordclient_addr a = {"127.0.0.1", 7779};
    for (;;) {
        uint16_t type = 0;
        long n = proto_recv(sv[0], &type, buf, sizeof buf);
        if (n == -EMSGSIZE)
            continue;
        if (n < 0)
            break;
        if (type == MSG_COMMAND_REPLY) {
            struct msg_command_reply out;
            struct proto_peer peers[2];
            uint32_t np;
            char err[512];
            cc_take_reply(&a, buf, n, &out, peers, 2, &np, err, sizeof err);
        }
    }
    close(sv[0]);
    close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= sizeof(struct proto_hdr)) {
        struct proto_hdr h;
        memcpy(&h, data, sizeof h);
        proto_check_hdr(&h);
        proto_payload_size(h.type);
    }
    fuzz_recv_all(data, size);

    static struct coord c;
    struct fuzz_conn fc[FUZZ_CONNS];
    fuzz_setup(&c, fc);
    for (size_t off = 0; size - off >= 3;) {
        int which = data[off] % FUZZ_CONNS;
        size_t len = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;
        off += 3;
        if (len > size - off)
            len = size - off;
        struct coord_conn *k = fc[which].k;
        if (len && fuzz_open(&c, k) && write(fc[which].peer, data + off, len) == (ssize_t)len) {
            conn_read(&c, k);
            conn_reap(&c);
            ckpt_timer(&c);
            conn_reap(&c);
        }
        off += len;
    }
    fuzz_teardown(&c, fc);
    return 0;
}
