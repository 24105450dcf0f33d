/*
 * scenario.h — the harness every scenario program includes.
 *
 * A scenario sets up one kind of state, calls scen_ready(), waits in
 * scen_wait_check() while the driver (run.sh) checkpoints, kills and
 * restarts it, then verifies the state and ends with pass() or fail(), which
 * print exactly one line ("PASS" or "FAIL: reason") and exit.
 *
 * The same binary runs in every mode, so nothing after scen_wait_check() may
 * depend on whether a checkpoint or restart happened; and it runs without the
 * engine too (plain mode), so every check must also hold, and mean something,
 * for an uninterrupted run.
 *
 * Protocol with the driver, through files in $SCEN_DIR:
 *   ready  created by the program once its state is set up;
 *   check  created by the driver when the program should verify;
 *   mode   written by the driver before `check` (plain, continue, restart,
 *          restart2, ckpt-after-restart, generations).  Only the API
 *          scenarios read it (scen_mode()), because what dmtcp_checkpoint()
 *          and the status calls report legitimately depends on it.
 *
 * Work done after the check must leave files as it found them, or be
 * idempotent: restart2 restarts one image twice in the same $SCEN_DIR.
 *
 * Everything here is static inline so a scenario compiles warning-free
 * whatever subset it uses.
 */
#ifndef SCENARIO_H
#define SCENARIO_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "dmtcp.h"

/* Bound on every wait inside a scenario: only there to avoid hangs. */
#define SCEN_WAIT_SECONDS 60

/* ---- reporting --------------------------------------------------------- */

static inline void scen_write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        buf += n;
        len -= (size_t)n;
    }
}

/* Prints one line and exits; a second thread reporting at the same time
 * waits for the first one's exit instead of printing a second line. */
static inline __attribute__((noreturn)) void scen_report(int status, const char *line)
{
    static atomic_int reported;
    if (atomic_exchange(&reported, 1)) {
        for (;;)
            pause();
    }
    fflush(stdout);
    scen_write_all(STDOUT_FILENO, line, strlen(line));
    exit(status);
}

static inline __attribute__((noreturn)) void pass(void)
{
    scen_report(0, "PASS\n");
}

static inline __attribute__((noreturn, format(printf, 1, 2))) void fail(const char *fmt, ...)
{
    char line[1024] = "FAIL: ";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + 6, sizeof(line) - 8, fmt, ap);
    va_end(ap);
    for (char *p = line; *p; p++)
        if (*p == '\n')
            *p = ' ';
    strcat(line, "\n");
    scen_report(1, line);
}

/* fail() with ": strerror(errno)" appended. */
#define fail_errno(fmt, ...) \
    fail(fmt ": %s", ##__VA_ARGS__, strerror(errno))

/* Fails with the message unless cond holds. */
#define SCEN_CHECK(cond, ...) \
    do {                      \
        if (!(cond))          \
            fail(__VA_ARGS__); \
    } while (0)

/* ---- time -------------------------------------------------------------- */

static inline uint64_t scen_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Sleeps the whole duration: an interrupted nanosleep resumes with the
 * remaining time, as robust programs do. */
static inline void scen_sleep_ms(long ms)
{
    struct timespec req = { ms / 1000, (ms % 1000) * 1000000L }, rem;
    while (nanosleep(&req, &rem) != 0 && errno == EINTR)
        req = rem;
}

/* Polls cond every millisecond; fails after SCEN_WAIT_SECONDS. */
#define SCEN_WAIT_FOR(cond, ...)                                              \
    do {                                                                      \
        uint64_t scen_deadline_ = scen_now_ns() + SCEN_WAIT_SECONDS * 1000000000ull; \
        while (!(cond)) {                                                     \
            if (scen_now_ns() > scen_deadline_)                               \
                fail(__VA_ARGS__);                                            \
            scen_sleep_ms(1);                                                 \
        }                                                                     \
    } while (0)

/* ---- the driver protocol ----------------------------------------------- */

static inline const char *scen_dir(void)
{
    static char dir[PATH_MAX];
    if (!dir[0]) {
        const char *d = getenv("SCEN_DIR");
        if (!d || !*d)
            fail("SCEN_DIR is not set (the driver gives each run a directory)");
        if (strlen(d) >= sizeof(dir) - 64)
            fail("SCEN_DIR is too long: %s", d);
        strcpy(dir, d);
    }
    return dir;
}

/* "$SCEN_DIR/name", freshly allocated. */
static inline char *scen_path(const char *name)
{
    char *p;
    if (asprintf(&p, "%s/%s", scen_dir(), name) < 0)
        fail("out of memory");
    return p;
}

static inline void scen_ready(void)
{
    char *p = scen_path("ready");
    int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        fail_errno("create %s", p);
    close(fd);
    free(p);
}

static inline void scen_wait_check(void)
{
    char *p = scen_path("check");
    while (access(p, F_OK) != 0) {
        struct timespec req = { 0, 5000000L }, rem;
        while (nanosleep(&req, &rem) != 0 && errno == EINTR)
            req = rem;
    }
    free(p);
}

/* The mode the driver ran us in, or "unknown" when run by hand. */
static inline const char *scen_mode(void)
{
    static char mode[64];
    char *p = scen_path("mode");
    FILE *f = fopen(p, "re");
    free(p);
    strcpy(mode, "unknown");
    if (f) {
        if (fgets(mode, sizeof(mode), f))
            mode[strcspn(mode, "\r\n")] = 0;
        fclose(f);
    }
    return mode;
}

/* The line the driver writes into stdin, right after `check`, for a
 * scenario that asks for a FIFO as stdin (// SCEN_STDIN: fifo, run.sh). */
#define SCEN_STDIN_LINE "stasis scenario: the line written after check"

/* Waits until thread tid sleeps in system call nr (its
 * /proc/self/task/TID/syscall starts with that number); what names the
 * call in the failure message. */
static inline void scen_wait_in_syscall(pid_t tid, long nr, const char *what)
{
    char path[64], buf[128];
    snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
    uint64_t deadline = scen_now_ns() + SCEN_WAIT_SECONDS * 1000000000ull;
    for (;;) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            fail_errno("open %s", path);
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        buf[n > 0 ? n : 0] = 0;
        char *end;
        long cur = strtol(buf, &end, 10);
        if (end != buf && cur == nr)
            return;
        if (scen_now_ns() > deadline)
            fail("thread %d never blocked in %s (its %s says: %s)", (int)tid, what, path, buf);
        struct timespec req = { 0, 1000000L }, rem;
        while (nanosleep(&req, &rem) != 0 && errno == EINTR)
            req = rem;
    }
}

/* ---- memory patterns --------------------------------------------------- */

/* Word i of the pattern for seed: cheap, and different for every word. */
static inline uint64_t scen_pattern_word(uint64_t seed, uint64_t i)
{
    uint64_t x = (seed ^ 0x5bd1e9955bd1e995ull) + i * 0x9e3779b97f4a7c15ull;
    return x ^ (x >> 29);
}

/* Fills p (any alignment) with the pattern; byte 8*i+k is byte k of word i. */
static inline void scen_fill(void *p, size_t n, uint64_t seed)
{
    unsigned char *c = p;
    size_t i;
    for (i = 0; i < n / 8; i++) {
        uint64_t w = scen_pattern_word(seed, i);
        memcpy(c + i * 8, &w, 8);
    }
    for (size_t b = i * 8; b < n; b++)
        c[b] = (unsigned char)scen_pattern_word(seed, b);
}

/* Offset of the first byte that differs from the pattern, or -1. */
static inline ssize_t scen_compare(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *c = p;
    size_t i;
    for (i = 0; i < n / 8; i++) {
        uint64_t w;
        memcpy(&w, c + i * 8, 8);
        if (w != scen_pattern_word(seed, i))
            return (ssize_t)(i * 8);
    }
    for (size_t b = i * 8; b < n; b++)
        if (c[b] != (unsigned char)scen_pattern_word(seed, b))
            return (ssize_t)b;
    return -1;
}

/* Fails naming `what` and the offset unless p holds the pattern. */
static inline void scen_expect_pattern(const char *what, const void *p, size_t n, uint64_t seed)
{
    ssize_t off = scen_compare(p, n, seed);
    if (off >= 0)
        fail("%s: content differs at offset %zd of %zu (address %p)", what, off, n,
             (const void *)((const char *)p + off));
}

/* ---- address space ----------------------------------------------------- */

struct scen_map {
    uintptr_t start, end;
    char perms[5];   /* "rw-p" */
    unsigned long long offset;
    unsigned long inode;
    char path[PATH_MAX];
};

/* The /proc/self/maps line that contains addr; 0 if found, -1 if not. */
static inline int scen_map_of(const void *addr, struct scen_map *m)
{
    FILE *f = fopen("/proc/self/maps", "re");
    char line[PATH_MAX + 256];
    int found = -1;
    if (!f)
        fail_errno("open /proc/self/maps");
    while (found < 0 && fgets(line, sizeof(line), f)) {
        unsigned long s, e, ino;
        unsigned long long off;
        char perms[5];
        int pos = 0;
        if (sscanf(line, "%lx-%lx %4s %llx %*x:%*x %lu %n", &s, &e, perms, &off, &ino, &pos) < 5)
            continue;
        if ((uintptr_t)addr < s || (uintptr_t)addr >= e)
            continue;
        m->start = s;
        m->end = e;
        memcpy(m->perms, perms, 5);
        m->offset = off;
        m->inode = ino;
        snprintf(m->path, sizeof(m->path), "%s", pos > 0 ? line + pos : "");
        m->path[strcspn(m->path, "\n")] = 0;
        found = 0;
    }
    fclose(f);
    return found;
}

/* Fails unless the page at addr has the given permissions ("rw-p"). */
static inline void scen_expect_perms(const char *what, const void *addr, const char *perms)
{
    struct scen_map m;
    if (scen_map_of(addr, &m) != 0)
        fail("%s: %p is not mapped", what, addr);
    if (strcmp(m.perms, perms) != 0)
        fail("%s: %p has permissions %s, expected %s", what, addr, m.perms, perms);
}

static __thread sigjmp_buf *scen_probe_jmp;

static inline void scen_probe_handler(int sig)
{
    (void)sig;
    siglongjmp(*scen_probe_jmp, 1);
}

/* Touches one byte at addr (reading, or writing back what is there) and
 * reports 1 if that faulted, 0 if it worked.  Uses SIGSEGV/SIGBUS briefly. */
static inline int scen_probe(volatile unsigned char *addr, int write)
{
    struct sigaction sa = { .sa_handler = scen_probe_handler }, old_segv, old_bus;
    sigjmp_buf jb;
    volatile int faulted = 0;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_NODEFER;
    sigaction(SIGSEGV, &sa, &old_segv);
    sigaction(SIGBUS, &sa, &old_bus);
    scen_probe_jmp = &jb;
    if (sigsetjmp(jb, 1) == 0) {
        unsigned char v = *addr;
        if (write)
            *addr = v;
    } else {
        faulted = 1;
    }
    scen_probe_jmp = NULL;
    sigaction(SIGSEGV, &old_segv, NULL);
    sigaction(SIGBUS, &old_bus, NULL);
    return faulted;
}

/* ---- files ------------------------------------------------------------- */

/* Writes a whole file (created or truncated) under $SCEN_DIR; returns path. */
static inline char *scen_make_file(const char *name, const void *data, size_t n)
{
    char *p = scen_path(name);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        fail_errno("create %s", p);
    for (size_t done = 0; done < n;) {
        ssize_t w = write(fd, (const char *)data + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            fail_errno("write %s", p);
        done += (size_t)w;
    }
    if (close(fd) != 0)
        fail_errno("close %s", p);
    return p;
}

/* pread the whole range, retrying short reads and EINTR; bytes read. */
static inline size_t scen_pread_all(int fd, void *buf, size_t n, off_t off)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, (char *)buf + done, n - done, off + (off_t)done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            fail_errno("pread fd %d", fd);
        if (r == 0)
            break;
        done += (size_t)r;
    }
    return done;
}

/* ---- threads ----------------------------------------------------------- */

static inline pthread_t scen_thread(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    int rc = pthread_create(&t, NULL, fn, arg);
    if (rc != 0)
        fail("pthread_create: %s", strerror(rc));
    return t;
}

static inline void *scen_join(pthread_t t)
{
    void *ret;
    int rc = pthread_join(t, &ret);
    if (rc != 0)
        fail("pthread_join: %s", strerror(rc));
    return ret;
}

#endif
