/*
 * procfs.c — listing the numbered entries of a /proc directory (tasks,
 * descriptors) without opendir, which allocates, and reading a small /proc
 * file: usable while other threads are parked, and async-signal-safe.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/sys.h"

int procfs_each_number(const char *dir, void (*fn)(int n, void *arg), void *arg, int *listing_fd)
{
    int fd = (int)sys_call3(SYS_openat, AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return fd;
    if (listing_fd)
        *listing_fd = fd; /* listing /proc/self/fd shows this very descriptor */
    char buf[8192];
    int n = 0;
    for (;;) {
        long got = sys_call3(SYS_getdents64, fd, buf, sizeof buf);
        if (got <= 0)
            break;
        for (long off = 0; off < got;) {
            struct dirent64 *d = (struct dirent64 *)(buf + off);
            off += d->d_reclen;
            if (d->d_name[0] < '0' || d->d_name[0] > '9')
                continue;
            int v = 0;
            for (const char *p = d->d_name; *p; p++)
                v = v * 10 + (*p - '0');
            fn(v, arg);
            n++;
        }
    }
    sys_call1(SYS_close, fd);
    return n;
}

struct procfs_list {
    int *out;
    int cap, n;
};

static void procfs_list_one(int v, void *arg)
{
    struct procfs_list *l = arg;
    if (l->n < l->cap)
        l->out[l->n++] = v;
}

int procfs_list_numbers(const char *dir, int *out, int cap, int *listing_fd)
{
    struct procfs_list l = {out, cap, 0};
    return procfs_each_number(dir, procfs_list_one, &l, listing_fd) < 0 ? 0 : l.n;
}

long procfs_read(const char *path, char *buf, size_t cap)
{
    if (cap == 0)
        return -EINVAL;
    buf[0] = 0;
    int fd = (int)sys_call3(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fd;
    long n = sys_call3(SYS_read, fd, buf, cap - 1);
    sys_call1(SYS_close, fd);
    buf[n > 0 ? n : 0] = 0;
    return n;
}

const char *procfs_stat_fields(const char *path, char *buf, size_t cap)
{
    if (procfs_read(path, buf, cap) <= 0)
        return NULL;
    const char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p + 2 : NULL;
}

long procfs_fd_name(int fd, char *buf, size_t cap, int *deleted)
{
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    long n = cap > 1 ? sys_call4(SYS_readlinkat, AT_FDCWD, link, buf, cap - 1) : -1;
    if (n <= 0)
        return -1;
    buf[n] = 0;
    if (deleted) {
        *deleted = n >= 10 && !strcmp(buf + n - 10, " (deleted)");
        if (*deleted)
            buf[n -= 10] = 0;
    }
    return n;
}
