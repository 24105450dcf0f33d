/*
 * proc-zombie-child.c — children that ended before the checkpoint and were
 * not reaped keep their exit status: one exited with 42, one was killed by
 * SIGTERM.  After the check waitpid(<each pid>) must give exactly that
 * (after a restart too: the restart makes them again), and then ECHILD.
 */
#include "scenario.h"

#include <sys/wait.h>

static int is_zombie(pid_t pid)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

int main(void)
{
    pid_t exited = fork();
    if (exited < 0)
        fail_errno("fork");
    if (exited == 0)
        _exit(42);
    pid_t killed = fork();
    if (killed < 0)
        fail_errno("fork");
    if (killed == 0) {
        for (;;)
            pause();
    }
    kill(killed, SIGTERM);
    SCEN_WAIT_FOR(is_zombie(exited) && is_zombie(killed), "the children did not end");
    scen_ready();
    scen_wait_check();
    int st;
    pid_t w;
    while ((w = waitpid(exited, &st, 0)) < 0 && errno == EINTR)
        ;
    SCEN_CHECK(w == exited, "waitpid(%d) for the child that exited: %s", (int)exited, w < 0 ? strerror(errno) : "other pid");
    SCEN_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 42, "the child that exited with 42 gives status %#x", st);
    while ((w = waitpid(killed, &st, 0)) < 0 && errno == EINTR)
        ;
    SCEN_CHECK(w == killed, "waitpid(%d) for the killed child: %s", (int)killed, w < 0 ? strerror(errno) : "other pid");
    SCEN_CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "the child killed by SIGTERM gives status %#x", st);
    w = waitpid(-1, &st, WNOHANG);
    SCEN_CHECK(w < 0 && errno == ECHILD, "a child is left after both were reaped (waitpid gave %d)", (int)w);
    pass();
}
