/*
 * env.c — the environment dmtcp_launch gives the program: LD_PRELOAD with
 * the engine first, then plugins, then whatever was preloaded before (minus
 * duplicates of ours), and the DMTCP_* / STASIS_* variables the engine reads.
 */
#include "launch/launch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Is entry already one of the ':'-separated paths in list? */
static int env_list_has(const char *list, const char *entry, size_t n)
{
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, entry, n) == 0)
            return 1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

static void env_preload(const struct launch_paths *p)
{
    static char out[16384];
    snprintf(out, sizeof(out), "%s%s%s", p->engine, p->preload_extra[0] ? ":" : "",
             p->preload_extra);
    const char *prev = getenv("LD_PRELOAD");
    /* ld.so separates LD_PRELOAD entries by ':' or ' '. */
    for (const char *s = prev; s && *s;) {
        size_t n = strcspn(s, ": ");
        if (n && !env_list_has(out, s, n)) {
            size_t len = strlen(out);
            if (len + n + 2 < sizeof(out))
                snprintf(out + len, sizeof(out) - len, ":%.*s", (int)n, s);
        }
        s += n;
        if (*s)
            s++;
    }
    setenv("LD_PRELOAD", out, 1);
}

void launch_set_env(const struct launch_opts *o, const struct launch_paths *p,
                    const struct coordclient_addr *a)
{
    char num[16];
    env_preload(p);
    setenv("DMTCP_COORD_HOST", a->host, 1);
    snprintf(num, sizeof(num), "%d", a->port);
    setenv("DMTCP_COORD_PORT", num, 1);
    setenv("DMTCP_CHECKPOINT_DIR", p->ckptdir, 1);
    if (o->ckpt_signal) {
        snprintf(num, sizeof(num), "%d", o->ckpt_signal);
        setenv("DMTCP_SIGCKPT", num, 1);
    }
    if (o->quiet)
        setenv("STASIS_QUIET", "1", 1);
    if (o->gzip >= 0)
        setenv("DMTCP_GZIP", o->gzip ? "1" : "0", 1);
    if (o->zstd_level)
        setenv("STASIS_ZSTD_LEVEL", o->zstd_level, 1);
    if (o->forked)
        setenv("STASIS_FORKED_CKPT", "1", 1);
    if (o->incremental)
        setenv("STASIS_INCREMENTAL", "1", 1);
    if (o->full_every)
        setenv("STASIS_FULL_EVERY", o->full_every, 1);
    if (o->suspend_timeout)
        setenv("STASIS_SUSPEND_TIMEOUT", o->suspend_timeout, 1);
    setenv("STASIS_LIBDIR", p->libdir, 1);
}
