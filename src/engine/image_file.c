/*
 * image_file.c — creating an image file in a directory other users may
 * write, and giving it its final name.
 *
 * The checkpoint directory may be /tmp-like (world-writable, sticky) or a
 * group's shared directory, so no name in it is opened that someone else
 * could have planted first.  The image is written into an unnamed file
 * (O_TMPFILE) in the checkpoint directory, fsync'd, linked under a fresh
 * random name (linkat never follows or replaces an existing name), and
 * renamed over the final name (rename replaces whatever is there, a
 * planted symbolic link included, and never follows it).  A writer killed
 * midway leaves nothing: an unnamed file disappears with its descriptor.
 *
 * Where O_TMPFILE is missing (EOPNOTSUPP, EISDIR: some network and FUSE
 * file systems), or STASIS_TMPFILE=0, the image is written under a named
 * temporary created with O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600:
 *
 *   .<image name>.<host id>-<writer pid>-<64 random bits>.tmp
 *
 * (the image name cut to 200 bytes).  The next checkpoint of the process
 * and its restart remove such files of its own image whose writer is gone:
 * same image name, same host, a regular file owned by the user, the pid no
 * longer alive (or the sweeping process's own) — never following a
 * symbolic link.
 *
 * Runs in the checkpoint path (the manager thread with every user thread
 * parked, or the forked writer): no malloc, no stdio; system calls that
 * name processes are raw (the pid plugin's wrappers speak virtual pids).
 * Errors come back as -errno with a message naming the image in err.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "engine/engine.h"
#include "engine/sys.h"

#define IMAGE_FILE_STEM_MAX 200 /* of the image name, in a temporary's name */
#define IMAGE_FILE_TRIES 16     /* fresh random names tried before giving up */

uint32_t image_host_id(void)
{
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    return (uint32_t)XXH64(host, strlen(host), 0);
}

static uint64_t image_file_random(void)
{
    uint64_t r = 0;
    if (sys_call3(SYS_getrandom, &r, sizeof r, 0x0001 /* GRND_NONBLOCK */) != (long)sizeof r) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        r = XXH64(&ts, sizeof ts, (uint64_t)sys_getpid() << 32 ^ (uint64_t)(uintptr_t)&r);
    }
    return r;
}

/* The first part of a temporary's name, ".<image name cut>.", shared by
 * the writer and the sweep. */
static void image_file_stem(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, ".%.*s.", IMAGE_FILE_STEM_MAX, name);
}

static void image_file_tmp_name(struct image_file *f)
{
    char stem[IMAGE_FILE_STEM_MAX + 4];
    image_file_stem(stem, sizeof stem, f->name);
    snprintf(f->tmp, sizeof f->tmp, "%s%08x-%d-%016llx.tmp", stem, image_host_id(), sys_getpid(),
             (unsigned long long)image_file_random());
}

/* Split path into its directory (opened) and its last component. */
static int image_file_open_dir(struct image_file *f, const char *path)
{
    snprintf(f->path, sizeof f->path, "%s", path);
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    snprintf(f->name, sizeof f->name, "%s", name);
    char dir[sizeof f->path];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    f->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return f->dirfd < 0 ? -errno : 0;
}

static int image_file_create_named(struct image_file *f)
{
    for (int i = 0; i < IMAGE_FILE_TRIES; i++) {
        image_file_tmp_name(f);
        f->fd = openat(f->dirfd, f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (f->fd >= 0 || errno != EEXIST)
            return f->fd >= 0 ? 0 : -errno;
    }
    return -EEXIST;
}

int image_file_create(struct image_file *f, const char *path, char *err, size_t cap)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    int rc = image_file_open_dir(f, path);
    if (rc < 0) {
        snprintf(err, cap, "cannot create image %s: its directory: %s", path, strerror(-rc));
        return rc;
    }
    image_file_sweep_in(f->dirfd, f->name);
    if (engine_config.tmpfile) {
        f->fd = openat(f->dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
        if (f->fd >= 0)
            return 0;
        if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
            rc = -errno;
            snprintf(err, cap, "cannot create image %s: %s", path, strerror(-rc));
            image_file_discard(f);
            return rc;
        }
    }
    rc = image_file_create_named(f);
    if (rc < 0) {
        snprintf(err, cap, "cannot create image %s (as %s): %s", path, f->tmp, strerror(-rc));
        f->tmp[0] = 0;
        image_file_discard(f);
    }
    return rc;
}

/* Give the unnamed file a fresh name: directly (needs CAP_DAC_READ_SEARCH)
 * or through /proc/self/fd. */
static int image_file_link(struct image_file *f)
{
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", f->fd);
    int rc = -EEXIST;
    for (int i = 0; i < IMAGE_FILE_TRIES && rc == -EEXIST; i++) {
        image_file_tmp_name(f);
        rc = 0;
        if (linkat(f->fd, "", f->dirfd, f->tmp, AT_EMPTY_PATH) < 0 &&
            linkat(AT_FDCWD, proc, f->dirfd, f->tmp, AT_SYMLINK_FOLLOW) < 0)
            rc = -errno;
    }
    if (rc < 0)
        f->tmp[0] = 0;
    return rc;
}

/* After the rename: the final name holds the file written, not something
 * put there in the meantime by someone who can write the directory. */
static int image_file_is_in_place(struct image_file *f)
{
    struct stat mine, there;
    return fstat(f->fd, &mine) == 0 && fstatat(f->dirfd, f->name, &there, AT_SYMLINK_NOFOLLOW) == 0 &&
           mine.st_dev == there.st_dev && mine.st_ino == there.st_ino;
}

int image_file_publish(struct image_file *f, char *err, size_t cap)
{
    int rc = 0;
    if (!f->tmp[0] && (rc = image_file_link(f)) < 0) {
        snprintf(err, cap, "cannot give image %s a name in its directory: %s", f->path, strerror(-rc));
        return rc;
    }
    if (renameat(f->dirfd, f->tmp, f->dirfd, f->name) < 0) {
        rc = -errno;
        snprintf(err, cap, "cannot rename image %s: %s", f->path, strerror(-rc));
        return rc;
    }
    f->tmp[0] = 0;
    if (!image_file_is_in_place(f)) {
        snprintf(err, cap, "image %s was replaced by another file as it was renamed into place: another user can "
                 "write its directory; checkpoint into a directory only you can write",
                 f->path);
        return -EEXIST;
    }
    fsync(f->dirfd);
    return 0;
}

void image_file_discard(struct image_file *f)
{
    if (f->tmp[0] && f->fd >= 0) {
        struct stat mine, there;
        if (fstat(f->fd, &mine) == 0 && fstatat(f->dirfd, f->tmp, &there, AT_SYMLINK_NOFOLLOW) == 0 &&
            mine.st_dev == there.st_dev && mine.st_ino == there.st_ino)
            unlinkat(f->dirfd, f->tmp, 0);
    }
    f->tmp[0] = 0;
    image_file_close(f);
}

int image_file_close(struct image_file *f)
{
    int rc = 0;
    if (f->fd >= 0 && close(f->fd) < 0)
        rc = -errno;
    if (f->dirfd >= 0)
        close(f->dirfd);
    f->fd = f->dirfd = -1;
    return rc;
}

/* ---- stale temporaries ------------------------------------------------- */

/* Parse "<8 hex>-<pid>-<16 hex>.tmp"; the pid, or 0 when s is not that. */
static pid_t image_file_tmp_pid(const char *s, uint32_t *host)
{
    uint64_t h = 0, pid = 0;
    int n = 0;
    for (; n < 8; n++) {
        char c = s[n];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0)
            return 0;
        h = h * 16 + (uint64_t)v;
    }
    if (s[n++] != '-')
        return 0;
    int digits = 0;
    for (; s[n] >= '0' && s[n] <= '9' && digits < 10; n++, digits++)
        pid = pid * 10 + (uint64_t)(s[n] - '0');
    if (!digits || pid == 0 || pid > 0x7fffffff || s[n++] != '-')
        return 0;
    for (int k = 0; k < 16; k++, n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return 0;
    if (strcmp(s + n, ".tmp") != 0)
        return 0;
    *host = (uint32_t)h;
    return (pid_t)pid;
}

/* A zombie (or dying) process writes nothing more.  An orphaned writer
 * stays a zombie for as long as whoever adopted it does not reap it (a
 * container's first process may never do so). */
static int image_file_pid_is_zombie(pid_t pid)
{
    char path[32], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    const char *f = procfs_stat_fields(path, buf, sizeof buf);
    return f && (f[0] == 'Z' || f[0] == 'X');
}

/* The writer that named a temporary is gone: no such process, a zombie, or
 * this one (a process writes one image at a time and sweeps before it
 * starts; after a restart it may have the pid its dead predecessor had). */
static int image_file_writer_is_gone(pid_t pid)
{
    return pid == sys_getpid() || sys_call2(SYS_kill, pid, 0) == -ESRCH || image_file_pid_is_zombie(pid);
}

void image_file_sweep_in(int dirfd, const char *name)
{
    char stem[IMAGE_FILE_STEM_MAX + 4];
    image_file_stem(stem, sizeof stem, name);
    size_t stem_len = strlen(stem);
    uint32_t me = image_host_id();
    uid_t uid = geteuid();
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* its own offset */
    if (fd < 0)
        return;
    static char buf[8192]; /* raw getdents64: no malloc in the checkpoint path */
    for (;;) {
        long n = sys_call3(SYS_getdents64, fd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (long off = 0; off < n;) {
            struct image_file_dirent {
                uint64_t ino;
                int64_t off;
                unsigned short reclen;
                unsigned char type;
                char name[];
            } *e = (struct image_file_dirent *)(buf + off);
            off += e->reclen;
            if (strncmp(e->name, stem, stem_len) != 0)
                continue;
            uint32_t host;
            pid_t pid = image_file_tmp_pid(e->name + stem_len, &host);
            struct stat st;
            if (pid && host == me && image_file_writer_is_gone(pid) &&
                fstatat(fd, e->name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) && st.st_uid == uid)
                unlinkat(fd, e->name, 0);
        }
    }
    close(fd);
}

void image_file_sweep(const char *path)
{
    struct image_file f;
    memset(&f, 0, sizeof f);
    if (image_file_open_dir(&f, path) < 0)
        return;
    image_file_sweep_in(f.dirfd, f.name);
    close(f.dirfd);
}
