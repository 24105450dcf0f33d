/*
 * unit.h — what every unit test in tests/unit/ shares.
 *
 * A test file is one executable made of check groups.  unit_run(name, fn)
 * runs one group; inside it CHECK(cond) / CHECKF(cond, fmt, ...) record a
 * failure (and evaluate to 0) without stopping the group.  Each group prints
 * one line on stdout, "PASS name" or "FAIL name: first reason", which
 * tests/run-all.sh counts; details of every failure go to stderr.  A group
 * that hangs is cut off by an alarm and reported as a FAIL.  main() ends with
 * `return unit_exit();`, non-zero when any group failed.
 */
#ifndef STASIS_UNIT_H
#define STASIS_UNIT_H

#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UNIT_GROUP_SECONDS 30

static struct {
    const char *group;  /* the group running now */
    int group_failed;
    int failed_groups;
    char why[400];      /* the group's first failure */
} unit_state;

/* Records a failure when !ok; returns ok. */
__attribute__((format(printf, 4, 5))) static inline int unit_check(int ok, const char *file, int line,
                                                                   const char *fmt, ...)
{
    if (ok)
        return 1;
    char msg[360];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)
        if (*p == '\n')
            *p = ' ';
    fprintf(stderr, "  %s: %s:%d: %s\n", unit_state.group, file, line, msg);
    if (!unit_state.group_failed)
        snprintf(unit_state.why, sizeof unit_state.why, "%s (line %d)", msg, line);
    unit_state.group_failed = 1;
    return 0;
}

#define CHECK(cond) unit_check(!!(cond), __FILE__, __LINE__, "%s", #cond)
#define CHECKF(cond, ...) unit_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/* Async-signal-safe: reports the stuck group and leaves. */
static inline void unit_on_alarm(int sig)
{
    static const char a[] = "FAIL ", b[] = ": did not finish (hang?)\n";
    (void)sig;
    if (write(1, a, sizeof a - 1) < 0 || write(1, unit_state.group, strlen(unit_state.group)) < 0 ||
        write(1, b, sizeof b - 1) < 0)
        _exit(2);
    _exit(1);
}

static inline void unit_run(const char *name, void (*fn)(void))
{
    unit_state.group = name;
    unit_state.group_failed = 0;
    unit_state.why[0] = 0;
    fflush(stdout);
    signal(SIGALRM, unit_on_alarm);
    alarm(UNIT_GROUP_SECONDS);
    fn();
    alarm(0);
    if (unit_state.group_failed) {
        printf("FAIL %s: %s\n", name, unit_state.why);
        unit_state.failed_groups++;
    } else {
        printf("PASS %s\n", name);
    }
    fflush(stdout);
}

static inline int unit_exit(void)
{
    return unit_state.failed_groups ? 1 : 0;
}

/* A fresh private directory under $TMPDIR (or /tmp); 0 or -1. */
static inline int unit_mkdtemp(char *dir, size_t cap, const char *tag)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    if ((size_t)snprintf(dir, cap, "%s/stasis-unit-%s.XXXXXX", base, tag) >= cap)
        return -1;
    return mkdtemp(dir) ? 0 : -1;
}

static inline int unit_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* rm -rf dir (the tests' own temporary directories only). */
static inline void unit_rmtree(const char *dir)
{
    nftw(dir, unit_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
