/*
 * config.c — the engine's settings, read once from the environment that
 * dmtcp_launch (or the user) set, into engine_config, which every engine
 * file reads.  A restart replaces the few that belong to the restarting
 * side (coordinator, checkpoint directory, quiet: manager.c).  A value that
 * makes no sense gets its default, with a warning naming the variable when
 * the user could not have meant it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/proto.h"
#include "engine/engine.h"

struct engine_config engine_config;

static void config_str(char *dst, size_t cap, const char *name, const char *dflt)
{
    const char *v = getenv(name);
    snprintf(dst, cap, "%s", v && *v ? v : dflt);
}

static int config_int(const char *name, int dflt)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    char *end;
    long x = strtol(v, &end, 10);
    return *end ? dflt : (int)x;
}

/* An integer setting from lo to hi; anything else gets the default, with a
 * warning naming the variable. */
static int config_bounded(const char *name, int dflt, int lo, int hi, const char *unit)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    char *end;
    long x = strtol(v, &end, 10);
    if (*end || x < lo || x > hi) {
        engine_warn("%s='%s' is not a number of %s from %d to %d; using %d", name, v, unit, lo, hi, dflt);
        return dflt;
    }
    return (int)x;
}

void config_read(void)
{
    struct engine_config *c = &engine_config;
    config_str(c->coord_host, sizeof c->coord_host, "DMTCP_COORD_HOST", "127.0.0.1");
    c->coord_port = config_int("DMTCP_COORD_PORT", PROTO_DEFAULT_PORT);
    char cwd[1024];
    if (!getcwd(cwd, sizeof cwd))
        snprintf(cwd, sizeof cwd, ".");
    config_str(c->ckptdir, sizeof c->ckptdir, "DMTCP_CHECKPOINT_DIR", cwd);
    c->ckpt_signal = config_int("DMTCP_SIGCKPT", SIGUSR2);
    if (c->ckpt_signal < 1 || c->ckpt_signal > 64 || c->ckpt_signal == SIGKILL || c->ckpt_signal == SIGSTOP)
        c->ckpt_signal = SIGUSR2;
    c->quiet = config_int("STASIS_QUIET", 0);
    c->compress = config_int("DMTCP_GZIP", 1) != 0;
    c->zstd_level = config_int("STASIS_ZSTD_LEVEL", 1);
    c->forked = config_int("STASIS_FORKED_CKPT", 0) != 0;
    c->incremental = config_int("STASIS_INCREMENTAL", 0) != 0;
    c->full_every = config_int("STASIS_FULL_EVERY", 8);
    c->tmpfile = config_int("STASIS_TMPFILE", 1) != 0;
    if (c->full_every < 1 || c->full_every > 64)
        c->full_every = 8;
    if (c->zstd_level < -7 || c->zstd_level > 19)
        c->zstd_level = 1;
    c->park_defer_ms = config_bounded("STASIS_PARK_DEFER_MS", 100, 0, 60000, "milliseconds");
    c->suspend_timeout_ms = config_bounded("STASIS_SUSPEND_TIMEOUT", 10, 1, 86400, "seconds") * 1000;
    c->exit_writer_wait_s = config_bounded("STASIS_EXIT_WRITER_WAIT", 300, 0, 86400, "seconds");
    config_str(c->libdir, sizeof c->libdir, "STASIS_LIBDIR", "");
    snprintf(c->program, sizeof c->program, "%s", program_invocation_short_name);
    const char *file = getenv("STASIS_SECRET_FILE"); /* where the process that started this one found it */
    snprintf(c->secret_path, sizeof c->secret_path, "%s", file && file[0] == '/' ? file : "");
    /* the token itself is read when a handshake needs it (manager.c), and
     * wiped after: a program that took over its connection across exec
     * never holds it */
}
