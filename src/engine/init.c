/*
 * init.c — the engine starts here, in the constructor of libdmtcp.so.
 *
 * Reads the configuration dmtcp_launch put in the environment (and keeps it
 * there: programs this one execs and spawns run the engine too, spawn.c),
 * registers the built-in plugins, installs the checkpoint signal
 * handler and starts the manager thread.  A problem here never stops the
 * user's program: it runs on, without checkpoints, after one warning.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/proto.h"
#include "common/secret.h"
#include "engine/engine.h"
#include "engine/sys.h"

struct engine_config engine_config;

static void engine_vlog(const char *fmt, va_list ap)
{
    char buf[1024];
    int n = snprintf(buf, sizeof buf, "stasis[%d]: ", pid_virtual_pid());
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
    engine_vlog(fmt, ap);
    va_end(ap);
}

void engine_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    engine_vlog(fmt, ap);
    va_end(ap);
}

static void engine_env_str(char *dst, size_t cap, const char *name, const char *dflt)
{
    const char *v = getenv(name);
    snprintf(dst, cap, "%s", v && *v ? v : dflt);
}

static int engine_env_int(const char *name, int dflt)
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
static int engine_env_bounded(const char *name, int dflt, int lo, int hi, const char *unit)
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

static void engine_read_config(void)
{
    struct engine_config *c = &engine_config;
    engine_env_str(c->coord_host, sizeof c->coord_host, "DMTCP_COORD_HOST", "127.0.0.1");
    c->coord_port = engine_env_int("DMTCP_COORD_PORT", PROTO_DEFAULT_PORT);
    char cwd[1024];
    if (!getcwd(cwd, sizeof cwd))
        snprintf(cwd, sizeof cwd, ".");
    engine_env_str(c->ckptdir, sizeof c->ckptdir, "DMTCP_CHECKPOINT_DIR", cwd);
    c->ckpt_signal = engine_env_int("DMTCP_SIGCKPT", SIGUSR2);
    if (c->ckpt_signal < 1 || c->ckpt_signal > 64 || c->ckpt_signal == SIGKILL || c->ckpt_signal == SIGSTOP)
        c->ckpt_signal = SIGUSR2;
    c->quiet = engine_env_int("STASIS_QUIET", 0);
    c->compress = engine_env_int("DMTCP_GZIP", 1) != 0;
    c->zstd_level = engine_env_int("STASIS_ZSTD_LEVEL", 1);
    c->forked = engine_env_int("STASIS_FORKED_CKPT", 0) != 0;
    c->incremental = engine_env_int("STASIS_INCREMENTAL", 0) != 0;
    c->full_every = engine_env_int("STASIS_FULL_EVERY", 8);
    c->tmpfile = engine_env_int("STASIS_TMPFILE", 1) != 0;
    if (c->full_every < 1 || c->full_every > 64)
        c->full_every = 8;
    if (c->zstd_level < -7 || c->zstd_level > 19)
        c->zstd_level = 1;
    c->park_defer_ms = engine_env_bounded("STASIS_PARK_DEFER_MS", 100, 0, 60000, "milliseconds");
    c->suspend_timeout_ms = engine_env_bounded("STASIS_SUSPEND_TIMEOUT", 10, 1, 86400, "seconds") * 1000;
    c->exit_writer_wait_s = engine_env_bounded("STASIS_EXIT_WRITER_WAIT", 300, 0, 86400, "seconds");
    engine_env_str(c->libdir, sizeof c->libdir, "STASIS_LIBDIR", "");
    snprintf(c->program, sizeof c->program, "%s", program_invocation_short_name);
    const char *file = getenv("STASIS_SECRET_FILE"); /* where the process that started this one found it */
    snprintf(c->secret_path, sizeof c->secret_path, "%s", file && file[0] == '/' ? file : "");
    /* the token itself is read when a handshake needs it (manager.c), and
     * wiped after: a program that took over its connection across exec
     * never holds it */
}

static void engine_atfork_child(void)
{
    /* Forget the parent's coordinator connection and tid cache; the fork
     * wrapper (spawn.c) then makes the child join as a process of its own. */
    engine_fds_after_fork_child(); /* closes the child's copies of the engine's descriptors */
    manager_state.connected = 0;
    manager_state.coord_fd = -1;
    threads_after_fork_child();
    pid_reset_for_child(); /* the child's real pid is its identity */
}

__attribute__((constructor)) static void engine_init(void)
{
    if (getenv("STASIS_ENGINE_DISABLED"))
        return;
    engine_read_config();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    manager_state.launch_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    pid_plugin_init();
    process_plugin_init();
    fds_plugin_init();
    pipe_plugin_init();
    signals_plugin_init();
    timer_thread_plugin_init();
    shm_plugin_init();
    zombie_plugin_init();
    if (threads_install_handler() < 0) {
        engine_warn("cannot install the checkpoint signal handler (signal %d); running without checkpoints",
                    engine_config.ckpt_signal);
        return;
    }
    pthread_atfork(NULL, NULL, engine_atfork_child);
    events_init();
    spawn_init(); /* a connection handed over across exec is taken back first */
    if (manager_start(spawn_joined, NULL) < 0)
        engine_warn("cannot start the checkpoint manager thread; running without checkpoints");
    dmtcp_event_data_t data = {0};
    plugin_dispatch(DMTCP_EVENT_INIT, &data);
}
