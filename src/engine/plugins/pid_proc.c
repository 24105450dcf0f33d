/*
 * pid_proc.c — /proc/<pid> paths the program builds from the pids it knows.
 *
 * After a restart a process of the computation has a new kernel pid, but
 * the program goes on naming it by the pid it had: getpid() says so
 * (pid.c), and so do getppid(), fork() and the rest (pid_tree.c).  A path
 * it builds from such a pid, "/proc/<pid>/..." (its own, a child's, its
 * parent's; "/proc/<pid>/task/<tid>/..." too), is given to the kernel with
 * the pid now, in the calls that take a path: open, openat, fopen (through
 * the core's stdio wrappers: services.c), opendir, the stat family,
 * access, readlink and chdir.
 *
 * Not translated: a path relative to a directory descriptor on /proc
 * (openat(procfd, "1234/stat")), what the files say (the pids inside
 * /proc/<pid>/stat and status are the kernel's), and the names readdir()
 * lists in /proc.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/plugins/pid.h"

#define PID_PROC_PATH_MAX 4096

/* Reads a pid at *p ("123" ended by '/' or the end); 0 if there is none. */
static long pid_proc_number(const char **p)
{
    const char *s = *p;
    if (*s < '1' || *s > '9')
        return 0;
    long v = 0;
    while (*s >= '0' && *s <= '9' && v < (1L << 30))
        v = v * 10 + (*s++ - '0');
    if (*s != '/' && *s != 0)
        return 0;
    *p = s;
    return v;
}

/* Appends the decimal v at *o (bounded by end); 0 when it does not fit. */
static int pid_proc_put_number(char **o, char *end, long v)
{
    char digits[24];
    int n = 0;
    do
        digits[n++] = (char)('0' + v % 10);
    while ((v /= 10) > 0);
    if (end - *o <= n)
        return 0;
    while (n > 0)
        *(*o)++ = digits[--n];
    return 1;
}

static int pid_proc_put(char **o, char *end, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(end - *o) <= n)
        return 0;
    memcpy(*o, s, n);
    *o += n;
    return 1;
}

/* path with the pid (and task id) it names now, in buf; or path itself.
 * Async-signal-safe, as open(2) is. */
const char *pid_proc_path(const char *path, char *buf, size_t cap)
{
    if (!path || strncmp(path, "/proc/", 6) != 0)
        return path;
    const char *rest = path + 6;
    long v = pid_proc_number(&rest);
    if (!v)
        return path;
    long r = pid_to_real((pid_t)v), tv = 0, tr = 0;
    const char *after = rest;
    if (strncmp(rest, "/task/", 6) == 0) {
        after = rest + 6;
        tv = pid_proc_number(&after);
        tr = tv ? pid_to_real((pid_t)tv) : 0;
    }
    if (r == v && tr == tv)
        return path;
    char *o = buf, *end = buf + cap;
    int ok = pid_proc_put(&o, end, "/proc/") && pid_proc_put_number(&o, end, r);
    if (tv)
        ok = ok && pid_proc_put(&o, end, "/task/") && pid_proc_put_number(&o, end, tr);
    ok = ok && pid_proc_put(&o, end, tv ? after : rest);
    if (!ok)
        return path;
    *o = 0;
    return buf;
}

/* The C library's functions, looked up as the engine loads (before the
 * program's constructors: never later, from a thread that might be
 * parked holding the dynamic loader's lock). */
#define PID_PROC_FUNCTIONS(X)                                                                 \
    X(open) X(open64) X(openat) X(openat64) X(__open_2) X(__open64_2) X(__openat_2)          \
    X(__openat64_2) X(opendir) X(stat) X(stat64) X(lstat) X(lstat64) X(access) X(readlink)  \
    X(chdir) X(fstatat) X(fstatat64) X(statx) X(faccessat) X(readlinkat)

#define PID_PROC_FIELD(name) void *name;
static struct {
    PID_PROC_FUNCTIONS(PID_PROC_FIELD)
} pid_proc_libc;

#define PID_PROC_RESOLVE(name)                          \
    if (!pid_proc_libc.name)                            \
        pid_proc_libc.name = dlsym(RTLD_NEXT, #name);
__attribute__((constructor(101))) static void pid_proc_resolve(void)
{
    PID_PROC_FUNCTIONS(PID_PROC_RESOLVE)
}

/* (none: ENOSYS, as a system call the kernel lacks) */
#define PID_PROC_REAL(type, name, params, fail)            \
    if (!pid_proc_libc.name)                               \
        pid_proc_resolve();                                \
    type(*real) params = (type(*) params)pid_proc_libc.name; \
    if (!real) {                                           \
        errno = ENOSYS;                                    \
        return fail;                                       \
    }

/* A wrapper of a call with a path argument p. */
#define PID_PROC_WRAP(type, name, params, args)               \
    ENGINE_API type name params                               \
    {                                                         \
        PID_PROC_REAL(type, name, params, (type)-1)           \
        char buf[PID_PROC_PATH_MAX];                          \
        p = pid_proc_path(p, buf, sizeof buf);                \
        return real args;                                     \
    }

/* (mode: only with O_CREAT or O_TMPFILE, as open(2) reads it) */
static mode_t pid_proc_mode(int flags, va_list ap)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

#define PID_PROC_OPEN(name)                                   \
    ENGINE_API int name(const char *p, int flags, ...)        \
    {                                                         \
        PID_PROC_REAL(int, name, (const char *, int, ...), -1) \
        va_list ap;                                           \
        va_start(ap, flags);                                  \
        mode_t mode = pid_proc_mode(flags, ap);               \
        va_end(ap);                                           \
        char buf[PID_PROC_PATH_MAX];                          \
        return real(pid_proc_path(p, buf, sizeof buf), flags, mode); \
    }
#define PID_PROC_OPENAT(name)                                 \
    ENGINE_API int name(int dfd, const char *p, int flags, ...) \
    {                                                         \
        PID_PROC_REAL(int, name, (int, const char *, int, ...), -1) \
        va_list ap;                                           \
        va_start(ap, flags);                                  \
        mode_t mode = pid_proc_mode(flags, ap);               \
        va_end(ap);                                           \
        char buf[PID_PROC_PATH_MAX];                          \
        return real(dfd, pid_proc_path(p, buf, sizeof buf), flags, mode); \
    }

PID_PROC_OPEN(open)
PID_PROC_OPEN(open64)
PID_PROC_OPENAT(openat)
PID_PROC_OPENAT(openat64)
/* _FORTIFY_SOURCE's checked opens */
PID_PROC_WRAP(int, __open_2, (const char *p, int flags), (p, flags))
PID_PROC_WRAP(int, __open64_2, (const char *p, int flags), (p, flags))
PID_PROC_WRAP(int, __openat_2, (int dfd, const char *p, int flags), (dfd, p, flags))
PID_PROC_WRAP(int, __openat64_2, (int dfd, const char *p, int flags), (dfd, p, flags))

ENGINE_API DIR *opendir(const char *p)
{
    PID_PROC_REAL(DIR *, opendir, (const char *), NULL)
    char buf[PID_PROC_PATH_MAX];
    return real(pid_proc_path(p, buf, sizeof buf));
}

PID_PROC_WRAP(int, stat, (const char *p, struct stat *st), (p, st))
PID_PROC_WRAP(int, stat64, (const char *p, struct stat64 *st), (p, st))
PID_PROC_WRAP(int, lstat, (const char *p, struct stat *st), (p, st))
PID_PROC_WRAP(int, lstat64, (const char *p, struct stat64 *st), (p, st))
PID_PROC_WRAP(int, access, (const char *p, int mode), (p, mode))
PID_PROC_WRAP(ssize_t, readlink, (const char *p, char *b, size_t n), (p, b, n))
PID_PROC_WRAP(int, chdir, (const char *p), (p))
PID_PROC_WRAP(int, fstatat, (int d, const char *p, struct stat *st, int fl), (d, p, st, fl))
PID_PROC_WRAP(int, fstatat64, (int d, const char *p, struct stat64 *st, int fl), (d, p, st, fl))
PID_PROC_WRAP(int, statx, (int d, const char *p, int fl, unsigned mask, struct statx *st), (d, p, fl, mask, st))
PID_PROC_WRAP(int, faccessat, (int d, const char *p, int mode, int fl), (d, p, mode, fl))
PID_PROC_WRAP(ssize_t, readlinkat, (int d, const char *p, char *b, size_t n), (d, p, b, n))
