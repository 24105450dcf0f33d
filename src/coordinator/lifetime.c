/*
 * lifetime.c — when a coordinator started with --exit-on-last ends.
 *
 * dmtcp_launch and dmtcp_restart start their coordinator with
 * --exit-on-last and --launcher-pid (their own pid, which the program they
 * run or restore keeps).  It exits once the last process has left, a
 * process being one that joined, or an image a restart registered (until
 * the restart completed or failed).  If no process ever came, it exits once
 * the launcher's pid has exited: a program that died before its engine
 * joined (killed early, or a library of its own that ends it first) would
 * otherwise leave the coordinator running forever.
 */
#include "coordinator/coord.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

void lifetime_init(struct coord *c)
{
    c->launcher_pidfd = -1;
    if (c->opt.launcher_pid <= 0)
        return;
    c->launcher_pidfd = (int)syscall(SYS_pidfd_open, c->opt.launcher_pid, 0);
    if (c->launcher_pidfd < 0 && errno == ESRCH)
        c->launcher_gone = 1;
}

static int lifetime_launcher_gone(struct coord *c)
{
    if (c->launcher_gone || c->opt.launcher_pid <= 0)
        return c->launcher_gone;
    if (c->launcher_pidfd >= 0) {
        struct pollfd p = { .fd = c->launcher_pidfd, .events = POLLIN };
        c->launcher_gone = poll(&p, 1, 0) > 0;
    } else { /* no pidfds (before Linux 5.3): the pid itself */
        c->launcher_gone = kill(c->opt.launcher_pid, 0) < 0 && errno == ESRCH;
    }
    return c->launcher_gone;
}

void lifetime_check(struct coord *c, int64_t now)
{
    if (!c->opt.exit_on_last || c->quitting)
        return;
    if (conn_count_workers(c) > 0 || restart_in_progress(c))
        return;
    if (c->any_worker_joined) {
        coord_info("last process left (--exit-on-last): exiting");
    } else if (lifetime_launcher_gone(c)) {
        coord_info("process %d, which started this coordinator, exited before any process "
                   "joined (--exit-on-last): exiting", c->opt.launcher_pid);
    } else {
        return;
    }
    c->quitting = 1;
    c->quit_deadline_ms = now + 2000;
}
