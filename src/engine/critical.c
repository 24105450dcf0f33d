/*
 * critical.c — libc calls during which a thread must not be parked.
 *
 * These functions take libc's internal locks (malloc arenas, stdio streams
 * and the list of streams, the dynamic loader, the environment, fork's
 * handlers).  A thread parked while holding one would deadlock whoever runs
 * next and needs it: the manager's plugins, and every thread of a
 * delayed-resume window.  Each wrapper marks the thread busy for the length
 * of the call, under the call's name; a checkpoint signal that arrives
 * meanwhile is acted on as the call returns, or inside the call when it has
 * not returned within STASIS_PARK_DEFER_MS — it is then blocked in the
 * kernel, as fgets() on an empty pipe or system() running a long command
 * are (threads.c).  The real functions are found with
 * dlsym(RTLD_NEXT), so an allocator the program brings (jemalloc…) is still
 * the one used.  dlsym may itself allocate: a small static arena serves
 * those first calls.  It may also free the message of a dlopen that failed
 * before: the malloc family is resolved once, as the library loads, so that
 * looking one up later never swallows the program's pending dlerror() (and
 * a free made while resolving is let go: a few bytes, once).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "engine/engine.h"

/* glibc declares these only for _FORTIFY_SOURCE builds */
int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap);
int __vprintf_chk(int flag, const char *fmt, va_list ap);
char *__fgets_chk(char *s, size_t size, int n, FILE *f);
size_t __fread_chk(void *b, size_t blen, size_t s, size_t n, FILE *f);
int __fprintf_chk(FILE *f, int flag, const char *fmt, ...);
int __printf_chk(int flag, const char *fmt, ...);

/* ---- bootstrap allocator for calls made while dlsym resolves ---------- */
static struct {
    _Alignas(16) char arena[16384];
    size_t used;
} critical_boot;
static __thread int critical_resolving; /* this thread is inside dlsym */

static int critical_is_boot(const void *p)
{
    return (const char *)p >= critical_boot.arena && (const char *)p < critical_boot.arena + sizeof critical_boot.arena;
}

static void *critical_boot_alloc(size_t n)
{
    if (n > sizeof critical_boot.arena)
        return NULL;
    n = (n + 15) & ~(size_t)15;
    if (critical_boot.used + n > sizeof critical_boot.arena)
        return NULL;
    void *p = critical_boot.arena + critical_boot.used;
    critical_boot.used += n;
    return p; /* static storage: already zero */
}

static void *critical_next(const char *name)
{
    critical_resolving++;
    void *f = dlsym(RTLD_NEXT, name);
    critical_resolving--;
    return f;
}

#define CRITICAL_REAL(type, name, args)                  \
    static type(*real) args;                             \
    if (!real)                                           \
        real = (type(*) args)critical_next(#name);

/* ---- malloc family --------------------------------------------------- */
static struct {
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
} critical_alloc;

static void critical_alloc_resolve(void)
{
    if (!critical_alloc.malloc)
        critical_alloc.malloc = (void *(*)(size_t))critical_next("malloc");
    if (!critical_alloc.free)
        critical_alloc.free = (void (*)(void *))critical_next("free");
    if (!critical_alloc.calloc)
        critical_alloc.calloc = (void *(*)(size_t, size_t))critical_next("calloc");
    if (!critical_alloc.realloc)
        critical_alloc.realloc = (void *(*)(void *, size_t))critical_next("realloc");
}

/* before any constructor of the program's own libraries runs */
__attribute__((constructor(101))) static void critical_init(void)
{
    critical_alloc_resolve();
}

ENGINE_API void *malloc(size_t n)
{
    if (critical_resolving)
        return critical_boot_alloc(n);
    if (!critical_alloc.malloc)
        critical_alloc_resolve();
    threads_critical_enter("malloc");
    void *p = critical_alloc.malloc(n);
    threads_critical_leave();
    return p;
}

ENGINE_API void free(void *p)
{
    if (!p || critical_is_boot(p) || critical_resolving)
        return;
    if (!critical_alloc.free)
        critical_alloc_resolve();
    threads_critical_enter("free");
    critical_alloc.free(p);
    threads_critical_leave();
}

ENGINE_API void *calloc(size_t n, size_t size)
{
    if (critical_resolving)
        return size && n > sizeof critical_boot.arena / size ? NULL : critical_boot_alloc(n * size);
    if (!critical_alloc.calloc)
        critical_alloc_resolve();
    threads_critical_enter("calloc");
    void *p = critical_alloc.calloc(n, size);
    threads_critical_leave();
    return p;
}

ENGINE_API void *realloc(void *old, size_t n)
{
    if (old && critical_is_boot(old)) { /* move out of the bootstrap arena */
        void *p = malloc(n);
        size_t room = (size_t)(critical_boot.arena + sizeof critical_boot.arena - (char *)old);
        if (p)
            memcpy(p, old, n < room ? n : room);
        return p;
    }
    if (!critical_alloc.realloc)
        critical_alloc_resolve();
    threads_critical_enter("realloc");
    void *p = critical_alloc.realloc(old, n);
    threads_critical_leave();
    return p;
}

ENGINE_API int posix_memalign(void **out, size_t align, size_t n)
{
    CRITICAL_REAL(int, posix_memalign, (void **, size_t, size_t))
    threads_critical_enter("posix_memalign");
    int rc = real(out, align, n);
    threads_critical_leave();
    return rc;
}

ENGINE_API void *aligned_alloc(size_t align, size_t n)
{
    CRITICAL_REAL(void *, aligned_alloc, (size_t, size_t))
    threads_critical_enter("aligned_alloc");
    void *p = real(align, n);
    threads_critical_leave();
    return p;
}

ENGINE_API void *memalign(size_t align, size_t n)
{
    CRITICAL_REAL(void *, memalign, (size_t, size_t))
    threads_critical_enter("memalign");
    void *p = real(align, n);
    threads_critical_leave();
    return p;
}

/* ---- stdio ----------------------------------------------------------- */
#define CRITICAL_WRAP(type, name, params, args)  \
    ENGINE_API type name params                  \
    {                                            \
        CRITICAL_REAL(type, name, params)        \
        threads_critical_enter(#name);           \
        type r = real args;                      \
        threads_critical_leave();                \
        return r;                                \
    }

/* (a path the program built from a pid it knows: services.c) */
#define CRITICAL_WRAP_PATH(type, name, params, args) \
    ENGINE_API type name params                      \
    {                                                \
        CRITICAL_REAL(type, name, params)            \
        char buf[4096];                              \
        p = services_kernel_path(p, buf, sizeof buf); \
        threads_critical_enter(#name);               \
        type r = real args;                          \
        threads_critical_leave();                    \
        return r;                                    \
    }

CRITICAL_WRAP_PATH(FILE *, fopen, (const char *p, const char *m), (p, m))
CRITICAL_WRAP_PATH(FILE *, fopen64, (const char *p, const char *m), (p, m))
CRITICAL_WRAP(FILE *, fdopen, (int fd, const char *m), (fd, m))
CRITICAL_WRAP_PATH(FILE *, freopen, (const char *p, const char *m, FILE *f), (p, m, f))
CRITICAL_WRAP(int, fclose, (FILE * f), (f))
CRITICAL_WRAP(int, fflush, (FILE * f), (f))
CRITICAL_WRAP(size_t, fwrite, (const void *b, size_t s, size_t n, FILE *f), (b, s, n, f))
CRITICAL_WRAP(size_t, fread, (void *b, size_t s, size_t n, FILE *f), (b, s, n, f))
CRITICAL_WRAP(int, fputs, (const char *s, FILE *f), (s, f))
CRITICAL_WRAP(int, puts, (const char *s), (s))
CRITICAL_WRAP(int, fputc, (int c, FILE *f), (c, f))
CRITICAL_WRAP(int, putc, (int c, FILE *f), (c, f))
CRITICAL_WRAP(int, putchar, (int c), (c))
CRITICAL_WRAP(char *, fgets, (char *s, int n, FILE *f), (s, n, f))
CRITICAL_WRAP(int, fgetc, (FILE * f), (f))
CRITICAL_WRAP(int, getc, (FILE * f), (f))
CRITICAL_WRAP(ssize_t, getline, (char **l, size_t *n, FILE *f), (l, n, f))
CRITICAL_WRAP(ssize_t, getdelim, (char **l, size_t *n, int d, FILE *f), (l, n, d, f))
CRITICAL_WRAP(ssize_t, __getdelim, (char **l, size_t *n, int d, FILE *f), (l, n, d, f)) /* getline, inlined */
CRITICAL_WRAP(int, fseek, (FILE * f, long o, int w), (f, o, w))
CRITICAL_WRAP(long, ftell, (FILE * f), (f))
CRITICAL_WRAP(int, vfprintf, (FILE * f, const char *fmt, va_list ap), (f, fmt, ap))
CRITICAL_WRAP(int, vprintf, (const char *fmt, va_list ap), (fmt, ap))
CRITICAL_WRAP(FILE *, popen, (const char *c, const char *m), (c, m))
CRITICAL_WRAP(int, pclose, (FILE * f), (f))

ENGINE_API int fprintf(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vfprintf(f, fmt, ap);
    va_end(ap);
    return r;
}

ENGINE_API int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vfprintf(stdout, fmt, ap);
    va_end(ap);
    return r;
}

/* _FORTIFY_SOURCE builds call the checking variants instead */
CRITICAL_WRAP(int, __vfprintf_chk, (FILE * f, int flag, const char *fmt, va_list ap), (f, flag, fmt, ap))
CRITICAL_WRAP(int, __vprintf_chk, (int flag, const char *fmt, va_list ap), (flag, fmt, ap))
CRITICAL_WRAP(char *, __fgets_chk, (char *s, size_t size, int n, FILE *f), (s, size, n, f))
CRITICAL_WRAP(size_t, __fread_chk, (void *b, size_t blen, size_t s, size_t n, FILE *f), (b, blen, s, n, f))
CRITICAL_WRAP(int, vfscanf, (FILE * f, const char *fmt, va_list ap), (f, fmt, ap))

ENGINE_API int __fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = __vfprintf_chk(f, flag, fmt, ap);
    va_end(ap);
    return r;
}

ENGINE_API int __printf_chk(int flag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = __vfprintf_chk(stdout, flag, fmt, ap);
    va_end(ap);
    return r;
}

ENGINE_API int fscanf(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vfscanf(f, fmt, ap);
    va_end(ap);
    return r;
}

/* ---- loader, environment, processes --------------------------------- */
CRITICAL_WRAP(void *, dlopen, (const char *f, int m), (f, m))
CRITICAL_WRAP(int, dlclose, (void *h), (h))
CRITICAL_WRAP(int, setenv, (const char *n, const char *v, int o), (n, v, o))
CRITICAL_WRAP(int, unsetenv, (const char *n), (n))
CRITICAL_WRAP(int, putenv, (char *s), (s))
/* fork, vfork, exec, posix_spawn and system: spawn.c */
