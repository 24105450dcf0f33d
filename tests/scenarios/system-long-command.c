/*
 * system-long-command.c — a thread inside system() running a command that
 * lasts (it waits in waitpid) does not stop the checkpoint: it is parked
 * inside the call.  The command lives as long as the process that started
 * it (it polls its parent), so nothing is left behind; after a restart the
 * command is not there any more (child processes are not checkpointed yet)
 * and system() returns, which nothing here depends on.
 */
// SCEN_MODES: plain continue restart ckpt-after-restart
#include "scenario.h"

#include <sys/syscall.h>

static atomic_int runner_tid;

static void *runner(void *arg)
{
    (void)arg;
    char cmd[PATH_MAX + 128];
    snprintf(cmd, sizeof(cmd), "touch '%s/in-system'; while kill -0 $PPID 2>/dev/null; do sleep 0.1; done",
             scen_dir());
    atomic_store(&runner_tid, (int)syscall(SYS_gettid));
    (void)system(cmd);
    return NULL;
}

int main(void)
{
    char *marker = scen_path("in-system");
    unlink(marker);
    scen_thread(runner, NULL);
    SCEN_WAIT_FOR(access(marker, F_OK) == 0, "the command given to system() never ran");
    scen_wait_in_syscall(atomic_load(&runner_tid), SYS_wait4, "wait4 (inside system())");
    scen_ready();
    scen_wait_check();
    char *probe = malloc(4096); /* malloc and stdio work while it waits */
    SCEN_CHECK(probe != NULL, "malloc failed while a thread is inside system()");
    snprintf(probe, 4096, "%s/probe", scen_dir());
    FILE *f = fopen(probe, "w");
    SCEN_CHECK(f != NULL, "fopen %s: %s", probe, strerror(errno));
    fprintf(f, "probe\n");
    SCEN_CHECK(fclose(f) == 0, "fclose %s: %s", probe, strerror(errno));
    unlink(probe);
    free(probe);
    free(marker);
    pass();
}
