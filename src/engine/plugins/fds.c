/*
 * fds.c — open file descriptors across a restart.
 *
 * PRECHECKPOINT records, for every descriptor but 0–2 and the engine's own,
 * what it names (readlink of /proc/self/fd/N), its status flags, close-on-exec
 * and offset.  A regular file that was deleted while open has its content
 * copied into an anonymous mapping, which is saved with the rest of memory.
 * RESTART reopens each one at the same number with the same flags and
 * offset; the deleted file comes back as an unnamed file with its content.
 * Descriptors 0–2 are what dmtcp_restart was given (terminal or
 * redirection).  Pipes, sockets, eventfds and the like are the multi-process
 * issue's: until then /dev/null stands in, with a warning naming the fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/sys.h"

#define FDS_MAX 1024

struct fd_rec {
    int fd;
    int flags;    /* F_GETFL */
    int cloexec;
    int kind;     /* FD_KIND_* */
    off_t offset;
    char path[512];
    void *content; /* deleted file: its bytes (anonymous mapping) */
    size_t size;
    int dup_of;    /* index of an earlier record sharing the open file description, or -1 */
    dev_t dev;
    ino_t ino;
};

enum { FD_KIND_FILE = 1, FD_KIND_DIR, FD_KIND_DEV, FD_KIND_DELETED, FD_KIND_OTHER };

static struct {
    struct fd_rec recs[FDS_MAX];
    int n;
} fds_state;

static int fds_is_engine(int fd)
{
    return fd >= ENGINE_FD_BASE || fd == manager_state.coord_fd || fd == manager_state.request_fd;
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

/* An earlier descriptor on the same open file description (dup, dup2,
 * inherited): the kernel says so through kcmp(KCMP_FILE). */
static int fds_find_shared(const struct fd_rec *r)
{
    pid_t self = sys_getpid();
    for (int i = 0; i < fds_state.n; i++) {
        const struct fd_rec *o = &fds_state.recs[i];
        if (o->dev == r->dev && o->ino == r->ino && o->dup_of < 0 &&
            sys_call5(SYS_kcmp, self, self, 0 /* KCMP_FILE */, o->fd, r->fd) == 0)
            return i;
    }
    return -1;
}

static void fds_save_one(int fd)
{
    if (fds_state.n >= FDS_MAX)
        return;
    struct fd_rec *r = &fds_state.recs[fds_state.n];
    memset(r, 0, sizeof *r);
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, r->path, sizeof r->path - 1);
    if (n < 0)
        return;
    r->path[n] = 0;
    r->fd = fd;
    r->flags = fcntl(fd, F_GETFL);
    r->cloexec = (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
    r->offset = lseek(fd, 0, SEEK_CUR);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return;
    r->dev = st.st_dev;
    r->ino = st.st_ino;
    r->dup_of = fds_find_shared(r);
    if (r->dup_of >= 0) {
        fds_state.n++; /* restored by dup3 of the first one */
        return;
    }
    size_t plen = strlen(r->path);
    int deleted = plen > 10 && !strcmp(r->path + plen - 10, " (deleted)");
    if (S_ISREG(st.st_mode) && (deleted || st.st_nlink == 0)) {
        r->kind = FD_KIND_DELETED;
        if (deleted)
            r->path[plen - 10] = 0;
        fds_copy_deleted(r);
    } else if (S_ISREG(st.st_mode) && r->path[0] == '/') {
        r->kind = FD_KIND_FILE;
    } else if (S_ISDIR(st.st_mode)) {
        r->kind = FD_KIND_DIR;
    } else if (S_ISCHR(st.st_mode) && !strncmp(r->path, "/dev/", 5) && strncmp(r->path, "/dev/pts", 8) &&
               strcmp(r->path, "/dev/tty") && strcmp(r->path, "/dev/ptmx")) {
        r->kind = FD_KIND_DEV;
    } else {
        r->kind = FD_KIND_OTHER;
    }
    fds_state.n++;
}

static void fds_save(void)
{
    static int fds[FDS_MAX * 2];
    fds_state.n = 0;
    int listing = -1;
    int n = procfs_list_numbers("/proc/self/fd", fds, FDS_MAX * 2, &listing);
    for (int i = 0; i < n; i++)
        if (fds[i] > 2 && fds[i] != listing && !fds_is_engine(fds[i]))
            fds_save_one(fds[i]);
}

static void fds_release_copies(void)
{
    for (int i = 0; i < fds_state.n; i++) {
        struct fd_rec *r = &fds_state.recs[i];
        if (r->content)
            munmap(r->content, r->size);
        r->content = NULL;
    }
}

/* Put newfd at r->fd with r's close-on-exec flag. */
static void fds_place(struct fd_rec *r, int newfd)
{
    if (newfd != r->fd) {
        dup3(newfd, r->fd, r->cloexec ? O_CLOEXEC : 0);
        close(newfd);
    } else if (!r->cloexec) {
        fcntl(r->fd, F_SETFD, 0);
    }
}

static int fds_recreate_deleted(struct fd_rec *r)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s", r->path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir)
        *slash = 0;
    int acc = r->flags & O_ACCMODE;
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
    (void)acc;
    if (r->flags & O_APPEND)
        fcntl(fd, F_SETFL, O_APPEND);
    return fd;
}

static void fds_restore(void)
{
    int warned_other = 0;
    for (int i = 0; i < fds_state.n; i++) {
        struct fd_rec *r = &fds_state.recs[i];
        int keep = O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | O_SYNC | O_DSYNC | O_LARGEFILE;
        int fd = -1;
        if (r->dup_of >= 0) {
            int cloexec = r->cloexec ? O_CLOEXEC : 0;
            if (dup3(fds_state.recs[r->dup_of].fd, r->fd, cloexec) < 0)
                engine_warn("cannot restore fd %d as a duplicate of fd %d: %s", r->fd,
                            fds_state.recs[r->dup_of].fd, strerror(errno));
            continue;
        }
        switch (r->kind) {
        case FD_KIND_FILE:
        case FD_KIND_DEV:
            fd = open(r->path, (r->flags & keep) | O_CLOEXEC);
            break;
        case FD_KIND_DIR:
            fd = open(r->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            break;
        case FD_KIND_DELETED:
            fd = fds_recreate_deleted(r);
            break;
        default:
            if (!warned_other++)
                engine_warn("fd %d (%s) cannot be restored yet (pipes, sockets and similar come with "
                            "multi-process support); /dev/null stands in for it",
                            r->fd, r->path);
            fd = open("/dev/null", O_RDWR | O_CLOEXEC);
            break;
        }
        if (fd < 0) {
            engine_warn("cannot reopen fd %d (%s): %s; the program continues without it", r->fd, r->path,
                        strerror(errno));
            continue;
        }
        fds_place(r, fd);
        if (r->offset > 0)
            lseek(r->fd, r->offset, SEEK_SET);
    }
    fds_release_copies();
}

static void fds_hook(dmtcp_event_t ev, dmtcp_event_data_t *data)
{
    (void)data;
    if (ev == DMTCP_EVENT_PRECHECKPOINT)
        fds_save();
    else if (ev == DMTCP_EVENT_RESUME)
        fds_release_copies();
    else if (ev == DMTCP_EVENT_RESTART)
        fds_restore();
}

void fds_plugin_init(void)
{
    static const struct engine_plugin p = {"fds", fds_hook};
    plugin_register_builtin(&p);
}
