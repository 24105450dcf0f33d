/*
 * fds.c — open file descriptors across a restart, and the program's calls
 * that could reach the engine's own.
 *
 * PRECHECKPOINT records every descriptor but 0–2 and the engine's own
 * (engine_fds.c knows exactly which those are), at any number: what it
 * names (readlink of /proc/self/fd/N), its status flags, close-on-exec and
 * offset, and which earlier descriptor shares its open file description
 * (in this process; and a file's, in another process: fds_name_shared).
 * A regular file that was deleted while open has its content copied into
 * an anonymous mapping, saved with the rest of memory.  Pipes are
 * pipe.c's: it recreates them with their bytes, and gives each descriptor
 * back (also on 0-2, where the pipe's other end is in the computation).
 * Descriptors that cannot be restored yet (sockets, terminals, eventfd and
 * the like) are named in one warning when the checkpoint is taken; after a
 * restart /dev/null stands in for each.
 *
 * RESTART: the engine's own descriptors are already above the program's
 * (engine_fds_plan_restart); the soft RLIMIT_NOFILE is raised to hold the
 * highest saved number, each descriptor is reopened at its number with its
 * flags and offset (the deleted file comes back as an unnamed file with
 * its content), and only then RLIMIT_NOFILE is set to what the program had
 * — it may be below some of its descriptors, which the kernel lets live.
 * Descriptors 0–2 are what dmtcp_restart was given.
 *
 * The wrappers keep the engine's descriptors as if not open to the
 * program: close() of one fails with EBADF, close_range() and closefrom()
 * pass over them, dup2()/dup3() onto one moves the engine's out of the way
 * first (and dup2/dup3 from one fails with EBADF); the same through
 * syscall().  fcntl(F_DUPFD) needs nothing: the kernel gives the lowest
 * free number, never one that is taken.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "engine/engine.h"
#include "engine/plugins/fds.h"
#include "engine/plugins/mqueue.h"
#include "engine/plugins/pid.h"
#include "engine/plugins/pipe.h"
#include "engine/plugins/pty.h"
#include "engine/sys.h"

struct fd_rec {
    int fd;
    int flags;   /* F_GETFL */
    int cloexec;
    int kind;    /* FD_KIND_* */
    int pty;     /* FD_KIND_PTY: pty.c's id of the end */
    int dup_of;  /* index of an earlier record sharing the open file description, or -1 */
    int chain;   /* next original record in the same hash bucket, or -1 */
    mode_t mode;
    int unlinked; /* a regular file with no name left */
    off_t offset;
    size_t path; /* offset of its name in fds_state.names */
    void *content; /* deleted file: its bytes (anonymous mapping) */
    size_t size;
    dev_t dev;
    ino_t ino;
    pid_t share_pid; /* a file: another process owns its description (its pid as the program knows it) */
    int share_fd;    /* ... at this descriptor there; this one takes it at restart */
};

enum {
    FD_KIND_FILE = 1, FD_KIND_DIR, FD_KIND_DEV, FD_KIND_DELETED, FD_KIND_PIPE, FD_KIND_PTY, FD_KIND_MQUEUE,
    FD_KIND_OTHER
};

/* Growable arrays in anonymous memory that the image saves (memory.c's
 * buffers are left out of images; these must come back at restart), not
 * malloc: other threads are parked while they fill. */
struct fds_array {
    void *data;
    size_t len, cap;
};

#define FDS_REPORT_MAX 480 /* characters of descriptor names in the checkpoint's warning */

static struct {
    struct fds_array recs;  /* struct fd_rec */
    struct fds_array names; /* NUL-terminated paths */
    int n;
    int highest;            /* highest descriptor recorded, or -1 */
    int listing;            /* the descriptor listing /proc/self/fd */
    int lost_at;            /* a descriptor that could not be recorded, or -1 */
    int lost_errno;
    struct rlimit nofile;   /* RLIMIT_NOFILE at checkpoint time */
    int (*real_close)(int);
} fds_state;

static int fds_array_reserve(struct fds_array *a, size_t need)
{
    if (need <= a->cap)
        return 0;
    size_t cap = a->cap ? a->cap : 65536;
    while (cap < need)
        cap *= 2;
    void *p = a->data ? mremap(a->data, a->cap, cap, MREMAP_MAYMOVE)
                      : mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -ENOMEM;
    a->data = p;
    a->cap = cap;
    return 0;
}

static void fds_array_free(struct fds_array *a)
{
    if (a->data)
        munmap(a->data, a->cap);
    memset(a, 0, sizeof *a);
}

static struct fd_rec *fds_rec(int i)
{
    return (struct fd_rec *)fds_state.recs.data + i;
}

static const char *fds_path(const struct fd_rec *r)
{
    return (const char *)fds_state.names.data + r->path;
}

/* ---- checkpoint --------------------------------------------------------- */

static void fds_lost(int fd, int err)
{
    if (fds_state.lost_at < 0) {
        fds_state.lost_at = fd;
        fds_state.lost_errno = err;
    }
}

/* What the kernel says about fd, appended to the records. */
static void fds_note_one(int fd, void *arg)
{
    (void)arg;
    uint64_t ino;
    if (fd == fds_state.listing || engine_fds_is_own(fd) || (fd <= 2 && !pipe_is_pipe_fd(fd, &ino) && !pty_id_of(fd)))
        return; /* 0-2 are dmtcp_restart's, unless a pipe or pty inside the computation (pipe.c, pty.c) */
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t len = readlink(link, path, sizeof path - 1);
    struct stat st;
    if (len < 0 || fstat(fd, &st) < 0)
        return; /* closed meanwhile: nothing to save */
    path[len] = 0;
    size_t at = fds_state.names.len;
    if (fds_array_reserve(&fds_state.recs, (size_t)(fds_state.n + 1) * sizeof(struct fd_rec)) < 0 ||
        fds_array_reserve(&fds_state.names, at + (size_t)len + 1) < 0) {
        fds_lost(fd, ENOMEM);
        return;
    }
    memcpy((char *)fds_state.names.data + at, path, (size_t)len + 1);
    fds_state.names.len += (size_t)len + 1;
    struct fd_rec *r = fds_rec(fds_state.n++);
    memset(r, 0, sizeof *r);
    r->fd = fd;
    r->flags = fcntl(fd, F_GETFL);
    r->cloexec = (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
    r->offset = lseek(fd, 0, SEEK_CUR);
    r->path = at;
    r->mode = st.st_mode;
    r->unlinked = st.st_nlink == 0;
    r->dev = st.st_dev;
    r->ino = st.st_ino;
    r->dup_of = -1;
    r->chain = -1;
    if (fd > fds_state.highest)
        fds_state.highest = fd;
}

static size_t fds_bucket(const struct fd_rec *r, size_t nb)
{
    uint64_t h = ((uint64_t)r->ino * 0x9e3779b97f4a7c15ull) ^ (uint64_t)r->dev;
    return (size_t)(h ^ (h >> 29)) & (nb - 1);
}

/* Records that share an open file description (dup, dup2, inherited) with
 * an earlier one: the kernel says so through kcmp(KCMP_FILE), asked only
 * for descriptors of the same file (a hash of device and inode). */
static void fds_find_shared(void)
{
    size_t nb = 64;
    while (nb < (size_t)fds_state.n * 2)
        nb *= 2;
    int *heads = mmap(NULL, nb * sizeof(int), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (heads == MAP_FAILED)
        return; /* each is then reopened on its own: offsets stay right, sharing is lost */
    memset(heads, 0xff, nb * sizeof(int));
    pid_t self = sys_getpid();
    for (int i = 0; i < fds_state.n; i++) {
        struct fd_rec *r = fds_rec(i);
        size_t b = fds_bucket(r, nb);
        for (int j = heads[b]; j >= 0 && r->dup_of < 0; j = fds_rec(j)->chain) {
            const struct fd_rec *o = fds_rec(j);
            if (o->dev == r->dev && o->ino == r->ino &&
                sys_call5(SYS_kcmp, self, self, 0 /* KCMP_FILE */, o->fd, r->fd) == 0)
                r->dup_of = j;
        }
        if (r->dup_of < 0) {
            r->chain = heads[b];
            heads[b] = i;
        }
    }
    munmap(heads, nb * sizeof(int));
}

static void fds_copy_deleted(struct fd_rec *r)
{
    struct stat st;
    if (fstat(r->fd, &st) < 0 || st.st_size <= 0) {
        r->size = 0;
        return;
    }
    r->size = (size_t)st.st_size;
    r->content = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r->content == MAP_FAILED) {
        engine_warn("checkpoint: fd %d (%s, deleted while open): cannot keep a copy of its %zu bytes (%s); after a "
                    "restart it comes back empty",
                    r->fd, fds_path(r), r->size, strerror(errno));
        r->content = NULL;
        r->size = 0;
        return;
    }
    size_t done = 0;
    while (done < r->size) {
        ssize_t n = pread(r->fd, (char *)r->content + done, r->size - done, (off_t)done);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    r->size = done;
}

static void fds_classify(struct fd_rec *r)
{
    char *path = (char *)fds_path(r);
    size_t plen = strlen(path);
    int deleted = plen > 10 && !strcmp(path + plen - 10, " (deleted)");
    if (S_ISREG(r->mode) && mqueue_is(r->fd)) {
        r->kind = FD_KIND_MQUEUE; /* (a queue looks like a file named /NAME) */
    } else if (S_ISREG(r->mode) && (deleted || r->unlinked)) {
        r->kind = FD_KIND_DELETED;
        if (deleted)
            path[plen - 10] = 0;
        fds_copy_deleted(r);
    } else if (S_ISREG(r->mode) && path[0] == '/') {
        r->kind = FD_KIND_FILE;
    } else if (S_ISFIFO(r->mode) && (!strncmp(path, "pipe:[", 6) || (path[0] == '/' && r->fd > 2))) {
        r->kind = FD_KIND_PIPE; /* an anonymous pipe, or a named FIFO (pipe.c) */
    } else if (S_ISDIR(r->mode)) {
        r->kind = FD_KIND_DIR;
    } else if (S_ISCHR(r->mode) && (r->pty = pty_id_of(r->fd)) > 0) {
        r->kind = FD_KIND_PTY;
    } else if (S_ISCHR(r->mode) && !strncmp(path, "/dev/", 5) && strncmp(path, "/dev/pts", 8) &&
               strcmp(path, "/dev/tty") && strcmp(path, "/dev/ptmx")) {
        r->kind = FD_KIND_DEV;
    } else {
        r->kind = FD_KIND_OTHER;
    }
}

/* One warning naming every descriptor this checkpoint cannot restore. */
static void fds_report(void)
{
    char list[FDS_REPORT_MAX + 64];
    size_t len = 0;
    int count = 0, listed = 0;
    for (int i = 0; i < fds_state.n; i++) {
        const struct fd_rec *r = fds_rec(i);
        if (r->dup_of >= 0 || r->kind != FD_KIND_OTHER)
            continue;
        count++;
        if (len < FDS_REPORT_MAX) {
            int w = snprintf(list + len, sizeof list - len, "%sfd %d (%.80s)", listed ? ", " : "", r->fd, fds_path(r));
            if (w > 0)
                len += (size_t)w < sizeof list - len ? (size_t)w : sizeof list - len - 1;
            listed++;
        }
    }
    if (count > listed)
        snprintf(list + len, sizeof list - len, " and %d more", count - listed);
    if (count)
        engine_warn("checkpoint: %d descriptor%s cannot be saved: %s; sockets and "
                    "eventfd/epoll/timerfd/signalfd/inotify descriptors are not restored yet, and after a restart "
                    "/dev/null stands in for each",
                    count, count == 1 ? "" : "s", list);
    if (fds_state.lost_at >= 0)
        engine_warn("checkpoint: cannot record fd %d and possibly others (%s); they will be missing after a restart",
                    fds_state.lost_at, strerror(fds_state.lost_errno));
}

static void fds_place(const struct fd_rec *r, int newfd);
static void fds_name_shared(void);

static void fds_save(void)
{
    fds_state.n = 0;
    fds_state.names.len = 0;
    fds_state.highest = -1;
    fds_state.listing = -1;
    fds_state.lost_at = -1;
    sys_call4(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &fds_state.nofile);
    procfs_each_number("/proc/self/fd", fds_note_one, NULL, &fds_state.listing);
    fds_find_shared();
    for (int i = 0; i < fds_state.n; i++)
        if (fds_rec(i)->dup_of < 0)
            fds_classify(fds_rec(i));
    fds_name_shared();
    fds_report();
    engine_fds_plan_restart(fds_state.highest, fds_state.nofile.rlim_cur);
}


/* A file or deleted file that may share its description with another
 * process. */
static int fds_shareable(const struct fd_rec *r)
{
    return r->dup_of < 0 && (r->kind == FD_KIND_FILE || r->kind == FD_KIND_DELETED);
}

static uint64_t fds_share_key(const struct fd_rec *r)
{
    uint64_t k[4] = {(uint64_t)r->dev, (uint64_t)r->ino, (uint64_t)r->offset, (uint64_t)(unsigned)r->flags};
    return XXH64(k, sizeof k, 0);
}

#define FDS_SHARE_FD_BITS 24 /* (descriptor numbers below 2^24; pids below 2^22) */

/* Descriptions shared with other processes (a file opened before a fork,
 * `exec 3>log` in a shell whose children write it).  Such descriptors are
 * of the same file at the same offset with the same flags: the holder with
 * the smallest (pid, descriptor) of each such kind owns it (the name
 * service), and every other holder asks the kernel (kcmp) whether its
 * description is that very one; if so, at restart it takes the owner's
 * instead of opening the file again. */
static void fds_name_shared(void)
{
    pid_t me = pid_virtual_pid();
    /* one question per kind: a table of the keys seen (key, owner), in
     * anonymous memory for the length of this call */
    size_t nb = 64;
    while (nb < (size_t)fds_state.n * 2)
        nb *= 2;
    struct fds_share_slot {
        uint64_t key;
        int64_t owner; /* 0: not asked yet */
        int used;
    } *t = mmap(NULL, nb * sizeof *t, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (t == MAP_FAILED)
        t = NULL; /* (every descriptor asks on its own) */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            dmtcp_global_barrier("stasis:files-named"); /* every process calls it, with files or not */
        for (int i = 0; i < fds_state.n; i++) {
            struct fd_rec *r = fds_rec(i);
            if (!fds_shareable(r) || r->fd >= (1 << FDS_SHARE_FD_BITS))
                continue;
            uint64_t key = fds_share_key(r);
            struct fds_share_slot *slot = NULL;
            if (t) {
                size_t b = (size_t)key & (nb - 1);
                while (t[b].used && t[b].key != key)
                    b = (b + 1) & (nb - 1);
                slot = &t[b];
            }
            if (pass == 0) {
                /* (descriptors come in increasing order: the first of a kind is its smallest) */
                if (!slot || !slot->used)
                    manager_kv_min("sd", key, ((int64_t)me << FDS_SHARE_FD_BITS) | r->fd);
                if (slot) {
                    slot->used = 1;
                    slot->key = key;
                }
                continue;
            }
            int64_t v = slot && slot->owner ? slot->owner : manager_kv_get_int("sd", key);
            if (slot)
                slot->owner = v ? v : -1;
            pid_t opid = (pid_t)(v >> FDS_SHARE_FD_BITS);
            int ofd = (int)(v & ((1 << FDS_SHARE_FD_BITS) - 1));
            if (v <= 0 || opid == me)
                continue;
            if (sys_call5(SYS_kcmp, pid_to_real(opid), sys_getpid(), 0 /* KCMP_FILE */, ofd, r->fd) == 0) {
                r->share_pid = opid;
                r->share_fd = ofd;
            }
        }
    }
    if (t)
        munmap(t, nb * sizeof *t);
}

/* After every process reopened its own: take the owner's description
 * (pidfd_getfd); 0, or -errno. */
static int fds_take_shared(const struct fd_rec *r)
{
    long pfd = sys_call2(SYS_pidfd_open, pid_to_real(r->share_pid), 0);
    long fd = pfd >= 0 ? sys_call3(SYS_pidfd_getfd, pfd, r->share_fd, 0) : pfd;
    if (pfd >= 0)
        sys_call1(SYS_close, pfd);
    if (fd < 0)
        return (int)fd;
    fds_place(r, (int)fd);
    return 0;
}

static void fds_release(void)
{
    for (int i = 0; i < fds_state.n; i++) {
        struct fd_rec *r = fds_rec(i);
        if (r->content)
            munmap(r->content, r->size);
        r->content = NULL;
    }
    fds_state.n = 0;
    fds_array_free(&fds_state.recs);
    fds_array_free(&fds_state.names);
}

/* ---- restart ------------------------------------------------------------ */

/* Put newfd at r->fd with r's close-on-exec flag (raw calls: the engine's
 * own wrappers are for the program). */
static void fds_place(const struct fd_rec *r, int newfd)
{
    if (newfd != r->fd) {
        sys_call3(SYS_dup3, newfd, r->fd, r->cloexec ? O_CLOEXEC : 0);
        sys_call1(SYS_close, newfd);
    } else if (!r->cloexec) {
        fcntl(r->fd, F_SETFD, 0);
    }
}

static int fds_recreate_deleted(const struct fd_rec *r)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", fds_path(r));
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir)
        *slash = 0;
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    for (size_t done = 0; done < r->size;) {
        ssize_t n = pwrite(fd, (char *)r->content + done, r->size - done, (off_t)done);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    if (r->flags & O_APPEND)
        fcntl(fd, F_SETFL, O_APPEND);
    return fd;
}

/* A new descriptor for r (not yet at its number), or -1 with a warning. */
static int fds_reopen(const struct fd_rec *r, int *warned_other)
{
    int keep = O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | O_SYNC | O_DSYNC | O_LARGEFILE;
    int fd = -1;
    switch (r->kind) {
    case FD_KIND_FILE:
    case FD_KIND_DEV:
        fd = open(fds_path(r), (r->flags & keep) | O_CLOEXEC);
        break;
    case FD_KIND_DIR:
        fd = open(fds_path(r), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        break;
    case FD_KIND_DELETED:
        fd = fds_recreate_deleted(r);
        break;
    case FD_KIND_PIPE:
        return pipe_reopen(r->fd, fds_path(r)[0] == '/' ? (uint64_t)r->dev : 0, (uint64_t)r->ino,
                           r->flags & O_ACCMODE, r->flags);
    case FD_KIND_PTY:
        return pty_reopen(r->fd, r->pty, r->flags);
    case FD_KIND_MQUEUE:
        return mqueue_reopen(r->fd, (uint64_t)r->ino, r->flags);
    default:
        if (!(*warned_other)++)
            engine_warn("fd %d (%s) and the others named at checkpoint time cannot be restored yet; /dev/null "
                        "stands in for them",
                        r->fd, fds_path(r));
        fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        break;
    }
    if (fd < 0)
        engine_warn("cannot reopen fd %d (%s): %s; the program continues without it", r->fd, fds_path(r),
                    strerror(errno));
    return fd;
}

/* The soft limit must let every saved number be set; the hard limit here
 * may not.  The limit the restart may use. */
static rlim_t fds_widen_limit(void)
{
    struct rlimit cur;
    if (sys_call4(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &cur) < 0)
        return 0;
    rlim_t need = (rlim_t)fds_state.highest + 1;
    rlim_t want = need + 64; /* and room for pipe.c's spare ends */
    if (cur.rlim_cur < want) {
        struct rlimit wide = {want < cur.rlim_max ? want : cur.rlim_max, cur.rlim_max};
        if (sys_call4(SYS_prlimit64, 0, RLIMIT_NOFILE, &wide, NULL) == 0)
            cur = wide;
    }
    if (cur.rlim_cur < need) {
        int above = 0, first = -1;
        for (int i = 0; i < fds_state.n; i++)
            if ((rlim_t)fds_rec(i)->fd >= cur.rlim_cur) {
                above++;
                if (first < 0 || fds_rec(i)->fd < first)
                    first = fds_rec(i)->fd;
            }
        engine_warn("cannot restore %d descriptor%s numbered %d and above: RLIMIT_NOFILE here allows numbers "
                    "below %llu only (raise the hard limit, e.g. ulimit -Hn %d, before dmtcp_restart)",
                    above, above == 1 ? "" : "s", first, (unsigned long long)cur.rlim_cur, fds_state.highest + 1);
    }
    return cur.rlim_cur;
}

/* RLIMIT_NOFILE as the program had it, now that its descriptors are back. */
static void fds_restore_limit(void)
{
    struct rlimit cur, want = fds_state.nofile;
    if (!want.rlim_cur || sys_call4(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &cur) < 0)
        return;
    if (sys_call4(SYS_prlimit64, 0, RLIMIT_NOFILE, &want, NULL) == 0)
        return;
    struct rlimit lowered = want;
    if (lowered.rlim_max > cur.rlim_max)
        lowered.rlim_max = cur.rlim_max;
    if (lowered.rlim_cur > lowered.rlim_max)
        lowered.rlim_cur = lowered.rlim_max;
    sys_call4(SYS_prlimit64, 0, RLIMIT_NOFILE, &lowered, NULL);
    engine_warn("RLIMIT_NOFILE was %llu/%llu at checkpoint time; this restart allows at most %llu, so it is %llu/%llu",
                (unsigned long long)want.rlim_cur, (unsigned long long)want.rlim_max,
                (unsigned long long)cur.rlim_max, (unsigned long long)lowered.rlim_cur,
                (unsigned long long)lowered.rlim_max);
}

/* pipe.c, during the restart: is fd one of the numbers being restored? */
int fds_restart_uses(int fd)
{
    for (int i = 0; i < fds_state.n; i++)
        if (fds_rec(i)->fd == fd)
            return 1;
    return 0;
}

/* A descriptor made during the restart moves to a number no saved
 * descriptor of the program uses (fds.c is about to fill those). */
int fds_park(int fd)
{
    if (fd < 0)
        return fd;
    for (int from = 3;;) {
        long n = sys_call3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, from);
        if (n < 0)
            return fd; /* stays where it is; fds.c would then replace it */
        if (!fds_restart_uses((int)n)) {
            sys_call1(SYS_close, fd);
            return (int)n;
        }
        sys_call1(SYS_close, n);
        from = (int)n + 1;
    }
}

static void fds_restore_dup(const struct fd_rec *r)
{
    const struct fd_rec *o = fds_rec(r->dup_of);
    long rc = sys_call3(SYS_dup3, o->fd, r->fd, r->cloexec ? O_CLOEXEC : 0);
    if (rc < 0)
        engine_warn("cannot restore fd %d as a duplicate of fd %d: %s", r->fd, o->fd, strerror((int)-rc));
}

static int fds_restore_one(const struct fd_rec *r, int *warned_other)
{
    int fd = fds_reopen(r, warned_other);
    if (fd < 0)
        return -1;
    fds_place(r, fd);
    if (r->offset > 0)
        lseek(r->fd, r->offset, SEEK_SET);
    return 0;
}

static void fds_restore(void)
{
    int warned_other = 0;
    rlim_t limit = fds_widen_limit();
    pipe_restart_begin();
    pty_restart_begin();
    mqueue_restart_begin();
    for (int i = 0; i < fds_state.n; i++) {
        const struct fd_rec *r = fds_rec(i);
        if ((rlim_t)r->fd >= limit)
            continue; /* named by fds_widen_limit */
        if (engine_fds_is_own(r->fd) && engine_fds_vacate(r->fd) < 0)
            continue; /* named by engine_fds_vacate */
        if (r->share_pid || (r->dup_of >= 0 && fds_rec(r->dup_of)->share_pid))
            continue; /* once the owners have theirs, below */
        if (r->dup_of >= 0)
            fds_restore_dup(r);
        else
            fds_restore_one(r, &warned_other);
    }
    /* descriptions shared with another process: the owner's, now in place */
    dmtcp_global_barrier("stasis:files-reopened");
    for (int i = 0; i < fds_state.n; i++) {
        const struct fd_rec *r = fds_rec(i);
        if (!r->share_pid || (rlim_t)r->fd >= limit || (engine_fds_is_own(r->fd) && engine_fds_vacate(r->fd) < 0))
            continue;
        int rc = fds_take_shared(r);
        if (rc < 0) {
            engine_warn("fd %d (%s) shared its open file description with process %d, which cannot be shared "
                        "again (%s); it is opened again for this process alone (its own offset from now on)",
                        r->fd, fds_path(r), (int)r->share_pid, strerror(-rc));
            fds_restore_one(r, &warned_other);
        }
    }
    for (int i = 0; i < fds_state.n; i++) {
        const struct fd_rec *r = fds_rec(i);
        if (r->dup_of >= 0 && fds_rec(r->dup_of)->share_pid && (rlim_t)r->fd < limit &&
            !(engine_fds_is_own(r->fd) && engine_fds_vacate(r->fd) < 0))
            fds_restore_dup(r);
    }
    mqueue_restart_end();
    pty_restart_end();
    pipe_restart_end();
    fds_restore_limit();
    engine_fds_restart_done();
    fds_release();
}

/* ---- the program's calls ------------------------------------------------ */

static long fds_close(int fd)
{
    if (engine_fds_is_own(fd) && engine_fds_in_owner())
        return -EBADF; /* the engine's: as if not open */
    return sys_call1(SYS_close, fd);
}

static long fds_dup_onto(int oldfd, int newfd, int flags, int is_dup2)
{
    if (engine_fds_is_own(oldfd) && engine_fds_in_owner())
        return -EBADF;
    struct engine_fds_hold h;
    long rc = engine_fds_claim(newfd, &h);
    if (rc == 0)
        rc = is_dup2 ? sys_call2(SYS_dup2, oldfd, newfd) : sys_call3(SYS_dup3, oldfd, newfd, flags);
    else
        rc = -EBUSY; /* the engine's could not move: Linux's dup2 answer to a race */
    engine_fds_release(&h);
    return rc;
}

/* close_range over [first, last] but the engine's numbers, under the lock so
 * that none is made in the range meanwhile. */
static long fds_close_range(unsigned first, unsigned last, int flags)
{
    if (first > last)
        return sys_call3(SYS_close_range, first, last, flags);
    struct engine_fds_hold h;
    engine_fds_hold(&h);
    int own[32];
    int n = engine_fds_in_owner() ? engine_fds_numbers(own, 32) : 0;
    long rc = 0;
    unsigned lo = first;
    int done = 0;
    for (int i = 0; i < n && rc == 0 && !done; i++) {
        unsigned e = (unsigned)own[i];
        if (e < lo || e > last)
            continue;
        if (e > lo)
            rc = sys_call3(SYS_close_range, lo, e - 1, flags);
        if (e == last)
            done = 1;
        lo = e + 1;
    }
    if (rc == 0 && !done)
        rc = sys_call3(SYS_close_range, lo, last, flags);
    engine_fds_release(&h);
    return rc;
}

struct fds_closefrom {
    int low, listing;
};

static void fds_close_listed(int fd, void *arg)
{
    const struct fds_closefrom *c = arg;
    if (fd >= c->low && fd != c->listing)
        fds_close(fd);
}

static int fds_errno(long rc)
{
    if (rc < 0 && rc > -4096) {
        errno = (int)-rc;
        return -1;
    }
    return (int)rc;
}

ENGINE_API int close(int fd)
{
    if (engine_fds_is_own(fd) && engine_fds_in_owner()) {
        errno = EBADF;
        return -1;
    }
    if (fds_state.real_close) /* libc's: a cancellation point */
        return fds_state.real_close(fd);
    return fds_errno(sys_call1(SYS_close, fd));
}

ENGINE_API int dup2(int oldfd, int newfd)
{
    return fds_errno(fds_dup_onto(oldfd, newfd, 0, 1));
}

ENGINE_API int dup3(int oldfd, int newfd, int flags)
{
    return fds_errno(fds_dup_onto(oldfd, newfd, flags, 0));
}

ENGINE_API int close_range(unsigned int first, unsigned int last, int flags)
{
    return fds_errno(fds_close_range(first, last, flags));
}

ENGINE_API void closefrom(int lowfd)
{
    struct fds_closefrom c = {lowfd < 0 ? 0 : lowfd, -1};
    if (fds_close_range((unsigned)c.low, ~0U, 0) == 0)
        return;
    /* a kernel without close_range: close what /proc/self/fd lists */
    procfs_each_number("/proc/self/fd", fds_close_listed, &c, &c.listing);
}

/* syscall(2) with SYS_close, SYS_dup2, SYS_dup3 or SYS_close_range (pid.c's
 * wrapper passes them here); the kernel's convention, -errno. */
long fds_syscall(long n, long a, long b, long c)
{
    switch (n) {
    case SYS_close:
        return fds_close((int)a);
    case SYS_dup2:
        return fds_dup_onto((int)a, (int)b, 0, 1);
    case SYS_dup3:
        return fds_dup_onto((int)a, (int)b, (int)c, 0);
    default:
        return fds_close_range((unsigned)a, (unsigned)b, (int)c);
    }
}

static void fds_hook(dmtcp_event_t ev, dmtcp_event_data_t *data)
{
    (void)data;
    if (ev == DMTCP_EVENT_INIT)
        fds_state.real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
    else if (ev == DMTCP_EVENT_PRECHECKPOINT)
        fds_save();
    else if (ev == DMTCP_EVENT_RESUME)
        fds_release();
    else if (ev == DMTCP_EVENT_RESTART)
        fds_restore();
}

static const dmtcp_plugin_descriptor_t fds_descriptor = {
    .api_version = DMTCP_NATIVE_PLUGIN_API_VERSION,
    .name = "fds",
    .version = STASIS_VERSION,
    .description = "open file descriptors across a restart",
    .event_hook = fds_hook,
};
PLUGIN_DECL_BUILTIN(fds_descriptor, 30, NULL);
