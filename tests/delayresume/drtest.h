/* drtest.h — helpers shared by the delayed-resume test programs (included,
 * not a library).  Results are "PASS name" / "FAIL name: why" lines on
 * stdout; markers for the driver go to stderr with write(2) as "@@ ..." so
 * the driver can count the warning lines each case printed. */
#ifndef DRTEST_H
#define DRTEST_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "delayresume.h"

static inline double dr_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline long long dr_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline void dr_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* stderr marker, no stdio (a parked thread may be anywhere) */
static inline void dr_mark(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n > (int)sizeof buf - 2)
        n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    ssize_t w = write(2, buf, (size_t)n);
    (void)w;
}

/* one result line on stdout, written with write(2) (not stdio) */
static inline void dr_result(int ok, const char *name, const char *fmt, ...)
{
    char why[400], buf[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    int n = ok ? snprintf(buf, sizeof buf, "PASS %s\n", name)
               : snprintf(buf, sizeof buf, "FAIL %s: %s\n", name, why);
    if (n > (int)sizeof buf - 1)
        n = (int)sizeof buf - 1;
    ssize_t w = write(1, buf, (size_t)n);
    (void)w;
}

/* an informational line on stdout (not counted by the suite) */
static inline void dr_say(const char *fmt, ...)
{
    char buf[600];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n > (int)sizeof buf - 2)
        n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    ssize_t w = write(1, buf, (size_t)n);
    (void)w;
}

static inline int dr_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* wait until PATH exists, at most SECS seconds; 1 if it does */
static inline int dr_wait_file(const char *path, double secs)
{
    double end = dr_now() + secs;
    while (!dr_exists(path)) {
        if (dr_now() > end)
            return 0;
        dr_sleep_ms(5);
    }
    return 1;
}

static inline void dr_touch(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0)
        close(fd);
}

static inline const char *dr_rc_name(int rc)
{
    switch (rc) {
    case DMTCP_AFTER_CHECKPOINT: return "DMTCP_AFTER_CHECKPOINT";
    case DMTCP_AFTER_RESTART: return "DMTCP_AFTER_RESTART";
    case DMTCP_NOT_PRESENT: return "DMTCP_NOT_PRESENT";
    case DMTCP_ERROR: return "DMTCP_ERROR";
    case 0: return "0";
    case DMTCP_RESUME_EBUSY: return "DMTCP_RESUME_EBUSY";
    case DMTCP_RESUME_EOPEN: return "DMTCP_RESUME_EOPEN";
    case DMTCP_RESUME_ESIGNAL: return "DMTCP_RESUME_ESIGNAL";
    case DMTCP_RESUME_ENOWINDOW: return "DMTCP_RESUME_ENOWINDOW";
    case DMTCP_RESUME_EPERM: return "DMTCP_RESUME_EPERM";
    case DMTCP_RESUME_ETIMEDOUT: return "DMTCP_RESUME_ETIMEDOUT";
    default: return "unknown";
    }
}

/* ---- counting workers: each increments its own counter forever ---------- */
#define DR_MAXW 64
static _Atomic long dr_cnt[DR_MAXW];
static _Atomic int dr_stop;

static void *dr_counter_main(void *arg)
{
    int i = (int)(long)arg;
    while (!atomic_load_explicit(&dr_stop, memory_order_relaxed))
        atomic_fetch_add_explicit(&dr_cnt[i], 1, memory_order_relaxed);
    return NULL;
}

/* counters that sleep between increments (little CPU) */
static void *dr_sleepy_main(void *arg)
{
    int i = (int)(long)arg;
    while (!atomic_load_explicit(&dr_stop, memory_order_relaxed)) {
        atomic_fetch_add(&dr_cnt[i], 1);
        dr_sleep_ms(1);
    }
    return NULL;
}

static inline void dr_start_counters(pthread_t *t, int n, int sleepy)
{
    for (int i = 0; i < n; i++)
        pthread_create(&t[i], NULL, sleepy ? dr_sleepy_main : dr_counter_main, (void *)(long)i);
}

static inline void dr_snapshot(long *out, int n)
{
    for (int i = 0; i < n; i++)
        out[i] = atomic_load(&dr_cnt[i]);
}

/* how many counters differ from the snapshot */
static inline int dr_moved(const long *snap, int n)
{
    int m = 0;
    for (int i = 0; i < n; i++)
        m += atomic_load(&dr_cnt[i]) != snap[i];
    return m;
}

/* ---- parked threads: a positive sign instead of a pause ------------------
 * A thread the plugin parks waits in futex(2) on a word inside
 * libdmtcp_delayresume.so; /proc/self/task/TID/syscall shows it as "202
 * 0xWORD ..." (readable for the process's own threads, without privilege).
 * A test waits (bounded) until the workers are parked there, then checks
 * they did not run — rather than sleeping and checking nothing happened. */

/* the address range of the mappings of the shared object whose path holds
 * NAME (and the anonymous one right after them: its bss), from
 * /proc/self/maps; 0 if none */
static inline int dr_lib_range(const char *name, unsigned long *lo, unsigned long *hi)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[1024];
    unsigned long s, e;
    *lo = *hi = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%lx-%lx", &s, &e) != 2)
            continue;
        if (strstr(line, name) && strstr(line, ".so")) {
            if (!*lo || s < *lo)
                *lo = s;
            if (e > *hi)
                *hi = e;
        } else if (*hi && s == *hi && !strchr(line, '/')) {
            *hi = e;
        }
    }
    fclose(f);
    return *hi != 0;
}

/* libdmtcp_delayresume.so's range */
static inline int dr_plugin_range(unsigned long *lo, unsigned long *hi)
{
    return dr_lib_range("delayresume", lo, hi);
}

/* how many threads of process PID (0: this one) wait in futex on a word in
 * [lo, hi) */
static inline int dr_count_futex_in(pid_t pid, unsigned long lo, unsigned long hi)
{
    char dir[64];
    if (pid)
        snprintf(dir, sizeof dir, "/proc/%d/task", (int)pid);
    else
        snprintf(dir, sizeof dir, "/proc/self/task");
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        char path[400], buf[256];
        long nr;
        unsigned long word;
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s/syscall", dir, de->d_name);
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            continue;
        ssize_t k = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (k <= 0)
            continue;
        buf[k] = 0;
        if (sscanf(buf, "%ld %lx", &nr, &word) == 2 && nr == 202 /* futex */ && word >= lo && word < hi)
            n++;
    }
    closedir(d);
    return n;
}

/* how many threads of this process wait in futex on a word of the plugin */
static inline int dr_count_parked(void)
{
    unsigned long lo, hi;
    if (!dr_plugin_range(&lo, &hi))
        return 0;
    return dr_count_futex_in(0, lo, hi);
}

/* wait (at most SECS) until at least N threads are parked by the plugin;
 * 1 if so */
static inline int dr_wait_parked(int n, double secs)
{
    double end = dr_now() + secs;
    while (dr_count_parked() < n) {
        if (dr_now() > end)
            return 0;
        dr_sleep_ms(1);
    }
    return 1;
}

/* wait (at most SECS) until every counter moved past the snapshot; 1 if so */
static inline int dr_wait_all_moved(const long *snap, int n, double secs)
{
    double end = dr_now() + secs;
    while (dr_moved(snap, n) < n) {
        if (dr_now() > end)
            return 0;
        dr_sleep_ms(1);
    }
    return 1;
}
#endif
