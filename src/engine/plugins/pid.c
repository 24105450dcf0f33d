/*
 * pid.c — virtual pids and tids.
 *
 * A restarted process gets new pids and tids from the kernel, but glibc keeps
 * each thread's original tid in its thread descriptor (mutex owners,
 * pthread_join) and the program may have stored its pid.  So the program
 * keeps seeing the ids it had before the first restart — its virtual ids —
 * and every call that hands an id of this process to the kernel is
 * translated to the real one here.  Before any restart, virtual == real and
 * the wrappers pass straight through.
 *
 * A built-in plugin (rank 10: its state is rebuilt first at RESTART), with
 * pid_tree.c for the other processes' pids.  It offers the core the
 * virtual pid, the family for the image header, the pid an exec'd program
 * keeps and the renewal of an interrupted wait after a restart
 * (services.c), and the other built-ins what pid.h declares.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/plugins/fds.h"
#include "engine/plugins/pid.h"
#include "engine/sys.h"

static struct {
    pid_t vpid;     /* the pid the program knows */
    pid_t real_pid; /* the kernel's pid now */
    int translating; /* set after the first restart */
    int (*real_pthread_kill)(pthread_t, int);
} pid_state;

pid_t pid_virtual_pid(void)
{
    return pid_state.vpid ? pid_state.vpid : sys_getpid();
}

/* Ids may differ from the kernel's: after a restart, or in a program exec'd
 * into a process that kept its pid. */
int pid_translating(void)
{
    return pid_state.translating;
}

pid_t pid_real_pid(void)
{
    return pid_state.real_pid ? pid_state.real_pid : sys_getpid();
}

/* The new program of a process that exec'd keeps the pid the program knew. */
void pid_set_virtual(pid_t vpid)
{
    pid_state.real_pid = sys_getpid();
    pid_state.vpid = vpid > 0 ? vpid : pid_state.real_pid;
    pid_state.translating = pid_state.real_pid != pid_state.vpid;
}

static void pid_after_restart(void)
{
    pid_t before = pid_state.real_pid ? pid_state.real_pid : pid_state.vpid;
    pid_tree_load(restore_state.info.pidmap_fd, restore_state.info.npids, before);
    pid_state.real_pid = sys_getpid();
    /* Even when the kernel gave back the same pid, the threads have new
     * tids: a gettid() value must still be translated. */
    pid_state.translating = 1;
}

/* Virtual id of this process or one of its threads → the kernel's id. */
pid_t pid_to_real(pid_t v)
{
    if (v <= 0)
        return v;
    if (pid_state.translating) {
        if (v == pid_state.vpid)
            return pid_state.real_pid;
        struct thread_rec *r = threads_find_by_vtid(v);
        if (r)
            return r->real_tid;
    }
    /* (a child forked after a restart keeps its own pid but still names
     * the restored processes — its parent's group, say — by their old pids) */
    return pid_tree_to_real(v);
}

ENGINE_API pid_t getpid(void)
{
    return pid_virtual_pid();
}

/* The calling thread's id as the program knows it.  The engine asks this,
 * never gettid(): a program may define its own gettid() (as
 * syscall(SYS_gettid), say), which would come back here through syscall(). */
static pid_t pid_current_tid(void)
{
    return pid_state.translating ? threads_current_vtid() : sys_gettid();
}

ENGINE_API pid_t gettid(void)
{
    return pid_current_tid();
}

ENGINE_API int kill(pid_t pid, int sig)
{
    long rc = sys_call2(SYS_kill, pid < -1 ? -pid_to_real(-pid) : pid_to_real(pid), sig);
    if (rc < 0) {
        errno = (int)-rc;
        return -1;
    }
    return 0;
}

ENGINE_API int tgkill(pid_t tgid, pid_t tid, int sig)
{
    long rc = sys_call3(SYS_tgkill, pid_to_real(tgid), pid_to_real(tid), sig);
    if (rc < 0) {
        errno = (int)-rc;
        return -1;
    }
    return 0;
}

ENGINE_API int pthread_kill(pthread_t th, int sig)
{
    if (pid_state.translating && th != pthread_self()) {
        struct thread_rec *r = threads_find_by_pthread((unsigned long)th);
        if (r) {
            long rc = sys_call3(SYS_tgkill, pid_state.real_pid, r->real_tid, sig);
            return rc < 0 ? (int)-rc : 0;
        }
    }
    if (!pid_state.real_pthread_kill)
        pid_state.real_pthread_kill = (int (*)(pthread_t, int))dlsym(RTLD_NEXT, "pthread_kill");
    return pid_state.real_pthread_kill ? pid_state.real_pthread_kill(th, sig) : ENOSYS;
}

/* Thread names of other threads go through /proc/self/task/<tid>/comm with
 * the tid glibc keeps (the virtual one): use the real one. */
static int pid_comm_io(pthread_t th, char *buf, size_t len, int writing)
{
    struct thread_rec *r = threads_find_by_pthread((unsigned long)th);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", r ? r->real_tid : 0);
    int fd = open(path, (writing ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
    if (fd < 0)
        return errno;
    ssize_t n = writing ? write(fd, buf, strlen(buf)) : read(fd, buf, len - 1);
    int e = n < 0 ? errno : 0;
    close(fd);
    if (!writing && n >= 0) {
        buf[n] = 0;
        if (n > 0 && buf[n - 1] == '\n')
            buf[n - 1] = 0;
    }
    return e;
}

ENGINE_API int pthread_getname_np(pthread_t th, char *buf, size_t len)
{
    static int (*real)(pthread_t, char *, size_t);
    if (pid_state.translating && th != pthread_self() && threads_find_by_pthread((unsigned long)th)) {
        if (len < 16)
            return ERANGE;
        return pid_comm_io(th, buf, len, 0);
    }
    if (!real)
        real = (int (*)(pthread_t, char *, size_t))dlsym(RTLD_NEXT, "pthread_getname_np");
    return real ? real(th, buf, len) : ENOSYS;
}

ENGINE_API int pthread_setname_np(pthread_t th, const char *name)
{
    static int (*real)(pthread_t, const char *);
    if (pid_state.translating && th != pthread_self() && threads_find_by_pthread((unsigned long)th)) {
        if (strlen(name) > 15)
            return ERANGE;
        char copy[16];
        snprintf(copy, sizeof copy, "%s", name);
        return pid_comm_io(th, copy, sizeof copy, 1);
    }
    if (!real)
        real = (int (*)(pthread_t, const char *))dlsym(RTLD_NEXT, "pthread_setname_np");
    return real ? real(th, name) : ENOSYS;
}

/* syscall(2) with the id-carrying calls translated. */
ENGINE_API long syscall(long n, ...)
{
    va_list ap;
    va_start(ap, n);
    long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
    long d = va_arg(ap, long), e = va_arg(ap, long), f = va_arg(ap, long);
    va_end(ap);
    long rc;
    switch (n) {
    case SYS_getpid:
        return pid_virtual_pid();
    case SYS_gettid:
        return pid_current_tid();
    case SYS_kill:
        rc = sys_call2(n, pid_to_real((pid_t)a), b);
        break;
    case SYS_tgkill:
        rc = sys_call3(n, pid_to_real((pid_t)a), pid_to_real((pid_t)b), c);
        break;
    case SYS_tkill:
        rc = sys_call2(n, pid_to_real((pid_t)a), b);
        break;
    case SYS_close:
    case SYS_dup2:
    case SYS_dup3:
    case SYS_close_range:
        rc = fds_syscall(n, a, b, c); /* the engine's descriptors stay out of reach */
        break;
    default:
        rc = pthread_tids_syscall(n, a, b, c, d, e, f); /* the other calls that take an id */
        break;
    }
    if (rc < 0 && rc > -4096) {
        errno = (int)-rc;
        return -1;
    }
    return rc;
}

/* INIT, once the engine has started: the ids are the kernel's, unless the
 * program exec'd into this one and kept its pid (pid_set_virtual, offered
 * to spawn.c, came first).  Until then the functions above fall back to
 * the kernel's ids. */
static void pid_init(void)
{
    if (!pid_state.vpid)
        pid_state.vpid = pid_state.real_pid = sys_getpid();
    pid_state.real_pthread_kill = (int (*)(pthread_t, int))dlsym(RTLD_NEXT, "pthread_kill");
    pthread_tids_init();
    pid_tree_carried(); /* a new program after exec: the other processes' ids */
}

/* In each thread leaving the checkpoint handler (services.c). */
static void pid_thread_released(int slot, int is_main, int is_restart, void *ucontext)
{
    (void)slot;
    (void)is_main;
    if (is_restart)
        pid_tree_renew_syscall(ucontext);
}

static void pid_reset_for_child(void)
{
    pid_state.vpid = pid_state.real_pid = sys_getpid();
    pid_state.translating = 0;
}

static void pid_event(dmtcp_event_t ev, dmtcp_event_data_t *data)
{
    (void)data;
    if (ev == DMTCP_EVENT_INIT)
        pid_init();
    else if (ev == DMTCP_EVENT_RESTART)
        pid_after_restart();
    else if (ev == DMTCP_EVENT_ATFORK_CHILD)
        pid_reset_for_child(); /* the child's real pid is its identity */
    else if (ev == DMTCP_EVENT_PRE_EXEC)
        pid_tree_carry();
}

static const dmtcp_plugin_descriptor_t pid_descriptor = {
    .api_version = DMTCP_NATIVE_PLUGIN_API_VERSION,
    .name = "pid",
    .version = STASIS_VERSION,
    .description = "virtual pids and tids",
    .event_hook = pid_event,
};
static const struct engine_services pid_services = {
    .virtual_pid = pid_virtual_pid,
    .family = pid_tree_family,
    .adopt_virtual_pid = pid_set_virtual,
    .kernel_path = pid_proc_path,
    .thread_released = pid_thread_released,
};
PLUGIN_DECL_BUILTIN(pid_descriptor, 10, &pid_services);
