/*
 * log.c — the coordinator's event log: one line per event, with a local
 * timestamp, on stderr (which is the --coord-logfile, or /dev/null for a
 * daemon without one).  coord_info lines are muted by -q; coord_log lines
 * (errors, failures) never are.
 */
#include "coordinator/coord.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static struct {
    int quiet;
} coord_log_state;

void coord_log_init(int quiet)
{
    coord_log_state.quiet = quiet;
}

int64_t coord_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void coord_vlog(const char *fmt, va_list ap)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char stamp[32];
    strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
    char line[2048];
    int n = snprintf(line, sizeof(line), "[%s.%03ld] dmtcp_coordinator[%d]: ", stamp,
                     (long)(tv.tv_usec / 1000), (int)getpid());
    if (n < 0 || (size_t)n >= sizeof(line))
        n = 0;
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    /* One write per line so concurrent writers never interleave inside it. */
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

void coord_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    coord_vlog(fmt, ap);
    va_end(ap);
}

void coord_info(const char *fmt, ...)
{
    if (coord_log_state.quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    coord_vlog(fmt, ap);
    va_end(ap);
}
