/*
 * init.c — the engine starts here, in the constructor of libdmtcp.so.
 *
 * Reads the configuration dmtcp_launch put in the environment (config.c;
 * it stays there: programs this one execs and spawns run the engine too,
 * spawn.c), registers the built-in plugins (plugin.c: no list of them
 * here), installs the checkpoint signal handler, starts the manager thread
 * and sends every plugin INIT.  A problem here never stops the
 * user's program: it runs on, without checkpoints, after one warning.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/sys.h"

static void engine_atfork_child(void)
{
    /* Forget the parent's coordinator connection and tid cache; the fork
     * wrapper (spawn.c) then makes the child join as a process of its own. */
    engine_fds_after_fork_child(); /* closes the child's copies of the engine's descriptors */
    manager_state.connected = 0;
    manager_state.coord_fd = -1;
    threads_after_fork_child();
}

__attribute__((constructor)) static void engine_init(void)
{
    if (getenv("STASIS_ENGINE_DISABLED"))
        return;
    config_read();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    manager_state.launch_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    plugin_register_builtins(); /* user plugins register from their own constructors */
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
    carry_forget(); /* what the program before an exec carried: read at INIT */
}
