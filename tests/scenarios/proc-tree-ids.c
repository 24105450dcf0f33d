/*
 * proc-tree-ids.c — a tree of processes keeps its shape and its ids.
 *
 *   main ── child A (its own process group) ── grandchild (in A's group)
 *        └─ child B (its own session)
 *
 * Every process records, before the checkpoint, its pid, parent, group and
 * session.  After the check each child and the grandchild verify that
 * getpid/getppid/getpgrp/getsid still give those ids and that kill(0, …)
 * of a process it knows works, then exits with a known status; each parent
 * collects its children with waitpid(<the child's pid>) and checks the
 * status.  After the check A also forks a new child (after a restart it
 * has a pid of its own), which must see A as its parent and group,
 * setpgid into that group and signal A, main and the group by the ids
 * they had — so the restart must rebuild parents, groups and sessions, and
 * translate every id in both directions.
 */
#include "scenario.h"

#include <sys/wait.h>

struct ids {
    pid_t pid, ppid, pgrp, sid;
};

static struct ids ids_now(void)
{
    struct ids i = {getpid(), getppid(), getpgrp(), getsid(0)};
    return i;
}

/* In a child: 0 when the ids are those recorded, else a status naming the first difference. */
static int ids_status(const struct ids *was)
{
    struct ids now = ids_now();
    if (now.pid != was->pid)
        return 10;
    if (now.ppid != was->ppid)
        return 11;
    if (now.pgrp != was->pgrp)
        return 12;
    if (now.sid != was->sid)
        return 13;
    return 0;
}

static int wait_status(pid_t child, int *st)
{
    pid_t w;
    while ((w = waitpid(child, st, 0)) < 0 && errno == EINTR)
        ;
    return w == child ? 0 : -1;
}

/* A child or grandchild: waits for the check (the file), checks itself. */
static void leaf(int code, pid_t sibling)
{
    struct ids was = ids_now();
    scen_wait_check();
    int s = ids_status(&was);
    if (s)
        _exit(s);
    if (sibling > 0 && kill(sibling, 0) < 0)
        _exit(14);
    _exit(code);
}

int main(void)
{
    pid_t main_pid = getpid();
    int ready_pipe[2];
    if (pipe(ready_pipe) < 0)
        fail_errno("pipe");
    pid_t a = fork();
    if (a < 0)
        fail_errno("fork A");
    if (a == 0) {
        close(ready_pipe[0]);
        if (setpgid(0, 0) < 0)
            _exit(20);
        pid_t g = fork();
        if (g < 0)
            _exit(21);
        if (g == 0) {
            close(ready_pipe[1]);
            leaf(33, main_pid);
        }
        struct ids was = ids_now();
        if (write(ready_pipe[1], "a", 1) != 1)
            _exit(22);
        close(ready_pipe[1]);
        scen_wait_check();
        int s = ids_status(&was);
        if (s)
            _exit(s);
        int st;
        if (wait_status(g, &st) < 0)
            _exit(23); /* the grandchild is not this process's child any more */
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 33)
            _exit(WIFEXITED(st) ? 100 + WEXITSTATUS(st) % 100 : 24);
        /* a child made now (after a restart: a new pid) names the restored
         * processes by the ids they had: its group, its parent, main */
        pid_t n = fork();
        if (n < 0)
            _exit(27);
        if (n == 0) {
            if (getppid() != was.pid || getpgrp() != was.pid)
                _exit(15);
            if (setpgid(0, was.pid) < 0) /* (joining the group it is in) */
                _exit(16);
            if (kill(getppid(), 0) < 0 || kill(main_pid, 0) < 0 || kill(-was.pid, 0) < 0)
                _exit(17);
            _exit(34);
        }
        if (wait_status(n, &st) < 0)
            _exit(28);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 34)
            _exit(WIFEXITED(st) ? 100 + WEXITSTATUS(st) % 100 : 29);
        _exit(31);
    }
    pid_t b = fork();
    if (b < 0)
        fail_errno("fork B");
    if (b == 0) {
        close(ready_pipe[0]);
        if (setsid() < 0)
            _exit(25);
        if (write(ready_pipe[1], "b", 1) != 1)
            _exit(26);
        close(ready_pipe[1]);
        leaf(32, main_pid);
    }
    close(ready_pipe[1]);
    char c;
    for (int n = 0; n < 2; n++)
        if (read(ready_pipe[0], &c, 1) != 1)
            fail("a child died before it was ready");
    close(ready_pipe[0]);
    SCEN_CHECK(getpgid(a) == a, "child A's group is %d, expected %d", (int)getpgid(a), (int)a);
    SCEN_CHECK(getsid(b) == b, "child B's session is %d, expected %d", (int)getsid(b), (int)b);
    struct ids was = ids_now();
    scen_ready();
    scen_wait_check();
    struct ids now = ids_now();
    SCEN_CHECK(now.pid == was.pid && now.ppid == was.ppid && now.pgrp == was.pgrp && now.sid == was.sid,
               "main's ids changed: pid %d→%d ppid %d→%d pgrp %d→%d sid %d→%d", (int)was.pid, (int)now.pid,
               (int)was.ppid, (int)now.ppid, (int)was.pgrp, (int)now.pgrp, (int)was.sid, (int)now.sid);
    SCEN_CHECK(getpgid(a) == a, "after the check child A's group is %d, expected %d", (int)getpgid(a), (int)a);
    SCEN_CHECK(getsid(b) == b, "after the check child B's session is %d, expected %d", (int)getsid(b), (int)b);
    SCEN_CHECK(kill(a, 0) == 0 && kill(b, 0) == 0, "kill(child, 0): %s", strerror(errno));
    int st;
    SCEN_CHECK(wait_status(a, &st) == 0, "waitpid(child A = %d): %s", (int)a, strerror(errno));
    SCEN_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 31, "child A ended with status %#x (exit 31 expected; "
               "10-14: its pid/ppid/group/session/kill check failed, 23: its child was gone, 115-117: a child "
               "it forked after the check saw its parent or group wrong / could not setpgid to its group / "
               "could not signal its parent, main or its group)", st);
    SCEN_CHECK(wait_status(b, &st) == 0, "waitpid(child B = %d): %s", (int)b, strerror(errno));
    SCEN_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 32, "child B ended with status %#x (exit 32 expected; "
               "10-14: its pid/ppid/group/session/kill check failed)", st);
    pass();
}
