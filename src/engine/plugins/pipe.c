/*
 * pipe.c — pipes between the processes of a computation, with the bytes in
 * flight.
 *
 * Checkpoint (PRECHECKPOINT: every process of the computation is
 * suspended): each process names the pipes it holds to the coordinator's
 * name service (MSG_KV): "pr:INODE" keeps the smallest pid holding a read
 * end, "pw:INODE" the smallest holding a write end.  After one barrier
 * the process named by "pr" owns the pipe: it drains the bytes waiting in
 * it (non-blocking reads; nobody else reads meanwhile) into memory that
 * the image saves, with the pipe's capacity, and at RESUME writes them
 * back through a write end opened from /proc/self/fd — the program never
 * sees the difference.
 *
 * Restart (RESTART, before the fds plugin reopens descriptors, which asks
 * pipe_reopen for each pipe): the owner makes a new pipe of the same
 * capacity, writes the saved bytes into it and publishes where it is
 * ("pf:INODE" = pid and descriptors); after a barrier every other holder
 * opens the end it had through /proc/PID/fd/N.  A second barrier, once the
 * descriptors are in place, lets the owner close its own spare ends.
 * Sharing is restored per pipe; each process gets its own open file
 * description of it (shared status flags are not shared again).
 *
 * Named FIFOs (mkfifo) opened on descriptors above 2 go the same way, by
 * their device and inode ("qr.DEV:INODE" …): at restart the owner opens
 * the FIFO by its name again, read-write so that no open blocks, puts the
 * bytes back and publishes that descriptor; every holder (the owner too)
 * opens its end from it with the access mode it had, and the read-write
 * one is closed at the end.  A FIFO whose name is gone by then (or no
 * longer a FIFO) comes back as an anonymous pipe between the same
 * processes, with a warning naming it.  A named FIFO on 0-2 is a standard
 * stream: what dmtcp_restart is given (stdio.c).
 *
 * A pipe one end of which is outside the computation (a reader or writer
 * that is not under checkpoint control) cannot be restored as it was; the
 * checkpoint names it, per process and descriptor, and the restart follows
 * one rule: on descriptors 0-2 the process gets the streams dmtcp_restart
 * was given (as for a terminal); elsewhere the outside end is gone, as if
 * that process had exited — readers get the saved bytes and then end of
 * file, writers get EPIPE.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/proto.h"
#include "engine/engine.h"
#include "engine/plugins/fds.h"
#include "engine/plugins/pid.h"
#include "engine/plugins/pipe.h"
#include "engine/sys.h"

#define PIPE_MAX 1024 /* distinct pipes a process may hold and have restored */
#define PIPE_PATH_MAX 512 /* a named FIFO's path */

struct pipe_rec {
    uint64_t ino;
    uint64_t dev;          /* named FIFO: its file system (0: an anonymous pipe) */
    char path[PIPE_PATH_MAX]; /* named FIFO: its name */
    int rfd, wfd;          /* a read / write end this process holds (-1: none) */
    int owner;             /* this process drains, saves and recreates it */
    int inside_r, inside_w; /* some process of the computation holds a read / write end */
    uint32_t capacity;     /* F_GETPIPE_SZ */
    uint32_t nbytes;       /* bytes drained */
    char *bytes;           /* their copy (anonymous memory: saved in the image) */
    /* restart */
    int new_r, new_w;      /* this process's ends of the recreated pipe (-1: none) */
    int new_rw;            /* named FIFO, the owner: its read-write descriptor */
};

static struct {
    struct pipe_rec recs[PIPE_MAX];
    int n;
    int overflow;          /* more pipes than PIPE_MAX */
    int listing;
} pipe_state;

static int pipe_ino_of(int fd, uint64_t *ino)
{
    char path[64];
    if (procfs_fd_name(fd, path, sizeof path, NULL) <= 0)
        return -1;
    unsigned long long v;
    if (sscanf(path, "pipe:[%llu]", &v) != 1)
        return -1;
    *ino = v;
    return 0;
}

static struct pipe_rec *pipe_find_dev(uint64_t dev, uint64_t ino)
{
    for (int i = 0; i < pipe_state.n; i++)
        if (pipe_state.recs[i].ino == ino && pipe_state.recs[i].dev == dev)
            return &pipe_state.recs[i];
    return NULL;
}

static struct pipe_rec *pipe_find(uint64_t ino)
{
    return pipe_find_dev(0, ino);
}

/* fd (above 2) is a named FIFO: its device, inode and name */
static int pipe_fifo_of(int fd, uint64_t *dev, uint64_t *ino, char *path, size_t cap)
{
    struct stat st;
    if (fd <= 2 || fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode))
        return -1;
    int deleted = 0;
    if (procfs_fd_name(fd, path, cap, &deleted) <= 0 || path[0] != '/')
        return -1;
    if (deleted)
        path[0] = 0; /* its name is gone: an anonymous pipe from now on */
    *dev = (uint64_t)st.st_dev;
    *ino = (uint64_t)st.st_ino;
    return 0;
}

/* The name-service kind for p: "pr" for an anonymous pipe, "qr.DEV" for a
 * named FIFO (out: 32 bytes). */
static const char *pipe_kv_kind(const struct pipe_rec *p, char which, char *out)
{
    if (!p->dev)
        snprintf(out, 32, "p%c", which);
    else
        snprintf(out, 32, "q%c.%llx", which, (unsigned long long)p->dev);
    return out;
}

static void pipe_note_fd(int fd, void *arg)
{
    (void)arg;
    uint64_t ino, dev = 0;
    char path[PIPE_PATH_MAX] = "";
    if (fd == pipe_state.listing || engine_fds_is_own(fd) ||
        (pipe_ino_of(fd, &ino) < 0 && pipe_fifo_of(fd, &dev, &ino, path, sizeof path) < 0))
        return;
    struct pipe_rec *p = pipe_find_dev(dev, ino);
    if (!p) {
        if (pipe_state.n >= PIPE_MAX) {
            pipe_state.overflow = 1;
            return;
        }
        p = &pipe_state.recs[pipe_state.n++];
        memset(p, 0, sizeof *p);
        p->ino = ino;
        p->dev = dev;
        memcpy(p->path, path, sizeof p->path);
        p->rfd = p->wfd = p->new_r = p->new_w = p->new_rw = -1;
    }
    int acc = fcntl(fd, F_GETFL) & O_ACCMODE;
    if ((acc == O_RDONLY || acc == O_RDWR) && p->rfd < 0)
        p->rfd = fd;
    if ((acc == O_WRONLY || acc == O_RDWR) && p->wfd < 0)
        p->wfd = fd;
}

/* How warnings name p. */
static const char *pipe_name(const struct pipe_rec *p, char *out, size_t cap)
{
    if (p->dev)
        snprintf(out, cap, "FIFO %s", p->path[0] ? p->path : "(deleted)");
    else
        snprintf(out, cap, "pipe:[%llu]", (unsigned long long)p->ino);
    return out;
}

/* Read everything waiting in p (non-blocking; the description's flags are
 * put back after). */
static void pipe_drain(struct pipe_rec *p)
{
    int cap = fcntl(p->rfd, F_GETPIPE_SZ);
    p->capacity = cap > 0 ? (uint32_t)cap : 65536;
    p->bytes = mmap(NULL, p->capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p->bytes == MAP_FAILED) {
        p->bytes = NULL;
        char nm[PIPE_PATH_MAX + 16];
        engine_warn("checkpoint: cannot keep the bytes waiting in %s (fd %d): no memory; they stay in "
                    "the pipe and are missing after a restart",
                    pipe_name(p, nm, sizeof nm), p->rfd);
        return;
    }
    int fl = fcntl(p->rfd, F_GETFL);
    fcntl(p->rfd, F_SETFL, fl | O_NONBLOCK);
    while (p->nbytes < p->capacity) {
        long n = sys_call3(SYS_read, p->rfd, p->bytes + p->nbytes, p->capacity - p->nbytes);
        if (n <= 0)
            break;
        p->nbytes += (uint32_t)n;
    }
    fcntl(p->rfd, F_SETFL, fl);
}

/* Write buf into the pipe through a new write end of it (opened from the
 * descriptor any_fd, either end); -errno. */
static int pipe_fill(int any_fd, const char *buf, uint32_t len)
{
    if (!len)
        return 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", any_fd);
    int w = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (w < 0)
        return -errno;
    uint32_t done = 0;
    while (done < len) {
        long n = sys_call3(SYS_write, w, buf + done, len - done);
        if (n <= 0)
            break;
        done += (uint32_t)n;
    }
    sys_call1(SYS_close, w);
    return done == len ? 0 : -EAGAIN;
}

static void pipe_report_outside(const struct pipe_rec *p)
{
    char nm[PIPE_PATH_MAX + 16];
    if (!p->inside_r && p->wfd > 2)
        engine_warn("checkpoint: fd %d (%s) has no reader in the computation (a process outside it "
                    "reads it, or none does); after a restart writing to it fails with EPIPE, as if that reader "
                    "had exited",
                    p->wfd, pipe_name(p, nm, sizeof nm));
    if (!p->inside_w && p->rfd > 2)
        engine_warn("checkpoint: fd %d (%s) has no writer in the computation (a process outside it "
                    "writes it, or none does); after a restart it gives the bytes waiting now, then end of file, "
                    "as if that writer had exited",
                    p->rfd, pipe_name(p, nm, sizeof nm));
}

static void pipe_forget(void)
{
    for (int i = 0; i < pipe_state.n; i++)
        if (pipe_state.recs[i].bytes)
            munmap(pipe_state.recs[i].bytes, pipe_state.recs[i].capacity);
    pipe_state.n = 0;
    pipe_state.overflow = 0;
}

static void pipe_checkpoint(void)
{
    pipe_forget();
    pipe_state.listing = -1;
    procfs_each_number("/proc/self/fd", pipe_note_fd, NULL, &pipe_state.listing);
    if (pipe_state.overflow)
        engine_warn("checkpoint: more than %d pipes are open; the others are not restored", PIPE_MAX);
    char kind[32];
    for (int i = 0; i < pipe_state.n; i++) {
        const struct pipe_rec *p = &pipe_state.recs[i];
        if (p->rfd >= 0)
            manager_kv_min(pipe_kv_kind(p, 'r', kind), p->ino, pid_virtual_pid());
        if (p->wfd >= 0)
            manager_kv_min(pipe_kv_kind(p, 'w', kind), p->ino, pid_virtual_pid());
    }
    dmtcp_global_barrier("stasis:pipes-named"); /* every process calls it, with pipes or not */
    pid_t me = pid_virtual_pid();
    for (int i = 0; i < pipe_state.n; i++) {
        struct pipe_rec *p = &pipe_state.recs[i];
        int64_t reader = manager_kv_get_int(pipe_kv_kind(p, 'r', kind), p->ino);
        int64_t writer = manager_kv_get_int(pipe_kv_kind(p, 'w', kind), p->ino);
        /* no coordinator: this process is alone, and what it holds is all there is */
        p->inside_r = reader > 0 || (!manager_state.connected && p->rfd >= 0);
        p->inside_w = writer > 0 || (!manager_state.connected && p->wfd >= 0);
        p->owner = p->rfd >= 0 && (reader == me || (!manager_state.connected));
        if (p->owner)
            pipe_drain(p);
        pipe_report_outside(p);
    }
}

/* The image is durable (or its snapshot taken): the drained bytes go back. */
static void pipe_resume(void)
{
    for (int i = 0; i < pipe_state.n; i++) {
        struct pipe_rec *p = &pipe_state.recs[i];
        char nm[PIPE_PATH_MAX + 16];
        if (p->owner && p->nbytes && pipe_fill(p->rfd, p->bytes, p->nbytes) < 0)
            engine_warn("%s (fd %d): cannot put back the %u bytes read from it for the checkpoint",
                        pipe_name(p, nm, sizeof nm), p->rfd, p->nbytes);
    }
    pipe_forget();
}

/* ---- restart ---------------------------------------------------------- */

static int pipe_own_fd(int fd)
{
    return fd < 0 ? -1 : (int)sys_call3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 3);
}

/* A named FIFO again, by its name: read-write (no open of it blocks
 * while this is open), and the owner's own ends from it; -1 if the name
 * no longer leads to a FIFO. */
static int pipe_reopen_fifo(struct pipe_rec *p)
{
    char nm[PIPE_PATH_MAX + 16];
    if (!p->path[0])
        return -1;
    int rw = open(p->path, O_RDWR | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    /* (the same FIFO, or one of this user's made again under its name:
     * never a FIFO another user put there, who would get the bytes) */
    const char *why = rw < 0 ? strerror(errno) : NULL;
    if (!why && (fstat(rw, &st) < 0 || !S_ISFIFO(st.st_mode)))
        why = "not a FIFO";
    else if (!why && st.st_uid != getuid() && ((uint64_t)st.st_dev != p->dev || (uint64_t)st.st_ino != p->ino))
        why = "another user's FIFO is there now";
    if (why) {
        engine_warn("%s is no longer there (%s); its processes are joined by an anonymous pipe instead",
                    pipe_name(p, nm, sizeof nm), why);
        if (rw >= 0)
            close(rw);
        return -1;
    }
    p->new_rw = fds_park(rw);
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", p->new_rw);
    if (p->rfd >= 0)
        p->new_r = fds_park(sys_open_real(self, O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (p->wfd >= 0)
        p->new_w = fds_park(sys_open_real(self, O_WRONLY | O_NONBLOCK | O_CLOEXEC));
    if (p->nbytes && pipe_fill(p->new_rw, p->bytes, p->nbytes) < 0)
        engine_warn("%s: cannot put back the %u bytes saved from it", pipe_name(p, nm, sizeof nm), p->nbytes);
    char k[KV_KEY_MAX], v[64], kind[32];
    manager_kv_name(k, pipe_kv_kind(p, 'f', kind), p->ino);
    int len = snprintf(v, sizeof v, "%d:%d:%d", (int)sys_getpid(), p->new_rw, p->new_rw);
    manager_kv_put(k, v, (uint32_t)len + 1, KV_SET);
    return 0;
}

/* The owner's new pipe, with the saved bytes in it. */
static void pipe_recreate(struct pipe_rec *p)
{
    if (p->dev && pipe_reopen_fifo(p) == 0)
        return;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        char nm[PIPE_PATH_MAX + 16];
        engine_warn("cannot recreate %s: %s", pipe_name(p, nm, sizeof nm), strerror(errno));
        return;
    }
    if (p->capacity > 65536)
        fcntl(fds[1], F_SETPIPE_SZ, (int)p->capacity);
    fds[0] = fds_park(fds[0]);
    fds[1] = fds_park(fds[1]);
    p->new_r = fds[0];
    p->new_w = fds[1];
    char nm[PIPE_PATH_MAX + 16];
    if (p->nbytes && pipe_fill(fds[0], p->bytes, p->nbytes) < 0)
        engine_warn("%s: cannot put back the %u bytes saved from it", pipe_name(p, nm, sizeof nm), p->nbytes);
    char k[KV_KEY_MAX], v[64], kind[32];
    manager_kv_name(k, pipe_kv_kind(p, 'f', kind), p->ino);
    int len = snprintf(v, sizeof v, "%d:%d:%d", (int)sys_getpid(), fds[0], fds[1]);
    manager_kv_put(k, v, (uint32_t)len + 1, KV_SET);
}

/* A pipe nobody in the computation reads: its reader is gone, and this
 * process's write ends get EPIPE. */
static void pipe_broken(struct pipe_rec *p)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return;
    sys_call1(SYS_close, fds[0]);
    p->new_w = fds_park(fds[1]);
}

/* Another process's new pipe, through /proc. */
static void pipe_open_shared(struct pipe_rec *p)
{
    char k[KV_KEY_MAX], v[64] = "", kind[32];
    manager_kv_name(k, pipe_kv_kind(p, 'f', kind), p->ino);
    int pid = 0, r = -1, w = -1;
    if (manager_kv_get(k, v, sizeof v - 1) <= 0 || sscanf(v, "%d:%d:%d", &pid, &r, &w) != 3) {
        char nm[PIPE_PATH_MAX + 16];
        engine_warn("%s: the process that recreates it did not say where it is; fds %d/%d stay closed",
                    pipe_name(p, nm, sizeof nm), p->rfd, p->wfd);
        return;
    }
    char path[64];
    if (p->rfd >= 0) {
        snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, r);
        p->new_r = fds_park(sys_open_real(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    }
    if (p->wfd >= 0) {
        snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, w);
        p->new_w = fds_park(sys_open_real(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC));
    }
    if ((p->rfd >= 0 && p->new_r < 0) || (p->wfd >= 0 && p->new_w < 0))
    {
        char nm[PIPE_PATH_MAX + 16];
        engine_warn("%s: cannot open it in process %d: %s", pipe_name(p, nm, sizeof nm), pid, strerror(errno));
    }
}

/* fds.c, before it reopens descriptors. */
void pipe_restart_begin(void)
{
    for (int i = 0; i < pipe_state.n; i++) {
        struct pipe_rec *p = &pipe_state.recs[i];
        p->new_r = p->new_w = p->new_rw = -1;
        if (p->owner)
            pipe_recreate(p); /* without a writer inside, its spare write end closes at the end */
        else if (!p->inside_r)
            pipe_broken(p);
    }
    dmtcp_global_barrier("stasis:pipes-made");
    for (int i = 0; i < pipe_state.n; i++) {
        struct pipe_rec *p = &pipe_state.recs[i];
        if (!p->owner && p->new_r < 0 && p->new_w < 0 && p->inside_r)
            pipe_open_shared(p);
    }
}

/* The standard streams the computation was started with (the pipes on
 * 0-2 of dmtcp_launch's program; STASIS_OUTSIDE_STDIO passes them on to
 * every process) or, after a restart, was given by dmtcp_restart: such a
 * pipe on 0-2 is the world outside and stays what dmtcp_restart gave.  Any
 * other pipe on 0-2 (a pipeline's, even once its writer has ended) comes
 * back with its bytes. */
static struct {
    uint64_t ino[16];
    int n;
    char text[16 * 21 + 1];
} pipe_outside;

static void pipe_outside_add(uint64_t ino)
{
    for (int i = 0; i < pipe_outside.n; i++)
        if (pipe_outside.ino[i] == ino)
            return;
    if (pipe_outside.n < 16)
        pipe_outside.ino[pipe_outside.n++] = ino;
    size_t o = 0;
    for (int i = 0; i < pipe_outside.n; i++)
        o += (size_t)snprintf(pipe_outside.text + o, sizeof pipe_outside.text - o, "%s%llu", i ? "," : "",
                              (unsigned long long)pipe_outside.ino[i]);
}

int pipe_is_outside_stdio(uint64_t ino)
{
    for (int i = 0; i < pipe_outside.n; i++)
        if (pipe_outside.ino[i] == ino)
            return 1;
    return 0;
}

/* For spawn.c: the list, as STASIS_OUTSIDE_STDIO carries it. */
const char *pipe_outside_stdio(void)
{
    return pipe_outside.text;
}

/* Engine start: from the environment, or (the first process) its own 0-2. */
void pipe_outside_init(const char *env)
{
    if (env) {
        for (const char *p = env; *p;) {
            char *end;
            unsigned long long v = strtoull(p, &end, 10);
            if (end == p)
                break;
            pipe_outside_add(v);
            p = *end == ',' ? end + 1 : end;
        }
        return;
    }
    for (int fd = 0; fd <= 2; fd++) {
        uint64_t ino;
        if (pipe_ino_of(fd, &ino) == 0)
            pipe_outside_add(ino);
    }
}

/* After a restart: 0-2 that stayed dmtcp_restart's are outside too. */
static void pipe_outside_after_restart(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        uint64_t ino;
        if (pipe_ino_of(fd, &ino) == 0 && !pipe_find(ino))
            pipe_outside_add(ino);
    }
}

/* fds.c: a descriptor for fd (pipe inode ino, access mode acc) with the
 * status flags fl, or -1 when the pipe does not come back for it (an
 * outside pipe on 0-2 keeps what dmtcp_restart gave). */
int pipe_reopen(int fd, uint64_t dev, uint64_t ino, int acc, int fl)
{
    struct pipe_rec *p = pipe_find_dev(dev, ino);
    if (!p)
        return -1;
    if (fd <= 2 && !dev && pipe_is_outside_stdio(ino))
        return -1;
    int src = acc == O_WRONLY ? p->new_w : p->new_r;
    int nfd;
    if (acc == O_RDWR && src >= 0) { /* (a FIFO opened read-write) */
        char self[64];
        snprintf(self, sizeof self, "/proc/self/fd/%d", src);
        nfd = sys_open_real(self, O_RDWR | O_CLOEXEC);
    } else {
        nfd = pipe_own_fd(src);
    }
    if (nfd >= 0)
        fcntl(nfd, F_SETFL, fl & (O_NONBLOCK | O_ASYNC | O_DIRECT));
    return nfd;
}

/* fds.c, once every descriptor is in place: the spare ends go. */
void pipe_restart_end(void)
{
    pipe_outside_after_restart();
    dmtcp_global_barrier("stasis:pipes-opened"); /* the owners' ends are no longer needed */
    for (int i = 0; i < pipe_state.n; i++) {
        struct pipe_rec *p = &pipe_state.recs[i];
        if (p->new_r >= 0)
            sys_call1(SYS_close, p->new_r);
        if (p->new_w >= 0)
            sys_call1(SYS_close, p->new_w);
        if (p->new_rw >= 0)
            sys_call1(SYS_close, p->new_rw);
        p->new_r = p->new_w = p->new_rw = -1;
    }
    pipe_forget();
}

/* fds.c asks whether fd is a pipe this plugin restores. */
int pipe_is_pipe_fd(int fd, uint64_t *ino)
{
    return pipe_ino_of(fd, ino) == 0;
}

static void pipe_hook(dmtcp_event_t ev, dmtcp_event_data_t *data)
{
    (void)data;
    if (ev == DMTCP_EVENT_PRECHECKPOINT)
        pipe_checkpoint();
    else if (ev == DMTCP_EVENT_RESUME)
        pipe_resume();
}

static const dmtcp_plugin_descriptor_t pipe_descriptor = {
    .api_version = DMTCP_NATIVE_PLUGIN_API_VERSION,
    .name = "pipe",
    .version = STASIS_VERSION,
    .description = "pipes between the processes of a computation, with the bytes in flight",
    .event_hook = pipe_hook,
};
PLUGIN_DECL_BUILTIN(pipe_descriptor, 35, NULL); /* after fds: it saves first, and fds asks it at RESTART */
