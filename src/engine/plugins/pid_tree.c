/*
 * pid_tree.c — the pids of the other processes of the computation.
 *
 * pid.c keeps this process's own ids (and its threads') virtual.  A
 * restart also gives every other process of the computation a new pid, and
 * the program may hold any of them: its parent's, its children's, its
 * process group's and session's.  dmtcp_restart rebuilds the process tree
 * (parents, sessions, groups: src/restart-cli/tree.c) and hands every
 * restored process the table vpid → real pid of the whole restart
 * (restart_info.pidmap_fd); the calls here translate with it: ids the
 * program passes in go to the kernel as real pids, ids the kernel returns
 * come back virtual.  A pid found in no table is its own virtual pid (a
 * process created after the restart, or one outside the computation).
 * The table goes on to children (fork copies it) and to new programs
 * (exec: carry.c).  Known limit: a process created after a restart whose
 * real pid equals the virtual pid of a restored process is confused with it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <ucontext.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/plugins/pid.h"
#include "engine/sys.h"

#define PID_TREE_MAX 4096

static struct {
    struct restart_pid map[PID_TREE_MAX];
    int n;
    struct restart_pid prev[PID_TREE_MAX]; /* the table before the last restart */
    int nprev;
    pid_t prev_real;                       /* this process's real pid before it */
} pid_tree;

/* After a restart (manager thread, threads parked): the restart's table. */
void pid_tree_load(int fd, uint32_t n, pid_t prev_real)
{
    memcpy(pid_tree.prev, pid_tree.map, (size_t)pid_tree.n * sizeof pid_tree.map[0]);
    pid_tree.nprev = pid_tree.n;
    pid_tree.prev_real = prev_real;
    pid_tree.n = 0;
    if (fd < 0)
        return;
    if (n > PID_TREE_MAX)
        n = PID_TREE_MAX;
    long got = sys_call4(SYS_pread64, fd, pid_tree.map, (long)(n * sizeof pid_tree.map[0]), 0);
    sys_call1(SYS_close, fd);
    if (got > 0)
        pid_tree.n = (int)((size_t)got / sizeof pid_tree.map[0]);
}

/* A process made again after the restart (zombie.c): vpid is now real. */
void pid_tree_add(pid_t vpid, pid_t real)
{
    if (pid_tree.n < PID_TREE_MAX)
        pid_tree.map[pid_tree.n++] = (struct restart_pid){vpid, real};
}

/* Exec (PRE_EXEC): the table goes on to the new program (carry.c). */
void pid_tree_carry(void)
{
    if (pid_tree.n > 0)
        carry_put("pid-tree", pid_tree.map, (uint32_t)((size_t)pid_tree.n * sizeof pid_tree.map[0]));
}

/* The new program (INIT): the table the program before the exec had. */
void pid_tree_carried(void)
{
    long got = carry_get("pid-tree", pid_tree.map, (uint32_t)sizeof pid_tree.map);
    if (got > 0)
        pid_tree.n = (int)((size_t)got / sizeof pid_tree.map[0]);
}

/* Virtual pid of another process → the kernel's (itself when unknown). */
pid_t pid_tree_to_real(pid_t v)
{
    for (int i = 0; i < pid_tree.n; i++)
        if (pid_tree.map[i].vpid == v)
            return pid_tree.map[i].real_pid;
    return v;
}

/* The kernel's pid of any process → the one the program knows. */
pid_t pid_tree_to_virtual(pid_t r)
{
    if (r <= 0)
        return r;
    if (r == pid_real_pid())
        return pid_virtual_pid();
    for (int i = 0; i < pid_tree.n; i++)
        if (pid_tree.map[i].real_pid == r)
            return pid_tree.map[i].vpid;
    return r;
}

/* A pid from before the last restart (a system call's argument then) →
 * the same process's pid now. */
static long pid_tree_renew(long old)
{
    int neg = old < -1;
    pid_t p = (pid_t)(neg ? -old : old);
    if (p <= 0)
        return old;
    pid_t v = p == pid_tree.prev_real ? pid_virtual_pid() : p;
    for (int i = 0; i < pid_tree.nprev && v == p; i++)
        if (pid_tree.prev[i].real_pid == p)
            v = pid_tree.prev[i].vpid;
    pid_t now = pid_to_real(v);
    return neg ? -(long)now : (long)now;
}

/* In a thread leaving the checkpoint handler after a restart: a wait4 or
 * waitid for one process or group that the checkpoint interrupted is about
 * to be run again by the kernel (SA_RESTART: the frame points back at the
 * syscall instruction, rax holds its number again) with the pid it was
 * given before the restart — the process's pid then.  Give it the pid now. */
void pid_tree_renew_syscall(void *ucontext)
{
    greg_t *g = ((ucontext_t *)ucontext)->uc_mcontext.gregs;
    const uint8_t *ip = (const uint8_t *)g[REG_RIP];
    if (((uintptr_t)ip & (IMAGE_PAGE - 1)) > IMAGE_PAGE - 2 || ip[0] != 0x0f || ip[1] != 0x05)
        return;
    if (g[REG_RAX] == SYS_wait4)
        g[REG_RDI] = pid_tree_renew(g[REG_RDI]);
    else if (g[REG_RAX] == SYS_waitid && (g[REG_RDI] == P_PID || g[REG_RDI] == P_PGID))
        g[REG_RSI] = pid_tree_renew(g[REG_RSI]);
}

/* For the image header: parent, group and session as the program knows them. */
void pid_tree_family(int32_t *ppid, int32_t *pgid, int32_t *sid)
{
    *ppid = pid_tree_to_virtual((pid_t)sys_call0(SYS_getppid));
    *pgid = pid_tree_to_virtual((pid_t)sys_call1(SYS_getpgid, 0));
    *sid = pid_tree_to_virtual((pid_t)sys_call1(SYS_getsid, 0));
}

/* A pid argument: positive → real; -pgid (wait, kill) → -real pgid. */
static pid_t pid_tree_arg(pid_t v)
{
    if (v > 0)
        return pid_to_real(v);
    if (v < -1)
        return -pid_to_real(-v);
    return v;
}

static long pid_tree_ret(long rc)
{
    if (rc < 0 && rc > -4096) {
        errno = (int)-rc;
        return -1;
    }
    return rc;
}

ENGINE_API pid_t getppid(void)
{
    return pid_tree_to_virtual((pid_t)sys_call0(SYS_getppid));
}

ENGINE_API pid_t getpgid(pid_t pid)
{
    long rc = pid_tree_ret(sys_call1(SYS_getpgid, pid_tree_arg(pid)));
    return rc < 0 ? -1 : pid_tree_to_virtual((pid_t)rc);
}

ENGINE_API pid_t getpgrp(void)
{
    return getpgid(0);
}

ENGINE_API pid_t getsid(pid_t pid)
{
    long rc = pid_tree_ret(sys_call1(SYS_getsid, pid_tree_arg(pid)));
    return rc < 0 ? -1 : pid_tree_to_virtual((pid_t)rc);
}

ENGINE_API int setpgid(pid_t pid, pid_t pgid)
{
    return (int)pid_tree_ret(sys_call2(SYS_setpgid, pid_tree_arg(pid), pid_tree_arg(pgid)));
}

ENGINE_API pid_t setsid(void)
{
    long rc = pid_tree_ret(sys_call0(SYS_setsid));
    return rc < 0 ? -1 : pid_tree_to_virtual((pid_t)rc);
}

ENGINE_API pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
    long rc = pid_tree_ret(sys_call4(SYS_wait4, pid_tree_arg(pid), status, options, ru));
    return rc <= 0 ? (pid_t)rc : pid_tree_to_virtual((pid_t)rc);
}

ENGINE_API pid_t waitpid(pid_t pid, int *status, int options)
{
    return wait4(pid, status, options, NULL);
}

ENGINE_API pid_t wait(int *status)
{
    return wait4(-1, status, 0, NULL);
}

ENGINE_API pid_t wait3(int *status, int options, struct rusage *ru)
{
    return wait4(-1, status, options, ru);
}

ENGINE_API int waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
    id_t rid = id;
    if (type == P_PID || type == P_PGID)
        rid = (id_t)pid_to_real((pid_t)id);
    long rc = pid_tree_ret(sys_call5(SYS_waitid, type, rid, info, options, NULL));
    if (rc == 0 && info && info->si_pid)
        info->si_pid = pid_tree_to_virtual(info->si_pid);
    return (int)rc;
}

ENGINE_API pid_t tcgetpgrp(int fd)
{
    pid_t pg = 0;
    if (pid_tree_ret(sys_call3(SYS_ioctl, fd, TIOCGPGRP, &pg)) < 0)
        return -1;
    return pid_tree_to_virtual(pg);
}

ENGINE_API int tcsetpgrp(int fd, pid_t pg)
{
    pid_t r = pid_to_real(pg);
    return (int)pid_tree_ret(sys_call3(SYS_ioctl, fd, TIOCSPGRP, &r));
}
