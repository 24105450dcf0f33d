/*
 * log.c — the engine's messages to the user, on the program's stderr.
 *
 * Every engine file reports through engine_log (informational; silenced by
 * STASIS_QUIET) or engine_warn (always shown).  Each message is one line,
 * "stasis[VPID]: ...", written with a single write(2): no stdio, no lock,
 * so it is safe while the program's threads are parked.
 */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "engine/engine.h"

static void log_line(const char *fmt, va_list ap)
{
    char buf[1024];
    int n = snprintf(buf, sizeof buf, "stasis[%d]: ", services_virtual_pid());
    if (n < 0)
        return;
    int m = vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
    if (m < 0)
        return;
    size_t len = (size_t)n + (size_t)m;
    if (len > sizeof buf - 2)
        len = sizeof buf - 2;
    buf[len++] = '\n';
    ssize_t w = write(2, buf, len);
    (void)w;
}

void engine_log(const char *fmt, ...)
{
    if (engine_config.quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    log_line(fmt, ap);
    va_end(ap);
}

void engine_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(fmt, ap);
    va_end(ap);
}
